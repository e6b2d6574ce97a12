"""Bound checks of a counted loop decided once before it (codegen/cpu/guards.py):
a start affine in the loop's index, with a constant slope and an offset
computed before the loop, is checked at the loop's first and last step by one
test; the body calls check_start only where that test fails. Values match the
plain function; an index out of range still raises the plain function's
IndexError naming the user's line, and a negative index still counts from
the end."""
import inspect

import numpy as np
import pytest

import looptrace
from .kernel_text import innermost_loop
from bench.corpus.discrete import knapsack_01


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def shifted_scan(x, k):
    y = x.copy()
    for i in range(1, y.shape[0] - 4):
        y[i] = 0.5 * y[i - 1] + y[i + k]  # the read at i + k
    return y


def _inner_loop(src: str) -> str:
    """The lines of the innermost `for` of the kernel."""
    return "\n".join(innermost_loop(src))


def _line_of(fn, marker):
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, text in enumerate(lines) if marker in text)


def test_knapsack_checks_once_per_row(rng):
    n, cap = 30, 200
    w, v = rng.integers(1, cap // 4, n), rng.random(n) * 10.0
    f = looptrace.jit(knapsack_01, backend="cpu")
    assert f(w, v, cap) == pytest.approx(knapsack_01(w, v, cap), rel=1e-12)
    src = f.explain(w, v, cap).kernel_source
    inner = _inner_loop(src)
    # every check_start of the inner loop is behind the test made before it
    assert inner.count("check_start(") == 2
    assert all(" if ok" in ln for ln in inner.splitlines() if "check_start(" in ln)
    assert "trip_count(" in src


# the knapsack tests take 30 items and a capacity of 200, as test_knapsack_checks_once_per_row: the sizes
# are the kernel's constants (explain's sources of other sizes equal but for the integers), so one kernel
# serves the three (with 25 items and 6 items of capacity 50 they compiled three: 0.5 s each in 3d8fb51's CI)
def test_knapsack_fresh_data_matches(rng):
    f = looptrace.jit(knapsack_01, backend="cpu")
    for _ in range(3):
        w, v = rng.integers(1, 60, 30), rng.random(30) * 5.0
        assert f(w, v, 200) == pytest.approx(knapsack_01(w, v, 200), rel=1e-12)


def test_knapsack_out_of_range_still_raises(rng):
    """A negative weight makes c - w run past the end: the guard fails and
    the checks raise the plain function's IndexError at the user's line."""
    w, v = rng.integers(1, 20, 30), rng.random(30)
    w[3] = -2
    with pytest.raises(IndexError):
        knapsack_01(w, v, 200)
    with pytest.raises(IndexError, match="out of bounds") as err:
        looptrace.jit(knapsack_01, backend="cpu")(w, v, 200)
    assert f"line {_line_of(knapsack_01, 'cand = best[c - w]')}" in str(err.value)


@pytest.mark.parametrize("k", [0, 3, 4, -2, 5, -20])
def test_runtime_offset(k, rng):
    """k in range: no check runs; k = -2 counts from the end (the guard fails,
    the checks normalize it); k = 5 and k = -20 fall outside: IndexError."""
    x = rng.standard_normal(12)
    f = looptrace.jit(shifted_scan, backend="cpu")
    try:
        want = shifted_scan(x, k)
    except IndexError:
        with pytest.raises(IndexError) as err:
            f(x, k)
        assert f"line {_line_of(shifted_scan, 'the read at i + k')}" in str(err.value)
        return
    np.testing.assert_allclose(f(x, k), want, rtol=1e-12)
    if k == 0:
        inner = _inner_loop(f.explain(x, k).kernel_source)
        checks = [ln for ln in inner.splitlines() if "check_start(" in ln]
        assert checks and all(" if ok" in ln for ln in checks)
