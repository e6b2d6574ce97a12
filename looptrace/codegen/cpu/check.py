"""CPU rule of `check` (ops/check.py): a data-dependent raise or assert."""
from __future__ import annotations

from looptrace.codegen.target import StatementRule
from looptrace.ops.check import split_inputs

from .target import TARGET


# `if p: raise CheckFailed(code)` per element, in row-major order; the kernel's
# caller turns the code back into the user's exception (kernel.py).
def _check_lower(em, op) -> None:
    failures = op.attrs["failures"]
    preds, values = split_inputs(op.inputs, failures)
    codes = [em.check_code(f) for f in failures]
    shape = preds[0].shape
    if not shape:
        _raise_lines(em, preds, values, codes, "")
        return
    with em.loop_nest([em.size(preds[0], k) for k in range(len(shape))]) as idx:
        _raise_lines(em, preds, values, codes, f"[{', '.join(idx)}]")


def _raise_lines(em, preds, values, codes, at: str) -> None:
    for p, v, code in zip(preds, values, codes):
        em.line(f"if {em.name(p)}{at}:")
        extra = f", np.int64({em.name(v)}{at})" if v is not None else ""
        em.line(f"    raise CheckFailed({code}{extra})")


TARGET.register("check", StatementRule(_check_lower))
