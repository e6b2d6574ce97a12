"""`np.random.Generator` methods on a traced generator."""
from __future__ import annotations

import numbers

import numpy as np

from looptrace.errors import TraceError, UnsupportedError
from looptrace.ops import get as prim

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


def normal(gen, loc=0.0, scale=1.0, size=None):
    shape = _shape(size) if size is not None else _bshape(loc, scale)
    z = _draw(gen, "random_normal", shape, np.float64)
    res = sem.ufunc("add", _float64(loc), sem.ufunc("multiply", _float64(scale), z))
    return _as_python_float(res) if _scalar_result(size, loc, scale) else res


def random(gen, size=None, dtype=np.float64, out=None):
    _no_out(out)
    u = _draw(gen, "random_uniform", _shape(size), _float_dtype(dtype, "random"))
    return _as_python_float(u) if size is None else u


def uniform(gen, low=0.0, high=1.0, size=None):
    shape = _shape(size) if size is not None else _bshape(low, high)
    u = _draw(gen, "random_uniform", shape, np.float64)
    low, high = _float64(low), _float64(high)
    res = sem.ufunc("add", low, sem.ufunc("multiply", sem.ufunc("subtract", high, low), u))
    return _as_python_float(res) if _scalar_result(size, low, high) else res


def lognormal(gen, mean=0.0, sigma=1.0, size=None):
    """NumPy's random_lognormal: exp of a normal draw (loc + scale * z)."""
    res = sem.ufunc("exp", sem.wrap(normal(gen, mean, sigma, size).value))
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


METHODS = {"standard_normal": standard_normal, "normal": normal, "random": random, "uniform": uniform,
           "lognormal": lognormal, "triangular": triangular}
