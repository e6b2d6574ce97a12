"""The code of one fusion root: a parallel loop over its output (or a view, or a scalar).

A root becomes one parallel loop over its output (emitter.parallel: a
grid-stride kernel at the top level, a loop over the team's threads inside a
persistent kernel); each thread computes whole elements with the Fuser
(fuse.py). Maps over one shape planned as a group (planning/fusion.py
`_group_maps`: a fill and the maps beside it) share that loop; a fill whose
every element is written before it is read is only allocated. Exceptions: a
root that only broadcasts a stored value is a view (no kernel, no memory); a
fold with few outputs over long rows runs as block tree reductions first
(tree.py); a scalar op on host scalars runs on the host with the primitive's
own NumPy implementation; a scalar select computes a costly operand only on
its branch inside a kernel (`_lazy_select`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from looptrace.codegen.planning.fusion import is_fold
from looptrace.ir.core import Dim, Op

from ..cpu.text import dtype_text
from .access import broadcast
from .fuse import Fuser
from .splitk import emit_split, split_plan
from .tree import scalar_fold, tree_reduce_inlined
from .values import HostScalar, Reg, cast_to, shift_range

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
    if id(op) in em.plan.unfilled:  # every element is written before it is read (planning/fusion.py)
        em.alloc(v)
        return
    split = split_plan(em, op) if em.team is not None else None
    if split is not None:
        emit_split(em, op, *split)
        return
    group = [op] + [o for o in em.plan.map_group.get(id(op), []) if not _as_view(em, o)]
    _emit_maps(em, group)


def _emit_maps(em: CudaEmitter, ops: list[Op]) -> None:
    """Roots over one shape in one parallel loop: the root alone, or a group of maps that
    read none of each other's results (planning/fusion.py `_group_maps`): at each
    element every map's in turn, sharing the temporaries they have in common; each
    writes fresh storage, so no map reads what another writes."""
    shape = ops[0].out.shape
    outs = [(o, em.alloc(o.out), em.team.destinations(o.out) if em.team is not None else []) for o in ops]
    outer = em.op
    with em.parallel(em.count(shape)) as (code, e):
        idx = em.index_of(code, e, shape)
        fz = Fuser(em, code)
        try:
            for o, out, extra in outs:
                em.op = o  # each line names its own op (error messages)
                value = fz.value_at(o.out, idx, produce=True)
                code.store(out, idx, value)
                for dst in extra:
                    code.store(dst, idx, value)
        finally:
            em.op = outer
    for o, _, extra in outs:
        if extra:
            em.team.written_rows.add(o.out.id)


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
    if id(op) in em.plan.lazy:
        _lazy_select(em, op)
        return
    shift_range(em, op)
    if is_fold(op) and op.inputs[0].ndim:
        scalar_fold(em, op)
        return
    if em.team is None and all(em.on_host(u) for u in op.inputs) and op.prim.impl is not None:
        _host_scalar_op(em, op)
        return
    em.scalar_result(v, lambda code: Fuser(em, code).value_at(v, [], produce=True))


def _lazy_select(em: CudaEmitter, op: Op) -> None:
    """A scalar select whose operands' costly ops run only on the branch that takes
    them (planning/fusion.py `_lazy_selects`), inside a kernel: every thread of a
    persistent kernel computes the select's scalars alike, so all take one branch. On
    the host (the top level) the ops run where the select is, then the select."""
    chains = em.plan.lazy[id(op)]
    if em.team is None:
        for o in (o for chain in chains for o in chain):
            em.emit_op(o)
        em.plan.lazy.pop(id(op))
        _scalar_root(em, op)
        return
    code, v = em.team.code, op.out
    cond, *operands = op.inputs
    name = em.fresh("r")
    code.line(f"{name} = {dtype_text(v.dtype)}(0)")
    code.line(f"if {em.device_scalar(code, cond)}:")
    for k, (x, chain) in enumerate(zip(operands, chains)):
        if k:
            code.line("else:")
        with code.indented():
            for o in chain:
                em.emit_op(o)
            code.line(f"{name} = {cast_to(em.device_scalar(code, x), v.dtype)}")
    em.bind(v, Reg(name, np.dtype(v.dtype)))


def _host_scalar_op(em: CudaEmitter, op: Op) -> None:
    """A scalar op on host scalars runs on the host with the primitive's own
    NumPy implementation (the reference semantics, no launch)."""
    v = op.out
    name = em.fresh("h")
    args = "".join(em.host_scalar(u) + ", " for u in op.inputs)
    em.host_ops.append(op)
    em.hline(f"{name} = rt.host_op({len(em.host_ops) - 1}, ({args}))")
    em.bind(v, HostScalar(name, v.dtype))
