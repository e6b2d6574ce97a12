"""`with` statements in converted code.

The converted function runs once, while tracing: a context manager's
`__enter__` and `__exit__` would run then, and never when the compiled
function is called (a timer's `__exit__` never records a time on a later
call; a lock is never taken). So each `with` item goes through `entered`
(convert.py wraps it: `with __lt.with_(expr) as v:`), which passes on
only the context managers whose meaning the compiled program keeps:

- `np.errstate(...)` whose modes are "ignore" or "warn": compiled code
  neither warns nor raises on floating-point flags, so these change
  nothing. A mode "raise" (or "call", "print", "log") would make NumPy
  raise FloatingPointError where an operation sets the flag, which compiled
  code does not check: refused.
- `contextlib.suppress(E, ...)`: `try: ... except E: pass` (`Suppressing`),
  with a `try`'s rules (tracer/checks.py `try_block`): an operation inside
  that may raise E at run time is refused (compiled code cannot jump out of
  the block), an exception raised while tracing (a Python value's) is
  suppressed as Python suppresses it.
- `np.printoptions(...)`: a print inside takes its options while tracing
  (tracer/printing.py).
- `contextlib.nullcontext(v)`, and looptrace's own objects (`np.nditer`).

Anything else is refused at the `with` line (UnsupportedError).
"""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from looptrace.errors import LooptraceError, UnsupportedError

from . import context as ctx
from .checks import try_block

_ERRSTATE_MODES = ("all", "divide", "over", "under", "invalid")
_QUIET = (None, "ignore", "warn")


def entered(manager: Any) -> Any:
    """The context manager a converted `with` item uses instead of `manager`."""
    if not ctx.tracing():
        return manager
    if isinstance(manager, np.errstate):
        _check_errstate(manager)
        return manager
    if isinstance(manager, contextlib.suppress):
        return Suppressing(tuple(manager._exceptions))
    if isinstance(manager, contextlib.nullcontext) or _looptraces(manager) or _print_options(manager):
        return manager
    raise UnsupportedError(
        f"`with` over {_described(manager)} is not supported: looptrace runs the function once, when it "
        "traces it, so its __enter__ and __exit__ would run then and never when the compiled function is "
        "called", ctx.current_loc(),
        "move the `with` outside the jitted function (around the call); inside, only np.errstate(...) "
        "with \"ignore\"/\"warn\", np.printoptions(...), contextlib.suppress(...) and contextlib.nullcontext() "
        "are supported")


def _print_options(manager: Any) -> bool:
    """`np.printoptions(...)`: the prints inside take their options while tracing (tracer/printing.py)."""
    return getattr(manager, "func", None) is getattr(np.printoptions, "__wrapped__", np.printoptions)


def _looptraces(manager: Any) -> bool:
    return (type(manager).__module__ or "").startswith("looptrace.")


def _described(manager: Any) -> str:
    cls = type(manager)
    mod = cls.__module__
    name = cls.__qualname__ if mod in (None, "builtins", "__main__") else f"{mod}.{cls.__qualname__}"
    return f"a {name} object"


def _check_errstate(manager: np.errstate) -> None:
    modes = getattr(manager, "kwargs", None)  # (NumPy 1.x keeps the keywords; 2.x one slot each)
    if modes is None:
        modes = {k: getattr(manager, f"_{k}", None) for k in (*_ERRSTATE_MODES, "call")}
        if not callable(modes["call"]) and not hasattr(modes["call"], "write"):  # (a sentinel: not given)
            modes["call"] = None
    bad = {k: v for k, v in modes.items() if k != "call" and v not in _QUIET}
    if modes.get("call") is not None:
        bad["call"] = modes["call"]
    if not bad:
        return
    k, v = next(iter(bad.items()))
    raise UnsupportedError(
        f"np.errstate({k}={v!r}) inside a jitted function is not supported: compiled code does not check "
        "floating-point flags, so it would not raise FloatingPointError (or call the handler) where NumPy "
        "does", ctx.current_loc(),
        "test the operands explicitly (`if np.any(d == 0): raise FloatingPointError(...)`), or call the "
        "jitted function inside the errstate block and check np.isfinite on its result")


class Suppressing:
    """`with contextlib.suppress(*classes):` while tracing: the body is traced
    as the body of `try: ... except classes: pass` is."""

    def __init__(self, classes: tuple):
        self.classes = classes
        names = ", ".join(c.__name__ for c in classes)
        self.block = try_block(lambda: classes, f"a `with contextlib.suppress({names})` that suppresses it")

    def __enter__(self) -> None:
        self.block.__enter__()

    def __exit__(self, cls, exc, tb) -> bool:
        self.block.__exit__(cls, exc, tb)
        if exc is None or isinstance(exc, LooptraceError) or (type(exc).__module__ or "").startswith("looptrace."):
            return False  # (looptrace's own errors are never the user's to catch: checks.passthrough)
        return issubclass(cls, self.classes)
