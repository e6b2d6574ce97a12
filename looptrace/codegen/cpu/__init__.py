"""The Numba CPU target (see kernel.py)."""
from .kernel import CpuKernel, compile_program  # noqa: F401
