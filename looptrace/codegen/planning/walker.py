"""The walk over a program's blocks that every code-generating target shares.

`BlockWalker.emit_block` plans the block's fusion (planning/fusion.py), sets
up its ownership scope (planning/ownership.py) and hands each op that is
not emitted as part of another to the target: a fusion root to the target's
loop-nest writer (`emit_nest`), any other op to the target's statement or
region rule. A target's emitter subclasses the walker and adds its text.

Invariant: an exception raised while an op is emitted carries that op
(`e.looptrace_op`, the innermost one), so the target can name the user's line.
"""
from __future__ import annotations

from typing import Any, Callable

from looptrace.codegen.target import MissingLowering, Target
from looptrace.ir.core import Block, Op, Program, Value

from .fusion import BlockPlan, plan_block
from .ownership import Scope, last_uses


# A target whose nests read a unit-axes reshape through its source (the CPU's
# Fuser._through_transpose) says so in its capabilities.
UNIT_RESHAPE_READS = "unit_reshape_reads"
# A target whose nests read a gather in place (an IndexRule for `gather`).
FUSED_GATHERS = "fused_gathers"
# A target whose nests read a static slice through its base (`_skip_views`)
SLICE_READS = "slice_reads"
FUSED_SCAN_INPUTS = "fused_scan_inputs"  # planning/fusion.py `_inline_into_scans`
LAZY_SELECTS = "lazy_selects"  # planning/fusion.py `_lazy_selects`


class BlockWalker:
    def __init__(self, program: Program, target: Target):
        self.program = program
        self.target = target
        self.op: Op | None = None  # the op being emitted
        self.scope: Scope | None = None
        self.plan: BlockPlan | None = None

    # --- hooks a target's emitter provides ----------------------------------------------------
    def emit_nest(self, op: Op) -> None:
        """Emit the loop nest of a fusion root."""
        raise NotImplementedError

    def block_started(self) -> Any:
        """Called before a block's ops; its result is passed to `block_ended`."""
        return None

    def block_ended(self, mark: Any) -> None:
        """Called after a block's ops and its `finish`."""

    # --- the walk ---------------------------------------------------------------------------
    def emit_block(self, block: Block, owned: set[int] = frozenset(), free: list[Value] = (),
                   finish: Callable[[], None] | None = None,
                   adjust: Callable[[BlockPlan], None] | None = None) -> None:
        """Emit `block`'s ops. Its args (and the outer values in `free`) whose
        ids are in `owned` may be updated in place; `finish` runs last, in the
        block's scope (it assigns the block's results); `adjust` may change
        the block's fusion plan before any op is emitted (a region rule that
        computes some of the block's values itself)."""
        outer_scope, outer_plan = self.scope, self.plan
        self.plan = self.plan_of(block)
        if adjust is not None:
            adjust(self.plan)
        self.scope = Scope(block, last_uses(block, self.plan.position))
        for a in [*block.args, *free]:
            self.scope.define(a, owned=a.id in owned)
        mark = self.block_started()
        for i, op in enumerate(block.ops):
            self.scope.pos = i
            if id(op) not in self.plan.skip:
                self.emit_op(op)
        self.scope.pos = len(block.ops)
        if finish is not None:
            finish()
        self.block_ended(mark)
        self.scope, self.plan = outer_scope, outer_plan

    @property
    def producers(self) -> dict[int, Op]:
        """value id -> the op that computes it, over every block of the program
        (a loop body's fold reads positions computed outside the loop)."""
        found = getattr(self, "_producers", None)
        if found is None:
            found = self._producers = {}
            stack = [self.program.body]
            while stack:
                for op in stack.pop().ops:
                    for v in op.outputs:
                        found[v.id] = op
                    stack.extend(op.blocks)
        return found

    def plan_of(self, block: Block) -> BlockPlan:
        """The fusion plan `emit_block` gives `block` on this target."""
        caps = self.target.capabilities
        return plan_block(block, unit_reshapes=UNIT_RESHAPE_READS in caps, gathers=FUSED_GATHERS in caps,
                          slices=SLICE_READS in caps, scans=FUSED_SCAN_INPUTS in caps, lazy=LAZY_SELECTS in caps,
                          producers=self.producers, checks=True)

    def emit_op(self, op: Op) -> None:
        outer, self.op = self.op, op
        try:
            if id(op) in self.plan.fused_roots:
                self.emit_nest(op)
            else:
                rule = self.target.rule(op.prim)
                if rule.kind not in ("statement", "region"):
                    raise MissingLowering(f"`{op.prim.name}` has a {rule.kind} rule on {self.target.name}, "
                                          "which only a loop nest can emit")
                rule.emit(self, op)
            for v in op.outputs:
                if v.id not in self.scope.root:
                    self.define(v)
        except Exception as e:
            if not hasattr(e, "looptrace_op"):
                e.looptrace_op = op  # the innermost op, for the error message
            raise
        finally:
            self.op = outer

    def define(self, v: Value, owned: bool = False, alias_of: Value | None = None) -> None:
        self.scope.define(v, owned, alias_of)
