"""NumPy's own exception classes for what the tracer refuses as NumPy does.

A result a ufunc cannot cast into its output (`b *= 3` of a bool array,
`np.clip(k, 0.5, 1.5, out=k)` of an int array) is NumPy's
`_UFuncOutputCastingError` (shown as `numpy.UFuncTypeError`). The tracer
raises an error of a class derived from both that class and TraceTypeError:
an `except` clause written for NumPy's error catches it, and its message
names the user's line as every looptrace error does.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import LooptraceError, ShapeError, TraceError, TraceTypeError, format_message

from . import context as ctx

# the ufunc NumPy names in the error of each function that is not itself a ufunc
_UFUNC_OF = {"clip": "clip", "outer": "multiply", "round": "rint", "around": "rint"}


def _output_casting_class() -> type:
    try:
        np.add(np.ones(1), 0.5, out=np.empty(1, np.int64))
    except TypeError as e:
        return type(e)
    return TypeError


_NUMPY_CLASS = _output_casting_class()


class UfuncOutputCastingError(TraceTypeError, _NUMPY_CLASS):
    """NumPy's error for a ufunc result that does not cast same_kind into its output, at the user's line."""

    def __init__(self, ufunc: np.ufunc, from_: Any, to: Any, loc=None, hint: str = ""):
        self.ufunc, self.casting, self.out_i = ufunc, "same_kind", 0
        self.from_, self.to = np.dtype(from_), np.dtype(to)
        message = (f"Cannot cast ufunc {ufunc.__name__!r} output from {self.from_!r} to {self.to!r} "
                   "with casting rule 'same_kind'")
        self.problem, self.loc, self.hint = message, loc, hint
        Exception.__init__(self, format_message(message, loc, hint))  # (not NumPy's __init__: its arguments differ)

    __str__ = LooptraceError.__str__  # (not NumPy's, which formats its own message without the line)


class AxisError(ShapeError, np.exceptions.AxisError):
    """NumPy's AxisError (a ValueError and an IndexError) for an axis past an array's dimensions, at the user's line."""

    def __init__(self, axis: int, ndim: int, loc=None, hint: str = ""):
        self.axis, self.ndim, self._msg = axis, ndim, None
        message = f"axis {axis} is out of bounds for array of dimension {ndim}"
        self.problem, self.loc, self.hint = message, loc, hint
        Exception.__init__(self, format_message(message, loc, hint))  # (not NumPy's __init__: its arguments differ)

    __str__ = LooptraceError.__str__  # (not NumPy's, which formats its own message without the line)


class LinAlgError(ShapeError, np.linalg.LinAlgError):
    """NumPy's LinAlgError (a ValueError) for an array np.linalg cannot take as a (square) matrix."""


class NumpyOverflowError(TraceError, OverflowError):
    """NumPy's OverflowError for a Python int its operand's dtype does not take (`b_bool[0] == 2**70`,
    `u8 ** -2`: NEP 50 converts the int to the array's dtype), at the user's line."""


class TruthValueError(TraceError, ValueError):
    """NumPy's ValueError for the truth value of an array of other than one element (`if a:`,
    `bool(a)`, `a and b`), at the user's line."""


def truth_value_error(size: int, loc) -> TruthValueError:
    if size == 0:
        return TruthValueError("The truth value of an empty array is ambiguous. Use `array.size > 0` to "
                               "check that an array is not empty.", loc)
    return TruthValueError("The truth value of an array with more than one element is ambiguous. Use "
                           "a.any() or a.all()", loc)


def shape_error(e: Exception, loc) -> ShapeError:
    """The user-facing error of a shape rule's ShapeMismatch: NumPy's AxisError for an axis out of
    bounds, its LinAlgError for an array that is not a (square) matrix, else a ShapeError."""
    from looptrace.ops.shape_arith import AxisOutOfBounds, LinAlgMismatch

    if isinstance(e, AxisOutOfBounds):
        return AxisError(e.axis, e.ndim, loc)
    return (LinAlgError if isinstance(e, LinAlgMismatch) else ShapeError)(str(e), loc)


def ufunc_of(name: str) -> np.ufunc | None:
    """The ufunc NumPy's casting error names for np.<name>, or None (NumPy raises a plain TypeError)."""
    uf = getattr(np, name, None)
    if isinstance(uf, np.ufunc):
        return uf
    name = _UFUNC_OF.get(name)
    if name is None:
        return None
    umath = getattr(getattr(np, "_core", None), "umath", None) or np.core.umath
    uf = getattr(umath, name, None)
    return uf if isinstance(uf, np.ufunc) else None


def output_casting_error(name: str, from_: Any, to: Any, hint: str = "") -> TraceTypeError:
    """The error np.<name> raises (at the user's line) for a result of dtype
    `from_` written into an output of dtype `to`."""
    uf = ufunc_of(name)
    loc = ctx.current_loc() if ctx.tracing() else None
    if uf is None or _NUMPY_CLASS is TypeError:
        return TraceTypeError(f"Cannot cast array data from {np.dtype(from_)!r} to {np.dtype(to)!r} according "
                              "to the rule 'same_kind'", loc, hint)
    return UfuncOutputCastingError(uf, from_, to, loc, hint)
