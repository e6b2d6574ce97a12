"""Shape arithmetic shared by the primitive families (with run-time `Dim`s)."""
from __future__ import annotations

from looptrace.ir.core import Dim
from looptrace.ir.primitive import ShapeMismatch


def fmt(shape: tuple) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def broadcast_shapes(*shapes: tuple) -> tuple:
    """NumPy broadcasting; a `Dim` matches only itself or 1."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(ndim):
        size: int | Dim = 1
        for s in shapes:
            d = s[axis - ndim + len(s)] if axis - ndim + len(s) >= 0 else 1
            if isinstance(d, int) and d == 1:
                continue
            if isinstance(size, int) and size == 1:
                size = d
            elif d is not size and d != size:
                raise ShapeMismatch(
                    "shapes " + " and ".join(fmt(s) for s in shapes) + " cannot be broadcast together"
                )
        out.append(size)
    return tuple(out)


class AxisOutOfBounds(ShapeMismatch):
    """An axis past an array's dimensions: the tracer raises it as NumPy's AxisError
    (a ValueError and an IndexError; tracer/numpy_errors.py)."""

    def __init__(self, axis: int, ndim: int):
        self.axis, self.ndim = axis, ndim
        super().__init__(f"axis {axis} is out of bounds for array of dimension {ndim}")


class LinAlgMismatch(ShapeMismatch):
    """A matrix that is not one (ndim < 2) or not square where np.linalg needs one: the tracer
    raises it as NumPy's LinAlgError (a ValueError; tracer/numpy_errors.py)."""


def normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise AxisOutOfBounds(axis, ndim)
    return axis % max(ndim, 1)


def size_of(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d.extent if isinstance(d, Dim) else d
    return n
