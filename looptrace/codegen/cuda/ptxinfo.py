"""Compile a kernel to PTX and read its resource use, with no GPU.

`numba.cuda.compile_ptx(fn, sig, cc=(9, 0))` type-checks and lowers a kernel
through NVVM on a CPU-only machine (numba-cuda[cu12] brings NVVM): any typing
or lowering error surfaces here as numba's TypingError/LoweringError, which
is the point of compiling every generated kernel in CI. The PTX alone does
not say how many registers a kernel uses (its `.reg` lines are virtual
registers); ptxas does. nvJitLink (also in the cu12 extra) runs ptxas
in-process: linking the PTX to a cubin with `verbose` returns ptxas' report
(registers, barriers, stack, spills, shared and constant memory), which is
what `resources` parses. Grid-sync kernels call into cudadevrt, so its static
library joins the link when the PTX declares extern functions.

Invariant: `resources` reports what ptxas reports for the target given,
nothing estimated. The shared-memory figure includes the 1 KiB per block that
sm_80 and later reserve for the system (seen: a kernel with 1,024 bytes of
`cuda.shared.array` reports 2,048).
"""
from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .runtime import CudaUnavailableError, device_available, numba_cuda

SM90 = (9, 0)

_USED = re.compile(
    r"used (?P<regs>\d+) registers(?:, used (?P<bars>\d+) barriers)?"
    r"(?:, (?P<stack>\d+) stack)?(?:, (?P<smem>\d+) bytes smem)?"
    r"(?:, (?P<cmem>\d+) bytes cmem\[0\])?(?:, (?P<lmem>\d+) bytes lmem)?"
)
_SPILLS = re.compile(
    r"(?P<frame>\d+) bytes stack frame, (?P<stores>\d+) bytes spill stores, (?P<loads>\d+) bytes spill loads"
)


@dataclass(frozen=True)
class KernelResources:
    """What ptxas reports for one kernel (per thread: registers, local bytes; per block: shared)."""

    registers: int
    barriers: int
    stack_bytes: int
    shared_bytes: int
    const_bytes: int
    local_bytes: int
    spill_store_bytes: int
    spill_load_bytes: int
    log: str

    @property
    def spills(self) -> bool:
        return self.spill_store_bytes > 0 or self.spill_load_bytes > 0


def compile_ptx(kernel: Any, argtypes: Sequence[Any], cc: tuple[int, int] = SM90, **options: Any) -> str:
    """PTX for `kernel` (a cuda.jit kernel of mode "gpu", or its Python function).

    `options` go to numba's compile_ptx (fastmath, lineinfo, ...). Raises
    numba's TypingError/LoweringError for a kernel that would not build.
    """
    cuda = numba_cuda()
    fn = getattr(kernel, "py_func", kernel)
    with _device_functions_target(cc):
        ptx, _ = cuda.compile_ptx(fn, tuple(argtypes), cc=cc, **options)
    return ptx


class _TargetDevice:
    """Stands in for the current device while compiling without one."""

    def __init__(self, cc: tuple[int, int]):
        self.compute_capability = cc


_patch_lock = threading.Lock()


@contextlib.contextmanager
def _device_functions_target(cc: tuple[int, int]):
    """Let device functions compile for `cc` on a machine without a GPU.

    numba-cuda 0.30.4 compiles each device function a kernel calls (a
    `cuda.jit(device=True)` function, and builtins written as overloads, such
    as `cuda.cg.this_grid()`) for `get_current_device().compute_capability`,
    even inside `compile_ptx(..., cc=...)`; with no driver that raises
    CudaSupportError. Where no device is usable, that lookup answers `cc`
    for the duration of the compile. With a device nothing is changed.
    """
    if device_available():
        yield
        return
    from numba.cuda import dispatcher

    with _patch_lock:
        original = dispatcher.get_current_device
        dispatcher.get_current_device = lambda: _TargetDevice(cc)
        try:
            yield
        finally:
            dispatcher.get_current_device = original


def resources(ptx: str, cc: tuple[int, int] = SM90) -> KernelResources:
    """Registers, shared memory, spills of the (single) kernel in `ptx`, from ptxas via nvJitLink."""
    log = _link_log(ptx, cc)
    used = _last(_USED, log)
    spills = _last(_SPILLS, log)
    if used is None:
        raise RuntimeError(f"could not read ptxas' report from nvJitLink's log:\n{log}")
    num = lambda m, key: int(m.group(key) or 0) if m is not None else 0  # noqa: E731
    return KernelResources(
        registers=num(used, "regs"), barriers=num(used, "bars"), stack_bytes=num(used, "stack"),
        shared_bytes=num(used, "smem"), const_bytes=num(used, "cmem"), local_bytes=num(used, "lmem"),
        spill_store_bytes=num(spills, "stores"), spill_load_bytes=num(spills, "loads"), log=log,
    )


def kernel_resources(kernel: Any, argtypes: Sequence[Any], cc: tuple[int, int] = SM90, **options: Any) -> KernelResources:
    """compile_ptx, then resources: one call for the cost model and the tests."""
    return resources(compile_ptx(kernel, argtypes, cc, **options), cc)


def _last(pattern: re.Pattern, log: str) -> re.Match | None:
    found = list(pattern.finditer(log))
    return found[-1] if found else None


def _link_log(ptx: str, cc: tuple[int, int]) -> str:
    Linker, LinkerOptions, ObjectCode = _cuda_core()
    objects = [ObjectCode.from_ptx(ptx.encode(), name="kernel.ptx")]
    if ".extern .func" in ptx:  # grid sync and other device-runtime calls
        objects.append(ObjectCode.from_library(_read_cudadevrt(), name="libcudadevrt.a"))
    linker = Linker(*objects, options=LinkerOptions(arch=f"sm_{cc[0]}{cc[1]}", verbose=True))
    try:
        linker.link("cubin")
        return linker.get_info_log()
    finally:
        linker.close()


def _cuda_core() -> tuple[Callable, Callable, Any]:
    numba_cuda()
    try:
        from cuda.core import Linker, LinkerOptions, ObjectCode
    except ImportError:
        try:
            from cuda.core.experimental import Linker, LinkerOptions, ObjectCode
        except ImportError as e:
            raise CudaUnavailableError(f"cuda.core's Linker is missing: {e}", hint="pip install 'looptrace[cuda]'") from e
    return Linker, LinkerOptions, ObjectCode


def _read_cudadevrt() -> bytes:
    from numba.cuda.cudadrv import libs

    path = libs.get_cudalib("cudadevrt", static=True)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CudaUnavailableError(
            f"libcudadevrt.a (needed to link grid-sync kernels) was not found at {path}",
            hint="pip install 'looptrace[cuda]' brings it (nvidia-cuda-runtime-cu12)",
        ) from e
