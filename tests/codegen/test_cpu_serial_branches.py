"""Branches on a carried value in a serial loop's body stay branches
(planning/lazy_reads.py `branches`, templates.kept_branch): each arm's own
ops run on its branch, and LLVM does not fold the if/else back into selects.
A branch repeating a read made before it takes that read's value
(vectorize/select.py `_reuse_reads`); a one-element row read only for its
element is read as a scalar, not made a view each step (planning/fusion.py
`_element_only`). Values and argument effects are the plain function's, on
interpret and cpu; the kernel source shows the branches."""

import numba
import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu.templates import kept_branch
from looptrace.ir.core import walk
from tests.tracer._loopcheck import check


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def majority_vote(a):
    cand = 0
    cnt = 0
    for x in a:
        if cnt == 0:
            cand = x
            cnt = 1
        elif x == cand:
            cnt += 1
        else:
            cnt -= 1
    return cand


def longest_distinct_window(a):
    last = np.full(101, -1, dtype=np.int64)
    start = 0
    best = 0
    for i in range(len(a)):
        v = a[i]
        if last[v] >= start:
            start = last[v] + 1
        last[v] = i
        if i - start + 1 > best:
            best = i - start + 1
    return best, last


def reread_after_write(a, t):
    """The second read of t[v] follows a write of t: a new array, read again."""
    s = 0
    for i in range(len(a)):
        v = a[i]
        if t[v] > s:
            s = t[v]
        t[v] = i - s
        if t[v] < s:
            s = (s - t[v]) % 1000
    return s


def running_extremes(a):
    """Python's min/max keep the first of equal values; -0.0 and NaN compare as Python does."""
    lo = a[0]
    hi = a[0]
    best = 0.0
    for x in a:
        if x < lo:
            lo = x
        elif x > hi:
            hi = x
        if hi - lo > best:
            best = hi - lo
        lo = min(lo, x)
    return lo, hi, best


def int_wrap(a):
    s = np.int64(2**62)
    n = 0
    for x in a:
        if s > 0:
            s = s + x * np.int64(2**61)
            n += 1
        else:
            s = s - x
    return s, n


def state_machine(a, b):
    """A four-way if/elif chain on carried state, arms of several ops."""
    state = 0
    acc = 0.0
    n = 0
    for i in range(len(a)):
        x = a[i]
        if state == 0:
            acc = acc + x
            state = 1 if x > 0.0 else 2
        elif state == 1 and x > b[i]:
            acc = acc * 0.5 - x
            state = 2
        elif state == 2:
            acc = max(acc, x) + 1.0
            n += 1
            state = 0 if acc > 3.0 else 1
        else:
            acc = -acc
            state = 0
    return acc, n, state


def int_in_an_arm(a):
    """int(x) runs every step: on a branch it would skip the ValueError of a NaN."""
    s = 0.0
    for x in a:
        j = int(x * 4.0)
        if s > 0.5:
            s = s * 0.25
        else:
            s = s + j
    return s


def _body(src: str) -> str:
    return src.split("def kernel", 1)[1]


def _votes(rng, kind):
    if kind == "normal":
        return rng.standard_normal(400)
    if kind == "few":
        return rng.integers(0, 3, 400).astype(np.float64)
    a = rng.standard_normal(400)
    a[rng.integers(0, 400, 40)] = np.nan
    a[rng.integers(0, 400, 40)] = -0.0
    a[rng.integers(0, 400, 40)] = 0.0
    return a


@pytest.mark.parametrize("kind", ["normal", "few", "nan"])
def test_majority_vote(kind, rng):
    a = _votes(rng, kind)
    check(majority_vote, a)
    f = looptrace.jit(majority_vote, backend="cpu")
    check(majority_vote, a, jitted=f)
    body = _body(f.explain(a).kernel_source)
    # the elif's compare of x with the candidate is on the first test's else branch
    assert "kept_branch()" in body
    first = body.index("kept_branch()")
    assert body.index("else:", first) < body.index(" == v", first)


def test_longest_distinct_window_reads_last_once(rng):
    a = rng.integers(0, 101, 500)
    check(longest_distinct_window, a)
    f = looptrace.jit(longest_distinct_window, backend="cpu")
    check(longest_distinct_window, a, jitted=f)
    ex = f.explain(a)
    (scan,) = [op for op in walk(ex.program.body) if op.prim.name == "for_loop"]
    last = scan.blocks[0].args[-1]
    assert sum(op.prim.name == "dynamic_slice" and op.inputs[0] is last for op in walk(scan.blocks[0])) == 1
    assert _body(ex.kernel_source).count("check_start(") == 1
    # `last[v] = i`: the index is read as an element of the stacked index, no view each step
    assert ", 0]" in _body(ex.kernel_source).split("for ")[-1]


# 500 values, as test_longest_distinct_window_reads_last_once: the length is the kernel's constant (explain's
# sources of 300 and 500 equal but for the integers), so the cpu kernel is that test's (0.5 s in 3d8fb51's CI)
@pytest.mark.parametrize("bad", [101, -102])
def test_longest_distinct_window_index_errors(bad, rng):
    a = rng.integers(-101, 101, 500)
    a[150] = bad
    for backend in ("interpret", "cpu"):
        with pytest.raises(IndexError):
            looptrace.jit(longest_distinct_window, backend=backend)(a)
    with pytest.raises(IndexError):
        longest_distinct_window(a)


def test_reread_after_write(rng):
    a = rng.integers(0, 20, 300)
    t = rng.integers(-50, 50, 20)
    check(reread_after_write, a, t)
    check(reread_after_write, a, t, jitted=looptrace.jit(reread_after_write, backend="cpu"))


@pytest.mark.parametrize("kind", ["normal", "nan", "ties"])
def test_running_extremes(kind, rng):
    a = rng.standard_normal(300)
    if kind == "nan":
        a[rng.integers(1, 300, 20)] = np.nan
    if kind == "ties":
        a = rng.choice(np.array([-0.0, 0.0, 1.0, -1.0]), 300)
    check(running_extremes, a)
    f = looptrace.jit(running_extremes, backend="cpu")
    check(running_extremes, a, jitted=f)
    got, want = f(a), running_extremes(a)
    assert [np.signbit(g) for g in got] == [np.signbit(w) for w in want]


def test_int_wrap(rng):
    a = rng.integers(-3, 4, 200)
    check(int_wrap, a)
    check(int_wrap, a, jitted=looptrace.jit(int_wrap, backend="cpu"))


@pytest.mark.parametrize("kind", ["normal", "nan"])
def test_state_machine(kind, rng):
    a, b = rng.standard_normal(400), rng.standard_normal(400)
    if kind == "nan":
        a[rng.integers(0, 400, 30)] = np.nan
    check(state_machine, a, b)
    f = looptrace.jit(state_machine, backend="cpu")
    check(state_machine, a, b, jitted=f)
    assert "kept_branch()" in _body(f.explain(a, b).kernel_source)


def test_an_arm_that_may_raise_runs_where_it_did(rng):
    a = rng.random(200)
    check(int_in_an_arm, a)
    check(int_in_an_arm, a, jitted=looptrace.jit(int_in_an_arm, backend="cpu"))
    a[120] = np.nan  # ValueError in the plain function, whichever branch that step takes
    for backend in ("interpret", "cpu"):
        with pytest.raises(ValueError):
            looptrace.jit(int_in_an_arm, backend=backend)(a)


def test_kept_branch_is_a_branch():
    @numba.njit
    def pick_kept(c, a, b):
        if c:
            kept_branch()
            return a + 1.0
        return b

    assert pick_kept(True, 1.0, 2.0) == 2.0 and pick_kept(False, 1.0, 2.0) == 2.0
    llvm = next(iter(pick_kept.inspect_llvm().values()))
    assert "asm sideeffect" in llvm
