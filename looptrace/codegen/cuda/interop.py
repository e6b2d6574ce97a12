"""GPU arrays from other libraries: moving, copying into, and aliasing checks.

A caller's GPU array is anything with __cuda_array_interface__ (numba device
arrays, CuPy arrays, PyTorch CUDA tensors) or the CUDA simulator's arrays.
numba wraps any of them without a copy (`numba.cuda.as_cuda_array`), which
is how the cuda target reads and writes them.

Invariants: `copy_into` writes into the caller's own memory (in-place writes
of the function land where the caller sees them); `may_share_memory` is
conservative (overlapping address ranges), like np.may_share_memory.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import runtime


def as_numba(x: Any) -> Any:
    """A numba (or simulator) device array viewing x, without a copy."""
    if hasattr(x, "copy_to_host"):
        return x
    return runtime.numba_cuda().as_cuda_array(x)


def to_host(x: Any) -> np.ndarray:
    """A NumPy copy of a GPU array (for a backend that runs on the host)."""
    return np.ascontiguousarray(as_numba(x).copy_to_host())


def copy_into(dst: Any, src: Any) -> None:
    """dst[...] = src on the device (dst the caller's array, src a result of ours)."""
    d, s = as_numba(dst), as_numba(src)
    if d.size == 0:
        return
    if tuple(s.shape) != tuple(d.shape):
        s = s.reshape(d.shape)
    if d.is_c_contiguous():
        d.copy_to_device(s)
        return
    d[...] = s.copy_to_host()  # a strided caller's array: numba writes it element by element


def _range(x: Any) -> tuple[int, int] | None:
    cai = getattr(x, "__cuda_array_interface__", None)
    if not isinstance(cai, dict):
        return None
    start = int(cai["data"][0])
    item = np.dtype(cai["typestr"]).itemsize
    shape, strides = cai["shape"], cai.get("strides")
    if strides is None:
        return start, start + int(np.prod(shape, dtype=np.int64)) * item
    lo = start + sum(min(0, (d - 1) * s) for d, s in zip(shape, strides))
    hi = start + sum(max(0, (d - 1) * s) for d, s in zip(shape, strides)) + item
    return lo, hi


def may_share_memory(a: Any, b: Any) -> bool:
    ra, rb = _range(a), _range(b)
    if ra is None or rb is None:  # the simulator's arrays wrap NumPy arrays
        try:
            return bool(np.may_share_memory(_host_view(a), _host_view(b)))
        except Exception:
            return a is b
    return ra[0] < rb[1] and rb[0] < ra[1]


def _host_view(x: Any) -> Any:
    return getattr(x, "_ary", x)
