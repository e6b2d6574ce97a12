"""Runtime helpers the converted code calls: loops, conditionals, calls.

A loop's state is (1) the names assigned in its body (bound by the converted
code's getter/setter), and (2) the boxes of arrays written in place, captured
lazily (see context.touch). The body is traced once per *round*; a round that
finds a carried value changing type (a Python float becoming a float32 array)
or a list that must become a buffer is retraced with the joined types, so the
number of traces is bounded by a small constant, never by the trip count.
"""
from __future__ import annotations

import contextvars
import copy
import math
import numbers
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from looptrace.errors import (ConcreteIndexError, LooptraceError, ShapeError, TraceError, UnsupportedError,
                             format_message)
from looptrace.ir.core import Block, Op, SourceLoc, Value
from looptrace.ir.rewrite import substitute
from looptrace.ops import get as prim
from looptrace.ops.shape_arith import fmt

from . import context as ctx
from . import containers, grown, iteration, kinds, merge, nests, python_numbers, returns, row_lists
from . import semantics as sem
from .array import Tracer, _visible, is_tracer
from .checks import RAISED, assuming, deferring, imply
from .carries import (LastOverruns, LoopIter, LoopList, NoneBeforeLoop, ShapeChange, TupleSpec, ValueSpec,
                      carry_spec_for, join_spec, loop_iterable, register_loop, spec_leaves, spec_rebuild, surely_runs)
from .values import UNBOUND, MaybeBound, MaybeNone, Segment, Undefined
from .numpy_errors import TruthValueError, truth_value_error

MAX_ROUNDS = 6


def ld(thunk: Callable[[], Any]) -> Any:
    try:
        return thunk()
    except NameError:
        return UNBOUND


# --- boolean helpers --------------------------------------------------------------------
def tested(x: Any) -> Any:
    """What `if x`, `not x` and `a if x else b` test: for a list a traced
    loop grew (grown.py), whether it holds an element, a traced bool where
    it was appended to under a condition. (As a Python list holding a
    Segment it was always true: `max(pos) if pos else 0.0` took max of an
    empty list.)"""
    if isinstance(x, MaybeNone):  # None is false; a value where the flag holds, its own truth
        flag = sem.as_value(x.flag, np.bool_)
        truth = _as_bool(tested(x.value))
        return Tracer(sem.ufunc("logical_and", sem.wrap(flag), truth).value if is_tracer(truth) else
                      (flag if truth else sem.as_value(False, np.bool_)), weak=True)
    if isinstance(x, LoopList):  # inside the loop that appends to it (`while len(out) < n`, `if out:`)
        return Tracer(sem.ufunc("greater", x.length(), 0).value, weak=True)
    if not grown.is_grown(x):
        return x
    from .runtime import _len

    n = _len(x)
    return Tracer(sem.ufunc("greater", n, 0).value, weak=True) if is_tracer(n) else n > 0


def not_(x: Any) -> Any:
    x = tested(x)
    if is_tracer(x):
        pred = _as_bool(x)
        out = Tracer(sem.ufunc("logical_not", pred).value, weak=True)  # Python's `not` gives a bool
        imply(out, True, (pred, False)), imply(out, False, (pred, True))
        return out
    return not x


def and_(*thunks: Callable[[], Any], truth: bool = False) -> Any:
    return _bool_op(thunks, "logical_and", stop_on=False, truth=truth)


def or_(*thunks: Callable[[], Any], truth: bool = False) -> Any:
    return _bool_op(thunks, "logical_or", stop_on=True, truth=truth)


def _bool_op(thunks, ufunc: str, stop_on: bool, truth: bool = False) -> Any:
    """`a and b` / `a or b`. `truth`: its value is only tested (`if a and b:`,
    convert._only_tested), so each operand is taken as its truth, its shape
    and type then no matter (`if x[:1] > 0 and flag:`: Python's value is the
    one-element array or flag)."""
    thunks = [(_truth_of if truth else _list_truth)(th) for th in thunks]
    acc = thunks[0]()
    for th in thunks[1:]:
        if isinstance(acc, MaybeNone):
            raise UnsupportedError("`and`/`or` of a value that may be None at run time is not supported (its "
                                   "value is the object itself)", ctx.current_loc(),
                                   "test it with `x is None` / `x is not None`")
        if grown.is_grown(acc) and is_tracer(tested(acc)):
            raise UnsupportedError("`and`/`or` of a list a traced loop appended to under a condition: whether "
                                   "it is empty is known only at run time", ctx.current_loc(),
                                   "test len(the_list) > 0 in an `if`")
        if not is_tracer(acc):
            if bool(tested(acc)) == stop_on:
                return acc
            acc = th()
            continue
        try:
            acc = _short_circuit(acc, th, ufunc, stop_on)
        except TruthValueError:
            if truth:  # (`if flag and x[:2] > 0` where flag is False: Python never tests the array)
                _specialize_on(_as_bool(acc), "an array with no single truth value on one side of an `and`/`or`")
            raise
    return acc


def _list_truth(thunk: Callable[[], Any]) -> Callable[[], Any]:
    """`stack and x[stack[-1]] < v` in the loop that appends to `stack`
    (carries.LoopList): the list's truth, a traced bool."""
    def run() -> Any:
        x = thunk()
        return tested(x) if isinstance(x, LoopList) else x
    return run


def _truth_of(thunk: Callable[[], Any]) -> Callable[[], Any]:
    """An operand of an `and`/`or` whose value is only tested: its truth, a
    traced bool where it is traced (NumPy's ValueError for an array of more
    than one element, as `if` raises on it)."""
    def run() -> Any:
        x = tested(_list_truth(thunk)())
        return _as_bool(x) if is_tracer(x) else x
    return run


# ops that may fail on values the short-circuited operand guards against (x[i] with i out of range)
_GUARDED_PRIMS = frozenset({"dynamic_slice", "gather", "dynamic_update_slice", "scatter"})


def _short_circuit(left: Tracer, thunk: Callable[[], Any], ufunc: str, stop_on: bool) -> Tracer:
    """`left and thunk()` / `left or thunk()` on a traced `left`, as a choice
    between the operands, as Python has it: `x[i] or 5.0` is x[i] where it is
    true, 5.0 where not (a condition then takes the chosen value's truth)."""
    pred = _as_bool(left)
    if left.dtype == np.bool_ and left.shape == ():
        keep = lambda: pred  # noqa: E731
    else:
        keep = lambda: left  # noqa: E731
    right = []

    def evaluated() -> Any:  # (where Python evaluates it: `k is not None and x[k] > t` knows k is set)
        with assuming(pred, not stop_on):
            right.append(thunk())
            return right[-1]

    then_thunk, else_thunk = (keep, evaluated) if stop_on else (evaluated, keep)
    try:
        # (an array side as an `if`: `c and arr` is c itself where c is false, not c broadcast to arr's shape)
        out = choose(pred, then_thunk, else_thunk, "`or`" if stop_on else "`and`", arrays_as_if=True)
    except _SideEffects:
        # the right side draws random numbers or writes an array (`c or rng.random() < p`, the
        # Metropolis test): evaluated only where Python evaluates it, as the branches of an `if`
        out = _as_if(pred, then_thunk, else_thunk)
    if is_tracer(out) and out.dtype == np.bool_ and right and is_tracer(right[-1]) and \
            right[-1].dtype == np.bool_:  # `a and b` true: both are; `a or b` false: neither is
        imply(out, not stop_on, (pred, not stop_on), (right[-1], not stop_on))
    return out


class _SideEffects(UnsupportedError):
    """A side of a choice writes state (an array, a generator): choose cannot select."""


def _as_if(pred: Tracer, then_thunk: Callable[[], Any], else_thunk: Callable[[], Any],
           what: str = "the value of the `or`/`and`") -> Any:
    """`then_thunk() if pred else else_thunk()` as a traced `if` assigning one variable."""
    held = [UNBOUND]
    get = lambda: (held[0],)  # noqa: E731
    put = lambda vals: held.__setitem__(0, vals[0])  # noqa: E731
    then = lambda: held.__setitem__(0, then_thunk())  # noqa: E731
    other = lambda: held.__setitem__(0, else_thunk())  # noqa: E731
    if_(pred, then, other, get, put, (what,))
    return held[0]


def _named(name: str) -> str:
    """A variable's name in backticks; a description (`_as_if`'s "the value of
    the `or`/`and`") as it is."""
    return f"`{name}`" if name.isidentifier() else name


def ifexp(cond: Any, then_thunk: Callable[[], Any], else_thunk: Callable[[], Any]) -> Any:
    """`a if cond else b`. Of arrays, or with a side that writes or draws, it
    is the `if` statement assigning one name (`t = a if c else b; t[0] += 1`
    writes a or b, as Python's; a select was a copy)."""
    cond = tested(cond)
    if not is_tracer(cond):
        return then_thunk() if cond else else_thunk()
    pred = _as_bool(cond)
    then_thunk, else_thunk = _assuming(pred, True, then_thunk), _assuming(pred, False, else_thunk)
    try:
        return choose(pred, then_thunk, else_thunk, "conditional expression", arrays_as_if=True)
    except _SideEffects:
        return _as_if(pred, then_thunk, else_thunk, "the conditional expression's value")


def _assuming(pred: Tracer, truth: bool, thunk: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with assuming(pred, truth):
            return thunk()
    return run


def choose(pred: Tracer, then_thunk: Callable[[], Any], else_thunk: Callable[[], Any], what: str,
           arrays_as_if: bool = False) -> Tracer:
    """The value of `then_thunk()` where `pred`, else of `else_thunk()`. Each
    side is traced into its own block; sides that only compute values are
    inlined and selected between; a side that may fail (indexing that the
    condition guards) makes it a `cond`, evaluated as Python would.
    `arrays_as_if`: where a side gives an array, trace it again as an `if`
    (its value may be written through)."""
    st = ctx.state()
    (f1, a), (f2, b) = _trace_side(then_thunk, what), _trace_side(else_thunk, what)
    if arrays_as_if and any(_is_array(x) for x in (*_leaves(a), *_leaves(b)) if x is not RAISED):
        raise _SideEffects("an array chosen by a traced condition", ctx.current_loc())
    if a is RAISED or b is RAISED:  # Python raised on Python values in a side: there only where it is chosen
        return _choose_raising(pred, (f1, a), (f2, b))
    structure = _structure(a)
    if structure != _structure(b):  # `(p, q) if c else p`: no one value for both
        raise UnsupportedError(f"the two sides of a {what} on a traced value must have the same structure "
                               "(a tuple of the same length on both sides, or an array or number on both)",
                               ctx.current_loc())
    pairs = list(zip(_leaves(a), _leaves(b)))
    weaks = [sem.is_weak(x) and sem.is_weak(y) for x, y in pairs]
    dtypes = [kinds.held(x, y) for x, y in pairs]
    shapes = [np.broadcast_shapes(np.shape(x) if not is_tracer(x) else x.shape,
                                  np.shape(y) if not is_tracer(y) else y.shape) for x, y in pairs]
    vas = [_value_in(f1, x, dt, sh) for (x, _), dt, sh in zip(pairs, dtypes, shapes)]
    vbs = [_value_in(f2, y, dt, sh) for (_, y), dt, sh in zip(pairs, dtypes, shapes)]
    if not (_risky(f1) or _risky(f2)):
        for f in (f1, f2):
            st.frame.block.ops.extend(f.block.ops)
            for op in f.block.ops:
                for v in op.outputs:
                    st.value_frames[v.id] = st.frame
        for f, x in [(f1, x) for x, _ in pairs] + [(f2, y) for _, y in pairs]:
            k = kinds.kinds_of(x, check=False) if is_tracer(x) else None
            if k is not None and is_tracer(k[0]) and k[0]._box.frame is f:
                k[0]._box.frame = st.frame  # a tag a nested choice made on this side: inlined with it
        outs = [sem.wrap(ctx.emit1(prim("select"), [sem.as_value(pred, np.bool_), va, vb]), weak=w)
                for va, vb, w in zip(vas, vbs, weaks)]
        _flag_mixed(pred, pairs, outs)
        return _rebuild(structure, iter(outs))
    # a type a nested choice made on one side (`a[i] if c else (2 if d else s)`): its tag, one more result
    o_then, o_else = [(x, dt) for (x, _), dt in zip(pairs, dtypes)], [(y, dt) for (_, y), dt in zip(pairs, dtypes)]
    hidden = _hidden_tags(pred, f1, f2, o_then, o_else, [("name", None, w) for w in weaks])
    f1.block.results = vas + _results_in(f1, o_then[len(pairs):])
    f2.block.results = vbs + _results_in(f2, o_else[len(pairs):])
    outs = tuple(Value(np.dtype(dt), tuple(sh)) for dt, sh in zip(dtypes, shapes)) + \
        tuple(Value(np.dtype(np.int64), ()) for _ in o_then[len(pairs):])
    st.frame.block.ops.append(Op(prim("cond"), (sem.as_value(pred, np.bool_),), outs, {},
                                 ctx.current_loc(), (f1.block, f2.block)))
    for v in outs:  # (a choice nested in a side is that side's: kinds._in_scope, ctx.check_visible)
        st.value_frames[v.id] = st.frame
    tracers = [Tracer(out, weak=w) for out, w in zip(outs, weaks)]
    _flag_mixed(pred, pairs, tracers)
    for j, keys, tag, result in hidden:
        kinds.apply(tracers[j], Tracer(outs[tag]) if result else tag, keys)
    return _rebuild(structure, iter(tracers))


def _flag_mixed(pred: Tracer, pairs: list, outs: list) -> None:
    """A scalar chosen between a Python number and a NumPy one is a Python
    number where its side is (tracer/python_numbers.py)."""
    for (x, y), out in zip(pairs, outs):
        if out.ndim == 0 and not out.weak and (sem.is_weak(x) or sem.is_weak(y) or _flagged(x) or _flagged(y)):
            python_numbers.set_flag(out, python_numbers.chosen_flag(pred, x, y))
        kinds.merged(pred, x, y, out)  # its type: the chosen side's (tracer/kinds.py)


def _flagged(x: Any) -> bool:
    return is_tracer(x) and x.pyflag is not None


def _choose_raising(pred: Tracer, *sides: tuple[ctx.Frame, Any]) -> Any:
    """`choose` where a side raised while traced (checks.deferring): its checks
    move before, on its condition; the value is the other side's."""
    from .checks import hoist_checks

    st = ctx.state()
    for k, (frame, _) in enumerate(sides):
        hoist_checks(frame, pred if k == 0 else sem.ufunc("logical_not", pred))
    kept = [(f, x) for f, x in sides if x is not RAISED]
    if not kept:
        st.frame.raised = True
        return sem.wrap(sem.as_value(0.0))  # never seen: the code that uses it raises first
    frame, x = kept[0]
    st.frame.block.ops.extend(frame.block.ops)
    for op in frame.block.ops:
        for v in op.outputs:
            st.value_frames[v.id] = st.frame
    return x


def _trace_side(thunk: Callable[[], Any], what: str) -> tuple[ctx.Frame, Any]:
    st = ctx.state()
    watch = containers.Watch.of_caller()
    frame = st.push("branch")
    try:
        with watch.active(), iteration.guarding(iteration.outer_iterators(), branch=True):
            x = _read_leaves(deferring(thunk))
    finally:
        st.pop(frame)
        changed = watch.changed()
        watch.restore(changed)
    if changed:  # a Python object changed (`lst.pop() if c else 0`): traced as an `if`, which merges or refuses
        for box, before, _ in frame.captured.values():
            box.value = before
        raise _SideEffects(f"a Python object changed inside a {what} on a traced value", ctx.current_loc(),
                           "write it as an `if` statement")
    if x is RAISED:
        return frame, x
    if frame.captured:
        for box, before, _ in frame.captured.values():  # (undone: the caller may trace it again as an if)
            box.value = before
        raise _SideEffects(f"an in-place write or a random draw inside a {what} on a traced value is not "
                           "supported", ctx.current_loc(), "write it as an `if` statement")
    if any(e is None or isinstance(e, MaybeNone) for e in _leaves(x)):
        # (`i if c else None`: the `if` statement's merge makes it a value that may be None)
        raise _SideEffects(f"None chosen by a {what} on a traced value", ctx.current_loc())
    if not all(_array_like(e) for e in _leaves(x)):
        raise UnsupportedError(f"a {what} on a traced value must give arrays or numbers (or tuples of them), "
                               f"not {type(x).__name__}", ctx.current_loc())
    return frame, x


def _leaves(x: Any) -> list:
    """The leaves of a tuple (nested), or [x]."""
    return [e for y in x for e in _leaves(y)] if type(x) is tuple else [x]


def _read_leaves(x: Any) -> Any:
    """A view read now (as a fresh value), in tuples too: the side's frame is popped after."""
    if type(x) is tuple:
        return tuple(_read_leaves(e) for e in x)
    return Tracer(x.value, weak=x.weak) if is_tracer(x) and x.base is not None else x


def _structure(x: Any) -> Any:
    return tuple(_structure(e) for e in x) if type(x) is tuple else None


def _rebuild(structure: Any, leaves: Iterator) -> Any:
    return tuple(_rebuild(s, leaves) for s in structure) if structure is not None else next(leaves)


def _value_in(frame: ctx.Frame, x: Any, dtype, shape: tuple) -> Value:
    """`x` as a value of `dtype` and `shape`, converted inside `frame`'s block."""
    st = ctx.state()
    saved, st.frame = st.frame, frame
    try:
        v = sem.as_value(x, dtype)
        if tuple(v.shape) != tuple(shape):
            v = sem.broadcast_to(sem.wrap(v), tuple(shape)).value
        return v
    finally:
        st.frame = saved


def _risky(frame: ctx.Frame) -> bool:
    """May a side fail where it is not chosen? An index out of range, a region, a check, or an op of Python
    numbers that gets a check after the trace (tracer/python_numbers.py: a zero divisor, 0.0 to a
    negative power, an int past 64 bits), which must sit inside the side's block to run only there."""
    st = ctx.state()
    return any(op.prim.region or op.prim.name in _GUARDED_PRIMS or op.prim.raises
               or any(v.id in st.python_divs or v.id in st.python_ints for v in op.outputs)
               for op in frame.block.ops)


def _as_bool(x: Any) -> Any:
    if is_tracer(x):
        if x.shape != ():
            if x.size != 1:
                raise truth_value_error(x.size, ctx.current_loc())
            x = sem.reshape(x, ())  # a one-element array has a truth value, as in NumPy
        return sem.astype(x, np.bool_) if x.dtype != np.bool_ else x
    return bool(x)


def materialize_views(exits: tuple, entry) -> tuple:
    """Exit values read in the current frame. A view reads its base lazily,
    and an array of an outer frame written in this one has its writes undone
    when the frame is popped: read afterwards, either would see the wrong
    value (or values of the popped block). So every traced leaf a name newly
    holds (through tuples, lists and dicts too: a returned `(out, total)`) is
    read now. A name still bound to its entry object keeps it, so aliases
    survive."""
    return tuple(e if e is before else _read_now(e) for e, before in zip(exits, entry))


def _read_now(x: Any) -> Any:
    if isinstance(x, MaybeNone):
        return MaybeNone(_read_now(x.flag), _read_now(x.value), x.name)
    if is_tracer(x):
        if x.base is None and x._box.frame is ctx.state().frame:
            return x
        out = Tracer(x.value, weak=x.weak)
        if x.base is None:  # a name bound to an outer value (`second = best`) keeps its type's tags
            out.array0d, out.pyflag, out.kinds = x.array0d, x.pyflag, x.kinds
        return out
    if type(x) in (tuple, list) and all(_array_like(e) or type(e) in (tuple, list, dict) for e in x):
        return type(x)(_read_now(e) for e in x)
    if type(x) is dict:
        return {k: _read_now(v) for k, v in x.items()}
    return x


def ret(x: Any) -> Any:
    """A returned value: fail on a name unassigned on some path."""
    if isinstance(x, Undefined):
        x._fail()
    if is_tracer(x):
        ctx.state().check_visible(x.value)
    if isinstance(x, (tuple, list)):
        for e in x:
            ret(e)
    elif isinstance(x, dict):
        for e in x.values():
            ret(e)
    return x


def compare(left_thunk: Callable[[], Any], ops: tuple, thunks: tuple) -> Any:
    """A chained comparison `a < b < c`, or one with `in`: each operand is
    evaluated once and in order, and the chain stops at the first false link
    (a traced link makes the rest a conditional, as `and` does)."""
    return _chain(left_thunk(), ops, thunks)


def _chain(left: Any, ops: tuple, thunks: tuple) -> Any:
    right = thunks[0]()
    link = _COMPARE[ops[0]](left, right)
    if len(ops) == 1:
        return link
    return and_(lambda: link, lambda: _chain(right, ops[1:], thunks[1:]))


def contains(seq: Any, x: Any) -> Any:
    """`x in seq` for a traced `x` or `seq`: any(x == e) over a Python
    sequence of numbers, (seq == x).any() over an array, as NumPy's does."""
    if is_tracer(seq):
        return _python_bool(sem.reduce("reduce_any", sem.ufunc("equal", seq, x)))
    if grown.is_grown(seq):
        return _grown_contains(seq, x)
    if is_tracer(x) and isinstance(seq, (tuple, list, set, frozenset, range)) and all(
            isinstance(e, (numbers.Number, np.generic)) or is_tracer(e) for e in seq):
        acc: Any = False
        for e in seq:
            acc = or_(lambda acc=acc: acc, lambda e=e: _as_bool(sem.ufunc("equal", x, e)))
        return _python_bool(acc)
    return x in seq


def _grown_contains(seq: list, x: Any) -> Any:
    """`x in lst` of a list a traced loop grew, or of a list argument of
    numbers (pytree.number_list): its items are held as a Segment, which
    Python's own `in` compared by identity (`0.5 in xs` was False where xs
    held 0.5; appended under a condition, False). One segment of numbers:
    (items == x).any(); else its items (grown.expand) one by one."""
    one = seq[0] if len(seq) == 1 and isinstance(seq[0], Segment) else None
    number = is_tracer(x) and x.ndim == 0 or isinstance(x, (numbers.Number, np.generic))
    if one is not None and not one.fields and not one.mixed and one.value.ndim == 1 and number:
        from .numpy_api import _segment_value  # (its first `count` rows where appended under a condition)

        items = _segment_value(one)
        hits = grown.found_itself(seq, x, items, sem.ufunc("equal", items, x))  # (x[3] in x: a NaN too)
        return _python_bool(sem.reduce("reduce_any", hits))
    items = grown.expand(seq, "testing membership in")
    if not number or not all(isinstance(e, (numbers.Number, np.generic)) or is_tracer(e) and e.ndim == 0
                             for e in items):
        raise UnsupportedError("`in` of a list grown in a traced loop holding other than numbers, or of "
                               "other than a number, is not supported", ctx.current_loc(),
                               "compare with the items one by one, or make an array first (np.array(the_list))")
    acc: Any = False
    for e in items:
        acc = or_(lambda acc=acc: acc, lambda e=e: _as_bool(sem.ufunc("equal", x, e)))
    return _python_bool(acc)


def _python_bool(x: Any) -> Any:
    """`in` gives a Python bool, whatever its operands (np.True_ before, probe Q)."""
    return Tracer(sem.as_value(x, np.bool_), weak=True) if is_tracer(x) else bool(x)


_COMPARE = {
    "Lt": lambda a, b: a < b, "LtE": lambda a, b: a <= b, "Gt": lambda a, b: a > b, "GtE": lambda a, b: a >= b,
    "Eq": lambda a, b: a == b, "NotEq": lambda a, b: a != b, "Is": lambda a, b: a is b,
    "IsNot": lambda a, b: a is not b, "In": lambda a, b: contains(b, a),
    "NotIn": lambda a, b: not_(contains(b, a)),
}


# --- conditionals --------------------------------------------------------------------------
def if_(cond, then_fn, else_fn, get_fn, set_fn, names) -> None:
    cond = tested(cond)
    if not is_tracer(cond):
        (then_fn if cond else else_fn)()
        return
    pred = _as_bool(cond)
    entry = get_fn()
    st = ctx.state()
    watch = containers.Watch.of_caller()  # the Python objects the branches can change (containers.py)
    held = iteration.outer_iterators()  # (next() of one in a branch is refused: iteration.py)
    branches, raws, sides, idents = [], [], [], []
    for fn, truth in ((then_fn, True), (else_fn, False)):
        frame = st.push("branch")
        try:
            with watch.active(), assuming(pred, truth), iteration.guarding(held, branch=True):
                deferring(fn)
            raws.append(get_fn())
            idents.append({} if frame.raised else _outside_identities(raws[-1], frame))
            exits = materialize_views(raws[-1], entry)
            sides.append({} if frame.raised else containers.branch_state(watch, _read_now))
        finally:  # also on errors: a loop being traced may retry as Python (see for_)
            st.pop(frame)
            writes = {k: (box, box.value) for k, (box, before, _) in frame.captured.items()}
            for box, before, _ in frame.captured.values():
                box.value = before
            watch.restore()
            set_fn(entry)
        branches.append((frame, exits, writes))
    raws = [None if frame.raised else raw for (frame, _, _), raw in zip(branches, raws)]
    branches = _kept_on_both_sides(branches, raws)
    n = len(names)
    names, entry, branches, put, slots = containers.with_objects(watch, sides, names, entry, branches, set_fn)
    names, entry, branches, put, exported = _with_identities(idents, names, entry, branches, put)
    branches = _drop_raising(pred, entry, branches)
    containers.check_mergeable(watch, slots, branches, n)
    _merge_branches(pred, names, entry, branches, put)
    _link_arrays(pred, get_fn(), [frame for frame, _, _ in branches], raws, exported)


def _kept_on_both_sides(branches: list, raws: list) -> list:
    """A name both branches left bound to one object from before the `if`
    (`if c: a = x else: a = x`) is that object after it. materialize_views
    read it on each side into a Tracer of its own, which the merge chose
    between: a copy, WRONG silently until s56 (a write into x after the `if`
    was not seen through the name, and a returned name was not x)."""
    if raws[0] is None or raws[1] is None:
        return branches
    (f1, ex1, w1), (f2, ex2, w2) = branches
    same = [k for k, (a, b) in enumerate(zip(raws[0], raws[1])) if a is b and is_tracer(a) and ex1[k] is not ex2[k]]
    if not same:
        return branches
    ex1, ex2 = list(ex1), list(ex2)
    for k in same:
        ex1[k] = ex2[k] = raws[0][k]
    return [(f1, tuple(ex1), w1), (f2, tuple(ex2), w2)]


def _outside_identities(raw: Any, frame: ctx.Frame) -> dict:
    """In a branch, before it closes: for each array it made that an `if`
    inside it bound to arrays from before it (`if a: r = y elif b: r = z`),
    (id(its box), id(an array from before)) -> (that box, the traced bool
    where it is that array), from the inner `if`'s links (tracer/array.py
    `identity`), whose conditions the branch alone sees. Made results of
    the `if` (`_with_identities`), they link the merged name to those arrays
    after it (`_link_sides`), where a write through it was refused. None
    where a link leads to no box (a view)."""
    from .array import identity, live_component, same_where, traced_truth

    out: dict = {}
    for x in _array_leaves(raw):
        box = x._box
        if not frame.owns(box) or not _linked_outside(box, frame):
            continue
        boxes = live_component(box)
        if any(other is None for b in boxes for _, _, other, _ in b.links or ()):
            continue
        tables: dict = {}
        mine = identity(box, tables)
        for b in boxes:
            if frame.owns(b):
                continue
            where = same_where(mine, identity(b, tables))
            if where:
                t = traced_truth(where)
                out[(id(box), id(b))] = (b, t if t is not None else Tracer(sem.as_value(True, np.bool_)))
    return out


def _array_leaves(raw: Any) -> list:
    """The arrays (not views) in a branch's values, through tuples."""
    if type(raw) is tuple:
        return [leaf for r in raw for leaf in _array_leaves(r)]
    return [raw] if is_tracer(raw) and raw.base is None and raw._box is not None else []


def _with_identities(idents: list, names: tuple, entry: tuple, branches: list, put: Callable):
    """`_outside_identities` of the two branches as more variables of the
    `if` (False on a side that has none); returns the arguments of
    `_merge_branches` and key -> (the box from before, the merged bool),
    filled when the merge puts the values."""
    keys = list(dict.fromkeys(k for side in idents for k in side))
    if not keys:
        return names, entry, branches, put, {}
    false = Tracer(sem.as_value(False, np.bool_))
    n = len(names)
    boxes = {k: side[k][0] for side in idents for k in side}
    exported: dict = {}
    new_branches = [(frame, tuple(exits) + tuple(side[k][1] if k in side else false for k in keys), writes)
                    for (frame, exits, writes), side in zip(branches, idents)]

    def put_all(values: tuple) -> None:
        put(tuple(values[:n]))
        for k, v in zip(keys, values[n:]):
            exported[k] = (boxes[k], v)

    labels = tuple(f"(which array {j})" for j in range(len(keys)))
    return tuple(names) + labels, tuple(entry) + (false,) * len(keys), new_branches, put_all, exported


def _link_arrays(pred: Tracer, merged: tuple, frames: list, raws: list, exported: dict | None = None) -> None:
    """A name a branch left bound to an array from before the `if` (its entry
    array, another name's) and the other branch to a different one is, after
    the `if`, that array where the branch ran: link its new array to it, so
    later writes through either reach the other (tracer/array.py's `link`)."""
    from .array import link

    for k, whole in enumerate(merged):
        for m, sides in _tuple_leaves(whole, [raw[k] if raw is not None else None for raw in raws]):
            _link_sides(pred, m, sides, frames, link, exported or {})


def _tuple_leaves(m: Any, sides: list) -> list:
    """(merged leaf, its value on each side) through tuples both sides bind
    (`a, b = (x, y) if c else (y, x)`, `pair = (x, y)` in one branch: each
    array in the tuple is linked as a name's would be; was left unlinked, and
    a write through `a` reached neither argument)."""
    if type(m) is not tuple:
        return [(m, sides)]
    if any(s is not None and (type(s) is not tuple or len(s) != len(m)) for s in sides):
        return []
    return [pair for j, e in enumerate(m)
            for pair in _tuple_leaves(e, [s[j] if s is not None else None for s in sides])]


def _link_sides(pred: Tracer, m: Any, sides: list, frames: list, link: Callable, exported: dict) -> None:
    """`_link_arrays` for one merged array `m` and its value on each side."""
    if not (is_tracer(m) and m.base is None and (m.ndim > 0 or m.array0d)):
        return
    if sides[0] is sides[1] and sides[0] is not None:
        return
    for when, frame, x in zip((True, False), frames, sides):
        # (m is an array, so is x: its shape is m's; a view's is not read here, its index may be
        # a value of the popped branch, `H[t - 1] if t > 0 else h0`, probe P E3)
        if not is_tracer(x) or x is m:
            continue
        root = _root(x)
        if frame.owns(root._box):  # made in the branch: only this name holds it, unless a nested `if`
            if _linked_outside(root._box, frame):  # bound it to arrays from before: those it is
                chosen = [(b, w) for (mine, _), (b, w) in exported.items() if mine == id(root._box)]
                if x is not root or not chosen or any(not is_tracer(w) for _, w in chosen):
                    link(m._box, None, pred.value, when)  # (writes refused)
                for b, w in chosen if x is root else ():
                    link(m._box, b, w.value, True)
            continue
        link(m._box, None if x.base is not None else root._box, pred.value, when)


def _linked_outside(box: ctx.Box, frame: ctx.Frame) -> bool:
    """Is `box`, an array of a branch, linked to an array from before the
    branch (an `if` inside it chose between arguments: `if a: r = y elif b:
    r = z`)? Which one it is where the branch ran is decided by a condition of
    the branch, not seen after it: a write through the name is refused there
    (tracer/array.py `link` with no other), where it reached neither array.
    Through the branch's arrays that define it too (`if c: a = y`, then `if
    d: a = a * 2.0`: the second `if`'s array is the first's where not d, so y
    where c; was taken for an array of its own, and a write into y after the
    outer `if` was not seen through `a`, WRONG silently until s56)."""
    from .array import _BACK

    seen, todo = {id(box)}, [box]
    while todo:
        b = todo.pop()
        for _, _, other, holder in b.links or ():
            if holder is not None and holder() is None:
                continue
            if other is None or not frame.owns(other):
                return True
            if holder is not _BACK and id(other) not in seen:  # (`other` defines b: array.identity)
                seen.add(id(other))
                todo.append(other)
    return False


def _drop_raising(pred: Tracer, entry: tuple, branches: list) -> list:
    """A branch that ends in `raise` contributes no values to the merge (after
    the `if`, only the other branch can have run): it yields placeholders of
    the other branch's types, and its checks move before the `if`, on the
    branch's condition (tracer/checks.py)."""
    from .checks import hoist_checks

    for k, (frame, _, _) in enumerate(branches):
        hoist_checks(frame, pred if k == 0 else sem.ufunc("logical_not", pred))
    raised = [frame.raised for frame, _, _ in branches]
    if all(raised):
        ctx.state().frame.raised = True
        return [(frame, entry, {}) for frame, _, _ in branches]
    if not any(raised):
        return branches
    r = raised.index(True)
    _, other_exits, _ = branches[1 - r]
    exits = tuple(_stand_in(x, e) for x, e in zip(other_exits, entry))
    out = list(branches)
    out[r] = (branches[r][0], exits, {})
    return out


def _stand_in(x: Any, e: Any) -> Any:
    """The raising branch's exit for a name the other branch left as `x` (`e`
    before the `if`): a placeholder for each value the other branch made,
    inside tuples, lists and dicts too (`return (x[0], np.zeros(2))` in an
    elif beside a branch that raises: the tuple itself was kept, so its
    values, made in the elif's branch, left it unmerged and were read outside
    the block defining them: 'read before it is defined', probe Q)."""
    if x is e:
        return x
    if is_tracer(x):
        return _placeholder(x)
    if isinstance(x, (tuple, list)):
        es = e if type(e) is type(x) and len(e) == len(x) else [None] * len(x)
        return type(x)(_stand_in(a, b) for a, b in zip(x, es))
    if isinstance(x, dict):
        es = e if isinstance(e, dict) else {}
        return {k: _stand_in(a, es.get(k)) for k, a in x.items()}
    return x


def _placeholder(x: Tracer) -> Tracer:
    """A value of x's type for a branch that raises (it is never read)."""
    zero = sem.wrap(sem.as_value(np.zeros((), x.dtype)))
    v = sem.broadcast_to(zero, tuple(x.shape)) if x.shape else zero
    return Tracer(sem.as_value(v), weak=x.weak)


def _is_array(x: Any) -> bool:
    """An ndarray as the plain function holds it (not a number, not a NumPy scalar)."""
    if is_tracer(x):
        return not x.weak and (x.ndim > 0 or x.array0d)
    return isinstance(x, np.ndarray)


def _same_array_dtype(name: str, a: Any, b: Any) -> None:
    """Arrays of two dtypes from the two sides of a traced `if`: the plain
    function's result has the dtype of the side that ran (an int8 array, or
    the float64 one `a * 0.5` made), one the compiled program cannot choose
    at run time; promoting both (float64) gave the wrong dtype, and wrong
    values where the int8 arithmetic wraps, on the other path."""
    if _is_array(a) and _is_array(b) and sem.dtype_of(a) != sem.dtype_of(b):
        raise UnsupportedError(
            f"{_named(name)} is an array of {sem.dtype_of(a)} on one side of this `if` and of {sem.dtype_of(b)} on "
            "the other, a dtype chosen by a traced condition; looptrace needs one dtype for it",
            ctx.current_loc(), f"convert both to one dtype (`{name} = ....astype(np.float64)`)")


def _specialize_on(pred: Tracer, why: str) -> None:
    """Sides that cannot be merged (shapes, Python objects): where the
    condition comes from int arguments only (`if n > 3: y = x[:n]`), those are
    made static (specialize.py) and the `if` becomes Python's."""
    from .static import arg_sources, concrete_error

    positions = arg_sources([pred.value]) if is_tracer(pred) else None
    if positions:
        raise concrete_error([pred], f"{why}: the condition comes from int arguments",
                             "pass them in static_argnames")


def _merge_branches(pred: Tracer, names, entry, branches, set_fn) -> None:
    (f1, ex1, w1), (f2, ex2, w2) = branches
    merged = list(entry)
    outs_then, outs_else, slots, rebuilds = [], [], [], []
    for k, (a, b) in enumerate(zip(ex1, ex2)):
        if a is not b:  # the name differs between the branches: each side's value as its branch left it
            a, b = _as_written(a, w1), _as_written(b, w2)
        try:
            leaves, rebuild = merge.pair_up(a, b)
        except merge.Mismatch as m:
            _specialize_on(pred, _mismatch_message(names[k], *m.args))
            raise UnsupportedError(_mismatch_message(names[k], *m.args), ctx.current_loc()) from None
        rebuilds.append((k, len(leaves), rebuild))
        for x, y in leaves:
            _same_array_dtype(names[k], x, y)
            dtype, weak = merge.leaf_type(x, y)
            if np.ndim(x) == 0 and np.ndim(y) == 0 and not isinstance(x, merge.Placeholder) and \
                    not isinstance(y, merge.Placeholder) and _array_like(x) and _array_like(y):
                dtype = kinds.held(x, y)  # `if c: v = 0.1 else: v = y32[i]`: 0.1 kept exact (kinds.holding)
            outs_then.append((x, dtype)), outs_else.append((y, dtype))
            slots.append(("name", names[k], weak))
    boxes = {**{k: v[0] for k, v in w1.items()}, **{k: v[0] for k, v in w2.items()}}
    for key, box in boxes.items():
        a = w1[key][1] if key in w1 else box.value
        b = w2[key][1] if key in w2 else box.value
        outs_then.append((a, None)), outs_else.append((b, None))
        slots.append(("box", box, False))
    hidden = _hidden_tags(pred, f1, f2, outs_then, outs_else, slots)
    then_vals = _results_in(f1, outs_then)
    else_vals = _results_in(f2, outs_else)
    for tv, ev, (kind, name, _) in zip(then_vals, else_vals, slots):
        if tv.shape != ev.shape and kind == "name":
            what = "the function returns" if name == returns.SLOT else f"{_named(name)} has"
            _specialize_on(pred, f"{what} a shape the condition chooses")
            # (a ShapeChange: in a loop whose iterations are known while tracing, the loop runs as
            # Python, where the condition on the loop index is a Python bool: `if l == 1: continue`)
            raise ShapeChange(f"{what} shape {fmt(tv.shape)} in one branch of this `if` and "
                              f"{fmt(ev.shape)} in the other", ctx.current_loc(), _branch_shape_hint(tv, ev))
    f1.block.results, f2.block.results = then_vals, else_vals
    outs = [Value(v.dtype, v.shape) for v in then_vals]
    op = Op(prim("cond"), (pred.value,), tuple(outs), {}, ctx.current_loc(), (f1.block, f2.block))
    st = ctx.state()
    st.frame.block.ops.append(op)
    for v in outs:  # (where they are in scope: a link on one is dropped outside it, array.live_component)
        st.value_frames[v.id] = st.frame
    named = [Tracer(out, weak=weak) for out, (kind, _, weak) in zip(outs, slots) if kind == "name"]
    pairs = [(x, y) for (x, _), (y, _), (kind, _, _) in zip(outs_then, outs_else, slots) if kind == "name"]
    # a side not run to its end (a return on the other path) stands for nothing: the real side's flag
    pairs = [(y, y) if isinstance(x, merge.Placeholder) else (x, x) if isinstance(y, merge.Placeholder) else (x, y)
             for x, y in pairs]
    _flag_mixed(pred, pairs, named)
    for (x, y), out in zip(pairs, named):
        if isinstance(x, bool) and isinstance(y, bool) and x != y:  # (a return flag: the condition itself)
            imply(out, x, (pred, True)), imply(out, y, (pred, False))
    for j, keys, tag, result in hidden:
        kinds.apply(named[j], Tracer(outs[tag]) if result else tag, keys)
    selected = iter(named)
    for k, n_leaves, rebuild in rebuilds:
        value = rebuild([next(selected) for _ in range(n_leaves)])
        if isinstance(value, MaybeBound):
            value = MaybeBound(names[k], ctx.current_loc(), value.value, value.flag)
        if isinstance(value, MaybeNone):
            value = MaybeNone(value.flag, value.value, names[k])
        merged[k] = Undefined(names[k], ctx.current_loc()) if value is merge.UNDEFINED_LEAF else value
    for out, (kind, box, _) in zip(outs, slots):
        if kind == "box":
            ctx.touch(box)
            from .array import note_write

            note_write(box)
            box.set(out)
    set_fn(tuple(merged))


def _powers(perm: dict) -> list:
    """perm^0, perm^1, ... below its order (perm^k[n] = perm[perm^(k-1)[n]])."""
    out = [{n: n for n in perm}]
    while True:
        nxt = {n: perm[out[-1][n]] for n in perm}
        if all(nxt[n] == n for n in perm):
            return out
        out.append(nxt)


def _rebound(entry: Tracer, value) -> None:
    """entry.assign(value) where a loop swapped the names of arrays: the
    plain function wrote nothing there (tracer/array.py `note_sure_write`)."""
    st = ctx.state()
    st.rebinding += 1
    try:
        entry.assign(value)
    finally:
        st.rebinding -= 1


def _hidden_tags(pred: Tracer, f1: ctx.Frame, f2: ctx.Frame, outs_then: list, outs_else: list,
                 slots: list) -> list:
    """A name whose type a branch chose with a tag made inside it (a nested
    `if`: `if c: if x[i] > 0: bv = x[i]`, a float32 or the Python float it
    was) keeps it after the `if`: each side's tag, in the keys of both, is
    one more result of the branches (appended to outs_then / outs_else).
    Returns (index among the names, keys, the tag: a result's index in the
    cond's outputs, or a value made outside, and whether it is the former)."""
    st = ctx.state()
    outer = st.frame

    def seen(x: Any, frame: ctx.Frame) -> tuple | None:
        k = kinds.kinds_of(x, check=False) if is_tracer(x) else None
        if k is None or _visible(k[0]._box.frame, outer) or not _visible(k[0]._box.frame, frame):
            return None
        return k

    found = []
    named = [(k, x, y) for k, ((x, _), (y, _), slot) in enumerate(zip(outs_then, outs_else, slots)) if slot[0] == "name"]
    for j, (k, x, y) in enumerate(named):
        if isinstance(x, merge.Placeholder) and isinstance(y, merge.Placeholder):
            continue
        # a side that has not returned (the function's slot) stands for nothing: the other side's
        # tag on both (`return s` after a loop that may return earlier: np.float64 for a np.float32
        # or the Python float s was, probe Q)
        x_, y_ = (y, y) if isinstance(x, merge.Placeholder) else (x, x) if isinstance(y, merge.Placeholder) else (x, y)
        f1_, f2_ = (f2, f2) if isinstance(x, merge.Placeholder) else (f1, f1) if isinstance(y, merge.Placeholder) \
            else (f1, f2)
        if seen(x_, f1_) is None and seen(y_, f2_) is None:
            continue
        tags = []
        saved = st.frame
        try:
            st.frame = f1_
            kx = kinds.keys_of(x_)
            st.frame = f2_
            ky = kinds.keys_of(y_)
            if kx is None or ky is None:
                continue
            keys = kinds.union(kx, ky)
            for frame, v in ((f1, x), (f2, y)):
                st.frame = frame
                tags.append(np.int64(0) if isinstance(v, merge.Placeholder) else kinds.tag_in(v, keys))
        finally:
            st.frame = saved
        if len(keys) < 2:
            continue
        ta, tb = tags
        if not is_tracer(ta) and not is_tracer(tb):
            found.append((j, keys, ta if ta == tb else sem.select(pred, np.int64(ta), np.int64(tb)), False))
            continue
        found.append((j, keys, len(outs_then), True))
        outs_then.append((ta, np.dtype(np.int64))), outs_else.append((tb, np.dtype(np.int64)))
        slots.append(("tag", None, False))
    return found


def _as_written(x: Any, writes: dict) -> Any:
    """A name's exit `x` as its branch left it: an array the branch wrote in
    place (`s += v` of a 0-d array, its entry object still) has had its write
    undone when the branch ended, so its value is the one written. (The name
    then becomes the merged value, not that object: the other branch bound a
    different one.)"""
    if is_tracer(x) and x.base is None:
        for box, value in writes.values():
            if box is x._box:
                return Tracer(value, weak=x.weak)
    return x


def _branch_shape_hint(a, b) -> str:
    """What to write when an `if` gives a value two shapes: an array grown under a
    condition (np.append, np.concatenate: only the first axis differs) wants a list."""
    same_shape = ("give both branches one shape: np.where(cond, a, b) broadcasts a scalar side "
                  "(`out[:, j] = np.where(var > 0, (col - mu) / sd, 0.0)`), np.full(shape, v) makes an array of one")
    if len(a.shape) == len(b.shape) >= 1 and a.shape[1:] == b.shape[1:]:
        return ("to grow an array under a condition (np.append, np.concatenate), append the items to a Python "
                "list instead (`out.append(v)`) and make the array after the loop (`np.array(out)`); "
                "otherwise " + same_shape)
    return same_shape


def _mismatch_message(name: str, a: str, b: str) -> str:
    if name == returns.SLOT:
        return (f"this function returns {a} on one path and {b} on another, chosen by a traced "
                "condition; return the same kind of value on every path")
    return f"{_named(name)} is set to different Python objects in the two branches of a traced `if` ({a}, {b})"


def _array_like(x: Any) -> bool:
    return is_tracer(x) or isinstance(x, (numbers.Number, np.ndarray, np.generic))


def _results_in(frame: ctx.Frame, items: list[tuple[Any, Any]]) -> list[Value]:
    """Values for a block's results, converting inside that block."""
    st = ctx.state()
    saved, st.frame = st.frame, frame
    try:
        out = []
        for x, dtype in items:
            out.append(x if isinstance(x, Value) else sem.as_value(merge.materialize(x, dtype), dtype))
        return out
    finally:
        st.frame = saved


# --- loops -----------------------------------------------------------------------------------
def _counted_list(x: Any) -> bool:
    """Is x a list that is one segment a traced loop appended to a run-time
    count of (under a condition: `[(a, b) for t in it if c]`), of numbers
    or tuples of numbers of one type? `for v in x` of it is a loop of that
    many iterations, each reading its row (was refused: "iterating a list
    grown in a loop of a run-time length")."""
    return isinstance(x, list) and len(x) == 1 and isinstance(x[0], Segment) and x[0].count is not None \
        and not x[0].mixed and not getattr(x[0], "work_rows", False)


def for_(iterable, body_fn, get_fn, set_fn, names, *, live=(), live_out=(), loc=None, brk=None, scope=None):
    with ctx.at(_loc(loc)):  # (an error names the `for` line)
        iteration.check_taken(iterable)  # (an iterator made before a loop being traced: iteration.py)
    if row_lists.is_rows(iterable):  # a comprehension's rows: each read as a list (row_lists.py)
        rows = iterable
        return for_(range(rows[0].value.shape[0]), lambda i: body_fn(row_lists.row_at(rows, i)), get_fn, set_fn,
                    names, live=live, live_out=live_out, loc=loc, brk=brk, scope=scope)
    if _counted_list(iterable):  # appended to under a condition: a loop over its run-time count
        from .carries import TracedRange
        from .runtime import _counted_item

        counted = iterable
        return for_(TracedRange(counted[0].count), lambda i: body_fn(_counted_item(counted, i)), get_fn, set_fn,
                    names, live=live, live_out=live_out, loc=loc, brk=brk, scope=scope)
    if grown.is_grown(iterable):  # a list a traced loop appended to (grown.py)
        iterable = grown.iterable(iterable)
    nest = nests.as_nest(iterable)
    if nest is not None:
        return _nested_for(nest, body_fn, get_fn, set_fn, names, live, live_out, _loc(loc), brk, scope)
    over = _over_selection(iterable)
    if over is not None:
        # `for i in np.nonzero(c)[0]`, `for v in x[c]`: a selection of a length the run decides is a loop
        # over every position, in order, whose body runs where the mask selects it
        n, mask, item = over

        def guarded(i: Any) -> None:
            if_(mask[i], lambda: body_fn(item(i)), lambda: None, get_fn, set_fn, names)

        return for_(range(n), guarded, get_fn, set_fn, names, live=live, live_out=live_out, loc=loc, brk=brk,
                    scope=scope)
    it = loop_iterable(iterable)
    if it is None:
        return _python_for(iterable, body_fn, get_fn, set_fn, names, brk, _loc(loc), None)
    if _static_trips(it) == 0:
        # no iteration, known while tracing: Python runs none of the body, so the names keep their
        # values, types and shapes (`acc = 0.0`, `acc = acc + A[i]` over no rows stays 0.0)
        return _python_for((), body_fn, get_fn, set_fn, names, brk, _loc(loc), "it runs no iteration")
    loop = LoopTrace(names, get_fn, set_fn, body_fn, live, live_out, _loc(loc), brk, it, None, scope)
    if not (isinstance(iterable, range) and len(iterable) <= UNROLL_LIMIT):
        try:
            _run_peeling(loop)
        except ConcreteIndexError as e:
            if isinstance(iterable, range):
                _not_unrolled(e, f"it runs {len(iterable)} iterations, more than the {UNROLL_LIMIT} it unrolls")
            else:
                _concrete_bounds(iterable, e)
            raise
        except ShapeChange as e:
            if isinstance(iterable, range):
                _not_unrolled(e, f"it runs {len(iterable)} iterations, more than the {UNROLL_LIMIT} it unrolls")
                raise
            # a range over int arguments: specialized on them, the loop is a short static range (unrolled)
            err = ConcreteIndexError(e.problem, e.loc, e.hint)
            err.why = "a loop variable changes shape in its iterations"
            _concrete_bounds(iterable, err)
            if not getattr(err, "arg_positions", None):
                raise
            raise err from None
        return
    try:
        _run_peeling(loop)
    except ShapeChange as e:
        # a variable whose shape each iteration changes (`a = a[::2] + a[1::2]`, a coarser grid):
        # the few iterations run as Python, each traced on its own
        _unroll_range(iterable, e, body_fn, get_fn, set_fn, names, brk, loc,
                      "a loop variable changes shape in its iterations")
    except ShapeError:
        if len(iterable) != 0:
            raise
        # no iteration, known while tracing: the body met a shape only its iterations would
        # guarantee (x[i:i + 3] for i in range(n - 2), n < 3); Python runs none of it
        _python_for(iterable, body_fn, get_fn, set_fn, names, brk, _loc(loc), "its range is empty")
    except ConcreteIndexError as e:
        if getattr(e, "arg_positions", None) and SPECIALIZE_FIRST.get():
            # what must be concrete comes from int arguments alone (a window `x[max(0, i - k):i + 1]`
            # of a traced k): specialize.py traces again with them static and the loop is traced once,
            # as a longer one is; where it cannot make them static, it traces again with this loop unrolled
            e.unrolls_instead = True
            raise
        # the index selects items of a Python object (ws[k] for a list ws), or decides a shape:
        # run the few iterations as Python instead, each traced on its own
        _unroll_range(iterable, e, body_fn, get_fn, set_fn, names, brk, loc,
                      "the loop index is used as a Python integer")


def _over_selection(iterable: Any) -> tuple | None:
    """For a loop over a selection (masked.MaskedSelection: x[c], np.nonzero(c)[0],
    np.flatnonzero(c), np.where(c)[0]) or enumerate() of one: (the number of
    positions, the mask flattened, position -> the loop's item); None for any
    other iterable. enumerate counts the selected items only: its count at a
    position is the mask's running sum there, less one, plus `start`."""
    from .carries import TracedEnumerate, _weak
    from .masked import is_selection

    start = None
    sel = iterable
    if isinstance(iterable, TracedEnumerate) and is_selection(iterable.inner):
        sel, start = iterable.inner, iterable.start
    if not is_selection(sel) or sel.bounds or sel.windowed or sel.stepped or sel.axis:
        return None  # (a slice of varying length: its own errors)
    with ctx.at(ctx.current_loc()):
        mask = sem.reshape(sel.mask, (-1,))
        n = mask.shape[0]
        if not isinstance(n, numbers.Integral):
            return None
        data = sem.reshape(sel.data, (n,) + tuple(sel.rest))
        if start is None:
            return n, mask, lambda i: data[i]
        from .numpy_api import NAMESPACE

        count = sem.ufunc("add", NAMESPACE["cumsum"](mask, dtype=np.int64), start - 1)
        return n, mask, lambda i: (_weak(count[i]), data[i])


def _unroll_range(iterable, e: Exception, body_fn, get_fn, set_fn, names, brk, loc, why: str) -> None:
    st = ctx.state()
    if st.unrolled + len(iterable) > UNROLL_TOTAL:  # nested in other unrolled loops: too many bodies
        _not_unrolled(e, f"with the loops unrolled before and around it that would trace more than "
                      f"{UNROLL_TOTAL} copies of loop bodies, each compiled on its own")
        raise e
    st.unrolled += len(iterable)
    _python_for(iterable, body_fn, get_fn, set_fn, names, brk, _loc(loc), why)


def _not_unrolled(e: Exception, why: str) -> None:
    """A loop that needs a concrete index (a Python list's, a shape) and is
    too long to run as Python: why, in a note and, once, in the message
    itself (the same code works for a shorter loop, a smaller list)."""
    e.add_note(f"looptrace: this loop was not unrolled: {why}")
    if isinstance(e, LooptraceError) and not getattr(e, "unroll_said", False):
        e.unroll_said = True
        e.problem = (f"{e.problem}; looptrace runs such a loop as Python (unrolled) while it is short, and "
                     f"this loop was not unrolled: {why}")
        e.args = (format_message(e.problem, e.loc, e.hint),)


class WidensInLoop(UnsupportedError):
    """A NumPy value the first iteration of a counted loop widens (LoopTrace._first_in_entry_dtype)."""

    def __init__(self, name: str, loc):
        super().__init__(f"`{name}` changes dtype in the first iteration of this loop", loc)


def _run_peeling(loop: LoopTrace) -> None:
    """Trace `loop`; where a name is None before it and a value after an
    iteration (`best = None`, `if best is None or v > best: best = v`), run
    the first iteration on its own, as straight-line code, and trace the loop
    over the others with the name's value from that iteration, as Python
    would have it. That needs the number of iterations while tracing: with
    none, Python leaves the name None; otherwise the first iteration runs."""
    try:
        loop.run()
    except WidensInLoop:  # the first iteration in the entry's dtype, the rest in the wider one
        _peel_first(loop)
    except LastOverruns as e:  # the last slices NumPy shortens: those iterations on their own
        if e.loop is not loop:
            raise
        _peel_last(loop, e.count)
    except NoneBeforeLoop as e:
        it = loop.it
        if it is not None and it.static_len is None:
            # a range with traced bounds: for_ asks for the int arguments they come from to be
            # specialized on (_concrete_bounds), and the loop is traced again with a known length
            err = ConcreteIndexError(e.problem, e.loc, e.hint)
            err.why = f"the loop's length decides whether `{e.name}` is still None after it"
            raise err from None
        if it is None or not all(isinstance(b, numbers.Integral) for b in (it.start, it.step)):
            _carry_optional(loop, e)
            _run_peeling(loop)
            return
        _peel_first(loop)
    except (LooptraceError, TypeError, ValueError, IndexError) as e:
        if isinstance(e, (ConcreteIndexError, ShapeChange)) or not _none_first(loop, e):
            raise
        # a name None before the loop that the first iteration assigns under a test of the loop index
        # or a flag (`if k == 0: P = M[0] else: P = P @ M[k]`): the branch that never meets None was
        # traced with it; the first iteration on its own (k a Python 0), the loop over the rest with P
        _peel_first(loop)


def _none_first(loop: LoopTrace, e: Exception) -> bool:
    """Can a loop that failed while tracing run its first iteration on its own
    because a name it carries is None before it: a counted loop of a length
    known while tracing, with Python int start and step, of at least one
    iteration (the first iteration then sees what Python's does)."""
    it = loop.it
    if it is None or loop.cond_fn is not None or not any(v is None for v in getattr(loop, "entry", {}).values()):
        return False
    if it.static_len is None:
        # a range with traced bounds from int arguments: for_ asks for those to be specialized on
        # (_concrete_bounds), and the loop is traced again with a known length
        from .static import arg_sources

        bounds = [b.value for b in (it.start, it.stop, it.step) if is_tracer(b)]
        if not bounds or not arg_sources(bounds):
            return False
        problem = e.problem if isinstance(e, LooptraceError) else f"{type(e).__name__}: {e}"
        err = ConcreteIndexError(problem, getattr(e, "loc", None) or loop.loc, getattr(e, "hint", None) or "")
        err.why = "a name None before the loop is assigned in its first iteration"
        raise err from e
    return isinstance(it.static_len, numbers.Integral) and it.static_len > 0 \
        and all(isinstance(b, numbers.Integral) for b in (it.start, it.step))


def _carry_optional(loop: LoopTrace, e: NoneBeforeLoop) -> None:
    """No first iteration to run on its own (a while loop): the name that is
    None before the loop is carried as a value that may be None, tested at
    run time (carries.OptionalSpec); the caller runs the loop again."""
    if e.name in loop.optional or type(e) is not NoneBeforeLoop:
        raise e
    loop.optional.add(e.name)


def _peel_first(loop: LoopTrace) -> None:
    """The first iteration of a counted loop of static length as straight-line
    code, then the loop over the others (peeled in turn where it needs it)."""
    it = loop.it
    if it.static_len == 0:
        return
    loop.body_fn(it.item_fn(it.start))
    if it.static_len == 1:  # no other iteration: the names keep what the first left them
        return
    rest = LoopIter(it.start + it.step, it.stop, it.step, it.item_fn, it.static_len - 1)
    _run_peeling(LoopTrace(loop.names, loop.get, loop.set, loop.body_fn, loop.live, loop.live_out, loop.loc,
                           loop.brk, rest, None, loop.scope))


def _peel_last(loop: LoopTrace, m: int) -> None:
    """The loop over all but the last m iterations, then those as
    straight-line code: `for s in range(0, n, bs): X[s:s + bs]` with a last
    batch shorter than bs, which NumPy shortens and the traced loop could not
    (windows.check_fits)."""
    it = loop.it
    keep = it.static_len - m
    rest = LoopIter(it.start, it.start + keep * it.step, it.step, it.item_fn, keep)
    if keep > 0:
        _run_peeling(LoopTrace(loop.names, loop.get, loop.set, loop.body_fn, loop.live, loop.live_out, loop.loc,
                               loop.brk, rest, None, loop.scope))
    for j in range(keep, it.static_len):
        loop.body_fn(it.item_fn(it.start + j * it.step))


def _concrete_bounds(iterable, e: ConcreteIndexError) -> None:
    """The body needs a concrete value that the loop's state or index decides
    (`np.reshape(y, (R**i, -1))`): where the range's bounds come from int
    arguments, ask for those to be specialized on (looptrace/specialize.py),
    so that the traced-again loop is a static range, which for_ unrolls when
    it is short."""
    from .carries import TracedRange
    from .static import arg_sources

    if getattr(e, "arg_positions", None) or not isinstance(iterable, TracedRange):
        return
    bounds = [b.value for b in (iterable.start, iterable.stop, iterable.step) if is_tracer(b)]
    positions = arg_sources(bounds) if bounds else None
    if positions:
        e.arg_positions = positions


def _nested_for(nest, body_fn, get_fn, set_fn, names, live, live_out, loc, brk, scope) -> None:
    """`for item in nest`: one loop per level, outermost first, all carrying
    the loop's names; the body is traced once, in the innermost level."""
    levels = nest.levels
    if not levels:  # np.ndindex(()): one iteration
        body_fn(nest.item(()))
        return
    if any(_static_trips(lv) == 0 for lv in levels):
        # a level of no iteration, known while tracing (np.ndindex(3, 0), a product with range(0)): the
        # nest runs none, so the names keep their values, types and shapes, as after `for` of no trip
        return _python_for((), body_fn, get_fn, set_fn, names, brk, loc, "it runs no iteration")

    def level(k: int, outer: tuple) -> Callable:
        if k == len(levels) - 1:
            return lambda i: body_fn(nest.item(outer + (i,)))
        # (each level peels as a `for` over a range does: a NumPy value the nest's first iteration widens,
        # `s = x[0]` of ints, `s = s * 0.5 + ...`, as the nest of plain range loops has it)
        return lambda i: _run_peeling(LoopTrace(names, get_fn, set_fn, level(k + 1, outer + (i,)), live,
                                                live_out, loc, brk, levels[k + 1], None, scope))

    outer = LoopTrace(names, get_fn, set_fn, level(0, ()), live, live_out, loc, brk, levels[0], None, scope)
    if outer.loop_info is not None and len(levels) > 1 and all(
            isinstance(lv.static_len, numbers.Integral) for lv in levels):
        outer.loop_info.nest_count = math.prod(int(lv.static_len) for lv in levels)
    _run_peeling(outer)


# a static range whose index must be a Python int is unrolled up to this many iterations, and
# such unrolled iterations in one trace, nested ones included, up to UNROLL_TOTAL: a triangular
# `for i in range(n): for j in range(i): A[i, :j]` unrolls n*n/2 bodies (npbench's lu at n = 60:
# 1800 bodies, whose Numba compile ran past 300 s; at n = 16, 136 bodies, 22 s)
UNROLL_LIMIT = 64
UNROLL_TOTAL = 128
# a short loop whose index must be concrete for a reason int arguments decide asks for those to be
# specialized on (for_) while specialize.py traces with this set; it unsets it to trace again where it
# could not make them static (a 0-d array, a complex), and such a loop is unrolled
SPECIALIZE_FIRST: contextvars.ContextVar[bool] = contextvars.ContextVar("looptrace_specialize_first", default=False)
# a loop run as Python (over a list, or unrolled) warns past this many iterations
UNROLL_WARN = 100


def while_(cond_fn, body_fn, get_fn, set_fn, names, *, live=(), live_out=(), loc=None, brk=None, scope=None):
    if _false_on_entry(cond_fn, get_fn, set_fn, _loc(loc)):
        return
    loop = LoopTrace(names, get_fn, set_fn, body_fn, live, live_out, _loc(loc), brk, None, cond_fn, scope)
    try:
        while True:
            try:
                loop.run()
                break
            except NoneBeforeLoop as e:
                _carry_optional(loop, e)
    except ShapeChange as e:
        if not (loop.cond_static or getattr(e, "python_test", False) or getattr(e, "advances_iterator", False)):
            raise  # (python_test: carries.ListSpec; advances_iterator: iteration.py, unrolled if its test allows)
        # `while a.shape[0] > 1: a = a[::2] + a[1::2]`: the test reads no traced value, and each
        # iteration changes a variable's shape; Python's iterations are known while tracing
        _python_while(cond_fn, body_fn, get_fn, names, brk, _loc(loc), e)


def _false_on_entry(cond_fn, get_fn, set_fn, loc) -> bool:
    """Is the while test a Python false on the values the names enter with
    (`k = 0; while k < n` of a static n = 0, a test of shapes)? Then Python
    evaluates it once and runs no iteration: the names keep their values,
    types and shapes, and no loop is traced (one that grows a name's shape
    or changes its dtype was refused). Otherwise (a traced test, an error)
    the names get their entry values back and the loop is traced; what the
    test emitted here reads values it reads again, and is dead."""
    saved = get_fn()
    try:
        with iteration.guarding(iteration.outer_iterators()):  # (a test taking an item: while_ decides)
            c = tested(cond_fn())
        empty = not is_tracer(c) and not bool(c)
    except Exception:
        empty = False
    if not empty:
        set_fn(saved)
        return False
    info = register_loop(loc, "vectorized") if loc is not None else None
    if info is not None:
        info.kind, info.reason = "vectorized", "its condition is false on entry, known while tracing: " \
            "it runs no iteration"
    return True


def _python_while(cond_fn, body_fn, get_fn, names, brk, loc, e: Exception) -> None:
    """A while loop run as Python: each iteration traced on its own (unrolled)."""
    st = ctx.state()
    info = register_loop(loc, "vectorized") if loc is not None else None
    count = 0
    while True:
        if brk is not None and count > 0:
            flag = dict(zip(names, get_fn()))[brk]
            if is_tracer(flag):
                e.add_note("looptrace: this loop was not unrolled: it breaks on a traced condition")
                raise e
            if flag:
                break
        c = cond_fn()
        if is_tracer(c):
            e.add_note("looptrace: this loop was not unrolled: its condition reads a traced value")
            raise e
        if not c:
            break
        if st.unrolled + 1 > UNROLL_TOTAL:
            e.add_note(f"looptrace: this loop was not unrolled: that would trace more than {UNROLL_TOTAL} "
                       "copies of loop bodies, each compiled on its own")
            raise e
        st.unrolled += 1
        count += 1
        body_fn()
    if info is not None:
        info.kind, info.reason = "vectorized", ("unrolled while tracing (a loop variable changes shape in "
                                                f"its iterations): {count} iterations, each traced on its own")


_I64 = np.iinfo(np.int64)


def _next_index(i: Tracer, it: LoopIter) -> Tracer:
    """The index after `i` in a counted loop run as a while loop (a `break`):
    `i + step`, or `stop` where that passes the int64 ends (the index would
    wrap around and the loop run on: range(-2**63, 2**63 - 1, 2**62)). Where
    `i < stop` bounds `i + step` (a step of 1, a stop known to leave room)
    it is the plain sum."""
    step, stop = it.step_tracer(), it.stop
    nxt = sem.ufunc("add", i, step)
    if isinstance(step, numbers.Integral):
        if abs(int(step)) == 1 or isinstance(stop, numbers.Integral) and \
                _I64.min <= int(stop) + int(step) <= _I64.max:
            return nxt
        wrapped = sem.ufunc("less" if step > 0 else "greater", nxt, i)
    else:  # the sum passed an end: it moved against the step's sign
        wrapped = sem.ufunc("not_equal", sem.ufunc("less", nxt, i), sem.ufunc("less", step, 0))
    return sem.select(wrapped, sem.wrap(sem.as_value(stop, np.int64)), nxt)


def _loc(loc) -> SourceLoc | None:
    if loc is None:
        return None
    import linecache

    return SourceLoc(loc[0], loc[1], linecache.getline(loc[0], loc[1]).rstrip("\n"))


def _python_for(iterable, body_fn, get_fn, set_fn, names, brk, loc, why: str | None) -> None:
    """A loop over a Python container runs as Python: one trace of the body per
    element (the loop is unrolled). After a `break` (or a `return`) on a traced
    condition, the remaining iterations run under that condition."""
    from .external import items

    info = register_loop(loc, "vectorized") if loc is not None else None
    count = 0
    taking = iteration.is_iterator(iterable)  # (an iterator: Python takes no item after a `break`)
    for item in items(iterable):  # reads of a container's items are guarded (external.py)
        count += 1
        flag = dict(zip(names, get_fn()))[brk] if brk is not None and count > 1 else False
        if is_tracer(flag):
            if taking:  # the items it holds after the loop are known at run time only
                iteration.taken_at_run_time(iterable)
            if_(not_(flag), lambda item=item: body_fn(item), lambda: None, get_fn, set_fn, names)
        elif flag:
            break
        else:
            body_fn(item)
        if taking and brk is not None:
            flag = dict(zip(names, get_fn()))[brk]
            if not is_tracer(flag) and flag:
                break
        if count == UNROLL_WARN + 1:
            _warn_unrolled(loc, why)
    if info is not None:
        what = why or f"a loop over a Python {type(iterable).__name__}"
        info.kind, info.reason = "vectorized", f"unrolled while tracing ({what}): {count} iterations, " \
            "each traced on its own"


def _warn_unrolled(loc: SourceLoc | None, why: str | None, hint: str | None = None) -> None:
    import warnings

    from looptrace.errors import UnrollWarning, format_message

    what = why or "it iterates over a Python container, not a range or an array"
    warnings.warn(UnrollWarning(format_message(
        f"this loop is unrolled while tracing ({what}) and runs more than {UNROLL_WARN} iterations: "
        "trace and compile time grow with each one", loc,
        hint or "iterate over an array (np.asarray(the_list)) or a range, so the loop is traced once")),
        stacklevel=2)


def _paired_value_leaves(old: Any, new: Any) -> list:
    """(old, new) ValueSpec leaves of one name's specs before and after a
    round's join, where both have the same structure (else none)."""
    if isinstance(old, ValueSpec) and isinstance(new, ValueSpec):
        return [(old, new)]
    if isinstance(old, TupleSpec) and isinstance(new, TupleSpec) and len(old.children) == len(new.children):
        return [pair for a, b in zip(old.children, new.children) for pair in _paired_value_leaves(a, b)]
    return []


def _exit_leaves(obj: Any) -> list:
    """The leaves of a name's exit object, in the order of its spec's leaves."""
    if isinstance(obj, tuple):
        return [leaf for x in obj for leaf in _exit_leaves(x)]
    return [obj]


def _reads_of(t: Tracer, made: dict) -> set:
    """Ids of the values an exit tracer's value is computed from in the body
    block (through nested regions' captures), its own included."""
    from looptrace.ir.core import free_values

    if t.base is not None:
        return set()
    seen: set = set()
    todo = [t._box.value]
    while todo:
        v = todo.pop()
        if v.id in seen:
            continue
        seen.add(v.id)
        op = made.get(v.id)
        if op is not None:
            todo.extend(op.inputs)
            for sub in op.blocks:
                todo.extend(free_values(sub))
    return seen


@dataclass
class Region:
    """One traced block of a loop (its body, or a while loop's condition)."""

    frame: ctx.Frame
    name_args: list[Value]
    exits: tuple = ()
    raw_exits: tuple = ()
    extra: Any = None


def _holds_tracer(key: Any) -> bool:
    """Does a view's index hold a traced value (through tuples and slices)?"""
    if isinstance(key, (tuple, list)):
        return any(_holds_tracer(k) for k in key)
    if isinstance(key, slice):
        return any(_holds_tracer(k) for k in (key.start, key.stop, key.step))
    return is_tracer(key)


def _root(t: Tracer) -> Tracer:
    while t.base is not None:
        t = t.base
    return t


def _holds(obj: Any, box: ctx.Box, depth: int = 0) -> bool:
    """Does `obj` (a variable's value) refer to the array whose box is `box`?"""
    if is_tracer(obj):
        return _root(obj)._box is box
    if depth < 4 and isinstance(obj, (tuple, list)):
        return any(_holds(o, box, depth + 1) for o in obj)
    if depth < 4 and isinstance(obj, dict):
        return any(_holds(o, box, depth + 1) for o in obj.values())
    return False


# what `_seen_elsewhere` says of an array the loop writes back after swapping it (`_write_back_swaps`)
_WRITTEN_BACK = ("an argument array", "an array the calling function passed in (or a closure holds)")


def _static_trips(it) -> int | None:
    """A counted loop's number of iterations where it is known while tracing."""
    if isinstance(it.static_len, numbers.Integral):
        return int(it.static_len)
    return None


class LoopTrace:
    """Traces one source loop into a for_loop or while_loop op."""

    def __init__(self, names, get_fn, set_fn, body_fn, live, live_out, loc, brk, it, cond_fn, scope=None):
        self.names, self.get, self.set, self.body_fn = list(names), get_fn, set_fn, body_fn
        self.scope = scope  # the function's other variables read outside the loop (convert._scope_getter)
        self.detached: dict[int, str] = {}  # id(box) -> the name that carried it (_detach)
        self.swaps: dict | None = None  # names exchanging their arrays each iteration (_permutation)
        self.swaps_written = True  # ... and the loop writes into them (else only the names are bound back)
        self.live, self.live_out, self.loc, self.brk = set(live), set(live_out), loc, brk
        self.it: LoopIter | None = it
        self.cond_fn = cond_fn
        self.cond_static = False  # the while test read no traced value (while_ may run it as Python)
        self.is_while = cond_fn is not None or brk is not None
        self.optional: set[str] = set()  # names None before the loop, carried as values that may be None
        self.loop_info = register_loop(loc, "while" if self.is_while else "scan")

    # the rounds ---------------------------------------------------------------------------
    def run(self) -> None:
        self.iterators = iteration.outer_iterators()
        entry = self.get()
        self.entry = dict(zip(self.names, entry))
        specs = {n: carry_spec_for(n, e, n in self.live, n in self.live_out, self.loc)
                 for n, e in self.entry.items()}
        self.lists: dict[str, LoopList] = {}
        self.first_returns = None  # what a `return` in the first iteration gives: the types (see _run_body)
        for _ in range(MAX_ROUNDS):
            cond = self._trace(specs, self._run_cond) if self.is_while else None
            body = self._trace(specs, self._run_body)
            if self.first_returns is None:
                self.first_returns = self._returned_types(body.exits)
                self.first = Tracer(sem.as_value(True, np.bool_))  # read and written in the body only if needed
            new_specs = self._check(specs, body, cond)
            if new_specs is None:
                self._finish(specs, body, cond)
                if self.swaps is not None and any(self._seen_elsewhere(n) in _WRITTEN_BACK for n in self.swaps):
                    self._write_back_swaps()
                return
            self._discard(body, cond)
            specs = new_specs
        raise TraceError("the types of this loop's variables do not settle", self.loc)

    def _trace(self, specs: dict, run: Callable) -> Region:
        st = ctx.state()
        frame = st.push("loop")
        try:
            index = None
            if self.it is not None:
                index = Value(np.dtype(np.int64), ())
                frame.block.args.append(index)
            name_args: list[Value] = []
            bound = []
            for n in self.names:
                obj, args = specs[n].bind(self, n)
                name_args += args
                if self.loop_info is not None and not n.startswith("__lt"):
                    for a in args:
                        self.loop_info.arg_names[a.id] = n
                tag = getattr(specs[n], "bound_tag", None)
                if tag is not None and self.loop_info is not None:
                    self.loop_info.type_tags[tag.id] = n
                bound.append(obj)
            frame.block.args += name_args
            self.set(tuple(bound))
            region = Region(frame, name_args)
            region.bound = dict(zip(self.names, bound))
            # each name's array at the start of an iteration (a list that appends one: carries.py `LoopList`)
            self.bound_values = {id(o): (o, o.value) for o in bound if is_tracer(o) and o.base is None}
            with iteration.guarding(self.iterators):  # (next() of one made before the loop: iteration.py)
                region.extra = run(index)
            self._name_captured(frame)
            region.raw_exits = self.get()  # what the names hold, before materialize_views reads them
            region.exits = materialize_views(region.raw_exits, [self.entry[n] for n in self.names])
            region.box_exits = {k: box.value for k, (box, _, _) in frame.captured.items()}
            self.last_body = region  # (its box_exits: carries.LoopList.check_aliases)
        finally:
            st.pop(frame)
            for box, before, _ in frame.captured.values():
                box.value = before
            self.set(tuple(self.entry[n] for n in self.names))
        region.index = index
        return region

    def _name_captured(self, frame) -> None:
        """The user's name for each array the body writes in place (a carry the
        loop captured: `out[k] = ...`), for explain's reasons (it said `%892`)."""
        if self.loop_info is None or not frame.captured:
            return
        names = None
        for box, _, arg in frame.captured.values():
            if arg.id in self.loop_info.arg_names:
                continue
            if names is None:
                names = list(self.entry.items()) + (sorted(self.scope().items()) if self.scope is not None else [])
            holder = next((m for m, v in names if not m.startswith("__lt") and _holds(v, box)), None)
            if holder is not None:
                self.loop_info.arg_names[arg.id] = holder

    def _returned_types(self, exits: tuple) -> Any:
        """The types (dtype, rank) of what the function returns from this
        loop's body, None where it has no `return`. (A Python number that
        becomes a NumPy scalar of its dtype, `acc = 0.0`, then `acc + x[i]`,
        is not told apart: the same value, np.float64 a float.)"""
        if returns.SLOT not in self.names or returns.FLAG not in self.names:
            return None
        out = dict(zip(self.names, exits))[returns.SLOT]

        def types(x: Any) -> Any:
            if isinstance(x, (tuple, list)):
                return type(x), tuple(types(e) for e in x)
            if is_tracer(x) or sem.is_py_scalar(x) or isinstance(x, np.generic):
                # (with the dtypes a tag chooses among: a Python int against an int32 is held in int64)
                keys = kinds.keys_of(x, check=False) if is_tracer(x) and x.kinds is not None else None
                return np.dtype(sem.dtype_of(x)).str, np.ndim(x) if not is_tracer(x) else x.ndim, \
                    tuple(sorted({k[0] for k in keys})) if keys and len({k[0] for k in keys}) > 1 else None
            return type(x)

        return types(out)

    def _check_first_return(self) -> None:
        """A `return` in the first iteration, of a value whose type changes in
        later ones (`acc = 0`, then `acc = acc + x[i]`; `return acc`): Python
        returns the first iteration's type (an int), the compiled loop its one
        carried type (float64). That is refused at run time, in the first
        iteration only, where the body returns (the traced types say which
        rounds differ: the first round traced the entry types)."""
        if self.first_returns is None:
            return
        now = self._returned_types(self.get())
        if now == self.first_returns or not isinstance(self.first_returns, tuple):
            return
        from .checks import emit_check

        returned = dict(zip(self.names, self.get()))[returns.FLAG]
        exc = UnsupportedError(
            "this loop returns, in its first iteration, a value whose type the loop changes in later ones "
            "(`acc = 0` before the loop, `acc = acc + x[i]` in it: an int, then a NumPy float): plain Python "
            "returns the first iteration's type, looptrace's compiled loop has one type for it", self.loc,
            "give the name its type before the loop (acc = 0.0, or np.float64(...)), or return a converted value")
        with ctx.at(self.loc):
            first = self.first
            if is_tracer(returned):
                emit_check(sem.ufunc("logical_and", first, returned), exc)
            elif returned:
                emit_check(first, exc)
            first.assign(sem.as_value(False, np.bool_))

    def _run_body(self, index: Value | None) -> Any:
        item = self.it.item(index) if self.it is not None else None
        if self.it is not None:
            counted = not self.is_while and self.it.static_len is not None and \
                all(isinstance(b, numbers.Integral) for b in (self.it.start, self.it.step))
            st = ctx.state()
            if counted:
                st.counted.append((index, self.it, self))
            try:
                deferring(lambda: self.body_fn(item))
            finally:
                if counted:
                    st.counted.pop()
            self._check_first_return()
            next_index = None
            if self.is_while:
                with ctx.at(self.loc):
                    next_index = _next_index(Tracer(index), self.it).value
            return next_index
        deferring(self.body_fn)
        self._check_first_return()
        return None

    def _run_cond(self, index: Value | None) -> Value:
        def user_cond():
            if self.cond_fn is not None:
                return tested(self.cond_fn())  # (`while stack:` of a list the loop appends to)
            with ctx.at(self.loc):
                return self.it.in_range(index)

        if self.brk is None:
            c = user_cond()
            self.cond_static = not is_tracer(c)
        else:  # after a `break` Python does not evaluate the loop's condition again
            flag = dict(zip(self.names, self.get()))[self.brk]

            def cond():
                c = tested(user_cond())
                self.cond_static = not is_tracer(c)
                return _as_bool(c) if is_tracer(c) else c  # (its truth: `while a:` of a one-element array)

            with ctx.at(self.loc):
                c = and_(lambda: not_(flag), cond)
        if not is_tracer(c):
            c = sem.as_value(bool(c), np.bool_)
            return c
        return _as_bool(c).value

    def _check(self, specs: dict, body: Region, cond: Region | None) -> dict | None:
        if self.detached:
            self._check_detached(specs, body, cond)
        new = dict(specs)
        rebound = [n for n, exit_obj in zip(self.names, body.exits)
                   if specs[n].kind == "alias" and is_tracer(self.entry[n]) and exit_obj is not self.entry[n]
                   and not isinstance(exit_obj, Undefined)]
        # (a name the body rebinds before any use, on every path, never reaches its entry array: writes
        # into that array through other names are theirs, and the name needs no contents carried)
        written = [n for n in rebound if n in self.live and self._writes_entry(n, body)]
        if not written and self.swaps is None:
            self._unwritten_swaps(rebound, body)
        if written:
            # the loop writes an array a name enters with, then rebinds the name (double buffering,
            # `cur, nxt = nxt, cur`): those names, and every rebound name whose array another name
            # holds at the end of the body (the next iteration may write it), carry contents instead
            held = {id(_root(e)._box) for e in body.raw_exits if is_tracer(e)}
            rebound = written + [n for n in rebound if n not in written and id(_root(self.entry[n])._box) in held]
            self.swaps, self.swaps_written = self._permutation(rebound, body), True
            for n in rebound:
                self._detach(n, n if n in written else written[0])
                entry = self.entry[n]
                new[n] = ValueSpec(entry.dtype, entry.shape, entry.weak)
            names = ", ".join(f"`{n}`" for n in self.names if n in rebound)
            where = f"line {self.loc.line}: " if self.loc is not None else ""
            note = (f"{where}{names} {'is' if len(rebound) == 1 else 'are'} written in place and rebound in "
                    "this loop (double buffering): each carries its contents as a value")
            if note not in ctx.state().notes:
                ctx.state().notes.append(note)
        changed = bool(written)
        for n, exit_obj in zip(self.names, body.exits):
            if n in written or (written and n in rebound):
                continue
            if n in self.optional and self.entry[n] is None and exit_obj is not None and \
                    not isinstance(exit_obj, MaybeNone):
                exit_obj = MaybeNone(True, exit_obj)  # (None before the loop: _run_peeling)
            joined = join_spec(specs[n], self.entry[n], exit_obj, n, self.loc)
            if joined is not specs[n]:
                self._first_in_entry_dtype(n, joined)
                self._dtype_needs_a_trip(n, joined)
                new[n] = joined
                changed = True
        changed = self._tag_carries_others_read(specs, new, body) or changed
        changed = self._held_outside(new, body) or changed
        return new if changed else None

    def _held_outside(self, new: dict, body: Region) -> bool:
        """Names carried by value that leave an iteration holding an array from
        outside the loop that traced conditions chose (`b = z; if c: b = y`,
        `if c: return y` for the return slot): each carries which one
        (carries.ValueSpec.outer), so after the loop it is that array, or
        the one it entered with after no iteration, for writes through it and
        a returned `is`. (A write after the loop reached no argument, and a
        returned one was the kernel's copy.) True where a spec changed."""
        from .carries import outer_roots

        st = ctx.state()
        outside, detached, changed = st.frame, set(self.detached.values()), False
        for n, raw in zip(self.names, body.raw_exits):
            spec = new[n]
            if type(spec) is not ValueSpec or n in detached or not is_tracer(raw) or \
                    not (raw.base is None and raw._box is not None and (raw._box.links or n == returns.SLOT)):
                continue
            saved, st.frame = st.frame, body.frame
            try:
                roots = outer_roots(raw, spec, outside)
            finally:
                st.frame = saved
            if not roots:
                continue
            have = {id(b) for b in spec.outer}
            for b in roots + outer_roots(self.entry[n], spec, outside):
                if id(b) not in have:
                    have.add(id(b))
                    spec = copy.copy(spec) if spec is new[n] else spec
                    spec.outer = spec.outer + (b,)
            changed = changed or spec is not new[n]
            new[n] = spec
        return changed

    def _tag_carries_others_read(self, specs: dict, new: dict, body: Region) -> bool:
        """A 0-d value whose type an iteration changes (`b = 1.0`, then `b = a * 0.5 + b * x[i]`, a
        np.float64) has its entry type in the first iteration only: another carry that takes it
        (`a, b = b, ...`, `c = (c[1], ...)`) leaves that iteration with the entry type too (a Python
        float after one trip, as in Python). The untagged body argument has the join's type
        (np.float64): such a value carries its type tag (ValueSpec.carry) where another carry's
        exit reads its body argument. True where a spec changed (the body is traced again)."""
        leaves = [(n, k, old, joined) for n in self.names
                  for k, (old, joined) in enumerate(_paired_value_leaves(specs[n], new[n]))]
        candidates = [(n, k, old, joined) for n, k, old, joined in leaves
                      if old.bound is not None and not joined.carry and joined._tagged()]
        if not candidates:
            return False
        made = {v.id: op for op in body.frame.block.ops for v in op.outputs}
        reads = {(n, k): _reads_of(t, made) for n, e in zip(self.names, body.exits)
                 for k, t in enumerate(_exit_leaves(e)) if is_tracer(t) and t.ndim == 0}
        changed = False
        for n, k, old, joined in candidates:
            if any(old.bound.id in ids for where, ids in reads.items() if where != (n, k)):
                joined.carry = changed = True
        return changed

    def _first_in_entry_dtype(self, name: str, joined: Any) -> None:
        """A NumPy value (not a Python number) whose dtype the first iteration
        widens (`h = x32[0]`, then `h = h * 0.7 + y[i]` of float64 y): carried
        in the wider dtype from the start, the first `h * 0.7` was computed in
        float64 where Python computes it in float32. In a counted loop of a
        static length the first iteration runs on its own (_run_peeling)."""
        entry = self.entry[name]
        it = self.it
        if not is_tracer(entry) or entry.weak or getattr(entry, "kinds", None) is not None \
                or not isinstance(joined, ValueSpec) or joined.dtype == entry.dtype or joined.carry \
                or it is None or self.cond_fn is not None or it.static_len is None \
                or not all(isinstance(b, numbers.Integral) for b in (it.start, it.step)):
            return
        raise WidensInLoop(name, self.loc)

    def _dtype_needs_a_trip(self, name: str, joined: Any) -> None:
        """An array whose dtype an iteration changes (`y = a` of int8, then
        `y = y * 1.5`) has the new dtype after the loop only if the loop ran:
        where it may run zero times, the trip count's int arguments are made
        static (specialize.py), else a clear error (it was float64 after a
        loop of zero trips)."""
        entry = self.entry[name]
        if not (_is_array(entry) and isinstance(joined, ValueSpec) and joined.dtype != sem.dtype_of(entry)) \
                or surely_runs(self):
            return
        from .static import UnsupportedConcrete, concrete_error

        it = self.it
        bounds = tuple(b for b in (it.start, it.stop, it.step) if is_tracer(b)) \
            if it is not None and self.cond_fn is None else ()
        if self.cond_fn is not None:  # a while test on the entry values: static where int arguments decide it
            test = self._no_trip_now()
            bounds = (test,) if isinstance(test, Value) else ()
        raise concrete_error(
            bounds, f"`{name}` enters this loop as a {sem.dtype_of(entry)} array and an iteration makes it "
            f"{joined.dtype}; after a loop of zero trips it keeps {sem.dtype_of(entry)}, a dtype only the run "
            "can choose", f"give `{name}` its loop dtype before the loop (`{name} = {name}.astype(np.{joined.dtype})`)",
            cls=UnsupportedConcrete)

    def _writes_entry(self, name: str, body: Region) -> bool:
        """Does the body write (in place) the array `name` entered the loop with?"""
        root = _root(self.entry[name])
        cap = body.frame.captured.get(id(root._box))
        return cap is not None and body.box_exits.get(id(root._box), cap[2]) is not cap[2]

    def _detach(self, name: str, written: str) -> None:
        """Carry `name` as a value: each iteration starts from a copy of the
        contents it left, in an array of its own, so writes through the name
        land there. The array the name entered with is left behind, never
        read again, which is exact only when nothing else can see that array:
        refuse an argument, a view, an array the caller or a closure holds and
        one that another variable still refers to where it is read later."""
        what = self._seen_elsewhere(name)
        if what is not None and self.swaps is not None and name in self.swaps and what in _WRITTEN_BACK:
            what = None  # an argument swapped with the others (`u, v = v, u`): `_write_back_swaps`
        if what is not None:
            subject = (f"`{name}` is rebound inside this loop and the array it refers to is written in place "
                       "(through it or another name)" if written == name else
                       f"`{written}` is written in place inside this loop and `{name}` is rebound")
            raise UnsupportedError(
                f"{subject} while it refers to {what}; looptrace cannot follow which array each "
                "iteration writes", self.loc, f"write `{name} = {name}.copy()` before the loop, or use "
                "separate names")
        self.detached[id(_root(self.entry[name])._box)] = name

    def _permutation(self, rebound: list, body: Region) -> dict | None:
        """Where the rebound names exchange their arrays (`u, v = v, u`, a
        rotation of three): name -> the name whose array (at the iteration's
        start) it leaves the iteration holding, a permutation of them, their
        arrays all different roots; None for any other rebinding, or a loop
        whose number of iterations the run decides (a while loop, a `break`:
        which array each name ends with is then unknown)."""
        if self.is_while or self.it is None or len(rebound) < 2:
            return None
        start, raw = body.bound, dict(zip(self.names, body.raw_exits))
        perm = {}
        for n in rebound:
            m = next((m for m in rebound if raw[n] is start.get(m)), None)
            if m is None:
                return None
            perm[n] = m
        entries = [self.entry[n] for n in rebound]
        if len(set(perm.values())) != len(perm) or any(not is_tracer(e) or e.base is not None for e in entries) \
                or len({id(e._box) for e in entries}) != len(entries):
            return None
        return perm  # (of any order: a run-time trip count's remainder picks the arrays, _write_back_rotation)

    def _unwritten_swaps(self, rebound: list, body: Region) -> None:
        """Names that only exchange arrays (`u, v = v, u`, nothing written
        into them in the loop), one of them an argument: after the loop each
        is bound back to the array the plain function leaves it holding
        (`_write_back_swaps`, with nothing to write), so that a write through
        it afterwards reaches the caller's array and a returned name is it.
        They were carried as values, and a write after the loop reached no
        argument."""
        perm = self._permutation(rebound, body)
        if perm is not None and any(self._seen_elsewhere(n) in _WRITTEN_BACK for n in perm):
            self.swaps, self.swaps_written = perm, False

    def _write_back_swaps(self) -> None:
        """After a loop whose names exchange arrays (`_permutation`), at least
        one of them an argument: each name's contents go into the array it
        holds in the plain function after the loop, the array the name
        `perm`^T of it entered with (T the trip count), and the name is bound
        to that array again (the caller's array, for an argument). A loop of
        a static trip count knows it while tracing; else the permutation swaps
        two names (a parity, chosen at run time)."""
        perm, names = self.swaps, list(self.swaps)
        at = {n: k for k, n in enumerate(self.names)}
        final = {n: self.get()[at[n]] for n in names}
        entry = {n: self.entry[n] for n in names}
        it = self.it
        with ctx.at(self.loc):
            trips = _static_trips(it)
            if trips is not None:
                holder = {n: n for n in names}  # holder[m]: the name holding m's array after the loop
                for _ in range(trips % 2 if all(perm[perm[n]] == n for n in names) else trips):
                    holder = {m: next(n for n in names if perm[n] == holder[m]) for m in names}
                for m in names if self.swaps_written else ():
                    _rebound(entry[m], sem.as_value(final[holder[m]], entry[m].dtype))
                bound = {holder[m]: entry[m] for m in names}
                self._rebind({n: bound[n] for n in names}, at)
                return
            from .carries import _trip_count

            powers = _powers(perm)
            if len(powers) > 2:
                self._write_back_rotation(powers, entry, final, at)
                return
            even = sem.ufunc("equal", sem.ufunc("remainder", _trip_count(it.start, it.stop, it.step), 2), 0)
            for m in names if self.swaps_written else ():
                _rebound(entry[m], sem.select(even, final[m], final[perm[m]]).value)

            get, put = self._named_slots(names, at)
            if_(Tracer(even.value, weak=True), lambda: put(tuple(entry[n] for n in names)),
                lambda: put(tuple(entry[perm[n]] for n in names)), get, put, tuple(names))

    def _named_slots(self, names: list, at: dict):
        """get/put of the loop's values that `names` hold (at[n]: its slot),
        as `if_` reads and writes a branch's names."""
        def put(objs: tuple) -> None:
            vals = list(self.get())
            for n, o in zip(names, objs):
                vals[at[n]] = o
            self.set(tuple(vals))

        def get() -> tuple:
            vals = self.get()
            return tuple(vals[at[n]] for n in names)

        return get, put

    def _write_back_rotation(self, powers: list, entry: dict, final: dict, at: dict) -> None:
        """`_write_back_swaps` of a permutation of order L > 2 (`a, b, c = b, c,
        a`) in a loop of a run-time trip count T: after it name n holds the
        array `powers[T % L][n]` entered with, so the array m entered with
        takes the contents of the name holding it, and each name is bound to
        its array by one traced `if` per remainder but the first (each a
        link, tracer/array.py, so later writes through a name reach it)."""
        from .carries import _trip_count

        it, names = self.it, list(powers[0])
        rem = sem.ufunc("remainder", _trip_count(it.start, it.stop, it.step), len(powers))
        at_r = [sem.ufunc("equal", rem, r) for r in range(len(powers))]
        for m in names if self.swaps_written else ():
            new = final[m]
            for r in range(1, len(powers)):
                holder = next(n for n in names if powers[r][n] == m)
                new = sem.select(at_r[r], final[holder], new)
            _rebound(entry[m], sem.as_value(new, entry[m].dtype))
        get, put = self._named_slots(names, at)
        put(tuple(entry[n] for n in names))  # (T % L == 0: each its own array)
        for r in range(1, len(powers)):
            if_(Tracer(at_r[r].value, weak=True), lambda r=r: put(tuple(entry[powers[r][n]] for n in names)),
                lambda: None, get, put, tuple(names))

    def _rebind(self, objs: dict, at: dict) -> None:
        vals = list(self.get())
        for n, o in objs.items():
            vals[at[n]] = o
        self.set(tuple(vals))

    def _seen_elsewhere(self, name: str) -> str | None:
        """What, besides `name`, can see the array `name` entered the loop
        with (in words), or None where nothing else can."""
        entry = self.entry[name]
        st = ctx.state()
        box = _root(entry)._box
        if entry.base is not None:
            return "a view of another array"
        if id(box) in st.arg_boxes:
            return "an argument array"
        if id(box) in st.foreign_boxes:
            return "an array the calling function passed in (or a closure holds)"
        # no scope: no variable of the function outside the loop reads anything (convert._others)
        others = [(m, v) for m, v in self.entry.items() if m != name] + \
            (sorted(self.scope().items()) if self.scope is not None else [])
        holder = next((m for m, v in others if _holds(v, box)), None)
        return f"an array that `{holder}` also refers to" if holder is not None else None

    def _check_detached(self, specs: dict, body: Region, cond: Region | None) -> None:
        """After `_detach`: the loop must not reach a left-behind array through
        another name, and a carried name must leave an iteration holding an
        array made in it (not one from outside the loop, which the next
        iteration's writes through the name would have to change too)."""
        for frame in [body.frame] + ([cond.frame] if cond is not None else []):
            for key in self.detached:
                if key in frame.captured:
                    raise UnsupportedError(
                        f"`{self.detached[key]}` is written in place and rebound inside this loop, and the "
                        "loop also reads or writes the array it entered with through another name; "
                        "looptrace cannot follow which array each iteration writes", self.loc,
                        f"write `{self.detached[key]} = {self.detached[key]}.copy()` before the loop")
        carried = set(self.detached.values())
        for n, exit_obj in zip(self.names, body.raw_exits):
            if n in carried and is_tracer(exit_obj) and exit_obj.ndim > 0 \
                    and not body.frame.owns(_root(exit_obj)._box):
                raise UnsupportedError(
                    f"`{n}` is set to an array from outside this loop while the loop writes the arrays "
                    "its variables hold in place; looptrace cannot follow which array each iteration "
                    "writes", self.loc, f"write `{n} = <that array>.copy()`")

    def _discard(self, body: Region, cond: Region | None) -> None:
        pass  # the frames were popped and boxes restored; their blocks are dropped

    # building the op ---------------------------------------------------------------------------
    def _finish(self, specs: dict, body: Region, cond: Region | None) -> None:
        carried_boxes, invariant = self._carried_boxes(body, cond)
        self.wrote_boxes = bool(carried_boxes)
        name_inits, name_results = self._name_values(specs, body)
        box_inits = [entry for _, entry, _ in carried_boxes]
        box_args_body = [body.frame.captured[id(b)][2] for b, _, _ in carried_boxes]
        box_results = [b.value_at_exit for b, _, _ in carried_boxes]
        body_args = body.name_args + box_args_body
        ys = [lst.stacked_value for lst in self._stacked_lists(specs, body)]
        self.kept = self._kept_names(specs)
        self.no_trip = self._no_trip()
        if not surely_runs(self):
            for n in self.names:
                self._shape_needs_a_trip(n, specs[n], self.entry[n])
        body.frame.block.args = ([body.index] if body.index is not None else []) + body_args
        if self.is_while:
            outs = self._emit_while(body, cond, carried_boxes, name_inits + box_inits,
                                    name_results + box_results)
        else:
            body.frame.block.results = name_results + box_results + ys
            outs = self._emit_for(body, name_inits + box_inits, ys)
        # only now, with every result chosen (an exit value may be the argument itself: `v = s`,
        # `v = s.copy()`, whose copy shares the array until written) and every conversion of one
        # emitted, can the arguments of arrays the loop only reads become their outer values
        for region, mapping in zip((body, cond), invariant):
            if region is not None:
                substitute(region.frame.block, mapping)
        n_names = len(name_inits)
        self._bind_outputs(specs, body, outs[:n_names], outs[n_names:n_names + len(carried_boxes)],
                           carried_boxes, outs[n_names + len(carried_boxes):])

    def _carried_boxes(self, body: Region, cond: Region | None) -> tuple[list, tuple[dict, dict]]:
        """Boxes written in the body (carried), in a stable order, and per
        region (body, cond) the substitution that makes the block argument of
        each box only read (loop-invariant) its outer value. The caller
        applies it once the blocks' results are final: a result may be such
        an argument."""
        carried, invariant = [], {}
        for key, (box, entry, arg) in list(body.frame.captured.items()):
            exit_value = body.box_exits.get(key, arg)
            if exit_value is arg:
                invariant[arg.id] = entry
            else:
                box.value_at_exit = exit_value
                carried.append((box, entry, arg))
        cond_invariant = self._align_cond(cond, carried) if cond is not None else {}
        return carried, (invariant, cond_invariant)

    def _align_cond(self, cond: Region, carried: list) -> dict:
        """Give the condition block an argument per carried box (in `carried`'s
        order); return the substitution of its arguments of boxes the body
        does not write."""
        carried_ids = {id(b) for b, _, _ in carried}
        invariant = {arg.id: entry for key, (_, entry, arg) in cond.frame.captured.items() if key not in carried_ids}
        cond.box_args = [cond.frame.captured[id(box)][2] if id(box) in cond.frame.captured
                         else Value(entry.dtype, entry.shape) for box, entry, _ in carried]
        return invariant

    def _name_values(self, specs: dict, body: Region) -> tuple[list[Value], list[Value]]:
        inits, results = [], []
        for n, exit_obj, raw in zip(self.names, body.exits, body.raw_exits):
            spec = specs[n]
            inits += spec.init_values(self, n)
            results += spec.result_values(self, body, exit_obj, raw) if getattr(spec, "outer", ()) else \
                spec.result_values(self, body, exit_obj)
        return inits, results

    def _stacked_lists(self, specs, body):
        return [specs[n].list_state for n in self.names
                if specs[n].kind == "list-stack" and specs[n].list_state.stacked_value is not None]

    def _emit_for(self, body: Region, inits: list[Value], ys: list[Value]) -> list[Value]:
        start, stop, step = self.it.bounds()
        n_carry = len(inits)
        outs = [Value(v.dtype, v.shape) for v in body.frame.block.results[:n_carry]]
        trip = self.it.trip_dim()
        outs += [Value(y.dtype, (trip,) + tuple(y.shape)) for y in ys]
        op = Op(prim("for_loop"), (start, stop, step, *inits), tuple(outs),
                {"loop": self.loop_info}, self.loc or ctx.current_loc(), (body.frame.block,))
        ctx.state().frame.block.ops.append(op)
        return outs

    def _emit_while(self, body, cond, carried_boxes, inits, results) -> list[Value]:
        cond_args = cond.name_args + cond.box_args
        body_results = list(results)
        idx_init = []
        if self.it is not None:
            cond_args = [cond.index] + cond_args
            body_results = [body.extra] + body_results
            idx_init = [self.it.bounds()[0]]
        cond.frame.block.args = cond_args
        cond.frame.block.results = [cond.extra]
        body.frame.block.results = body_results
        all_inits = idx_init + inits
        outs = [Value(v.dtype, v.shape) for v in all_inits]
        op = Op(prim("while_loop"), tuple(all_inits), tuple(outs), {"loop": self.loop_info},
                self.loc or ctx.current_loc(), (cond.frame.block, body.frame.block))
        ctx.state().frame.block.ops.append(op)
        return outs[len(idx_init):]

    def _same_array_each_time(self, raw: Any) -> bool:
        """Does a name leave every iteration holding the same array object from
        outside the loop (`v = s`), or a view of one with a static index
        (`v = s[...]`, `v = s[1:].T`)? Then, as in Python, it still refers to
        that array after a loop that surely runs, and sees (and makes) later
        writes to it; the loop's output for the name is not read. Names the
        loop rebinds are fresh values in the body, so an outer object here is
        reached through names the loop leaves alone: it is loop-invariant."""
        if not surely_runs(self):
            return False  # the name may keep its value from before the loop
        x = raw
        while is_tracer(x) and x.base is not None:
            if _holds_tracer(x.index):  # `s[i]`: another view each iteration
                return False
            x = x.base
        return is_tracer(x) and ctx.visible(x._box.frame, ctx.state().frame)

    def _kept_names(self, specs: dict) -> list[str]:
        """Names carried by value that enter the loop holding an array
        something else also sees (an argument, another name): where the loop
        runs no iteration, the name still holds that array after it, as in
        Python, and writes through it must reach it."""
        if surely_runs(self):
            return []
        return [n for n in self.names if specs[n].kind not in ("alias", "temp") and is_tracer(self.entry[n])
                and (self.entry[n].ndim > 0 or self.entry[n].array0d) and self._seen_elsewhere(n) is not None]

    def _no_trip(self) -> Any:
        """Where `kept` has names: True or False where it is known whether the
        loop runs no iteration, else the traced bool Value that says so
        (emitted before the loop op), or None where looptrace cannot tell."""
        if not self.kept:
            return False
        return self._no_trip_now()

    def _no_trip_now(self) -> Any:
        """Whether the loop runs no iteration (see _no_trip), emitted here."""
        it = self.it
        if it is not None and self.cond_fn is None and it.static_len is not None:
            return it.static_len == 0
        with ctx.at(self.loc):
            if it is not None and self.cond_fn is None:
                runs = it.in_range(it.bounds()[0])  # (a `break` stops a loop only after an iteration)
            else:
                try:  # a while loop: its condition, on the values the names enter with
                    runs = self.cond_fn()
                except Exception:
                    return None
            runs = _as_bool(runs)
            return not_(runs).value if is_tracer(runs) else not runs

    def runs(self) -> Any:
        """Does the loop run an iteration: True, False, a traced bool (emitted
        here, after the loop op: it reads the values the names entered with),
        or None where looptrace cannot tell (carries.ValueSpec's type tag)."""
        if "_runs" in self.__dict__:
            return self._runs
        it = self.it
        if it is not None and self.cond_fn is None and it.static_len is not None:
            self._runs = it.static_len > 0
            return self._runs
        with ctx.at(self.loc):
            if it is not None and self.cond_fn is None:
                runs = it.in_range(it.bounds()[0])  # (a `break` stops a loop only after an iteration)
            elif getattr(self, "wrote_boxes", True):
                # the condition may read an array the loop wrote: it reads its new contents now, so only
                # a condition that is a Python True whatever the arrays hold tells (`while True:`)
                runs = True if self._constant_cond() is True else None
            else:
                saved = self.get()
                try:  # a while loop: its condition, on the values the names enter with
                    self.set(tuple(self.entry[n] for n in self.names))
                    runs = self.cond_fn()
                except Exception:
                    runs = None
                finally:
                    self.set(saved)
            runs = _as_bool(runs) if runs is not None else None
        self._runs = runs if is_tracer(runs) or runs is None else bool(runs)
        return self._runs

    def _constant_cond(self) -> Any:
        """The while condition on the names' entry values, where it is a
        Python value (None where it is traced or fails)."""
        saved = self.get()
        try:
            self.set(tuple(self.entry[n] for n in self.names))
            c = self.cond_fn()
            return None if is_tracer(c) else bool(c)
        except Exception:
            return None
        finally:
            self.set(saved)

    def _kept_after(self, name: str, after: Any) -> Any:
        """The value of `name` after the loop, given `after`, the loop's output
        for it: the array it entered with where no iteration ran (`_no_trip`)."""
        from .array import link

        entry = self.entry[name]
        if name not in self.kept or self.no_trip is False or not is_tracer(after) or after is entry:
            return after
        if self.no_trip is True:
            return entry
        if self.no_trip is None or entry.base is not None:
            link(_root(after)._box, None, None, False)  # writes through the name are refused
        else:
            link(_root(after)._box, _root(entry)._box, self.no_trip, True)
        return after

    def _link_if_it_ran(self, after: Any, raw: Any) -> None:
        """A name every iteration leaves bound to one array from before the
        loop (`b = y`, then `for ...: b = x`), where the loop may run no
        iteration: after it, the name is x where the loop ran (`_kept_after`:
        its entry array where not). Was the loop's copy of x there: a write
        through the name after the loop missed x (WRONG silently until s56)."""
        from .array import link

        if not (is_tracer(after) and is_tracer(raw) and after.base is None and raw.base is None
                and raw is not after and (raw.ndim > 0 or raw.array0d)
                and ctx.visible(raw._box.frame, ctx.state().frame)):
            return
        no_trip = self._no_trip_now()
        if no_trip is None:
            link(after._box, None, None, False)  # writes through the name are refused
        elif no_trip is not True and no_trip is not False:
            link(after._box, raw._box, no_trip, False)

    def _link_exit(self, out: Any, raw: Any, body: Region, name: str) -> None:
        """A name the body left bound to an array that a traced `if` linked to
        one from outside the loop, or to the one the name held when the
        iteration began (`if c: v = v * 2` in the body): after the loop it is
        that array, or the one the name entered the loop with, where no
        iteration rebound it, which looptrace does not carry. Writes into
        either while the name holds its array are refused (tracer/array.py's
        `link`)."""
        from .array import link, linked_boxes

        if not (is_tracer(out) and is_tracer(raw) and out is not raw and raw.base is None and raw._box.links):
            return
        linked = linked_boxes(raw._box)
        outer = [b for b in linked if not body.frame.owns(b)]
        began, entry = body.bound.get(name), self.entry.get(name)
        if is_tracer(began) and is_tracer(entry) and (entry.ndim > 0 or entry.array0d) \
                and any(b is _root(began)._box for b in linked):
            outer.append(_root(entry)._box)
        if outer:
            root = _root(out)
            link(root._box, None, None, False)
            for b in outer:
                link(b, None, None, False, weakref.ref(root))

    def _shape_needs_a_trip(self, name: str, spec: Any, entry: Any) -> None:
        """A name whose shape an iteration grows (`acc = 0.0`, then `acc = acc +
        A[i]`, a row) is carried at the grown shape, its shape after the loop
        only where an iteration ran: after none Python leaves it the entry's
        value and shape, which one compiled loop cannot give back. Where the
        run decides whether the loop runs, a run of zero trips raises a clear
        error (never a silently wrong shape)."""
        if isinstance(spec, TupleSpec):  # (a tuple, a list or dict carried item by item)
            for child, sub, sub_name, _ in spec._parts(self, name):
                self._shape_needs_a_trip(sub_name, child, sub.entry[sub_name])
            return
        if not isinstance(spec, ValueSpec) or spec.zero_init or \
                not (is_tracer(entry) or isinstance(entry, (numbers.Number, np.generic, np.ndarray))):
            return
        if tuple(entry.shape if is_tracer(entry) else np.shape(entry)) == tuple(spec.shape):
            return
        if "_none_ran" not in self.__dict__:  # (before the loop op: a while test reads the entry values)
            self._none_ran = self._no_trip_now()
        none_ran = self._none_ran
        if none_ran is False:
            return
        from .checks import emit_check

        exc = UnsupportedError(
            f"`{name}` enters this loop with shape {tuple(np.shape(entry)) if not is_tracer(entry) else entry.shape} "
            f"and an iteration makes it {tuple(spec.shape)}; this run of the loop made no iteration, after which "
            f"Python leaves `{name}` its entry value and shape, which the compiled loop cannot give back",
            self.loc, f"give `{name}` its loop shape before the loop (`{name} = np.zeros({tuple(spec.shape)})`)")
        if not isinstance(none_ran, Value):  # (None: looptrace cannot tell, a while test that fails on them)
            exc.problem = exc.problem.replace("this run of the loop made no iteration", "the loop may make none")
            exc.args = (format_message(exc.problem, exc.loc, exc.hint),)
            raise exc
        with ctx.at(self.loc):
            emit_check(Tracer(none_ran), exc)

    def _bind_outputs(self, specs, body, name_outs, box_outs, carried_boxes, ys) -> None:
        from .array import note_write

        for (box, _, _), out in zip(carried_boxes, box_outs):
            ctx.touch(box)
            note_write(box)
            box.set(out)
        final = []
        pos = 0
        never = self.it is not None and self.it.static_len == 0
        for n, raw in zip(self.names, body.raw_exits):
            spec = specs[n]
            k = spec.n_values()
            after = spec.after_loop(self, n, name_outs[pos:pos + k])
            entry = self.entry[n]
            if never and n in (returns.FLAG, returns.SLOT):
                # no iteration: nothing returned in the loop, known while tracing, so the code after it
                # runs as Python (the return slot's type is not joined with the loop's `return`)
                after = entry
            elif never and self.cond_fn is None and is_tracer(after) and after.ndim == 0 and not after.array0d and \
                    (is_tracer(entry) or isinstance(entry, (numbers.Number, np.generic))):
                # no iteration, known while tracing: the name keeps its value and its type (`q = 0` a
                # Python int, not the int32 an iteration `q = q + b[i]` would have made it)
                after = entry if is_tracer(entry) else sem.wrap(sem.as_value(entry), weak=sem.is_weak(entry))
            if is_tracer(after) and self._same_array_each_time(raw):
                final.append(raw)
            elif getattr(spec, "outer", ()):  # (linked to the arrays it may be: ValueSpec.after_loop)
                final.append(after)
                pos += k
                continue
            else:
                final.append(self._kept_after(n, after))
            self._link_exit(final[-1], raw, body, n)
            if final[-1] is after:
                self._link_if_it_ran(after, raw)
            pos += k
        stacked = iter(ys)
        for state in self._stacked_lists(specs, body):
            state.spec.finish_stacked(next(stacked), self)
        self.set(tuple(final))
