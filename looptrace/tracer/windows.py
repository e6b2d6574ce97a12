"""Windows: slices with a traced start and a static length, `x[s:s + k]`.

NumPy shortens a slice that runs past the end of its axis (and gives an empty
one from s = n on). looptrace compiles static shapes, so a window keeps its
length k: used as an array, it is the checked `dynamic_slice`, which raises
IndexError at run time where NumPy would have shortened it (saying so).

Where the window feeds a reduction over its own axis, the shortened length is
never needed, and the answer is exactly NumPy's for every start s >= 0: the
reduction runs over the k positions s, s+1, ..., read at an index clamped into
the axis, with the positions past the end left out (`where=`), i.e. pad and
mask, on the machinery of boolean-mask reads (masked.MaskedSelection):
  - x[s:s+k].sum(), .prod(), .mean(), .var(ddof=...), .std(), .any(), .all(),
    and the np.* functions of the same names;
  - .max() / .min(): exact while s < n; from s = n on NumPy raises ValueError
    (an empty reduction), and so does the compiled code;
  - elementwise arithmetic keeps a window a window (`(x[s:s+k] ** 2).sum()`,
    `np.abs(x[s:s+k] - m).max()`, `x[s:s+k] * y[s:s+k]` for equally long axes),
    as long as the other operands are scalars or broadcast against the
    window's trailing axes, as the shortened array would.
  - np.median, np.percentile, np.quantile (and their nan forms), where the
    start may be negative (`Origin.may_be_negative`): np.median(x[i - 1:i])
    at i = 0 is NaN, of NumPy's empty x[-1:0].
A window over axis 0 only (`x[s:s+k]`, `x[s:s+k, :]`); a negative start counts
from the end as in NumPy (x[i - 1:i + 2] at i = 0 is empty) for reductions, and
raises SliceOverrunError (an IndexError) at run time for a write. Read as an
array at s = -1, a window of length 1 raises IndexError (indexing._pair_start),
where one element read at s would be x[-1].

Invariant: a Window is a Tracer (a view, or a fresh result) in every other
use, so nothing that worked before changes; the masked form is built only by
the reductions above, and its ops are dead code otherwise.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from looptrace.ir.core import SourceLoc

from . import context as ctx
from . import masked
from . import semantics as sem
from .array import Tracer, is_tracer

_REDUCTIONS = ("sum", "prod", "max", "min", "all", "any", "mean", "var", "std")
# order statistics: of the masked form where the start may be negative (`_ordered`)
_ORDER = ("median", "nanmedian", "percentile", "nanpercentile", "quantile", "nanquantile")
_FUNCTIONS = {"sum": "sum", "prod": "prod", "max": "max", "amax": "max", "min": "min", "amin": "min",
              "all": "all", "any": "any", "mean": "mean", "var": "var", "std": "std"}


class Origin:
    """What the masked form of a window needs: the start, the axis length,
    the window length and the axis it slices (windows combine elementwise only
    when all four agree)."""

    __slots__ = ("start", "n", "k", "loc", "axis")

    def __init__(self, start: Tracer, n: int, k: int, loc: SourceLoc, axis: int = 0):
        self.start, self.n, self.k, self.loc, self.axis = start, n, k, loc, axis

    def same(self, other: "Origin") -> bool:
        return self.n == other.n and self.k == other.k and self.axis == other.axis and \
            masked.same_value(self.start.value, other.start.value)

    def bounds(self) -> tuple[Tracer, Tracer]:
        """NumPy's [first, end) of x[s:s + k] for s of either sign: a negative
        bound counts from the end, then both are clipped into [0, n]
        (x[i - 1:i + 2] at i = 0 is x[-1:2], empty where n >= 3)."""
        def normal(b: Tracer) -> Tracer:
            b = sem.select(b < 0, b + self.n, b)
            return sem.ufunc("minimum", sem.ufunc("maximum", b, 0), self.n)

        return normal(self.start), normal(self.start + self.k)

    def selection(self, base: Tracer) -> masked.MaskedSelection:
        """base[s:s+k] padded and masked: position j is first + j, read at
        min(first + j, n - 1), taken while first + j < end."""
        from looptrace.ops import get as prim

        from . import numpy_api as nx

        first, end = self.bounds()
        negative = self.start < 0  # (a start the loop bounds keep >= 0 folds this away: vectorize/bounds.py)
        pos = nx.arange(self.k) + sem.select(negative, first, self.start)
        rows = sem.ufunc("minimum", pos, self.n - 1)
        data = sem.wrap(ctx.emit1(prim("gather"), [base.value, sem.as_value(rows, np.int64)], axis=self.axis))
        taken = sem.ufunc("logical_and", pos < self.n,
                          sem.ufunc("logical_or", sem.ufunc("logical_not", negative), pos < end))
        return masked.MaskedSelection(data, taken, self.loc, axis=self.axis)

    def may_be_negative(self) -> bool:
        """May the start be negative (by the ranges of loop indices and
        constants, varying._interval)? There NumPy counts it from the end and
        clips the stop: x[i - 1:i] at i = 0 is x[-1:0], empty."""
        from .varying import _interval

        found = _interval(self.start.value)
        return found is None or found[0] < 0

    def check_start(self) -> None:
        from looptrace.errors import SliceOverrunError

        from .checks import emit_check

        emit_check(self.start < 0, SliceOverrunError(
            f"a slice [start:start + {self.k}] written with a negative traced start: NumPy would count it "
            "from the end, looptrace writes a window from a start >= 0 only", self.loc,
            "write with max(start, 0) (or guard the write with `if start >= 0:`)"), self.loc)

    def check_length(self) -> None:
        """The window's length read as a number (`len(xb)`, `xb.shape[0]`):
        k is NumPy's only while the slice fits; where it does not, raise
        rather than give k (a short last mini-batch)."""
        check_fits(self.start, self.n, self.k, self.axis, self.loc)

    def check_nonempty(self, name: str) -> None:
        from .checks import emit_check

        what = {"max": "maximum", "min": "minimum"}[name]
        first, end = self.bounds()
        emit_check(first >= end, ValueError(
            f"zero-size array to reduction operation {what} which has no identity"), self.loc)


def check_fits(start: Tracer, n: int, k: int, axis: int, loc: SourceLoc | None) -> None:
    """At run time, SliceOverrunError (an IndexError) where x[start:start + k]
    along an axis of n does not fit: NumPy would give a shorter (or, from a
    negative start, another) slice than the static k elements."""
    from looptrace.errors import SliceOverrunError
    from looptrace.ops import get as prim
    from looptrace.ops.check import Failure

    last_iterations(start, n, k, loc)
    # NumPy's slice has k elements from a start in [0, n - k], or, counted from the end, in [-n, -k - 1]
    # (x[-2:-1] is one element, x[-1:0] none)
    bad = sem.ufunc("logical_and", sem.ufunc("logical_or", start < 0, start > n - k),
                    sem.ufunc("logical_or", start < -n, start > -k - 1))
    message = (f"the slice [{{value}}:{{value}} + {k}] runs past the end of axis {axis} (size {n}) (from a "
               f"negative start: past its last element, or before its first); NumPy would shorten it, but a "
               f"traced slice keeps its static length {k}, which its shape (or len()) says: stop the loop where "
               "the last slice fits (range(0, n - k + 1, k)), pad the array (np.pad), or compute the length as "
               "min(k, n - start)")
    failure = Failure(SliceOverrunError(""), loc, message)
    ctx.emit(prim("check"), [sem.as_value(bad, np.bool_), sem.as_value(sem.astype(start, np.int64), np.int64)],
             loc, failures=(failure,))


# at most this many last iterations of a loop run on their own for a slice NumPy shortens there
PEEL_LAST = 4


def last_iterations(start: Tracer, n: int, k: int, loc) -> None:
    """A start that a counted loop's index moves (`x[s:s + bs]` for s in
    range(0, n, bs)) and that fits in every iteration but the last few:
    those run on their own (control._peel_last), their slices static and
    shortened as NumPy's. Raises LastOverruns for that loop."""
    from .carries import LastOverruns

    st = ctx.state()
    for index, it, loop in reversed(st.counted):
        ab = _affine(start.value, index, st.producers)
        if ab is None or ab[0] == 0:
            continue
        starts = [ab[0] * (it.start + j * it.step) + ab[1] for j in range(it.static_len)]
        fits = [0 <= s <= n - k for s in starts]
        m = len(fits) - (max((j for j, f in enumerate(fits) if f), default=-1) + 1)
        if 0 < m == len(fits):  # every slice runs past the end (an axis shorter than one batch, than
            from .carries import ShapeChange  # a window): the few iterations run as Python, each slice NumPy's

            raise ShapeChange(f"a slice of length {k} is longer than the axis ({n}) in every iteration", loc)
        if 0 < m <= PEEL_LAST and all(fits[:len(fits) - m]):
            raise LastOverruns(loop, m, loc)
        return


def _affine(v, index, producers: dict, depth: int = 0) -> tuple[int, int] | None:
    """(a, b) with v = a * index + b, from adds, subtractions, products with
    constants and int conversions; None where v is not such a function."""
    if v.id == index.id:
        return 1, 0
    if v.is_const:
        c = np.asarray(v.const)
        return (0, int(c)) if c.shape == () and c.dtype.kind in "iu" else None
    op = producers.get(v.id)
    if op is None or depth > 8:
        return None
    name = op.prim.name
    if name == "convert" and op.out.dtype.kind in "iu":
        return _affine(op.inputs[0], index, producers, depth + 1)
    if name in ("add", "subtract", "multiply") and len(op.inputs) == 2:
        x, y = (_affine(u, index, producers, depth + 1) for u in op.inputs)
        if x is None or y is None:
            return None
        if name == "add":
            return x[0] + y[0], x[1] + y[1]
        if name == "subtract":
            return x[0] - y[0], x[1] - y[1]
        if x[0] == 0 or y[0] == 0:
            return x[0] * y[1] + y[0] * x[1], x[1] * y[1]
    return None


def _note_origins(v, slices: tuple) -> None:
    """Values computed from v carry its slices (context.emit): reading their
    length is reading a length NumPy may have shortened (`np.size(b.copy())`)."""
    st = ctx.state()
    known = st.window_origins.get(v.id, ())
    st.window_origins[v.id] = ctx.unique_slices((*known, *slices))


def check_origins(slices: tuple) -> None:
    for start, n, k, axis, loc in slices:
        with ctx.at(loc):
            check_fits(start, n, k, axis, loc)


def length_of(x: Any) -> None:
    """The user's code reads the length of x (`.shape`, `.size`, len(),
    np.shape/np.size): where x is computed from slices with a traced start,
    their checks (each fits, or SliceOverrunError where NumPy shortens it)."""
    if isinstance(x, (_Windowed, Sliced)):
        x.length_read()
        return
    if is_tracer(x) and ctx.tracing():
        slices = ctx.state().window_origins.get(x.value.id)
        if slices:
            check_origins(slices)


def _user_reads_length(depth: int = 2) -> bool:
    from .array import _from_users_code
    import sys

    return ctx.tracing() and _from_users_code(sys._getframe(depth))


class _LengthChecked:
    """`.shape`, `.size` and len() read by code that is not converted (a
    function whose source cannot be read; converted code goes through
    runtime.attr and runtime._len): the length is checked (`length_read`)."""

    __slots__ = ()

    @property
    def shape(self) -> tuple:
        if _user_reads_length():
            self.length_read()
        return tuple(self.value.shape)

    @shape.setter
    def shape(self, new) -> None:
        Tracer.shape.fset(self, new)

    @property
    def size(self) -> int:
        if _user_reads_length():
            self.length_read()
        return Tracer.size.fget(self)

    def __len__(self) -> int:
        if _user_reads_length():
            self.length_read()
        return Tracer.__len__(self)


class _Windowed(_LengthChecked):
    """Reductions, ufuncs and operators of a window (mixed into Tracer)."""

    __slots__ = ()

    def length_read(self) -> None:
        """The user's code reads this window's length (`.shape`, `.size`,
        len(); tracer/runtime.py calls this for converted code): checked."""
        origin = self._origin()
        if origin is not None:
            with ctx.at(origin.loc):
                origin.check_length()


    def _selection(self) -> masked.MaskedSelection | None:
        raise NotImplementedError

    def _origin(self) -> Origin | None:
        raise NotImplementedError

    def _reduce(self, name: str, args: tuple, kwargs: dict) -> Any:
        origin = self._origin()
        axis = kwargs.get("axis", args[0] if args else None)
        if origin is None or kwargs.get("out") is not None or not _over_axis(axis, self.ndim, origin.axis):
            return None
        if kwargs.get("where", True) is not True:
            return None
        sel = self._selection()
        kwargs = {k: v for k, v in kwargs.items() if k != "out"}
        if name in ("max", "min") and kwargs.get("initial", np._NoValue) is np._NoValue:
            origin.check_nonempty(name)
            kwargs["initial"] = _extreme(self.dtype, lowest=name == "max")
        return getattr(sel, name)(*args, **kwargs)

    def _ordered(self, name: str, args: tuple, kwargs: dict) -> Any:
        """np.median, np.percentile, ... over the window's axis, where its
        start may be negative: of the masked form, NumPy's window (empty at
        x[-1:0]: NaN, or NumPy's IndexError), where the window read as an
        array would raise, or, of length 1, read x[-1]; else None."""
        origin = self._origin()
        takes_q = name not in ("median", "nanmedian")
        if origin is None or len(args) > takes_q or kwargs.get("out") is not None \
                or origin.axis or not _over_axis(kwargs.get("axis"), self.ndim, 0) or not origin.may_be_negative():
            return None
        return getattr(np, name)(self._selection(), *args, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        name = _FUNCTIONS.get(func.__name__)
        if name is not None and args and args[0] is self:
            res = self._reduce(name, args[1:], dict(kwargs))
            if res is not None:
                return res
        if func.__name__ in _ORDER and args and args[0] is self:
            res = self._ordered(func.__name__, args[1:], dict(kwargs))
            if res is not None:
                return res
        return Tracer.__array_function__(self, func, types, args, kwargs)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = Tracer.__array_ufunc__(self, ufunc, method, *inputs, **kwargs)
        if method != "__call__" or kwargs or not is_tracer(plain) or plain.shape != self.shape:
            return plain
        from . import numpy_api as nx

        fn = nx.NAMESPACE.get(nx.ALIASES.get(ufunc.__name__) or ufunc.__name__)
        return _combined(plain, fn, inputs) if fn is not None else plain


def _over_axis(axis: Any, ndim: int, window_axis: int) -> bool:
    """Does a reduction over `axis` reduce the window's axis?"""
    if axis is None:
        return True
    axes = axis if isinstance(axis, tuple) else (axis,)
    return any(isinstance(a, (int, np.integer)) and int(a) % ndim == window_axis for a in axes)


def _extreme(dtype: np.dtype, lowest: bool) -> Any:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return -np.inf if lowest else np.inf
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.min if lowest else info.max
    return not lowest  # bool: max starts from False, min from True


class Window(_Windowed, Tracer):
    """x[s:s+k] with a traced s: a view of x, with a masked form for reductions."""

    __slots__ = ("origin",)

    def __init__(self, base: Tracer, derive: Callable, key: Any, origin: Origin):
        Tracer.__init__(self, base=base, derive=derive, index=key)
        self.origin = origin

    def _origin(self) -> Origin:
        return self.origin

    def _selection(self) -> masked.MaskedSelection:
        return self.origin.selection(self.base)  # the base as it is now: a view sees earlier writes

    def _view_value(self):
        v = Tracer._view_value(self)
        o = self.origin
        _note_origins(v, ((o.start, o.n, o.k, o.axis, o.loc),))
        return v


class Sliced(_LengthChecked, Tracer):
    """A view of a slice with a traced start that is not a Window (another axis
    indexed: `X[s:s + k, 0]`), or a view of a window (`xb[:, 0]`): its length,
    read by the user's code, is checked as a window's (`length_read`)."""

    __slots__ = ("slices",)

    def __init__(self, base: Tracer, derive: Callable, key: Any, slices: tuple):
        Tracer.__init__(self, base=base, derive=derive, index=key)
        self.slices = slices  # (start, n, k, axis, loc) of each slice it is a view of

    def length_read(self) -> None:
        check_origins(self.slices)

    def _view_value(self):
        v = Tracer._view_value(self)
        _note_origins(v, self.slices)
        return v


class WindowResult(_Windowed, Tracer):
    """An elementwise result of windows and scalars: a fresh array, with the
    same computation on the windows' masked forms."""

    __slots__ = ("sel", "origin")

    def __init__(self, plain: Tracer, sel: masked.MaskedSelection, origin: Origin):
        Tracer.__init__(self, plain.value)
        self.sel, self.origin = sel, origin

    def _origin(self) -> Origin | None:
        return self.origin

    def _selection(self) -> masked.MaskedSelection:
        return self.sel

    def assign(self, value) -> None:
        self.sel = self.origin = None  # written into: no longer the computation it was
        Tracer.assign(self, value)


def _combined(plain: Tracer, fn: Callable, inputs: tuple) -> Tracer:
    """`plain` (fn of inputs) as a WindowResult where every input is a scalar, a
    window of the same origin, or an array broadcasting against the trailing axes."""
    origins = [x._origin() for x in inputs if isinstance(x, _Windowed)]
    if not origins or any(o is None for o in origins) or not all(origins[0].same(o) for o in origins[1:]):
        return plain
    rest = tuple(plain.shape[origins[0].axis + 1:])  # (an operand spanning the window's axis: the plain result)
    args = []
    for x in inputs:
        if isinstance(x, _Windowed):
            args.append(x._selection())
            continue
        shape = tuple(np.shape(x)) if not is_tracer(x) else tuple(x.shape)
        if len(shape) > len(rest) or not masked._broadcasts(shape, rest):
            return plain
        args.append(x)
    sel = next(a for a in args if isinstance(a, masked.MaskedSelection))
    return WindowResult(plain, sel.elementwise(fn, tuple(args)), origins[0])


def _windowed_binary(py: str, ufunc: str):
    def op(self, other):
        plain = getattr(Tracer, f"__{py}__")(self, other)
        return _from_operator(plain, ufunc, (self, other))

    def rop(self, other):
        plain = getattr(Tracer, f"__r{py}__")(self, other)
        return _from_operator(plain, ufunc, (other, self))

    return op, rop


def _from_operator(plain: Any, ufunc: str, inputs: tuple) -> Any:
    from . import numpy_api as nx

    if not is_tracer(plain) or plain.shape != next(x for x in inputs if isinstance(x, _Windowed)).shape:
        return plain
    return _combined(plain, nx.NAMESPACE[ufunc], inputs)


def install(binary_ops: dict, compare_ops: dict) -> None:
    """Operators and reduction methods of windows (called by methods.py)."""
    for py, uf in {**binary_ops, **compare_ops}.items():
        op, rop = _windowed_binary(py, uf)
        setattr(_Windowed, f"__{py}__", op)
        if py in binary_ops:
            setattr(_Windowed, f"__r{py}__", rop)
    for py, uf in binary_ops.items():
        setattr(Window, f"__i{py}__", _in_place(py, uf))
    for py, uf in (("neg", "negative"), ("abs", "absolute")):
        setattr(_Windowed, f"__{py}__", _unary(py, uf))
    for name in _REDUCTIONS:
        setattr(_Windowed, name, _method(name))


def carried(plain: Any, ufunc: str, inputs: tuple) -> Any:
    """np.<ufunc>(...) in traced code: a window in, a window out (numpy_api.TracedUfunc)."""
    if not any(isinstance(x, _Windowed) for x in inputs):
        return plain
    return _from_operator(plain, ufunc, inputs)


def reductions(namespace: dict) -> dict:
    """np.sum, np.mean, np.max, ... of traced code, reducing a window masked."""
    def wrap(name: str, fn: Callable) -> Callable:
        def call(a, *args, **kwargs):
            if isinstance(a, _Windowed):
                res = (a._ordered if name in _ORDER else a._reduce)(name, args, dict(kwargs))
                if res is not None:
                    return res
            return fn(a, *args, **kwargs)

        call.__name__ = getattr(fn, "__name__", name)
        return call

    names = {**_FUNCTIONS, **{name: name for name in _ORDER}}
    return {np_name: wrap(name, namespace[np_name]) for np_name, name in names.items() if np_name in namespace}


def _in_place(py: str, ufunc: str):
    """`x[s:s+k] op= v`: the window's new contents, written as a window write."""
    def iop(self, other):
        res = _from_operator(getattr(Tracer, f"__{py}__")(self, other), ufunc, (self, other))
        castable = is_tracer(res) and np.can_cast(res.dtype, self.dtype, "same_kind")
        if isinstance(res, _Windowed) and castable and write(self.base, self.index, res):
            return self  # x.__setitem__(key, self) then sees the view and writes nothing more
        return getattr(Tracer, f"__i{py}__")(self, other)

    return iop


def _unary(py: str, ufunc: str):
    def op(self):
        from . import numpy_api as nx

        return _combined(getattr(Tracer, f"__{py}__")(self), nx.NAMESPACE[ufunc], (self,))

    return op


def _method(name: str):
    def call(self, *args, **kwargs):
        res = self._reduce(name, args, dict(kwargs))
        return res if res is not None else getattr(Tracer, name)(self, *args, **kwargs)

    return call


def write(x: Tracer, key: Any, value: Any) -> bool:
    """x[s:s+k] = value with NumPy's shortening, where the value does not need
    the shortened length: a scalar, an array broadcasting against the trailing
    axes, or a window of the same origin (`y[s:s+k] = 2 * x[s:s+k]`, and
    `y[s:s+k] += v`, which writes through the view). The block written is the
    window moved back to fit, s' = min(s, n - k); its positions before s keep
    their contents, so nothing outside NumPy's shortened slice changes. False
    where this is not such a write (the checked update then runs)."""
    from . import indexing

    items = indexing.parse_key(tuple(x.shape), key)
    origin = _origin_of(x, items)
    if origin is None or origin.axis:  # (a window of another axis: the checked update)
        return False
    rest = tuple(x.shape[1:])
    if isinstance(value, _Windowed):
        if value._origin() is None or not origin.same(value._origin()):
            return False
        data = value._selection().data
    else:
        shape = tuple(np.shape(value)) if not is_tracer(value) else tuple(value.shape)
        if len(shape) > len(rest) or not masked._broadcasts(shape, rest):
            return False
        data = None
    from . import numpy_api as nx

    origin.check_start()
    start = sem.ufunc("minimum", origin.start, origin.n - origin.k)
    pos = nx.arange(origin.k) + start
    fitted = [indexing.Item("dslice", 0, start, size=origin.k), *items[1:]]
    old = sem.wrap(indexing.getitem_value(x.value, fitted))
    if data is not None:  # row j of data is position s + j: read it at position pos[j]
        from looptrace.ops import get as prim

        shift = sem.ufunc("minimum", sem.ufunc("maximum", pos - origin.start, 0), origin.k - 1)
        value = sem.wrap(ctx.emit1(prim("gather"), [data.value, sem.as_value(shift, np.int64)], axis=0))
    taken = sem.reshape(pos >= origin.start, (origin.k,) + (1,) * len(rest))
    new = nx.where(taken, sem.astype(value, x.dtype) if is_tracer(value) else value, old)
    x.assign(indexing._block_update(x.value, fitted, new))
    return True


def _origin_of(x: Tracer, items: list) -> Origin | None:
    """The window x[..., s:s + k, ...]: one traced-start slice, every other axis whole."""
    shape = tuple(x.shape)
    slices = [i for i in items if i.kind == "dslice"]
    if len(slices) != 1 or not is_tracer(slices[0].start):
        return None
    first = slices[0]
    if any(i.kind != "slice" or (i.start, i.stop, i.step) != (0, shape[i.axis], 1) for i in items if i is not first):
        return None
    if not isinstance(shape[first.axis], int) or shape[first.axis] < 1 or first.size < 1:
        return None
    return Origin(first.start, int(shape[first.axis]), int(first.size), ctx.current_loc(), first.axis)


def view(parent: Tracer, derive: Callable, key: Any, items: list) -> Tracer:
    """The view parent[key]: a Window when key is a traced-start slice of axis 0
    with every other axis whole, else a plain view."""
    from . import layout

    origin = _origin_of(parent, items)
    if origin is None:
        # any other view of a traced-start slice (`X[s:s + k, 0]`, `xb[:, 0]` of a window): its static
        # length is NumPy's only where the slice fits; its elements check that where they are read,
        # its length where it is read (Sliced.length_read)
        slices = list(parent.slices) if isinstance(parent, Sliced) else []
        if isinstance(parent, _Windowed) and parent._origin() is not None:
            o = parent._origin()
            slices.append((o.start, o.n, o.k, o.axis, o.loc))
        shape = tuple(parent.shape)
        for it in items:
            if it.kind == "dslice" and is_tracer(it.start) and isinstance(shape[it.axis], int) and it.size > 1:
                slices.append((it.start, int(shape[it.axis]), int(it.size), it.axis, ctx.current_loc()))
        made = Sliced(parent, derive, key, tuple(slices)) if slices else \
            Tracer(base=parent, derive=derive, index=key)
    else:
        made = Window(parent, derive, key, origin)
    made.ghost = layout.indexed(layout.ghost_of(parent), items)
    return made
