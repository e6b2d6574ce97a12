"""The one way to make ops: a builder that stamps the source location.

Invariant: `IRBuilder.op` appends one well-typed `Op` (output types from the
primitive's shape rule) carrying the builder's `loc`, and returns its output
Value(s); `IRBuilder.region` appends a region op whose outputs come from its
blocks. A pass that rewrites an op builds with `IRBuilder(op.loc)` (or
`derived(op)`), or copies the op with `rebuilt(op, ...)`, so no source location
is ever copied by hand. `EagerBuilder.op` runs the primitive's NumPy
implementation on arrays instead; batching and VJP rules are written against
this one interface, so the same rule builds IR in a pass and runs eagerly in
tests.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from looptrace.ir.core import UNKNOWN_LOC, Block, Op, SourceLoc, Value, literal
from looptrace.ir.primitive import PRIMITIVES, Primitive


def _prim(name: str | Primitive) -> Primitive:
    return name if isinstance(name, Primitive) else PRIMITIVES[name]


def _typed(dtype: Any) -> Any:
    return np.dtype(dtype) if isinstance(dtype, (str, type)) else dtype


class IRBuilder:
    """Appends ops to `self.ops`; `loc` is stamped on every op it makes."""

    def __init__(self, loc: SourceLoc = UNKNOWN_LOC, axis_size: Any = None, ops: list[Op] | None = None):
        self.ops: list[Op] = [] if ops is None else ops
        self.loc = loc
        self.axis_size = axis_size

    def const(self, x: Any, dtype: Any = None) -> Value:
        return literal(x, dtype)

    def op(self, name: str | Primitive, *inputs: Value, **attrs: Any) -> Any:
        prim = _prim(name)
        inputs = tuple(v if isinstance(v, Value) else literal(v) for v in inputs)
        avals = prim.abstract(*inputs, **attrs)
        outs = tuple(Value(_typed(d), tuple(s)) for d, s in avals)
        self.ops.append(Op(prim, inputs, outs, dict(attrs), self.loc))
        return outs if prim.multiple_results else outs[0]

    def op_into(self, name: str | Primitive, inputs: tuple, outputs: tuple, **attrs: Any) -> Op:
        """An op whose output Values are given (an existing value is redefined
        by a rewrite); their types must match the shape rule's."""
        prim = _prim(name)
        op = Op(prim, tuple(inputs), tuple(outputs), dict(attrs), self.loc)
        self.ops.append(op)
        return op

    def region(self, name: str | Primitive, inputs: tuple, outputs: tuple, blocks: tuple[Block, ...],
               **attrs: Any) -> Op:
        """A region op (loop, conditional): its outputs are typed by its blocks."""
        op = Op(_prim(name), tuple(inputs), tuple(outputs), dict(attrs), self.loc, tuple(blocks))
        self.ops.append(op)
        return op


def derived(op: Op, ops: list[Op] | None = None) -> IRBuilder:
    """A builder for ops that replace `op`: they carry its source location."""
    return IRBuilder(op.loc, ops=ops)


def rebuilt(op: Op, **changes: Any) -> Op:
    """A copy of `op` with some fields replaced (inputs, outputs, attrs,
    blocks); the primitive and source location stay."""
    if "attrs" in changes:
        changes["attrs"] = dict(changes["attrs"])
    return dataclasses.replace(op, **changes)


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
