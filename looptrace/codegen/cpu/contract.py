"""The CPU rule of `einsum` (Numba has no np.einsum).

Float contractions of two operands become one matrix product through BLAS
(`np.dot`), after a transpose/reshape of each operand into (batch, rows,
contracted) and (batch, contracted, cols) form; a batch is a loop of np.dot
calls into a preallocated output, spread over the cores (`prange`) when
large and BLAS is single-threaded. Anything else (integer dtypes, one or three
operands, repeated or broadcast letters, small products, and narrow ones that
sum a handful of elements per result: `_narrow`) becomes an explicit loop
nest, its output's rows in chunks on the threads where the work pays.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from math import prod

import numpy as np

from looptrace.codegen.planning.fusion import permutation, read_through
from looptrace.codegen.target import StatementRule
from looptrace.ir.core import Dim, Op
from looptrace.ops.linalg import parse_spec

from . import blas
from .emitter import Emitter
from .target import TARGET
from .text import cast, dtype_text


def lower_einsum(em: Emitter, op: Op) -> None:
    ins, out = parse_spec(op.attrs["spec"])
    if _uses_blas(op, ins, out):
        _lower_blas(em, op, ins, out)
    else:
        _lower_loops(em, op, ins, out)


def _uses_blas(op: Op, ins: list[str], out: str) -> bool:
    """A product for BLAS: float operands BLAS takes, enough work to pay for
    the call, and neither tiny batch items nor a narrow contracted axis."""
    return (_blas_ok(op, ins, out) and _flops(op, ins) > SMALL_PRODUCT and not _tiny_batched(op, ins, out)
            and not _narrow(op, ins, out))


SMALL_PRODUCT = 4096  # below this many multiply-adds, a loop beats a BLAS call
NARROW_VECTOR = 8  # a matrix-vector product summing at most this many elements each: loops (`_narrow`)
NARROW_MATRIX = 2  # a matrix-matrix product so: loops
TINY_BATCH_ITEM = 16  # a batched product whose each result has fewer elements: loops


def _narrow(op: Op, ins: list[str], out: str) -> bool:
    """A product that sums a handful of elements per result ((H, W, 3) @ (3,),
    an image times colour weights): a few multiply-adds per result, which
    LLVM unrolls and vectorizes over the output in loops that run in chunks
    of rows on the threads (`_output_loops`). OpenBLAS's gemv of such a
    matrix ran 7-17 ms against NumPy's 0.9 ms (which multiplies (W, 3)
    blocks on one thread), and on 2 busy cores its threads made it 10-20x
    slower still, where the loops ran 0.4-0.9 ms (bench/narrow_products.py).
    A matrix-matrix product ((n, 3) @ (3, 3), (n, 8) @ (8, 8)) keeps BLAS
    from 3 summed elements: its loops ran 2-5x slower than OpenBLAS's gemm
    on a quiet machine; from 2 they were as fast or faster."""
    size = {c: d for letters, v in zip(ins, op.inputs) for c, d in zip(letters, v.shape)}
    g = _groups(ins, out)
    summed = prod(size[c] for c in g["summed"])
    vector = not g["rows"] or not g["cols"]  # one operand's letters are all summed (or batch)
    return summed <= (NARROW_VECTOR if vector else NARROW_MATRIX)


def _tiny_batched(op: Op, ins: list[str], out: str) -> bool:
    """A batch of products each with a tiny result (n-body's (d * w[:, :, None]).sum(1):
    per body, a 3-vector): one BLAS call per batch item costs more than its work, and
    the operands would be copied into the (batch, rows, summed) layout first."""
    g = _groups(ins, out)
    size = {c: d for letters, v in zip(ins, op.inputs) for c, d in zip(letters, v.shape)}
    return bool(g["batch"]) and prod(size[c] for c in g["rows"] + g["cols"]) < TINY_BATCH_ITEM


def _flops(op: Op, ins: list[str]) -> int:
    size = {c: d for letters, v in zip(ins, op.inputs) for c, d in zip(letters, v.shape)}
    return prod(size.values())


def _blas_ok(op: Op, ins: list[str], out: str) -> bool:
    if len(ins) != 2 or op.out.dtype not in (np.float64, np.float32, np.complex128, np.complex64):
        return False
    if any(isinstance(d, Dim) for v in op.inputs for d in v.shape):
        return False
    sizes: dict[str, int] = {}
    for letters, v in zip(ins, op.inputs):
        if len(set(letters)) != len(letters):
            return False
        for c, d in zip(letters, v.shape):
            if sizes.setdefault(c, d) != d:
                return False  # a broadcast letter
    only_one = (set(ins[0]) ^ set(ins[1])) - set(out)
    summed = (set(ins[0]) & set(ins[1])) - set(out)
    return bool(summed) and not only_one and set(out) <= set(ins[0]) | set(ins[1])


def _lower_blas(em: Emitter, op: Op, ins: list[str], out: str) -> None:
    ia, ib = ins
    g = _groups(ins, out)
    size = {c: d for letters, v in zip(ins, op.inputs) for c, d in zip(letters, v.shape)}
    em.calls_blas = True
    if g["batch"]:
        return _lower_batched(em, op, ins, out, g, size)
    lead = _lead_loop_letters(ib, out, g)
    if lead:
        return _lower_lead_loop(em, op, ia, ib, out, g, size, lead)
    return _lower_dot(em, op, ia, ib, out, g, size)


def _lead_loop_letters(ib: str, out: str, g: dict) -> str:
    """The leading letters of a product lowered as a loop over b's leading
    axes (`_lower_lead_loop`), or "" for one np.dot."""
    lead = _leading_free(ib, out, g["cols"])
    rest = [c for c in g["cols"] if c not in lead]
    if (lead and g["rows"] and ib[len(lead):] == "".join(g["summed"] + rest)
            and out == lead + "".join(g["rows"] + rest)):
        return lead
    return ""


def _groups(ins: list[str], out: str) -> dict[str, list[str]]:
    ia, ib = ins
    return {"batch": [c for c in out if c in ia and c in ib],
            "rows": [c for c in out if c in ia and c not in ib],
            "cols": [c for c in out if c in ib and c not in ia],
            "summed": [c for c in ia if c in ib and c not in out]}


def _leading_free(ib: str, out: str, cols: list[str]) -> str:
    """The letters that lead both b and the output and are b's alone: a loop
    over them reads b[q] and writes out[q] with no copy (a batch of data)."""
    n = 0
    while n < len(ib) and n < len(out) and ib[n] == out[n] and ib[n] in cols:
        n += 1
    return ib[:n]


def _dims(size: dict, letters) -> tuple:
    return tuple(size[c] for c in letters)


def _lower_dot(em: Emitter, op: Op, ia: str, ib: str, out: str, g: dict, size: dict) -> None:
    """One np.dot: (rows, summed) @ (summed, cols), 1-d where a group is empty."""
    a2 = _arranged(em, op.inputs[0], ia, g["rows"] + g["summed"], [g["rows"], g["summed"]], size)
    b2 = _arranged(em, op.inputs[1], ib, g["summed"] + g["cols"], [g["summed"], g["cols"]], size)
    res = em.fresh("mm")
    if id(op) in em.pingpong:  # inside a loop: the row not written last time, no allocation
        buf, parity = em.pingpong[id(op)]
        em.line(f"{res} = {buf}[{parity}]")
        em.line(f"{parity} = 1 - {parity}")
        em.line(f"dot_into({a2}, {b2}, {res})")
    else:
        _dot_into(em, res, a2, b2, tuple(prod(_dims(size, grp)) for grp in (g["rows"], g["cols"]) if grp), op)
    _finish(em, op, res, g["rows"] + g["cols"], out, size)


def _dot_into(em: Emitter, res: str, a: str, b: str, shape: tuple, op: Op) -> None:
    """res = a @ b through np.dot's out argument: Numba's two-argument np.dot
    wraps the same BLAS call in an allocating layer (np.zeros, checks) that
    costs about 0.4 s of compile time per signature (power_iteration). The
    call is templates.py's `dot_into`, compiled once per signature into
    Numba's disk cache rather than in each kernel (sqdist_dot's kernel
    2.40 -> 2.20 s, power_iteration's 1.96 -> 1.54 s, medians of 5)."""
    if not shape:  # a scalar: no out argument
        em.line(f"{res} = dot_value({a}, {b})")
        return
    em.line(f"{res} = alloc({shape}, {dtype_text(op.out.dtype)})")
    em.line(f"dot_into({a}, {b}, {res})")


def plain_dot_shape(op: Op) -> tuple[int, ...] | None:
    """The shape of the one np.dot result `_lower_dot` makes for this einsum
    (rows, cols; one of them when the other is empty), or None when the
    einsum is lowered another way or gives a scalar."""
    if op.prim.name != "einsum":
        return None
    ins, out = parse_spec(op.attrs["spec"])
    if not _uses_blas(op, ins, out):
        return None
    g = _groups(ins, out)
    if g["batch"] or _lead_loop_letters(ins[1], out, g):
        return None
    size = {c: d for letters, v in zip(ins, op.inputs) for c, d in zip(letters, v.shape)}
    shape = tuple(prod(_dims(size, grp)) for grp in (g["rows"], g["cols"]) if grp)
    return shape or None


def _lower_lead_loop(em, op, ia, ib, out, g, size, lead: str) -> None:
    """out[q] = A @ b[q] for each position q of the leading letters."""
    cols = [c for c in g["cols"] if c not in lead]
    a2 = _arranged(em, op.inputs[0], ia, g["rows"] + g["summed"], [g["rows"], g["summed"]], size)
    nq = prod(_dims(size, lead))
    k, n = prod(_dims(size, g["summed"])), prod(_dims(size, cols))
    bq = em.fresh("bq")
    if n == 1:  # out[q] = A @ b[q] for all q at once is one GEMM: B @ A.T
        em.line(f"{bq} = reshaped(contiguous({em.name(op.inputs[1])}), ({nq}, {k}))")
        res = em.fresh("mm")
        _dot_into(em, res, bq, f"{a2}.T", (nq, prod(_dims(size, g["rows"]))), op)
        _finish(em, op, res, list(lead) + g["rows"] + cols, out, size)
        return
    em.line(f"{bq} = reshaped(contiguous({em.name(op.inputs[1])}), ({nq}, {k}, {n}))")
    res = em.fresh("mm")
    em.line(f"{res} = alloc(({nq}, {prod(_dims(size, g['rows']))}, {n}), {dtype_text(op.out.dtype)})")
    q = em.fresh("q")
    with em.loop(q, str(nq), _parallel_batch(em, nq, _flops(op, [ia, ib]))):
        em.line(f"dot_into({a2}, {bq}[{q}], {res}[{q}])")
    _finish(em, op, res, list(lead) + g["rows"] + cols, out, size)


def _parallel_batch(em: Emitter, count: int, flops: int) -> bool:
    """A batch of independent products runs one product per thread (`prange`)
    when there are several, the work pays for the threads, and BLAS would run
    each product on one thread anyway; the kernel then runs with one BLAS
    thread (blas_threads.py), so the two do not both start a thread per core.

    A product big enough for BLAS to thread (OpenBLAS: m * n * k of at least
    `BLAS_THREADED_MIN`) stays in a serial loop and BLAS's own threads run
    it. Kernels multiply through NumPy's library (blas.py), whose workers
    busy-wait after each call: prange threads started while they spin share
    the cores with them. batched_conv (32 products of (32, 432) @ (432, 256),
    timed round-robin with NumPy's version as the benchmarks do): 7.3 ms with
    prange, 4.1 ms in a serial loop, NumPy 4.3 ms; back to back with nothing
    else, prange 3.9 ms."""
    if count <= 1 or not em.work_is_large(flops):
        return False
    if blas.choice() != "numba" and flops // count >= BLAS_THREADED_MIN:
        return False
    em.blas_in_prange = True
    return True


BLAS_THREADED_MIN = 65536 * 4  # OpenBLAS's gemm runs on one thread below this m * n * k


def _arranged(em: Emitter, x, letters: str, order: list[str], groups: list[list[str]], size: dict) -> str:
    """x with its axes in `order`, merged into one axis per nonempty group."""
    shape = tuple(prod(_dims(size, grp)) for grp in groups if grp)
    perm = tuple(letters.index(c) for c in order)
    matrix = _as_blas_matrix(em, x, perm, shape)
    if matrix is not None:
        return matrix
    kept = [grp for grp in groups if grp]
    if len(kept) == 2 and letters == "".join(kept[1] + kept[0]) and all(isinstance(d, int) for d in x.shape):
        # x's axes are the two groups swapped: x as (second, first) is a row-major matrix, and its `.T`
        # a column-major one BLAS reads as it is (lbm's `(f * c[:, None, None]).sum(0)`, f of
        # (9, 200, 200): no (200, 200, 9) copy each step)
        t = em.fresh("mat")
        em.line(f"{t} = reshaped(contiguous({em.name(x)}), {shape[::-1]}).T")
        return t
    src = em.name(x)
    if perm != tuple(range(x.ndim)):
        src = em.permuted_copy(src, list(x.shape), perm, x.dtype)
    t = em.fresh("mat")
    if len(shape) == x.ndim and perm == tuple(range(x.ndim)):
        em.line(f"{t} = contiguous({src})")
    else:
        em.line(f"{t} = reshaped(contiguous({src}), {shape})")
    return t


def _as_blas_matrix(em: Emitter, x, perm: tuple, shape: tuple) -> str | None:
    """A matrix operand BLAS reads as it is: x or its base through a `.T`
    (made as a view, so reading the base is reading x), C-contiguous, or
    transposed (`.T` of a C-contiguous array is F-contiguous, and np.dot
    passes the transpose to BLAS). No copy of a transposed operand, which
    for `x1 @ x2.T` with x2 of 20000 x 512 copied 80 MB per call. None
    for anything else (the caller copies)."""
    if x.ndim != 2 or len(shape) != 2:
        return None
    producer = em.plan.producer.get(x.id)
    while producer is not None and permutation(producer) == (1, 0) and read_through(producer, em.plan):
        x, perm = producer.inputs[0], perm[::-1]
        producer = em.plan.producer.get(x.id)
    t = em.fresh("mat")
    em.line(f"{t} = blas_matrix({em.name(x)}){'.T' if perm == (1, 0) else ''}")
    return t


def _finish(em: Emitter, op: Op, res: str, natural: list[str], out: str, size: dict) -> None:
    """The product `res` (axes `natural`, possibly merged) as the op's output."""
    v = em.name(op.out)
    if not out:
        em.line(f"{v} = {cast(res, op.out.dtype)}")
        em.define(op.out)
        return
    shaped = f"reshaped({res}, ({''.join(str(size[c]) + ', ' for c in natural)}))"
    perm = tuple(natural.index(c) for c in out)
    if perm == tuple(range(len(out))):
        em.line(f"{v} = {shaped}")
    else:
        em.line(f"{v} = {em.permuted_copy(shaped, [size[c] for c in natural], perm, op.out.dtype)}")
    em.define(op.out, owned=True)


def _lower_batched(em: Emitter, op: Op, ins: list[str], out: str, g: dict, size: dict) -> None:
    (ia, ib), (a, b) = ins, op.inputs
    batch, rows, cols, summed = g["batch"], g["rows"], g["cols"], g["summed"]
    n = {k: prod(size[c] for c in group) for k, group in
         (("b", batch), ("m", rows), ("n", cols), ("k", summed))}
    a2 = _as_matrix(em, a, ia, batch + rows + summed, (n["b"], n["m"], n["k"]))
    b2 = _as_matrix(em, b, ib, batch + summed + cols, (n["b"], n["k"], n["n"]))
    res = em.fresh("mm")
    em.line(f"{res} = alloc(({n['b']}, {n['m']}, {n['n']}), {dtype_text(op.out.dtype)})")
    q = em.fresh("q")
    with em.loop(q, str(n["b"]), _parallel_batch(em, n["b"], _flops(op, ins))):
        em.line(f"dot_into({a2}[{q}], {b2}[{q}], {res}[{q}])")
    _finish(em, op, res, batch + rows + cols, out, size)


def _as_matrix(em: Emitter, x, letters: str, order: list[str], shape3: tuple) -> str:
    """x with its axes in `order`, as a C-contiguous 3-d (batch, rows, cols) array."""
    perm = tuple(letters.index(c) for c in order)
    src = em.name(x)
    if x.ndim == 0:
        src = f"filled((1,), {src})"
    elif perm != tuple(range(x.ndim)):
        src = em.permuted_copy(src, list(x.shape), perm, x.dtype)
    t = em.fresh("mat")
    em.line(f"{t} = reshaped(contiguous({src}), {shape3})")
    return t


def _lower_loops(em: Emitter, op: Op, ins: list[str], out: str) -> None:
    """out[o] = sum over the other letters of prod_k x_k[...]: explicit loops."""
    size: dict[str, str] = {}
    for letters, v in zip(ins, op.inputs):
        for k, c in enumerate(letters):
            if c not in size or v.shape[k] != 1:
                size[c] = em.size(v, k)
    inner = sorted({c for letters in ins for c in letters} - set(out))
    acc_dtype = np.float64 if op.out.dtype == np.float32 else op.out.dtype
    # float64 throughout: Numba types it so already, no np.float64(...) to compile (scalar.py)
    f8 = acc_dtype == np.float64 and op.out.dtype == np.float64 and all(x.dtype == np.float64 for x in op.inputs)
    v = em.name(op.out)
    if out:
        em.fresh_array(op.out)
    with _output_loops(em, [size[c] for c in out], _parallel_loops(em, op, ins, out)) as oidx:
        acc = em.fresh("acc")
        em.line(f"{acc} = " + ("0.0" if f8 else f"{dtype_text(acc_dtype)}(0)"))
        with em.loop_nest([size[c] for c in inner]) as iidx:
            where = dict(zip(out, oidx)) | dict(zip(inner, iidx))
            terms = [_element(em, x, letters, where) for letters, x in zip(ins, op.inputs)]
            em.line(f"{acc} += " + " * ".join(t if f8 else f"{dtype_text(acc_dtype)}({t})" for t in terms))
        target = f"{v}[{', '.join(oidx)}]" if out else v
        em.line(f"{target} = {acc if f8 else cast(acc, op.out.dtype)}")
    if not out:
        em.define(op.out)


@contextlib.contextmanager
def _output_loops(em: Emitter, counts: list[str], parallel: bool) -> Iterator[list[str]]:
    """Loops over the output; where they run on threads, the first axis in up
    to ROW_CHUNKS chunks of rows, a prange over the chunks and a plain loop
    over each chunk's rows. A prange straight over a million rows stays scalar
    (Numba's gufunc loop), while a range in each chunk vectorizes: (10^6, 3)
    @ (3,) 4.0 ms against 0.5 ms, one thread 0.9 ms."""
    step = -(-int(counts[0]) // ROW_CHUNKS) if parallel else 1
    if step == 1:
        with em.loop_nest(counts, parallel_outer=parallel) as idx:
            yield idx
        return
    n, c, lo, r, i = int(counts[0]), em.fresh("c"), em.fresh("lo"), em.fresh("r"), em.fresh("i")
    with em.loop(c, str(-(-n // step)), True):
        em.line(f"{lo} = {c} * {step}")
        # range(lo, min2(lo + step, n)) stayed scalar (4.0 ms above)
        with em.loop(r, f"min2({step}, {n} - {lo})"):
            em.line(f"{i} = nonneg({lo} + {r})")  # >= 0, which LLVM cannot prove in a prange chunk
            with em.loop_nest(counts[1:]) as idx:
                yield [i, *idx]


ROW_CHUNKS = 256  # chunks of the first output axis at most, for threads to share


def _parallel_loops(em: Emitter, op: Op, ins: list[str], out: str) -> bool:
    """Spread the output's first axis over the cores (`prange`) where it has
    several positions and the work pays for the threads."""
    sizes = [d for v in op.inputs for d in v.shape]
    if not out or any(isinstance(d, Dim) for d in sizes + [op.out.shape[0]]) or op.out.shape[0] < 2:
        return False
    extent = {c: 1 for letters in ins for c in letters}
    for letters, v in zip(ins, op.inputs):
        for c, d in zip(letters, v.shape):
            extent[c] = max(extent[c], d)  # a broadcast letter: its longer extent
    return em.work_is_large(prod(extent.values()))


def _element(em: Emitter, x, letters: str, where: dict) -> str:
    if x.ndim == 0:
        return em.name(x)
    idx = ["0" if x.shape[k] == 1 else where[c] for k, c in enumerate(letters)]
    return f"{em.name(x)}[{', '.join(idx)}]"


# A sum of elementwise products (the einsum's `Reduction` trait says which) is
# folded inside a loop nest by nest.py instead; this rule writes the others.
TARGET.register("einsum", StatementRule(lower_einsum))
