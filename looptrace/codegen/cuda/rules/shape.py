"""cuda rules of the shape primitives and iota.

transpose and a reshape of a contiguous value are views (a new Access, no
kernel); a reshape of a strided value copies once into contiguous memory;
concatenate copies each part into its slice of the output; broadcast_to and
iota are read element by element inside a loop nest (`IndexRule`), so they
are never stored (a broadcast that is a root of its own is a view, fuse.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from looptrace.codegen.planning.fusion import broadcast_index, unit_dropped
from looptrace.codegen.target import IndexRule, StatementRule
from looptrace.ir.core import Dim

from ...cpu.text import cast
from .. import access as A
from ..access import Access

if TYPE_CHECKING:
    from ..emitter import CudaEmitter
from ..target import TARGET
from .indexing import dynamic_view


def _reshape_lower(em: CudaEmitter, op) -> None:
    x, v = em.plan.reshape_from.get(id(op), op.inputs[0]), op.out
    ds = em.plan.slice_into.get(id(op))
    if ds is not None:  # reshape(dynamic_slice(x, t)) dropping unit axes: x[t]
        src = ds.inputs[0]
        _, dropped = unit_dropped(src.shape, len(ds.inputs) - 1, ds.attrs["sizes"])
        em.view(v, A.drop_axes(dynamic_view(em, src, list(ds.inputs[1:]), ds.attrs["sizes"]), dropped), src)
        return
    loc = em.loc(x)
    if not isinstance(loc, Access):  # a scalar not in device memory
        if v.ndim == 0:
            em.bind(v, loc)
            return
        out = em.alloc(v)
        em.copy(out, x)
        return
    shaped = A.reshape(loc, tuple(v.shape))
    if shaped is not None:
        em.view(v, shaped, x)
        return
    tmp = em.alloc(v)  # a strided value: copy once, in C order, then view
    flat = A.Access(tmp.buf, tuple(x.shape), A.c_strides(tuple(x.shape)), tmp.off)  # in shared memory: at its offset
    em.copy_access(flat, loc)


def _transpose_lower(em: CudaEmitter, op) -> None:
    x = op.inputs[0]
    em.view(op.out, A.transpose(em.acc(x), tuple(op.attrs["perm"])), x)


def _concat_lower(em: CudaEmitter, op) -> None:
    v, axis = op.out, op.attrs["axis"]
    d = v.shape[axis]
    if isinstance(d, Dim) and d.id not in em.dims:  # a run-time length: the parts' lengths added
        name = em.fresh("d")
        em.hline(f"{name} = {' + '.join(em.size(x, axis) for x in op.inputs)}")
        em.dims[d.id] = name
    out = em.alloc(v)
    start = 0
    for x in op.inputs:
        n = x.shape[axis]
        if isinstance(n, Dim) or not isinstance(start, int):  # a part of run-time length
            at = _named(em, str(start))
            part = A.Access(out.buf, tuple(x.shape), out.strides, out.off.plus(0, A.Sym("host", at), out.strides[axis]))
            em.copy_access(part, em.acc(x))
            start = f"{at} + {em.size(x, axis)}"
            continue
        starts = [0] * v.ndim
        stops = [d if isinstance(d, int) else -1 for d in v.shape]
        starts[axis], stops[axis] = start, start + n
        part = A.static_slice(out, starts, stops, [1] * v.ndim)
        em.copy_access(part, em.acc(x))
        start += n


def _named(em: CudaEmitter, text: str) -> str:
    """A host variable holding `text` (a part's start along a run-time axis)."""
    name = em.fresh("o")
    em.hline(f"{name} = {text}")
    return name


def _broadcast_element(fz, op, idx: list[str]) -> str:
    x = op.inputs[0]
    return fz.value_at(x, broadcast_index(x, op.out, idx))


def _iota_element(fz, op, idx: list[str]) -> str:
    return cast(idx[op.attrs["axis"]], op.out.dtype)


TARGET.register("reshape", StatementRule(_reshape_lower))
TARGET.register("transpose", StatementRule(_transpose_lower))
TARGET.register("concatenate", StatementRule(_concat_lower))
TARGET.register("broadcast_to", IndexRule(_broadcast_element))
TARGET.register("iota", IndexRule(_iota_element))
