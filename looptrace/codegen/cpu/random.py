"""CPU rules of the random draws."""
from __future__ import annotations

from looptrace.codegen.target import StatementRule

from .target import TARGET


# Numba draws from the caller's own np.random.Generator with NumPy's algorithms
# (tests/codegen checks the values and the final state against NumPy's), through
# the cached helpers of templates.py (Generator.standard_normal and .random).
def _draw_lower(helper: str):
    def lower(em, op) -> None:
        token, (new_token, v) = op.inputs[0], op.outputs
        em.line(f"{em.name(new_token)} = {em.name(token)}")
        shape = tuple(v.shape) or (1,)
        draw = f"{helper}({em.name(token)}, {shape}, np.{v.dtype.name})"
        em.line(f"{em.name(v)} = {draw}" + ("" if v.ndim else "[0]"))
        em.define(new_token)
        em.define(v, owned=bool(v.ndim))

    return lower


TARGET.register("random_normal", StatementRule(_draw_lower("normal_draws")))
TARGET.register("random_uniform", StatementRule(_draw_lower("uniform_draws")))
TARGET.register("random_exponential", StatementRule(_draw_lower("exponential_draws")))


def _integers_lower(em, op) -> None:
    (token, low, high), (new_token, v) = op.inputs, op.outputs
    em.line(f"{em.name(new_token)} = {em.name(token)}")
    shape = tuple(v.shape) or (1,)
    draw = (f"integer_draws({em.name(token)}, np.int64({em.name(low)}), np.int64({em.name(high)}), {shape}, "
            f"np.{v.dtype.name}, {bool(op.attrs['endpoint'])})")
    em.line(f"{em.name(v)} = {draw}" + ("" if v.ndim else "[0]"))
    em.define(new_token)
    em.define(v, owned=bool(v.ndim))


TARGET.register("random_integers", StatementRule(_integers_lower))


def _permutation_lower(em, op) -> None:
    token, (new_token, v) = op.inputs[0], op.outputs
    em.line(f"{em.name(new_token)} = {em.name(token)}")
    em.line(f"{em.name(v)} = permutation_draw({em.name(token)}, {int(op.attrs['n'])})")
    em.define(new_token)
    em.define(v, owned=True)


TARGET.register("random_permutation", StatementRule(_permutation_lower))
