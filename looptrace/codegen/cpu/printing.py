"""CPU rules of print() (ops/io.py): Python makes and writes the text.

The kernel calls `print_text` in a `numba.objmode` block with the PrintLine
as a literal and the values as the kernel holds them (Numba boxes a scalar as
a Python number: `ops.io.box` makes it the type the plain function holds), so
the text is exactly what ops/io.py's `render` makes on every target. The
token is an int the kernel passes along: only its order matters.
"""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import StatementRule
from looptrace.ir.core import Value
from looptrace.ops.io import PrintLine, Slot, print_line, start_run

from .target import TARGET


def _token_lower(em, op) -> None:
    em.line("with numba.objmode():")  # (the run starts: nothing printed yet, ops/io.py `written`)
    em.line("    print_text(None)")
    em.line(f"{em.name(op.outputs[0])} = 0")
    em.define(op.outputs[0])


def _print_lower(em, op) -> None:
    (token, *values), (new_token,) = op.inputs, op.outputs
    spec = (_line_literal(op.attrs["line"]), tuple(_static_shape(v) for v in values))
    names = "".join(", " + _read(em, v) for v in values)
    em.line("with numba.objmode():")
    em.line(f"    print_text({spec!r}{names})")
    em.line(f"{em.name(new_token)} = {em.name(token)}")
    em.define(new_token)


def _read(em, v: Value) -> str:
    if v.id in em.scalar_rows:  # a (1,) row held as its scalar (regions.py `_scalar_rows`)
        return em.name(em.scalar_rows[v.id])
    return em.name(v)


def _static_shape(v: Value) -> tuple | None:
    """v's shape where the kernel may hold it as a scalar (one element), else None."""
    return tuple(v.shape) if v.ndim and all(d == 1 for d in v.shape) else None


def _line_literal(line: PrintLine) -> tuple:
    """The PrintLine as plain tuples, whose repr is Python source."""
    args = tuple(tuple(p if isinstance(p, str) else (p.value, p.conv, p.spec, p.keys, p.tag) for p in a)
                 for a in line.args)
    return (args, line.sep, line.end, line.stream, line.flush, line.options)


def print_text(spec: tuple, *values) -> None:
    """What a kernel's print op runs in object mode (spec None: its print token, the run's start)."""
    if spec is None:
        start_run()
        return
    (args, sep, end, stream, flush, options), shapes = spec
    line = PrintLine(tuple(tuple(p if isinstance(p, str) else Slot(*p) for p in a) for a in args),
                     sep, end, stream, flush, options)
    held = [x if shape is None else np.reshape(np.asarray(x), shape) for x, shape in zip(values, shapes)]
    print_line(line, *held)


TARGET.register("print_token", StatementRule(_token_lower))
TARGET.register("print", StatementRule(_print_lower))
