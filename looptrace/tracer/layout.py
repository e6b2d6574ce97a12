"""Which views NumPy makes: a view's *ghost*, a NumPy array of the view's
shape and of strides in the same proportions (a C-ordered root of one-byte
elements, on a one-byte buffer that is never read), made by the same basic
indexing, transposes and reshapes. NumPy itself then says whether a reshape
of the view is a view (`np.reshape(ghost, shape, copy=False)` succeeds) or
a copy: `X.T.reshape(-1)` is a copy, which does not see later writes to `X`
and cannot be written through; `X[1:].reshape(-1)` is a view.

A ghost of None means the layout is not followed (an axis of a run-time
length): the view is then taken for one, as before ghosts."""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from looptrace.ir.core import Dim

_BUFFER = np.zeros(1, np.uint8)


def _ghost(shape: tuple, strides: tuple) -> np.ndarray | None:
    if any(isinstance(d, Dim) for d in shape):
        return None
    return as_strided(_BUFFER, tuple(int(d) for d in shape), tuple(int(s) for s in strides), writeable=False)


def c_ghost(shape: tuple) -> np.ndarray | None:
    strides, step = [], 1
    for d in reversed(shape):
        strides.insert(0, step)
        step *= d if not isinstance(d, Dim) else 1
    return _ghost(shape, tuple(strides))


def ghost_of(t: Any) -> np.ndarray | None:
    """The ghost of tracer `t`: its own for a view, a C-ordered one for an array."""
    return c_ghost(t.shape) if t.base is None else t.ghost


def indexed(parent: np.ndarray | None, items: list) -> np.ndarray | None:
    """The ghost of parent[key], from the key's parsed items (tracer/indexing.py
    Item): a traced start moves the view, which changes no stride."""
    if parent is None or sum(1 for it in items if it.kind != "new") != parent.ndim:
        return None
    shape, strides = [], []
    for it in items:
        if it.kind == "new":
            shape.append(1), strides.append(0)
        elif it.kind in ("slice", "dslice"):
            shape.append(it.size), strides.append(parent.strides[it.axis] * (it.step if it.kind == "slice" else 1))
        elif it.kind not in ("int", "dyn"):
            return None
    return _ghost(tuple(shape), tuple(strides))


def transposed(parent: np.ndarray | None, axes) -> np.ndarray | None:
    return None if parent is None else parent.transpose(axes)


def reshaped(parent: np.ndarray | None, shape: tuple) -> tuple[bool, np.ndarray | None]:
    """(whether NumPy's reshape of the view copies, the ghost of the result)."""
    if parent is None:
        return False, None
    try:
        return False, np.reshape(parent, shape, copy=False)
    except ValueError:
        flat = as_strided(_BUFFER, parent.shape, (0,) * parent.ndim, writeable=False)
        try:
            np.reshape(flat, shape, copy=False)  # any valid shape: a copy is needed
        except ValueError:
            return False, None  # a shape that does not fit: the reshape itself says so
        return True, None
