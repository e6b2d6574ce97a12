"""The primitive registry: one record per primitive with every stage's rule.

A `Primitive` is defined once, in the module of its family, with its
shape/dtype rule (`abstract`) and NumPy implementation (`impl`). Later stages
attach their rule to the same record (`batch`, `vjp`, `lower_cpu`,
`lower_cuda`); `tests/ops/test_registry.py` fails when a rule is missing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

NOT_DIFFERENTIABLE = "not differentiable"


class ShapeMismatch(Exception):
    """Raised by a shape rule; the tracer turns it into a user-facing ShapeError."""


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
    region: bool = False  # owns body blocks (loops, conditionals)
    effectful: bool = False  # consumes/produces a state token (random draws)
    # may raise the user's exception at run time (ops/check.py): never dropped as dead,
    # never moved to where it could run when the plain function would not
    raises: bool = False
    batch: Callable | None = None
    vjp: Any = None  # a callable, or NOT_DIFFERENTIABLE
    lower_cpu: Any = None
    lower_cuda: Any = None
    doc: str = ""
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return self.name


PRIMITIVES: dict[str, Primitive] = {}


def register(prim: Primitive) -> Primitive:
    if prim.name in PRIMITIVES:
        raise ValueError(f"primitive {prim.name!r} registered twice")
    PRIMITIVES[prim.name] = prim
    return prim


def get(name: str) -> Primitive:
    return PRIMITIVES[name]
