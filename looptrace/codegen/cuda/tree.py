"""Deterministic block tree reductions, generated for any fused folded term.

A fold to one value over many elements, or to few values over long rows, is
not one thread per output: each (output element, chunk) pair is one block's
work. A block folds TREE * TREE_ITEMS consecutive elements (thread t takes
elements t, t + TREE, ... in order), combines its TREE partial values
pairwise in shared memory, and writes one partial; passes repeat over the
partials until one value per output is left. The order of every operation
depends on the element count only, never on the grid or the device: the same
input gives the same bits. No float atomics. (The shape of reduce.py, with
the folded term written by the Fuser so it can be any fused expression.)
Inside a persistent kernel a fold to one value is a block reduction of the
team instead (team.py).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from looptrace.codegen.planning.fusion import is_fold, nest_ops
from looptrace.ir.core import Dim, Op
from looptrace.ir.primitive import folded_axes

from ..cpu.text import dtype_text
from .access import Access, Buf, whole
from .device import DeviceCode, launch_args
from .fuse import Fuser, fold_acc_dtype, fold_init, fold_update
from .values import cast_to

if TYPE_CHECKING:
    from .emitter import CudaEmitter

COMBINE = {
    "add": "({a} + {b})", "multiply": "({a} * {b})", "maximum": "max_nan({a}, {b})",
    "minimum": "min_nan({a}, {b})", "logical_and": "({a} and {b})", "logical_or": "({a} or {b})",
}


def combine(op: Op, a: str, b: str) -> str:
    return COMBINE[op.prim.reduction.combine].format(a=a, b=b)


TREE_MIN = 4096  # folded elements from which a fold to one value runs as a tree, not in one thread


def tree_min() -> int:
    return int(os.environ.get("LOOPTRACE_CUDA_TREE_MIN", TREE_MIN))


def scalar_fold(em: CudaEmitter, op: Op) -> None:
    """A fold of an array to one value."""
    v, x = op.out, op.inputs[0]
    if em.team is not None:
        em.team.reduce_scalar(op)
        return
    n = [x.shape[k] for k in folded_axes(op)]
    big = any(isinstance(d, Dim) for d in n) or _prod(n) >= tree_min()
    if not big:
        em.scalar_result(v, lambda code: Fuser(em, code).fold(op, []))
        return
    em.notes.append(f"line {op.loc.line}: `{op.prim.name}` to one value: deterministic block tree reduction")
    _tree(em, op)


def _prod(xs) -> int:
    out = 1
    for d in xs:
        out *= d
    return out


def _tree(em: CudaEmitter, op: Op) -> None:
    v = op.out
    total = tree_rows(em, op)
    if total.dtype == v.dtype:
        em.bind(v, total)
        return
    out = em.alloc(v)
    with em.parallel("1") as (code, _):
        code.store(out, [], cast_to(code.load(total, []), v.dtype))


def tree_rows(em: CudaEmitter, op: Op) -> Access:
    """The fold's values (its output shape, the accumulator's dtype) by tree passes:
    each (output element, chunk) pair is one block's work, passes repeat per element."""
    x = op.inputs[0]
    axes = folded_axes(op)
    sizes = tuple(x.shape[k] for k in axes)
    rows = tuple(op.out.shape)
    R, n = _prod(rows), em.count(sizes)
    acc_dt = fold_acc_dtype(op)
    part, nch = em.fresh("part"), em.fresh("nch")
    em.hline(f"{nch} = rt.chunks({n})")
    em.hline(f"{part} = rt.empty({R} * {nch}, {dtype_text(acc_dt)})")
    first = _first_pass(em, op, rows, sizes, n, nch, part)
    em.hline(f"rt.launch_tree({first.name}, {R} * {nch}, {_args(first)})")
    rest = _combine_pass(em, op, acc_dt, R)
    cur, m = em.fresh("cur"), em.fresh("m")
    em.hline(f"{cur}, {m} = {part}, {nch}")
    em.hline(f"while {m} > 1:")
    with em.hindented():
        nxt, m2 = em.fresh("nxt"), em.fresh("m")
        em.hline(f"{m2} = rt.chunks({m})")
        em.hline(f"{nxt} = rt.empty({R} * {m2}, {dtype_text(acc_dt)})")
        em.hline(f"rt.launch_tree({rest.name}, {R} * {m2}, ({cur}, {nxt}, np.int64({m}), np.int64({m2})))")
        em.hline(f"{cur}, {m} = {nxt}, {m2}")
    return whole(Buf("host", cur, acc_dt), rows)


def _tree_body(code, op: Op, acc_dt, R: int, count: str, nchunks: str, part: str, update_line) -> None:
    """Lines of a tree pass: fold this block's (element, chunk) pairs, combine in shared memory.
    `update_line(r, f)` is the line folding element f of output element r into `acc`."""
    code.preamble += [f"sm = cuda.shared.array(TREE, {'boolean' if acc_dt.kind == 'b' else acc_dt.name})",
                      "tid = cuda.threadIdx.x"]
    code.line(f"for rc in range(cuda.blockIdx.x, {R} * {nchunks}, cuda.gridDim.x):")
    with code.indented():
        code.line(f"r = rc // {nchunks}")
        code.line(f"c = rc % {nchunks}")
        code.line(f"acc = {fold_init(op)}")
        code.line("for q in range(TREE_ITEMS):")
        with code.indented():
            code.line("f = c * (TREE * TREE_ITEMS) + q * TREE + tid")
            code.line(f"if f < {count}:")
            with code.indented():
                code.line(update_line("r", "f"))
        code.line("sm[tid] = acc")
        code.line("cuda.syncthreads()")
        code.line("s = TREE // 2")
        code.line("while s > 0:")
        with code.indented():
            code.line("if tid < s:")
            code.line(f"    sm[tid] = {combine(op, 'sm[tid]', 'sm[tid + s]')}")
            code.line("cuda.syncthreads()")
            code.line("s //= 2")
        code.line("if tid == 0:")
        code.line(f"    {part}[rc] = sm[0]")
        code.line("cuda.syncthreads()")


def _first_pass(em: CudaEmitter, op: Op, rows: tuple, sizes: tuple, n: str, nch: str, part: str):
    code = DeviceCode(em.fresh("tree"), em)
    acc_dt = fold_acc_dtype(op)
    count, nchunks = code.size(n), code.param(nch, "scalar", "int64")
    pname = code.param(part, "array", acc_dt)
    fz = Fuser(em, code)

    def update(r: str, f: str) -> str:
        kept = em.index_of(code, r, rows)
        inner = em.index_of(code, f, sizes)
        return fold_update(op, "acc", fz.term(op, kept, inner))

    _tree_body(code, op, acc_dt, _prod(rows), count, nchunks, pname, update)
    em.add_kernel(code, "tree")
    return code


def _combine_pass(em: CudaEmitter, op: Op, acc_dt, R: int):
    """The pass over partial values: the same tree, each term a partial of its element."""
    code = DeviceCode(em.fresh("tree"), em)
    src = code.param("<src>", "array", acc_dt)
    dst = code.param("<dst>", "array", acc_dt)
    count = code.param("<m>", "scalar", "int64")
    nchunks = code.param("<m2>", "scalar", "int64")
    _tree_body(code, op, acc_dt, R, count, nchunks, dst,
               lambda r, f: f"acc = {combine(op, 'acc', f'{src}[{r} * {count} + {f}]')}")
    em.add_kernel(code, "tree")
    return code


def _args(code) -> str:
    return launch_args(code)


TREE_MAX_ROWS = 2048  # a fold with at most this many outputs (and long rows) runs as trees


def tree_reduce_inlined(em: CudaEmitter, op: Op) -> bool:
    """Folds of this root's nest with few outputs over long rows run as tree reductions
    first; the nest then reads their values (emitter.overrides). True when the root itself
    was such a fold and is done."""
    done = False
    for fold in nest_ops(op, em.plan):
        if not is_fold(fold) or any(isinstance(d, Dim) for d in (*fold.out.shape, *fold.inputs[0].shape)):
            continue
        folded = _prod(fold.inputs[0].shape[k] for k in folded_axes(fold))
        if _prod(fold.out.shape) > TREE_MAX_ROWS or folded < tree_min():
            continue
        em.notes.append(f"line {fold.loc.line}: `{fold.prim.name}` to {_prod(fold.out.shape)} values over "
                        f"{folded} elements each: deterministic block tree reductions")
        rows = tree_rows(em, fold)
        if fold is op:
            _bind_rows(em, op, rows)
            done = True
        else:
            em.overrides[fold.out.id] = rows
    return done


def _bind_rows(em: CudaEmitter, op: Op, rows: Access) -> None:
    v = op.out
    if rows.dtype == v.dtype:
        em.bind(v, rows)
        return
    out = em.alloc(v)
    with em.parallel(em.count(v.shape)) as (code, e):
        idx = em.index_of(code, e, v.shape)
        code.store(out, idx, cast_to(code.load(rows, idx), v.dtype))


