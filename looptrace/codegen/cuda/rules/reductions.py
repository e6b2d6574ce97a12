"""cuda rules of the reductions.

sum, prod, max, min, all and any are folds: the loop-nest writer (fuse.py)
folds them element by element from their `Reduction` trait, one thread per
output element. A fold to a single value over many elements is instead a
deterministic block tree reduction (the shape of codegen/cuda/reduce.py,
generated here so the folded term can be any fused expression): each block
folds TREE * TREE_ITEMS consecutive elements (thread t takes elements t,
t + TREE, ... in order), combines its TREE partial values pairwise in shared
memory, and writes one partial per chunk; passes repeat over the partials
until one is left. The order of every operation depends on the element count
only, never on the grid or the device: the same input gives the same bits.
No float atomics. Inside a persistent kernel a fold to one value is a block
reduction of the team (team.py).

argmax and argmin are statements: the first position of the best element,
NaN winning, as NumPy's.
"""
from __future__ import annotations

import os

from looptrace.codegen.target import FoldRule, StatementRule
from looptrace.ir.core import Dim, Op
from looptrace.ir.primitive import folded_axes
from looptrace.ops import reduce

from ...cpu.text import dtype_text
from ..emitter import CudaEmitter, _cast
from ..fuse import Fuser, fold_acc_dtype, fold_init, fold_update
from ..target import TARGET

TREE_MIN = 4096  # folded elements from which a fold to one value runs as a tree, not in one thread


def tree_min() -> int:
    return int(os.environ.get("LOOPTRACE_CUDA_TREE_MIN", TREE_MIN))
COMBINE = {
    "add": "({a} + {b})", "multiply": "({a} * {b})", "maximum": "max_nan({a}, {b})",
    "minimum": "min_nan({a}, {b})", "logical_and": "({a} and {b})", "logical_or": "({a} or {b})",
}


def combine(op: Op, a: str, b: str) -> str:
    return COMBINE[op.prim.reduction.combine].format(a=a, b=b)


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
    v, x = op.out, op.inputs[0]
    axes = folded_axes(op)
    sizes = tuple(x.shape[k] for k in axes)
    n = em.count(sizes)
    acc_dt = fold_acc_dtype(op)
    part, nch = em.fresh("part"), em.fresh("nch")
    em.hline(f"{nch} = rt.chunks({n})")
    em.hline(f"{part} = rt.empty({nch}, {dtype_text(acc_dt)})")
    first = _first_pass(em, op, sizes, n, nch, part)
    em.hline(f"rt.launch_tree({first.name}, {nch}, {_args(first)})")
    rest = _combine_pass(em, op, acc_dt)
    cur, m = em.fresh("cur"), em.fresh("m")
    em.hline(f"{cur}, {m} = {part}, {nch}")
    em.hline(f"while {m} > 1:")
    with em.hindented():
        nxt, m2 = em.fresh("nxt"), em.fresh("m")
        em.hline(f"{m2} = rt.chunks({m})")
        em.hline(f"{nxt} = rt.empty({m2}, {dtype_text(acc_dt)})")
        em.hline(f"rt.launch_tree({rest.name}, {m2}, ({cur}, {nxt}, np.int64({m}), np.int64({m2})))")
        em.hline(f"{cur}, {m} = {nxt}, {m2}")
    from ..access import Buf, whole

    total = whole(Buf("host", cur, acc_dt), ())
    if acc_dt == v.dtype:
        em.bind(v, total)
        return
    out = em.alloc(v)
    with em.parallel("1") as (code, _):
        code.store(out, [], _cast(code.load(total, []), v.dtype))


def _tree_body(code, op: Op, acc_dt, count: str, nchunks: str, part: str, update_line) -> None:
    """Lines of a tree pass: fold this block's chunks, combine in shared memory.
    `update_line(f)` is the line folding element f into `acc`."""
    code.preamble += [f"sm = cuda.shared.array(TREE, {'boolean' if acc_dt.kind == 'b' else acc_dt.name})",
                      "tid = cuda.threadIdx.x"]
    code.line(f"for c in range(cuda.blockIdx.x, {nchunks}, cuda.gridDim.x):")
    with code.indented():
        code.line(f"acc = {fold_init(op)}")
        code.line("for q in range(TREE_ITEMS):")
        with code.indented():
            code.line("f = c * (TREE * TREE_ITEMS) + q * TREE + tid")
            code.line(f"if f < {count}:")
            with code.indented():
                code.line(update_line("f"))
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
        code.line(f"    {part}[c] = sm[0]")
        code.line("cuda.syncthreads()")


def _first_pass(em: CudaEmitter, op: Op, sizes: tuple, n: str, nch: str, part: str):
    from ..device import DeviceCode

    code = DeviceCode(em.fresh("tree"), em)
    acc_dt = fold_acc_dtype(op)
    count, nchunks = code.size(n), code.param(nch, "scalar", "int64")
    pname = code.param(part, "array", acc_dt)
    fz = Fuser(em, code)

    def update(f: str) -> str:
        inner = em.index_of(code, f, sizes)
        return fold_update(op, "acc", fz.term(op, [], inner))

    _tree_body(code, op, acc_dt, count, nchunks, pname, update)
    em.add_kernel(code, "tree")
    return code


def _combine_pass(em: CudaEmitter, op: Op, acc_dt):
    """The pass over partial values: the same tree, each term a partial."""
    from ..device import DeviceCode

    code = DeviceCode(em.fresh("tree"), em)
    src = code.param("<src>", "array", acc_dt)
    dst = code.param("<dst>", "array", acc_dt)
    count = code.param("<m>", "scalar", "int64")
    nchunks = code.param("<m2>", "scalar", "int64")
    _tree_body(code, op, acc_dt, count, nchunks, dst, lambda f: f"acc = {combine(op, 'acc', f'{src}[{f}]')}")
    em.add_kernel(code, "tree")
    return code


def _args(code) -> str:
    from ..emitter import launch_args

    return launch_args(code)


def tree_reduce_inlined(em: CudaEmitter, op: Op) -> dict:
    """Folds inside an array root that run as trees first (none yet: one thread per output)."""
    return {}


def _arg_lower(better: str):
    def lower(em: CudaEmitter, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
        xa = em.acc(x)
        kept = tuple(x.shape[k] for k in range(x.ndim) if k != axis)

        def scan(code, idx: list[str]) -> str:
            best, pos, j = em.fresh("best"), em.fresh("pos"), em.fresh("j")
            at = list(idx)
            at.insert(axis, "0")
            code.line(f"{best} = {code.load(xa, at)}")
            code.line(f"{pos} = 0")
            at[axis] = j
            code.line(f"for {j} in range({code.size(em.size(x, axis))}):")
            with code.indented():
                elem = em.fresh("x")
                code.line(f"{elem} = {code.load(xa, at)}")
                code.line(f"if ({elem} {better} {best} or ({elem} != {elem} and {best} == {best})):")
                code.line(f"    {best} = {elem}")
                code.line(f"    {pos} = {j}")
            return f"np.int64({pos})"

        if v.ndim == 0:
            em.scalar_result(v, lambda code: scan(code, []))
            return
        out = em.alloc(v)
        with em.parallel(em.count(kept)) as (code, e):
            idx = em.index_of(code, e, kept)
            code.store(out, idx, scan(code, idx))

    return lower


TARGET.register(list(reduce.REDUCERS), FoldRule())
TARGET.register("argmax", StatementRule(_arg_lower(">")))
TARGET.register("argmin", StatementRule(_arg_lower("<")))
