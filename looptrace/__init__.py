"""looptrace: a JIT compiler for the loops people write in plain Python + NumPy."""
import warnings as _warnings

from looptrace import ops as _ops  # noqa: F401  (registers the primitives)
from looptrace import tracer as _tracer  # noqa: F401
from looptrace import pipeline as _pipeline  # noqa: F401  (the passes)
from looptrace.api import Explanation, JitFunction, LoopReport, eval_shape, explain, jit
from looptrace.autodiff.api import grad, value_and_grad, vjp
from looptrace.errors import (BigIntError, InternalError, LooptraceError, ShapeError, SliceOverrunError, TraceError,
                              TraceIndexError, TraceTypeError, UnrollWarning, UnsupportedError)

# Numba warns that an object-mode block holds the GIL in a nogil function
# each time it compiles one, and it compiles a kernel's block at its first
# run: the whole-array sorts of codegen/cpu/sort.py are such blocks, meant to
# hold it (the rest of the kernel runs without the GIL).
_warnings.filterwarnings("ignore", message=r"(?s).*Code running in object mode won't allow parallel execution "
                         r"despite nogil")

__version__ = "0.1.0"
__all__ = ["jit", "grad", "value_and_grad", "vjp", "eval_shape", "explain", "Explanation", "LoopReport", "JitFunction",
           "LooptraceError", "ShapeError", "UnsupportedError", "TraceError", "InternalError", "UnrollWarning",
           "SliceOverrunError", "BigIntError", "TraceTypeError", "TraceIndexError"]
