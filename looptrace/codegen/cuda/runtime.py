"""numba-cuda, its simulator and the device, each with a clear failure.

Invariant: importing this module imports no CUDA package. Each accessor
imports on first use and, where something is missing, raises
`CudaUnavailableError` (a `LooptraceError` and an `ImportError`) saying what
is missing and how to get it. Never a bare numba traceback.

Two execution modes for the kernel library:
- "gpu": `numba.cuda.jit`. Compiles for a real device; the same kernels
  compile to PTX on a machine without a GPU (`ptxinfo`).
- "sim": the CUDA simulator. When `NUMBA_ENABLE_CUDASIM=1` was set before
  numba.cuda was imported, `numba.cuda` is the simulator itself; otherwise
  `numba.cuda.simulator` is used explicitly. Its kernels run the Python
  source with the `cuda` global swapped for a fake module, so kernel source
  must call CUDA through a module global named `cuda` (never a closure).

Why both in one process: the simulator checks values and the PTX compile
checks types and lowering (the simulator type-checks nothing); tests do both
on the same kernel source without a subprocess.
"""
from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Callable

import numpy as np

from looptrace.errors import LooptraceError

MODES = ("gpu", "sim")
INSTALL_HINT = "install the cuda extra: pip install 'looptrace[cuda]' (numba-cuda[cu12])"
# numba-cuda <= 0.30.4 registers an overload of np.row_stack, which NumPy 2.5
# removed: `from numba import cuda` works, the first compile raises
# AttributeError. Seen here with numba-cuda 0.30.4 and numpy 2.5.5.
_ROW_STACK_LAST_BAD = (0, 30, 4)


class CudaUnavailableError(LooptraceError, ImportError):
    """numba-cuda, a CUDA driver or a GPU is missing for what was asked."""


@functools.lru_cache(maxsize=16)
def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def numba_cuda_version() -> tuple[int, ...] | None:
    """The installed numba-cuda version, or None without it (no import of numba.cuda)."""
    return _installed_version()


@functools.cache
def _installed_version() -> tuple[int, ...] | None:
    """Read once per process: importlib.metadata parses the package's METADATA
    on every call (0.75 ms here, more with many packages installed), and every
    cuda call asks several times (runtime.numba_cuda)."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return _version(version("numba-cuda"))
    except PackageNotFoundError:
        return None


def check_installation() -> None:
    """Raise CudaUnavailableError unless numba-cuda is installed and usable here.

    numba 0.68 still ships its own deprecated `numba.cuda`; looptrace needs
    NVIDIA's numba-cuda package, so its presence is checked by name.
    """
    found = numba_cuda_version()
    if found is None:
        raise CudaUnavailableError(
            "backend='cuda' needs the numba-cuda package, which is not installed",
            hint=INSTALL_HINT,
        )
    if found <= _ROW_STACK_LAST_BAD and _version(np.__version__) >= (2, 5):
        raise CudaUnavailableError(
            f"numba-cuda {'.'.join(map(str, found))} cannot compile with NumPy "
            f"{np.__version__} (NumPy 2.5 removed np.row_stack, which it overloads)",
            hint="install numpy<2.5 (pip install 'numpy<2.5'), or a numba-cuda release that supports NumPy 2.5",
        )


def numba_cuda() -> ModuleType:
    """The `numba.cuda` module of numba-cuda (the simulator when NUMBA_ENABLE_CUDASIM=1)."""
    check_installation()
    try:
        return importlib.import_module("numba.cuda")
    except ImportError as e:  # e.g. cuda-bindings missing
        raise CudaUnavailableError(
            f"numba.cuda could not be imported: {e}", hint=INSTALL_HINT
        ) from e


def bind_cuda(module_globals: dict) -> None:
    """Set a kernel module's global `cuda` to numba.cuda on first use.

    Kernel source calls CUDA through that global: numba resolves it when
    compiling, and the simulator swaps it for its fake module while a kernel
    runs (it swaps every global that *is* numba.cuda, so it must not be a
    closure variable or an alias made before numba-cuda was checked).
    """
    if module_globals.get("cuda") is None:
        module_globals["cuda"] = numba_cuda()


def env_simulator() -> bool:
    """True when `numba.cuda` itself is the simulator (NUMBA_ENABLE_CUDASIM=1 at import)."""
    numba_cuda()
    from numba.cuda.core import config

    return bool(config.ENABLE_CUDASIM)


def simulator() -> ModuleType:
    """The simulator's `cuda` namespace (jit, device_array, to_device, ...)."""
    cuda = numba_cuda()
    if env_simulator():
        return cuda
    return importlib.import_module("numba.cuda.simulator")


def namespace(mode: str) -> ModuleType:
    """The module whose jit/device_array/to_device serve `mode`."""
    _check_mode(mode)
    return simulator() if mode == "sim" else numba_cuda()


def jit(mode: str) -> Callable:
    """`cuda.jit` for `mode` (use as `jit(mode)(fn)` or `jit(mode)(device=True)(fn)`)."""
    return namespace(mode).jit


def device_available() -> bool:
    """A real GPU is usable here (False under the simulator and without numba-cuda)."""
    try:
        cuda = numba_cuda()
    except CudaUnavailableError:
        return False
    if env_simulator():
        return False
    return bool(cuda.is_available())


def require_device() -> ModuleType:
    """numba.cuda, after checking that a GPU and driver are usable; else a clear error."""
    cuda = numba_cuda()
    if env_simulator():
        raise CudaUnavailableError(
            "a real GPU was asked for, but NUMBA_ENABLE_CUDASIM=1 made numba.cuda the simulator",
            hint="unset NUMBA_ENABLE_CUDASIM to run on the device",
        )
    if not cuda.is_available():
        reason = cuda.cuda_error() or "no CUDA device was found"
        first = str(reason).strip().splitlines()
        raise CudaUnavailableError(
            f"backend='cuda' found no usable GPU: {' '.join(line.strip() for line in first if line.strip())}",
            hint="run on a machine with an NVIDIA GPU and driver, or use backend='cpu'",
        )
    return cuda


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
