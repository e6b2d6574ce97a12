"""The device memory pool: one allocation per buffer shape, reused across steps and calls.

Invariant: `empty(shape, dtype)` allocates from the device (cudaMalloc, via
numba's `device_array`) only when no released buffer of exactly that shape
and dtype is free; `release` (or leaving a `frame`) hands buffers back for
reuse, so a compiled call whose buffers have fixed shapes allocates on its
first run and never again, and a host-driven scan never allocates per step.
A buffer is handed out to one owner at a time. Contents of a reused buffer
are whatever was left in it (like np.empty).

Why our own cache rather than an EMM plugin: numba-cuda's External Memory
Management (`cuda.set_memory_manager`) replaces the allocator of the whole
process, must be set before the first CUDA context, and would change the
behaviour of the user's own numba and CuPy code; a cache of our own buffers
is local to looptrace and works identically under the simulator. Users who
want every numba allocation pooled can still install an EMM plugin (CuPy's
or RMM's); this pool then sits on top of it.

Running out of device memory raises `DeviceMemoryError` naming the buffer
(its label, shape, dtype and bytes) after one retry with the free buffers
handed back to the device.
"""
from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from . import runtime


class DeviceMemoryError(MemoryError):
    """The device has no room for a buffer looptrace needs."""


@dataclass
class PoolStats:
    allocations: int = 0  # device allocations made (cudaMalloc)
    reuses: int = 0  # requests served from released buffers
    bytes_allocated: int = 0  # bytes of every live buffer the pool made
    bytes_free: int = 0  # bytes held in released buffers


class DevicePool:
    """A cache of device buffers keyed by (shape, dtype), for one mode ("gpu" or "sim")."""

    def __init__(self, mode: str = "gpu", max_free_bytes: int | None = None):
        self.mode = mode
        self.max_free_bytes = max_free_bytes
        self.stats = PoolStats()
        self._free: dict[tuple, list[Any]] = defaultdict(list)
        self._frames: list[list[Any]] = []
        self._lock = threading.RLock()  # _allocate trims while empty() holds it

    def empty(self, shape: tuple[int, ...] | int, dtype: Any, label: str = "buffer") -> Any:
        """A device array of `shape` and `dtype`, reused when one was released."""
        shape = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
        dtype = np.dtype(dtype)
        key = (shape, dtype.str)
        with self._lock:
            free = self._free.get(key)
            if free:
                buf = free.pop()
                self.stats.reuses += 1
                self.stats.bytes_free -= buf.nbytes
            else:
                buf = self._allocate(shape, dtype, label)
            if self._frames:
                self._frames[-1].append(buf)
        return buf

    def release(self, buf: Any) -> None:
        """Hand `buf` back for reuse (it must have come from `empty` and not be used after)."""
        key = (tuple(buf.shape), np.dtype(buf.dtype).str)
        with self._lock:
            if self.max_free_bytes is not None and self.stats.bytes_free + buf.nbytes > self.max_free_bytes:
                self.stats.bytes_allocated -= buf.nbytes  # dropped: numba frees it with the last reference
                return
            self._free[key].append(buf)
            self.stats.bytes_free += buf.nbytes

    @contextlib.contextmanager
    def frame(self) -> Iterator["DevicePool"]:
        """Buffers taken inside the block go back to the pool when it ends (one call, one step)."""
        with self._lock:
            self._frames.append([])
        try:
            yield self
        finally:
            with self._lock:
                taken = self._frames.pop()
            for buf in taken:
                self.release(buf)

    def trim(self) -> int:
        """Give every free buffer back to the device; returns the bytes freed."""
        with self._lock:
            freed = self.stats.bytes_free
            self.stats.bytes_allocated -= freed
            self.stats.bytes_free = 0
            self._free.clear()
        return freed

    def _allocate(self, shape: tuple[int, ...], dtype: np.dtype, label: str) -> Any:
        ns = runtime.namespace(self.mode)
        try:
            buf = ns.device_array(shape, dtype=dtype)
        except Exception as e:  # numba raises CudaAPIError for CUDA_ERROR_OUT_OF_MEMORY
            if not _out_of_memory(e):
                raise
            self.trim()
            try:
                buf = ns.device_array(shape, dtype=dtype)
            except Exception as again:
                if not _out_of_memory(again):
                    raise
                nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                raise DeviceMemoryError(
                    f"the GPU is out of memory for {label} {shape} {dtype} ({nbytes:,} bytes); "
                    f"looptrace's pool holds {self.stats.bytes_allocated:,} bytes"
                ) from again
        self.stats.allocations += 1
        self.stats.bytes_allocated += buf.nbytes
        return buf


def _out_of_memory(e: BaseException) -> bool:
    text = f"{type(e).__name__} {e}"
    return "OUT_OF_MEMORY" in text or "out of memory" in text.lower()
