"""Persistent multi-block (cooperative) kernel for h_t = tanh(W h_{t-1} + U_t).

For states or matrices too big for one block: the rows are split over the
blocks of one cooperative launch, and `cuda.cg.this_grid().sync()` separates
the steps, so the whole scan is still ONE launch.

Invariant: block b owns rows [b*R, min(n, (b+1)*R)) with R = ceil(n / blocks);
at each step it copies the whole previous state from global memory into its
shared memory, computes its own rows of the new state and writes them to the
other half of a global ping-pong buffer H (2, n) and to Y[t]. One grid sync
per step orders the writes of step t before every block's reads of step t+1;
with two halves no block can overwrite a state another block is still
reading (that reading ended before the same grid sync). Block b keeps its
slice of W^T (n x R words) in shared memory when it fits: that is what makes
the multi-block variant worth its grid syncs for float64 W 200x200 (320 KB,
too big for one block, 160 KB per block over two), and it reads the slice
coalesced from global memory otherwise.

The launch must not have more blocks than can be resident at once:
`plan_cooperative` clamps to `max_cooperative_grid_blocks` (a larger grid
fails with CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE). numba-cuda makes the
launch cooperative by itself when the kernel uses this_grid(); it links
cudadevrt for the grid sync.

The simulator runs a cooperative grid as ONE block (its grid sync is a block
barrier and its max_cooperative_grid_blocks is 1): it checks this kernel's
indexing and the one-block case, not the synchronization between blocks.
That is left to the `gpu` tests.

`coop_reverse_kernel` is the reverse scan of the gradient in the same
shape (see recurrence.py for the adjoint it computes): one more round after
the last step gives the cotangent of h0, so the whole reverse scan is one
launch too.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numba import from_dtype

from . import runtime
from .limits import (
    HOPPER,
    WARP,
    DeviceLimits,
    ceil_div,
    fits_shared,
    prepare_launch,
    round_up,
)

cuda = None  # the kernels' CUDA namespace: runtime.bind_cuda sets it on first use
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@dataclass(frozen=True)
class CooperativePlan:
    blocks: int
    threads: int
    rows_per_block: int
    shared_bytes: int
    matrix_in_shared: bool
    reason: str


def plan_cooperative(n: int, dtype: Any, max_blocks: int, limits: DeviceLimits = HOPPER,
                     threads: int = 256) -> CooperativePlan:
    """Fewest blocks whose W^T slices fit shared memory, within max_blocks; else W from global memory."""
    item = _check_dtype(dtype).itemsize
    max_blocks = max(1, min(max_blocks, n))
    for blocks in range(1, max_blocks + 1):
        rows = ceil_div(n, blocks)
        nbytes = (n + n * rows) * item
        if fits_shared(nbytes, limits):
            return CooperativePlan(blocks, min(threads, round_up(rows, WARP)), rows, nbytes, True,
                                   f"W^T split over {blocks} blocks, {nbytes} B of shared memory each")
    blocks = min(max_blocks, ceil_div(n, threads))
    rows = ceil_div(n, blocks)
    return CooperativePlan(blocks, min(threads, round_up(rows, WARP)), rows, n * item, False,
                           f"W^T does not fit {max_blocks} blocks' shared memory: read from global memory (L2)")


@functools.lru_cache(maxsize=None)
def coop_forward_kernel(dtype: Any, matrix_in_shared: bool, mode: str) -> Callable:
    """Kernel (U (T, n), WT (n, n), h0 (n,), Y (T, n), H (2, n)); launch [blocks, threads, 0, shared_bytes]."""
    runtime.bind_cuda(globals())
    dtype = _check_dtype(dtype)
    nb, cast, keep = from_dtype(dtype), dtype.type, matrix_in_shared

    def coop_forward(U, WT, h0, Y, H):
        smem = cuda.shared.array(0, nb)
        grid = cuda.cg.this_grid()
        tid, nthreads = cuda.threadIdx.x, cuda.blockDim.x
        T, n = U.shape[0], U.shape[1]
        rows = (n + cuda.gridDim.x - 1) // cuda.gridDim.x
        r0 = cuda.blockIdx.x * rows
        r1 = min(n, r0 + rows)
        for i in range(r0 + tid, r1, nthreads):
            H[0, i] = h0[i]
        if keep:
            for k in range(tid, n * rows, nthreads):
                j, r = k // rows, k % rows
                if r0 + r < n:
                    smem[n + k] = WT[j, r0 + r]
        grid.sync()
        for t in range(T):
            cur = t % 2
            for j in range(tid, n, nthreads):
                smem[j] = H[cur, j]
            cuda.syncthreads()
            for i in range(r0 + tid, r1, nthreads):
                u = U[t, i]
                acc = cast(0)
                for j in range(n):
                    w = smem[n + j * rows + (i - r0)] if keep else WT[j, i]
                    acc += w * smem[j]
                h = math.tanh(acc + u)
                H[1 - cur, i] = h
                Y[t, i] = h
            grid.sync()

    return runtime.jit(mode)(coop_forward)


@functools.lru_cache(maxsize=None)
def coop_reverse_kernel(dtype: Any, matrix_in_shared: bool, mode: str) -> Callable:
    """Kernel (Y, W, GY, g_last, DA, gh0, D (2, n)): the reverse scan of recurrence.rnn_reverse_kernel, over blocks.

    Block b owns the cotangent entries j in [b*R, (b+1)*R); at each step it
    copies the whole cotangent da_{t+1} from the global ping-pong buffer D
    into shared memory and keeps its column slice of W (n x R words, read
    coalesced along a row of W) in shared memory when it fits. Launch like
    the forward.
    """
    runtime.bind_cuda(globals())
    dtype = _check_dtype(dtype)
    nb, cast, keep = from_dtype(dtype), dtype.type, matrix_in_shared

    def coop_reverse(Y, W, GY, g_last, DA, gh0, D):
        smem = cuda.shared.array(0, nb)
        grid = cuda.cg.this_grid()
        tid, nthreads = cuda.threadIdx.x, cuda.blockDim.x
        T, n = Y.shape[0], Y.shape[1]
        cols = (n + cuda.gridDim.x - 1) // cuda.gridDim.x
        c0 = cuda.blockIdx.x * cols
        c1 = min(n, c0 + cols)
        for j in range(c0 + tid, c1, nthreads):
            D[0, j] = cast(0)  # da_T = 0
        if keep:
            for k in range(tid, n * cols, nthreads):
                i, r = k // cols, k % cols
                if c0 + r < n:
                    smem[n + k] = W[i, c0 + r]
        grid.sync()
        for s in range(T + 1):  # the last round computes gh0 = W^T da_0
            cur = s % 2
            for i in range(tid, n, nthreads):
                smem[i] = D[cur, i]
            cuda.syncthreads()
            t = T - 1 - s
            for j in range(c0 + tid, c1, nthreads):
                acc = cast(0)
                for i in range(n):
                    w = smem[n + i * cols + (j - c0)] if keep else W[i, j]
                    acc += w * smem[i]
                if s == T:
                    gh0[j] = acc + (g_last[j] if T == 0 else cast(0))
                else:
                    dh = GY[t, j] + acc
                    if s == 0:
                        dh += g_last[j]
                    h = Y[t, j]
                    da = dh * (cast(1) - h * h)
                    D[1 - cur, j] = da
                    DA[t, j] = da
            grid.sync()

    return runtime.jit(mode)(coop_reverse)


def launch_coop_forward(U: Any, WT: Any, h0: Any, Y: Any, H: Any, mode: str, plan: CooperativePlan) -> None:
    kernel = coop_forward_kernel(np.dtype(U.dtype), plan.matrix_in_shared, mode)
    args = (U, WT, h0, Y, H)
    prepare_launch(kernel, args, plan.threads, plan.shared_bytes, mode, cooperative_blocks=plan.blocks)
    kernel[plan.blocks, plan.threads, 0, plan.shared_bytes](*args)


def launch_coop_reverse(Y: Any, W: Any, GY: Any, g_last: Any, DA: Any, gh0: Any, D: Any, mode: str,
                        plan: CooperativePlan) -> None:
    kernel = coop_reverse_kernel(np.dtype(Y.dtype), plan.matrix_in_shared, mode)
    args = (Y, W, GY, g_last, DA, gh0, D)
    prepare_launch(kernel, args, plan.threads, plan.shared_bytes, mode, cooperative_blocks=plan.blocks)
    kernel[plan.blocks, plan.threads, 0, plan.shared_bytes](*args)


def _check_dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"the cooperative scan kernel takes float32 or float64, got {dtype}")
    return dtype
