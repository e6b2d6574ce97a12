"""Deterministic block tree reductions: sum, prod, max, min over rows.

Invariant: the result depends on the input, the dtype and the constants
BLOCK and ITEMS only, never on the grid the kernel is launched with, the
device it runs on or the order in which blocks run: the same input gives the
same bits. No atomics: floating-point atomics make the order (and the bits)
depend on scheduling.

How: each row of x (R, n) is cut into chunks of CHUNK = BLOCK * ITEMS
elements. A chunk is reduced by one block in a fixed tree: thread t folds
elements base + k*BLOCK + t for k = 0..ITEMS-1 in order (coalesced reads),
then the BLOCK partial values are combined pairwise in shared memory,
halving the stride each round (t with t + s), with `syncthreads` between
rounds. Blocks take chunks grid-stride, so any grid gives the same chunks.
Each pass writes one value per chunk; passes repeat on those values (the
"second pass", and a third beyond BLOCK*ITEMS**2 elements) until one value
per row is left. The tree's order is therefore a function of n alone;
`reference` computes exactly that order with NumPy, so a test can check the
bits, not just closeness.

max/min propagate NaN as NumPy does. An empty row gives the identity (0 for
sum, 1 for prod, -inf for max, +inf for min); NumPy raises for max/min of an
empty array, which is the caller's check to make.

Simulator-safe: shared memory, `syncthreads`, no warp operations. A warp
shuffle fast path for the last 32 values would change nothing in the tree
(same pairs) but is not written: the simulator could not check it.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np
from numba import from_dtype

from . import runtime

BLOCK = 256
ITEMS = 8
OPS = ("sum", "prod", "max", "min")
IDENTITY = {"sum": 0.0, "prod": 1.0, "max": -math.inf, "min": math.inf}
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

cuda = None  # the kernels' CUDA namespace: runtime.bind_cuda sets it on first use


def _combine_py(op: str) -> Callable[[Any, Any], Any]:
    """The scalar combine of `op`, as plain Python that numba.cuda compiles (NaN-propagating max/min)."""
    if op == "sum":
        return lambda a, b: a + b
    if op == "prod":
        return lambda a, b: a * b
    if op == "max":
        return lambda a, b: a if (a != a or a > b) else (b if (b != b or b > a) else a)
    return lambda a, b: a if (a != a or a < b) else (b if (b != b or b < a) else a)


@functools.lru_cache(maxsize=None)
def combine_device(op: str, mode: str) -> Callable:
    """`op` as a device function for `mode`."""
    _check_op(op)
    return runtime.jit(mode)(device=True)(_combine_py(op))


@functools.lru_cache(maxsize=None)
def chunk_kernel(op: str, dtype: np.dtype, mode: str, block: int = BLOCK, items: int = ITEMS) -> Callable:
    """Kernel (x (R, n), out (R, nchunks)): out[r, c] = the fixed tree over chunk c of row r."""
    _check_op(op)
    dtype = _check_dtype(dtype)
    runtime.bind_cuda(globals())
    combine = combine_device(op, mode)
    nbtype, cast, ident = from_dtype(dtype), dtype.type, IDENTITY[op]
    chunk = block * items

    def reduce_chunks(x, out):
        sm = cuda.shared.array(block, nbtype)
        tid = cuda.threadIdx.x
        n = x.shape[1]
        nchunks = out.shape[1]
        for r in range(cuda.blockIdx.y, x.shape[0], cuda.gridDim.y):
            for c in range(cuda.blockIdx.x, nchunks, cuda.gridDim.x):
                base = c * chunk
                acc = cast(ident)
                for k in range(items):  # coalesced: consecutive threads, consecutive elements
                    i = base + k * block + tid
                    if i < n:
                        acc = combine(acc, x[r, i])
                sm[tid] = acc
                cuda.syncthreads()
                s = block // 2
                while s > 0:
                    if tid < s:
                        sm[tid] = combine(sm[tid], sm[tid + s])
                    cuda.syncthreads()
                    s //= 2
                if tid == 0:
                    out[r, c] = sm[0]
                cuda.syncthreads()  # sm is reused by the next chunk

    return runtime.jit(mode)(reduce_chunks)


def nchunks(n: int, block: int = BLOCK, items: int = ITEMS) -> int:
    """Values one pass leaves per row (at least 1, so an empty row yields the identity)."""
    return max(1, -(-n // (block * items)))


def pass_sizes(n: int, block: int = BLOCK, items: int = ITEMS) -> list[int]:
    """Row lengths after each pass, down to 1: the launches a reduction of n takes."""
    sizes = [nchunks(n, block, items)]
    while sizes[-1] > 1:
        sizes.append(nchunks(sizes[-1], block, items))
    return sizes


def reduce_rows(x: Any, op: str, mode: str, alloc: Callable[[tuple, np.dtype], Any],
                grid: int | None = None, block: int = BLOCK, items: int = ITEMS) -> Any:
    """Reduce each row of the 2-D device array x to one value: a (R, 1) device array.

    `alloc(shape, dtype)` gives the partial-value buffers (the pool's
    `empty`). `grid` (blocks along the row) changes speed, not bits.
    """
    dtype = np.dtype(x.dtype)
    kernel = chunk_kernel(op, dtype, mode, block, items)
    rows = x.shape[0]
    current = x
    for size in pass_sizes(x.shape[1], block, items):
        out = alloc((rows, size), dtype)
        gx = size if grid is None else max(1, min(grid, size))
        kernel[(gx, min(rows, 65535)), block](current, out)
        current = out
    return current


def reference(x: np.ndarray, op: str, block: int = BLOCK, items: int = ITEMS) -> np.ndarray:
    """The exact tree of `reduce_rows` in NumPy, one (R,) result: same order, same bits."""
    _check_op(op)
    x = np.asarray(x)
    dtype = _check_dtype(x.dtype)
    combine = _combine_py(op)
    current = x.reshape(x.shape[0], -1)
    for size in pass_sizes(current.shape[1], block, items):
        out = np.empty((current.shape[0], size), dtype)
        for r in range(current.shape[0]):
            for c in range(size):
                out[r, c] = _reference_chunk(current[r], c, combine, dtype, op, block, items)
        current = out
    return current[:, 0]


def _reference_chunk(row, c, combine, dtype, op, block, items):
    n, base = row.shape[0], c * block * items
    sm = np.full(block, dtype.type(IDENTITY[op]), dtype)
    for t in range(block):
        acc = dtype.type(IDENTITY[op])
        for k in range(items):
            i = base + k * block + t
            if i < n:
                acc = dtype.type(combine(acc, row[i]))
        sm[t] = acc
    s = block // 2
    while s > 0:
        for t in range(s):
            sm[t] = combine(sm[t], sm[t + s])
        s //= 2
    return sm[0]


def _check_op(op: str) -> None:
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")


def _check_dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"the GPU reduction kernels take float32 or float64, got {dtype}")
    return dtype
