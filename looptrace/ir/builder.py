"""Op builders: emit primitives by name, either into an IR op list or eagerly.

Invariant: `IRBuilder.op` appends one well-typed `Op` (output types from the
primitive's shape rule) and returns its output Value(s); `EagerBuilder.op`
runs the primitive's NumPy implementation on arrays instead. Batching rules
are written against this one interface, so the same rule builds IR in the
vectorizer and runs eagerly in tests.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.ir.core import UNKNOWN_LOC, Op, SourceLoc, Value, literal
from looptrace.ops.registry import PRIMITIVES, Primitive


def _prim(name: str | Primitive) -> Primitive:
    return name if isinstance(name, Primitive) else PRIMITIVES[name]


class IRBuilder:
    """Appends ops to `self.ops`; `loc` is stamped on every op it makes."""

    def __init__(self, loc: SourceLoc = UNKNOWN_LOC, axis_size: Any = None):
        self.ops: list[Op] = []
        self.loc = loc
        self.axis_size = axis_size

    def const(self, x: Any, dtype: Any = None) -> Value:
        return literal(x, dtype)

    def op(self, name: str | Primitive, *inputs: Value, **attrs: Any) -> Any:
        prim = _prim(name)
        inputs = tuple(v if isinstance(v, Value) else literal(v) for v in inputs)
        avals = prim.abstract(*inputs, **attrs)
        outs = tuple(Value(np.dtype(d) if isinstance(d, (str, type)) else d, tuple(s)) for d, s in avals)
        self.ops.append(Op(prim, inputs, outs, dict(attrs), self.loc))
        return outs if prim.multiple_results else outs[0]


class EagerBuilder:
    """Runs each primitive's implementation at once (values are arrays)."""

    def __init__(self, axis_size: Any = None):
        self.axis_size = axis_size

    def const(self, x: Any, dtype: Any = None) -> np.ndarray:
        return np.asarray(x, dtype=dtype)

    def op(self, name: str | Primitive, *inputs: Any, **attrs: Any) -> Any:
        prim = _prim(name)
        out = prim.impl(*inputs, **attrs)
        return tuple(out) if prim.multiple_results else np.asarray(out)
