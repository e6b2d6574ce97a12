"""Persistent single-block kernels for h_t = tanh(W h_{t-1} + U_t) and its reverse scan.

This is rnn_taps after hoisting: U_t = W2 X[t] + W3 X[t-1] was computed for
all t as one batched product before the scan; only the recurrence is left.

Invariant: the whole scan runs inside ONE launch of ONE block; every step's
state lives in shared memory, and one `syncthreads` per step separates the
step that writes the state from the next step that reads it. The state is
double-buffered (ping-pong halves of shared memory): step t reads half t%2
(the matvec) and writes half (t+1)%2 (the update), so the matvec and the
update of one step never touch the same words and one barrier per step is
enough. Every h_t is stored (Y[t]), as the reverse scan needs them.

Memory: thread i owns row i (rows i, i+B, ... when n > B threads). It reads
the loop-invariant matrix column-wise, from W^T in row-major order, so at
each j the threads of a warp read consecutive words: coalesced from global
memory (L2) or, when the matrix fits the block's shared memory, conflict-free
from shared memory, where the kernel first copies it. The state element h_j
is one shared word that every thread reads at once (a broadcast).

The reverse scan (`rnn_reverse_kernel`) runs the adjoint of the same loop
backwards in the same shape: with da_t the cotangent of the pre-activation,
  dh_t = GY[t] + W^T da_{t+1}   (+ the cotangent of the final state at t = T-1)
  da_t = dh_t * (1 - h_t**2)
it stores every da_t (DA, which is also the cotangent of U) and the
cotangent of h0 (W^T da_0). The weight gradient is left to one batched
product afterwards, dW = DA^T @ [h0; Y[:-1]], as the issue's hoisting says.

Simulator-safe: dynamic shared memory, `syncthreads`, no warp operations.
Shared-memory budget (per block, bytes): 2n state words, plus n*n matrix
words when the matrix is kept in shared memory (`plan_single_block`).
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
    DeviceLimits,
    fits_shared,
    prepare_launch,
    single_block_threads,
)

cuda = None  # the kernels' CUDA namespace: runtime.bind_cuda sets it on first use
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@dataclass(frozen=True)
class PersistentPlan:
    """Launch configuration of a persistent single-block scan."""

    threads: int
    shared_bytes: int  # dynamic shared memory to launch with
    matrix_in_shared: bool
    reason: str


def plan_single_block(n: int, dtype: Any, limits: DeviceLimits = HOPPER) -> PersistentPlan:
    """Threads and dynamic shared memory for state size n; the matrix goes to shared memory when it fits."""
    item = _check_dtype(dtype).itemsize
    state = 2 * n * item
    with_matrix = state + n * n * item
    threads = single_block_threads(n, limits)
    if fits_shared(with_matrix, limits):
        return PersistentPlan(threads, with_matrix, True,
                              f"W ({n}x{n}, {n * n * item} B) fits the block's shared memory "
                              f"({limits.max_shared_per_block_optin} B)")
    return PersistentPlan(threads, state, False,
                          f"W ({n}x{n}, {n * n * item} B) exceeds the block's shared memory "
                          f"({limits.max_shared_per_block_optin} B): read coalesced from global memory (L2)")


@functools.lru_cache(maxsize=None)
def rnn_forward_kernel(dtype: Any, matrix_in_shared: bool, mode: str) -> Callable:
    """Kernel (U (T, n), WT (n, n) = W.T contiguous, h0 (n,), Y (T, n)); launch [1, threads, 0, shared_bytes]."""
    runtime.bind_cuda(globals())
    dtype = _check_dtype(dtype)
    nb, cast, keep = from_dtype(dtype), dtype.type, matrix_in_shared

    def rnn_forward(U, WT, h0, Y):
        smem = cuda.shared.array(0, nb)
        tid, nthreads = cuda.threadIdx.x, cuda.blockDim.x
        T, n = U.shape[0], U.shape[1]
        for i in range(tid, n, nthreads):
            smem[i] = h0[i]
        if keep:
            for k in range(tid, n * n, nthreads):
                smem[2 * n + k] = WT[k // n, k % n]
        cuda.syncthreads()
        for t in range(T):
            cur = (t % 2) * n
            nxt = n - cur
            for i in range(tid, n, nthreads):
                u = U[t, i]  # issued before the matvec, so its latency overlaps it
                acc = cast(0)
                for j in range(n):
                    w = smem[2 * n + j * n + i] if keep else WT[j, i]
                    acc += w * smem[cur + j]
                h = math.tanh(acc + u)
                smem[nxt + i] = h
                Y[t, i] = h
            cuda.syncthreads()

    return runtime.jit(mode)(rnn_forward)


@functools.lru_cache(maxsize=None)
def rnn_reverse_kernel(dtype: Any, matrix_in_shared: bool, mode: str) -> Callable:
    """Kernel (Y, W, GY, g_last, h0, DA, gh0): the reverse scan; launch like the forward.

    Y (T, n) the forward's outputs, W (n, n) row-major, GY (T, n) the
    cotangent of Y, g_last (n,) the cotangent of the final state (zeros if
    none), h0 (n,) the initial state (unused but for T = 0 bookkeeping);
    writes DA (T, n) and gh0 (n,).
    """
    runtime.bind_cuda(globals())
    dtype = _check_dtype(dtype)
    nb, cast, keep = from_dtype(dtype), dtype.type, matrix_in_shared

    def rnn_reverse(Y, W, GY, g_last, h0, DA, gh0):
        smem = cuda.shared.array(0, nb)
        tid, nthreads = cuda.threadIdx.x, cuda.blockDim.x
        T, n = Y.shape[0], Y.shape[1]
        for j in range(tid, n, nthreads):
            smem[j] = cast(0)  # da_T = 0
        if keep:
            for k in range(tid, n * n, nthreads):
                smem[2 * n + k] = W[k // n, k % n]
        cuda.syncthreads()
        for s in range(T):
            t = T - 1 - s
            src = (s % 2) * n
            dst = n - src
            for j in range(tid, n, nthreads):
                dh = GY[t, j]
                if t == T - 1:
                    dh += g_last[j]
                for i in range(n):  # (W^T da_{t+1})_j: at fixed i, threads read W[i, j..] consecutively
                    w = smem[2 * n + i * n + j] if keep else W[i, j]
                    dh += w * smem[src + i]
                h = Y[t, j]
                da = dh * (cast(1) - h * h)
                smem[dst + j] = da
                DA[t, j] = da
            cuda.syncthreads()
        last = (T % 2) * n  # holds da_0 (zeros when T == 0)
        for j in range(tid, n, nthreads):
            g = g_last[j] if T == 0 else cast(0)
            for i in range(n):
                w = smem[2 * n + i * n + j] if keep else W[i, j]
                g += w * smem[last + i]
            gh0[j] = g

    return runtime.jit(mode)(rnn_reverse)


def launch_forward(U: Any, WT: Any, h0: Any, Y: Any, mode: str, plan: PersistentPlan) -> None:
    """Run the forward scan: one launch, one block."""
    kernel = rnn_forward_kernel(np.dtype(U.dtype), plan.matrix_in_shared, mode)
    args = (U, WT, h0, Y)
    prepare_launch(kernel, args, plan.threads, plan.shared_bytes, mode)
    kernel[1, plan.threads, 0, plan.shared_bytes](*args)


def launch_reverse(Y: Any, W: Any, GY: Any, g_last: Any, h0: Any, DA: Any, gh0: Any,
                   mode: str, plan: PersistentPlan) -> None:
    """Run the reverse scan: one launch, one block."""
    kernel = rnn_reverse_kernel(np.dtype(Y.dtype), plan.matrix_in_shared, mode)
    args = (Y, W, GY, g_last, h0, DA, gh0)
    prepare_launch(kernel, args, plan.threads, plan.shared_bytes, mode)
    kernel[1, plan.threads, 0, plan.shared_bytes](*args)


# --- NumPy references (the plain loops these kernels replace) ---------------------------------


def forward_reference(U: np.ndarray, W: np.ndarray, h0: np.ndarray) -> np.ndarray:
    Y = np.empty_like(U)
    h = h0
    for t in range(U.shape[0]):
        h = np.tanh(W @ h + U[t])
        Y[t] = h
    return Y


def reverse_reference(Y: np.ndarray, W: np.ndarray, GY: np.ndarray, g_last: np.ndarray,
                      h0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(DA, gh0, dW): the cotangents of U and h0, and the hoisted weight gradient DA^T @ H_prev."""
    T = Y.shape[0]
    DA = np.empty_like(Y)
    da_next = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        dh = GY[t] + W.T @ da_next + (g_last if t == T - 1 else 0)
        DA[t] = dh * (1 - Y[t] ** 2)
        da_next = DA[t]
    gh0 = W.T @ da_next if T else g_last.copy()
    H_prev = np.concatenate([h0[None], Y[:-1]]) if T else np.empty((0, h0.shape[0]), h0.dtype)
    return DA, gh0, DA.T @ H_prev


def _check_dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"the persistent scan kernels take float32 or float64, got {dtype}")
    return dtype
