"""The primitive registry: one record per primitive with every target-neutral rule.

A `Primitive` is defined once, in the module of its family, with its
shape/dtype rule (`abstract`), NumPy implementation (`impl`), batching rule
(`batch`), VJP rule (`vjp`, or NOT_DIFFERENTIABLE) and its *traits*: the
facts every stage asks of a primitive instead of keeping lists of names
(whether it is elementwise, fusible into a loop nest, a reduction and with
what identity, a view, a fresh allocation, cheap, effectful, whether it may
raise on bad data).

Lowerings are not here: each target registers its own rule per primitive in
its folder under `looptrace/codegen/` (see codegen/target.py), so nothing in
`ops/` imports `codegen/`. `tests/ops/test_registry.py` fails when a rule is
missing, and `tests/codegen/test_lowering_completeness.py` compiles every
primitive on every target.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

NOT_DIFFERENTIABLE = "not differentiable"


class ShapeMismatch(Exception):
    """Raised by a shape rule; the tracer turns it into a user-facing ShapeError."""


@dataclass(frozen=True, slots=True)
class Reduction:
    """A fold of elements: `combine` is the binary elementwise primitive that
    folds two elements, `identity(acc_dtype)` the value the fold starts from.
    `axes(op)` gives the folded input axes of one op (None when this op is
    not a fold, e.g. an einsum that is a real matrix product); the folded
    term at each position is the product of the op's inputs there. float32
    sums and products accumulate in float64 and round once (`acc_dtype`)."""

    combine: str
    identity: Callable[[np.dtype], Any]
    axes: Callable[[Any], tuple[int, ...] | None]
    result_dtype: Callable[[np.dtype], np.dtype]

    def acc_dtype(self, dtype) -> np.dtype:
        out = self.result_dtype(np.dtype(dtype))
        if self.combine in ("add", "multiply") and out == np.float32:
            return np.dtype(np.float64)
        return out

    def start(self, op, acc) -> Any:
        """The value the fold of `op` starts from in accumulator dtype `acc`:
        the identity, or -0.0 for a float sum marked `from_negative_zero` (the
        vectorizer's sum of a loop's terms, vectorize/loop_rewrite.py
        `_final_reduction`: `s = -0.0; s += x[t]` over terms all -0.0 is -0.0
        in Python, and `init + sum` keeps it only if the sum is -0.0; -0.0 is
        the exact identity of float addition, so no other sum changes)."""
        if op.attrs.get("from_negative_zero") and np.dtype(acc).kind == "f":
            return np.dtype(acc).type(-0.0)
        return self.identity(acc)


@dataclass(slots=True, eq=False)
class Primitive:
    name: str
    family: str
    # abstract(*in_avals, **attrs) -> list of (dtype, shape); an aval is a
    # Value-like object with .dtype and .shape.
    abstract: Callable[..., list[tuple[Any, tuple]]]
    # impl(*arrays, **attrs) -> array, or tuple of arrays (multiple_results)
    impl: Callable[..., Any] | None
    multiple_results: bool = False
    batch: Callable | None = None
    vjp: Any = None  # a callable, or NOT_DIFFERENTIABLE
    doc: str = ""
    extra: dict = field(default_factory=dict)
    # --- traits -------------------------------------------------------------------------
    region: bool = False  # owns body blocks (loops, conditionals)
    effectful: bool = False  # consumes/produces a state token (random draws)
    elementwise: bool = False  # out[i] = f(x[i], y[i], ...) under NumPy broadcasting
    # computed element by element inside a consumer's loop nest (elementwise ops,
    # broadcast_to, iota; a reduction fuses when its `axes` says it is a fold)
    fusible: bool = False
    reduction: Reduction | None = None
    view: bool = False  # the output may share the memory of the first input
    fresh: bool = False  # the output is always newly allocated, never an input's memory
    cheap: bool = False  # about one instruction per element: a nest of these is memory-bound
    may_raise: bool = False  # raises at run time on bad data (an index out of bounds)
    # exists to raise the user's exception at run time (ops/check.py): never dropped
    # as dead, never moved to where it could run when the plain function would not
    raises: bool = False

    def __repr__(self) -> str:
        return self.name


PRIMITIVES: dict[str, Primitive] = {}


def register(prim: Primitive) -> Primitive:
    if prim.name in PRIMITIVES:
        raise ValueError(f"primitive {prim.name!r} registered twice")
    if prim.elementwise:
        prim.fusible = True
    PRIMITIVES[prim.name] = prim
    return prim


def get(name: str) -> Primitive:
    return PRIMITIVES[name]


# --- questions about one op, answered from its primitive's traits -------------------------------
def folded_axes(op) -> tuple[int, ...] | None:
    """The input axes this op folds, when it is a reduction (a fold)."""
    red = op.prim.reduction
    return red.axes(op) if red is not None else None


def is_fusible(op) -> bool:
    """Can this op's element be computed inside a loop nest (its own or a consumer's)?"""
    if op.prim.region or len(op.outputs) != 1:
        return False
    if op.prim.reduction is not None:
        return folded_axes(op) is not None
    return op.prim.fusible


def reducer_of(combine: str) -> Primitive:
    """The reduction primitive that folds with the binary primitive `combine`
    (add -> reduce_sum, maximum -> reduce_max, ...)."""
    for p in PRIMITIVES.values():
        if p.family == "reduce" and p.reduction is not None and p.reduction.combine == combine:
            return p
    raise KeyError(f"no reduction folds with {combine!r}")


def monoids() -> set[str]:
    """The binary primitives some reduction folds with."""
    return {p.reduction.combine for p in PRIMITIVES.values() if p.family == "reduce" and p.reduction}
