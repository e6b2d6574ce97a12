"""cuda rules of the linear-recurrence family (ops/recurrence.py).

linear_scan: one thread per state element runs the time loop
    h = A[t, j] * h + B[t, j];  H[t, j] = h
reading the coefficients through their broadcast strides (a coefficient the
same at every step is never expanded to (T, S)). This is the
sequential-over-time strategy, right when T is short or the state alone
fills the GPU. With many steps (T >= CHUNKED_MIN_STEPS, ~4K: the research
note's figure for where a parallel scan starts to pay) and a narrow state,
the chunked parallel scan of codegen/cuda/linear_scan.py runs instead (three
launches: chunk totals, carries, fix-up). Inside a persistent kernel the
sequential form runs on the team's threads.

matrix_power_apply: repeated squaring on the host's loop over the bits of n
(read on the host), each product a kernel, or the plain chain when squaring
costs more multiply-adds (ops/recurrence.py's rule). Buffers are allocated
once and alternate.
"""
from __future__ import annotations

import os
from math import prod
from typing import TYPE_CHECKING

import numpy as np

from looptrace.codegen.target import StatementRule
from looptrace.ir.core import Dim, Op
from looptrace.ops.recurrence import scan_shape

from ...cpu.text import dtype_text
from .. import access as A
from ..device import DeviceCode
from ..values import cast_to as _cast

if TYPE_CHECKING:
    from ..emitter import CudaEmitter
from ..target import TARGET

CHUNKED_MIN_STEPS = 4096
CHUNKED_MAX_STATE = 4096  # wider states fill the GPU with one thread per element


def chunked_min_steps() -> int:
    return int(os.environ.get("LOOPTRACE_CUDA_CHUNKED_SCAN_MIN", CHUNKED_MIN_STEPS))


# --- linear_scan ---------------------------------------------------------------------------------
UNROLL = 8  # steps whose coefficient loads are issued together (the chain itself is serial)


def emit_linear_scan(em: CudaEmitter, op: Op) -> None:
    a, b, h0 = op.inputs
    history = op.attrs.get("history", True)
    full = scan_shape(a.shape, b.shape, h0.shape)
    T, state = full[0], tuple(full[1:])
    S = prod(state)
    if _chunked(em, op, T, state):
        _emit_chunked(em, op, full, history)
        em.note_loop(op, f"GPU: chunked parallel prefix scan ({T} steps x {S} channels: chunk totals, "
                         "carries, fix-up; 3 launches)")
        return
    if em.team is None:
        em.note_loop(op, f"GPU: sequential over time, one thread per state element ({S}), "
                         f"the loads of {UNROLL} steps issued together")
    else:
        em.note_loop(op, f"GPU: sequential over time inside the surrounding kernel, one thread per state "
                         f"element ({S}): {T} steps are too few for a chunked prefix scan")
    out = em.alloc(op.out) if op.out.ndim else None

    def run(code, j: str) -> str:
        sidx = em.index_of(code, j, state) if state else []
        h = em.fresh("h")
        code.line(f"{h} = {_cast(_read(em, code, h0, state, sidx), op.out.dtype)}")
        step = _step(em, code, op, a, b, full, sidx, h, out if history else None)
        _unrolled(em, code, T, step)
        return h

    if not history and not state:
        em.scalar_result(op.out, lambda code: run(code, "0"))
        return
    with em.parallel(str(S)) as (code, e):
        h = run(code, e)
        if not history:
            code.store(out, em.index_of(code, e, state), h)


def _step(em, code, op, a, b, full, sidx, h, out):
    """Lines of steps t, t+1, ...: loads first (independent), then the dependent chain."""
    def step(ts: list[str]) -> None:
        loads = []
        for t in ts:
            ca, cb = em.fresh("ca"), em.fresh("cb")
            code.line(f"{ca} = {_read(em, code, a, full, [t, *sidx])}")
            code.line(f"{cb} = {_read(em, code, b, full, [t, *sidx])}")
            loads.append((t, ca, cb))
        for t, ca, cb in loads:
            code.line(f"{h} = {_cast(f'{ca} * {h} + {cb}', op.out.dtype)}")
            if out is not None:
                code.store(out, [t, *sidx], h)
    return step


def _unrolled(em, code, T, step) -> None:
    """for t in range(T): step(t), UNROLL steps at a time, then the remainder."""
    n = code.size(em.size_of(T))
    t0 = em.fresh("t")
    if isinstance(T, int) and T < UNROLL:
        code.line(f"for {t0} in range({n}):")
        with code.indented():
            step([t0])
        return
    code.line(f"for {t0} in range(0, {n} - {UNROLL - 1}, {UNROLL}):")
    with code.indented():
        step([t0] + [f"{t0} + {k}" for k in range(1, UNROLL)])
    t1 = em.fresh("t")
    code.line(f"for {t1} in range({n} - {n} % {UNROLL}, {n}):")
    with code.indented():
        step([t1])


def _read(em: CudaEmitter, code, x, full: tuple, idx: list[str]) -> str:
    """x (broadcast to `full`, NumPy's rule) at `idx`; a coefficient map the plan computes
    in the scan's loop (planning/fusion.py `_inline_into_scans`: a 1-d x over the steps of
    a scalar state) computed there."""
    if x.ndim == 0:
        return em.device_scalar(code, x)
    if x.id in em.plan.inlined:
        from ..fuse import Fuser

        return Fuser(em, code).value_at(x, idx)
    return code.load(A.broadcast(em.acc(x), tuple(full)), idx)


def _chunked(em: CudaEmitter, op: Op, T, state: tuple) -> bool:
    if em.team is not None or isinstance(T, Dim) or np.dtype(op.out.dtype).kind != "f":
        return False
    return T >= chunked_min_steps() and prod(state) <= CHUNKED_MAX_STATE


def _emit_chunked(em: CudaEmitter, op: Op, full: tuple, history: bool) -> None:
    """The chunked scan of codegen/cuda/linear_scan.py on contiguous (T, S) coefficients; without
    history, the scan writes a scratch history and the result is its last row."""
    a, b, h0 = op.inputs
    T, S = full[0], prod(full[1:])
    flat = []
    for x, shape in ((a, full), (b, full), (h0, tuple(full[1:]))):
        dst = em.alloc_temp(shape, op.out.dtype)
        if x.ndim and x.id not in em.plan.inlined:
            em.copy_access(dst, A.broadcast(em.acc(x), shape))
        else:  # a scalar, or a map computed where it is copied (`_read`)
            em.copy(dst, x)
        flat.append(dst.buf.name)
    H = em.alloc(op.out) if history else em.alloc_temp(full, op.out.dtype)
    em.notes.append(f"line {op.loc.line}: `linear_scan` over {T} steps x {S} channels: chunked parallel "
                    "prefix scan (chunk totals, carries, fix-up: 3 launches)")
    em.hline(f"rt.chunked_scan({flat[0]}, {flat[1]}, {flat[2]}, {H.buf.name}, {T}, {S})")
    if not history:
        last = A.Access(H.buf, tuple(full[1:]), A.c_strides(tuple(full[1:])), A.Off((T - 1) * S))
        em.bind(op.out, last, owned=op.out.ndim > 0)


# --- matrix_power_apply --------------------------------------------------------------------------
def emit_matrix_power(em: CudaEmitter, op: Op) -> None:
    p0, a, count = op.inputs
    bd, side = op.attrs.get("batch_dims", 0), op.attrs["side"]
    m = a.shape[-1]
    core = tuple(p0.shape[bd:])
    rows, cols = _product_shape(core, m, side)
    batch = prod(p0.shape[:bd]) if bd else 1
    out = em.alloc(op.out)
    em.copy(out, p0)
    names = {k: em.fresh(k) for k in ("base", "tmp", "tmp2", "q", "k")}
    em.hline(f"{names['tmp']} = rt.empty({rows * cols}, {dtype_text(op.out.dtype)})")
    em.hline(f"{names['base']} = rt.empty({m * m}, {dtype_text(op.out.dtype)})")
    em.hline(f"{names['tmp2']} = rt.empty({m * m}, {dtype_text(op.out.dtype)})")
    step = _matmul_kernel(em, rows, m, cols, op.out.dtype, side)
    square = _matmul_kernel(em, m, m, m, op.out.dtype, "right")
    em.note_loop(op, f"GPU: repeated squaring driven by the host, a {m}x{m} product kernel per squaring "
                     "and per set bit of the count (O(log n) launches)")
    counts = em.host_array(count) if count.ndim else None
    em.hline(f"for {names['q']} in range({batch}):")
    with em.hindented():
        k_text = f"{counts}[{names['q']}]" if counts else em.host_scalar(count)
        a_acc = em.acc(a)
        em.hline(f"{names['k']} = int({k_text})")
        em.hline(f"rt.matrix_power({step.name}, {square.name}, {out.buf.name}, {names['q']} * {rows * cols}, "
                 f"{a_acc.buf.name}, {em.host_offset(a_acc)} + {names['q']} * {m * m if bd else 0}, "
                 f"{names['k']}, {names['base']}, {names['tmp']}, {names['tmp2']}, {rows * cols}, {m}, "
                 f"{_squaring_pays(rows, m)})")
    if not A.Access(out.buf, out.shape, out.strides).contiguous():
        raise NotImplementedError("matrix_power_apply needs a contiguous output")


def _product_shape(core: tuple, m: int, side: str) -> tuple[int, int]:
    """(rows, cols) of P as the product kernel sees it."""
    if len(core) == 1:
        return (1, m) if side == "right" else (m, 1)
    return (core[0], m) if side == "right" else (m, core[1])


def _squaring_pays(rows_cols: int, m: int) -> str:
    """Host text: the ops/recurrence.py rule, as a function of k (a lambda)."""
    sq = rows_cols * m
    return f"lambda k: k >= 2 and (k.bit_length() - 1) * {m ** 3}.0 + bin(k).count('1') * {sq}.0 < k * {sq}.0"


def _matmul_kernel(em: CudaEmitter, rows: int, inner: int, cols: int, dtype, side: str) -> DeviceCode:
    """Z[zo + i*cols + j] = sum_q X[i, q] Y[q, j] over contiguous operands at offsets.
    side "right": X is P (rows, inner), Y the matrix; "left": X the matrix, Y is P."""
    code = DeviceCode(em.fresh("mm"), em)
    x, xo = code.param("<x>", "array", dtype), code.param("<xo>", "scalar", np.int64)
    y, yo = code.param("<y>", "array", dtype), code.param("<yo>", "scalar", np.int64)
    z, zo = code.param("<z>", "array", dtype), code.param("<zo>", "scalar", np.int64)
    if side == "left":
        x, xo, y, yo = y, yo, x, xo  # the kernel is always called (P, matrix, out)
    code.line(f"for e in range(cuda.grid(1), {rows * cols}, cuda.gridsize(1)):")
    with code.indented():
        code.line(f"i = e // {cols}")
        code.line(f"j = e % {cols}")
        code.line(f"acc = {dtype_text(dtype)}(0)")
        code.line(f"for q in range({inner}):")
        code.line(f"    acc += {x}[{xo} + i * {inner} + q] * {y}[{yo} + q * {cols} + j]")
        code.line(f"{z}[{zo} + e] = acc")
    em.add_kernel(code, "grid")
    return code


TARGET.register("linear_scan", StatementRule(emit_linear_scan))
TARGET.register("matrix_power_apply", StatementRule(emit_matrix_power))
