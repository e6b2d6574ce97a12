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

import weakref
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
    """The ghost of tracer `t`: its own for a view and for an argument that
    is not C-ordered (`arg_ghost`), a C-ordered one for any other array."""
    if t.base is None and t.ghost is None:
        return c_ghost(t.shape)
    return t.ghost


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


# --- arguments whose memory order decides a reshape ---
# NumPy's reshape of a Fortran-ordered or strided array may copy where that
# of a C-ordered one is a view (x.reshape(-1) of x.T passed in). An argument's
# ghost (and an array's read from outside) has the strides of the array the
# trace is made for (`pattern`, `arg_ghost`). The difference shows only
# through a write: into the view, or into the argument while the view is
# still held. Each reshape of an argument is watched (weakly: a view nothing
# holds any more sees no later write); such a write records that the program
# holds for that argument's layout only (TraceState.layout_args,
# Program.layout_args: the argument's position, or ("implicit", k) for an
# array read from outside, a global's -> (the reshape's line, the pattern)),
# and api.py keys the argument's layout and traces again for another
# (JitFunction._layout_sensitive, `holds`).
def pattern(x: Any) -> tuple | None:
    """The layout a trace is made for: None for a C-ordered array (and for
    what is not a NumPy array), else its strides in elements (0 on unit
    axes, whose stride NumPy ignores)."""
    if not isinstance(x, np.ndarray) or x.ndim == 0 or x.flags.c_contiguous:
        return None
    size = x.itemsize or 1
    return tuple(0 if d == 1 else s // size for s, d in zip(x.strides, x.shape))


def arg_ghost(x: Any) -> np.ndarray | None:
    """The ghost of array argument `x` where it is not C-ordered (None: C)."""
    p = pattern(x)
    return None if p is None else _ghost(tuple(x.shape), p)


def holds(layout_args: dict, values: list, extra: tuple = ()) -> bool:
    """Do the arrays a program was traced for (Program.layout_args) have
    the layouts it was traced for?"""
    for argi, (_, want) in layout_args.items():
        v = extra[argi[1]] if isinstance(argi, tuple) else values[argi]
        if pattern(v) != want:
            return False
    return True


def _root(t: Any) -> Any:
    while t.base is not None:
        t = t.base
    return t


def _order_free(shape_before: tuple, shape_after: tuple) -> bool:
    """A reshape that only adds or drops unit axes: a view in every layout."""
    return [d for d in shape_before if d != 1] == [d for d in shape_after if d != 1]


def watch(made: Any, base: Any) -> None:
    """`made`, a reshape of `base` (a view, or a copy where NumPy copies a
    C-ordered array): watched if base is (a view of) an argument and
    another memory order could make NumPy decide otherwise. A write into
    the argument or into a copy (its own box) then records the argument."""
    from . import context as ctx

    st = ctx.state()
    root = _root(base)
    argi = st.arg_boxes.get(id(root._box)) if root._box is not None else None
    if argi is None and root._box is not None and st.externals is not None:  # a global's array, say
        argi = next((("implicit", k) for k, (_, kind, t, _) in enumerate(st.externals.implicit)
                     if kind == "array" and t._box is root._box), None)
    if argi is None or _order_free(tuple(base.shape), tuple(made.shape)):
        return
    entry = (weakref.ref(made), argi, ctx.current_loc(), _pattern_of(root))
    st.layout_views.setdefault(id(root._box), []).append(entry)
    if made.base is None:
        st.layout_views.setdefault(id(made._box), []).append(entry)


def decides(base: Any) -> None:
    """What NumPy returns for `base` is decided by its memory layout (the
    array itself or a copy: np.ascontiguousarray): where base is (a view of)
    an argument, the program holds for the argument's layout only."""
    from . import context as ctx

    st = ctx.state()
    root = _root(base)
    argi = st.arg_boxes.get(id(root._box)) if root._box is not None else None
    if argi is None and root._box is not None and st.externals is not None:
        argi = next((("implicit", k) for k, (_, kind, t, _) in enumerate(st.externals.implicit)
                     if kind == "array" and t._box is root._box), None)
    if argi is not None:
        st.layout_args.setdefault(argi, (ctx.current_loc(), _pattern_of(root)))


def contiguous(t: Any, order: str) -> bool:
    """Is tracer t laid out in `order` ("C" or "F") as NumPy would have it
    (an array of unknown layout counts as not)? Records the dependence."""
    g = ghost_of(t)
    decides(t)
    if g is None:
        return False
    return bool(g.flags.c_contiguous if order == "C" else g.flags.f_contiguous)


def written(box: Any) -> None:
    """`box` is written (an argument's, or a watched copy's): the watched
    reshapes of it still held decide the program for the layout traced."""
    from . import context as ctx

    st = ctx.state()
    for ref, argi, loc, layout in st.layout_views.get(id(box), ()):
        if ref() is not None:
            st.layout_args.setdefault(argi, (loc, layout))


def _pattern_of(root: Any) -> tuple | None:
    """The pattern an argument's tracer was made with (None: C order)."""
    g = root.ghost
    if g is None:
        return None
    return tuple(0 if d == 1 else s for s, d in zip(g.strides, g.shape))
