"""`raise`, `assert` and `try` in traced code.

The converter (tracer/convert.py) turns `raise E(...)` into `__lt.raise_(...)`,
`assert c, msg` into `__lt.assert_(c, lambda: msg)`, wraps each `try` body in
`with __lt.try_block(...)` and starts each `except` handler with
`__lt.passthrough()`. Their meaning:

- A `raise` reached unconditionally by the trace (only Python-valued
  conditions lead to it, outside any traced loop or branch) raises right away,
  as the plain function would on every call with this signature. Under a
  traced condition, in a loop body or in a branch it becomes a run-time
  `check` (ops/check.py): the compiled code raises the user's exception, with
  its class and message and a note naming the line, exactly when the plain
  function would. The branch that raises does not take part in merging the
  `if`'s variables: after it, only the other branch's values can be seen.
- `assert` on a traced value is a check of `not cond`; on a Python value it
  is Python's assert. Under `python -O` asserts are not converted, as Python
  drops them.
- The exception and its message are made while tracing: they may use shapes,
  static values and Python values, not traced values (formatting a traced
  value raises TraceError).
- `try`/`except` runs as Python while tracing. Where compiled code could
  raise at run time inside the `try` (an index out of range, a check) an
  exception that one of its handlers catches, the handler cannot be reached
  from compiled code: that is refused at trace time with UnsupportedError,
  never ignored. looptrace's own errors are never caught by user handlers.

`emit_check(pred, exc)` is the entry point for any other feature that must
fail at run time on data.
"""
from __future__ import annotations

import copy
import sys
from typing import Any, Callable

import numpy as np

from looptrace.errors import LooptraceError, UnsupportedError
from looptrace.ir.core import SourceLoc
from looptrace.ops import get as prim
from looptrace.ops.check import Failure

from . import context as ctx
from . import semantics as sem
from .array import is_tracer

# primitives that raise IndexError at run time on an index out of range
_INDEX_ERRORS = frozenset({"dynamic_slice", "dynamic_update_slice", "gather", "scatter", "dynamic_prefix"})


def _as_exception(exc: Any) -> BaseException:
    if isinstance(exc, type) and issubclass(exc, BaseException):
        return exc()
    if isinstance(exc, BaseException):
        return exc
    raise TypeError("exceptions must derive from BaseException")


def _under_traced_control() -> bool:
    st = ctx.state()
    return st.frame is not st.root


def emit_check(pred: Any, exc: BaseException, loc: SourceLoc | None = None) -> None:
    """Raise `exc` at run time where `pred` (a traced bool) is true. A traced
    integer or bool among the exception's arguments (`raise ValueError("bad
    row", i)`) is its value at the failing run; any other traced argument is
    refused (its value cannot be carried out of compiled code)."""
    loc = loc or ctx.current_loc()
    p = sem.as_value(pred, np.bool_)
    traced = [k for k, a in enumerate(exc.args) if is_tracer(a)]
    if not traced:
        ctx.emit(prim("check"), [p], loc, failures=(Failure(exc, loc),))
        return
    k = traced[0]
    a = exc.args[k]
    if len(traced) > 1 or a.shape != () or a.dtype.kind not in "biu":
        from looptrace.errors import TraceError

        what = "more than one traced value" if len(traced) > 1 else \
            f"a traced {'array' if a.shape else a.dtype.name + ' value'}"
        raise TraceError(f"the exception raised here takes {what} as an argument; looptrace can hand "
                         "out one traced integer (an index, a count) from compiled code, not this", loc,
                         "pass Python values, shapes or one integer (`raise ValueError('bad row', i)`)")
    args = list(exc.args)
    args[k] = None
    template = copy.copy(exc)
    template.args = tuple(args)
    value = sem.as_value(sem.astype(a, np.int64), np.int64)
    if tuple(p.shape) != ():
        value = sem.as_value(sem.broadcast_to(sem.wrap(value), tuple(p.shape)), np.int64)
    failure = Failure(template, loc, slot=k, as_bool=a.dtype.kind == "b")
    ctx.emit(prim("check"), [p, value], loc, failures=(failure,))


def _made(thunk: Callable[[], Any]) -> Any:
    """The exception (or an assert's message) `thunk` makes while tracing;
    REPLAY where it formats a traced value (`f"bad value {x[i]} at {i}"`,
    `"%d" % i`): compiled code cannot make that text, so where it raises, the
    plain function is run again and raises it (errors.ReplayNeeded)."""
    from .printing import no_text

    try:
        with no_text():  # (a traced value's text is print()'s only)
            return thunk()
    except LooptraceError as e:
        if isinstance(e, UnsupportedError):
            raise
        return REPLAY


REPLAY = object()


def _emit_replay(pred: Any) -> None:
    loc = ctx.current_loc()
    p = sem.as_value(pred, np.bool_)
    ctx.emit(prim("check"), [p], loc, failures=(Failure(RuntimeError("replayed"), loc, replay=True),))


def raise_(exc: Any) -> None:
    """`raise exc` in converted code (`exc` made by a thunk: convert.py)."""
    if callable(exc) and not isinstance(exc, type) and not isinstance(exc, BaseException):
        exc = _made(exc)
        if exc is REPLAY:
            _emit_replay(True)
            ctx.state().frame.raised = True
            return
    exc = _as_exception(exc)
    if not ctx.tracing() or not _under_traced_control():
        if any(is_tracer(a) for a in exc.args):  # raised on every run: the value is not known yet
            emit_check(True, exc)
            ctx.state().frame.raised = True
            return
        raise exc
    emit_check(True, exc)
    ctx.state().frame.raised = True


# what Python's own operations on Python values raise: 0.0 ** -1, 1 // 0, math.log(0.0), int(math.inf)
# (IndexError: `h[n] = 1.0`, n = len(h); UnboundLocalError: a name a loop of no iteration would assign)
_PYTHON_VALUE_ERRORS = (ArithmeticError, ValueError, IndexError, UnboundLocalError)
RAISED = object()


def deferring(fn: Callable[[], Any]) -> Any:
    """`fn()`, the trace of code that may not run: a branch or side of a traced
    condition, a loop body. An exception Python raises in it on Python values
    (the same wherever that code is reached) becomes a run-time check, as a
    `raise` there would: the plain function raises it only where the code
    runs (a zero-trip loop, a branch not taken never do). What follows it in
    `fn` is not traced; the frame is marked raised. Returns RAISED then."""
    try:
        return fn()
    except LooptraceError:
        raise
    except _PYTHON_VALUE_ERRORS as e:
        if not ctx.tracing() or not _under_traced_control():
            raise
        raise_(e.with_traceback(None))
        return RAISED


def assert_(cond: Any, message: Callable[[], Any] | None = None) -> None:
    """`assert cond, message` in converted code."""
    from .control import tested

    cond = tested(cond)  # `assert lst` of a list a traced loop grew
    if not is_tracer(cond):
        if not cond:
            raise_(lambda: AssertionError(message()) if message is not None else AssertionError())
        return
    text = _made(message) if message is not None else None
    if cond.shape != ():
        from .control import _as_bool

        _as_bool(cond)  # the ambiguous truth value of an array: the same error as `if`
    failed = sem.ufunc("logical_not", sem.astype(cond, np.bool_))
    if text is REPLAY:
        _emit_replay(failed)
        return
    emit_check(failed, AssertionError(text) if message is not None else AssertionError())


def hoist_checks(frame: ctx.Frame, taken: Any) -> None:
    """Move the checks of a traced branch whose predicates are computed
    outside it to the enclosing block, as `check(taken and p)`; the branch
    (often left empty) then stays convertible to a select."""
    inside = {v.id for op in frame.block.ops for v in op.outputs}
    kept = []
    for op in frame.block.ops:
        if op.prim.name != "check" or any(v.id in inside for v in op.inputs):
            kept.append(op)
            continue
        from looptrace.ops.check import join_inputs, split_inputs

        preds, values = split_inputs(op.inputs, op.attrs["failures"])
        preds = [taken if _is_true(p) else sem.ufunc("logical_and", taken, sem.wrap(p)) for p in preds]
        vals = [sem.as_value(p, np.bool_) for p in preds]
        ctx.emit(prim("check"), list(join_inputs(vals, values, op.attrs["failures"])), op.loc, **op.attrs)
    frame.block.ops = kept


def _is_true(v) -> bool:
    return v.is_const and v.shape == () and bool(v.const)


# --- what a branch knows ------------------------------------------------------------------------
# Traced bools known true or false where code is being traced: the condition of each enclosing
# traced `if` and of each short-circuited operand (`k is not None and x[k] > t` traces x[k] where
# `k is not None` holds), and what they imply (`not c`, the flag an `is None` test reads, an
# `and` of known-true operands, a return flag the `if` set to True on one side only). A read of a
# value that may be None (values.MaybeNone) needs no run-time check where its flag is known true.
def _facts(st: Any = None) -> tuple[list, dict]:
    st = st or ctx.state()
    f = st.__dict__.get("_known_facts")
    if f is None:
        f = st._known_facts = ([], {})  # (stack of sets of (value id, truth), implications)
    return f


def imply(value: Any, truth: bool, *consequences: tuple[Any, bool]) -> None:
    """Where `value` is `truth`, each (other value, its truth) holds too."""
    if not ctx.tracing():
        return
    key = (sem.as_value(value).id, bool(truth))
    _facts()[1].setdefault(key, []).extend((sem.as_value(v).id, bool(t)) for v, t in consequences)


class assuming:
    """`with assuming(pred, truth):` trace code that runs only where `pred` is `truth`."""

    def __init__(self, pred: Any, truth: bool):
        self.pred, self.truth = pred, truth

    def __enter__(self) -> None:
        self.active = ctx.tracing() and is_tracer(self.pred)
        if not self.active:
            return
        stack, implies = _facts()
        known, todo = set(), [(self.pred.value.id, bool(self.truth))]
        while todo:
            fact = todo.pop()
            if fact not in known:
                known.add(fact)
                todo.extend(implies.get(fact, ()))
        stack.append(known)

    def __exit__(self, *exc) -> None:
        if self.active:
            _facts()[0].pop()


def known_true(value: Any) -> bool:
    """Is the traced bool `value` known true where code is being traced now?"""
    if not ctx.tracing() or not is_tracer(value):
        return False
    fact = (value.value.id, True)
    return any(fact in known for known in _facts()[0])


# --- try / except ------------------------------------------------------------------------------
class try_block:
    """The body of a `try` whose handlers catch the classes `handlers()`
    returns (evaluated when first needed, as Python evaluates them only when
    an exception arrives)."""

    def __init__(self, handlers: Callable[[], tuple], what: str = "a `try` whose `except` catches it"):
        self.handlers = handlers
        self.what = what  # (the block, as the refusal names it: `with contextlib.suppress` too, tracer/withs.py)
        self.loc = ctx.current_loc() if ctx.tracing() else None

    def __enter__(self) -> None:
        if ctx.tracing():
            ctx.state().try_stack.append(self)

    def __exit__(self, *exc) -> None:
        if ctx.tracing():
            ctx.state().try_stack.pop()

    def catches(self, cls: type) -> bool:
        try:
            caught = self.handlers()
        except Exception:
            return True  # a handler that cannot be evaluated now: assume it may catch
        return any(issubclass(cls, c) for c in _flatten(caught))


class try_record(try_block):
    """The body of `try: name = expr` / `name op= expr` with one `except E:`
    (convert.py `_recorded_try`): a run-time check inside it that raises
    only classes E catches is not emitted but recorded (`record`), and
    `raised()` (their predicates, or-ed) picks the handler or the assignment
    in a traced `if` after it, as Python jumps to the handler before the
    assignment. Anything else that may raise what E catches is refused, as
    in any `try`; so is an op that may raise another class after a recorded
    check (Python would have left for the handler first). An exception E
    catches raised while tracing (the plain function raises it at every call
    with these static values) is suppressed: `raised()` is then True."""

    def __init__(self, handlers: Callable[[], tuple]):
        super().__init__(handlers)
        self.preds: list = []
        self.frame = None
        self.certain = False

    def __enter__(self) -> try_record:
        super().__enter__()
        self.frame = ctx.state().frame if ctx.tracing() else None
        return self

    def __exit__(self, cls, exc, tb) -> bool:
        super().__exit__(cls, exc, tb)
        if cls is not None and not issubclass(cls, LooptraceError) and self.catches(cls):
            self.certain = True
            return True
        return False

    def record(self, p, inputs: list, attrs: dict) -> bool:
        """Keep a check's predicates instead of emitting it, where all its failures are caught here."""
        failures = attrs.get("failures", ())
        if not (p.name == "check" and failures and ctx.state().frame is self.frame
                and all(self.catches(type(f.exc)) for f in failures)):
            return False
        self.preds.extend(sem.wrap(v) for v in inputs[:len(failures)])
        return True

    def raised(self) -> Any:
        """Whether the body raised what the handler catches: a Python bool, or a traced one."""
        if self.certain or not self.preds:
            return self.certain
        out = None
        for p in self.preds:
            p = sem.reduce("reduce_any", p, tuple(range(p.ndim))) if p.ndim else p
            out = p if out is None else sem.ufunc("logical_or", out, p)
        return out


def recorded_in_try(p, inputs: list, attrs: dict) -> bool:
    """Called for each op emitted inside a `try` body: True where the innermost
    block records it (try_record); an op that may raise after a recorded one is refused."""
    block = ctx.state().try_stack[-1]
    if not isinstance(block, try_record):
        return False
    if block.record(p, inputs, attrs):
        return True
    if block.preds and run_time_exceptions(p, attrs):
        raise UnsupportedError(
            "this may raise an exception at run time after one that the `except` catches: compiled code "
            "cannot leave for the handler first", ctx.current_loc(),
            "test the condition explicitly (if ...: ...) instead of catching the exception")
    return False


def _flatten(classes: Any) -> list[type]:
    if isinstance(classes, tuple):
        return [c for x in classes for c in _flatten(x)]
    return [classes] if isinstance(classes, type) else []


def run_time_exceptions(p, attrs: dict) -> list[type]:
    """The exception classes an op of primitive `p` may raise at run time."""
    if p.name in _INDEX_ERRORS:
        return [IndexError]
    if p.raises or p.may_raise:  # a check, or an op that tests its data (pyint)
        return [type(f.exc) for f in attrs.get("failures", ())]
    return []


def refuse_in_try(p, attrs: dict, loc: SourceLoc) -> None:
    """Called for each op emitted inside a `try` body."""
    for cls in run_time_exceptions(p, attrs):
        refuse_class_in_try(cls, loc)


def refuse_class_in_try(cls: type, loc: SourceLoc) -> None:
    for block in ctx.state().try_stack:
        if block.catches(cls):
            raise UnsupportedError(
                f"this may raise {cls.__name__} at run time inside {block.what}; "
                "compiled code cannot jump to the handler", loc,
                "test the condition explicitly (if ...: ...) instead of catching the exception, "
                "or move the try/except outside the jitted function")


def passthrough() -> None:
    """First statement of every converted `except` handler: looptrace's own
    errors (a construct it cannot trace) are never the user's to catch."""
    exc = sys.exc_info()[1]
    if isinstance(exc, LooptraceError):
        raise exc
