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


# --- batching rules ---
def _draw_batch(method_prim_name: str):
    """dims[0] == 0 means one draw per batch member: draw them all at once,
    which consumes the generator exactly as the sequence of draws does."""

    def rule(b, args, dims, *, shape, dtype):
        n = b.axis_size
        token, vals = b.op(method_prim_name, args[0], shape=(n, *shape), dtype=dtype)
        return [token, vals], [None, 0]

    return rule


def _attach_batching_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES

    for name in ("random_normal", "random_uniform"):
        PRIMITIVES[name].batch = _draw_batch(name)


_attach_batching_rules()
