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


# --- batching rules ---
def _draw_batch(method_prim_name: str):
    """dims[0] == 0 means one draw per batch member: draw them all at once,
    which consumes the generator exactly as the sequence of draws does."""

    def rule(b, args, dims, *, shape, **attrs):
        n = b.axis_size
        token, vals = b.op(method_prim_name, *args, shape=(n, *shape), **attrs)
        return [token, vals], [None, 0]

    return rule


def _attach_batching_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES

    for name in ("random_normal", "random_uniform", "random_exponential", "random_integers"):
        PRIMITIVES[name].batch = _draw_batch(name)


_attach_batching_rules()
