"""Graphviz DOT text of a program: one node per op (and per argument), an
edge per value use, and one cluster per loop or branch body.

Invariant: the output is valid DOT (`digraph`), every node id is unique, and
values captured by a body from outside draw an edge into the cluster.
"""
from __future__ import annotations

from looptrace.ir.core import Block, Op, Program
from looptrace.ir.printer import fmt_type, fmt_value


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


class _Dot:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.node_of: dict[int, str] = {}  # value id -> node id
        self.count = 0

    def node(self, label: str, shape: str = "box") -> str:
        self.count += 1
        name = f"n{self.count}"
        self.lines.append(f"  {name} [label={_quote(label)}, shape={shape}];")
        return name

    def block(self, block: Block, prefix: str) -> None:
        for v in block.args:
            self.node_of[v.id] = self.node(f"{prefix}%{v.id}: {fmt_type(v)}", "ellipse")
        for op in block.ops:
            self.op(op)
        if block.results:
            out = self.node("yield", "plaintext")
            for v in block.results:
                self.edge(v, out)

    def op(self, op: Op) -> None:
        outs = ", ".join(fmt_type(v) for v in op.outputs)
        loc = f"\\nline {op.loc.line}" if op.loc.line else ""
        info = op.attrs.get("loop")
        kind = f" [{info.kind}]" if info is not None and hasattr(info, "kind") else ""
        name = self.node(f"{op.prim.name}{kind}\\n{outs}{loc}")
        for v in op.inputs:
            self.edge(v, name)
        for k, b in enumerate(op.blocks):
            self.count += 1
            self.lines.append(f"  subgraph cluster_{self.count} {{")
            self.lines.append(f"  label={_quote(op.prim.name + ' body ' + str(k))};")
            self.block(b, "")
            self.lines.append("  }")
        for v in op.outputs:
            self.node_of[v.id] = name

    def edge(self, v, dst: str) -> None:
        src = self.node_of.get(v.id)
        if src is None:
            label = fmt_value(v) if v.is_const else f"%{v.id}"
            src = self.node(label, "plaintext")
            if not v.is_const:
                self.node_of[v.id] = src
        self.lines.append(f"  {src} -> {dst};")


def to_dot(program: Program) -> str:
    d = _Dot()
    d.block(program.body, "arg ")
    return "\n".join([f"digraph {_quote(program.name)} {{", "  rankdir=TB;", *d.lines, "}"])
