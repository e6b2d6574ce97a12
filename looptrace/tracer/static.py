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

from typing import Iterable

from looptrace.errors import ConcreteIndexError, UnsupportedError
from looptrace.ir.core import Value

from . import context as ctx
from .array import is_tracer


class UnsupportedConcrete(ConcreteIndexError, UnsupportedError):
    """A construct that needs a concrete value (a comprehension over a traced
    range): unsupported unless the value comes from int arguments."""


def concrete_error(traced: Iterable, message: str, hint: str = "",
                   cls: type = ConcreteIndexError) -> ConcreteIndexError:
    e = cls(message, ctx.current_loc(), hint)
    values = [t.value if is_tracer(t) else t for t in traced if is_tracer(t) or isinstance(t, Value)]
    e.arg_positions = arg_sources(values) if ctx.tracing() and values else None
    return e


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
