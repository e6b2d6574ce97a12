"""cuda rules of the indexing primitives. Every traced index is checked.

slice and dynamic_slice are views. A dynamic start known to the host is
checked there (IndexError at once, naming the line); inside a persistent
kernel it is checked on the device (`check_start`: the call's error flag is
set and the start clamped, so nothing outside the array is touched).
gather checks each index on the device. scatter writes each column of the
output (the positions that share the non-indexed coordinates) in one
thread, visiting the indices in order: repeated indices then keep NumPy's
order (the last write wins; adds accumulate in order), with no atomics and
the same bits every time. When there are too few columns to fill the GPU
(a histogram: `counts[idx[i]] += 1`), adds use atomics instead.
"""
from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

import numpy as np

from looptrace.codegen.planning.fusion import _written_box
from looptrace.codegen.target import IndexRule, StatementRule
from looptrace.errors import UnsupportedError
from looptrace.ir.core import Dim, Value
from looptrace.ir.ranges import range_in_block

from .. import access as A
from ..values import cast_to as _cast

if TYPE_CHECKING:
    from ..emitter import CudaEmitter
from ..target import TARGET

ATOMIC_DTYPES = {np.dtype(t) for t in (np.int32, np.int64, np.uint32, np.uint64, np.float32, np.float64)}
ATOMIC_MAX_COLUMNS = 64  # fewer columns than this (and many indices): atomics, not one thread per column


def checked_start(em: CudaEmitter, start: Value, n: int | Dim, size: int, axis: int) -> tuple[int | None, A.Sym | None]:
    """A dynamic start (NumPy's rules), checked: a constant, or a symbol."""
    if start.const is not None and isinstance(n, int):
        i = int(start.const)
        if i < 0 and size == 1:
            i += n
        if 0 <= i <= n - size:
            return i, None
    known = em.ranges.get(start.id)
    safe = known is not None and isinstance(n, int) and 0 <= known[0] and known[1] <= n - size
    nt = em.size_of(n)
    if em.team is not None:
        code = em.team.code
        name = em.fresh("s")
        expr = em.device_scalar(code, start)
        if safe:  # a loop index (plus a constant) always in bounds: no check
            code.line(f"{name} = np.int64({expr})")
        else:
            code.line(f"{name} = check_start({expr}, {code.size(nt)}, {size}, {em.error_code(axis)}, {code.err()})")
        return None, A.Sym("reg", name)
    if safe:
        return None, A.Sym("host", em.host_scalar(start))
    name = em.fresh("s")
    em.hline(f"{name} = rt.check_start({em.host_scalar(start)}, {nt}, {size}, {em.error_code(axis)})")
    return None, A.Sym("host", name)


def dynamic_view(em: CudaEmitter, x: Value, starts: list[Value], sizes) -> A.Access:
    """x[s0:s0+k0, ...] with checked starts."""
    acc = em.acc(x)
    checked = [checked_start(em, s, x.shape[a], k, a) for a, (s, k) in enumerate(zip(starts, sizes))]
    return A.offset_by(acc, checked, tuple(sizes))


def _slice_lower(em: CudaEmitter, op) -> None:
    x, a = op.inputs[0], op.attrs
    em.view(op.out, A.static_slice(em.acc(x), a["starts"], a["stops"], a["steps"]), x)


def _dyn_slice_lower(em: CudaEmitter, op) -> None:
    x = op.inputs[0]
    em.view(op.out, dynamic_view(em, x, list(op.inputs[1:]), op.attrs["sizes"]), x)


def _dyn_update_lower(em: CudaEmitter, op) -> None:
    x, upd, starts = op.inputs[0], op.inputs[1], list(op.inputs[2:])
    if any(isinstance(u, int) and isinstance(d, int) and u > d for u, d in zip(upd.shape, x.shape)):
        # only a loop of zero trips writes a block into an empty axis: at run time this is an error
        for a, s in enumerate(starts):
            checked_start(em, s, x.shape[a], upd.shape[a], a)
        em.bind(op.out, em.acc(x), alias_of=x)
        return
    if _over_constant(em, op):
        return
    out = em.writable(op.out, x)
    writes = []
    for w in _group(em, op, out):
        x, upd, starts = w.inputs[0], w.inputs[1], list(w.inputs[2:])
        src = em.plan.update_from.get(id(w))
        sizes = tuple(upd.shape[: len(starts)])
        checked = [checked_start(em, s, x.shape[a], upd.shape[a], a) for a, s in enumerate(starts)]
        region = A.offset_by(out, checked, sizes)
        if src is not None:
            region = A.drop_axes(region, [k for k in range(len(starts)) if sizes[k] == 1])
        writes.append((region, src if src is not None else upd))
    _store(em, writes)


def _update_slice_lower(em: CudaEmitter, op) -> None:
    if _over_constant(em, op):
        return
    out = em.writable(op.out, op.inputs[0])
    writes = [(A.static_slice(out, w.attrs["starts"], w.attrs["stops"], w.attrs["steps"]), w.inputs[1])
              for w in _group(em, op, out)]
    _store(em, writes)


def _group(em: CudaEmitter, op, out: A.Access) -> list:
    """The writes into one buffer stored with `op` (planning/fusion.py `_group_updates`:
    disjoint static boxes, updates of one shape that read neither the buffer nor each
    other), each one's result the same buffer as op's."""
    group = [op, *em.plan.update_group.get(id(op), [])]
    for w in group[1:]:
        em.bind(w.out, out, alias_of=op.out)
    return group


def _over_constant(em: CudaEmitter, op) -> bool:
    """Writes (op and its group) at static boxes into a constant of one value (`np.zeros`
    the tracer folded): fresh storage written in one parallel loop, each element from
    the write whose box holds it or the constant, instead of a copy of the constant
    and then the writes. Sets nothing up and gives False for any other write."""
    fill = _one_value(op.inputs[0])
    group = [op, *em.plan.update_group.get(id(op), [])]
    boxes = [_written_box(w) for w in group]
    shape = tuple(op.out.shape)
    if fill is None or any(b is None or any(lo < 0 or hi > d or lo >= hi for (lo, hi), d in zip(b, shape))
                           or tuple(w.inputs[1].shape[len(b):]) != shape[len(b):] for w, b in zip(group, boxes)):
        return False  # (a box names the leading axes its starts give; the update takes the rest whole)
    from ..fuse import Fuser
    from ...cpu.text import literal

    out = em.alloc(op.out)
    _group(em, op, out)
    with em.parallel(em.count(shape)) as (code, e):
        idx = em.index_of(code, e, shape)
        for k, (w, box) in enumerate(zip(group, boxes)):
            inside = [f"{lo} <= {i} < {hi}" for i, (lo, hi), d in zip(idx, box, shape) if (lo, hi) != (0, d)]
            code.line(f"{'if' if k == 0 else 'elif'} {' and '.join(inside) or 'True'}:")
            with code.indented():
                upd = em.plan.update_from.get(id(w), w.inputs[1])
                at = [f"({i} - {lo})" if lo else i for i, (lo, _) in zip(idx, box)] + idx[len(box):]
                if upd is not w.inputs[1]:  # a reshape never made: the unit axes of the box dropped
                    at = [a for a, (lo, hi) in zip(at, box) if hi - lo != 1] + at[len(box):]
                value = em.device_scalar(code, upd) if upd.ndim == 0 else Fuser(em, code).value_at(upd, at)
                code.store(out, idx, _cast(value, out.dtype))
        code.line("else:")
        with code.indented():
            code.store(out, idx, literal(fill, op.out.dtype))
    return True


def _one_value(x: Value):
    """The value every element of constant array x holds (bit for bit), else None."""
    if x.const is None or x.ndim == 0 or any(isinstance(d, Dim) for d in x.shape):
        return None
    flat = np.ascontiguousarray(x.const, dtype=x.dtype).reshape(-1)
    if flat.size == 0 or flat.tobytes() != np.full_like(flat, flat[0]).tobytes():
        return None
    return flat[0].item()


def _store(em: CudaEmitter, writes: list) -> None:
    """region[...] = update for each write: one, or a group's in one parallel loop."""
    if len(writes) == 1:
        em.copy(*writes[0])
    else:
        em.copy_group(writes)


def _gather_element(fz, op, at: list[str]) -> str:
    """Element `at` of a gather inside a fused nest (capability fused_gathers):
    its index read, or computed in place where the plan fuses it, checked,
    then the array read there (itself computed in place where fused)."""
    em, code, (x, idx), axis = fz.em, fz.code, op.inputs, op.attrs["axis"]
    mid = at[axis: axis + idx.ndim]
    raw = fz.value_at(idx, mid) if idx.ndim else em.device_scalar(code, idx)
    j = em.fresh("j")
    r, n = range_in_block(idx, fz.plan.everywhere or fz.plan.producer), x.shape[axis]
    if r is not None and isinstance(n, int) and 0 <= r[0] and r[1] < n:  # always inside the axis: no check
        code.line(f"{j} = np.int64({raw})")
    else:
        code.line(f"{j} = check_elem({raw}, {code.size(em.size(x, axis))}, {em.error_code(axis)}, {code.err()})")
    return fz.value_at(x, at[:axis] + [j] + at[axis + idx.ndim:])


def _scatter_lower(em: CudaEmitter, op) -> None:
    x, idx, upd, axis = op.inputs[0], op.inputs[1], op.inputs[2], op.attrs["axis"]
    mode = op.attrs["mode"]
    out = em.writable(op.out, x)
    cols = tuple(x.shape[:axis]) + tuple(x.shape[axis + 1:])
    n_idx = prod(idx.shape) if idx.ndim else 1
    code_no = em.error_code(axis)
    atomic = (mode == "add" and np.dtype(x.dtype) in ATOMIC_DTYPES and prod(cols) < ATOMIC_MAX_COLUMNS
              and n_idx > prod(cols) and not any(isinstance(d, Dim) for d in x.shape))
    if atomic:
        _scatter_atomic(em, out, x, idx, upd, axis, code_no)
    else:
        _scatter_columns(em, out, x, idx, upd, axis, mode, cols, code_no)


def _scatter_columns(em, out, x, idx, upd, axis, mode, cols, code_no) -> None:
    """One thread per column, the indices in order: NumPy's order, no atomics."""
    from ..fuse import Fuser

    with em.parallel(em.count(cols) if cols else "1") as (code, e):
        c = em.index_of(code, e, cols)
        pre, post = c[:axis], c[axis:]
        p = em.fresh("p")
        code.line(f"for {p} in range({prod(idx.shape) if idx.ndim else 1}):")
        with code.indented():
            pos = em.index_of(code, p, tuple(idx.shape))
            fz = Fuser(em, code)  # the index and update stored, or computed here (planning/fusion.py `_fits`)
            raw = fz.value_at(idx, pos)
            j = em.fresh("j")
            code.line(f"{j} = check_elem({raw}, {code.size(em.size(x, axis))}, {code_no}, {code.err()})")
            value = fz.value_at(upd, pre + pos + post)
            target = pre + [j] + post
            if mode == "add":
                value = f"{code.load(out, target)} + {value}"
            code.store(out, target, _cast(value, x.dtype))


def _scatter_atomic(em, out, x, idx, upd, axis, code_no) -> None:
    """Adds from one thread per update element, with atomics (few columns, many indices)."""
    from ..fuse import Fuser

    with em.parallel(em.count(upd.shape) if upd.ndim else "1") as (code, e):
        at = em.index_of(code, e, tuple(upd.shape))
        pos = at[axis: axis + idx.ndim]
        fz = Fuser(em, code)
        raw = fz.value_at(idx, pos)
        j = em.fresh("j")
        code.line(f"{j} = check_elem({raw}, {code.size(em.size(x, axis))}, {code_no}, {code.err()})")
        target = at[:axis] + [j] + at[axis + idx.ndim:]
        value = fz.value_at(upd, at)
        code.touch(out.buf, write=True)
        addr = code.address(out, target)
        base, offset = addr[: addr.index("[")], addr[addr.index("[") + 1: -1]
        code.line(f"cuda.atomic.add({base}, {offset}, {_cast(value, x.dtype)})")


def _prefix_lower(em: CudaEmitter, op) -> None:
    x, n, v = op.inputs[0], op.inputs[1], op.out
    size = em.size(x, 0)
    d = v.shape[0]
    name = em.fresh("d")
    em.hline(f"{name} = len(range({size})[:int({em.host_scalar(n)})])")
    em.dims[d.id] = name
    acc = em.acc(x)
    em.view(v, A.Access(acc.buf, (d, *acc.shape[1:]), acc.strides, acc.off), x)


def _reserve_refused(em: CudaEmitter, op) -> None:
    """A list a while loop appends to grows its buffer at run time: the
    emitter gives each run-time length one host variable (`em.dims`), which
    a buffer that grows in the loop would outdate."""
    raise UnsupportedError("a list appended to in a while loop, or popped in the loop that appends to it (a "
                           "work stack or queue), is not supported by the cuda backend", op.loc,
                           "use backend='cpu', or a for loop over a static range (its list has a static bound)")


TARGET.register("slice", StatementRule(_slice_lower))
TARGET.register("dynamic_slice", StatementRule(_dyn_slice_lower))
TARGET.register("dynamic_update_slice", StatementRule(_dyn_update_lower))
TARGET.register("update_slice", StatementRule(_update_slice_lower))
TARGET.register("gather", IndexRule(_gather_element))
TARGET.register("scatter", StatementRule(_scatter_lower))
TARGET.register("dynamic_prefix", StatementRule(_prefix_lower))
TARGET.register("reserve", StatementRule(_reserve_refused))

__all__ = ["checked_start", "dynamic_view"]
