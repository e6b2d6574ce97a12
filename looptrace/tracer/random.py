"""`np.random.Generator` methods on a traced generator."""
from __future__ import annotations

import numbers

import numpy as np

from looptrace.errors import ShapeError, TraceError, UnsupportedError
from looptrace.ops import get as prim
from looptrace.ops.random import POISSON_LAM_MAX

from . import context as ctx
from . import semantics as sem


def _shape(size) -> tuple:
    if size is None:
        return ()
    if isinstance(size, numbers.Integral):
        return (int(size),)
    if sem.is_tracer(size) and size.ndim == 0:  # an int argument: made static (specialize.py)
        from .static import concrete_error

        raise concrete_error([size], "the size of a random draw must be static; this one is a traced value",
                             "pass the size in static_argnames, or compute it from .shape")
    try:
        return tuple(int(s) for s in size)
    except TraceError:
        raise
    except Exception:
        raise TraceError("the size of a random draw must be static", ctx.current_loc()) from None


def _draw(gen, name: str, shape: tuple, dtype) -> sem.Tracer:
    token, sample = ctx.emit(prim(name), [gen.token], shape=shape, dtype=np.dtype(dtype))
    gen.advance(token)
    return sem.wrap(sample)


def _no_out(out) -> None:
    if out is not None:
        raise UnsupportedError("the out= argument of a random draw is not supported", ctx.current_loc(),
                               "assign the draw instead")


def _as_python_float(x: sem.Tracer) -> sem.Tracer:
    """A draw without `size` from scalar parameters is a Python float in
    NumPy: weak in promotion (x32 * rng.random() stays float32)."""
    res = sem.astype(x, np.float64)
    res.weak = True
    return res


def _scalar_result(size, *params) -> bool:
    return size is None and all(np.ndim(p) == 0 if not sem.is_tracer(p) else p.ndim == 0 for p in params)


def standard_normal(gen, size=None, dtype=np.float64, out=None):
    _no_out(out)
    z = _draw(gen, "random_normal", _shape(size), _float_dtype(dtype, "standard_normal"))
    return _as_python_float(z) if size is None else z


def normal(gen, loc=0.0, scale=1.0, size=None, _name="scale"):
    shape = _shape(size) if size is not None else _bshape(loc, scale)
    _check_nonnegative(scale, _name)
    z = _draw(gen, "random_normal", shape, np.float64)
    res = sem.ufunc("add", _float64(loc), sem.ufunc("multiply", _float64(scale), z))
    return _as_python_float(res) if _scalar_result(size, loc, scale) else res


def random(gen, size=None, dtype=np.float64, out=None):
    _no_out(out)
    u = _draw(gen, "random_uniform", _shape(size), _float_dtype(dtype, "random"))
    return _as_python_float(u) if size is None else u


def uniform(gen, low=0.0, high=1.0, size=None):
    shape = _shape(size) if size is not None else _bshape(low, high)
    low, high = _float64(low), _float64(high)
    span = sem.ufunc("subtract", high, low) if sem.is_tracer(low) or sem.is_tracer(high) else \
        np.subtract(np.asarray(high, np.float64), np.asarray(low, np.float64))
    # NumPy's checks, before any draw: a range that is not finite, then a negative one
    big = "high - low range exceeds valid bounds" if np.ndim(span) == 0 else "Range exceeds valid bounds"
    _check_when(sem.ufunc("logical_not", sem.ufunc("isfinite", span)) if sem.is_tracer(span)
                else ~np.isfinite(span), OverflowError(big))
    _check_nonnegative(span, "high - low")
    u = _draw(gen, "random_uniform", shape, np.float64)
    res = sem.ufunc("add", low, sem.ufunc("multiply", span, u))
    return _as_python_float(res) if _scalar_result(size, low, high) else res


def lognormal(gen, mean=0.0, sigma=1.0, size=None):
    """NumPy's random_lognormal: exp of a normal draw (loc + scale * z)."""
    res = sem.ufunc("exp", sem.wrap(normal(gen, mean, sigma, size, _name="sigma").value))
    return _as_python_float(res) if _scalar_result(size, mean, sigma) else res


def triangular(gen, left, mode, right, size=None):
    """NumPy's random_triangular: one uniform draw U per element, left +
    sqrt(U * (mode - left) * (right - left)) below the mode's share, right -
    sqrt((1 - U) * (right - mode) * (right - left)) above it."""
    left, mode, right = (_float64(v if sem.is_tracer(v) else sem.wrap(sem.as_value(v))) for v in (left, mode, right))
    _triangular_checks(left, mode, right)
    shape = _shape(size) if size is not None else _bshape(left, mode, right)
    u = _draw(gen, "random_uniform", shape, np.float64)
    base = sem.ufunc("subtract", right, left)
    leftbase = sem.ufunc("subtract", mode, left)
    ratio = sem.ufunc("divide", leftbase, base)
    low = sem.ufunc("add", left, sem.ufunc("sqrt", sem.ufunc("multiply", u, sem.ufunc("multiply", leftbase, base))))
    rightprod = sem.ufunc("multiply", sem.ufunc("subtract", right, mode), base)
    high = sem.ufunc("subtract", right, sem.ufunc("sqrt", sem.ufunc("multiply", sem.ufunc("subtract", 1.0, u),
                                                                    rightprod)))
    res = sem.select(sem.ufunc("less_equal", u, ratio), low, high)
    return _as_python_float(res) if _scalar_result(size, left, mode, right) else res


def _triangular_checks(left, mode, right) -> None:
    """NumPy's ValueErrors, at run time."""
    from .checks import emit_check

    def any_(c):
        return sem.reduce("reduce_any", c)

    emit_check(any_(sem.ufunc("greater", left, mode)), ValueError("left > mode"))
    emit_check(any_(sem.ufunc("greater", mode, right)), ValueError("mode > right"))
    emit_check(any_(sem.ufunc("equal", left, right)), ValueError("left == right"))


def _float64(x):
    """Distribution parameters enter NumPy's sampler as float64."""
    return sem.astype(x, np.float64) if sem.is_tracer(x) and not x.weak else x


def _float_dtype(dtype, method: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise TraceError(f"Generator.{method} supports float64 and float32, not {dtype}", ctx.current_loc())
    return dtype


def _bshape(*xs) -> tuple:
    return np.broadcast_shapes(*(x.shape if sem.is_tracer(x) else np.shape(x) for x in xs))


def standard_exponential(gen, size=None, dtype=np.float64, method="zig", out=None):
    _no_out(out)
    if method != "zig":
        raise UnsupportedError("Generator.standard_exponential(method='inv') is not supported on traced code",
                               ctx.current_loc(), "use the default method='zig'")
    e = _draw(gen, "random_exponential", _shape(size), _float_dtype(dtype, "standard_exponential"))
    return _as_python_float(e) if size is None else e


def exponential(gen, scale=1.0, size=None):
    """NumPy's random_exponential: scale * a standard exponential draw."""
    shape = _shape(size) if size is not None else _bshape(scale)
    e = _draw(gen, "random_exponential", shape, np.float64)
    _check_nonnegative(scale, "scale")
    res = sem.ufunc("multiply", _float64(scale), e)
    return _as_python_float(res) if _scalar_result(size, scale) else res


def _check_nonnegative(x, name: str) -> None:
    """NumPy's CONS_NON_NEGATIVE: a parameter with its sign bit set (-0.0
    too) raises `name < 0`; a NaN passes."""
    if not sem.is_tracer(x):
        x = np.asarray(x, np.float64)
        _check_when(np.signbit(x) & ~np.isnan(x), ValueError(f"{name} < 0"))
        return
    from . import numpy_api as nx

    x = _float64(x)
    negative = sem.ufunc("logical_and", nx.NAMESPACE["signbit"](x), sem.ufunc("logical_not", sem.ufunc("isnan", x)))
    _check_when(negative, ValueError(f"{name} < 0"))


def _check_when(pred, exc: BaseException) -> None:
    """Raise `exc` where any of `pred` holds: now for a constant, at run time for a traced one."""
    if not sem.is_tracer(pred):
        if np.any(pred):
            raise exc
        return
    from .checks import emit_check

    emit_check(sem.reduce("reduce_any", pred) if pred.ndim else pred, exc)


_INT_DTYPES = {np.dtype(t) for t in (np.int64, np.int32, np.uint64, np.uint32)}


def integers(gen, low, high=None, size=None, dtype=np.int64, endpoint=False):
    """NumPy's bounded integers in [low, high) (or [low, high] with endpoint):
    scalar bounds, 32- and 64-bit dtypes (whose draws consume the stream alike
    one at a time or many at once)."""
    if high is None:
        low, high = 0, low
    dt = np.dtype(dtype)
    if dt not in _INT_DTYPES:
        raise UnsupportedError(f"Generator.integers(dtype={dt}) is not supported on traced code", ctx.current_loc(),
                               "draw int64 or int32 and convert (.astype)")
    if np.ndim(low) or np.ndim(high):
        raise UnsupportedError("Generator.integers with array bounds is not supported on traced code",
                               ctx.current_loc(), "draw with scalar bounds (in a loop if they differ)")
    for b in (low, high):
        if sem.is_tracer(b) and b.dtype.kind not in "biu" or isinstance(b, float):
            raise TypeError("Unsupported dtype dtype('float64') for integers")
    lo, hi = (sem.as_value(sem.astype(b, np.int64), np.int64) if sem.is_tracer(b) else sem.as_value(np.int64(b))
              for b in (low, high))
    empty = sem.ufunc("greater", sem.wrap(lo), sem.wrap(hi)) if endpoint else \
        sem.ufunc("greater_equal", sem.wrap(lo), sem.wrap(hi))
    if not sem.is_tracer(empty):
        if empty:
            raise ValueError("low > high" if endpoint else "low >= high")
    else:
        from .checks import emit_check

        emit_check(empty, ValueError("low > high" if endpoint else "low >= high"))
    token, sample = ctx.emit(prim("random_integers"), [gen.token, lo, hi], shape=_shape(size), dtype=dt,
                             endpoint=bool(endpoint))
    gen.advance(token)
    out = sem.wrap(sample)
    if size is None:
        return out  # a NumPy integer (np.int64), as NumPy returns
    return out


def permutation(gen, x, axis=0):
    """rng.permutation(n) or of an array's rows: NumPy shuffles with the same
    swaps whatever the rows hold, so x[permutation(len(x))]."""
    if axis != 0:
        raise UnsupportedError("Generator.permutation with axis != 0 is not supported on traced code",
                               ctx.current_loc())
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return _permutation(gen, int(x))
    if sem.is_tracer(x) and x.ndim == 0:
        from .static import concrete_error

        raise concrete_error([x], "Generator.permutation(n) of a traced n: its length must be static",
                             "pass n as an int argument (looptrace specializes on it), or use .shape")
    from . import numpy_api as nx

    x = nx.asarray(x)
    if x.ndim == 0:
        raise ValueError("x must be an integer or at least 1-dimensional")
    return nx.NAMESPACE["take"](x, _permutation(gen, int(x.shape[0])), axis=0)


def shuffle(gen, x, axis=0):
    """rng.shuffle(x) in place: the rows of x permuted (the same draws as permutation)."""
    if axis != 0:
        raise UnsupportedError("Generator.shuffle with axis != 0 is not supported on traced code", ctx.current_loc())
    if not sem.is_tracer(x) or x.ndim == 0:
        raise TypeError("shuffle of a traced array expects an array argument")
    from . import numpy_api as nx

    x[...] = nx.NAMESPACE["take"](nx.copy(x), _permutation(gen, int(x.shape[0])), axis=0)


def _permutation(gen, n: int) -> sem.Tracer:
    token, perm = ctx.emit(prim("random_permutation"), [gen.token], n=int(n))
    gen.advance(token)
    return sem.wrap(perm)


# --- discrete draws: NumPy's random_poisson and random_binomial (ops/random.py) ---------------------
def poisson(gen, lam=1.0, size=None):
    """rng.poisson(lam, size): int64 draws, lam a float64 scalar or array
    broadcast as NumPy broadcasts it, checked as NumPy checks it first."""
    lam = _param(lam, np.float64)
    shape = _draw_shape(size, lam)
    if lam.ndim == 0:  # NumPy's scalar checks, in their order
        _refuse(sem.ufunc("logical_not", sem.ufunc("greater_equal", lam, 0.0)), "lam < 0 or lam is NaN")
        _refuse(sem.ufunc("logical_not", sem.ufunc("less_equal", lam, POISSON_LAM_MAX)), "lam value too large")
    else:
        _refuse(_any_not(sem.ufunc("less_equal", lam, POISSON_LAM_MAX)), "lam value too large")
        _refuse(_any_not(sem.ufunc("greater_equal", lam, 0.0)), "lam < 0 or lam contains NaNs")
    return _discrete_draw(gen, "random_poisson", shape, size, lam)


def binomial(gen, n, p, size=None):
    """rng.binomial(n, p, size): int64 draws, n int64 and p float64, each a
    scalar or an array broadcast as NumPy broadcasts them."""
    p, n = _param(p, np.float64), _binomial_n(n)
    shape = _draw_shape(size, n, p)
    in_range = sem.ufunc("logical_and", sem.ufunc("greater_equal", p, 0.0), sem.ufunc("less_equal", p, 1.0))
    scalar = p.ndim == 0 and n.ndim == 0
    _refuse(_any_not(in_range), "p < 0, p > 1 or p is NaN" if scalar else "p < 0, p > 1 or p contains NaNs")
    _refuse(sem.reduce("reduce_any", sem.ufunc("less", n, 0)) if n.ndim else sem.ufunc("less", n, 0), "n < 0")
    return _discrete_draw(gen, "random_binomial", shape, size, n, p)


def _binomial_n(n) -> sem.Tracer:
    """binomial's n: a float scalar (not a 0-d array) converts as Python's
    int() does, as NumPy's `<int64_t>n` does: truncated, NaN a ValueError,
    infinities and overflows an OverflowError; an array must be integer."""
    if isinstance(n, (float, np.floating)):
        value = int(n)
        if not -(2**63) <= value < 2**63:
            raise OverflowError("Python int too large to convert to C long")
        return sem.wrap(sem.as_value(np.int64(value)))
    if sem.is_tracer(n) and n.ndim == 0 and n.dtype.kind == "f":  # (an array's 0-d element is a NumPy float)
        n = sem.astype(n, np.float64)
        _refuse(sem.ufunc("isnan", n), "cannot convert float NaN to integer")
        _refuse(sem.ufunc("isinf", n), "cannot convert float infinity to integer", OverflowError)
        _refuse(sem.ufunc("greater_equal", sem.ufunc("absolute", n), 2.0**63),
                "Python int too large to convert to C long", OverflowError)
        return sem.astype(sem.ufunc("trunc", n), np.int64)
    return _param(n, np.int64)


def _param(x, dtype) -> sem.Tracer:
    """A parameter as NumPy's sampler takes it (PyArray_FROM_OTF: a safe cast
    to float64 or int64, TypeError otherwise), as a tracer."""
    if not sem.is_tracer(x):
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"Cannot cast array data from {x.dtype!r} to {np.dtype(dtype)!r} according to the "
                            "rule 'safe'")
        if x.ndim == 0 and x.dtype.kind in "iu" and np.dtype(dtype).kind == "i":
            x = np.asarray(int(x), dtype=np.int64)  # a scalar int converts by value (np.uint64(3) is fine)
        x = sem.wrap(sem.as_value(x))
    if not np.can_cast(x.dtype, dtype, "safe"):
        raise TypeError(f"Cannot cast array data from {x.dtype!r} to {np.dtype(dtype)!r} according to the "
                        "rule 'safe'")
    return sem.astype(x, dtype)


def _draw_shape(size, *params) -> tuple:
    """The draw's shape: size, which the parameters must broadcast to, or theirs."""
    if size is None:
        return _bshape(*params)
    shape = _shape(size)
    try:
        joint = np.broadcast_shapes(shape, *(x.shape for x in params))
    except ValueError as e:
        raise ShapeError(str(e), ctx.current_loc()) from None
    if joint != shape:
        raise ShapeError(f"Output size {shape} is not compatible with broadcast dimensions of inputs {joint}.",
                         ctx.current_loc(), "pass a size that the parameters' shapes broadcast to")
    return shape


def _any_not(c) -> sem.Tracer:
    c = sem.ufunc("logical_not", c)
    return sem.reduce("reduce_any", c) if c.ndim else c


def _refuse(failed, message: str, error=ValueError) -> None:
    """NumPy's ValueError where `failed` holds, at run time (the parameters
    may be traced, and the draw may sit in a branch that never runs)."""
    from .checks import emit_check

    if sem.is_tracer(failed) or bool(failed):
        emit_check(failed, error(message))


def _discrete_draw(gen, name: str, shape: tuple, size, *params) -> sem.Tracer:
    args = [sem.as_value(x if x.ndim == 0 else sem.broadcast_to(x, shape)) for x in params]
    token, sample = ctx.emit(prim(name), [gen.token, *args], shape=shape)
    gen.advance(token)
    # without size, scalar parameters give a Python int: weak in promotion (x32 + rng.poisson(3) stays float32)
    return sem.wrap(sample, weak=size is None and not shape)


METHODS = {"standard_normal": standard_normal, "normal": normal, "random": random, "uniform": uniform,
           "lognormal": lognormal, "triangular": triangular, "standard_exponential": standard_exponential,
           "exponential": exponential, "integers": integers, "permutation": permutation, "shuffle": shuffle,
           "poisson": poisson, "binomial": binomial}
