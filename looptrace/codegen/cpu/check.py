"""CPU rule of `check` (ops/check.py): a data-dependent raise or assert."""
from __future__ import annotations

from looptrace.codegen.target import StatementRule
from looptrace.ops.check import split_inputs

from .emitter import PRELUDE
from .target import TARGET


# `if p: raise CheckFailed(code)` per element, in row-major order; the kernel's
# caller turns the code back into the user's exception (kernel.py). A
# predicate the plan inlined (planning/fusion.py `_fits`: an index's
# out-of-bounds test, read only here) is computed in the check's own loop, so
# no array of booleans is written and read again (np.add.at of 10^6 indices:
# three passes became two).
def _check_lower(em, op) -> None:
    from .nest import Fuser

    failures = op.attrs["failures"]
    preds, values = split_inputs(op.inputs, failures)
    codes = [em.check_code(f) for f in failures]
    shape = preds[0].shape
    if not shape:
        start = len(em.lines)
        _raise_lines(em, [em.name(p) for p in preds], [v and em.name(v) for v in values], codes)
        if _before_any_write(em, op):
            em.lines[start:] = [ln + PRELUDE if "raise " in ln else ln for ln in em.lines[start:]]
        return
    sizes = [em.size(preds[0], k) for k in range(len(shape))]
    # first whether any element fails, as an or-reduction LLVM vectorizes (a loop that may
    # raise does not vectorize: 10^6 index tests 1.50 ms against 0.49), then, only then,
    # the loop that finds the first failure in row-major order and raises it
    bad = em.fresh("bad")
    em.line(f"{bad} = False")
    with em.loop_nest(sizes) as idx:
        fz = Fuser(em)
        texts = [fz.value_at(p, idx) for p in preds]
        em.line(f"{bad} |= " + " | ".join(f"({t})" for t in texts))
    em.line(f"if {bad}:")
    with em.indented(), em.loop_nest(sizes) as idx:
        fz = Fuser(em)
        texts = [fz.value_at(p, idx) for p in preds]
        # a value named in the message is computed before the branch (the fuser may bind names)
        shown = [None if v is None else fz.value_at(v, idx) if v.ndim else em.name(v) for v in values]
        _raise_lines(em, texts, shown, codes)


def _before_any_write(em, op) -> bool:
    """Is `op` a check of the kernel's top level that only scalar work comes
    before (`dx ** 2` of a Python float: its OverflowError)? Raising there
    leaves every argument as it was, so it does not keep the kernel from
    writing into its arguments directly (emitter.emit_program)."""
    ops = em.program.body.ops
    if not any(o is op for o in ops):
        return False
    for o in ops:
        if o is op:
            return True
        if o.blocks or any(v.ndim for v in o.outputs):
            return False
    return False


def _raise_lines(em, preds: list[str], values: list, codes) -> None:
    for p, v, code in zip(preds, values, codes):
        if em.deferring is not None and v is None:  # raised after the loop (regions.py `deferred_checks`)
            em.deferred_sites.append((len(em.lines), p, code))
            em.line(f"if {p} and {em.deferring} == 0:")
            em.line(f"    {em.deferring} = {code + 1}")
            continue
        # a predicate folded to True (a check of a peeled first iteration, np.percentile of an empty
        # x[max(0, i - k):i]) is hidden from Numba's dead-branch pruning: a kernel part that always
        # raises would otherwise return none and fail to compile ("failed to unpack none")
        em.line(f"if {'np.bool_(True)' if p == 'True' else p}:")
        extra = f", np.int64({v})" if v is not None else ""
        em.line(f"    raise CheckFailed({code}{extra})")


TARGET.register("check", StatementRule(_check_lower))
