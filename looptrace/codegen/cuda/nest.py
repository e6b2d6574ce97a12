"""The code of one fusion root: a parallel loop over its output (or a view, or a scalar).

A root becomes one parallel loop over its output (emitter.parallel: a
grid-stride kernel at the top level, a loop over the team's threads inside a
persistent kernel); each thread computes whole elements with the Fuser
(fuse.py). Exceptions: a root that only broadcasts a stored value is a view
(no kernel, no memory); a fold with few outputs over long rows runs as block
tree reductions first (tree.py); a scalar op on host scalars runs on the host
with the primitive's own NumPy implementation.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from looptrace.codegen.planning.fusion import is_fold
from looptrace.ir.core import Dim, Op

from .access import broadcast
from .fuse import Fuser
from .splitk import emit_split, split_plan
from .tree import scalar_fold, tree_reduce_inlined
from .values import HostScalar, shift_range

if TYPE_CHECKING:
    from .emitter import CudaEmitter


def emit_fused(em: CudaEmitter, op: Op) -> None:
    """The code of one fusion root."""
    v = op.out
    if v.ndim == 0:
        _scalar_root(em, op)
        return
    if _as_view(em, op):
        return
    if em.team is None and tree_reduce_inlined(em, op):
        return
    split = split_plan(em, op) if em.team is not None else None
    if split is not None:
        emit_split(em, op, *split)
        return
    out = em.alloc(v)
    extra = em.team.destinations(v) if em.team is not None else []
    with em.parallel(em.count(v.shape)) as (code, e):
        idx = em.index_of(code, e, v.shape)
        fz = Fuser(em, code)
        value = fz.value_at(v, idx, produce=True)
        code.store(out, idx, value)
        for dst in extra:
            code.store(dst, idx, value)
    if extra:
        em.team.written_rows.add(v.id)


def _as_view(em: CudaEmitter, op: Op) -> bool:
    """A root that only broadcasts a stored value is a view of it."""
    if op.prim.name != "broadcast_to" or any(isinstance(d, Dim) for d in op.out.shape):
        return False
    x = op.inputs[0]
    if x.id in em.plan.inlined or x.ndim == 0 and not hasattr(em.loc(x), "buf"):
        return False
    if x.const is None and x.id not in em.locs and x.id not in em.overrides:
        return False  # a view never made (a unit-axes reshape, a slice): a nest reads through it
    em.view(op.out, broadcast(em.acc(x), tuple(op.out.shape)), x)
    return True


def _scalar_root(em: CudaEmitter, op: Op) -> None:
    v = op.out
    shift_range(em, op)
    if is_fold(op) and op.inputs[0].ndim:
        scalar_fold(em, op)
        return
    if em.team is None and all(em.on_host(u) for u in op.inputs) and op.prim.impl is not None:
        _host_scalar_op(em, op)
        return
    em.scalar_result(v, lambda code: Fuser(em, code).value_at(v, [], produce=True))


def _host_scalar_op(em: CudaEmitter, op: Op) -> None:
    """A scalar op on host scalars runs on the host with the primitive's own
    NumPy implementation (the reference semantics, no launch)."""
    v = op.out
    name = em.fresh("h")
    args = "".join(em.host_scalar(u) + ", " for u in op.inputs)
    em.host_ops.append(op)
    em.hline(f"{name} = rt.host_op({len(em.host_ops) - 1}, ({args}))")
    em.bind(v, HostScalar(name, v.dtype))
