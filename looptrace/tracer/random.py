"""`np.random.Generator` methods on a traced generator."""
from __future__ import annotations

import numbers

import numpy as np

from looptrace.errors import TraceError
from looptrace.ops import get as prim

from . import context as ctx
from . import lax


def _shape(size) -> tuple:
    if size is None:
        return ()
    if isinstance(size, numbers.Integral):
        return (int(size),)
    try:
        return tuple(int(s) for s in size)
    except TraceError:
        raise
    except Exception:
        raise TraceError("the size of a random draw must be static", ctx.current_loc()) from None


def _draw(gen, name: str, shape: tuple, dtype) -> lax.Tracer:
    token, sample = ctx.emit(prim(name), [gen.token], shape=shape, dtype=np.dtype(dtype))
    gen.advance(token)
    return lax.wrap(sample)


def standard_normal(gen, size=None, dtype=np.float64):
    return _draw(gen, "random_normal", _shape(size), dtype)


def normal(gen, loc=0.0, scale=1.0, size=None):
    shape = _shape(size) if size is not None else _bshape(loc, scale)
    z = _draw(gen, "random_normal", shape, np.float64)
    return lax.ufunc("add", loc, lax.ufunc("multiply", scale, z))


def random(gen, size=None, dtype=np.float64):
    return _draw(gen, "random_uniform", _shape(size), dtype)


def uniform(gen, low=0.0, high=1.0, size=None):
    shape = _shape(size) if size is not None else _bshape(low, high)
    u = _draw(gen, "random_uniform", shape, np.float64)
    return lax.ufunc("add", low, lax.ufunc("multiply", lax.ufunc("subtract", high, low), u))


def _bshape(*xs) -> tuple:
    return np.broadcast_shapes(*(x.shape if lax.is_tracer(x) else np.shape(x) for x in xs))


METHODS = {"standard_normal": standard_normal, "normal": normal, "random": random, "uniform": uniform}
