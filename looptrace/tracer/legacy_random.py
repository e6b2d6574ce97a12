"""NumPy's legacy random state in traced code: np.random.seed, random, rand,
randn, normal, uniform, randint, exponential, choice (the global
RandomState behind them, or a RandomState reached from the function).

While tracing, the RandomState is an implicit argument (tracer/external.py,
guards.py kind "legacy") whose state token orders the draws as the plain
function makes them; each method records one of ops/random.py's `legacy_*`
draws, with the distribution's arithmetic composed around it as NumPy's
legacy code computes it (loc + scale * gauss, -log(1 - U), ...).

At call time (api.transactional_run) the RandomState's state is copied into
the token's run-time value, a uint32 array (ops/random.py `LEGACY_WORDS`),
and copied back after a run that went through: a run that raises leaves the
RandomState as it was. `state_array` and `store_state` read and write
MT19937's key and position in place through its ctypes state address, and
RandomState's gaussian cache at an offset found and checked once per
process; where either check fails they take `get_state`/`set_state`
(88 us each, against about 1 us).
"""
from __future__ import annotations

import ctypes
import numbers

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.ops import get as prim
from looptrace.ops.random import LEGACY_WORDS

from . import context as ctx
from . import semantics as sem
from .random import _as_python_float, _bshape, _float64, _scalar_result, _shape
from .values import RngTracer

_HINT = "or pass a generator as an argument (rng = np.random.default_rng(seed)) and draw from it"


class LegacyTracer(RngTracer):
    """A traced np.random.RandomState: a box holding its state token."""

    def __getattr__(self, name: str):
        method = METHODS.get(name)
        if method is None:
            raise UnsupportedError(f"np.random.{name} (NumPy's legacy random state) is not supported in a "
                                   "traced function", ctx.current_loc(),
                                   "supported: " + ", ".join(sorted(METHODS)) + "; " + _HINT)
        return lambda *a, **k: method(self, *a, **k)


def _draw(state: LegacyTracer, name: str, shape: tuple, *inputs) -> sem.Tracer:
    token, sample = ctx.emit(prim(name), [state.token, *inputs], shape=shape)
    state.advance(token)
    return sem.wrap(sample)


# --- uniform draws: MT19937's next_double ------------------------------------------------------------
def random_sample(state, size=None):
    u = _draw(state, "legacy_uniform", _shape(size))
    return _as_python_float(u) if size is None else u


def rand(state, *dims):
    return random_sample(state, dims if dims else None)


def uniform(state, low=0.0, high=1.0, size=None):
    """low + (high - low) * U, NumPy's random_uniform."""
    low, high = _float64(low), _float64(high)
    span = sem.ufunc("subtract", high, low)
    _check(sem.ufunc("logical_not", sem.ufunc("isfinite", span)), OverflowError("Range exceeds valid bounds"))
    shape = _shape(size) if size is not None else _bshape(low, high)
    u = _draw(state, "legacy_uniform", shape)
    res = sem.ufunc("add", low, sem.ufunc("multiply", span, u))
    return _as_python_float(res) if _scalar_result(size, low, high) else res


def standard_exponential(state, size=None):
    """-log(1 - U), NumPy's legacy_standard_exponential."""
    u = _draw(state, "legacy_uniform", _shape(size))
    e = sem.ufunc("negative", sem.ufunc("log", sem.ufunc("subtract", 1.0, u)))
    return _as_python_float(e) if size is None else e


def exponential(state, scale=1.0, size=None):
    _check_scale(scale)
    shape = _shape(size) if size is not None else _bshape(scale)
    u = _draw(state, "legacy_uniform", shape)
    e = sem.ufunc("negative", sem.ufunc("log", sem.ufunc("subtract", 1.0, u)))
    res = sem.ufunc("multiply", _float64(scale), e)
    return _as_python_float(res) if _scalar_result(size, scale) else res


# --- normal draws: the polar method with its cached second value --------------------------------------
def standard_normal(state, size=None):
    z = _draw(state, "legacy_normal", _shape(size))
    return _as_python_float(z) if size is None else z


def randn(state, *dims):
    return standard_normal(state, dims if dims else None)


def normal(state, loc=0.0, scale=1.0, size=None):
    """loc + scale * gauss, NumPy's legacy_normal."""
    _check_scale(scale)
    shape = _shape(size) if size is not None else _bshape(loc, scale)
    z = _draw(state, "legacy_normal", shape)
    res = sem.ufunc("add", _float64(loc), sem.ufunc("multiply", _float64(scale), z))
    return _as_python_float(res) if _scalar_result(size, loc, scale) else res


def _check_scale(scale) -> None:
    """NumPy's CONS_NON_NEGATIVE: a sign bit set (-0.0 too), NaN allowed."""
    scale = _float64(scale)
    if not sem.is_tracer(scale):
        _check(np.signbit(scale) & ~np.isnan(scale), ValueError("scale < 0"))
        return
    from . import numpy_api as nx

    not_nan = sem.ufunc("logical_not", sem.ufunc("isnan", scale))
    negative = sem.ufunc("logical_and", nx.NAMESPACE["signbit"](scale), not_nan)
    if negative.ndim:
        negative = sem.reduce("reduce_any", negative)
    _check(negative, ValueError("scale < 0"))


def _check(pred, exc: BaseException) -> None:
    """Raise `exc` where `pred` holds: now for a constant, at run time for a traced one."""
    if not sem.is_tracer(pred):
        if np.any(pred):
            raise exc
        return
    from .checks import emit_check

    emit_check(pred, exc)


# --- integers: masked rejection -------------------------------------------------------------------
def randint(state, low, high=None, size=None, dtype=int):
    if (np.dtype("long") if dtype is int else np.dtype(dtype)) != np.dtype(np.int64):
        raise UnsupportedError(f"np.random.randint(dtype={np.dtype(dtype)}) is not supported in a traced function",
                               ctx.current_loc(), "draw int64 (the default) and convert with .astype")
    if high is None:
        low, high = 0, low
    shape = _shape(size)
    if size is not None and 0 in shape:
        from . import numpy_api as nx

        return nx.NAMESPACE["empty"](shape, dtype=np.int64)  # NumPy returns before looking at the bounds
    lo, hi = _bound(low, "low"), _bound(high, "high")
    _check(sem.ufunc("greater_equal", lo, hi), ValueError("low >= high"))
    out = _draw(state, "legacy_randint", shape, sem.as_value(lo, np.int64), sem.as_value(hi, np.int64))
    return sem.wrap(out.value, weak=True) if size is None else out  # a Python int


def _bound(b, which: str):
    """An int64 bound (`which` is "low" or "high", exclusive): NumPy takes
    int() of a scalar bound."""
    if sem.is_tracer(b):
        if b.ndim or b.dtype.kind not in "biu" or b.dtype == np.uint64:
            raise UnsupportedError("np.random.randint with a traced bound that is not a scalar int is not "
                                   "supported in a traced function", ctx.current_loc(),
                                   "pass an int (draw in a loop where bounds differ)")
        return sem.astype(b, np.int64)
    if np.ndim(b):
        raise UnsupportedError("np.random.randint with array bounds is not supported in a traced function",
                               ctx.current_loc(), "draw with scalar bounds (in a loop where they differ)")
    value = int(b)
    if which == "low" and value < -(2**63):
        raise ValueError("low is out of bounds for int64")
    if which == "high" and value > 2**63:
        raise ValueError("high is out of bounds for int64")
    if not -(2**63) <= value < 2**63:
        raise UnsupportedError(f"np.random.randint with {which} = {value} is not supported in a traced function",
                               ctx.current_loc(), "use bounds within int64")
    return np.int64(value)


def choice(state, a, size=None, replace=True, p=None):
    """choice of an int population, or of a 1-d array's items, with
    replacement and equal weights: NumPy draws randint(0, n, size)."""
    if p is not None or not replace:
        raise UnsupportedError("np.random.choice with p= or replace=False is not supported in a traced function",
                               ctx.current_loc(), "draw with np.random.random() and np.searchsorted, " + _HINT)
    if isinstance(a, numbers.Integral) or sem.is_tracer(a) and a.ndim == 0:
        if sem.is_tracer(a) and a.dtype.kind not in "biu":
            raise ValueError("a must be 1-dimensional or an integer")
        if size is None or np.prod(_shape(size)) != 0:
            _check(sem.ufunc("less_equal", a, 0), ValueError("a must be greater than 0 unless no samples are taken"))
        return randint(state, 0, a, size)
    from . import numpy_api as nx

    items = a if sem.is_tracer(a) else nx.asarray(a)
    if items.ndim != 1:
        raise ValueError("a must be 1-dimensional")
    if items.shape[0] == 0 and (size is None or np.prod(_shape(size)) != 0):
        raise ValueError("'a' cannot be empty unless no samples are taken")
    return items[randint(state, 0, items.shape[0], size)]


# --- seeding ----------------------------------------------------------------------------------------
def seed(state, seed=None):
    """An int seed in [0, 2**32): MT19937's init_genrand, the gaussian cache cleared."""
    if sem.is_tracer(seed) and seed.ndim == 0 and seed.dtype.kind in "biu":
        s = sem.astype(seed, np.int64)
        _check(sem.ufunc("logical_or", sem.ufunc("less", s, 0), sem.ufunc("greater", s, 2**32 - 1)),
               ValueError("Seed must be between 0 and 2**32 - 1"))
    elif isinstance(seed, (numbers.Integral, np.integer)):
        if not 0 <= int(seed) <= 2**32 - 1:
            raise ValueError("Seed must be between 0 and 2**32 - 1")
        s = np.int64(seed)
    else:
        what = "None (fresh entropy from the OS)" if seed is None else f"a {type(seed).__name__}"
        raise UnsupportedError(f"np.random.seed of {what} is not supported in a traced function: only an int seed",
                               ctx.current_loc(), "seed with an int, or outside the jitted function")
    token, = ctx.emit(prim("legacy_seed"), [state.token, sem.as_value(s, np.int64)])
    state.advance(token)


METHODS = {"seed": seed, "random_sample": random_sample, "random": random_sample, "ranf": random_sample,
           "sample": random_sample, "rand": rand, "uniform": uniform, "standard_normal": standard_normal,
           "randn": randn, "normal": normal, "standard_exponential": standard_exponential,
           "exponential": exponential, "randint": randint, "choice": choice}


# --- at call time: the state array of a RandomState ------------------------------------------------------
def state_array(rs: np.random.RandomState) -> np.ndarray:
    """A new state array holding the RandomState's state."""
    state = np.empty(LEGACY_WORDS, np.uint32)
    words, cache = _mt_words(rs._bit_generator), _cache_at(rs)
    if words is None or cache is None:
        _, key, pos, has_gauss, gauss = rs.get_state()
        state[:624], state[624], state[625] = key, pos, has_gauss
    else:
        state[:625] = words
        has_gauss, gauss = cache[0].value, cache[1].value
        state[625] = has_gauss
    state[626:628].view(np.float64)[0] = gauss
    return state


def store_state(rs: np.random.RandomState, state: np.ndarray) -> None:
    """Put the state array's state into the RandomState."""
    gauss = float(state[626:628].view(np.float64)[0])
    words, cache = _mt_words(rs._bit_generator), _cache_at(rs)
    if words is None or cache is None:
        rs.set_state(("MT19937", state[:624], int(state[624]), int(state[625]), gauss))
        return
    words[:] = state[:625]
    cache[0].value, cache[1].value = int(state[625]), gauss


_WORDS: dict[int, tuple] = {}  # id(MT19937) -> (the MT19937, a view of its key and position)


def _mt_words(bg) -> np.ndarray | None:
    """MT19937's key and position (a C int, 0..624) as 625 uint32 words of
    its own memory, checked against its `state` once."""
    hit = _WORDS.get(id(bg))
    if hit is not None and hit[0] is bg:
        return hit[1]
    if type(bg) is not np.random.MT19937:
        return None
    words = np.ctypeslib.as_array((ctypes.c_uint32 * 625).from_address(bg.ctypes.state_address))
    st = bg.state["state"]
    if not (np.array_equal(words[:624], st["key"]) and int(words[624]) == st["pos"]):
        words = None
    if len(_WORDS) > 64:
        _WORDS.clear()
    _WORDS[id(bg)] = (bg, words)
    return words


_CACHE_OFFSET: list = []  # [offset of RandomState's has_gauss in the object, or None]


def _cache_at(rs) -> tuple | None:
    """(has_gauss, gauss) of RandomState's gaussian cache as ctypes fields of
    the object's memory, or None where its place was not found."""
    if type(rs) is not np.random.RandomState:
        return None
    if not _CACHE_OFFSET:
        _CACHE_OFFSET.append(_find_cache_offset())
    at = _CACHE_OFFSET[0]
    if at is None:
        return None
    return ctypes.c_int.from_address(id(rs) + at), ctypes.c_double.from_address(id(rs) + at + 8)


def _find_cache_offset() -> int | None:
    """RandomState's `aug_bitgen_t _aug_state` is {bitgen_t *, int has_gauss,
    double gauss}, its pointer aimed into the object itself: found by that,
    then checked by setting and reading back the cache both ways."""
    probe = np.random.RandomState(np.random.MT19937(0))
    base, size = id(probe), type(probe).__basicsize__
    words = np.frombuffer(ctypes.string_at(base, size), dtype=np.uint64)
    _, key, pos, _, _ = probe.get_state()
    for k in range(len(words) - 2):
        if not base <= int(words[k]) < base + size:
            continue
        at = 8 * (k + 1)
        if _cache_reads_back(probe, at, key, pos):
            return at
    return None


def _cache_reads_back(probe, at: int, key, pos) -> bool:
    has = ctypes.c_int.from_address(id(probe) + at)
    gauss = ctypes.c_double.from_address(id(probe) + at + 8)
    for h, g in ((1, 0.7182818284590452), (0, 0.0), (1, -3.25)):
        probe.set_state(("MT19937", key, pos, h, g))
        if has.value != h or gauss.value != g:
            return False
    has.value, gauss.value = 1, 1.5
    if probe.get_state()[3:] != (1, 1.5):
        return False
    probe.set_state(("MT19937", key, pos, 0, 0.0))
    return True
