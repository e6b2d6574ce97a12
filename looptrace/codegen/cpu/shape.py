"""CPU rules of the shape primitives and of iota: reshape, transpose and
concatenate are statements; broadcast_to and iota are read element by element
inside a loop nest (`IndexRule`), so they are never stored."""
from __future__ import annotations

import numpy as np

from looptrace.codegen.planning.fusion import broadcast_index
from looptrace.codegen.target import IndexRule, StatementRule
from looptrace.ir.core import Dim
from looptrace.ops.shape import is_reshape_like

from .target import TARGET
from .text import cast


def _reshape_lower(em, op) -> None:
    x, v = em.plan.reshape_from.get(id(op), op.inputs[0]), op.out
    ds = em.plan.slice_into.get(id(op))
    if ds is not None:  # reshape(dynamic_slice(x, t)) dropping unit axes: x[t]
        em.dynamic_view(v, ds)
    elif v.ndim == 0:
        at = f"[{', '.join('0' * x.ndim)}]" if x.ndim and x.id not in em.elements else ""
        em.line(f"{em.name(v)} = {em.name(x)}{at}")
        em.define(v)
    elif x.id in em.elements:  # a one-element read held as its scalar (indexing.py)
        em.line(f"{em.name(v)} = filled({em.shape_text(v)}, {em.name(x)})")
        em.define(v, owned=True)
    elif x.ndim == 0 and em.scalar_rows.get(v.id) is x:
        return  # only stored as a loop's row: the store writes x (regions.py `_scalar_rows`)
    elif x.ndim == 0:
        em.line(f"{em.name(v)} = filled({em.shape_text(v)}, {em.name(x)})")
        em.define(v, owned=True)
    elif tuple(x.shape) == tuple(v.shape):
        em.line(f"{em.name(v)} = {em.name(x)}")
        em.define(v, alias_of=x)
    else:
        sizes = "".join(("-1" if isinstance(d, Dim) else str(d)) + ", " for d in v.shape)
        index = _unit_axes_index(tuple(x.shape), tuple(v.shape))
        root = _argument_root(em, x)
        if index is not None and root is not None:
            # only unit axes come or go in a view of an argument: a view where the argument is not
            # C-ordered by its type (templates.unit_axes), as before where it is
            em.line(f"{em.name(v)} = unit_axes({em.name(x)}, ({sizes}), {em.name(x)}[{index}], {root})")
        elif index is not None and _strided_slice(em, x):
            # a column of an array the kernel made: a strided view, as in NumPy. contiguous()
            # copied it (seir's np.argmax(out[:, 2]) on 30000 x 4: an allocation and a copy
            # per call, 40 us warm and 170 us with the caches cold, against njit's view)
            em.line(f"{em.name(v)} = {em.name(x)}[{index}]")
        else:
            em.line(f"{em.name(v)} = contiguous({em.name(x)}).reshape(({sizes}))")
        em.define(v, alias_of=x)


def _strided_slice(em, x) -> bool:
    """Is x a static slice whose elements are apart in its base: a step
    other than 1 on an axis it keeps more than one position of, or a part of
    an axis after an axis it keeps more than one position of? (contiguous()
    would copy it.)"""
    op = em.plan.producer.get(x.id)
    if op is None or op.prim.name != "slice":
        return False
    base, out = op.inputs[0].shape, x.shape
    if not all(isinstance(d, int) for d in (*base, *out)):
        return False
    steps = op.attrs["steps"]
    wide = False  # an earlier axis keeps more than one position
    for a, (b, n) in enumerate(zip(base, out)):
        step = steps[a] if a < len(steps) else 1  # (the trailing axes a slice leaves whole)
        if n > 1 and step != 1 or wide and n < b:
            return True
        wide = wide or n > 1
    return False


def _argument_root(em, x) -> str | None:
    """The name of the kernel argument x is a view of, None for arrays the
    kernel made (C-ordered)."""
    root = em.scope.root.get(x.id, x.id)
    for a in em.program.body.args:
        if a.id == root and a.ndim:
            return em.name(a)
    return None


def _unit_axes_index(xs: tuple, vs: tuple) -> str | None:
    """The basic index that makes shape vs from xs by dropping axes of length 1
    (`0`) and inserting them (`None`), the other lengths in order and static;
    None where the reshape moves elements between axes."""
    if not all(isinstance(d, int) for d in (*xs, *vs)):
        return None
    parts, i, j = [], 0, 0
    while i < len(xs) or j < len(vs):
        if i < len(xs) and j < len(vs) and xs[i] == vs[j]:
            parts.append(":")
            i, j = i + 1, j + 1
        elif i < len(xs) and xs[i] == 1:
            parts.append("0")
            i += 1
        elif j < len(vs) and vs[j] == 1:
            parts.append("None")
            j += 1
        else:
            return None
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


def _transpose_lower(em, op) -> None:
    if is_reshape_like(op):  # only unit axes move: a reshape (and folds with its neighbours)
        return _reshape_lower(em, op)
    x, perm = op.inputs[0], tuple(op.attrs["perm"])
    if perm == tuple(reversed(range(x.ndim))):  # a view, cheap to compile
        em.line(f"{em.name(op.out)} = {em.name(x)}.T")
        em.define(op.out, alias_of=x)
        return
    sizes = [em.size(x, k) for k in range(x.ndim)]  # np.transpose(x, perm) costs seconds of compile
    em.line(f"{em.name(op.out)} = {em.permuted_copy(em.name(x), sizes, perm, x.dtype)}")
    em.define(op.out, owned=True)


def _concat_lower(em, op) -> None:
    v = op.out
    parts = [em.name(x) if x.dtype == v.dtype else f"{em.name(x)}.astype(np.{v.dtype.name})"
             for x in op.inputs]
    em.line(f"{em.name(v)} = joined(({''.join(p + ', ' for p in parts)}), {op.attrs['axis']})")
    em.define(v, owned=True)


def _broadcast_element(fz, op, idx: list[str]) -> str:
    x = op.inputs[0]
    return fz.value_at(x, broadcast_index(x, op.out, idx))


def _iota_element(fz, op, idx: list[str]) -> str:
    i = idx[op.attrs["axis"]]
    return i if op.out.dtype == np.int64 else cast(i, op.out.dtype)  # loop variables are int64


TARGET.register("reshape", StatementRule(_reshape_lower))
TARGET.register("transpose", StatementRule(_transpose_lower))
TARGET.register("concatenate", StatementRule(_concat_lower))
TARGET.register("broadcast_to", IndexRule(_broadcast_element))
TARGET.register("iota", IndexRule(_iota_element))
