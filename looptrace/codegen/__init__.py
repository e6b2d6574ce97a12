"""Code generation, by target.

  target.py    the seam: `Target`, the kinds of lowering rule, `Runner`
  planning/    what every target shares: the fusion plan, ownership and last
               uses, memory sharing, the block walker (reads primitive
               traits, writes no text)
  reference.py the NumPy interpreter of the IR (backend="interpret"), the
               reference every other target is tested against
  cpu/         the Numba CPU target (backend="cpu")

A target's package builds one `Target` object named TARGET; `get_target`
imports it on first use, so a machine without Numba still runs the
interpreter.
"""
from __future__ import annotations

import importlib

from .target import Target

_PACKAGES = {"interpret": "looptrace.codegen.reference", "cpu": "looptrace.codegen.cpu"}


def get_target(name: str) -> Target:
    if name not in _PACKAGES:
        raise NotImplementedError(f"the {name!r} backend is not built yet; use backend='cpu' or 'interpret'")
    return importlib.import_module(_PACKAGES[name]).TARGET


def target_names() -> tuple[str, ...]:
    return tuple(_PACKAGES)


def available_backends() -> tuple[str, ...]:
    """Backends this installation can run ("auto" picks "cpu" when listed)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return ("interpret",)
    return ("interpret", "cpu")
