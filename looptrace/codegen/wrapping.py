"""Which int64 operations must wrap as NumPy's do, whatever the compiler assumes.

Numba marks a signed `+`, `-` and `*` `nsw` (no signed wrap): LLVM may then
fold as if the result never wrapped. `x + (-2**63)` became `x | -2**63`,
`x + (2**63 - 1) < 0` became `x < -(2**63 - 1)`, and a counter carried from
near 2**63 was assumed never to turn negative: wrong answers where the plain
function wraps (probe N W5-W7). The flag pays where the operation is index
arithmetic (`ptr[i + 1] - ptr[i]`, a start `i * s`): LLVM proves indices
non-negative and drops NumPy's wrap-around of negative ones (csr_matvec_slices
ran 3x slower with every int64 sum unflagged). So only the operations that
may really wrap lose it:

- one with a constant operand past 32 bits (a sentinel: `best = -2**63`, a
  hash's multiplier);
- one that reads, directly or through any chain, a carry of the loop it is in
  (an accumulator `h = h * 31 + x[i]`, a counter from near the limit): a
  sequential value that may run past the range over many steps;
- one read by an exclusive or (the tracer's exact overflow test of a Python
  int sum, python_numbers.py, reads the wrapped sum's sign; a hash);
- one that reads the result of one of these.

`wrapping_ops` returns the ids of those ops; a backend writes them without
the flag (codegen/cpu/nprules.py `wrap_add`).
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.core import Block, walk

ARITHMETIC = frozenset(["add", "subtract", "multiply", "negative", "square"])
_PAST_32_BITS = 2 ** 31


def _candidate(op) -> bool:
    return (op.prim.name in ARITHMETIC and op.out.dtype == np.int64
            and all(v.dtype.kind in "iub" for v in op.inputs))


def _big_constant(op) -> bool:
    for v in op.inputs:
        if v.is_const and v.shape == () and v.dtype.kind in "iu":
            if abs(int(np.asarray(v.const).item())) >= _PAST_32_BITS:
                return True
    return False


def _carried(loop) -> list:
    if loop.prim.name == "for_loop":
        return list(loop.blocks[0].args[1:])
    return [a for b in loop.blocks for a in b.args]  # while_loop: the cond's and the body's


def _taint(block: Block, tainted: set[int]) -> None:
    """Mark every value of `block` computed from a tainted one."""
    for op in block.ops:
        reads = any(v.id in tainted for v in op.inputs)
        for sub in op.blocks:
            if reads:
                tainted.update(a.id for a in sub.args)
            _taint(sub, tainted)
        if reads or any(r.id in tainted for sub in op.blocks for r in sub.results):
            tainted.update(v.id for v in op.outputs)


def wrapping_ops(body: Block) -> set[int]:
    """id() of the int64 arithmetic ops of the program that must wrap (module docstring)."""
    ops = [op for op in walk(body)]
    candidates = [op for op in ops if _candidate(op)]
    if not candidates:
        return set()
    out: set[int] = {id(op) for op in candidates if _big_constant(op)}
    producer = {v.id: op for op in candidates for v in op.outputs}
    for loop in ops:
        if loop.prim.name not in ("for_loop", "while_loop"):
            continue
        tainted = {a.id for a in _carried(loop)}
        for b in loop.blocks:
            _taint(b, tainted)
        out.update(id(op) for b in loop.blocks for op in walk(b)
                   if _candidate(op) and any(v.id in tainted for v in op.inputs))
    for op in ops:
        if op.prim.name == "bitwise_xor":
            out.update(id(producer[v.id]) for v in op.inputs if v.id in producer)
    made = {id(op): op for op in candidates}
    changed = True
    while changed:  # what reads a wrapped value may wrap too
        changed = False
        for op in candidates:
            if id(op) not in out and any(v.id in producer and id(producer[v.id]) in out for v in op.inputs):
                out.add(id(op))
                changed = True
    return {k for k in out if k in made}
