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
        tests = [_covering_test(em, preds)]
        for later in _adjacent_scalar_checks(em):  # raised under one guard with op's own
            em.plan.skip.add(id(later))
            more, valued = split_inputs(later.inputs, later.attrs["failures"])
            preds, values = [*preds, *more], [*values, *valued]
            codes += [em.check_code(f) for f in later.attrs["failures"]]
            tests.append(_covering_test(em, more))
        # an int() test raises where it fails even in a loop whose checks are deferred: deferred
        # (a first failure's code carried through the loop) lj_periodic's took 0.72 ms, 0.57 raised
        in_place = any(t.startswith(_INT_TEST) for t in tests)
        _raise_lines(em, [em.name(p) for p in preds], [v and em.name(v) for v in values], codes,
                     " | ".join(tests), in_place)
        if _before_any_write(em, op):
            em.lines[start:] = [ln + PRELUDE if "raise " in ln else ln for ln in em.lines[start:]]
        return
    sizes = [em.size(preds[0], k) for k in range(len(shape))]
    # first whether any element fails, as an or-reduction LLVM vectorizes (a loop that may
    # raise does not vectorize: 10^6 index tests 1.50 ms against 0.49), then, only then,
    # the loop that finds the first failure in row-major order and raises it
    # (counted in the nest that computes what the predicates read: planning/fusion.py `_checks_in_nests`)
    bad = em.counted_checks.pop(id(op), None)
    if bad is None:
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


def _adjacent_scalar_checks(em) -> list:
    """The scalar checks right after the one being emitted in its block
    (the overflow tests of `x += 1` and `x -= 1` on the two arms of an `if`,
    after it)."""
    ops, found = em.scope.block.ops, []
    for o in ops[em.scope.pos + 1:]:
        if o.prim.name != "check" or id(o) in em.plan.skip or o.inputs[0].shape:
            break
        found.append(o)
    return found


_INT64_LIMIT = "9.223372036854775808e18"
_INT_TEST = "(not ("


def _covering_test(em, preds: list) -> str:
    """One test that holds wherever one of a check's scalar `preds` does: their
    `|`; for the check of an int() of a float x (vectorize/dead_reads.py
    `_pyint_check`: NaN, an infinity, past int64) the one comparison
    `not (abs(x) < 2**63)` (NaN and infinities fail it; -2**63, which fits,
    is let through after it), as codegen's own int() tests (scalar.py
    `_pyint_element`): the three predicates cost more than the arithmetic
    around them (corpus lj_periodic, three round()s per pair: 0.84 ms, 0.66)."""
    made = [em.producers.get(p.id) for p in preds]
    if len(preds) == 3 and all(m is not None for m in made) and \
            [m.prim.name for m in made] == ["isnan", "isinf", "logical_or"]:
        x = made[0].inputs[0]
        if made[1].inputs[0] is x and _outside_int64(em, made[2], x):
            return f"{_INT_TEST}abs({em.name(x)}) < {_INT64_LIMIT}) and {em.name(x)} != -{_INT64_LIMIT})"
    return " | ".join("np.bool_(True)" if em.name(p) == "True" else em.name(p) for p in preds)


def _outside_int64(em, op, x) -> bool:
    """Is op `(x >= 2**63) | (x < -2**63)` (dead_reads.py `_pyint_check`)?"""
    ge, lt = (em.producers.get(v.id) for v in op.inputs)
    if ge is None or lt is None or ge.prim.name != "greater_equal" or lt.prim.name != "less" or \
            ge.inputs[0] is not x or lt.inputs[0] is not x:
        return False
    low = lt.inputs[1]
    if low.const is None and (neg := em.producers.get(low.id)) is not None and neg.prim.name == "negative":
        low = neg.inputs[0]
        low = None if low.const is None else -low.const
    else:
        low = low.const
    high = ge.inputs[1].const
    return high is not None and low is not None and float(high) == 2.0**63 and float(low) == -2.0**63


# Scalar predicates checked in a row raise from one guard, `if p1 | p2:
#     raise CheckFailed(c1 if p1 else c2)`: the first failing one is still the
# one raised. With a raise per predicate LLVM kept the `if` that computed them
# a real, mispredicted branch (so it did with one guard holding the raises in
# turn); with one raise it made its arms selects (corpus gillespie_birth_death,
# the overflow tests of `x += 1` / `x -= 1` on the arms of a random `if`:
# 1.19 ms, 0.67 with one raise; numba.njit 0.83).
# Deferred (regions.py `deferred_checks`), they are one site the same way.
def _raise_lines(em, preds: list[str], values: list, codes, guard: str | None = None,
                 in_place: bool = False) -> None:
    """`guard`: where given, a test that holds wherever one of `preds` does
    (`_covering_test`): the predicates are merged under it. `in_place`:
    raised where it fails, even where checks are deferred."""
    preds = ["np.bool_(True)" if p == "True" else p for p in preds]
    if guard is not None and len(preds) > 1 and all(v is None for v in values):
        code = " else ".join(f"{c} if {p}" for p, c in zip(preds[:-1], codes)) + f" else {codes[-1]}"
        _raise_each(em, [guard], [None], [f"({code})"], in_place)
        return
    _raise_each(em, preds, values, codes, in_place)


def _raise_each(em, preds: list[str], values: list, codes, in_place: bool = False) -> None:
    for p, v, code in zip(preds, values, codes):
        if em.deferring is not None and v is None and not in_place:  # raised after the loop (regions.py
            # `deferred_checks`)
            em.deferred_sites.append((len(em.lines), p, code))
            em.line(f"if {p if p.isidentifier() else f'({p})'} and {em.deferring} == 0:")
            em.line(f"    {em.deferring} = {code + 1 if isinstance(code, int) else f'{code} + 1'}")
            continue
        # a predicate folded to True (a check of a peeled first iteration, np.percentile of an empty
        # x[max(0, i - k):i]) is hidden from Numba's dead-branch pruning: a kernel part that always
        # raises would otherwise return none and fail to compile ("failed to unpack none")
        em.line(f"if {p}:")
        extra = f", np.int64({v})" if v is not None else ""
        em.line(f"    raise CheckFailed({code}{extra})")


TARGET.register("check", StatementRule(_check_lower))
