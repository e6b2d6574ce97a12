"""cuda rules of the random draws: they run on the host.

The caller's `np.random.Generator` is a host object, and looptrace promises
its values and its final state equal the plain function's, so draws call
that generator with NumPy's own algorithms and the samples are copied to the
device (one copy per draw; the vectorizer has already batched a loop's
draws into one). A loop whose body draws therefore runs host-driven
(strategy.py): a persistent kernel cannot call the host.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from looptrace.codegen.target import StatementRule
from looptrace.errors import UnsupportedError

from ..access import Buf, whole
from ..values import HostScalar, RngLoc

if TYPE_CHECKING:
    from ..emitter import CudaEmitter
from ..target import TARGET


def _draw_lower(method: str, params=lambda em, op: ""):
    def lower(em: CudaEmitter, op) -> None:
        token, (new_token, v) = op.inputs[0], op.outputs
        gen = em.loc(token).name
        em.bind(new_token, RngLoc(gen))
        sample = em.fresh("draw")
        em.hline(f"{sample} = np.asarray({gen}.{method}({params(em, op)}{tuple(v.shape)!r}, "
                 f"dtype=np.{v.dtype.name}))")
        if v.ndim == 0:
            em.bind(v, HostScalar(f"{sample}[()]", v.dtype))
            return
        buf = em.fresh("b")
        em.hline(f"{buf} = rt.upload({sample})")
        em.bind(v, whole(Buf("host", buf, v.dtype), tuple(v.shape)), owned=True)

    return lower


TARGET.register("random_normal", StatementRule(_draw_lower("standard_normal")))
TARGET.register("random_uniform", StatementRule(_draw_lower("random")))
TARGET.register("random_exponential", StatementRule(_draw_lower("standard_exponential")))


def _bounds(em: CudaEmitter, op) -> str:
    """rng.integers' low and high (host values) and endpoint, before the shape."""
    _, low, high = op.inputs
    return f"int({em.host_scalar(low)}), int({em.host_scalar(high)}) + {int(bool(op.attrs['endpoint']))}, "


TARGET.register("random_integers", StatementRule(_draw_lower("integers", _bounds)))


def _permutation_lower(em: CudaEmitter, op) -> None:
    token, (new_token, v) = op.inputs[0], op.outputs
    gen = em.loc(token).name
    em.bind(new_token, RngLoc(gen))
    sample, buf = em.fresh("draw"), em.fresh("b")
    em.hline(f"{sample} = np.asarray({gen}.permutation({int(op.attrs['n'])}), dtype=np.int64)")
    em.hline(f"{buf} = rt.upload({sample})")
    em.bind(v, whole(Buf("host", buf, v.dtype), tuple(v.shape)), owned=True)


TARGET.register("random_permutation", StatementRule(_permutation_lower))


def _refuse_legacy(em, op) -> None:
    raise UnsupportedError("np.random.seed/random/randn/randint/... (NumPy's legacy global random state) is not "
                           "supported by the cuda backend", op.loc,
                           "pass a generator (np.random.default_rng(seed)) and draw from it, or use "
                           "backend='cpu' or 'interpret'")


for _name in ("legacy_uniform", "legacy_normal", "legacy_randint", "legacy_seed"):  # ops/random.py
    TARGET.register(_name, StatementRule(_refuse_legacy))


def _refuse_params_draw(em, op) -> None:
    method = op.prim.name.removeprefix("random_")
    raise UnsupportedError(f"Generator.{method} is not supported by the cuda backend", op.loc,
                           "draw it with backend='cpu' or 'interpret', or pass the draws in as an argument")


for _name in ("random_poisson", "random_binomial"):  # ops/random.py
    TARGET.register(_name, StatementRule(_refuse_params_draw))
