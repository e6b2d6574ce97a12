"""The grid-stride elementwise kernel: the code shape the generator emits for a fused root.

Invariant: a fused elementwise/broadcast nest is ONE kernel over the flat
index of its output: thread g handles i = g, g + G, g + 2G, ... (G = all
threads of the grid), so any grid covers any n and consecutive threads touch
consecutive elements (coalesced). Each input is read through its own
broadcast strides (in elements; 0 along a broadcast axis), so a row vector
added to a matrix costs no copy; the scalar body is the fused chain,
evaluated in registers, and each output element is written once.

`map_kernel(body, n_in, ndim)` builds that kernel from a scalar body (a
device function of n_in scalars), which is exactly what the generator does
with the fused chain's text. `gaussian_rows` below is such a body written by
hand, from the gaussian_layer seed's last stage.

Simulator-safe: no shared memory, no warp operations.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from . import runtime
from .limits import HOPPER, DeviceLimits, grid_stride_config

cuda = None  # the kernels' CUDA namespace: runtime.bind_cuda sets it on first use
MAX_INPUTS = 4
MAX_NDIM = 3


@functools.lru_cache(maxsize=None)
def map_kernel(body: Callable, n_in: int, ndim: int, mode: str) -> Callable:
    """Kernel (out, shape, *[x_k, strides_k]): out.flat[i] = body(x_0[..], ..., x_{n-1}[..]).

    `out` is the flat (contiguous) output, `shape` its ND shape as an int64
    array, each input a flat array with an int64 array of element strides
    (0 along broadcast axes). Up to MAX_INPUTS inputs of up to MAX_NDIM axes.
    """
    if not 1 <= n_in <= MAX_INPUTS or not 1 <= ndim <= MAX_NDIM:
        raise ValueError(f"map_kernel takes 1..{MAX_INPUTS} inputs of 1..{MAX_NDIM} axes, got {n_in}, {ndim}")
    runtime.bind_cuda(globals())
    f = runtime.jit(mode)(device=True)(body)
    offset = _offset_device(ndim, mode)
    kernel = _KERNELS[n_in](f, offset)
    return runtime.jit(mode)(kernel)


def _offset_device(ndim: int, mode: str) -> Callable:
    """Element offset of flat output index i in an input with element strides st."""

    def offset(i, shape, st):
        off = 0
        for d in range(ndim - 1, -1, -1):
            off += (i % shape[d]) * st[d]
            i //= shape[d]
        return off

    return runtime.jit(mode)(device=True)(offset)


def _k1(f, offset):
    def kernel(out, shape, a, sa):
        start, step = cuda.grid(1), cuda.gridsize(1)
        for i in range(start, out.shape[0], step):
            out[i] = f(a[offset(i, shape, sa)])
    return kernel


def _k2(f, offset):
    def kernel(out, shape, a, sa, b, sb):
        start, step = cuda.grid(1), cuda.gridsize(1)
        for i in range(start, out.shape[0], step):
            out[i] = f(a[offset(i, shape, sa)], b[offset(i, shape, sb)])
    return kernel


def _k3(f, offset):
    def kernel(out, shape, a, sa, b, sb, c, sc):
        start, step = cuda.grid(1), cuda.gridsize(1)
        for i in range(start, out.shape[0], step):
            out[i] = f(a[offset(i, shape, sa)], b[offset(i, shape, sb)], c[offset(i, shape, sc)])
    return kernel


def _k4(f, offset):
    def kernel(out, shape, a, sa, b, sb, c, sc, d, sd):
        start, step = cuda.grid(1), cuda.gridsize(1)
        for i in range(start, out.shape[0], step):
            out[i] = f(a[offset(i, shape, sa)], b[offset(i, shape, sb)], c[offset(i, shape, sc)],
                       d[offset(i, shape, sd)])
    return kernel


_KERNELS = {1: _k1, 2: _k2, 3: _k3, 4: _k4}


def broadcast_strides(arr_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> np.ndarray:
    """Element strides of a C-contiguous array of `arr_shape` read at `out_shape` (NumPy broadcasting)."""
    if len(arr_shape) > len(out_shape):
        raise ValueError(f"cannot broadcast {arr_shape} to {out_shape}")
    shape = (1,) * (len(out_shape) - len(arr_shape)) + tuple(arr_shape)
    strides, step = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        if shape[d] != 1 and shape[d] != out_shape[d]:
            raise ValueError(f"cannot broadcast {arr_shape} to {out_shape}")
        strides[d] = step if shape[d] != 1 else 0
        step *= shape[d]
    return np.asarray(strides, dtype=np.int64)


def launch_map(kernel: Callable, out_shape: tuple[int, ...], out: Any, inputs: list[tuple[Any, tuple[int, ...]]],
               to_device: Callable, limits: DeviceLimits = HOPPER, block: int = 256) -> None:
    """Launch `kernel` over `out` (flat) with inputs given as (flat array, its ND shape)."""
    shape = to_device(np.asarray(out_shape, dtype=np.int64))
    args = [out, shape]
    for arr, arr_shape in inputs:
        args += [arr, to_device(broadcast_strides(arr_shape, out_shape))]
    blocks, threads = grid_stride_config(int(np.prod(out_shape, dtype=np.int64)), limits, block)
    kernel[blocks, threads](*args)


def gaussian_rows(diff_sq_sum: float, s: float) -> float:
    """gaussian_layer's last stage for one element: exp(-norm**2) / 2 * S[j]**2, norm = sqrt(sum)."""
    norm = math.sqrt(diff_sq_sum)
    return math.exp(-(norm * norm)) / 2 * (s * s)
