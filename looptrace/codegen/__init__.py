"""Code generation, by target.

  target.py    the seam: `Target`, the kinds of lowering rule, `Runner`
  planning/    what every target shares: the fusion plan, ownership and last
               uses, memory sharing, the block walker (reads primitive
               traits, writes no text)
  reference.py the NumPy interpreter of the IR (backend="interpret"), the
               reference every other target is tested against
  cpu/         the Numba CPU target (backend="cpu")
  cuda/        the numba.cuda target (backend="cuda"): a GPU, or the CUDA
               simulator where NUMBA_ENABLE_CUDASIM=1 or LOOPTRACE_CUDA_SIM=1

A target's package builds one `Target` object named TARGET; `get_target`
imports it on first use, so a machine without Numba still runs the
interpreter.
"""
from __future__ import annotations

import functools
import importlib
import os

from .target import Target

_PACKAGES = {"interpret": "looptrace.codegen.reference", "cpu": "looptrace.codegen.cpu",
             "cuda": "looptrace.codegen.cuda"}


def get_target(name: str) -> Target:
    if name not in _PACKAGES:
        raise NotImplementedError(f"the {name!r} backend does not exist; use backend='cpu', 'cuda' or 'interpret'")
    return importlib.import_module(_PACKAGES[name]).TARGET


def target_names() -> tuple[str, ...]:
    return tuple(_PACKAGES)


def available_backends() -> tuple[str, ...]:
    """Backends this installation can run ("auto" picks "cpu" when listed)."""
    if not cpu_available():
        return ("interpret",)
    return ("interpret", "cpu", "cuda") if cuda_available() else ("interpret", "cpu")


def cpu_available() -> bool:
    """Numba is importable. Asked on its own by backend="auto", which picks the CPU whenever it
    can: the CUDA probe behind available_backends imports numba.cuda, about 2 s of a cold call."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def cuda_available() -> bool:
    """numba-cuda is installed and can run kernels here: on a GPU, or under the
    CUDA simulator where NUMBA_ENABLE_CUDASIM=1 or LOOPTRACE_CUDA_SIM=1 allow it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("numba-cuda")
    except PackageNotFoundError:
        return False
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or os.environ.get("LOOPTRACE_CUDA_SIM") == "1":
        return True
    return _cuda_device()


@functools.lru_cache(maxsize=1)
def _cuda_device() -> bool:
    from looptrace.codegen.cuda import runtime  # imports numba.cuda: seconds, once

    return runtime.device_available()
