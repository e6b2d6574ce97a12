"""The element of an einsum at one output index: a loop over its summed letters.

Used wherever a product is computed one output element per thread: fused into
a consumer (a matvec inside a persistent kernel), or as a kernel of its own
(rules/contract.py). A long float dot product runs in SPLIT independent
accumulators (each summed in order), so the dependent add chain is a quarter
as long; `fz` is the Fuser writing the element (fuse.py).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.ir.core import Op
from looptrace.ops.linalg import parse_spec

from ..cpu.text import cast, dtype_text

SPLIT = 4  # independent accumulators of a long float dot product (4 add chains instead of one)
SPLIT_MIN = 32  # summed length from which they pay


def contraction_element(fz: Any, op: Op, idx: list[str]) -> str:
    """Element `idx` of the einsum's output: a loop over the summed letters."""
    em, code = fz.em, fz.code
    ins, out = parse_spec(op.attrs["spec"])
    size = letter_sizes(op, ins)
    summed = sorted({c for letters in ins for c in letters} - set(out))
    acc_dt = acc_dtype(op)
    where = dict(zip(out, idx))

    def term(at: dict) -> str:
        parts = []
        for letters, x in zip(ins, op.inputs):
            pos = ["0" if x.shape[k] == 1 and size[c] != 1 else at[c] for k, c in enumerate(letters)]
            parts.append(cast(fz.value_at(x, pos), acc_dt))
        return " * ".join(parts)

    if len(summed) == 1 and isinstance(size[summed[0]], int) and size[summed[0]] >= SPLIT_MIN \
            and acc_dt.kind == "f":
        return cast(_split_sum(fz, summed[0], size[summed[0]], where, term, acc_dt), op.out.dtype)
    acc = em.fresh("acc")
    code.line(f"{acc} = {dtype_text(acc_dt)}(0)")
    depth = code.depth
    for c in summed:
        var = em.fresh("r")
        where[c] = var
        code.line(f"for {var} in range({code.size(em.size_of(size[c]))}):")
        code.depth += 1
    saved = dict(fz.memo)
    code.line(f"{acc} += {term(where)}")
    fz.memo = saved
    code.depth = depth
    return cast(acc, op.out.dtype)


def _split_sum(fz, letter: str, n: int, where: dict, term, acc_dt) -> str:
    """sum over `letter` with SPLIT accumulators (each summed in order), then the tail."""
    em, code = fz.em, fz.code
    accs = [em.fresh("acc") for _ in range(SPLIT)]
    for a in accs:
        code.line(f"{a} = {dtype_text(acc_dt)}(0)")
    r, q = em.fresh("r"), em.fresh("q")
    saved = dict(fz.memo)
    code.line(f"for {r} in range({n // SPLIT}):")
    with code.indented():
        code.line(f"{q} = {r} * {SPLIT}")
        for k, a in enumerate(accs):
            code.line(f"{a} += {term({**where, letter: q if k == 0 else f'{q} + {k}'})}")
    fz.memo = dict(saved)
    total = em.fresh("acc")
    code.line(f"{total} = ({accs[0]} + {accs[1]}) + ({accs[2]} + {accs[3]})")
    tail = em.fresh("r")
    code.line(f"for {tail} in range({n - n % SPLIT}, {n}):")
    with code.indented():
        code.line(f"{total} += {term({**where, letter: tail})}")
    fz.memo = saved
    return total


def spec_letters(op: Op) -> tuple[list[str], str, list[str]]:
    """(each operand's letters, the output's letters, the summed letters, sorted) of an einsum."""
    ins, out = parse_spec(op.attrs["spec"])
    return ins, out, sorted({c for letters in ins for c in letters} - set(out))


def acc_dtype(op: Op) -> np.dtype:
    return np.dtype(op.out.dtype)


def letter_sizes(op: Op, ins: list[str]) -> dict:
    size: dict = {}
    for letters, x in zip(ins, op.inputs):
        for c, d in zip(letters, x.shape):
            if c not in size or size[c] == 1:
                size[c] = d
    return size


