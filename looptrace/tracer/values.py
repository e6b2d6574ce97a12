"""Python-level objects the runtime helpers pass around: unbound-name markers,
values that may be None at run time, generator tracers, and the segments a
list grown in a loop holds afterwards."""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import TraceError
from looptrace.ir.core import SourceLoc, Value

from . import context as ctx


class Unbound:
    """What `ld` returns for a name that has no value yet."""

    def __repr__(self) -> str:
        return "<unbound>"


UNBOUND = Unbound()


class Undefined:
    """Bound to a name that may be unassigned on some path; any use raises."""

    __slots__ = ("name", "loc", "bounds", "certain", "peel")

    def __init__(self, name: str, loc: SourceLoc | None, bounds: tuple = (), certain: bool = False,
                 peel: bool = False):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "loc", loc)
        # unassigned before a loop whose body reads it (`if i == 0: acc = x[0] else: acc = f(acc)`): the
        # first iteration runs on its own (control._run_peeling), where it is assigned, or raises there
        object.__setattr__(self, "peel", peel)
        # the traced bounds of the loop that may run zero times: where they come from int arguments,
        # the function is traced again with those static (specialize.py), and then the loop surely runs
        object.__setattr__(self, "bounds", bounds)
        # unassigned on every path here (a loop known to run no iteration): Python's UnboundLocalError
        # where it is used (a run-time raise where that code is under a traced condition: checks.py)
        object.__setattr__(self, "certain", certain)

    def _fail(self, *args, **kwargs):
        if self.peel:
            from .carries import UnboundBeforeLoop

            raise UnboundBeforeLoop(self.name, self.loc)
        if self.certain:
            raise UnboundLocalError(f"cannot access local variable '{self.name}' where it is not associated "
                                    "with a value")
        loc = ctx.current_loc()
        if loc.line == 0 and self.loc is not None:
            loc = self.loc  # no user frame on the stack: point at the `if` or loop
        message = (f"`{self.name}` is used before it is assigned on some path "
                   "(a loop that may run zero times, or one branch of an `if`)")
        hint = f"assign `{self.name}` before the loop or in both branches"
        if self.bounds:
            from looptrace.errors import ConcreteIndexError

            from .static import concrete_error

            e = concrete_error(self.bounds, message, hint, cls=ConcreteIndexError)
            e.loc = loc
            raise e
        raise TraceError(message, loc, hint)

    __getattr__ = __call__ = __getitem__ = __setitem__ = __iter__ = __len__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _fail
    __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = __bool__ = _fail
    __lt__ = __le__ = __gt__ = __ge__ = __array__ = __float__ = __int__ = _fail


class MaybeBound(Undefined):
    """A name assigned on some paths only, chosen at run time (`if c: t = ...`
    with a traced c; a loop whose body assigns it under a condition, the
    for/else search): its value where assigned (zeros elsewhere) and `flag`,
    a traced bool, true where it is. Read by the user's code (convert.py
    wraps such names' loads in `bound`), it is its value behind a run-time
    check that raises Python's UnboundLocalError where the flag is false;
    merges and loops carry value and flag as they are (merge.pair_up,
    carries.BoundSpec)."""

    __slots__ = ("value", "flag")

    def __init__(self, name: str | None, loc: SourceLoc | None, value: Any, flag: Any):
        Undefined.__init__(self, name, loc)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "flag", flag)

    def resolve(self) -> Any:
        from . import semantics as sem
        from .array import is_tracer
        from .checks import emit_check

        flag = self.flag
        if is_tracer(flag):
            emit_check(sem.ufunc("logical_not", flag),
                       UnboundLocalError(f"cannot access local variable '{self.name}' where it is not "
                                         "associated with a value"))
        elif not flag:
            self._fail()
        return self.value

    def _resolved(name: str):  # arithmetic on the raw name (`t += 1`): the read, then the operation
        def op(self, *args):
            return getattr(self.resolve(), name)(*args)
        return op

    for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                  "__rtruediv__", "__neg__", "__getitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__",
                  "__lt__", "__le__", "__gt__", "__ge__", "__matmul__", "__pow__"):
        locals()[_name] = _resolved(_name)
    del _name, _resolved


class MaybeNone:
    """A value that is None at run time unless `flag` (a traced bool) holds:
    a name set to None on one side of a traced `if` and to a number or array
    on the other (merge.pair_up), carried through loops as value and flag
    (carries.OptionalSpec), and the traced function's result where it may be
    None (merge.returned; trace.py `_flatten_output` makes it None at run
    time). `value` is zeros where the flag is false: a read of the name
    (`bound`, and the operators below for an unconverted one) is the value
    behind a run-time check that raises Python's TypeError there; `x is None`
    tests the flag (`is_none`). Build one with `maybe_none`."""

    __slots__ = ("flag", "value", "name")

    def __init__(self, flag: Any, value: Any, name: str | None = None):
        self.flag, self.value, self.name = flag, value, name

    def __repr__(self) -> str:
        return f"<{self.value!r} or None>"

    def resolve(self) -> Any:
        """The value, where Python would use it (`found + 1`, `x[idx]`): a
        run-time TypeError where it is None."""
        from . import semantics as sem
        from .checks import emit_check, known_true

        if known_true(self.flag):  # (`if k is not None: ...k...`, after `if k is None: return -1`)
            return self.value
        what = f"`{self.name}`" if self.name else "a value"
        emit_check(sem.ufunc("logical_not", self.flag),
                   TypeError(f"{what} is None here, where this line uses it as a number or array "
                             "('NoneType' object in an operation)"))
        return self.value

    def __bool__(self):
        from looptrace.errors import UnsupportedError

        raise UnsupportedError("the truth value of a name that may be None at run time is not supported",
                               ctx.current_loc(), "test it with `x is None` / `x is not None`")

    def _resolved(name: str):  # an unconverted use (`t[0] + 1` of a returned tuple): the read, then the op
        def op(self, *args):
            return getattr(self.resolve(), name)(*args)
        return op

    for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                  "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__neg__",
                  "__getitem__", "__lt__", "__le__", "__gt__", "__ge__", "__matmul__", "__rmatmul__", "__pow__",
                  "__rpow__", "__float__", "__int__", "__index__", "__abs__"):
        locals()[_name] = _resolved(_name)
    del _name, _resolved

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(x.resolve() if isinstance(x, MaybeNone) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)


def maybe_none(flag: Any, value: Any, name: str | None = None) -> Any:
    """`value` where `flag` holds, None elsewhere: a MaybeNone where the flag
    is traced, the one or the other where it is a Python bool."""
    from .array import is_tracer

    if isinstance(value, MaybeNone):  # (None also where the value's own flag does not hold)
        if is_tracer(flag) and is_tracer(value.flag):
            from . import semantics as sem

            flag = sem.wrap(sem.ufunc("logical_and", flag, value.flag).value, weak=True)
        elif not is_tracer(flag):
            flag = value.flag if flag else False
        value = value.value
    if not is_tracer(flag):
        return value if flag else None
    return MaybeNone(flag, value, name)


def bound(x: Any, name: str = "", keep_none: bool | str = False) -> Any:
    """A read of a name that may be unassigned on some paths (convert.py):
    unassigned on this path for certain (a loop's first iteration run on its
    own, control._peel_first), Python's UnboundLocalError. A name that may be
    None (MaybeNone) is its value behind a check, except where Python only
    passes the object on (`keep_none`: `y = x`, `return x`, `x is None`), or
    an index, where None is np.newaxis (`keep_none="index"`: refused)."""
    if x is UNBOUND:
        raise UnboundLocalError(f"cannot access local variable '{name}' where it is not associated with a value")
    if isinstance(x, MaybeNone):
        from .checks import known_true

        if keep_none == "index" and known_true(x.flag):
            return x.value
        if keep_none == "index":
            from looptrace.errors import UnsupportedError

            raise UnsupportedError(f"`{name}` may be None at run time, and indexing with None adds an axis "
                                   "(np.newaxis): the result's shape would depend on the data",
                                   ctx.current_loc(), f"test `{name} is None` before indexing with it")
        return x if keep_none else x.resolve()
    return x.resolve() if isinstance(x, MaybeBound) else x


def is_none(x: Any, negate: bool = False) -> Any:
    """`x is None` (`x is not None` with `negate`): a traced bool for a
    MaybeNone, Python's test otherwise."""
    if isinstance(x, MaybeNone):
        from . import semantics as sem
        from .array import Tracer

        from .checks import imply

        flag = Tracer(sem.as_value(x.flag, np.bool_), weak=True)
        if negate:
            return flag
        out = Tracer(sem.ufunc("logical_not", flag).value, weak=True)
        imply(out, False, (flag, True)), imply(out, True, (flag, False))
        return out
    return (x is not None) if negate else (x is None)


def is_bool(x: Any, value: bool, negate: bool = False) -> Any:
    """`x is True` / `x is False` (`is not` with `negate`): of a traced
    Python bool its value, a traced bool; any other traced value (a NumPy
    bool, a number, an array) is neither singleton, as in plain Python."""
    from .array import Tracer, is_tracer

    if not is_tracer(x):
        return (x is not value) if negate else (x is value)
    if not (x.weak and x.ndim == 0 and x.dtype == np.bool_):
        return negate
    if value != negate:
        return x
    from . import semantics as sem

    return Tracer(sem.ufunc("logical_not", x).value, weak=True)


class RngTracer:
    """A traced `np.random.Generator`: a box holding its state token, so
    draws are ordered and carried through loops like any in-place write."""

    def __init__(self, value: Value):
        self._box = ctx.Box(value, ctx.state().frame)

    @property
    def token(self) -> Value:
        ctx.touch(self._box)
        return self._box.value

    def advance(self, token: Value) -> None:
        from .array import note_write

        ctx.touch(self._box)
        note_write(self._box)
        self._box.set(token)

    def __getattr__(self, name: str) -> Any:
        from . import random as rnd

        method = rnd.METHODS.get(name)
        if method is None:
            from looptrace.errors import UnsupportedError

            raise UnsupportedError(f"Generator.{name} is not supported inside a traced function",
                                   ctx.current_loc(), "supported: " + ", ".join(sorted(rnd.METHODS)))
        return lambda *a, **k: method(self, *a, **k)


class Segment:
    """Elements a loop appended to a list: `value` stacks them on axis 0;
    `count` (a Tracer) is their run-time number when it is data-dependent."""

    def __init__(self, value: Value, count: Any = None, weak: bool = False, fields: int | None = None,
                 mixed: bool = False):
        self.value = value
        self.count = count
        self.weak = weak  # Python numbers were appended: each element reads back as one
        self.fields = fields  # tuples of this many numbers were appended: each row reads back as a tuple
        self.mixed = mixed  # ... of different types (`(i, x[i])`): stacked as one dtype, not read back
        self.bounds: list = []  # the traced bounds of the loop whose trip count is its length
        self.loc = None  # the line of its first append (errors about the list name it)
        # with a count: every run appends at least one element (an append outside any branch of a
        # loop that runs at least once: carries.ListSpec.after_loop)
        self.nonempty = False

    def static_length(self, what: str) -> int:
        """Its number of elements where `what` needs it while tracing; where
        the loop's trip count is traced, an error that specializes on the int
        arguments it comes from (specialize.py)."""
        n = self.value.shape[0]
        if isinstance(n, int):
            return n
        from .static import UnsupportedConcrete, concrete_error

        raise concrete_error(self.bounds, f"{what} of a list appended to in a loop whose number of "
                             "iterations is known only at run time", "pass the count in static_argnames, "
                             "or fill a preallocated array", cls=UnsupportedConcrete)

    def __repr__(self) -> str:
        """Its elements' text, as the list's repr shows them (grown.text), where
        the user's code turns the list into text while tracing; looptrace's
        own messages name it."""
        import sys

        from .printing import _state, _users_call

        caller = sys._getframe(1)
        if ctx.tracing() and (_state().formatting or _users_call(caller)):
            from .grown import text

            return text(self, caller)
        return f"<{self.value.shape[0]} elements appended in a loop>"

    def __eq__(self, other: Any) -> bool:
        """Reached by Python's own list comparison (`==` in a chain, `<`,
        list.index/count of a library): it would compare this object, not
        the elements it holds. `a == b` in the user's code goes to
        grown.equal (convert.py, runtime.eq) instead."""
        from looptrace.errors import UnsupportedError

        raise UnsupportedError("comparing a list held as one array (a loop's appends, x.tolist(), a list argument "
                               "of numbers) this way is not supported: looptrace holds its elements as one array",
                               ctx.current_loc(), "compare with a single == or !=, or compare arrays: "
                               "np.array_equal(np.array(a), np.array(b))")

    __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = object.__hash__

    def _in_place(self, *args, **kwargs):
        from looptrace.errors import UnsupportedError

        raise UnsupportedError("an element of a list grown in a traced loop is changed in place (`lst[k] += v`); "
                               "looptrace holds the appended values stacked in one array, so the write would "
                               "not reach the list", ctx.current_loc(),
                               "append the final values, or make an array first (a = np.array(lst)) and write "
                               "into it")

    __iadd__ = __isub__ = __imul__ = __itruediv__ = __ifloordiv__ = __imod__ = __ipow__ = _in_place
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _in_place
    __setitem__ = __getitem__ = _in_place
