"""Linear recurrences h_t = a_t * h_{t-1} + b_t over (T, C): sequential and chunked parallel scans.

Both write H (T, C) with H[t] = h_t from h_{-1} = h0 (C,). a, b, H are
row-major (T, C), so at a fixed t consecutive channels are consecutive words:
every kernel maps consecutive threads to consecutive channels (coalesced).

Sequential over time, parallel over channels (`sequential_kernel`): thread
c runs the whole loop for channel c. T dependent steps; right when C alone
fills the GPU or T is short (the research note: the parallel scan pays only
from about 4K steps).

Chunked parallel scan (`chunk_totals_kernel`, `carry_kernel`,
`fixup_kernel`): the composition of steps is associative on pairs,
(a1, b1) then (a2, b2) = (a1*a2, a2*b1 + b2), so T splits into chunks of
L = TY * ITEMS steps and a block of (CX channels) x (TY threads along time)
takes one chunk of CX channels:
1. each thread composes its ITEMS consecutive steps serially, the block
   scans the TY partial pairs per channel in shared memory (Hillis-Steele:
   log2(TY) rounds, `syncthreads` between), and the chunk's total pair
   goes to (CA, CB) (K, C);
2. one thread per channel runs the K chunk totals in order from h0: the
   carry into each chunk (K sequential steps instead of T);
3. each block redoes step 1 for its chunk, applies its thread's exclusive
   prefix to the carry, and writes its ITEMS states.
Data moved: a and b read twice, H written once. The results differ from
the sequential loop by rounding only (products of a are formed in another
order); `chunked_scan` is the host driver.

Simulator-safe: shared memory and `syncthreads`, no warp operations.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
from numba import from_dtype

from . import runtime
from .limits import ceil_div

cuda = None  # the kernels' CUDA namespace: runtime.bind_cuda sets it on first use
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
CX, TY, ITEMS = 32, 8, 16  # block (32, 8); chunk L = 128 steps
UNROLL = 8  # steps whose loads the sequential kernel issues together


@functools.lru_cache(maxsize=None)
def sequential_kernel(dtype: Any, mode: str, unroll: int = UNROLL) -> Callable:
    """Kernel (a, b, h0, H): thread c runs channel c's loop; channels grid-stride.

    The loop is latency-bound: each step waits for its a_t and b_t. So the
    steps go `unroll` at a time: all 2*unroll loads are issued first (into a
    local array that the compiler keeps in registers: ptxas reports no local
    memory), then the dependent multiply-adds run. Same operations in the
    same order as the plain loop.
    """
    dtype = _check_dtype(dtype)
    runtime.bind_cuda(globals())
    nb = from_dtype(dtype)

    def linear_scan_sequential(a, b, h0, H):
        T, C = a.shape[0], a.shape[1]
        ra = cuda.local.array(unroll, nb)
        rb = cuda.local.array(unroll, nb)
        for c in range(cuda.grid(1), C, cuda.gridsize(1)):
            h = h0[c]
            t0 = 0
            while t0 + unroll <= T:
                for k in range(unroll):  # independent loads, all in flight at once
                    ra[k] = a[t0 + k, c]
                    rb[k] = b[t0 + k, c]
                for k in range(unroll):
                    h = ra[k] * h + rb[k]
                    H[t0 + k, c] = h
                t0 += unroll
            for t in range(t0, T):
                h = a[t, c] * h + b[t, c]
                H[t, c] = h

    return runtime.jit(mode)(linear_scan_sequential)


@functools.lru_cache(maxsize=None)
def _compose_device(dtype: np.dtype, mode: str, items: int) -> Callable:
    """Pair (A, B) of the steps t0 .. t0+items-1 (clipped at T) of channel c, from the identity (1, 0)."""
    cast = dtype.type

    def compose(a, b, c, t0, T):
        A, B = cast(1), cast(0)
        for k in range(items):
            t = t0 + k
            if t < T:
                A, B = A * a[t, c], a[t, c] * B + b[t, c]
        return A, B

    return runtime.jit(mode)(device=True)(compose)


@functools.lru_cache(maxsize=None)
def _block_scan_device(dtype: np.dtype, mode: str, ty: int) -> Callable:
    """Inclusive Hillis-Steele scan over y of the pairs (sA, sB)[y, x]; all threads of the block call it."""

    def block_scan(sA, sB, x, y):
        d = 1
        while d < ty:
            pa, pb = sA[y, x], sB[y, x]
            if y >= d:
                pa, pb = sA[y - d, x], sB[y - d, x]
            cuda.syncthreads()
            if y >= d:
                A, B = sA[y, x], sB[y, x]
                sA[y, x], sB[y, x] = pa * A, A * pb + B
            cuda.syncthreads()
            d *= 2

    return runtime.jit(mode)(device=True)(block_scan)


@functools.lru_cache(maxsize=None)
def chunk_totals_kernel(dtype: Any, mode: str, cx: int = CX, ty: int = TY, items: int = ITEMS) -> Callable:
    """Kernel (a, b, CA, CB): CA[k, c], CB[k, c] = the pair of chunk k of channel c. Grid (C/cx, K), block (cx, ty)."""
    runtime.bind_cuda(globals())
    dtype = _check_dtype(dtype)
    nb, chunk = from_dtype(dtype), ty * items
    compose, scan = _compose_device(dtype, mode, items), _block_scan_device(dtype, mode, ty)

    def chunk_totals(a, b, CA, CB):
        sA = cuda.shared.array((ty, cx), nb)
        sB = cuda.shared.array((ty, cx), nb)
        x, y = cuda.threadIdx.x, cuda.threadIdx.y
        T, C = a.shape[0], a.shape[1]
        c = cuda.blockIdx.x * cx + x
        k = cuda.blockIdx.y
        cc = c if c < C else C - 1  # idle lanes still take part in the barriers
        A, B = compose(a, b, cc, k * chunk + y * items, T)
        sA[y, x], sB[y, x] = A, B
        cuda.syncthreads()
        scan(sA, sB, x, y)
        if y == ty - 1 and c < C:
            CA[k, c], CB[k, c] = sA[y, x], sB[y, x]

    return runtime.jit(mode)(chunk_totals)


@functools.lru_cache(maxsize=None)
def carry_kernel(dtype: Any, mode: str) -> Callable:
    """Kernel (CA, CB, h0, carry): carry[k, c] = the state entering chunk k of channel c."""
    runtime.bind_cuda(globals())
    _check_dtype(dtype)

    def carries(CA, CB, h0, carry):
        K, C = CA.shape[0], CA.shape[1]
        for c in range(cuda.grid(1), C, cuda.gridsize(1)):
            h = h0[c]
            for k in range(K):
                carry[k, c] = h
                h = CA[k, c] * h + CB[k, c]

    return runtime.jit(mode)(carries)


@functools.lru_cache(maxsize=None)
def fixup_kernel(dtype: Any, mode: str, cx: int = CX, ty: int = TY, items: int = ITEMS) -> Callable:
    """Kernel (a, b, carry, H): every state of chunk k from the carry into it. Launch like chunk_totals."""
    runtime.bind_cuda(globals())
    dtype = _check_dtype(dtype)
    nb, chunk = from_dtype(dtype), ty * items
    compose, scan = _compose_device(dtype, mode, items), _block_scan_device(dtype, mode, ty)

    def fixup(a, b, carry, H):
        sA = cuda.shared.array((ty, cx), nb)
        sB = cuda.shared.array((ty, cx), nb)
        x, y = cuda.threadIdx.x, cuda.threadIdx.y
        T, C = a.shape[0], a.shape[1]
        c = cuda.blockIdx.x * cx + x
        k = cuda.blockIdx.y
        cc = c if c < C else C - 1
        t0 = k * chunk + y * items
        A, B = compose(a, b, cc, t0, T)
        sA[y, x], sB[y, x] = A, B
        cuda.syncthreads()
        scan(sA, sB, x, y)
        if c < C:
            h = carry[k, c]
            if y > 0:  # exclusive prefix: the inclusive pair of the thread before
                h = sA[y - 1, x] * h + sB[y - 1, x]
            for i in range(items):
                t = t0 + i
                if t < T:
                    h = a[t, c] * h + b[t, c]
                    H[t, c] = h

    return runtime.jit(mode)(fixup)


def chunked_scan(a: Any, b: Any, h0: Any, H: Any, mode: str, alloc: Callable[[tuple, np.dtype], Any],
                 cx: int = CX, ty: int = TY, items: int = ITEMS) -> int:
    """Run the three passes; returns the number of launches (3)."""
    T, C = a.shape
    dtype = np.dtype(a.dtype)
    K = max(1, ceil_div(T, ty * items))
    CA, CB, carry = alloc((K, C), dtype), alloc((K, C), dtype), alloc((K, C), dtype)
    grid = (ceil_div(C, cx), K)
    chunk_totals_kernel(dtype, mode, cx, ty, items)[grid, (cx, ty)](a, b, CA, CB)
    carry_kernel(dtype, mode)[ceil_div(C, 128), 128](CA, CB, h0, carry)
    fixup_kernel(dtype, mode, cx, ty, items)[grid, (cx, ty)](a, b, carry, H)
    return 3


def reference(a: np.ndarray, b: np.ndarray, h0: np.ndarray) -> np.ndarray:
    H = np.empty_like(b)
    h = h0
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        H[t] = h
    return H


def _check_dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"the linear scan kernels take float32 or float64, got {dtype}")
    return dtype
