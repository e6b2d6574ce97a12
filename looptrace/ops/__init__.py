"""Primitives, one module per family; importing this registers them all."""
from . import control, creation, elementwise, indexing, linalg, random, reduce, shape  # noqa: F401
from .registry import NOT_DIFFERENTIABLE, PRIMITIVES, Primitive, ShapeMismatch, get  # noqa: F401
