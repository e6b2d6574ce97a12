"""What the cuda emitter knows about a value: where it lives, and small facts about ops.

A value's location is one of
  HostScalar  a NumPy scalar in a host variable of the host function
  Lit         a constant's source text
  Reg         a scalar register of the persistent kernel being written
  RngLoc      a NumPy Generator (draws run on the host)
  Access      an array or 0-d value in device memory (access.py)
This module imports no other part of the target, so every part may use it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from looptrace.ir.core import RNG, Op, Value


@dataclass(frozen=True)
class HostScalar:
    name: str
    dtype: np.dtype


@dataclass(frozen=True)
class Reg:
    name: str
    dtype: np.dtype


@dataclass(frozen=True)
class Lit:
    text: str
    dtype: np.dtype


@dataclass(frozen=True)
class RngLoc:
    name: str


def index_range(start: Value, stop: Value, step: Value) -> tuple[int, int] | None:
    """(min, max) of a counted loop's index when its bounds are constants and it runs."""
    if any(v.const is None for v in (start, stop, step)):
        return None
    r = range(int(start.const), int(stop.const), int(step.const))
    return (min(r[0], r[-1]), max(r[0], r[-1])) if len(r) else None


def shift_range(em: Any, op: Op) -> None:
    """Range facts through `i + c` and `i - c` (i a known integer, c a constant)."""
    if op.prim.name not in ("add", "subtract") or op.out.dtype.kind not in "iu":
        return
    a, b = op.inputs
    if a.id in em.ranges and b.const is not None:
        c = int(b.const) * (1 if op.prim.name == "add" else -1)
        lo, hi = em.ranges[a.id]
        em.ranges[op.out.id] = (lo + c, hi + c)
    elif b.id in em.ranges and a.const is not None and op.prim.name == "add":
        lo, hi = em.ranges[b.id]
        em.ranges[op.out.id] = (lo + int(a.const), hi + int(a.const))


def cast_to(expr: str, dtype: Any) -> str:
    """`expr` converted to `dtype` in device (or host) code."""
    return f"np.{np.dtype(dtype).name}({expr})"


def is_array(v: Value) -> bool:
    return v.dtype != RNG and v.ndim > 0
