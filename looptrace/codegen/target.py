"""The seam between the compiler and a code generator: a `Target`.

A target turns a Program (after the passes of looptrace/pipeline.py) into a
`Runner`, a callable taking the program's runtime arguments and returning its
results. It owns one lowering rule per primitive, registered in its own
folder (`codegen/cpu/rules/`, `codegen/reference.py`, ...), never in `ops/`.
A rule has one of a few kinds, each with one protocol:

  ScalarRule     an elementwise op at one element:
                 `expr(args, in_dtypes, out_dtype) -> str`, the inputs'
                 element expressions in, the output's expression out
  IndexRule      a fusible op whose element is an input element read at a
                 mapped index, or the index itself (broadcast_to, iota):
                 `element(nest, op, idx) -> str`
  FoldRule       a reduction, folded element by element by the loop-nest
                 writer from the primitive's `Reduction` trait; the rule
                 holds no code of its own (the target renders each combine)
  StatementRule  an op written as statements: `emit(emitter, op) -> None`
  RegionRule     a region op (loop, conditional) that emits its own blocks
                 through the emitter: `emit(emitter, op) -> None`
  EvalRule       an interpreting target's rule: `run(op, inputs, env) -> outputs`

Invariant: `Target.rule(prim)` returns a registered rule or raises
`MissingLowering`; `tests/codegen/test_lowering_completeness.py` enumerates
primitives x targets and compiles every rule on a small program, so a rule
that cannot lower its primitive fails there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from looptrace.ir.core import Program
from looptrace.ir.primitive import Primitive


def loop_key(op) -> tuple:
    """(file, line) of the source loop a loop op came from: what `explain`
    reports a backend's notes on that loop by (`loop_notes`)."""
    info = op.attrs.get("loop")
    if info is not None and hasattr(info, "line"):
        return (info.file, info.line)
    return (op.loc.file, op.loc.line)


class MissingLowering(NotImplementedError):
    """A target has no rule for a primitive."""


@dataclass(frozen=True)
class ScalarRule:
    expr: Callable[[list[str], list, Any], str]
    kind: str = "scalar"


@dataclass(frozen=True)
class IndexRule:
    element: Callable[[Any, Any, list[str]], str]
    kind: str = "index"


@dataclass(frozen=True)
class FoldRule:
    kind: str = "fold"


@dataclass(frozen=True)
class StatementRule:
    emit: Callable[[Any, Any], None]
    kind: str = "statement"


@dataclass(frozen=True)
class RegionRule:
    emit: Callable[[Any, Any], None]
    kind: str = "region"


@dataclass(frozen=True)
class EvalRule:
    run: Callable[[Any, list, Any], list]
    kind: str = "eval"


Rule = ScalarRule | IndexRule | FoldRule | StatementRule | RegionRule | EvalRule


@dataclass(frozen=True)
class CompileOptions:
    """What a caller may choose about one compilation (API.md's `jit` flags)."""

    parallel: bool = True
    fastmath: bool = False
    cache: bool = True
    key: str = ""  # what a disk cache keys the kernel by besides its source


class Runner(Protocol):
    """A compiled program: `runner(args) -> results`, both in program order.
    `source` is the generated code (None for an interpreter)."""

    source: str | None

    def __call__(self, args: list) -> list: ...


@dataclass
class Target:
    """A code generator: its name, what it can do, its rules, and `compile`.

    `compile_program(program, options) -> Runner` is set by the target's
    package when it is imported (codegen/__init__.py imports it on demand);
    it maps every failure of the underlying compiler to a looptrace error
    naming the user's line."""

    name: str
    capabilities: frozenset[str] = frozenset()
    rules: dict[str, Rule] = field(default_factory=dict)
    compile_program: Callable[[Program, CompileOptions], Runner] | None = None

    def register(self, prims: Primitive | str | list, rule: Rule) -> None:
        for p in prims if isinstance(prims, (list, tuple)) else [prims]:
            name = p if isinstance(p, str) else p.name
            if name in self.rules:
                raise ValueError(f"{self.name}: {name!r} has two lowering rules")
            self.rules[name] = rule

    def rule(self, prim: Primitive) -> Rule:
        try:
            return self.rules[prim.name]
        except KeyError:
            raise MissingLowering(f"the {self.name} target has no rule for `{prim.name}`") from None

    def compile(self, program: Program, options: CompileOptions = CompileOptions()) -> Runner:
        return self.compile_program(program, options)
