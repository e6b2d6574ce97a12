"""CPU rules of the random draws."""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import StatementRule

from .draws_discrete import BTPE_CORRECTED
from .target import TARGET


def _size(v) -> int:
    """How many values the array `v` holds: the helpers that draw arrays
    draw them flat, one compiled version for every rank (one per rank cost
    2.5-6 s of a machine's first compile each), and the kernel reshapes."""
    return int(np.prod(v.shape))


def _reshaped(shape: tuple) -> str:
    """The reshape of a flat draw to `shape`, or nothing for a 1-d one."""
    return "" if len(shape) == 1 else f".reshape({tuple(shape)!r})"


# Numba draws from the caller's own np.random.Generator with NumPy's algorithms
# (tests/codegen checks the values and the final state against NumPy's), through
# the cached helpers of templates.py: `*_draws` for an array of draws, `*_draw`
# for one (a scalar made as a one-element array cost an allocation per draw).
def _draw_lower(helper: str):
    def lower(em, op) -> None:
        token, (new_token, v) = op.inputs[0], op.outputs
        em.pass_token(new_token, token)
        if v.ndim:
            em.line(f"{em.name(v)} = {helper}s({em.name(token)}, {_size(v)}, np.{v.dtype.name}){_reshaped(v.shape)}")
        else:
            em.line(f"{em.name(v)} = {helper}({em.name(token)}, np.{v.dtype.name})")
        em.define(v, owned=bool(v.ndim))

    return lower


TARGET.register("random_normal", StatementRule(_draw_lower("normal_draw")))
TARGET.register("random_uniform", StatementRule(_draw_lower("uniform_draw")))
TARGET.register("random_exponential", StatementRule(_draw_lower("exponential_draw")))


def _integers_lower(em, op) -> None:
    (token, low, high), (new_token, v) = op.inputs, op.outputs
    em.pass_token(new_token, token)
    bounds = f"np.int64({em.name(low)}), np.int64({em.name(high)})"
    endpoint = bool(op.attrs["endpoint"])
    if v.dtype != np.int64:  # int64 bounds may lie outside another dtype: NumPy's ValueError
        info = np.iinfo(v.dtype)
        lowest, highest = max(int(info.min), -(2**63)), min(int(info.max), 2**63 - 1)
        em.line(f"check_integer_bounds({bounds}, {endpoint}, {lowest}, {highest})")
    if v.ndim:
        draw = f"integer_draws({em.name(token)}, {bounds}, {_size(v)}, np.{v.dtype.name}, {endpoint}){_reshaped(v.shape)}"
    else:
        draw = f"integer_draw({em.name(token)}, {bounds}, np.{v.dtype.name}, {endpoint})"
    em.line(f"{em.name(v)} = {draw}")
    em.define(v, owned=bool(v.ndim))


TARGET.register("random_integers", StatementRule(_integers_lower))


def _permutation_lower(em, op) -> None:
    token, (new_token, v) = op.inputs[0], op.outputs
    em.pass_token(new_token, token)
    em.line(f"{em.name(v)} = permutation_draw({em.name(token)}, {int(op.attrs['n'])})")
    em.define(v, owned=True)


TARGET.register("random_permutation", StatementRule(_permutation_lower))


# rng.poisson and rng.binomial: NumPy's algorithms in codegen/cpu/draws_discrete.py; each parameter
# is a scalar or an array of the draw's shape (ops/random.py). An array of draws passes its
# parameters as scalars where all are, else each flat (a 1-element array for a scalar), and its
# size, and reshapes the flat draws: two compiled versions of a helper for every shape and kind.
def _params_draw_lower(helper: str, *flags: str):
    def lower(em, op) -> None:
        (token, *params), (new_token, v) = op.inputs, op.outputs
        em.pass_token(new_token, token)
        if not v.ndim:
            em.line(f"{em.name(v)} = {helper}({', '.join([em.name(token), *(em.name(x) for x in params), *flags])})")
            em.define(v, owned=False)
            return
        flat = [em.name(x) if all(not y.ndim for y in params)  # scalars: their setup is hoisted out of the loop
                else f"np.full(1, {em.name(x)}, np.{x.dtype.name})" if not x.ndim
                else f"np.ascontiguousarray({em.name(x)}).reshape({int(np.prod(x.shape))})" for x in params]
        em.line(f"{em.name(v)} = {helper}s({', '.join([em.name(token), *flat, str(_size(v)), *flags])})"
                f"{_reshaped(v.shape)}")
        em.define(v, owned=True)

    return lower


TARGET.register("random_poisson", StatementRule(_params_draw_lower("poisson_draw")))
TARGET.register("random_binomial", StatementRule(_params_draw_lower("binomial_draw", repr(BTPE_CORRECTED))))


# NumPy's legacy global random state: the token is the state array of ops/random.py, drawn from in
# place by codegen/cpu/legacy_random.py's helpers (NumPy's algorithms on that array)
def _legacy_lower(helper: str):
    def lower(em, op) -> None:
        (token, *bounds), (new_token, v) = op.inputs, op.outputs
        em.pass_token(new_token, token)
        args = [em.name(token), *(f"np.int64({em.name(b)})" for b in bounds)]
        if v.ndim:  # flat draws (one compiled helper for every rank), reshaped
            em.line(f"{em.name(v)} = {helper}s({', '.join(args)}, {_size(v)}){_reshaped(v.shape)}")
        else:
            em.line(f"{em.name(v)} = {helper}({', '.join(args)})")
        em.define(v, owned=bool(v.ndim))

    return lower


def _legacy_seed_lower(em, op) -> None:
    (token, seed), (new_token,) = op.inputs, op.outputs
    em.line(f"legacy_seed({em.name(token)}, np.int64({em.name(seed)}))")
    em.pass_token(new_token, token)


TARGET.register("legacy_uniform", StatementRule(_legacy_lower("legacy_uniform_draw")))
TARGET.register("legacy_normal", StatementRule(_legacy_lower("legacy_normal_draw")))
TARGET.register("legacy_randint", StatementRule(_legacy_lower("legacy_randint_draw")))
TARGET.register("legacy_seed", StatementRule(_legacy_seed_lower))
