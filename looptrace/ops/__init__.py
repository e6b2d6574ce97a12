"""Primitives, one module per family; importing this registers them all."""
from . import check, control, creation, elementwise, indexing, linalg, random, reduce, shape  # noqa: F401
from . import scan  # noqa: F401  (linear recurrences and product chains without a loop)
from .registry import NOT_DIFFERENTIABLE, PRIMITIVES, Primitive, ShapeMismatch, get  # noqa: F401
