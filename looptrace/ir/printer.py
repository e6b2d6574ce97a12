"""Text form of the IR: one line per op with its shapes, dtypes and the
user's source line; nested bodies indented."""
from __future__ import annotations

import numpy as np

from .core import Block, Op, Program, Value


def fmt_type(v: Value) -> str:
    dt = v.dtype if not isinstance(v.dtype, np.dtype) else v.dtype.name
    shape = ",".join(str(d) for d in v.shape)
    return f"{dt}[{shape}]"


def fmt_value(v: Value) -> str:
    if v.is_const:
        c = np.asarray(v.const)
        if c.size <= 4:
            return repr(c.tolist()) if c.ndim else repr(c.item())
        return f"<const {fmt_type(v)}>"
    return f"%{v.id}"


def fmt_attrs(attrs: dict) -> str:
    shown = {k: v for k, v in attrs.items() if k != "loop"}
    if not shown:
        return ""
    return " {" + ", ".join(f"{k}={_attr(v)}" for k, v in shown.items()) + "}"


def _attr(v) -> str:
    if isinstance(v, np.dtype):
        return v.name
    return repr(v)


def print_block(block: Block, indent: int = 0) -> list[str]:
    pad = "  " * indent
    lines = []
    for op in block.ops:
        lines.extend(print_op(op, indent))
    if block.results:
        lines.append(pad + "yield " + ", ".join(fmt_value(v) for v in block.results))
    return lines


def print_op(op: Op, indent: int = 0) -> list[str]:
    pad = "  " * indent
    outs = ", ".join(f"%{v.id}: {fmt_type(v)}" for v in op.outputs)
    ins = ", ".join(fmt_value(v) for v in op.inputs)
    loc = f"  # {op.loc}" if op.loc.line else ""
    head = f"{pad}{outs + ' = ' if outs else ''}{op.prim.name}({ins}){fmt_attrs(op.attrs)}"
    lines = [head + (":" if op.blocks else "") + loc]
    for i, b in enumerate(op.blocks):
        args = ", ".join(f"%{v.id}: {fmt_type(v)}" for v in b.args)
        label = _block_label(op, i)
        lines.append(f"{pad}  {label}({args}):")
        lines.extend(print_block(b, indent + 2))
    return lines


def _block_label(op: Op, i: int) -> str:
    names = {"for_loop": ["body"], "while_loop": ["cond", "body"], "cond": ["then", "else"]}
    return names.get(op.prim.name, [f"block{j}" for j in range(len(op.blocks))])[i]


def print_program(p: Program) -> str:
    args = ", ".join(f"%{v.id}: {fmt_type(v)}" for v in p.body.args)
    return "\n".join([f"def {p.name}({args}):", *print_block(p.body, 1)])
