"""User-facing error classes. Each message leads with the problem, then the
user's file, line and source text, then a hint."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # an error names a SourceLoc; the IR's verifier raises these errors
    from looptrace.ir.core import SourceLoc


class LooptraceError(Exception):
    """Base class of every error looptrace raises about a user's program."""

    def __init__(self, message: str, loc: SourceLoc | None = None, hint: str = ""):
        self.problem = message
        self.loc = loc
        self.hint = hint
        super().__init__(format_message(message, loc, hint))


class ShapeError(LooptraceError, ValueError):
    """Shapes that do not fit, found while tracing. A ValueError too, as
    NumPy's own errors for them are (operands that do not broadcast, a
    reduction of an empty axis, an einsum whose operands do not match), so
    `except ValueError` catches it as it catches NumPy's."""


class UnsupportedError(LooptraceError):
    """A construct or NumPy function looptrace does not compile."""


class SliceOverrunError(UnsupportedError, IndexError):
    """At run time, a traced slice `x[s:s + k]` that runs past the end of its
    axis: NumPy would shorten it, looptrace keeps its static length. Not the
    user's error (the plain function runs) but looptrace's limit, so an
    UnsupportedError; an IndexError too, as the same check raises for an
    index out of range (`index_error_class`)."""


class BigIntError(UnsupportedError, OverflowError):
    """At run time, a Python int result past 64 bits (or an int() of a float
    there): plain Python makes a big integer, looptrace's compiled code holds
    int64. looptrace's limit, so an UnsupportedError (caught with the other
    looptrace errors); an OverflowError too, the class Python's own int
    conversions raise past a type's range."""


def index_error_class(i: int, n: int, size: int = 1) -> type:
    """The class of the run-time error for start (or index) i out of range
    on an axis of n: SliceOverrunError for a window that starts inside the
    axis and runs past its end (NumPy would shorten it: looptrace's limit),
    else IndexError (NumPy raises too). Used by every backend's check."""
    return SliceOverrunError if size != 1 and 0 <= i <= n else IndexError


class TraceError(LooptraceError):
    """Anything else wrong with the traced program."""


class TraceTypeError(TraceError, TypeError):
    """An operation NumPy refuses for its operands' types (`-b` or `b - c` of
    bool arrays, `a /= 2` of an int array: NumPy's TypeError, or its
    UFuncTypeError): a TraceError, and a TypeError too, so that a user's
    `except TypeError` catches ours as it catches NumPy's."""


class TraceIndexError(TraceError, IndexError):
    """An index NumPy refuses for its type (`x[i / 2]`, a float): a
    TraceError, and an IndexError too, NumPy's class for it."""


class ConcreteIndexError(TraceError):
    """A traced value is used where Python needs a concrete integer."""


class ReplayNeeded(LooptraceError):
    """Compiled code reached a `raise` (or a failed `assert`) whose exception
    is built from run-time values looptrace cannot format (`f"bad value
    {x[i]} at {i}"`): the jitted function's caller runs the plain function on
    the same arguments, which raises the exception itself (api.py)."""


class UnrollWarning(UserWarning):
    """A Python-level loop that looptrace unrolls while tracing ran long."""


class InternalError(LooptraceError):
    """A looptrace bug: please report it with the message and the IR."""


def format_message(message: str, loc: SourceLoc | None, hint: str = "") -> str:
    lines = [message]
    if loc is not None and loc.line > 0:
        lines.append(f'  File "{loc.file}", line {loc.line}')
        if loc.text:
            stripped = loc.text.strip()
            lines.append(f"    {stripped}")
            lines.append("    " + "^" * len(stripped))
    if hint:
        lines.append(f"hint: {hint}")
    return "\n".join(lines)
