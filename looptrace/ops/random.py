"""Random draws from a `np.random.Generator` argument.

A draw consumes and produces the generator's state token (dtype RNG), which
orders draws exactly as the plain function makes them; the implementation
calls the caller's own generator, so the values and the generator's final
state equal the plain function's. Drawing n samples in one call and n single
samples in n calls consume the bit stream identically, which is what lets the
vectorizer batch a loop's draws into one call.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.core import RNG
from looptrace.ir.primitive import NOT_DIFFERENTIABLE, Primitive, register
from looptrace.ops.batching_helpers import NotBatchable, expand_to_rank


def _draw_abstract(token, *, shape, dtype):
    return [(RNG, ()), (np.dtype(dtype), tuple(shape))]


def _method_impl(method: str):
    def impl(gen, *, shape, dtype):
        return gen, np.asarray(getattr(gen, method)(shape, dtype=dtype))

    return impl


register(Primitive("random_normal", "random", _draw_abstract, _method_impl("standard_normal"),
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="rng.standard_normal(shape, dtype)"))
register(Primitive("random_uniform", "random", _draw_abstract, _method_impl("random"),
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="rng.random(shape, dtype), uniform on [0, 1)"))
register(Primitive("random_exponential", "random", _draw_abstract, _method_impl("standard_exponential"),
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="rng.standard_exponential(shape, dtype)"))


def _integers_abstract(token, low, high, *, shape, dtype, endpoint):
    return [(RNG, ()), (np.dtype(dtype), tuple(shape))]


def _integers_impl(gen, low, high, *, shape, dtype, endpoint):
    return gen, np.asarray(gen.integers(int(low), int(high), shape, dtype=dtype, endpoint=endpoint))


# low and high are int64 scalars; NumPy's bounded draws of 32 and 64 bits consume the stream alike
# drawn one at a time or many at once (of 8 and 16 bits they do not: tracer/random.py refuses those)
register(Primitive("random_integers", "random", _integers_abstract, _integers_impl,
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="rng.integers(low, high, shape, dtype, endpoint)"))



def _permutation_abstract(token, *, n):
    return [(RNG, ()), (np.dtype(np.int64), (n,))]


# rng.permutation(n): rng.permutation(x) and rng.shuffle(x) of n rows draw the same swaps (tracer/random.py)
register(Primitive("random_permutation", "random", _permutation_abstract,
                   lambda gen, *, n: (gen, np.asarray(gen.permutation(n), dtype=np.int64)),
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="rng.permutation(n)"))


# --- discrete draws with parameters: rng.poisson(lam, size), rng.binomial(n, p, size) ---
# Each parameter is a scalar or has the draw's shape (the tracer broadcasts it and checks it as NumPy
# does first: lam in [0, POISSON_LAM_MAX], n >= 0, p in [0, 1]); element k of the draw uses element k
# of each parameter, in C order, as NumPy's broadcast loop does. NumPy's per-Generator binomial cache
# (binomial_t) only memoizes constants that (n, p) decide, so it changes no value.
POISSON_LAM_MAX = float(np.iinfo(np.int64).max) - np.sqrt(np.iinfo(np.int64).max) * 10


def _params_abstract(token, *params, shape):
    return [(RNG, ()), (np.dtype(np.int64), tuple(shape))]


register(Primitive("random_poisson", "random", _params_abstract,
                   lambda gen, lam, *, shape: (gen, np.asarray(gen.poisson(lam, shape), dtype=np.int64)),
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="rng.poisson(lam, shape) of a float64 lam, scalar or of the draw's shape"))
register(Primitive("random_binomial", "random", _params_abstract,
                   lambda gen, n, p, *, shape: (gen, np.asarray(gen.binomial(n, p, shape), dtype=np.int64)),
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="rng.binomial(n, p, shape) of an int64 n and a float64 p, each scalar or of the "
                       "draw's shape"))


# --- NumPy's legacy global random state (np.random.seed, random, randn, randint, ...) ---
# The state token's run-time value is a uint32 array of LEGACY_WORDS words: MT19937's key (624 words)
# and position, then RandomState's gaussian cache (has_gauss, and gauss as the two words of a float64).
# A call fills it from the RandomState and writes it back after a run that went through
# (tracer/legacy_random.py); these NumPy implementations run NumPy's own RandomState on it.
LEGACY_WORDS = 628


def legacy_random_state(state: np.ndarray) -> np.random.RandomState:
    """A RandomState holding the state array's state."""
    rs = np.random.RandomState(np.random.MT19937(0))
    rs.set_state(("MT19937", state[:624], int(state[624]), int(state[625]), float(state[626:628].view(np.float64)[0])))
    return rs


def store_legacy_state(rs: np.random.RandomState, state: np.ndarray) -> None:
    _, key, pos, has_gauss, gauss = rs.get_state()
    state[:624], state[624], state[625] = key, pos, has_gauss
    state[626:628].view(np.float64)[0] = gauss


def _legacy_impl(draw):
    def impl(state, *args, **attrs):
        rs = legacy_random_state(state)
        out = draw(rs, *args, **attrs)
        store_legacy_state(rs, state)
        return (state,) if out is None else (state, np.asarray(out))

    return impl


def _legacy_abstract(dtype):
    def abstract(token, *bounds, shape):
        return [(RNG, ()), (np.dtype(dtype), tuple(shape))]

    return abstract


register(Primitive("legacy_uniform", "random", _legacy_abstract(np.float64),
                   _legacy_impl(lambda rs, *, shape: rs.random_sample(shape)),
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="np.random.random_sample(shape) of the legacy state: MT19937's next_double"))
register(Primitive("legacy_normal", "random", _legacy_abstract(np.float64),
                   _legacy_impl(lambda rs, *, shape: rs.standard_normal(shape)),
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="np.random.standard_normal(shape): the polar method with its cached second value"))
# low < high, int64 (checked by the tracer): masked rejection, 32-bit draws where the range fits
register(Primitive("legacy_randint", "random", _legacy_abstract(np.int64),
                   _legacy_impl(lambda rs, low, high, *, shape: rs.randint(int(low), int(high), shape, np.int64)),
                   multiple_results=True, effectful=True, fresh=True, vjp=NOT_DIFFERENTIABLE,
                   doc="np.random.randint(low, high, shape) of int64"))


def _seed_abstract(token, seed):
    return [(RNG, ())]


def _seed(rs, seed):
    rs.seed(int(seed))


# seed in [0, 2**32) (checked by the tracer): MT19937's init_genrand, the gaussian cache cleared
register(Primitive("legacy_seed", "random", _seed_abstract, _legacy_impl(_seed),
                   multiple_results=True, effectful=True, vjp=NOT_DIFFERENTIABLE,
                   doc="np.random.seed(seed) of an int seed"))


# --- batching rules ---
def _draw_batch(method_prim_name: str):
    """dims[0] == 0 means one draw per batch member: draw them all at once,
    which consumes the generator exactly as the sequence of draws does."""

    def rule(b, args, dims, *, shape, **attrs):
        if any(d is not None for d in dims[1:]):  # (one draw of all takes one value of each parameter)
            raise NotBatchable(f"{method_prim_name} with parameters that change between the draws")
        n = b.axis_size
        token, vals = b.op(method_prim_name, *args, shape=(n, *shape), **attrs)
        return [token, vals], [None, 0]

    return rule


def _params_draw_batch(name: str):
    """One draw of `shape` per batch member, each from its member's
    parameters: one draw of (n, *shape) whose parameters are broadcast to
    it (a scalar that no member changes stays a scalar)."""

    def rule(b, args, dims, *, shape):
        n = b.axis_size
        full = (n, *shape)
        params = [_param_to(b, x, d, full) for x, d in zip(args[1:], dims[1:])]
        token, vals = b.op(name, args[0], *params, shape=full)
        return [token, vals], [None, 0]

    return rule


def _param_to(b, x, d, full: tuple):
    if d is None:
        return x if not x.shape or tuple(x.shape) == full else b.op("broadcast_to", x, shape=full)
    if tuple(x.shape) == full:
        return x
    return b.op("broadcast_to", expand_to_rank(b, x, len(full) - 1), shape=full)


def _attach_batching_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES

    for name in ("random_normal", "random_uniform", "random_exponential", "random_integers",
                 "legacy_uniform", "legacy_normal", "legacy_randint"):
        PRIMITIVES[name].batch = _draw_batch(name)
    PRIMITIVES["legacy_seed"].batch = _seed_batch
    for name in ("random_poisson", "random_binomial"):
        PRIMITIVES[name].batch = _params_draw_batch(name)


def _seed_batch(b, args, dims, **attrs):
    """A seed per iteration with nothing drawn after it: the loop's last seed
    decides the state, but the loop stays (seeding is cheap)."""
    raise NotBatchable("np.random.seed in a loop stays in the loop")


_attach_batching_rules()
