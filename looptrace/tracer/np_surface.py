"""The rest of NumPy's array surface a scientific kernel calls (found by the
s25 survey, tools/numpy_survey.py; its predicates, dtype queries and
refusals are in np_queries.py): shape functions and their array-API
spellings (np.permute_dims, np.concat, np.unstack, np.rollaxis, np.astype,
np.resize, Fortran-order reshape), np.pad with odd reflection, selections
with static positions (np.choose, np.compress of a constant condition,
ndarray.take), np.apply_over_axes and np.vectorize (one traced loop).

Invariant: compositions only (no primitives of their own), so each is
batched in loops, lowered on every target and differentiated through its
parts; results, dtypes and errors are NumPy's, and a refusal names the
user's line and says why. Without a traced argument each is NumPy's own.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import context as ctx
from . import layout
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, as_array0d, is_tracer
from .np_extra import _axis_of, _static_int, _strong, _tr, _u, _unsupported

_any_traced = nx._any_traced


def _np(name: str):
    return nx.NAMESPACE[name]


# --- shapes -------------------------------------------------------------------------------------------
def reshape(a, *shape, order="C", newshape=None, copy=None):
    """np.reshape; order="F" reads and writes the elements in Fortran order:
    the reversed axes reshaped in C order to the reversed shape."""
    if newshape is not None:
        shape = (newshape,)
    shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], numbers.Integral) else shape
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if not _any_traced(a):
        return np.reshape(a, shape, order=order)
    if order == "C":
        return nx.reshape(a, shape)
    if order != "F":
        raise _unsupported(f"np.reshape with order={order!r} is not supported on traced arrays",
                           "looptrace's arrays have no memory layout while tracing; pass order='C' or 'F'")
    a = _tr(a)
    ghost = layout.ghost_of(a)
    try:
        if ghost is not None:
            np.reshape(ghost, shape, order="F", copy=False)
    except ValueError:  # NumPy copies: later writes to `a` are not seen, nor writes to the result
        flipped = sem.reshape(sem.transpose(a), shape[::-1])
        made = sem.transpose(flipped)
        layout.watch(made, a)  # of an argument: its memory order may decide (layout.py)
        return made
    return nx.transpose(nx.reshape(nx.transpose(a), shape[::-1]))  # a view, as NumPy's


def ravel(a, order="C"):
    """np.ravel: a view only where `a` is contiguous in the order read (C, or
    F), else a copy, as NumPy's (where np.reshape(a, -1) is a view whenever
    strides allow: `x[::2].ravel()` is a copy, `x[::2].reshape(-1)` a view).
    order="A" reads in F order where a is F- but not C-contiguous."""
    if not _any_traced(a):
        return np.ravel(a, order=order)
    a = _tr(a)
    if order == "A":
        order = "F" if layout.contiguous(a, "F") and not layout.contiguous(a, "C") else "C"
    flat = reshape(a, (-1,), order=order)
    if order in ("C", "F") and layout.ghost_of(a) is not None and not layout.contiguous(a, order):
        return nx.copy(flat)
    return flat


def reshape_method(self, *shape, order="C", copy=None):
    return reshape(self, *shape, order=order)


def ravel_method(self, order="C"):
    return ravel(self, order)


def flatten_method(self, order="C"):
    return nx.copy(ravel(self, order))


def permute_dims(a, /, axes=None):
    return nx.transpose(a, axes)


def concat(arrays, /, *, axis=0):
    return _np("concatenate")(arrays, axis=axis)


def unstack(x, /, *, axis=0):
    if not _any_traced(x):
        return np.unstack(x, axis=axis)
    x = _tr(x)
    if x.ndim == 0:
        raise ValueError("Input array must be at least 1-d.")
    moved = nx.moveaxis(x, _axis_of(axis, x.ndim, "np.unstack"), 0)
    return tuple(moved[i] for i in range(moved.shape[0]))


def rollaxis(a, axis, start=0):
    """NumPy's: `axis` moved to before `start`."""
    if not _any_traced(a):
        return np.rollaxis(a, axis, start)
    a = _tr(a)
    n = a.ndim
    axis = _axis_of(axis, n, "np.rollaxis")
    start = start + n if start < 0 else start
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in")
    start = start - 1 if axis < start else start
    axes = [i for i in range(n) if i != axis]
    axes.insert(start, axis)
    return nx.transpose(a, axes)


def astype(x, dtype, /, *, copy=True, device=None):
    if not _any_traced(x):
        return np.astype(x, dtype, copy=copy)
    if not copy:
        return nx.astype(x, dtype, copy=False)
    return nx.copy(sem.astype(x, dtype)) if np.dtype(dtype) == _tr(x).dtype else sem.astype(x, dtype)


def atleast_1d(*arys):
    """NumPy 2's: one array for one argument, a tuple for several."""
    return _each(nx.atleast_1d, np.atleast_1d, arys)


def atleast_2d(*arys):
    return _each(nx.atleast_2d, np.atleast_2d, arys)


def _each(traced, real, arys: tuple):
    if not _any_traced(*arys):
        return real(*arys)
    res = tuple(traced(a) for a in arys)
    return res[0] if len(res) == 1 else res


def asanyarray(a, dtype=None, order=None, *, like=None):
    return nx.asarray(a, dtype)


def iterable(y):
    """A traced array is iterable unless it is 0-d (NumPy's iter() test)."""
    return y.ndim > 0 if is_tracer(y) else np.iterable(y)


class _Broadcast:
    """np.broadcast of traced arrays: its static attributes; iterating over the
    element tuples would need their values while tracing: refused."""

    def __init__(self, *args):
        shapes = [tuple(a.shape) if is_tracer(a) else np.shape(a) for a in args]
        self.shape = np.broadcast_shapes(*shapes)
        self.ndim = self.nd = len(self.shape)
        self.size = int(np.prod(self.shape))
        self.numiter = len(args)
        self.index = 0

    def __iter__(self):
        raise _unsupported("iterating over np.broadcast of traced arrays is not supported",
                           "use np.broadcast_arrays(a, b) and index the arrays")


def broadcast(*args):
    return _Broadcast(*args) if _any_traced(*args) else np.broadcast(*args)


def resize(a, new_shape):
    """a flattened, repeated to the new size and reshaped (zeros for an empty a)."""
    if not _any_traced(a):
        return np.resize(a, new_shape)
    shape = (new_shape,) if isinstance(new_shape, numbers.Integral) or is_tracer(new_shape) else tuple(new_shape)
    shape = tuple(_static_int(d, "np.resize's new_shape") if is_tracer(d) else int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    flat = nx.ravel(_strong(a))
    size = int(np.prod(shape))
    if flat.shape[0] == 0 or size == 0:
        return sem.full(shape, 0, flat.dtype)
    reps = -(-size // flat.shape[0])
    whole = sem.concatenate([flat] * reps, 0) if reps > 1 else flat
    return sem.reshape(whole[:size], shape)


def ascontiguousarray(a, dtype=None, *, like=None):
    """The array itself where it is C-ordered already, else a C-ordered copy
    (at least 1-d), as NumPy's (tracer/layout.py follows the layout)."""
    if not _any_traced(a):
        return np.ascontiguousarray(a, dtype)
    return nx.in_order(_strong(a), "C", dtype)


def asfortranarray(a, dtype=None, *, like=None):
    if not _any_traced(a):
        return np.asfortranarray(a, dtype)
    return nx.in_order(_strong(a), "F", dtype)


def require(a, dtype=None, requirements=None, *, like=None):
    if not _any_traced(a):
        return np.require(a, dtype, requirements)
    a = _strong(a)
    return a if dtype is None or np.dtype(dtype) == a.dtype else sem.astype(a, dtype)


def asarray_chkfinite(a, dtype=None, order=None):
    """a, with a run-time ValueError where it holds an inf or a NaN."""
    if not _any_traced(a):
        return np.asarray_chkfinite(a, dtype, order)
    from .checks import emit_check

    a = _strong(a) if dtype is None else sem.astype(_strong(a), dtype)
    if a.dtype.kind in "fc":
        bad = sem.reduce("reduce_any", _u("logical_not", _u("isfinite", a)))
        emit_check(bad, ValueError("array must not contain infs or NaNs"))
    return a


# --- np.pad with odd reflection ---------------------------------------------------------------------------
def pad(array, pad_width, mode="constant", **kwargs):
    """np.pad; reflect and symmetric with reflect_type='odd' by NumPy's own loop
    (tracer/np_extra.py has the other modes): per axis, chunks of the reflected
    area written outwards, each 2 * edge - the mirrored values, until the pad
    is filled."""
    from . import np_extra as nxe

    odd = mode in ("reflect", "symmetric") and kwargs.get("reflect_type") == "odd"
    if not odd or not _any_traced(array, pad_width, *kwargs.values()) or set(kwargs) - {"reflect_type"}:
        return nxe.pad(array, pad_width, mode, **kwargs)
    a = _strong(array)
    widths = nxe._pad_pairs(pad_width, a.ndim)
    padded = nx.copy(nxe.pad(a, widths, "constant"))
    original = tuple(slice(lo, lo + d) for (lo, _), d in zip(widths, a.shape))
    for axis, (left, right) in enumerate(widths):
        roi = padded[tuple(slice(None) for _ in range(axis + 1)) + original[axis + 1:]]
        if a.shape[axis] == 1 and (left or right):  # NumPy's legacy: a singleton axis is padded with its edge
            edge = roi[_at(axis, slice(left, left + 1))]
            roi[_at(axis, slice(0, left))] = edge
            roi[_at(axis, slice(roi.shape[axis] - right, None))] = edge
            continue
        while left > 0 or right > 0:
            left, right = _reflect_odd_step(roi, axis, left, right, a.shape[axis], mode == "symmetric")
    return padded


def _at(axis: int, sl: slice) -> tuple:
    return (slice(None),) * axis + (sl,)


def _reflect_odd_step(padded: Tracer, axis: int, left: int, right: int, period: int, include_edge: bool) -> tuple:
    """One pass of NumPy's _set_reflect_both with method 'odd'."""
    old = padded.shape[axis] - right - left
    if include_edge:
        old, offset = old // period * period, 1
    else:
        old, offset = (old - 1) // (period - 1) * (period - 1), 0
    if left > 0:
        n = min(old, left)
        stop = left - offset
        chunk = padded[_at(axis, slice(stop + n, stop, -1))]
        chunk = _u("subtract", _u("multiply", 2, padded[_at(axis, slice(left, left + 1))]), chunk)
        padded[_at(axis, slice(left - n, left))] = chunk
        left -= n
    if right > 0:
        n = min(old, right)
        size = padded.shape[axis]
        start = size - right + offset - 2
        chunk = padded[_at(axis, slice(start, start - n if start - n >= 0 else None, -1))]
        chunk = _u("subtract", _u("multiply", 2, padded[_at(axis, slice(size - right - 1, size - right))]), chunk)
        padded[_at(axis, slice(size - right, size - right + n))] = chunk
        right -= n
    return left, right


# --- selections with static positions -------------------------------------------------------------------
def choose(a, choices, out=None, mode="raise"):
    """choices[a[i]][i] for each i: the choices and a broadcast together, one
    select per choice (so the gradient flows to the chosen elements)."""
    nx._no_out(out)
    if not _any_traced(a, choices):
        return np.choose(a, choices, mode=mode)
    idx = _strong(a)
    if idx.dtype.kind not in "iub":
        raise TypeError(f"Cannot cast array data from {idx.dtype!r} to dtype('int64') according to the rule 'safe'")
    opts = [_strong(c) for c in (choices if not is_tracer(choices) else [choices[i] for i in range(choices.shape[0])])]
    n = len(opts)
    if n == 0:
        raise ValueError("0-length sequence.")
    dtype = np.result_type(*[c.dtype for c in opts])
    shape = np.broadcast_shapes(tuple(idx.shape), *[tuple(c.shape) for c in opts])
    idx = sem.astype(idx, np.int64)
    def raising():
        from .checks import emit_check

        bad = sem.reduce("reduce_any", _u("logical_or", _u("less", idx, 0), _u("greater_equal", idx, n)))
        emit_check(bad, ValueError("invalid entry in choice array"))
        return idx

    from .np_writes import index_by_mode

    idx = index_by_mode(idx, n, mode, raising)
    res = sem.broadcast_to(sem.astype(opts[0], dtype), shape)
    for k in range(1, n):
        res = sem.select(_u("equal", idx, k), sem.astype(opts[k], dtype), res)
    return sem.broadcast_to(res, shape)


def compress(condition, a, axis=None, out=None):
    """a at the positions where a constant condition holds; a traced condition
    gives a length that depends on the data (refused, masked.py)."""
    nx._no_out(out)
    if _any_traced(condition) or not _any_traced(a):
        from . import masked

        return masked.TABLE["compress"](condition, a, axis=axis)
    cond = np.asarray(condition, dtype=bool)
    if cond.ndim != 1:
        raise ValueError("condition must be a 1-d array")
    a = _tr(a)
    if axis is None:
        a, axis = nx.ravel(a), 0
    axis = _axis_of(axis, a.ndim, "np.compress")
    pos = np.flatnonzero(cond)
    if pos.size and pos[-1] >= a.shape[axis]:
        raise IndexError(f"index {pos[-1]} is out of bounds for axis {axis} with size {a.shape[axis]}")
    return _np("take")(a, pos, axis=axis)


def compress_method(self, condition, axis=None, out=None):
    return compress(condition, self, axis, out)


def take_method(self, indices, axis=None, out=None, mode="raise"):
    return _np("take")(self, indices, axis=axis, out=out, mode=mode)


def choose_method(self, choices, out=None, mode="raise"):
    return choose(self, choices, out, mode)


# --- functions of functions ------------------------------------------------------------------------------
def apply_over_axes(func, a, axes):
    """func(a, axis) for each axis in turn, keeping the dimensions (NumPy's)."""
    if not _any_traced(a):
        return np.apply_over_axes(func, a, axes)
    from .runtime import call

    val = _tr(a)
    n = val.ndim
    for axis in (axes,) if np.ndim(axes) == 0 else axes:
        axis = axis + n if axis < 0 else axis
        res = _tr(call(func, val, axis))
        if res.ndim != val.ndim:
            res = nx.expand_dims(res, axis)
            if res.ndim != val.ndim:
                raise ValueError("function is not returning an array of the correct shape")
        val = res
    return val


class _Vectorized:
    """np.vectorize(pyfunc) as traced code sees it: on traced arguments, NumPy's
    loop of pyfunc over the broadcast elements, as one traced loop (the body
    traced once, batched by the vectorizer where pyfunc allows), the output
    dtypes from otypes or from the first element's results, as NumPy's."""

    def __init__(self, pyfunc, otypes=None, doc=None, excluded=None, cache=False, signature=None):
        self.real = np.vectorize(pyfunc, otypes=otypes, doc=doc, excluded=excluded, cache=cache,
                                 signature=signature)
        self.pyfunc, self.otypes, self.excluded, self.signature = pyfunc, otypes, set(excluded or ()), signature

    def __call__(self, *args, **kwargs):
        if not _any_traced(*args, *kwargs.values()):
            return self.real(*args, **kwargs)
        if self.signature is not None:
            raise _unsupported("np.vectorize with signature= is not supported on traced values",
                               "call the function in a loop over the rows, or use np.apply_along_axis")
        spots = [i for i in range(len(args)) if i not in self.excluded]
        names = [k for k in kwargs if k not in self.excluded]
        arrays = [_strong(args[i]) for i in spots] + [_strong(kwargs[k]) for k in names]
        shape = np.broadcast_shapes(*[tuple(x.shape) for x in arrays])
        count = int(np.prod(shape))
        flats = [sem.reshape(sem.broadcast_to(x, shape), (count,)) for x in arrays]

        def at(i):
            new_args, new_kw = list(args), dict(kwargs)
            for k, f in zip(spots + names, flats):
                if isinstance(k, str):
                    new_kw[k] = f[i]
                else:
                    new_args[k] = f[i]
            from .runtime import call

            return call(self.pyfunc, *new_args, **new_kw)

        if count == 0:
            raise ValueError("cannot call `vectorize` on size 0 inputs unless `otypes` is set")
        first = at(0)
        bufs = self._fill(at, count, first if isinstance(first, tuple) else (first,))
        results = [sem.reshape(b, shape) for b in bufs]
        results = [as_array0d(r) if not shape else r for r in results]
        return tuple(results) if isinstance(first, tuple) else results[0]

    def _fill(self, at, count: int, first: tuple) -> list:
        """One buffer per output, element 0 from `first`, the rest in a traced loop."""
        types = [np.dtype(self.otypes[k]) if self.otypes else _strong(r).dtype for k, r in enumerate(first)]
        bufs = [nx.zeros((count,), t) for t in types]
        for b, r in zip(bufs, first):
            b[0] = r
        if count > 1:
            from . import control

            def body(i):
                res = at(i)
                for b, r in zip(bufs, res if isinstance(res, tuple) else (res,)):
                    b[i] = r

            loc = ctx.current_loc()
            control.for_(range(1, count), body, lambda: (), lambda v: None, (), loc=(loc.file, loc.line))
        return bufs

    def __getattr__(self, name):
        return getattr(self.real, name)


def from_numpy_vectorize(v: np.vectorize) -> _Vectorized:
    """A NumPy vectorize object (an @np.vectorize made outside the trace) as traced code calls it."""
    return _Vectorized(v.pyfunc, v.otypes or None, None, v.excluded, v.cache, v.signature)


# --- np.full, np.full_like: the fill cast unsafely ---------------------------------------------------------
def full(shape, fill_value, dtype=None, order="C", **kw):
    """np.full: NumPy copies the fill in with casting='unsafe', so a Python float
    outside an int dtype's range wraps (np.full(2, 300.0, np.int8) is [44, 44],
    NaN gives INT_MIN) where a Python int raises OverflowError."""
    if dtype is not None:
        fill_value = _unsafe_fill(fill_value, dtype)
    return nx.full(shape, fill_value, dtype, order, **kw)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    """np.full_like: the fill cast into the dtype as np.full's."""
    fill_value = _unsafe_fill(fill_value, nx._like(a, dtype, shape)[0])
    return nx.full_like(a, fill_value, dtype, order, subok, shape)


def _unsafe_fill(fill: Any, dtype: Any) -> Any:
    """A Python float or complex fill as the NumPy scalar NumPy's unsafe copy casts
    into an int dtype (a Python int stays: its range is checked)."""
    if isinstance(fill, (float, complex)) and np.dtype(dtype).kind in "iu":
        return np.asarray(fill)[()]
    return fill


def vectorize(pyfunc=np._NoValue, otypes=None, doc=None, excluded=None, cache=False, signature=None):
    if pyfunc is np._NoValue:  # @np.vectorize(otypes=...) as a decorator factory
        return lambda f: _Vectorized(f, otypes, doc, excluded, cache, signature)
    return _Vectorized(pyfunc, otypes, doc, excluded, cache, signature)


TABLE: dict[str, Any] = {
    "reshape": reshape, "ravel": ravel, "permute_dims": permute_dims, "concat": concat, "unstack": unstack,
    "rollaxis": rollaxis, "astype": astype, "resize": resize, "ascontiguousarray": ascontiguousarray,
    "asfortranarray": asfortranarray, "require": require, "asarray_chkfinite": asarray_chkfinite,
    "choose": choose, "compress": compress, "apply_over_axes": apply_over_axes, "vectorize": vectorize, "pad": pad,
    "atleast_1d": atleast_1d, "atleast_2d": atleast_2d, "asanyarray": asanyarray, "iterable": iterable,
    "broadcast": broadcast, "full": full, "full_like": full_like,
}
METHODS: dict[str, Any] = {"reshape": reshape_method, "ravel": ravel_method, "flatten": flatten_method,
                           "take": take_method, "compress": compress_method, "choose": choose_method}
