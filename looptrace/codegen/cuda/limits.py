"""Device limits, launch configurations and the shared-memory budget rules.

Invariant: every launch configuration the kernel library uses comes from
here, from a `DeviceLimits` that is either read off the device or, without
one, the Hopper (sm_90, H100/H200) figures below, so planning and the cost
model give the same answer on a CPU-only machine as on the GPU they target.

Shared memory on sm_90: a block may use 48 KiB of *static* shared memory
(`cuda.shared.array(n, dtype)` with constant n); beyond that, up to 227 KiB
(232,448 bytes) of *dynamic* shared memory, and only after the kernel's
MAX_DYNAMIC_SHARED_SIZE_BYTES attribute is raised (`allow_dynamic_shared`;
numba-cuda 0.30.4 has no call for it). The multiprocessor has 228 KiB, and
each resident block costs 1 KiB more that the system reserves. Kernels here
that may need more than 48 KiB take their big arrays from dynamic shared
memory, sized at launch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .runtime import require_device

WARP = 32
STATIC_SHARED_LIMIT = 48 * 1024


@dataclass(frozen=True)
class DeviceLimits:
    """The few device properties the planners read."""

    name: str
    cc: tuple[int, int]
    sm_count: int
    max_threads_per_block: int
    max_shared_per_block_optin: int  # dynamic + static, after allow_dynamic_shared
    shared_per_sm: int
    reserved_shared_per_block: int
    l2_bytes: int


# NVIDIA's H100 SXM / H200 figures (compute capability 9.0); the SM count,
# L2 size and name were seen on the H200 lent here (KINDS.md: 132 SMs, 60 MB L2).
HOPPER = DeviceLimits(
    name="sm_90 (H100/H200 figures, no device read)", cc=(9, 0), sm_count=132,
    max_threads_per_block=1024, max_shared_per_block_optin=232_448,
    shared_per_sm=233_472, reserved_shared_per_block=1024, l2_bytes=60 * 1024 * 1024,
)


def device_limits() -> DeviceLimits:
    """The current device's limits (needs a GPU)."""
    cuda = require_device()
    dev = cuda.get_current_device()
    attr = lambda name, default=0: int(getattr(dev, name, default))  # noqa: E731
    return DeviceLimits(
        name=str(dev.name.decode() if isinstance(dev.name, bytes) else dev.name),
        cc=tuple(dev.compute_capability),
        sm_count=attr("MULTIPROCESSOR_COUNT"),
        max_threads_per_block=attr("MAX_THREADS_PER_BLOCK", 1024),
        max_shared_per_block_optin=attr("MAX_SHARED_MEMORY_PER_BLOCK_OPTIN", STATIC_SHARED_LIMIT),
        shared_per_sm=attr("MAX_SHARED_MEMORY_PER_MULTIPROCESSOR"),
        reserved_shared_per_block=attr("RESERVED_SHARED_MEMORY_PER_BLOCK", 1024),
        l2_bytes=attr("L2_CACHE_SIZE"),
    )


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def ceil_div(n: int, d: int) -> int:
    return -(-n // d)


GRID_BLOCK = 256  # threads per block of a grid-stride launch (iterations.py sizes a shared array by it)


def grid_stride_config(n: int, limits: DeviceLimits = HOPPER, block: int = GRID_BLOCK,
                       waves: int = 4) -> tuple[int, int]:
    """(blocks, threads) for a grid-stride loop over n elements.

    Enough blocks to fill every SM `waves` times over and no more: the
    grid-stride loop covers the rest, so a launch never has more blocks than
    work and never a grid that depends on n beyond that cap.
    """
    blocks = max(1, min(ceil_div(max(n, 1), block), limits.sm_count * waves))
    return blocks, block


def single_block_threads(rows: int, limits: DeviceLimits = HOPPER) -> int:
    """Threads of a persistent single-block kernel: one per row up to the block limit, whole warps."""
    return max(WARP, min(round_up(max(rows, 1), WARP), limits.max_threads_per_block))


def fits_shared(nbytes: int, limits: DeviceLimits = HOPPER) -> bool:
    """Whether a block can hold `nbytes` of shared memory (opt-in limit)."""
    return nbytes <= limits.max_shared_per_block_optin


_raised_shared: dict[int, int] = {}  # id(compiled kernel) -> dynamic shared limit already set


def prepare_launch(kernel: Any, args: tuple, threads: int, dynamic_shared: int, mode: str,
                   cooperative_blocks: int | None = None) -> None:
    """What a launch of `kernel` on `args` needs first, on a device (nothing under the simulator).

    Compiles the overload the launch will use (the argument types of `args`
    exactly: a C-contiguous array is another overload than a strided one),
    raises its dynamic shared-memory limit when it asks for more than 48 KiB
    (`allow_dynamic_shared`), and, for a cooperative launch, checks the grid
    against max_cooperative_grid_blocks, with a clear error instead of
    CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE.
    """
    if mode != "gpu":
        return
    compiled = kernel.compile(tuple(kernel.typeof_pyval(a) for a in args))
    if dynamic_shared > STATIC_SHARED_LIMIT and _raised_shared.get(id(compiled), 0) < dynamic_shared:
        allow_dynamic_shared(compiled, dynamic_shared)
        _raised_shared[id(compiled)] = dynamic_shared
    if cooperative_blocks is not None:
        most = int(compiled.max_cooperative_grid_blocks(threads, dynamic_shared))
        if cooperative_blocks > most:
            raise ValueError(
                f"a cooperative launch of {cooperative_blocks} blocks of {threads} threads with "
                f"{dynamic_shared} B of shared memory exceeds max_cooperative_grid_blocks = {most}"
            )


def allow_dynamic_shared(compiled: Any, nbytes: int) -> None:
    """Raise a compiled kernel's dynamic shared-memory limit to `nbytes` (device only).

    numba-cuda 0.30.4 exposes the carveout but not this attribute, so the
    driver call is made on the compiled kernel's handle, as numba's own
    `set_shared_memory_carveout` does.
    """
    require_device()
    from cuda.bindings import driver as cu
    from numba.cuda.cudadrv.driver import driver

    cufunc = compiled._codelibrary.get_cufunc()
    attr = cu.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    driver.cuKernelSetAttribute(attr, int(nbytes), cufunc.handle, cufunc.device.id)


def cooperative_grid_limit(kernel: Any, args: tuple, threads: int, dynamic_shared: int, mode: str) -> int:
    """The most blocks a cooperative launch of `kernel` on `args` may have (max_cooperative_grid_blocks).

    Under the simulator this is 1: it runs a cooperative grid as one block
    (its grid sync is a block barrier).
    """
    if mode == "sim":
        return 1
    compiled = kernel.compile(tuple(kernel.typeof_pyval(a) for a in args))
    return int(compiled.max_cooperative_grid_blocks(threads, dynamic_shared))
