"""Where a traced value must be a concrete Python value (a shape, a length,
`range` iterated outside a loop header), and which arguments it comes from.

`concrete_error` builds the ConcreteIndexError that such a place raises; it
records `arg_positions`: the positions, among the traced function's block
arguments, of the scalar arguments the value is computed from, or None when
it also depends on array data or on a loop's state. looptrace/specialize.py
reads it: when those arguments are Python ints, the function is traced again
with them static (one compiled version per value), as if the user had named
them in `static_argnames`.
"""
from __future__ import annotations

from collections.abc import Iterable

from looptrace.errors import ConcreteIndexError, UnsupportedError
from looptrace.ir.core import Value

from . import context as ctx
from .array import is_tracer


class UnsupportedConcrete(ConcreteIndexError, UnsupportedError):
    """A construct that needs a concrete value (a comprehension over a traced
    range): unsupported unless the value comes from int arguments."""


def concrete_error(traced: Iterable, message: str, hint: str = "",
                   cls: type = ConcreteIndexError, data_hint: str = "") -> ConcreteIndexError:
    """The error for traced values used where Python needs concrete ones;
    `data_hint` replaces `hint` where they come from array contents or a
    loop's state (no scalar argument to specialize on)."""
    values = [t.value if is_tracer(t) else t for t in traced if is_tracer(t) or isinstance(t, Value)]
    positions = arg_sources(values) if ctx.tracing() and values else None
    e = cls(message, ctx.current_loc(), data_hint if positions is None and data_hint else hint)
    e.arg_positions = positions
    return e


# a size computed from array contents (`np.empty(ptr[-1])`, probe W's neighbour list): no argument to name
DATA_SIZE_HINT = ("this size comes from array contents or a loop's state, known only at run time: allocate "
                  "a bound known from shapes (`np.empty(len(x))`) and fill and return its first part "
                  "(`out[:count]`), which looptrace returns at the length the data decides")


def arg_sources(values: list[Value]) -> frozenset[int] | None:
    """Positions of the scalar block arguments of the traced function that
    `values` are computed from (through ops without regions or effects)."""
    st = ctx.state()
    entry_of = _captured_entries(st.frame)
    root = {v.id: k for k, v in enumerate(st.root.block.args)}
    found: set[int] = set()
    stack, seen = list(values), set()
    while stack:
        v = stack.pop()
        if v.is_const or v.id in seen:
            continue
        seen.add(v.id)
        if v.id in root:
            if v.shape != ():
                return None  # array data
            found.add(root[v.id])
        elif v.id in entry_of:
            stack.append(entry_of[v.id])
        else:
            op = st.producers.get(v.id)
            if op is None or op.blocks or op.prim.effectful:
                return None  # a loop's carried state, a branch's result, a draw
            stack.extend(op.inputs)
    return frozenset(found)


def _captured_entries(frame) -> dict[int, Value]:
    """Block argument id -> the outer value it stands for, for every box the
    open loop frames captured (a scalar argument read inside a loop body)."""
    out: dict[int, Value] = {}
    f = frame
    while f is not None:
        for _, entry, arg in f.captured.values():
            if arg is not None:
                out[arg.id] = entry
        f = f.parent
    return out


# --- slice lengths ------------------------------------------------------------------------------------
def static_difference(b: Value, a: Value) -> int | None:
    """b - a when it is the same integer whatever the traced values, else None.
    Each side becomes a linear form (integer coefficients over atoms plus a
    constant); atoms are compared by structure, so `E[i*2:i*2+3]` (two
    separate products i*2) has length 3, as `s = i*2; E[s:s+3]` does."""
    memo: dict[int, tuple] = {}
    fb, cb = _linear(b, memo)
    fa, ca = _linear(a, memo)
    diff = dict(fb)
    for atom, c in fa.items():
        diff[atom] = diff.get(atom, 0) - c
    if any(c for c in diff.values()):
        return None
    return cb - ca


def difference_sources(b: Value, a: Value) -> frozenset[int] | None:
    """The positions of the scalar arguments (`arg_sources`) that b - a is
    computed from, where it is a linear form whose varying atoms come from
    arguments alone (`x[max(0, i - k):i + 1]`: k + 1, from k); None where
    b - a is static or depends on other traced values."""
    memo: dict[int, tuple] = {}
    fb, _ = _linear(b, memo)
    fa, _ = _linear(a, memo)
    varying = {atom for atom in set(fb) | set(fa) if fb.get(atom, 0) != fa.get(atom, 0)}
    if not varying:
        return None
    leaves = {}
    for v in _leaves(b) + _leaves(a):
        form = _linear(v, memo)[0]
        if len(form) == 1:
            leaves.setdefault(next(iter(form)), v)
    if not varying <= set(leaves):
        return None
    return arg_sources([leaves[atom] for atom in varying]) or None


def _leaves(v: Value, depth: int = 32) -> list[Value]:
    """The values _linear takes as atoms in v's linear form."""
    if _int_const(v) is not None:
        return []
    op = ctx.state().producers.get(v.id)
    if depth and op is not None and op.prim.name in _LINEAR and v.dtype.kind in "iu" and \
            (op.prim.name != "convert" or op.inputs[0].dtype.kind in "iu"):
        if op.prim.name == "multiply" and all(_linear(x, {})[0] for x in op.inputs):
            return [v]  # a product of two traced values is an atom
        return [leaf for x in op.inputs for leaf in _leaves(x, depth - 1)]
    return [v]


_LINEAR = ("add", "subtract", "multiply", "negative", "positive", "convert")


def _linear(v: Value, memo: dict) -> tuple[dict, int]:
    """(atom -> coefficient, constant) with v == sum(c * atom) + constant."""
    if v.id in memo:
        return memo[v.id]
    c = _int_const(v)
    if c is not None:
        return {}, c
    op = ctx.state().producers.get(v.id)
    form = None
    if op is not None and op.prim.name in _LINEAR and v.dtype.kind in "iu":
        form = _linear_op(op, memo)
    if form is None:
        form = ({_atom(v, op, memo): 1}, 0)
    memo[v.id] = form
    return form


def _linear_op(op, memo: dict) -> tuple[dict, int] | None:
    name = op.prim.name
    if name == "convert":
        return _linear(op.inputs[0], memo) if op.inputs[0].dtype.kind in "iu" else None
    forms = [_linear(x, memo) for x in op.inputs]
    if name in ("negative", "positive"):
        (f, c), = forms
        k = -1 if name == "negative" else 1
        return {a: k * n for a, n in f.items()}, k * c
    (f1, c1), (f2, c2) = forms
    if name == "multiply":
        if f1 and f2:
            return None  # a product of two traced values is an atom
        (f, c), k = ((f1, c1), c2) if not f2 else ((f2, c2), c1)
        return {a: k * n for a, n in f.items()}, k * c
    k = 1 if name == "add" else -1
    out = dict(f1)
    for a, n in f2.items():
        out[a] = out.get(a, 0) + k * n
    return out, c1 + k * c2


def _atom(v: Value, op, memo: dict):
    """A value's identity for comparing forms: by structure when an op without
    effects or regions computes it from inputs (so two separate computations
    of `n // 2` are the same atom), else the value itself."""
    if op is None or op.blocks or op.prim.effectful or len(op.outputs) != 1:
        return ("value", v.id)
    inputs = tuple(_form_key(_linear(x, memo)) for x in op.inputs)
    attrs = tuple(sorted((k, repr(a)) for k, a in op.attrs.items()))
    return (op.prim.name, attrs, str(v.dtype), tuple(v.shape), inputs)


def _form_key(form: tuple[dict, int]):
    f, c = form
    return (frozenset((a, n) for a, n in f.items() if n), c)


def _int_const(v: Value) -> int | None:
    import numpy as np

    if v.is_const and v.shape == () and np.dtype(v.dtype).kind in "iu":
        return int(v.const)
    return None
