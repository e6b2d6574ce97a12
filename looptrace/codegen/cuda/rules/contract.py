"""The cuda rule of `einsum` (a contraction that is not a fold).

At the top level, a two-operand product (every letter a batch, row, column
or summed letter: the shape of a batched matrix product) goes to
  - cuBLAS through CuPy (`cupy.einsum` on zero-copy views of the buffers,
    via __cuda_array_interface__) when CuPy imports and a GPU runs the
    call: the hoisted, batched products of a vectorized loop;
  - otherwise this target's own tiled shared-memory kernel: TILE x TILE
    threads per output tile, the operands' tiles staged in shared memory,
    each thread accumulating one output element over the summed letters;
    operands are read through their strides (no transposed copies).
`explain` notes which one a product got. Anything else (one or three
operands, a repeated or broadcast letter) is one thread per output element
summing over the other letters.

Inside a persistent kernel every product is the kernel's own code: one thread
per output element (a matrix-vector product per step reads each row of W
once), and a product read by one elementwise consumer of its shape is
computed inside that consumer's element (fusion in team.py).
"""
from __future__ import annotations

import importlib.util
import os
from math import prod
from typing import TYPE_CHECKING

import numpy as np

from looptrace.codegen.target import StatementRule
from looptrace.ir.core import Dim, Op
from looptrace.ops.linalg import parse_spec

from ...cpu.text import cast, dtype_text
from ..contraction import acc_dtype, contraction_element, letter_sizes
from ..device import DeviceCode, launch_args
from ..fuse import Fuser
from ..target import TARGET

if TYPE_CHECKING:
    from ..emitter import CudaEmitter

TILED_MIN_WORK = 1 << 14  # multiply-adds from which a product uses the tiled kernel (on a GPU)
# Under the simulator every block barrier of every tile costs about a millisecond, so the tiled
# kernel runs there only above this (tests force it with LOOPTRACE_CUDA_TILED_MIN).
SIM_TILED_MIN_WORK = 1 << 24


def tiled_min_work(sim: bool) -> int:
    return int(os.environ.get("LOOPTRACE_CUDA_TILED_MIN", SIM_TILED_MIN_WORK if sim else TILED_MIN_WORK))


def lower_einsum(em: CudaEmitter, op: Op) -> None:
    groups = gemm_groups(op)
    if em.team is None and groups is not None:
        if em.cublas:
            em.notes.append(f"line {op.loc.line}: `einsum` {op.attrs['spec']}: cuBLAS through CuPy")
            _lower_cupy(em, op)
            return
        if _work(op) >= tiled_min_work(em.sim):
            em.notes.append(f"line {op.loc.line}: `einsum` {op.attrs['spec']}: own tiled shared-memory kernel "
                            "(CuPy is not importable here, so no cuBLAS)")
            _lower_tiled(em, op, groups)
            return
    _lower_elementwise(em, op)


def _work(op: Op) -> int:
    ins, _ = parse_spec(op.attrs["spec"])
    return prod(d for d in letter_sizes(op, ins).values() if isinstance(d, int))


def gemm_groups(op: Op) -> dict | None:
    """batch/rows/cols/summed letters of a product shaped like a batched matmul, else None."""
    ins, out = parse_spec(op.attrs["spec"])
    if len(ins) != 2 or np.dtype(op.out.dtype).kind not in "fiu":
        return None
    if any(isinstance(d, Dim) for x in op.inputs for d in x.shape):
        return None
    sizes: dict = {}
    for letters, x in zip(ins, op.inputs):
        if len(set(letters)) != len(letters):
            return None
        for c, d in zip(letters, x.shape):
            if sizes.setdefault(c, d) != d:
                return None  # a broadcast letter
    ia, ib = ins
    if ((set(ia) ^ set(ib)) - set(out)) or not set(out) <= set(ia) | set(ib) or len(set(out)) != len(out):
        return None
    g = {"batch": [c for c in out if c in ia and c in ib], "rows": [c for c in out if c in ia and c not in ib],
         "cols": [c for c in out if c in ib and c not in ia], "summed": [c for c in ia if c in ib and c not in out]}
    return g if g["summed"] else None


def _lower_elementwise(em: CudaEmitter, op: Op) -> None:
    v = op.out
    if v.ndim == 0:
        em.scalar_result(v, lambda code: contraction_element(Fuser(em, code), op, []))
        return
    out = em.alloc(v)
    with em.parallel(em.count(v.shape)) as (code, e):
        idx = em.index_of(code, e, v.shape)
        code.store(out, idx, contraction_element(Fuser(em, code), op, idx))


def _group_index(em: CudaEmitter, code, var: str, letters: list[str], size: dict) -> dict[str, str]:
    """Letter -> index text, decomposing the flat group index `var` (C order)."""
    shape = tuple(size[c] for c in letters)
    return dict(zip(letters, em.index_of(code, var, shape))) if letters else {}


def _offset(em: CudaEmitter, code, acc, letters: str, where: dict) -> str:
    return code.load(acc, [where[c] for c in letters])


def _lower_tiled(em: CudaEmitter, op: Op, g: dict) -> None:
    """C[z, r, c] = sum_k A[z, r, k] B[z, k, c] in TILE x TILE tiles (groups of letters merged)."""
    ins, out = parse_spec(op.attrs["spec"])
    size = letter_sizes(op, ins)
    nb, m, n, k = (prod(size[c] for c in g[key]) for key in ("batch", "rows", "cols", "summed"))
    a, b = (em.acc(x) for x in op.inputs)
    dst = em.alloc(op.out)
    code = DeviceCode(em.fresh("gemm"), em)
    acc_dt = acc_dtype(op)
    sdt = "boolean" if acc_dt.kind == "b" else acc_dt.name
    code.preamble += [f"sa = cuda.shared.array((TILE, TILE1), {sdt})",
                      f"sb = cuda.shared.array((TILE, TILE1), {sdt})",
                      "tx = cuda.threadIdx.x", "ty = cuda.threadIdx.y",
                      "col = cuda.blockIdx.x * TILE + tx", "row = cuda.blockIdx.y * TILE + ty"]
    code.line(f"for z in range(cuda.blockIdx.z, {nb}, cuda.gridDim.z):")
    with code.indented():
        zi = _group_index(em, code, "z", g["batch"], size)
        ri = _group_index(em, code, "row", g["rows"], size)
        ci = _group_index(em, code, "col", g["cols"], size)
        code.line(f"acc = {dtype_text(acc_dt)}(0)")
        code.line(f"for k0 in range(0, {k}, TILE):")
        with code.indented():
            _stage(em, code, "sa[ty, tx]", f"row < {m} and k0 + tx < {k}", a, ins[0], {**zi, **ri}, "k0 + tx",
                   g["summed"], size, acc_dt)
            _stage(em, code, "sb[ty, tx]", f"k0 + ty < {k} and col < {n}", b, ins[1], {**zi, **ci}, "k0 + ty",
                   g["summed"], size, acc_dt)
            code.line("cuda.syncthreads()")
            code.line("for q in range(TILE):")
            code.line("    acc += sa[ty, q] * sb[q, tx]")
            code.line("cuda.syncthreads()")
        code.line(f"if row < {m} and col < {n}:")
        with code.indented():
            where = {**zi, **ri, **ci}
            code.store(dst, [where[c] for c in out], cast("acc", op.out.dtype))
    em.add_kernel(code, "gemm")
    em.hline(f"rt.launch_grid({code.name}, (({n} + TILE - 1) // TILE, ({m} + TILE - 1) // TILE, "
             f"min({nb}, 65535)), (TILE, TILE), {launch_args(code)})")


def _stage(em, code, slot: str, guard: str, acc, letters: str, where: dict, kvar: str, summed: list[str],
           size: dict, acc_dt) -> None:
    code.line(f"if {guard}:")
    with code.indented():
        kk = em.fresh("kk")
        code.line(f"{kk} = {kvar}")
        full = {**where, **_group_index(em, code, kk, summed, size)}
        code.line(f"{slot} = {cast(code.load(acc, [full[c] for c in letters]), acc_dt)}")
    code.line("else:")
    code.line(f"    {slot} = {dtype_text(acc_dt)}(0)")


def _lower_cupy(em: CudaEmitter, op: Op) -> None:
    """cupy.einsum on zero-copy strided views; the result is copied into our buffer."""
    dst = em.alloc(op.out)
    views = ", ".join(_view_text(em, em.acc(x)) for x in op.inputs)
    em.hline(f"rt.cupy_einsum({op.attrs['spec']!r}, ({views},), {_view_text(em, dst)})")


def _view_text(em: CudaEmitter, a) -> str:
    return (f"({a.buf.name}, {em.host_offset(a)}, ({''.join(em.size_of(d) + ', ' for d in a.shape)}), "
            f"{tuple(a.strides)!r})")


def cublas_available(mode: str) -> bool:
    """CuPy (hence cuBLAS) can run this call's products: a real GPU and CuPy installed."""
    return mode == "gpu" and importlib.util.find_spec("cupy") is not None


TARGET.register("einsum", StatementRule(lower_einsum))
