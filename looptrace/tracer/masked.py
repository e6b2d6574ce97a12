"""Boolean-mask reads, and the NumPy functions whose output shape depends on data.

`x[mask]` with a traced mask has a length known only at run time, so it is
kept as a `MaskedSelection`: the whole of `x` (data) and the mask over its
leading axes (or, for a slice of varying length, varying.py, over the sliced
axis wherever it lies). It is exact wherever the result does not need that
length:
  - reductions: x[mask].sum(), np.mean(x[mask]), x[mask].var(ddof=1), ...
    become reductions of x with `where=mask`;
  - elementwise arithmetic with scalars, arrays broadcasting against it with
    length 1 on the selected axis, and selections of the same mask;
  - products with a vector (`v @ X[:, a:b]`, `L[i, :i] @ x[:i]`): an
    elementwise product and a sum;
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

from looptrace.errors import ConcreteIndexError, ShapeError, UnsupportedError
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


def after_integers(key: Any) -> tuple | None:
    """(prefix, rest) for `x[i, mask]` (integers, then a mask over the next
    axes, then whole slices): NumPy selects as x[i][mask] does; else None."""
    parts = key if isinstance(key, tuple) else (key,)
    at = next((k for k, p in enumerate(parts) if _is_bool(p)), None)
    if not at or not all(_is_integer(p) for p in parts[:at]):
        return None
    return parts[:at], parts[at:]


def _is_integer(k: Any) -> bool:
    if is_tracer(k):
        return k.ndim == 0 and np.dtype(k.dtype).kind in "iu"
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


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
    return MaskedSelection(sem.wrap(x.value), mask, ctx.current_loc(), owned=True)


def write(x: Tracer, mask: Any, value: Any, bounds: tuple = (), axis: int = 0) -> None:
    """x[mask] = value, as a select (the value must not need the selection's
    length); the mask covers x's axes from `axis` on. `bounds`: a varying
    slice's traced bounds (`varying_slice`), whose failures are that slice's
    ConcreteIndexError."""
    if not axis:
        _check_mask(x, mask)
    target = MaskedSelection(x, _tr_mask(mask), ctx.current_loc(), bounds, axis)
    if isinstance(value, MaskedSelection) and not value.same_mask(mask) and not bounds:
        raise UnsupportedError("assigning x[mask1] = y[mask2] with different masks needs the positions of "
                               "the selected elements", ctx.current_loc(), "use np.where(mask, y, x)")
    if not isinstance(value, MaskedSelection) and not _fits(value, target) and not bounds:
        raise UnsupportedError(
            f"assigning an array of shape {_shape(value)} through a boolean mask needs it to match the number "
            "of selected elements, known only at run time", ctx.current_loc(),
            "assign a scalar, or y[mask] = values[mask], or use np.where(mask, values, y)")
    data = target.aligned(value, target.ndim, axis, "assigning to it")
    if not _broadcasts(_shape(data), tuple(x.shape)):
        target.fail(f"assigning an array of shape {_shape(value)} to it")
    x.assign(sem.select(target.where(), sem.astype(data, x.dtype), x).value)


def _fits(value: Any, target: MaskedSelection) -> bool:
    """Does an array assigned through a boolean mask broadcast against the trailing axes?"""
    shape = _shape(value)
    return len(shape) <= len(target.rest) and _broadcasts(shape, target.rest)


def same_value(a: Value, b: Value, depth: int = 12) -> bool:
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
    """x[mask] for a traced mask: `data` and `mask` (bool). The mask covers
    data's axes axis .. axis + mask.ndim - 1 (`axis` is 0 for x[mask]; a
    varying slice `x[:, a:b]` masks the axis it slices, where NumPy puts it).
    It stands for the array NumPy would return: data's shape with those axes
    replaced by one of length count, at position `axis`. `span`: a varying
    slice's clipped bounds (lo, hi), which np.flip needs."""

    __array_priority__ = 1001

    def __init__(self, data: Tracer, mask: Tracer, loc: SourceLoc, bounds: tuple = (), axis: int = 0,
                 span: tuple = (), windowed: bool = False, owned: bool = False):
        self.data, self.mask, self.loc = data, mask, loc
        # a new array in NumPy (x[mask], an arithmetic result, a copy) whose `data` is its own tracer:
        # writes into it (`m[0] = 9`, `m *= 2`) go there and are seen by every name bound to it
        self.owned = owned
        self.bounds = bounds  # a slice's traced bounds when this is x[a:b] (`varying_slice`)
        self.axis, self.span = axis, span
        self.windowed = windowed  # bounds read from an array: only folds over its window (varying.py)
        self.stepped: slice | None = None  # x[a:b:s], s != 1: a fold loops over its positions (stepped.py)
        self.made = "x[mask] with a traced boolean mask"  # what the user wrote, for errors (`np.where(c)[0]`)
        self.most: int | None = None  # a slice's static bound on its length (varying.py), else None
        self.length_sources: frozenset | None = None  # the int arguments such a bound would come from
        # (x, key) for the slice x[key] this selection is, a view of x in NumPy (indexing.getitem): an
        # in-place operator writes into x (`inplace`); a selection made from it (`like`) is a new array
        self.view_of: tuple | None = None
        self.reshaped = False  # a view with unit axes put in (`_unit_axes`): writes through it are refused

    def like(self, data: Tracer, axis: int | None = None, owned: bool = False) -> MaskedSelection:
        """A selection of the same positions holding `data`; `owned`: a new
        array, holding `data` in a tracer of its own."""
        data = sem.wrap(data.value) if owned else data
        sel = MaskedSelection(data, self.mask, self.loc, self.bounds, self.axis if axis is None else axis,
                              self.span, self.windowed, owned)
        sel.stepped, sel.made, sel.most, sel.length_sources = self.stepped, self.made, self.most, \
            self.length_sources
        return sel

    @property
    def rest(self) -> tuple:
        """NumPy's shape without the selection's axis."""
        shape = tuple(self.data.shape)
        return shape[:self.axis] + shape[self.axis + self.mask.ndim:]

    @property
    def after(self) -> int:
        """How many axes follow the selection's axis (what aligns two selections under broadcasting)."""
        return self.ndim - 1 - self.axis

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
        shape = (1,) * self.axis + tuple(self.mask.shape) + (1,) * self.after
        return sem.broadcast_to(sem.reshape(self.mask, shape), self.data.shape)

    def fail(self, what: str = "") -> None:
        what = what or "this use"
        if self.windowed:
            from .indexing import _DATA_BOUNDS_HINT
            from .static import concrete_error

            raise concrete_error(self.bounds, "the bounds of this slice are read from an array, so its length "
                                 f"is known only at run time; {what} needs that length, or would run over the "
                                 "whole axis at every iteration (a sum over it, a mean, a dot product or a "
                                 "max/min of floats with initial= does not)", _DATA_BOUNDS_HINT)
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
        raise UnsupportedError(f"{self.made} has a length known only at run time; {what} needs that length",
                               self.loc, HINT)

    def escaped(self) -> None:
        self.fail("returning it (or keeping it past a loop)")

    # --- reductions ------------------------------------------------------------------------------------
    def _axes(self, axis) -> tuple[bool, tuple]:
        """(reduces over the selection axis, the data axes reduced)."""
        if axis is None:
            return True, tuple(range(self.data.ndim))
        axes = sem.norm_axes(axis, self.ndim)
        k, at = self.mask.ndim, self.axis
        data_axes = [a if a < at else a + k - 1 for a in axes if a != at]
        if at in axes:
            data_axes += range(at, at + k)
        return at in axes, tuple(sorted(data_axes))

    def _reduced(self, data: Tracer, axis) -> MaskedSelection:
        """The selection left when `axis` (not the selection's) is reduced away."""
        axes = sem.norm_axes(axis, self.ndim)
        return self.like(data, self.axis - sum(1 for a in axes if a < self.axis))

    def reduce(self, name: str, axis=None, dtype=None, keepdims=False, initial=_NO, where=True, **kw) -> Any:
        if where is not True or kw:
            self.fail(f"{name} with where= or {sorted(kw)}")
        over_mask, data_axes = self._axes(axis)
        if over_mask and self.stepped is not None and self.data.ndim == 1 and not keepdims and dtype is None:
            from . import stepped

            folded = stepped.fold(self, name, initial)
            if folded is not None:
                return folded
        if not over_mask:
            if keepdims:
                self.fail(f"{name} with keepdims=True")
            return self._reduced(_REDUCERS[name](self.data, axis=data_axes, dtype=dtype, initial=initial), axis)
        if name in ("max", "min") and initial is _NO:
            initial = self._checked_extreme(name, data_axes)
        if self.windowed and (name not in ("sum", "max", "min") or name != "sum" and self.dtype.kind != "f"):
            self.fail(f"np.{name} of it")
        if self.windowed and name != "sum" and dtype is None:
            # over the window alone: the fold starts at -inf (+inf), the identity outside it
            # (codegen/planning/fold_window.py), then meets `initial` as np.max does
            start = -np.inf if name == "max" else np.inf
            res = _REDUCERS[name](self.data, axis=data_axes, dtype=None, initial=start, where=self.where())
            res = sem.ufunc("maximum" if name == "max" else "minimum", res, initial)
            return _keepdims(res, self, axis) if keepdims else res
        res = _REDUCERS[name](self.data, axis=data_axes, dtype=dtype, initial=initial, where=self.where())
        return _keepdims(res, self, axis) if keepdims else res

    def _checked_extreme(self, name: str, data_axes: tuple) -> Any:
        """x[mask].max() without initial=: a run-time check raising NumPy's
        ValueError where nothing is selected (a slice's window: where its
        bounds meet, `x[i:].max()`), then the fold from the dtype's extreme.
        Refused where the selection has no window (a stepped slice of more
        than one axis) or an axis of length 0."""
        from .checks import emit_check
        from .windows import _extreme

        op = "maximum" if name == "max" else "minimum"
        empty = ValueError(f"zero-size array to reduction operation {op} which has no identity")
        if self.span and not any(self.data.shape[a] == 0 for a in data_axes if a != self.axis):
            lo, hi = (sem.as_value(b, np.int64) for b in self.span)  # a slice's window: empty where hi <= lo
            emit_check(sem.ufunc("less_equal", sem.wrap(hi), sem.wrap(lo)), empty)
            return _extreme(np.dtype(self.dtype), lowest=name == "max")
        if self.windowed or self.bounds or any(self.data.shape[a] == 0 for a in data_axes):
            raise UnsupportedError(f"x[mask].{name}() raises when no element is selected, which is known only at "
                                   "run time", self.loc,
                                   f"pass initial= (np.{name}(x[mask], initial=...)), or use "
                                   f"np.{name}(x, where=mask, initial=...)")
        nothing = sem.ufunc("logical_not", nx.NAMESPACE["any"](self.mask))
        emit_check(nothing, empty)
        return _extreme(np.dtype(self.dtype), lowest=name == "max")

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
            if keepdims:
                self.fail("keepdims=True")
            return self._reduced(fn(self.data, data_axes, dtype, **kw), axis)
        res = fn(self.data, data_axes, dtype, where=self.where(), **kw)
        return _keepdims(res, self, axis) if keepdims else res

    def astype(self, dtype, *args, **kw):
        return self.like(sem.astype(self.data, dtype), owned=True)

    def copy(self, *args, **kw):
        return self.like(self.data, owned=True)  # a new array: a write into it is not seen here

    # --- elementwise ---------------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            self.fail(f"np.{ufunc.__name__}.{method}")
        return self.elementwise(nx.NAMESPACE[nx.ALIASES.get(ufunc.__name__) or ufunc.__name__], inputs, kwargs)

    def elementwise(self, fn, inputs, kwargs=None) -> MaskedSelection:
        """fn of selections of the same positions and arrays, broadcast as NumPy
        would: every selection's axis lands on the same axis of the result, where
        the arrays have length 1 (or do not reach)."""
        ndim = max(_ndim(x) for x in inputs)
        at = ndim - 1 - self.after
        args = [self.aligned(x, ndim, at, "combining it with") for x in inputs]
        return self.like(fn(*args, **(kwargs or {})), at, owned=True)

    def aligned(self, x: Any, ndim: int, at: int, doing: str) -> Any:
        """x as data to combine with data laid out as a selection whose axis is
        `at` of `ndim` (NumPy's view), or fail saying why the length is needed."""
        if isinstance(x, MaskedSelection):
            if not self.same_mask(x):
                shifted = self._shifted(x, ndim, at)
                if shifted is not None:
                    return shifted
                self.fail(f"{doing} a selection made with another mask")
            if x.after != ndim - 1 - at:
                self.fail(f"{doing} a selection whose selected axis does not line up with it")
            return x.data
        shape = _shape(x)
        lead = ndim - len(shape)
        if lead > at:  # it does not reach the selection's axis
            return x
        if lead < 0 or shape[at - lead] != 1:
            self.fail(f"{doing} an array of shape {shape}")
        k = at - lead
        return sem.reshape(x, shape[:k] + (1,) * self.mask.ndim + shape[k + 1:])

    def _shifted(self, x: MaskedSelection, ndim: int, at: int) -> Tracer | None:
        """Another slice's window of the same length, shifted against this one
        (`pos[:, lag:] - pos[:, :-lag]`), as data at this one's positions:
        element p of the axis reads x's element p + c - a (a, c the windows'
        starts), after NumPy's check that both select as many elements.
        Windows bounded by array contents stay refused: the realigned data
        costs the whole axis at every iteration (varying.py). None where the
        windows are not slices lined up on one axis."""
        if not (self.span and x.span) or self.windowed or x.windowed or self.mask.ndim != 1 \
                or x.mask.ndim != 1 or x.after != ndim - 1 - at:
            return None
        from .checks import emit_check

        (a, b), (c, d) = ([sem.as_value(v, np.int64) for v in sp] for sp in (self.span, x.span))
        a, b, c, d = (sem.wrap(v) for v in (a, b, c, d))
        count = lambda lo, hi: sem.ufunc("maximum", sem.ufunc("subtract", hi, lo), 0)  # noqa: E731
        mine, theirs = count(a, b), count(c, d)
        one, other_one = sem.ufunc("equal", mine, 1), sem.ufunc("equal", theirs, 1)
        differ = sem.ufunc("not_equal", mine, theirs)
        emit_check(sem.ufunc("logical_and", differ, sem.ufunc("logical_not", sem.ufunc("logical_or", one, other_one))),
                   ValueError("operands could not be broadcast together (two slices of different lengths)"))
        emit_check(sem.ufunc("logical_and", differ, one),
                   UnsupportedError("a slice of one element combined with a longer slice (NumPy broadcasts it "
                                    "to the longer one's positions) is not supported where the lengths are known "
                                    "only at run time", self.loc, "index the one element: x[a] instead of x[a:a+1]"))
        n, m = self.data.shape[self.axis], x.data.shape[x.axis]

        def position(p: Tracer) -> Tracer:  # x's element read at position p of this window (one: broadcast)
            return sem.select(other_one, c, sem.ufunc("add", p, sem.ufunc("subtract", c, a)))

        index = sem.ufunc("minimum", sem.ufunc("maximum", position(nx.NAMESPACE["arange"](n)), 0), m - 1)
        out = nx.NAMESPACE["take"](x.data, index, axis=x.axis)
        ctx.state().shifted_reads[out.value.id] = (x.data.value, position, x.axis)
        return out

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
        pattern = _new_axes_shape(self, key)
        if pattern is not None:  # `x[a:b][:, None]`
            return _unit_axes(self, pattern)
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) and key else (key, ())
        if isinstance(first, (int, np.integer)) and not isinstance(first, (bool, np.bool_)) \
                and not (self.bounds or self.windowed or self.stepped or self.axis):
            row = self._selected(int(first))  # `cdf[cdf > 0][0]`, `np.nonzero(c)[0][-1]`
            return row[rest] if rest else row
        self.fail("indexing it")

    def _selected(self, k: int) -> Tracer:
        """The k-th selected row (counted from the end for k < 0), in the
        mask's row-major order: for k = 0 the first True of the mask, else
        where its running count passes k; NumPy's IndexError where fewer
        are selected."""
        data, at = self._row_at(k)
        return data[at]

    def _row_at(self, k: int) -> tuple[Tracer, Tracer]:
        """(data with the mask's axes made one, the position of the k-th
        selected row on it), after NumPy's IndexError check (`_selected`)."""
        from .checks import emit_check

        m = sem.reshape(self.mask, (-1,))
        n = m.shape[0]
        if n == 0:  # nothing to select, at every call
            raise IndexError(f"index {k} is out of bounds for axis 0 with size 0")
        data = self.data if self.mask.ndim == 1 else sem.reshape(self.data, (n,) + self.rest)
        j = k if k >= 0 else -k - 1
        few = sem.ufunc("less_equal", nx.NAMESPACE["count_nonzero"](m), j)
        size = " with size 0" if j == 0 else ""
        emit_check(few, IndexError(f"index {k} is out of bounds for axis 0{size}"), self.loc)
        seen = m if k >= 0 else m[::-1]
        if j:
            seen = sem.ufunc("greater", nx.NAMESPACE["cumsum"](seen, dtype=np.int64), j)
        at = nx.NAMESPACE["argmax"](seen)
        return data, (at if k >= 0 else n - 1 - at)

    def __setitem__(self, key, value):
        if not self._writable():
            self.fail("writing into it (write through the mask: x[mask] = value)")
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) and key else (key, ())
        if isinstance(first, (int, np.integer)) and not isinstance(first, (bool, np.bool_)):
            self._write_row(int(first), rest, value)  # `m[0] = 9`: the first selected element
        elif all(k is Ellipsis or isinstance(k, slice) and k == slice(None) for k in (key if isinstance(key, tuple)
                                                                                     else (key,))):
            write(self.data, self.mask, value)  # `m[:] = v`: every selected element
        elif isinstance(key, MaskedSelection) and key.dtype == np.bool_ and self.same_mask(key) \
                and tuple(key.data.shape) == tuple(self.data.shape) and _ndim(value) == 0 \
                and not isinstance(value, MaskedSelection):
            # `m[m > 1] = v`: the selected elements where the selection's own condition holds
            where = sem.ufunc("logical_and", self.where(), key.data)
            self.data.assign(sem.select(where, sem.astype(value, self.dtype), self.data).value)
        else:
            raise UnsupportedError(
                f"{self.made} is a new array whose length is known only at run time; writing into it "
                f"with this index needs that length", ctx.current_loc(),
                "write one element (m[0] = v, m[-1] = v), all of it (m[:] = v, m *= 2), or the elements "
                "where a condition on it holds (m[m > 1] = v); or keep the shape: np.where(mask, x, v)")

    def _writable(self) -> bool:
        """Can a write go into this selection itself? A new array selected
        by a mask over the leading axes, not a slice of run-time length (a
        view of the array it slices in NumPy)."""
        return self.owned and not (self.bounds or self.windowed or self.stepped or self.axis)

    def _slice_view(self) -> bool:
        """A slice of run-time length (`x[a:b]`): NumPy's view of the array it slices. Not one whose
        bounds are read from an array (`windowed`: a whole-axis select per write would cost the axis
        per iteration, where `x[ptr[i]:ptr[i + 1]] *= 2` writes its window: 0.43 ms -> 1.7 s for
        3*10^4 rows of 3*10^5) or with a step: the in-place operator writes those through x's setitem,
        as a loop over the window (stepped.py, `inplace`)."""
        return bool(self.bounds) and not (self.owned or self.windowed or self.stepped)

    def _write_row(self, k: int, rest: tuple, value: Any) -> None:
        """m[k, *rest] = value: into the k-th selected row (`_selected`)."""
        flat, at = self._row_at(k)
        flat[(at,) + tuple(rest)] = value
        if flat is not self.data:
            self.data.assign(sem.reshape(flat, tuple(self.data.shape)).value)

    def inplace(self, res: Any, ufunc: str) -> Any:
        """`m op= v`: NumPy writes the result into m (same_kind casting, m's
        shape), seen by every name bound to it. A slice of run-time length is
        NumPy's view of the array it slices, so the result goes there however
        the view was reached (`x[a:b] *= 2`, a name, a list item, an attribute,
        a dict value: Python's setitem that follows `x[a:b] op= v` then stores
        x[a:b] into itself, nothing: indexing.setitem); a selection that cannot
        be written into gives the new one (Python rebinds the name)."""
        if self.reshaped:
            self.fail("writing through a reshaped view of it")
        if (self.view_of is not None or self._slice_view()) and isinstance(res, MaskedSelection) \
                and not np.can_cast(res.dtype, self.dtype, "same_kind"):
            from .methods import output_casting_error  # (NumPy's UFuncTypeError, before anything is written)

            raise output_casting_error(ufunc, res.dtype, self.dtype,
                                       "write `a = a op b` to get a new array of the promoted type")
        if self._slice_view() and isinstance(res, MaskedSelection) and res.axis == self.axis \
                and tuple(res.data.shape) == tuple(self.data.shape):
            # `s = x[a:b]; s *= 2`: a slice of run-time length is a view of x in NumPy, so the result is
            # written into x, as a select over the axis
            write(self.data, self.mask, res, self.bounds, self.axis)
            return self
        if self.view_of is not None and isinstance(res, MaskedSelection) and res is not self:
            # bounds read from an array, or a step: x[key] = res, a loop over the window (stepped.py); the
            # selection stays the view, whose data is a view of x (a later read sees the write)
            x, key = self.view_of
            x[key] = res
            return self
        if not (self._writable() and isinstance(res, MaskedSelection)):
            return res
        from .methods import _inplace

        if res.axis != self.axis:  # NumPy's ValueError
            raise ShapeError(f"non-broadcastable output operand: {self.made} has {self.ndim} axes, the result of "
                             f"np.{ufunc} broadcasts to {res.ndim}", ctx.current_loc())
        _inplace(self.data, res.data, ufunc)
        return self

    def __iter__(self):  # (a `for` statement over it is a loop over the mask's positions: control._over_selection)
        self.fail("iterating over it other than in a `for` statement (list(), a comprehension, unpacking)")

    def __bool__(self):  # noqa: PLE0304  (it always raises)
        self.fail("its truth value")

    def __array__(self, *args, **kwargs):
        self.fail("converting it to a NumPy array")

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        self.fail(f".{name}")


def joined_views(a: Any, b: Any) -> tuple | None:
    """Two views x[key_a], x[key_b] of one array that a traced `if` chose
    between, one at least of run-time length (`s = x[0:2]`, then `if c: s =
    x[p[0]:p[1]]`): (a's key leaves, b's, build), build(the selected leaves)
    giving x[key] of the selected bounds, a view of x as NumPy's, which an
    in-place operator writes into (`s += 1` after the `if`). None where they
    are not such views (merge.pair_up: the names' Mismatch)."""
    if not (isinstance(a, MaskedSelection) or isinstance(b, MaskedSelection)):
        return None
    (xa, ka), (xb, kb) = _view_parts(a), _view_parts(b)
    if xa is None or xa is not xb:
        return None
    (form_a, leaves_a), (form_b, leaves_b) = _key_form(ka), _key_form(kb)
    if form_a is None or form_a != form_b:
        return None

    def build(leaves: list) -> Any:
        return xa[_key_built(form_a, iter(leaves))]

    return leaves_a, leaves_b, build


def _view_parts(x: Any) -> tuple:
    """(the array, the key) of a view: a selection's view_of, a basic view's base and index."""
    if isinstance(x, MaskedSelection):
        return x.view_of if x.view_of is not None else (None, None)
    if is_tracer(x) and x.base is not None and x.index is not None:
        return x.base, x.index
    return None, None


def _key_form(key: Any) -> tuple:
    """(the key's structure, its integer leaves: a slice's bounds, integer indices); (None, None) for a key
    with anything else (an array, a mask)."""
    parts, form, leaves = key if isinstance(key, tuple) else (key,), [], []
    for k in parts:
        if isinstance(k, slice) and all(v is None or _integer_leaf(v) for v in (k.start, k.stop, k.step)):
            bounds = (k.start, k.stop, k.step)
            form.append(("slice", tuple(v is None for v in bounds)))
            leaves += [v for v in bounds if v is not None]
        elif k is None or k is Ellipsis:
            form.append((k,))
        elif _integer_leaf(k):
            form.append(("int",))
            leaves.append(k)
        else:
            return None, None
    return (isinstance(key, tuple), tuple(form)), leaves


def _integer_leaf(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) or \
        is_tracer(v) and v.ndim == 0 and v.dtype.kind in "iu"


def _key_built(form: tuple, leaves) -> Any:
    """The key of `form` (_key_form) holding `leaves`."""
    parts = []
    for f in form[1]:
        if f[0] == "slice":
            parts.append(slice(*(None if absent else next(leaves) for absent in f[1])))
        elif f[0] == "int":
            parts.append(next(leaves))
        else:
            parts.append(f[0])
    return tuple(parts) if form[0] else parts[0]


def _keepdims(res: Tracer, sel: MaskedSelection, axis) -> Tracer:
    axes = sem.norm_axes(axis, sel.ndim)
    shape = sel.rest[:sel.axis] + (1,) + sel.rest[sel.axis:]
    return sem.reshape(res, tuple(1 if i in axes else d for i, d in enumerate(shape)))


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if is_tracer(x) else tuple(np.shape(x))


def _ndim(x: Any) -> int:
    return x.ndim if isinstance(x, MaskedSelection) else len(_shape(x))


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
            setattr(MaskedSelection, f"__i{py}__", _inplace_op(op, uf))
    MaskedSelection.__neg__ = lambda self: self.elementwise(nx.NAMESPACE["negative"], (self,))
    MaskedSelection.__abs__ = lambda self: self.elementwise(nx.NAMESPACE["absolute"], (self,))
    MaskedSelection.__invert__ = lambda self: self.elementwise(
        nx.NAMESPACE["logical_not" if self.dtype == np.bool_ else "invert"], (self,))


def _inplace_op(op, ufunc: str):
    def iop(self, other):
        return self.inplace(op(self, other), ufunc)

    return iop


def _dot(a: Any, b: Any) -> Any:
    """a @ b, np.dot(a, b) where one or both are selections and neither has
    more than 2 axes, composed from elementwise products and a sum:
    `L[i, :i] @ x[:i]`, `v @ X[:, a:b]` (a selection along X's second axis),
    `X[:, a:b] @ y[a:b]`."""
    sel = a if isinstance(a, MaskedSelection) else b
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0 or na > 2 or nb > 2 or (na == 2 and nb == 2):
        sel.fail("a matrix product other than with a vector")
    for x, summed, other in ((a, na - 1, b), (b, 0, a)):  # the axis each operand sums over
        if isinstance(x, MaskedSelection) and x.axis == summed and not isinstance(other, MaskedSelection):
            x.fail(f"a product summing it against an array of shape {_shape(other)}")
    if na == 1 and nb == 2:  # a[:, None] * b summed over the first axis
        return sel.elementwise(nx.NAMESPACE["multiply"], (_column(a), b)).sum(axis=0)
    return sel.elementwise(nx.NAMESPACE["multiply"], (a, b)).sum(axis=-1 if na == 2 else None)


def _column(v: Any) -> Any:
    """v[:, None] of a 1-d array or selection."""
    if isinstance(v, MaskedSelection):
        return v.like(sem.reshape(v.data, tuple(v.data.shape) + (1,)))
    return sem.reshape(v, _shape(v) + (1,))


def _inner(a: Any, b: Any) -> Any:
    """np.vdot, np.inner of two 1-d arrays (one a selection)."""
    sel = a if isinstance(a, MaskedSelection) else b
    if _ndim(a) != 1 or _ndim(b) != 1:
        sel.fail("a product other than the dot product of two 1-d selections of the same positions")
    return _dot(a, b)


def _unit_axes(sel: MaskedSelection, shape: tuple) -> MaskedSelection:
    """sel with unit axes put in or taken out: `shape` is NumPy's shape of
    the result, -1 standing for the selection's run-time length
    (`x[a:b][:, None]`, `x[a:b].reshape(-1, 1)`, np.expand_dims). The data
    is reshaped alike and the mask stays on the one axis; any other reshape
    needs the length. A view in NumPy: a write through it is refused."""
    shape = tuple(int(d) for d in shape)
    numpy_shape = (*sel.rest[:sel.axis], -1, *sel.rest[sel.axis:])
    if sel.mask.ndim != 1 or sel.windowed or sel.stepped or shape.count(-1) != 1 \
            or [d for d in shape if d != 1] != [d for d in numpy_shape if d != 1]:
        sel.fail("np.reshape")
    at = shape.index(-1)
    out = sel.like(sem.reshape(sel.data, (*shape[:at], sel.data.shape[sel.axis], *shape[at + 1:])), at)
    out.reshaped = True
    return out


def _new_axes_shape(sel: MaskedSelection, key: Any) -> tuple | None:
    """NumPy's shape (-1: the selection's length) of `sel[key]` for a key of
    whole slices, `...` and at least one None (np.newaxis); None for any other key."""
    parts = key if isinstance(key, tuple) else (key,)
    whole = lambda p: isinstance(p, slice) and p == slice(None)  # noqa: E731
    if not any(p is None for p in parts) or not all(p is None or p is Ellipsis or whole(p) for p in parts) \
            or sum(p is Ellipsis for p in parts) > 1:
        return None
    fill = sel.ndim - sum(whole(p) for p in parts)
    if fill < 0:
        return None
    dims = iter((*sel.rest[:sel.axis], -1, *sel.rest[sel.axis:]))
    shape: list = []
    for p in (parts if Ellipsis in parts else (*parts, Ellipsis)):
        shape += [1] if p is None else [next(dims) for _ in range(fill)] if p is Ellipsis else [next(dims)]
        fill = 0 if p is Ellipsis else fill
    return tuple(shape)


def _reshape(a: Any, *shape: Any, order: str = "C", newshape: Any = None) -> MaskedSelection:
    """np.reshape / .reshape of a selection: unit axes only (`_unit_axes`)."""
    shape = (newshape,) if newshape is not None else shape
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
    if order != "C":
        a.fail(f"a reshape in order {order!r}")
    return _unit_axes(a, shape)


def _expand_dims(a: MaskedSelection, axis: Any) -> MaskedSelection:
    axes = sem.axis_tuple(axis)
    ndim = a.ndim + len(axes)
    new = set(sem.norm_axes(axes, ndim))
    dims = iter((*a.rest[:a.axis], -1, *a.rest[a.axis:]))
    return _unit_axes(a, tuple(1 if k in new else next(dims) for k in range(ndim)))


def ufunc_outer(ufunc: str, a: Any, b: Any, ravel: bool = False) -> MaskedSelection:
    """np.<ufunc>.outer(a, b) (np.outer: `ravel`, multiply) where a or b is a
    1-d selection: a with b's number of unit axes after it, combined with b
    (`np.outer(A[i + 1:, i] / A[i, i], A[i])`: rank-one updates of a shrinking block)."""
    sel = a if isinstance(a, MaskedSelection) else b
    if any(isinstance(x, MaskedSelection) and x.ndim != 1 for x in (a, b)):
        sel.fail(f"np.{'outer' if ravel else ufunc + '.outer'} of a selection of more than one axis")
    if ravel:
        a, b = (x if isinstance(x, MaskedSelection) else nx.NAMESPACE["ravel"](x) for x in (a, b))
    nb = _ndim(b)
    left = _unit_axes(a, (-1,) + (1,) * nb) if isinstance(a, MaskedSelection) else \
        sem.reshape(a, _shape(a) + (1,) * nb)
    return (left if isinstance(left, MaskedSelection) else b).elementwise(nx.NAMESPACE[ufunc], (left, b))


MaskedSelection.reshape = _reshape
MaskedSelection.__matmul__ = lambda self, other: _dot(self, other)
MaskedSelection.__rmatmul__ = lambda self, other: _dot(other, self)


def _arg_extreme(name: str):
    """x[mask].argmax() / np.argmin(x[a:b]) of a 1-d selection in the axis's
    order (a boolean mask, or a slice of step 1): the first selected
    position holding the extreme (the first NaN where there is one, as
    NumPy's), counted among the selected positions. An empty selection
    raises NumPy's ValueError at run time."""
    def call(self, axis=None, out=None, *, keepdims=False):
        if out is not None or keepdims:
            self.fail(f"np.{name} with out= or keepdims=True")
        if self.ndim != 1 or self.data.ndim != 1 or axis not in (None, 0, -1):
            self.fail(f"np.{name} of a selection of more than one axis")
        if self.windowed or (self.bounds and not self.span):
            self.fail(f"np.{name} of it")
        if self.dtype.kind not in "biuf":
            self.fail(f"np.{name} of {self.dtype} values")
        from .checks import emit_check

        data, mask = self.data, self.mask
        emit_check(sem.ufunc("logical_not", nx.NAMESPACE["any"](mask)),
                   ValueError(f"attempt to get {name} of an empty sequence"), self.loc)
        if data.dtype.kind == "b":
            data = sem.astype(data, np.int8)
        from .windows import _extreme

        fill = _extreme(np.dtype(data.dtype), lowest=name == "argmax")
        extreme = nx.NAMESPACE["max" if name == "argmax" else "min"](sem.select(mask, data, fill))
        hit = sem.ufunc("logical_and", mask, sem.ufunc("equal", data, extreme))
        if data.dtype.kind == "f":
            nans = sem.ufunc("logical_and", mask, sem.ufunc("isnan", data))
            hit = sem.select(nx.NAMESPACE["any"](nans), nans, hit)
        first = nx.NAMESPACE["argmax"](hit)
        before = sem.ufunc("logical_and", mask, sem.ufunc("less", nx.NAMESPACE["arange"](mask.shape[0]), first))
        return sem.astype(nx.NAMESPACE["sum"](before), np.intp)

    return call


MaskedSelection.argmax = _arg_extreme("argmax")
MaskedSelection.argmin = _arg_extreme("argmin")


def _selection_fn(method: str):
    def call(a, *args, **kwargs):
        return getattr(a, method)(*args, **kwargs)

    return call


SELECTION_FUNCTIONS = {name: _selection_fn(m) for name, m in [
    ("sum", "sum"), ("prod", "prod"), ("max", "max"), ("amax", "max"), ("min", "min"), ("amin", "min"),
    ("all", "all"), ("any", "any"), ("mean", "mean"), ("var", "var"), ("std", "std"),
    ("argmax", "argmax"), ("argmin", "argmin")]}
SELECTION_FUNCTIONS.update(dict.fromkeys(("dot", "matmul"), _dot))
SELECTION_FUNCTIONS.update(dict.fromkeys(("vdot", "inner"), _inner))
SELECTION_FUNCTIONS.update({"reshape": _reshape, "expand_dims": _expand_dims,
                            "outer": lambda a, b, out=None: ufunc_outer("multiply", a, b, ravel=True)})


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
                               "on the data; looptrace compiles static shapes only, except for such an array "
                               "returned, reduced or used in elementwise arithmetic", ctx.current_loc(), hint)

    return call


TABLE: dict[str, Any] = {name: _data_shaped(name) for name in _DATA_SHAPED if hasattr(np, name)}


# np.nonzero and its kin of a traced array: selections (of positions, or of the elements), which
# reductions, elementwise arithmetic and a `return` take (the returned ones picked after the run:
# trace.py `_picked`); a use that needs their length still raises the selection's error
def _selection_or_refused(name: str, build):
    refused = TABLE[name]

    def call(*args, **kwargs):
        if not nx._any_traced(*args, *kwargs.values()):
            return refused(*args, **kwargs)
        out = build(*args, **kwargs)
        return refused(*args, **kwargs) if out is None else out

    return call


def _truth(a: Any) -> Tracer:
    a = a if is_tracer(a) else sem.wrap(ctx.const_value(np.asarray(a)))
    return a if a.dtype == np.bool_ else sem.ufunc("not_equal", a, np.zeros((), a.dtype))


def _positions(shape: tuple, axis: int) -> Tracer:
    """The index along `axis` at every element of an array of `shape`."""
    line = nx.NAMESPACE["arange"](shape[axis])
    ones = tuple(shape[axis] if k == axis else 1 for k in range(len(shape)))
    return sem.broadcast_to(sem.reshape(line, ones), shape)


def _static(shape: tuple) -> bool:
    return all(isinstance(d, int) for d in shape)


def _nonzero(a, name: str = "nonzero"):
    m = _truth(a)
    if m.ndim == 0 or not _static(m.shape):
        return None  # (NumPy refuses 0-d input; a run-time length stays refused)
    return tuple(_made(MaskedSelection(_positions(m.shape, k), m, ctx.current_loc()),
                       f"np.{name}(c)[{k}] of a traced condition c") for k in range(m.ndim))


def _made(sel: MaskedSelection, what: str) -> MaskedSelection:
    """sel, a new array in NumPy (np.nonzero(c)[0], np.extract(c, x)): its data in a tracer of its own."""
    sel.made = what
    sel.data, sel.owned = sem.wrap(sel.data.value), True
    return sel


def _flatnonzero(a):
    m = _truth(a)
    if not _static(m.shape):
        return None
    m = sem.reshape(m, (-1,))
    return _made(MaskedSelection(_positions(m.shape, 0), m, ctx.current_loc()),
                 "np.flatnonzero(c) of a traced condition c")


def _argwhere(a):
    m = _truth(a)
    if not _static(m.shape):
        return None
    if m.ndim == 0:
        return None
    grid = nx.NAMESPACE["stack"]([_positions(m.shape, k) for k in range(m.ndim)], axis=-1)
    return _made(MaskedSelection(grid, m, ctx.current_loc()), "np.argwhere(c) of a traced condition c")


def _extract(condition, arr):
    m, x = _truth(condition), arr if is_tracer(arr) else sem.wrap(ctx.const_value(np.asarray(arr)))
    if not (_static(m.shape) and _static(x.shape)) or m.size != x.size:
        return None  # (NumPy's own rule for other sizes: refused as before)
    return _made(MaskedSelection(sem.reshape(x, (-1,)), sem.reshape(m, (-1,)), ctx.current_loc()),
                 "np.extract(c, x) with a traced condition c")


def _compress(condition, a, axis=None, out=None):
    if out is not None:
        return None
    x = a if is_tracer(a) else sem.wrap(ctx.const_value(np.asarray(a)))
    m = _truth(condition)
    if axis is None:
        x, axis = sem.reshape(x, (-1,)), 0
    axis = sem.norm_axes(axis, x.ndim)[0]
    if m.ndim != 1 or not _static(x.shape) or m.shape[0] != x.shape[axis]:
        return None  # (a shorter condition: NumPy's truncation, refused as before)
    return _made(MaskedSelection(x, m, ctx.current_loc(), axis=axis), "np.compress(c, x) with a traced condition c")


def _unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
            equal_nan=True, sorted=True):
    """np.unique(x): the sorted values, each run of equal ones kept at its
    first element (NaNs after every number, one of them where equal_nan).
    With return_index / return_counts, selections of the same positions
    (aligned with the values: `counts / counts.sum()`, `vals * counts`)
    holding each run's first position in x (a stable argsort's) and its
    length; return_inverse, an array of x's shape (static) holding each
    element's run. axis= stays refused."""
    x = ar if is_tracer(ar) else sem.wrap(ctx.const_value(np.asarray(ar)))
    if axis is not None:
        raise UnsupportedError("np.unique(x, axis=...) of a traced array: looptrace gives the distinct values "
                               "of the flattened array (a selection that reductions, elementwise arithmetic and "
                               "a `return` take), not the distinct rows", ctx.current_loc(), _REWRITE["unique"])
    if not _static(x.shape) or np.dtype(x.dtype).kind == "c":
        return None
    flat = sem.reshape(x, (-1,))
    if flat.shape[0] == 0:
        return None
    order = nx.NAMESPACE["argsort"](flat, kind="stable") if return_index or return_inverse else None
    s = nx.NAMESPACE["sort"](flat) if order is None else flat[order]
    later, earlier = s[1:], s[:-1]
    new = sem.ufunc("not_equal", later, earlier)
    if equal_nan and np.dtype(x.dtype).kind == "f":
        both_nan = sem.ufunc("logical_and", sem.ufunc("isnan", later), sem.ufunc("isnan", earlier))
        new = sem.ufunc("logical_and", new, sem.ufunc("logical_not", both_nan))
    first = nx.NAMESPACE["ones"]((1,), np.bool_)
    m = nx.NAMESPACE["concatenate"]([first, new])
    loc = ctx.current_loc()
    out = [_made(MaskedSelection(s, m, loc), "np.unique(x) of a traced array x")]
    if not (return_index or return_inverse or return_counts):
        return out[0]
    run = sem.ufunc("subtract", nx.NAMESPACE["cumsum"](m), np.ones((), np.int64))  # each sorted element's run
    if return_index:
        out.append(_made(MaskedSelection(order, m, loc), "np.unique(x, return_index=True)[1] of a traced x"))
    if return_inverse:
        zeros = sem.full(flat.shape, 0, np.dtype(np.int64))
        inverse = sem.wrap(ctx.emit1(prim("scatter"), [zeros.value, order.value, run.value], axis=0, mode="set"))
        out.append(sem.reshape(inverse, tuple(x.shape)))
    if return_counts:
        ones = sem.full(flat.shape, 1, np.dtype(np.int64))
        zeros = sem.full(flat.shape, 0, np.dtype(np.int64))
        per_run = sem.wrap(ctx.emit1(prim("scatter"), [zeros.value, run.value, ones.value], axis=0, mode="add"))
        out.append(_made(MaskedSelection(per_run[run], m, loc), "np.unique(x, return_counts=True)[-1] of a traced x"))
    return tuple(out)


for _name, _build in (("nonzero", _nonzero), ("flatnonzero", _flatnonzero), ("argwhere", _argwhere),
                      ("extract", _extract), ("compress", _compress), ("unique", _unique)):
    TABLE[_name] = _selection_or_refused(_name, _build)


def where(condition, x=None, y=None):
    if x is None and y is None and nx._any_traced(condition):
        return _nonzero(condition, "where") or TABLE["nonzero"](condition)  # (refused: NumPy's or looptrace's error)
    if x is not None and y is not None:
        x, y = _wrapped_int(x, y), _wrapped_int(y, x)
    return nx.where(condition, x, y)


def _wrapped_int(v: Any, other: Any) -> Any:
    """A Python int beside an integer array in np.where, as NumPy 2 takes
    it: the result has the array's dtype (NEP 50) and an int outside its
    range is cast into it, wrapping (`np.where(c, int8_x, 300)` holds 44;
    no OverflowError as `x + 300` raises), from any int a C long or an
    unsigned one holds; a larger one raises NumPy's OverflowError."""
    if type(v) is not int:
        return v
    if is_tracer(other):
        if other.weak:
            return v
        dt = np.dtype(other.dtype)
    elif isinstance(other, (np.ndarray, np.generic)):
        dt = other.dtype
    else:
        return v
    if dt.kind not in "iu":
        return v
    info = np.iinfo(dt)
    if info.min <= v <= info.max:
        return v
    if not -2 ** 63 <= v < 2 ** 64:
        raise OverflowError("Python int too large to convert to C long")
    bits = 8 * dt.itemsize
    w = v % 2 ** bits
    return w - 2 ** bits if dt.kind == "i" and w >= 2 ** (bits - 1) else w


TABLE["where"] = where


from . import selected_order  # noqa: E402,F401  (np.median/percentile/quantile of a selection)
