"""Joining what a name holds after the two branches of a traced `if`.

`pair_up(a, b)` splits the two values into leaves to select between (arrays
and numbers, position by position through tuples, lists and dicts) and a function that
rebuilds the joined value from the selected leaves. Two things besides plain
arrays take part:

- `NO_RETURN`, the function's return slot before any `return` ran
  (tracer/returns.py). The flag that guards the slot says which path holds a
  real value, so the other path contributes a `Placeholder` (zeros of the
  same type); `returned` turns a slot that never received a value into None.
- a name unassigned on one side (`Undefined`/unbound): the joined value is
  `Undefined`, which fails on use, as Python's NameError would.
- None on one side (or a `MaybeNone`, None on some paths of it) and an array
  or number on the other: a `MaybeNone` (values.py), the selected value and
  the selected flag, whether it is not None.

Invariant: a mismatch (a tuple against an array, tuples of different
lengths, two different Python objects) raises `Mismatch`, which the caller
turns into an error naming the variable.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from looptrace.ir.core import Dim

from . import semantics as sem
from .array import is_tracer
from .values import UNBOUND, MaybeBound, MaybeNone, Undefined, maybe_none


class NoReturn:
    """The return slot of a function whose `return` has not run on this path."""

    def __repr__(self) -> str:
        return "<no return yet>"


NO_RETURN = NoReturn()


def returned(x: Any, flag: Any = True) -> Any:
    """The value a function returns from its slot: None if no `return` ran.
    `flag` is given where the function can reach its end without a `return`
    (returns.lower_returns): a traced flag makes the result a MaybeNone, None
    at run time where no `return` ran (`for i ...: if x[i] > t: return i`).
    A slot that holds None on every path (`return` bare, or `return None`,
    and the end) is None whatever the flag."""
    if x is NO_RETURN or x is None:
        return None
    return maybe_none(flag, x)


@dataclass
class Placeholder:
    """Zeros standing in for a value on the path that has not returned."""

    dtype: Any
    shape: tuple
    weak: bool


class Mismatch(Exception):
    pass


UNDEFINED_LEAF = object()  # pair_up's rebuild marker: the joined name is undefined


def pair_up(a: Any, b: Any) -> tuple[list[tuple[Any, Any]], Callable[[list], Any]]:
    """(leaf pairs to select between, rebuild(selected leaves) -> joined value)."""
    if a is b:
        return [], lambda _: a
    if a is NO_RETURN or b is NO_RETURN:
        real = b if a is NO_RETURN else a
        stand_in = placeholder_like(real)
        return pair_up(stand_in, real) if a is NO_RETURN else pair_up(real, stand_in)
    if _undefined(a) or _undefined(b):
        return _maybe_bound(a, b)
    if _optional(a) or _optional(b):
        return _maybe_none(a, b)
    if type(a) is type(b) and isinstance(a, (tuple, list)) and len(a) == len(b):
        return _pair_sequences(list(a), list(b), type(a))
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        keys = list(a)
        leaves, rebuild = _pair_sequences([a[k] for k in keys], [b[k] for k in keys], list)
        return leaves, lambda values: dict(zip(keys, rebuild(values)))
    if array_like(a) and array_like(b):
        return [(a, b)], lambda values: values[0]
    from .masked import joined_views

    views = joined_views(a, b)  # x[0:2] or x[p[0]:p[1]]: the view of the selected bounds
    if views is not None:
        leaves, rebuild = _pair_sequences(views[0], views[1], list)
        return leaves, lambda values: views[2](rebuild(values))
    kind_a, kind_b = _kind(a), _kind(b)
    if kind_a == kind_b == "a slice of run-time length":
        kind_b = "one of another array, or indexed another way"
    raise Mismatch(kind_a, kind_b)


def _bound_parts(x: Any) -> tuple[Any, Any]:
    """(value, flag) of a side: a MaybeBound's own, (None, False) unassigned, (x, True) assigned."""
    if isinstance(x, MaybeBound):
        return x.value, x.flag
    if _undefined(x):
        return None, False
    return x, True


def _maybe_bound(a: Any, b: Any):
    """A name assigned on one side only (or on some paths of a side): a
    MaybeBound of the selected value and flag (values.py), its name set by
    the caller; a name that is no array or number is undefined, as before."""
    (va, fa), (vb, fb) = _bound_parts(a), _bound_parts(b)
    real = va if va is not None else vb
    if real is None or not array_like(real) or (va is not None and vb is not None and
                                                 not (array_like(va) and array_like(vb))):
        return [], lambda _: UNDEFINED_LEAF
    va = va if va is not None else placeholder_like(real)
    vb = vb if vb is not None else placeholder_like(real)
    return [(va, vb), (fa, fb)], lambda values: MaybeBound(None, None, values[0], values[1])


def _optional(x: Any) -> bool:
    return x is None or isinstance(x, MaybeNone)


def _none_parts(x: Any) -> tuple[Any, Any]:
    """(value, flag) of a side: a MaybeNone's own, (None, False) for None, (x, True) for a value."""
    if isinstance(x, MaybeNone):
        return x.value, x.flag
    return (None, False) if x is None else (x, True)


def _maybe_none(a: Any, b: Any):
    """None on one side (or on some paths of a side), a number or array on
    the other: a MaybeNone of the selected value and flag (values.py), zeros
    where it is None. Beside anything else (a list, a tuple), a Mismatch."""
    (va, fa), (vb, fb) = _none_parts(a), _none_parts(b)
    if not all(v is None or array_like(v) for v in (va, vb)):
        raise Mismatch(_kind(a), _kind(b))
    real = va if va is not None else vb
    va = va if va is not None else placeholder_like(real)
    vb = vb if vb is not None else placeholder_like(real)
    return [(va, vb), (fa, fb)], lambda values: MaybeNone(values[1], values[0])


def _pair_sequences(a: list, b: list, kind: type):
    parts = [pair_up(x, y) for x, y in zip(a, b)]
    leaves = [p for ls, _ in parts for p in ls]

    def rebuild(values: list):
        out, pos = [], 0
        for ls, rb in parts:
            out.append(rb(values[pos:pos + len(ls)]))
            pos += len(ls)
        return kind(out)

    return leaves, rebuild


def placeholder_like(x: Any) -> Any:
    if isinstance(x, (tuple, list)):
        return type(x)(placeholder_like(e) for e in x)
    if isinstance(x, dict):
        return {k: placeholder_like(e) for k, e in x.items()}
    if isinstance(x, MaybeNone):  # (the flag is false where the slot holds nothing)
        return MaybeNone(False, placeholder_like(x.value))
    if x is None or isinstance(x, Placeholder) or not array_like(x):
        return x
    return Placeholder(sem.dtype_of(x), tuple(x.shape) if is_tracer(x) else np.shape(x), sem.is_weak(x))


def leaf_type(a: Any, b: Any) -> tuple[Any, bool]:
    """(dtype, weak) of the joined leaf: NumPy's promotion of the two sides."""
    sides = [x for x in (a, b) if not isinstance(x, Placeholder)]
    if not sides:
        return a.dtype, a.weak
    weak = all(x.weak if isinstance(x, Placeholder) else sem.is_weak(x) for x in (a, b))
    return sem.result_type(*sides), weak


def materialize(x: Any, dtype: Any) -> Any:
    """A Placeholder as zeros of `dtype` (in the current frame); anything else as it is."""
    if isinstance(x, Placeholder):
        if any(isinstance(d, Dim) for d in x.shape):  # no zeros of a length only the run knows
            from .array import runtime_length_error

            raise runtime_length_error("returning, on some paths only, or carrying")
        return sem.full(x.shape, 0, dtype)
    return x


def array_like(x: Any) -> bool:
    return is_tracer(x) or isinstance(x, (numbers.Number, np.ndarray, np.generic, Placeholder))


def _undefined(x: Any) -> bool:
    return isinstance(x, Undefined) or x is UNBOUND


def _kind(x: Any) -> str:
    if x is None:
        return "None"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)}"
    if isinstance(x, dict):
        return f"a dict with keys {sorted(map(str, x))}"
    if isinstance(x, MaybeNone):
        return "an array or number, or None"
    from .masked import MaskedSelection

    if isinstance(x, MaskedSelection):
        return "a slice of run-time length" if x.view_of is not None else "an array of run-time length"
    from .grown import DataTyped

    if isinstance(x, DataTyped):
        return (f"np.array of a list appended to under a condition (of shape (0,) and {x.empty_dtype} where it "
                "is empty)")
    if array_like(x):
        return "an array or number"
    if isinstance(x, (str, bytes)) and len(x) <= 40:
        return f"the {type(x).__name__} {x!r}"
    return f"a {type(x).__name__}"
