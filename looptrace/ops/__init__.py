"""Primitives, one module per family; importing this registers them all."""
from . import control, creation, elementwise, indexing, linalg, random, reduce, shape  # noqa: F401
from . import scan  # noqa: F401  (linear recurrences and product chains without a loop)
from . import sort  # noqa: F401  (sort, argsort)
from .registry import NOT_DIFFERENTIABLE, PRIMITIVES, Primitive, ShapeMismatch, get  # noqa: F401
