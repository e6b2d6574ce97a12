"""NumPy array functions under tracing that rearrange, repeat, scan or sort:
roll, diff, tile, repeat, meshgrid, broadcast_arrays, linspace (traced
endpoints), convolve/correlate, cumsum/cumprod (and the nan forms), sort,
argsort, take_along_axis, count_nonzero, ptp.

Invariant: each is a composition of existing primitives (STYLE.md rule 2):
prefix sums and products are one `linear_scan` (ops/scan.py), sorting is the
`sort`/`argsort` pair (ops/sort.py); shapes follow NumPy's rules for the
static arguments and every output dtype is the one NumPy gives. Without a
traced argument each function is NumPy's own.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from looptrace.errors import ShapeError, TraceError, UnsupportedError
from looptrace.ops import get as prim
from looptrace.ops.reduce import reduced_dtype

from . import context as ctx
from . import indexing
from . import semantics as sem
from . import numpy_api as nx
from .array import Tracer, is_tracer
from .external import concrete_if_outside

_tr, _any_traced = nx._tr, nx._any_traced


def _axis(axis: int, ndim: int) -> int:
    return sem.norm_axes(axis, ndim)[0]


def _along(a: Tracer, axis: int, start: int, stop: int, step: int = 1) -> Tracer:
    """a[..., start:stop:step, ...] on `axis` (a copy-free read)."""
    return a[(slice(None),) * axis + (slice(start, stop, step),)]


def _static_int(x: Any, what: str) -> int:
    """A count that decides a shape; an int argument it comes from is
    specialized on (tracer/static.py), anything else traced is an error."""
    if is_tracer(x):
        from .static import concrete_error

        raise concrete_error([x], f"{what} must be a static integer; this one is a traced value",
                             "compute it from .shape, or pass it in static_argnames")
    return operator.index(x)


def _moveaxis(a: Tracer, src: int, dst: int) -> Tracer:
    if src == dst:
        return a
    perm = [i for i in range(a.ndim) if i != src]
    perm.insert(dst, src)
    return sem.transpose(a, perm)


def iota(n: int, dtype: Any = np.int64) -> Tracer:
    return sem.astype(sem.wrap(ctx.emit1(prim("iota"), [], shape=(n,), dtype=np.dtype(np.int64), axis=0)),
                      dtype)


# --- values written into an array (np.put, np.place, np.putmask, np.insert, np.fill_diagonal) -----------
def converted(value: Any, dtype: Any) -> Tracer:
    """`value` as np.array(value, dtype) makes it, the values np.put, np.place,
    np.putmask, np.insert and np.fill_diagonal write: a Python int that `dtype`
    does not hold raises OverflowError, a Python float into an int dtype goes
    through int() first (NaN: ValueError, infinity: OverflowError, 300.0 into
    int8: OverflowError); NumPy scalars and arrays are cast unsafely. A
    constant raises while tracing, a traced Python number where the call runs
    (the check of semantics.as_value, as `a[i] = k`'s)."""
    dtype = np.dtype(dtype)
    if is_tracer(value) and value.weak and _known(value) is not None:
        value = _known(value)  # (a Python number traced as a constant)
    if not is_tracer(value) and not isinstance(value, (np.ndarray, np.generic)) and not sem.traced_sequence(value):
        np.array(value, dtype=dtype)  # NumPy's own error for a constant it does not take
        return sem.astype(sem.wrap(_tr(value).value), dtype)
    if isinstance(value, (list, tuple)) and value and sem.traced_sequence(value):  # [i, 300]: each as NumPy's
        return nx.NAMESPACE["stack"]([converted(x, dtype) for x in value])
    t = _tr(value)
    if t.weak and dtype.kind in "iu":
        t = _python_int(t)
    return sem.astype(t, dtype)


def _python_int(t: Tracer) -> Tracer:
    """int(t) of a traced Python number stored into an int array, as NumPy converts it."""
    if t.dtype.kind == "c":
        raise TypeError("int() argument must be a string, a bytes-like object or a real number, not 'complex'")
    if t.dtype.kind != "f":
        return t
    from .pymath import int_of_whole

    return int_of_whole(t)


def assigned(value: Any, dtype: Any) -> Tracer:
    """A scalar as `a[...] = value` stores it into an array of `dtype` (ndarray.fill,
    np.pad's constants): a Python number as `converted`, and a NumPy int or float
    scalar into a signed int dtype through int() too (NumPy 2: np.int64(300) into
    int8 raises OverflowError), into an unsigned one cast in C (300.0 gives 44)."""
    dtype = np.dtype(dtype)
    known = _known(value)
    if known is not None:
        probe = np.empty((), dtype)
        probe.fill(known)  # NumPy's own error for a constant it does not take
        return sem.wrap(ctx.own_const(probe))
    if value.ndim:
        raise ValueError("setting an array element with a sequence.")
    if dtype.kind not in "iu":
        return sem.astype(value, dtype)
    if value.weak and dtype.kind in "iu" and value.dtype.kind == "c":
        _python_int(value)  # int()'s TypeError
    out = sem.full((), 0, dtype)
    indexing.setitem(out, Ellipsis, value)  # (the one rule of a scalar stored into an array)
    return sem.wrap(out.value)


def _known(value: Any) -> Any:
    """A scalar value known while tracing (a Python number, a NumPy scalar, a
    traced constant: a Python number where it is weak), else None."""
    if not is_tracer(value):
        return value
    const = value.value.const
    if const is None or value.ndim:
        return None
    return const.item() if value.weak else const[()]


# --- prefix sums and products (linear_scan) ---------------------------------------------------------
def cumsum(a, axis=None, dtype=None, out=None):
    nx._no_out(out)
    if not _any_traced(a):
        return np.cumsum(a, axis=axis, dtype=dtype)
    return _prefix(_tr(a), axis, dtype, "add")


def cumprod(a, axis=None, dtype=None, out=None):
    nx._no_out(out)
    if not _any_traced(a):
        return np.cumprod(a, axis=axis, dtype=dtype)
    return _prefix(_tr(a), axis, dtype, "multiply")


def nancumsum(a, axis=None, dtype=None, out=None):
    nx._no_out(out)
    if not _any_traced(a):
        return np.nancumsum(a, axis=axis, dtype=dtype)
    return _prefix(_nan_to(_tr(a), 0), axis, dtype, "add")


def nancumprod(a, axis=None, dtype=None, out=None):
    nx._no_out(out)
    if not _any_traced(a):
        return np.nancumprod(a, axis=axis, dtype=dtype)
    return _prefix(_nan_to(_tr(a), 1), axis, dtype, "multiply")


def _nan_to(a: Tracer, fill) -> Tracer:
    if a.dtype.kind not in "fc":
        return a
    return sem.select(sem.ufunc("isnan", a), sem.astype(sem.full((), fill, a.dtype), a.dtype), a)


_ADDS_EXACTLY = {"f": -0.0, "c": complex(-0.0, -0.0)}  # the zero z with z + x == x for every x, -0.0 too


def _prefix(a: Tracer, axis, dtype, ufunc: str) -> Tracer:
    """np.add/multiply.accumulate as one linear_scan over the moved axis:
    cumsum is H[t] = 1 * H[t-1] + x[t] from 0, cumprod H[t] = x[t] * H[t-1] + 0 from 1.
    For floats that 0 is -0.0, the zero that adds exactly (-0.0 + x is x,
    +0.0 + -0.0 is +0.0): NumPy's first partial sum is x[0] itself, and a
    product that is -0.0 stays -0.0 (np.cumsum([-0.0, 1.0]) is [-0.0, 1.0])."""
    if axis is None:
        a, axis = sem.reshape(a, (-1,)), 0
    axis = _axis(axis, a.ndim)
    prim_name = "reduce_sum" if ufunc == "add" else "reduce_prod"
    dt = np.dtype(dtype) if dtype is not None else reduced_dtype(prim_name, a.dtype)
    work = np.dtype(np.int64) if dt.kind == "b" else dt  # bool accumulation: count, then != 0
    if dt.kind == "b":  # NumPy casts to bool first: add is `or`, multiply `and` (0.5 and -3 + 3 are True)
        a = sem.astype(a, dt)
    x = _moveaxis(sem.astype(a, work), axis, 0)
    state = tuple(x.shape[1:])
    one, zero = sem.full((), 1, work), sem.full((), _ADDS_EXACTLY.get(work.kind, 0), work)
    if ufunc == "add":
        coef_a, coef_b, h0 = one, x, sem.full(state, _ADDS_EXACTLY.get(work.kind, 0), work)
    else:
        coef_a, coef_b, h0 = x, zero, sem.full(state, 1, work)
    if x.shape[0] == 0:
        res = x
    else:
        res = sem.wrap(ctx.emit1(prim("linear_scan"), [coef_a.value, coef_b.value, h0.value]))
    res = _moveaxis(res, 0, axis)
    return sem.ufunc("not_equal", res, 0) if dt.kind == "b" else res


# --- differences, rolls, tiles, repeats ---------------------------------------------------------------
def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    if not _any_traced(a, prepend, append):
        return np.diff(a, n=n, axis=axis, prepend=prepend, append=append)
    a = _tr(a)
    n = _static_int(n, "np.diff's n")
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = _axis(axis, a.ndim)
    parts = [_edge(x, a, axis) for x in (prepend,) if x is not np._NoValue] + [a] + \
        [_edge(x, a, axis) for x in (append,) if x is not np._NoValue]
    if len(parts) > 1:
        a = sem.concatenate(parts, axis)
    op = "not_equal" if a.dtype == np.bool_ else "subtract"
    for _ in range(n):
        m = a.shape[axis]
        a = sem.ufunc(op, _along(a, axis, 1, m), _along(a, axis, 0, max(m - 1, 0)))
    return a


def _edge(x, a: Tracer, axis: int) -> Tracer:
    """prepend/append: a scalar becomes one slice along `axis` (a Python number as
    NumPy's asanyarray makes it: `prepend=0` of float32 data gives float64)."""
    x = _tr(np.asarray(x) if isinstance(x, (bool, int, float, complex)) else x)
    if x.ndim == 0:
        shape = tuple(1 if i == axis else d for i, d in enumerate(a.shape))
        return sem.broadcast_to(x, shape)
    return x


def roll(a, shift, axis=None):
    if not _any_traced(a, shift):
        return np.roll(a, shift, axis=axis)
    a = _tr(a)
    if axis is None:
        return sem.reshape(roll(sem.reshape(a, (-1,)), shift, 0), a.shape)
    axes = sem.axis_tuple(axis)
    shifts = tuple(shift) if isinstance(shift, (tuple, list)) else (shift,)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    if len(axes) == 1 and len(shifts) > 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    res = a
    for s, ax in zip(shifts, axes):
        res = _roll1(res, s, _axis(ax, a.ndim))
    return res if res is not a else sem.wrap(a.value)


def _roll1(a: Tracer, shift, axis: int) -> Tracer:
    n = a.shape[axis]
    if n == 0:
        return a
    if is_tracer(shift):  # out[i] = a[(i - shift) mod n]: a gather
        if shift.dtype.kind not in "iu" or shift.ndim:
            raise TraceError("np.roll needs an integer shift", ctx.current_loc())
        src = sem.ufunc("remainder", sem.ufunc("subtract", iota(n), sem.astype(shift, np.int64)), n)
        return sem.wrap(ctx.emit1(prim("gather"), [a.value, src.value], axis=axis))
    s = operator.index(shift) % n
    if s == 0:
        return a
    return sem.concatenate([_along(a, axis, n - s, n), _along(a, axis, 0, n - s)], axis)


def tile(A, reps):
    if not _any_traced(A, reps):
        return np.tile(A, reps)
    A = _tr(A)
    reps = (reps,) if not isinstance(reps, (tuple, list)) else tuple(reps)
    reps = tuple(_static_int(r, "np.tile's reps") for r in reps)
    d = max(A.ndim, len(reps))
    shape = (1,) * (d - A.ndim) + tuple(A.shape)
    reps = (1,) * (d - len(reps)) + reps
    if all(r == 1 for r in reps):
        return sem.reshape(sem.wrap(A.value), shape)
    spread = sem.reshape(A, tuple(x for s in shape for x in (1, s)))
    spread = sem.broadcast_to(spread, tuple(x for r, s in zip(reps, shape) for x in (r, s)))
    return sem.reshape(spread, tuple(r * s for r, s in zip(reps, shape)))


def repeat(a, repeats, axis=None):
    repeats = concrete_if_outside(repeats)  # counts read from outside decide the shape: baked in, guarded
    if not _any_traced(a, repeats):
        return np.repeat(a, repeats, axis=axis)
    if _any_traced(repeats):
        from .static import UnsupportedConcrete, concrete_error

        counts = repeats if is_tracer(repeats) else None
        raise concrete_error([counts] if counts is not None and counts.ndim == 0 else [],
                             "np.repeat with traced repeat counts gives an array whose length depends on "
                             "the data", "pass the counts as a NumPy array or Python ints (they are then "
                             "constants)", cls=UnsupportedConcrete)
    a = _tr(a)
    if axis is None:
        a, axis = sem.reshape(a, (-1,)), 0
    axis = _axis(axis, a.ndim)
    n = a.shape[axis]
    reps = np.asarray(repeats)
    if reps.ndim == 0:
        r = operator.index(reps.item())
        if r < 0:
            raise ValueError("negative dimensions are not allowed")
        spread = sem.reshape(a, a.shape[:axis + 1] + (1,) + a.shape[axis + 1:])
        spread = sem.broadcast_to(spread, a.shape[:axis + 1] + (r,) + a.shape[axis + 1:])
        return sem.reshape(spread, a.shape[:axis] + (n * r,) + a.shape[axis + 1:])
    idx = np.repeat(np.arange(n), np.broadcast_to(reps, (n,)) if reps.size == 1 else reps)
    return sem.wrap(ctx.emit1(prim("gather"), [a.value, ctx.own_const(idx, np.int64)], axis=axis))


# --- triangles ----------------------------------------------------------------------------------------
def tril(m, k=0):
    if not _any_traced(m, k):
        return np.tril(m, k)
    return _triangle(_tr(m), k, lower=True)


def triu(m, k=0):
    if not _any_traced(m, k):
        return np.triu(m, k)
    return _triangle(_tr(m), k, lower=False)


def _triangle(a: Tracer, k, lower: bool) -> Tracer:
    """The last two axes' elements at or below (np.tril) or at or above
    (np.triu) diagonal k kept, the others zero: a select on the positions'
    column - row, which a loop nest computes in place. A 1-d input is its
    row repeated, as NumPy's."""
    if a.ndim == 0:
        raise ValueError("np.tril/np.triu need an array of at least one dimension")
    if a.ndim == 1:
        a = sem.broadcast_to(a, (a.shape[0], a.shape[0]))
    rows, cols = a.shape[-2], a.shape[-1]
    offset = sem.ufunc("subtract", sem.reshape(iota(cols), (1, cols)), sem.reshape(iota(rows), (rows, 1)))
    keep = sem.ufunc("less_equal" if lower else "greater_equal", offset, k)
    return nx.where(keep, a, sem.full((), 0, a.dtype))


# --- grids --------------------------------------------------------------------------------------------
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if not _any_traced(*xi):
        return np.meshgrid(*xi, copy=copy, sparse=sparse, indexing=indexing)
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    ones = (1,) * ndim
    out = [sem.reshape(_tr(x), ones[:i] + (-1,) + ones[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        out[0] = sem.reshape(out[0], (1, -1) + ones[2:])
        out[1] = sem.reshape(out[1], (-1, 1) + ones[2:])
    if not sparse:
        out = list(broadcast_arrays(*out))
    return tuple(sem.wrap(o.value) for o in out)


def broadcast_arrays(*args, subok=False):
    if not _any_traced(*args):
        return np.broadcast_arrays(*args, subok=subok)
    args = [_tr(x) for x in args]
    try:
        shape = np.broadcast_shapes(*(x.shape for x in args))
    except ValueError:
        raise ShapeError("shape mismatch: objects cannot be broadcast to a single shape: "
                         + ", ".join(str(x.shape) for x in args), ctx.current_loc()) from None
    # an array of the whole shape is a view of itself (writes reach it); a broadcast one is read-only
    return tuple(nx.reshape(x, shape) if tuple(x.shape) == tuple(shape) and not x.weak else
                 nx.read_only(x, lambda b: sem.broadcast_to(b, shape)) for x in args)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, **kw):
    """NumPy's algorithm with traced endpoints; `num` must be static."""
    if not _any_traced(start, stop, num):
        res = np.linspace(start, stop, num, endpoint, retstep, dtype, axis, **kw)
        return (sem.wrap(ctx.own_const(res[0])), res[1]) if retstep else sem.wrap(ctx.own_const(res))
    num = _static_int(num, "np.linspace's num")
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    dt = sem.result_type(start, stop, 1.0)
    start, stop = sem.astype(_tr(start), dt), sem.astype(_tr(stop), dt)
    delta = sem.ufunc("subtract", stop, start)
    y = sem.reshape(iota(num, dt), (-1,) + (1,) * delta.ndim)
    if div > 0:
        step = sem.ufunc("divide", delta, div)
        zero = sem.reduce("reduce_any", sem.ufunc("equal", step, 0))  # denormal deltas: NumPy's gh-5437 path
        y = sem.select(zero, sem.ufunc("multiply", sem.ufunc("divide", y, div), delta),
                       sem.ufunc("multiply", y, step))
    else:
        step = sem.full((), np.nan, dt)
        step.weak = True  # NumPy's step is then the Python float nan
        y = sem.ufunc("multiply", y, delta)
    y = sem.ufunc("add", y, start)
    if endpoint and num > 1:  # the last sample is stop exactly: a select, fused where y is read
        at_end = sem.reshape(sem.ufunc("equal", iota(num), num - 1), (-1,) + (1,) * delta.ndim)
        y = sem.select(at_end, sem.broadcast_to(stop, y.shape), y)
    if axis != 0:
        y = _moveaxis(y, 0, _axis(axis, y.ndim))
    if dtype is not None and np.dtype(dtype).kind in "iu":
        y = sem.ufunc("floor", y)
    if dtype is not None:
        y = sem.astype(y, dtype)
    return (y, step) if retstep else y


def linspace_at(start, stop, num: int, at: Tracer, dtype: Any) -> Tracer | None:
    """np.linspace(start, stop, num, dtype=dtype)[at] for scalar start and stop
    and integer positions `at` in [0, num), each element computed as linspace
    computes it (the position times the step, plus start; the last one stop),
    so no array of samples is read at data-dependent positions: such a read is
    a gather, which LLVM does not vectorize on every CPU (np.histogram's reads
    of its edges kept its index pass scalar). None where the formula does not
    give NumPy's samples (a step of zero: NumPy's denormal path)."""
    if num < 2:
        return None
    div = num - 1
    if not _any_traced(start, stop):
        dt = np.result_type(start, stop, 1.0)
        first, last = np.asarray(start, dt)[()], np.asarray(stop, dt)[()]
        step = (last - first) / dt.type(div)
        samples = np.arange(num, dtype=dt) * step + first
        samples[-1] = last
        if step == 0 or not np.array_equal(samples.astype(dtype), np.linspace(start, stop, num, dtype=dtype),
                                           equal_nan=True):
            return None
        y = sem.ufunc("add", sem.ufunc("multiply", sem.astype(at, dt), sem.full((), step, dt)),
                      sem.full((), first, dt))
        y = sem.select(sem.ufunc("equal", at, div), sem.full((), last, dt), y)
        return sem.astype(y, dtype)
    dt = sem.result_type(start, stop, 1.0)
    start, stop = sem.astype(_tr(start), dt), sem.astype(_tr(stop), dt)
    if start.ndim or stop.ndim:
        return None
    delta = sem.ufunc("subtract", stop, start)
    y = sem.astype(at, dt)
    step = sem.ufunc("divide", delta, div)
    zero = sem.ufunc("equal", step, 0)
    y = sem.select(zero, sem.ufunc("multiply", sem.ufunc("divide", y, div), delta), sem.ufunc("multiply", y, step))
    y = sem.select(sem.ufunc("equal", at, div), stop, sem.ufunc("add", y, start))
    return sem.astype(y, dtype)


# --- convolution ----------------------------------------------------------------------------------------
UNROLL_KERNEL = 32  # taps: up to this many the sum is written out; beyond, a window gather and a product


def convolve(a, v, mode="full"):
    if not _any_traced(a, v):
        return np.convolve(a, v, mode=mode)
    a, v = _as_1d(a), _as_1d(v)
    if a.shape[0] < v.shape[0]:
        a, v = v, a
    return _correlate(a, v[::-1], mode, "np.convolve")


def correlate(a, v, mode="valid"):
    if not _any_traced(a, v):
        return np.correlate(a, v, mode=mode)
    a, v = _as_1d(a), _as_1d(v)
    if a.dtype.kind == "c" or v.dtype.kind == "c":
        raise UnsupportedError("np.correlate of complex arrays is not supported", ctx.current_loc())
    if a.shape[0] < v.shape[0]:  # NumPy swaps, then reverses the result
        return _correlate(v, a, mode, "np.correlate")[::-1]
    return _correlate(a, v, mode, "np.correlate")


def _as_1d(x) -> Tracer:
    x = _tr(x)
    if x.ndim == 0:
        return sem.reshape(x, (1,))
    if x.ndim != 1:
        raise ValueError("object too deep for desired array")
    return x


def _correlate(a: Tracer, v: Tracer, mode: str, name: str) -> Tracer:
    """out[k] = sum_j a_pad[k + j] * v[j] for the window of `mode` (len(a) >= len(v)),
    a_pad being a with the zeros the mode reads beyond its ends."""
    n, m = a.shape[0], v.shape[0]
    if m == 0:
        raise ValueError("v cannot be empty")
    dtype = sem.result_type(a, v)
    a, v = sem.astype(a, dtype), sem.astype(v, dtype)
    if mode == "full":
        pad, length = m - 1, n + m - 1
    elif mode == "same":
        pad, length = (m - 1) - (m - 1) // 2, n
    elif mode == "valid":
        pad, length = 0, n - m + 1
    else:
        raise ValueError(f"{name}: mode must be one of 'valid', 'same', or 'full' (got {mode!r})")
    padded = _zero_padded(a, pad, length + m - 1 - pad - n)
    if m <= UNROLL_KERNEL:
        total = None
        for j in range(m):
            term = sem.ufunc("multiply", _along(padded, 0, j, j + length), v[j])
            total = term if total is None else sem.ufunc("add", total, term)
        return total
    return sem.einsum("km,m->k", _windows(padded, length, m), v)


def _zero_padded(a: Tracer, before: int, after: int) -> Tracer:
    parts = [sem.full((before,), 0, a.dtype)] if before else []
    parts.append(a)
    if after:
        parts.append(sem.full((after,), 0, a.dtype))
    return sem.concatenate(parts, 0) if len(parts) > 1 else a


def _windows(a: Tracer, length: int, m: int) -> Tracer:
    """w[k, j] = a[k + j] for k < length, j < m: a gather at positions computed
    from two ramps, so no (length, m) table of positions is built (at 64 taps
    and 2*10^6 outputs such a table was 1 GB of constant, compiled into the kernel)."""
    rows = sem.reshape(iota(length), (length, 1))
    cols = sem.reshape(iota(m), (1, m))
    at = sem.ufunc("add", rows, cols)
    return sem.wrap(ctx.emit1(prim("gather"), [a.value, at.value], axis=0))


# --- sorting --------------------------------------------------------------------------------------------
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if not _any_traced(a):
        return np.sort(a, axis=axis, kind=kind, order=order, stable=stable)
    a, axis = _sortable(a, axis, "np.sort", order)
    return sem.wrap(ctx.emit1(prim("sort"), [a.value], axis=axis))


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    if not _any_traced(a):
        return np.argsort(a, axis=axis, kind=kind, order=order, stable=stable)
    a, axis = _sortable(a, axis, "np.argsort", order)
    if kind is not None and stable is not None:  # NumPy's own check
        raise ValueError("`kind` and keyword parameters can't be provided at the same time. Use only one of them.")
    if stable or kind in ("stable", "mergesort"):
        return sem.wrap(ctx.emit1(prim("argsort"), [a.value], axis=axis))
    # NumPy's default kind: ties in the order NumPy's own sort leaves them where it is called (ops/sort.py)
    return sem.wrap(ctx.emit1(prim("argsort"), [a.value], axis=axis, stable=False))


def _sortable(a, axis, name: str, order) -> tuple[Tracer, int]:
    a = _tr(a)
    if order is not None:
        raise UnsupportedError(f"{name} with order= (structured arrays) is not supported", ctx.current_loc())
    if a.dtype.kind == "c":
        raise UnsupportedError(f"{name} of complex arrays is not supported", ctx.current_loc())
    if axis is None:
        return sem.reshape(a, (-1,)), 0
    if a.ndim == 0:
        raise ShapeError(f"{name}: axis {axis} is out of bounds for array of dimension 0", ctx.current_loc())
    return a, _axis(axis, a.ndim)


def sort_method(self, axis=-1, kind=None, order=None, *, stable=None):
    """x.sort(): in place, returns None."""
    self.assign(sort(self, axis, kind, order).value)


def take_along_axis(arr, indices, axis=-1):
    if not _any_traced(arr, indices):
        return np.take_along_axis(arr, indices, axis=axis)
    arr, idx = _tr(arr), _tr(indices)
    if axis is None:
        arr, axis = sem.reshape(arr, (-1,)), 0
    if idx.dtype.kind not in "iu" or idx.ndim != arr.ndim:
        raise ShapeError("`indices` must be an integer array with as many dimensions as `arr`", ctx.current_loc())
    axis = _axis(axis, arr.ndim)
    return gather_lanes(arr, idx, axis)


def gather_lanes(arr: Tracer, idx: Tracer, axis: int) -> Tracer:
    """out[..., j, ...] = arr[..., idx[..., j, ...], ...] along `axis` (lanes
    broadcast as NumPy's take_along_axis does), as one gather of the flattened array."""
    n = arr.shape[axis]
    shape = tuple(np.broadcast_shapes(tuple(d for i, d in enumerate(arr.shape) if i != axis),
                                      tuple(d for i, d in enumerate(idx.shape) if i != axis)))
    arr = sem.broadcast_to(arr, shape[:axis] + (n,) + shape[axis:])
    idx = sem.broadcast_to(idx, shape[:axis] + (idx.shape[axis],) + shape[axis:])
    pos = sem.ufunc("add", sem.astype(idx, np.int64), sem.ufunc("multiply", n, sem.ufunc("less", idx, 0)))
    strides = np.cumprod((arr.shape[1:] + (1,))[::-1])[::-1]
    flat = sem.ufunc("multiply", pos, int(strides[axis]))
    for k in range(arr.ndim):
        if k != axis:
            ramp = sem.reshape(iota(arr.shape[k]), tuple(arr.shape[k] if i == k else 1 for i in range(arr.ndim)))
            flat = sem.ufunc("add", flat, sem.ufunc("multiply", ramp, int(strides[k])))
    out = ctx.emit1(prim("gather"), [sem.reshape(arr, (-1,)).value, sem.astype(flat, np.int64).value], axis=0)
    return sem.wrap(out)


def fill_diagonal(a, val, wrap=False):
    """In place, as NumPy: a[i, i, ...] = val (val cycled along the diagonal)."""
    if not _any_traced(a, val):
        return np.fill_diagonal(a, val, wrap=wrap)
    if not is_tracer(a):
        raise UnsupportedError("np.fill_diagonal into a constant array is not supported", ctx.current_loc(),
                               "copy it first: a = np.array(a)")
    if a.ndim < 2 or (a.ndim > 2 and len(set(a.shape)) != 1):
        raise ValueError("All dimensions of input must be of equal length" if a.ndim > 2 else
                         "array must be at least 2-d")
    flat = np.zeros(a.size, bool)
    if a.ndim == 2:  # NumPy's flat positions: every (columns + 1)th, up to columns**2 without wrap
        step, end = a.shape[1] + 1, (a.size if wrap else a.shape[1] * a.shape[1])
    else:
        step, end = 1 + int(np.cumprod(a.shape[:-1]).sum()), a.size
    positions = np.arange(0, min(end, a.size), step)
    flat[positions] = True
    mask = sem.wrap(ctx.own_const(flat.reshape(a.shape)))
    v = converted(val, a.dtype)
    if v.ndim:  # cycled over the diagonal positions, as NumPy's flat assignment does
        cycled = np.zeros(a.size, np.int64)
        cycled[positions] = np.arange(positions.size) % max(v.size, 1)
        v = sem.wrap(ctx.emit1(prim("gather"), [sem.reshape(v, (-1,)).value,
                                                ctx.own_const(cycled.reshape(a.shape))], axis=0))
    a.assign(sem.select(mask, sem.astype(v, a.dtype), a).value)


# --- counts and ranges ------------------------------------------------------------------------------------
def count_nonzero(a, axis=None, *, keepdims=False):
    if not _any_traced(a):
        return np.count_nonzero(a, axis=axis, keepdims=keepdims)
    a = _tr(a)
    res = sem.reduce("reduce_sum", sem.astype(sem.ufunc("not_equal", a, 0), np.int64), axis, keepdims)
    if axis is None and not keepdims and _COUNT_IS_INT:
        res.weak = True  # this NumPy returns a Python int (2.3 on: an np.int64)
    return res


_COUNT_IS_INT = type(np.count_nonzero(np.ones(2))) is int


def ptp(a, axis=None, out=None, keepdims=False):
    nx._no_out(out)
    if not _any_traced(a):
        return np.ptp(a, axis=axis, keepdims=keepdims)
    a = _tr(a)
    hi = sem.reduce("reduce_max", a, axis, keepdims)
    return sem.ufunc("subtract", hi, sem.reduce("reduce_min", a, axis, keepdims))


# --- scalar types: np.float64(x), np.int64(x) of traced values --------------------------------------------
class _SameType(type):
    """The metaclass of the traced scalar types: each stands for NumPy's own
    type in isinstance/issubclass checks and comparisons (`x.dtype.type ==
    np.float64`, `isinstance(v, np.int64)` inside a traced function)."""

    def __instancecheck__(cls, x) -> bool:
        return isinstance(x, cls.real)

    def __subclasscheck__(cls, sub) -> bool:
        return issubclass(sub, cls.real)

    def __eq__(cls, other) -> bool:
        return other is cls or other is cls.real

    def __hash__(cls) -> int:
        return hash(cls.real)


def _scalar_type(real: type) -> type:
    """A subclass of NumPy's scalar type whose constructor casts traced values
    (np.int64(np.floor(v)) is v.astype(np.int64), as in NumPy); as a dtype it
    is the type itself (np.dtype(sub) == np.dtype(real))."""

    def new(cls, *args, **kwargs):
        if args and _any_traced(*args):
            if len(args) > 1 or kwargs:
                raise UnsupportedError(f"np.{real.__name__}(...) with more than one argument of traced values",
                                       ctx.current_loc())
            x = args[0]
            if np.dtype(real).kind in "iu" and sem.is_weak(x) and sem.dtype_of(x).kind == "f":
                # of a Python float NumPy makes a Python int first: int()'s errors (NaN, inf, past 64 bits)
                from .pybuiltins import _int

                x = _int(x)
            return sem.astype(x, real)
        return real(*args, **kwargs)

    return _SameType(real.__name__, (real,), {"__new__": new, "__module__": "numpy", "real": real})


SCALAR_TYPES = {}
for _name in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
              "uint64", "intp", "uintp", "complex64", "complex128", "double", "single", "half", "int_", "longlong",
              "ulonglong", "bool_", "bool"):
    try:
        SCALAR_TYPES[_name] = _scalar_type(getattr(np, _name))
    except TypeError:  # a type NumPy does not let us subclass (np.bool_): calling it stays unsupported
        pass


TABLE = {name: globals()[name] for name in (
    "cumsum", "cumprod", "nancumsum", "nancumprod", "diff", "roll", "tile", "repeat", "meshgrid",
    "broadcast_arrays", "linspace", "convolve", "correlate", "sort", "argsort", "take_along_axis",
    "count_nonzero", "ptp", "fill_diagonal", "tril", "triu")}
TABLE.update(SCALAR_TYPES)
