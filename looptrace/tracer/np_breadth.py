"""NumPy functions scientific loops use that the survey (tools/numpy_survey.py)
found missing: np.polyfit, np.put_along_axis, np.linalg.multi_dot and cond,
ndarray.searchsorted, np.logspace and np.geomspace, the ufuncs np.frexp,
np.spacing and np.nextafter, np.piecewise and np.apply_along_axis.

Invariant: compositions only (no primitives of their own), so each is
batched, lowered on every target and differentiated through its parts;
results, dtypes, shapes and errors are NumPy's for the arguments looptrace
supports, anything else raises a looptrace error naming the user's line.
Degrees, counts and axes are static. The float-format ufuncs (frexp,
spacing, nextafter) are exact: they read the binary exponent through
log2 and correct it by one step, and build powers of two with exp2 of
integers in the normal range, whose results are exact. A user function
passed in (piecewise, apply_along_axis) is traced once, never once per
element or row. Without a traced argument each function is NumPy's own.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import context as ctx
from . import control
from . import np_arrays as na
from . import np_extra as nxe
from . import np_linalg as nl
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer

_tr, _any_traced = nx._tr, nx._any_traced
_strong, _static_int, _axis_of, _u, _resolve = nxe._strong, nxe._static_int, nxe._axis_of, nxe._u, nxe._resolve
_unsupported = nxe._unsupported


# --- polynomial fit -------------------------------------------------------------------------------
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """NumPy's algorithm: the Vandermonde matrix, its columns scaled to unit
    norm, solved by lstsq (the pseudo-inverse, so gradients flow to x, y and w)."""
    if not _any_traced(x, y, deg, w):
        return np.polyfit(x, y, deg, rcond, full, w, cov)
    deg = _static_int(deg, "np.polyfit's deg") if is_tracer(deg) else int(deg)
    order = deg + 1
    x, y = _u("add", _strong(x), 0.0), _u("add", _strong(y), 0.0)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if x.ndim != 1:
        raise TypeError("expected 1D vector for x")
    if x.size == 0:
        raise TypeError("expected non-empty vector for x")
    if y.ndim < 1 or y.ndim > 2:
        raise TypeError("expected 1D or 2D array for y")
    if x.shape[0] != y.shape[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = x.shape[0] * np.finfo(x.dtype).eps  # a NumPy scalar, as full=True returns it
    lhs, rhs = nxe.vander(x, order), y
    if w is not None:
        w = _u("add", _strong(w), 0.0)
        if w.ndim != 1:
            raise TypeError("expected a 1-d array for weights")
        if w.shape[0] != y.shape[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = sem.astype(lhs * sem.reshape(w, (-1, 1)), lhs.dtype)  # NumPy's in-place *=: lhs keeps its type
        rhs = sem.astype(rhs * (w if rhs.ndim == 1 else sem.reshape(w, (-1, 1))), rhs.dtype)
    scale = _u("sqrt", nx.sum_(lhs * lhs, axis=0))
    lhs = sem.astype(lhs / scale, lhs.dtype)
    c, resids, rank, s = nl.lstsq(lhs, rhs, float(rcond))
    c = c / (scale if c.ndim == 1 else sem.reshape(scale, (-1, 1)))
    if full:
        return c, resids, rank, s, rcond
    if not cov:
        return c
    return c, _polyfit_cov(lhs, scale, resids, x.shape[0], order, cov, y.ndim)


def _polyfit_cov(lhs: Tracer, scale: Tracer, resids: Tracer, n: int, order: int, cov: Any, ydim: int) -> Tracer:
    base = nl.inv(sem.matmul(nx.transpose(lhs), lhs)) / nx.outer(scale, scale)
    if cov == "unscaled":
        fac: Any = 1
    else:
        if n <= order:
            raise ValueError("the number of data points must exceed order to scale the covariance matrix")
        fac = resids / (n - order)
    return base * fac if ydim == 1 else sem.reshape(base, base.shape + (1,)) * fac


# --- put_along_axis -----------------------------------------------------------------------------
def put_along_axis(arr, indices, values, axis):
    """arr[i, ..., indices[i, ..., j, ...], ...] = values, in place: one scatter into
    the flattened array at each index's flat position (index and other axes broadcast
    as NumPy's fancy index does), so the write is differentiable in arr and values."""
    if not _any_traced(arr, indices, values):
        return np.put_along_axis(arr, indices, values, axis)
    if not is_tracer(arr):
        raise _unsupported("np.put_along_axis into a constant array is not supported",
                           "copy it first: a = np.array(a)")
    idx = _tr(indices)
    if idx.dtype.kind not in "iu":
        raise IndexError("`indices` must be an integer array")
    if axis is None:
        if idx.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        shape, axis = (arr.size,), 0
    else:
        axis = _axis_of(axis, arr.ndim, "np.put_along_axis")
        shape = tuple(arr.shape)
        if idx.ndim != len(shape):
            raise ValueError("`indices` and `arr` must have the same number of dimensions")
    flat = _flat_positions(idx, shape, axis)
    upd = sem.astype(sem.broadcast_to(_tr(values), flat.shape), arr.dtype)
    from looptrace.ops import get as prim

    rows = sem.reshape(arr, (-1,))
    new = ctx.emit1(prim("scatter"), [rows.value, sem.reshape(flat, (-1,)).value, sem.reshape(upd, (-1,)).value],
                    axis=0, mode="set")
    arr.assign(sem.reshape(sem.wrap(new), arr.shape).value)


def _flat_positions(idx: Tracer, shape: tuple, axis: int) -> Tracer:
    """The flat position in an array of `shape` of each element NumPy's
    put_along_axis index addresses: idx (checked; negatives from the end) on `axis`,
    the broadcast ranges of the other axes elsewhere."""
    from .advanced import _checked

    strides = np.cumprod((shape[1:] + (1,))[::-1])[::-1]
    pos = _checked(sem.astype(idx, np.int64), shape[axis], axis)  # IndexError naming index and axis, as NumPy's
    flat = _u("multiply", pos, int(strides[axis]))
    for k, d in enumerate(shape):
        if k != axis:
            ramp = sem.reshape(na.iota(d), tuple(d if i == k else 1 for i in range(len(shape))))
            flat = _u("add", flat, _u("multiply", ramp, int(strides[k])))
    return sem.astype(flat, np.int64)


# --- linalg: multi_dot, cond -------------------------------------------------------------------------
def multi_dot(arrays, *, out=None):
    """The chain of matmuls in the cheapest order by static shapes (NumPy's choice,
    ties included: three arrays by its cost formula, more by the classic dynamic program)."""
    nx._no_out(out)
    if not _any_traced(*arrays):
        return np.linalg.multi_dot(arrays)
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    if n == 2:
        return nx.dot(arrays[0], arrays[1])
    ms = [_tr(a) for a in arrays]
    first, last = ms[0].ndim, ms[-1].ndim
    if first == 1:
        ms[0] = sem.reshape(ms[0], (1, -1))
    if last == 1:
        ms[-1] = sem.reshape(ms[-1], (-1, 1))
    for m in ms:
        if m.ndim != 2:
            raise np.linalg.LinAlgError(f"{m.ndim}-dimensional array given. Array must be two-dimensional")
    dims = [m.shape[0] for m in ms] + [ms[-1].shape[1]]
    split = _chain_order(dims)
    res = _chain(ms, split, 0, n - 1)
    if first == 1 and last == 1:
        return res[0, 0]
    return nx.ravel(res) if first == 1 or last == 1 else res


def _chain_order(p: list[int]) -> dict:
    """split[i, j]: where the product of matrices i..j is cut, minimising
    scalar multiplications (p[i] x p[i+1] is matrix i's shape)."""
    n = len(p) - 1
    if n == 3:  # NumPy's _multi_dot_three: (AB)C only when strictly cheaper
        ab_c = p[0] * p[1] * p[2] + p[0] * p[2] * p[3]
        a_bc = p[1] * p[2] * p[3] + p[0] * p[1] * p[3]
        return {(0, 2): 1 if ab_c < a_bc else 0, (1, 2): 1, (0, 1): 0}
    cost = {(i, i): 0 for i in range(n)}
    split = {}
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            best = None
            for k in range(i, j):
                c = cost[i, k] + cost[k + 1, j] + p[i] * p[k + 1] * p[j + 1]
                if best is None or c < best:
                    best, split[i, j] = c, k
            cost[i, j] = best
    return split


def _chain(ms: list, split: dict, i: int, j: int) -> Tracer:
    if i == j:
        return ms[i]
    k = split[i, j]
    return sem.matmul(_chain(ms, split, i, k), _chain(ms, split, k + 1, j))


def cond(x, p=None):
    """The ratio of the extreme singular values (p None, 2, -2), else
    norm(x, p) * norm(inv(x), p); NaN becomes inf where x has no NaN, as NumPy's."""
    if not _any_traced(x):
        return np.linalg.cond(x, p)
    if is_tracer(p):
        raise _unsupported("np.linalg.cond's p must be known when compiling", "pass None, 1, 2, np.inf or 'fro'")
    x = _tr(x)
    if x.size == 0 and x.ndim >= 2 and x.shape[-1] * x.shape[-2] == 0:
        raise np.linalg.LinAlgError("cond is not defined on empty arrays")
    if p is None or (not isinstance(p, str) and p in (2, -2)):
        s = nl.svdvals(x)
        first, last = (s[0], s[-1]) if s.ndim == 1 else (s[..., 0], s[..., -1])  # (one matrix: scalars)
        r = last / first if p is not None and p == -2 else first / last
    else:
        if x.ndim < 2:
            raise np.linalg.LinAlgError(f"{x.ndim}-dimensional array given. Array must be at least "
                                        "two-dimensional")
        if x.shape[-1] != x.shape[-2]:
            raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
        r = nx.norm(x, p, axis=(-2, -1)) * nx.norm(nl.inv(x), p, axis=(-2, -1))
    nan_x = sem.reduce("reduce_any", _u("isnan", x), (-2, -1)) if x.ndim >= 2 else _u("isnan", x)
    fix = _u("logical_and", _u("isnan", r), _u("logical_not", nan_x))
    return sem.select(fix, sem.full((), np.inf, r.dtype), r)


# --- ndarray.searchsorted ----------------------------------------------------------------------------
def searchsorted_method(self, v, side="left", sorter=None):
    return nxe.searchsorted(self, v, side, sorter)


# --- logspace, geomspace ----------------------------------------------------------------------------
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """base ** linspace(start, stop): NumPy's, start, stop and base as arrays."""
    if not _any_traced(start, stop, num, base):
        return sem.wrap(ctx.own_const(np.logspace(start, stop, num, endpoint, base, dtype, axis)))
    num = _static_int(num, "np.logspace's num")
    start, stop, base = (_strong(v) for v in (start, stop, base))
    nd = max(start.ndim, stop.ndim, base.ndim)
    start, stop, base = (sem.reshape(v, (1,) * (nd - v.ndim) + tuple(v.shape)) for v in (start, stop, base))
    y = na.linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    res = _u("power", nx.expand_dims(base, axis), y)
    return res if dtype is None else sem.astype(res, dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """NumPy's: logspace of the log10 of start and stop rotated to positive, the
    ends set to start and stop exactly; a zero end raises at run time."""
    if not _any_traced(start, stop, num):
        return sem.wrap(ctx.own_const(np.geomspace(start, stop, num, endpoint, dtype, axis)))
    num = _static_int(num, "np.geomspace's num")
    start, stop = _strong(start), _strong(stop)
    dt = np.result_type(start.dtype, stop.dtype, float(num), np.zeros((), dtype))
    if dt.kind == "c":
        raise _unsupported("np.geomspace of complex values is not supported on traced values")
    from .checks import emit_check

    zero = _u("logical_or", sem.reduce("reduce_any", _u("equal", start, 0)),
              sem.reduce("reduce_any", _u("equal", stop, 0)))
    emit_check(zero, ValueError("Geometric sequence cannot include zero"))
    start, stop = sem.astype(start, dt), sem.astype(stop, dt)
    sign = _u("sign", start)
    start, stop = start / sign, stop / sign
    res = logspace(_u("log10", start), _u("log10", stop), num, endpoint, 10.0, dt)
    shape = tuple(res.shape)
    at = sem.reshape(na.iota(num), (num,) + (1,) * (len(shape) - 1))
    if num > 0:
        res = sem.select(_u("equal", at, 0), sem.astype(sem.broadcast_to(start, shape[1:]), dt), res)
        if num > 1 and endpoint:
            res = sem.select(_u("equal", at, num - 1), sem.astype(sem.broadcast_to(stop, shape[1:]), dt), res)
    res = res * sign
    if axis != 0:
        res = nx.moveaxis(res, 0, axis)
    return sem.astype(res, dt if dtype is None else np.dtype(dtype))


# --- float-format ufuncs: frexp, spacing, nextafter ---------------------------------------------------
_FORMATS = {np.dtype(np.float64): (53, -1074, np.finfo(np.float64).max),
            np.dtype(np.float32): (24, -149, np.finfo(np.float32).max),
            np.dtype(np.float16): (11, -24, np.finfo(np.float16).max)}


def _format(dtype: np.dtype, name: str) -> tuple:
    if dtype not in _FORMATS:
        raise _unsupported(f"np.{name} of {dtype} values is not supported on traced values")
    return _FORMATS[dtype]


def _pow2(k: Tracer) -> Tracer:
    """2.0 ** k for integer-valued float64 k in [-1074, 1023], exactly: two exp2 of
    exponents in the normal range (a subnormal power is their exact product)."""
    hi = _u("maximum", k, -1000.0)
    return _u("exp2", hi) * _u("exp2", k - hi)


def _frexp64(x: Tracer) -> tuple[Tracer, Tracer]:
    """(m, e) with x = m * 2**e, 0.5 <= |m| < 1 (float64 x; e an integer-valued
    float64); zeros, infinities and NaNs give (x, 0). Subnormals are first scaled
    by 2**64 so that 2**-e stays a normal number."""
    ok = _u("logical_and", _u("isfinite", x), _u("not_equal", x, 0.0))
    mag = sem.select(ok, _u("absolute", x), sem.full((), 1.0, np.float64))
    tiny = _u("less", mag, 2.0 ** -1000)
    mag = sem.select(tiny, mag * 2.0 ** 64, mag)
    xs = sem.select(tiny, x * 2.0 ** 64, x)
    e = _u("floor", _u("log2", mag)) + 1.0  # exact but where log2 rounds across a power of two: one fix below
    half = _u("floor", e * 0.5)
    m = xs * _u("exp2", -half) * _u("exp2", half - e)
    am = _u("absolute", m)
    big, small = _u("greater_equal", am, 1.0), _u("less", am, 0.5)
    m = sem.select(big, m * 0.5, sem.select(small, m * 2.0, m))
    e = e + sem.astype(big, np.float64) - sem.astype(small, np.float64) - 64.0 * sem.astype(tiny, np.float64)
    zero = sem.full((), 0.0, np.float64)
    return sem.select(ok, m, x), sem.select(ok, e, zero)


def _floats(name: str, *xs: Any) -> tuple:
    """The operands in float64 (every narrower float converts exactly), and NumPy's result dtype."""
    types = _resolve(getattr(np, name), *xs)
    _format(types[-1] if name != "frexp" else types[1], name)
    return tuple(sem.astype(sem.astype(x, t), np.float64) for x, t in zip(xs, types)), types


@nxe._ufunc_form(np.frexp)
def frexp(x):
    (x64,), (_, to, _) = _floats("frexp", x)
    m, e = _frexp64(x64)
    return sem.astype(m, to), sem.astype(e, np.int32)


@nxe._ufunc_form(np.spacing)
def spacing(x):
    """The distance to the next float away from zero (+ for zeros, inf from the
    largest float, NaN from infinities and NaN), as NumPy's."""
    (x64,), (_, to) = _floats("spacing", x)
    bits, lowest, top = _format(to, "spacing")
    _, e = _frexp64(x64)
    k = sem.select(_u("equal", x64, 0.0), sem.full((), float(lowest), np.float64),
                   _u("maximum", e - float(bits), float(lowest)))
    if to == np.float16:
        return _half_spacing(x64, k, lowest, top)
    ulp = _pow2(k)
    res = sem.select(_u("less", x64, 0.0), -ulp, ulp)
    res = sem.select(_u("equal", _u("absolute", x64), float(top)), _u("copysign", np.inf, res), res)
    res = sem.select(_u("isfinite", x64), res, sem.full((), np.nan, np.float64))
    return sem.astype(res, to)


def _half_spacing(x64: Tracer, k: Tracer, lowest: int, top: float) -> Tracer:
    """NumPy's npy_half_spacing, which differs from its float and double ones: the
    result is never negative, a negative power of two gets the step below it (towards
    zero), and only the largest positive half gives inf."""
    m, _ = _frexp64(x64)
    below = _u("logical_and", _u("less", x64, 0.0), _u("equal", m, -0.5))
    k = sem.select(below, _u("maximum", k - 1.0, float(lowest)), k)
    res = sem.select(_u("equal", x64, float(top)), sem.full((), np.inf, np.float64), _pow2(k))
    res = sem.select(_u("isfinite", x64), res, sem.full((), np.nan, np.float64))
    return sem.astype(res, np.float16)


@nxe._ufunc_form(np.nextafter)
def nextafter(x1, x2):
    """The next float after x1 towards x2: one ulp of x1's binade away from zero,
    half that towards zero from a power of two (down to the subnormal step)."""
    (x, y), (_, _, to) = _floats("nextafter", x1, x2)
    bits, lowest, top = _format(to, "nextafter")
    m, e = _frexp64(x)
    away_k = _u("maximum", e - float(bits), float(lowest))
    toward_k = sem.select(_u("equal", _u("absolute", m), 0.5), _u("maximum", away_k - 1.0, float(lowest)), away_k)
    up = _u("greater", y, x)
    away = _u("equal", _u("greater", x, 0.0), up)
    step = _pow2(sem.select(away, away_k, toward_k))
    res = x + sem.select(up, step, -step)
    tiniest = sem.full((), 2.0 ** lowest, np.float64)
    res = sem.select(_u("equal", x, 0.0), sem.select(up, tiniest, -tiniest), res)
    res = sem.select(_u("isinf", x), _u("copysign", float(top), x), res)
    res = sem.select(_u("equal", x, y), y, res)
    res = sem.select(_u("logical_or", _u("isnan", x), _u("isnan", y)), sem.full((), np.nan, np.float64), res)
    return sem.astype(res, to)


# --- piecewise ----------------------------------------------------------------------------------------
def piecewise(x, condlist, funclist, *args, **kw):
    """Each function traced once on the whole of x and its values selected where its
    condition holds (later conditions win, zero elsewhere, as NumPy's loop of
    y[cond] = f(x[cond])). That equals NumPy's only for elementwise functions, which
    is checked on the ops each one emits: anything else is refused."""
    if not _any_traced(x, condlist, args, list(kw.values())):
        return np.piecewise(x, condlist, funclist, *args, **kw)
    x = sem.wrap(_strong(x).value)  # not a view: reading it inside a function emits nothing
    funcs = list(funclist)
    conds = _conditions(condlist, x)
    if len(conds) == len(funcs) - 1:
        stacked = sem.stack([sem.broadcast_to(c, x.shape) for c in conds], 0) if conds else None
        conds.append(_u("logical_not", sem.reduce("reduce_any", stacked, 0)) if conds
                     else sem.full(x.shape, True, np.bool_))
    elif len(conds) != len(funcs):
        raise ValueError(f"with {len(conds)} condition(s), either {len(conds)} or {len(conds) + 1} "
                         "functions are expected")
    y = sem.full(x.shape, 0, x.dtype)
    for cond, func in zip(conds, funcs):
        if callable(func):
            value = _elementwise_call(func, x, args, kw)
        else:
            value = _tr(func)
            if value.size != 1:
                raise _unsupported("np.piecewise with an array in funclist is not supported on traced values",
                                   "pass a scalar or a function")
            value = sem.reshape(value, ())
        y = sem.select(cond, sem.astype(value, x.dtype), y)
    return y


def _conditions(condlist: Any, x: Tracer) -> list:
    """NumPy's reading of condlist: one condition unless it is a list (or array) of them."""
    def array_like(c):
        return isinstance(c, (list, np.ndarray)) or (is_tracer(c) and c.ndim > 0)

    single = isinstance(condlist, (bool, np.bool_, numbers.Number)) or (is_tracer(condlist) and condlist.ndim == 0)
    if single or (not array_like(condlist[0]) and x.ndim != 0):
        condlist = [condlist]
    conds = [sem.astype(_tr(c), np.bool_) for c in condlist]
    for c in conds:
        if tuple(c.shape) != tuple(x.shape):
            raise _unsupported(f"np.piecewise with a condition of shape {tuple(c.shape)} for x of shape "
                               f"{tuple(x.shape)} is not supported", "give each condition x's shape")
    return conds


_POINTWISE_SHAPE_OPS = ("broadcast_to", "reshape")


def _elementwise_call(func, x: Tracer, args: tuple, kw: dict) -> Tracer:
    """func(x, *args, **kw), traced once, checked to be elementwise in x."""
    from .runtime import call

    hint = ("NumPy calls it on x[cond] alone; write the function with elementwise operations, "
            "or call it on x[cond] yourself")
    out = _tr(_elementwise_ops(lambda: call(func, x, *args, **kw), [x],
                               f"np.piecewise with {getattr(func, '__name__', 'a function')} that is not "
                               "elementwise in x", hint))
    if out.size != 1 and tuple(out.shape) != tuple(x.shape):
        raise _unsupported(f"np.piecewise with a function returning shape {tuple(out.shape)} for x of shape "
                           f"{tuple(x.shape)} is not supported")
    return sem.reshape(out, ()) if out.size == 1 and out.shape != x.shape else out


def _elementwise_ops(thunk, inputs: list, what: str, hint: str) -> Any:
    """thunk(), traced once, after checking that each output element depends on
    the same elements of `inputs` alone: every op it emits is elementwise (or a
    check, or a reshape or broadcast of a one-element array), and every other
    array it reads has one element."""
    from looptrace.ir.core import Value

    block = ctx.state().frame.block
    before = len(block.ops)
    out = thunk()
    made = {id(x.value) for x in inputs}
    for op in block.ops[before:]:
        small = all(_one_element(v) for v in op.inputs if isinstance(v, Value) and id(v) not in made)
        pointwise = op.prim.elementwise or op.prim.name == "check" or (
            op.prim.name in _POINTWISE_SHAPE_OPS and all(_one_element(v) for v in op.inputs))
        if not (pointwise and small):
            raise _unsupported(f"{what} (it uses {op.prim.name}) is not supported", hint)
        made.update(id(v) for v in op.outputs)
    return out


def _one_element(v: Any) -> bool:
    shape = getattr(v, "shape", ())
    return all(isinstance(d, int) and d == 1 for d in shape)


# --- apply_along_axis -----------------------------------------------------------------------------
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """NumPy's: func1d on the first 1-d slice gives the result's shape and dtype,
    then one traced loop over the other slices fills the rest (the vectorizer
    batches it where the function allows); the result axes replace `axis`."""
    if not _any_traced(arr, args, list(kwargs.values())):
        return np.apply_along_axis(func1d, axis, arr, *args, **kwargs)
    from .runtime import call

    arr = _tr(arr)
    axis = _axis_of(axis, arr.ndim, "np.apply_along_axis")
    rest = [i for i in range(arr.ndim) if i != axis]
    lead = tuple(arr.shape[i] for i in rest)
    count = int(np.prod(lead))
    if count == 0:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    rows = sem.reshape(sem.transpose(arr, rest + [axis]), (count, arr.shape[axis]))
    first = _strong(call(func1d, rows[0], *args, **kwargs))
    buff = nx.zeros((count,) + tuple(first.shape), first.dtype)
    buff[0] = first
    if count > 1:
        def body(i):
            buff[i] = call(func1d, rows[i], *args, **kwargs)

        loc = ctx.current_loc()
        control.for_(range(1, count), body, lambda: (), lambda v: None, (), loc=(loc.file, loc.line))
    res = sem.reshape(buff, lead + tuple(first.shape))
    dims = list(range(res.ndim))
    k = first.ndim
    return sem.transpose(res, dims[:axis] + dims[res.ndim - k:] + dims[axis:res.ndim - k])


TABLE: dict[str, Any] = {
    "polyfit": polyfit, "put_along_axis": put_along_axis, "logspace": logspace, "geomspace": geomspace,
    "frexp": frexp, "spacing": spacing, "nextafter": nextafter, "piecewise": piecewise,
    "apply_along_axis": apply_along_axis,
}
LINALG_TABLE: dict[str, Any] = {"multi_dot": multi_dot, "cond": cond}
