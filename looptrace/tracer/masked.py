"""Boolean-mask reads, and the NumPy functions whose output shape depends on data.

`x[mask]` with a traced mask has a length known only at run time, so it is
kept as a `MaskedSelection`: the whole of `x` (data) and the mask over its
leading axes. It is exact wherever the result does not need that length:
  - reductions: x[mask].sum(), np.mean(x[mask]), x[mask].var(ddof=1), ...
    become reductions of x with `where=mask`;
  - elementwise arithmetic with scalars (or arrays broadcasting against the
    trailing axes) and between selections of the same mask;
  - assignment through the same mask: y[mask] = x[mask] * 2 (a select).
Anything else (returning it, indexing it, len()) raises UnsupportedError at
the line that made the selection, saying why and how to rewrite.

A mask that is a NumPy array (a constant) has a static count: the read is an
integer-array gather. np.nonzero, np.unique, np.argwhere, np.flatnonzero,
np.extract, np.compress and one-argument np.where raise the same kind of
error when they meet a traced value.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import ConcreteIndexError, UnsupportedError
from looptrace.ir.core import SourceLoc, Value
from looptrace.ops import get as prim

from . import context as ctx
from . import semantics as sem
from . import numpy_api as nx
from .array import Tracer, is_tracer
from .external import concrete_if_outside

_NO = np._NoValue
HINT = ("use it in a reduction (x[mask].sum(), np.mean(x[mask])), assign through the same mask "
        "(y[mask] = x[mask]), or keep the shape: np.where(mask, x, 0), x.sum(where=mask)")


# --- keys -------------------------------------------------------------------------------------------
def mask_of(key: Any) -> Any:
    """The boolean mask of `key` when key is a mask over the leading axes
    (`m`, `(m,)`, `(m, ...)`, `(m, :, :)`), else None."""
    parts = key if isinstance(key, tuple) else (key,)
    if not parts or not _is_bool(parts[0]):
        return None
    rest = parts[1:]
    if all(p is Ellipsis or (isinstance(p, slice) and p == slice(None)) for p in rest) and \
            sum(1 for p in rest if p is Ellipsis) <= 1:
        return parts[0]
    if any(_is_bool(p) for p in parts):
        raise UnsupportedError("a boolean mask is supported as the first index only (x[mask] or x[mask, :])",
                               ctx.current_loc(), "np.where(mask, x, 0) keeps the shape")
    return None


def _is_bool(k: Any) -> bool:
    return (is_tracer(k) or isinstance(k, np.ndarray)) and np.dtype(k.dtype) == np.bool_


def _check_mask(x: Tracer, mask: Any) -> None:
    shape = tuple(mask.shape)
    if len(shape) > x.ndim or tuple(x.shape[:len(shape)]) != shape:
        raise IndexError(f"boolean index did not match indexed array along axis 0; array shape "
                         f"{tuple(x.shape)}, index shape {shape}")


def read(x: Tracer, mask: Any) -> Any:
    """x[mask]: a gather for a constant mask (or one read from outside the
    function's arguments: baked in, guarded), a MaskedSelection for a traced one."""
    mask = concrete_if_outside(mask)
    _check_mask(x, mask)
    if not is_tracer(mask):
        rows = np.flatnonzero(np.asarray(mask)).astype(np.int64)
        k = mask.ndim
        flat = sem.reshape(x, (int(np.prod(x.shape[:k], dtype=np.int64)),) + tuple(x.shape[k:]))
        return sem.wrap(ctx.emit1(prim("gather"), [flat.value, ctx.own_const(rows)], axis=0))
    return MaskedSelection(sem.wrap(x.value), mask, ctx.current_loc())


def write(x: Tracer, mask: Any, value: Any, bounds: tuple = ()) -> None:
    """x[mask] = value, as a select (the value must not need the selection's
    length); `bounds`: a varying slice's traced bounds (`varying_slice`),
    whose failures are that slice's ConcreteIndexError."""
    _check_mask(x, mask)
    rest = tuple(x.shape[mask.ndim:])
    if isinstance(value, MaskedSelection):
        if not value.same_mask(mask):
            if bounds:
                value.fail("assigning it through other positions")
            raise UnsupportedError("assigning x[mask1] = y[mask2] with different masks needs the positions of "
                                   "the selected elements", ctx.current_loc(), "use np.where(mask, y, x)")
        data = value.data
    else:
        data = value
        vshape = tuple(np.shape(value)) if not is_tracer(value) else tuple(value.shape)
        if len(vshape) > len(rest) or not _broadcasts(vshape, rest):
            if bounds:
                MaskedSelection(x, mask, ctx.current_loc(), bounds).fail(
                    f"assigning an array of shape {vshape} to it")
            raise UnsupportedError(
                f"assigning an array of shape {vshape} through a boolean mask needs it to match the number "
                "of selected elements, known only at run time", ctx.current_loc(),
                "assign a scalar, or y[mask] = values[mask], or use np.where(mask, values, y)")
    m = sem.reshape(_tr_mask(mask), tuple(mask.shape) + (1,) * len(rest))
    x.assign(sem.select(m, sem.astype(data, x.dtype), x).value)


def same_value(a: Value, b: Value, depth: int = 8) -> bool:
    """Do a and b hold the same array? The same value, equal constants, or the
    same pure op on the same inputs (`y[c > 0] = x[c > 0]` computes c > 0 twice)."""
    if a.id == b.id:
        return True
    if a.is_const or b.is_const:
        return a.is_const and b.is_const and a.dtype == b.dtype and np.array_equal(a.const, b.const)
    producers = ctx.state().producers
    oa, ob = producers.get(a.id), producers.get(b.id)
    if depth == 0 or oa is None or ob is None or oa.prim is not ob.prim or oa.prim.effectful or oa.blocks:
        return False
    try:
        same_attrs = bool(oa.attrs == ob.attrs)
    except (TypeError, ValueError):
        return False
    return same_attrs and len(oa.inputs) == len(ob.inputs) and len(oa.outputs) == 1 and \
        all(same_value(x, y, depth - 1) for x, y in zip(oa.inputs, ob.inputs))


def _broadcasts(src: tuple, dst: tuple) -> bool:
    try:
        return tuple(np.broadcast_shapes(src, dst)) == tuple(dst)
    except ValueError:
        return False


def _tr_mask(mask: Any) -> Tracer:
    return mask if is_tracer(mask) else sem.wrap(ctx.const_value(np.asarray(mask)))


# --- the selection ----------------------------------------------------------------------------------------
class MaskedSelection:
    """x[mask] for a traced mask: `data` (x's full shape) and `mask` (bool, the
    leading axes of data). It stands for the array NumPy would return:
    shape (count, *data.shape[mask.ndim:])."""

    __array_priority__ = 1001

    def __init__(self, data: Tracer, mask: Tracer, loc: SourceLoc, bounds: tuple = ()):
        self.data, self.mask, self.loc = data, mask, loc
        self.bounds = bounds  # a slice's traced bounds when this is x[a:b] (`varying_slice`)

    @property
    def rest(self) -> tuple:
        return tuple(self.data.shape[self.mask.ndim:])

    @property
    def ndim(self) -> int:
        return 1 + len(self.rest)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def same_mask(self, other: Any) -> bool:
        m = other.mask if isinstance(other, MaskedSelection) else other
        return is_tracer(m) and same_value(m.value, self.mask.value)

    def where(self) -> Tracer:
        """The mask broadcast to data's shape (a reduction's where=)."""
        m = sem.reshape(self.mask, tuple(self.mask.shape) + (1,) * len(self.rest))
        return sem.broadcast_to(m, self.data.shape)

    def fail(self, what: str = "") -> None:
        what = what or "this use"
        if self.bounds:
            from .indexing import _DYNAMIC_SLICE_HINT
            from .static import arg_sources

            # a ConcreteIndexError, as before slices of varying length fed reductions: an int argument
            # that decides the length is specialized on, a short loop whose index it is is unrolled
            e = ConcreteIndexError(f"the length of this slice (stop - start) depends on traced values; {what} "
                                   "needs that length (a reduction over it, elementwise arithmetic, a dot "
                                   "product of two such slices or a write through one does not)", self.loc,
                                   _DYNAMIC_SLICE_HINT)
            values = [b.value for b in self.bounds if is_tracer(b)]
            e.arg_positions = arg_sources(values) if values else None
            raise e
        raise UnsupportedError(f"x[mask] with a traced boolean mask has a length known only at run time; "
                               f"{what} needs that length", self.loc, HINT)

    def escaped(self) -> None:
        self.fail("returning it (or keeping it past a loop)")

    # --- reductions ------------------------------------------------------------------------------------
    def _axes(self, axis) -> tuple[bool, tuple]:
        """(reduces over the selection axis, the data axes reduced)."""
        k = self.mask.ndim
        if axis is None:
            return True, tuple(range(self.data.ndim))
        axes = sem.norm_axes(axis, self.ndim)
        data_axes = tuple(range(k)) if 0 in axes else ()
        return 0 in axes, data_axes + tuple(k - 1 + a for a in axes if a != 0)

    def reduce(self, name: str, axis=None, dtype=None, keepdims=False, initial=_NO, where=True, **kw) -> Any:
        if where is not True or kw:
            self.fail(f"{name} with where= or {sorted(kw)}")
        over_mask, data_axes = self._axes(axis)
        if not over_mask:
            return MaskedSelection(_REDUCERS[name](self.data, axis=data_axes, dtype=dtype, initial=initial),
                                   self.mask, self.loc, self.bounds)
        if name in ("max", "min") and initial is _NO:
            raise UnsupportedError(f"x[mask].{name}() raises when no element is selected, which is known only at "
                                   "run time", self.loc,
                                   f"pass initial= (np.{name}(x[mask], initial=...)), or use "
                                   f"np.{name}(x, where=mask, initial=...)")
        res = _REDUCERS[name](self.data, axis=data_axes, dtype=dtype, initial=initial, where=self.where())
        return _keepdims(res, self, axis) if keepdims else res

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
        return self._moment(nx.mean, axis, dtype, out, keepdims, where)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, **kw):
        return self._moment(nx.var, axis, dtype, out, keepdims, where, ddof=ddof, **kw)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, **kw):
        return self._moment(nx.std, axis, dtype, out, keepdims, where, ddof=ddof, **kw)

    def _moment(self, fn, axis, dtype, out, keepdims, where, **kw):
        nx._no_out(out)
        if where is not True:
            self.fail("a where= argument")
        over_mask, data_axes = self._axes(axis)
        if not over_mask:
            return MaskedSelection(fn(self.data, data_axes, dtype, **kw), self.mask, self.loc, self.bounds)
        res = fn(self.data, data_axes, dtype, where=self.where(), **kw)
        return _keepdims(res, self, axis) if keepdims else res

    def astype(self, dtype, *args, **kw):
        return MaskedSelection(sem.astype(self.data, dtype), self.mask, self.loc, self.bounds)

    def copy(self, *args, **kw):
        return self

    # --- elementwise ---------------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            self.fail(f"np.{ufunc.__name__}.{method}")
        return self.elementwise(nx.NAMESPACE[nx.ALIASES.get(ufunc.__name__) or ufunc.__name__], inputs, kwargs)

    def elementwise(self, fn, inputs, kwargs=None) -> MaskedSelection:
        args = []
        for x in inputs:
            if isinstance(x, MaskedSelection):
                if not self.same_mask(x):
                    self.fail("combining selections made with different masks")
                args.append(x.data)
            else:
                shape = tuple(np.shape(x)) if not is_tracer(x) else tuple(x.shape)
                if len(shape) > len(self.rest) or not _broadcasts(shape, self.rest):
                    self.fail(f"combining it with an array of shape {shape}")
                args.append(x)
        return MaskedSelection(fn(*args, **(kwargs or {})), self.mask, self.loc, self.bounds)

    def __array_function__(self, func, types, args, kwargs):
        fn = SELECTION_FUNCTIONS.get(func.__name__)
        if fn is None:
            self.fail(f"np.{func.__name__}")
        return fn(*args, **kwargs)

    # --- what needs the length -----------------------------------------------------------------------------
    @property
    def shape(self):
        self.fail(".shape")

    @property
    def size(self):
        self.fail(".size (count with np.count_nonzero(mask))")

    def __len__(self):  # noqa: PLE0303  (it always raises)
        self.fail("len() (count with np.count_nonzero(mask))")

    def __getitem__(self, key):
        self.fail("indexing it")

    def __setitem__(self, key, value):
        self.fail("writing into it (write through the mask: x[mask] = value)")

    def __iter__(self):
        self.fail("iterating over it")

    def __bool__(self):  # noqa: PLE0304  (it always raises)
        self.fail("its truth value")

    def __array__(self, *args, **kwargs):
        self.fail("converting it to a NumPy array")

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        self.fail(f".{name}")


def _keepdims(res: Tracer, sel: MaskedSelection, axis) -> Tracer:
    axes = sem.norm_axes(axis, sel.ndim)
    return sem.reshape(res, tuple(1 if i in axes else d for i, d in enumerate((1,) + sel.rest)))


def _make_reducer(prim_name: str):
    fn = nx.NAMESPACE[prim_name]

    def reduce(data, axis, dtype, initial, where=True):
        kw = {"dtype": dtype} if prim_name in ("sum", "prod") else {}
        return fn(data, axis=axis, initial=initial, where=where, **kw)

    return reduce


_REDUCERS = {name: _make_reducer(name) for name in ("sum", "prod", "max", "min", "all", "any")}


def _method(name: str):
    def call(self, axis=None, dtype=None, out=None, keepdims=False, initial=_NO, where=True):
        nx._no_out(out)
        return self.reduce(name, axis, dtype, keepdims, initial, where)

    def call_nodtype(self, axis=None, out=None, keepdims=False, initial=_NO, where=True):
        nx._no_out(out)
        return self.reduce(name, axis, None, keepdims, initial, where)

    return call if name in ("sum", "prod") else call_nodtype


for _name in _REDUCERS:
    setattr(MaskedSelection, _name, _method(_name))


def _binary(ufunc: str):
    def op(self, other):
        return self.elementwise(nx.NAMESPACE[ufunc], (self, other))

    def rop(self, other):
        return self.elementwise(nx.NAMESPACE[ufunc], (other, self))

    return op, rop


def _power(general, fast_power):
    def op(self, other):
        fast = fast_power(self, other)
        return self.elementwise(nx.NAMESPACE[fast], (self,)) if fast else general(self, other)

    return op


def install_operators(binary_ops: dict, compare_ops: dict, fast_power) -> None:
    """Python's operators on selections (called by methods.py with the Tracer's
    tables, and its `_fast_power`: a selection is an array in NumPy, so
    `x[mask] ** 2` is np.square, as for any array)."""
    for py, uf in {**binary_ops, **compare_ops}.items():
        op, rop = _binary(uf)
        if py == "pow":
            op = _power(op, fast_power)
        setattr(MaskedSelection, f"__{py}__", op)
        if py in binary_ops:
            setattr(MaskedSelection, f"__r{py}__", rop)
            setattr(MaskedSelection, f"__i{py}__", op)  # a new selection; the caller writes it back
    MaskedSelection.__neg__ = lambda self: self.elementwise(nx.NAMESPACE["negative"], (self,))
    MaskedSelection.__abs__ = lambda self: self.elementwise(nx.NAMESPACE["absolute"], (self,))
    MaskedSelection.__invert__ = lambda self: self.elementwise(
        nx.NAMESPACE["logical_not" if self.dtype == np.bool_ else "invert"], (self,))


def _dot(a: Any, b: Any) -> Any:
    """a @ b, np.dot(a, b) of two 1-d selections made with the same mask
    (`L[i, :i] @ x[:i]`): the sum of their products over the mask."""
    sel = a if isinstance(a, MaskedSelection) else b
    if not (isinstance(a, MaskedSelection) and isinstance(b, MaskedSelection)) or a.rest or b.rest:
        sel.fail("a product other than the dot product of two 1-d selections of the same positions")
    return sel.elementwise(nx.NAMESPACE["multiply"], (a, b)).sum()


MaskedSelection.__matmul__ = lambda self, other: _dot(self, other)
MaskedSelection.__rmatmul__ = lambda self, other: _dot(other, self)


def _selection_fn(method: str):
    def call(a, *args, **kwargs):
        return getattr(a, method)(*args, **kwargs)

    return call


SELECTION_FUNCTIONS = {name: _selection_fn(m) for name, m in [
    ("sum", "sum"), ("prod", "prod"), ("max", "max"), ("amax", "max"), ("min", "min"), ("amin", "min"),
    ("all", "all"), ("any", "any"), ("mean", "mean"), ("var", "var"), ("std", "std")]}
SELECTION_FUNCTIONS.update(dict.fromkeys(("dot", "vdot", "inner", "matmul"), _dot))


# --- slices of a length known only at run time ----------------------------------------------------------------
def varying_slice(shape: tuple, key: Any) -> tuple | None:
    """For `x[i, a:b, ...]` whose slice has traced bounds and a length that is
    not static, with only integer indices before it (so the sliced axis
    leads the result; integers and static slices may follow): (the key with that slice made whole, the mask of the
    positions a <= p < b on that axis, the bounds). None for anything else.
    Bounds count from the end when negative and are clipped to the axis, as
    NumPy's."""
    from .indexing import _static_difference

    parts = key if isinstance(key, tuple) else (key,)
    found, kept = None, False  # the varying slice's position; an axis kept before it
    for p, k in enumerate(parts):
        if isinstance(k, slice):
            if not any(is_tracer(b) for b in (k.start, k.stop, k.step)):
                kept = kept or found is None
                continue
            if k.step not in (None, 1) or found is not None or kept or p >= len(shape):
                return None  # a second one, or an axis before it: the sliced axis would not lead
            stop = shape[p] if k.stop is None else k.stop
            start = 0 if k.start is None else k.start
            if _static_difference(stop, start) is not None:
                return None  # a window of static length: windows.py
            found = p
        elif k is None or k is Ellipsis or not _scalar_int(k):
            return None
    if found is None:
        return None
    n = shape[found]
    k = parts[found]
    pos = nx.NAMESPACE["arange"](n)
    lo = _bound(0 if k.start is None else k.start, n)
    hi = _bound(n if k.stop is None else k.stop, n)
    mask = sem.ufunc("logical_and", sem.ufunc("greater_equal", pos, lo), sem.ufunc("less", pos, hi))
    whole = parts[:found] + (slice(None),) + parts[found + 1:]
    return whole, mask, tuple(b for b in (k.start, k.stop) if is_tracer(b))


def _scalar_int(k: Any) -> bool:
    if is_tracer(k):
        return k.ndim == 0 and k.dtype.kind in "iu"
    return isinstance(k, (int, np.integer)) and not isinstance(k, bool)


def _bound(b: Any, n: int) -> Any:
    """A slice bound as NumPy reads it: from the end when negative, clipped to [0, n]."""
    if not is_tracer(b):
        b = int(b)
        return min(max(b + n if b < 0 else b, 0), n)
    b = sem.astype(b, np.int64)
    b = sem.select(sem.ufunc("less", b, 0), sem.ufunc("add", b, n), b)
    return sem.ufunc("minimum", sem.ufunc("maximum", b, 0), n)


def is_selection(x: Any) -> bool:
    return isinstance(x, MaskedSelection)


# --- functions whose output shape depends on the data ---------------------------------------------------------
_DATA_SHAPED = {
    "nonzero": "the positions of the nonzero elements",
    "flatnonzero": "the positions of the nonzero elements",
    "argwhere": "the positions of the nonzero elements",
    "unique": "the distinct values",
    "unique_values": "the distinct values",
    "unique_counts": "the distinct values",
    "unique_inverse": "the distinct values",
    "unique_all": "the distinct values",
    "extract": "the selected elements",
    "compress": "the selected elements",
    "trim_zeros": "the array without its leading/trailing zeros",
}
_REWRITE = {
    "nonzero": "keep the shape with a mask: np.where(cond, x, 0), x[cond].sum(), np.count_nonzero(cond)",
    "unique": "for counts per known value use a loop `counts[v[i]] += 1` over a fixed-size array, "
              "or sort and compare neighbours: s = np.sort(x); np.count_nonzero(np.diff(s)) + 1",
    "extract": "keep the shape: np.where(cond, x, 0), or reduce: x[cond].sum()",
}


def _data_shaped(name: str):
    real = getattr(np, name, None)
    what = _DATA_SHAPED[name]
    hint = _REWRITE.get(name.split("_")[0] if name.startswith("unique") else name,
                        _REWRITE["nonzero"] if "nonzero" in name or name == "argwhere" else _REWRITE["extract"])

    def call(*args, **kwargs):
        if not nx._any_traced(*args, *kwargs.values()):
            return real(*args, **kwargs)
        raise UnsupportedError(f"np.{name} of a traced array gives {what}, an array whose length depends "
                               "on the data; looptrace compiles static shapes only", ctx.current_loc(), hint)

    return call


TABLE: dict[str, Any] = {name: _data_shaped(name) for name in _DATA_SHAPED if hasattr(np, name)}


def where(condition, x=None, y=None):
    if x is None and y is None and nx._any_traced(condition):
        return TABLE["nonzero"](condition)
    return nx.where(condition, x, y)


TABLE["where"] = where
