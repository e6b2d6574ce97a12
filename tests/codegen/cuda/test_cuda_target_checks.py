"""Run-time checks (a data-dependent raise/assert, ops/check.py) on the cuda
target, under the simulator: the same outcome as the plain function (the
user's exception class and message, a note naming the line) on fresh random
data, the first failure in program order as on the cpu, arguments untouched
by a failing call, and a while loop stopped by its failing check.
"""
import numpy as np
import pytest

import looptrace as lt
from tests.reliability import _check_programs as programs
from tests.reliability._check_programs import PROGRAMS, two_checks

from _cuda_support import cuda_backend


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def _outcome(fn, x):
    try:
        return "value", fn(x.copy())
    except Exception as e:  # noqa: BLE001 - the outcome is what we compare
        return "raised", e


def assert_same_outcome(fn, jitted, x):
    want, got = _outcome(fn, x), _outcome(jitted, x)
    assert got[0] == want[0], (fn.__name__, x, got, want)
    if want[0] == "value":
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        return
    assert type(got[1]) is type(want[1]) and got[1].args == want[1].args, (got[1], want[1])
    notes = "\n".join(getattr(got[1], "__notes__", []))
    assert programs.__file__ in notes and "line" in notes, notes


@pytest.mark.parametrize("fn", PROGRAMS, ids=lambda f: f.__name__)
def test_checks_raise_exactly_when_the_plain_function_does(fn, rng):
    jitted = lt.jit(fn, backend="cuda")
    for _ in range(4):
        x = rng.uniform(-1.0, 1.0, 6) * rng.choice([0.5, 3.0, 6.0])
        assert_same_outcome(fn, jitted, x)
    assert_same_outcome(fn, jitted, np.abs(rng.standard_normal(4)) * 0.1)


def test_the_first_failing_iteration_decides_which_exception(rng):
    """Iteration 1 fails the second check before iteration 3 fails the first, and
    iteration 5 fails both: the cpu's order, whatever the threads' order."""
    x = np.array([0.0, -4.0, 0.0, 4.0, 0.5, 9.0, -9.0])
    with pytest.raises(ArithmeticError, match="below -3"):
        lt.jit(two_checks, backend="cuda")(x)
    x[1] = 0.0
    with pytest.raises(ValueError, match="above 3"):
        lt.jit(two_checks, backend="cuda")(x)


def scale_then_check(x, limit):
    for i in range(x.shape[0]):
        x[i] = x[i] * 2.0
        if x[i] > limit:
            raise ValueError("over the limit")
    return x.sum()


def test_a_failing_call_leaves_the_arguments_as_the_cpu_does(rng):
    x = rng.uniform(0.5, 1.0, 8)
    x[5] = 10.0
    plain = x.copy()
    with pytest.raises(ValueError, match="over the limit"):
        scale_then_check(plain, 5.0)
    for backend in ("cpu", "cuda"):  # as Python leaves it: the writes before the error (api.py)
        y = x.copy()
        with pytest.raises(ValueError, match="over the limit"):
            lt.jit(scale_then_check, backend=backend)(y, 5.0)
        np.testing.assert_array_equal(y, plain)
    y = x.copy()
    got = lt.jit(scale_then_check, backend="cuda")(y, 100.0)
    np.testing.assert_allclose(got, 2 * x.sum())
    np.testing.assert_allclose(y, 2 * x)


def iterate(x, tol):
    err = 1.0
    it = 0
    while err > tol:
        x = 0.5 * (x + 2.0 / x)
        err = np.abs(x * x - 2.0).max()
        it += 1
        if it > 20:
            raise RuntimeError("no convergence")
    return x


@pytest.mark.parametrize("scan", ["single", "host"])
def test_a_check_stops_a_while_loop(rng, monkeypatch, scan):
    """With a tolerance never met, the loop stops at the check (else it would never end)."""
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", scan)
    x = rng.uniform(1.0, 3.0, 4)
    jitted = lt.jit(iterate, backend="cuda")
    np.testing.assert_allclose(jitted(x, 1e-9), iterate(x, 1e-9), rtol=1e-12)
    with pytest.raises(RuntimeError, match="no convergence"):
        jitted(x, -1.0)


def bounded(x, idx):
    s = 0.0
    for i in range(idx.shape[0]):
        assert idx[i] >= 0, "negative index"
        s += x[idx[i]]
    return s


def test_an_assert_before_a_bad_index_wins(rng):
    """The assert fails on element 2 before the index of element 3 is out of range."""
    x = rng.standard_normal(5)
    idx = np.array([0, 4, -1, 9])
    with pytest.raises(AssertionError, match="negative index"):
        lt.jit(bounded, backend="cuda")(x, idx)
    with pytest.raises(AssertionError, match="negative index"):
        lt.jit(bounded, backend="cpu")(x, idx)
    idx[2] = 1
    with pytest.raises(IndexError, match="index 9"):
        lt.jit(bounded, backend="cuda")(x, idx)


def test_int_of_a_float_raises_as_python_does(rng):
    """int()/math.floor of NaN, an infinity or a float past int64 (ops/elementwise.py
    `pyint`): tested on the device where the int is read, reported as Python's error."""
    from tests.tracer.test_python_int_conversion import assert_same_outcome, histogram, rounded_sum

    hist = lt.jit(histogram, static_argnames=("nb",), backend="cuda")
    summed = lt.jit(rounded_sum, backend="cuda")
    x = rng.random(24)
    assert_same_outcome(histogram, hist, x, 5)
    assert_same_outcome(rounded_sum, summed, x * 40 - 20)
    for special in (np.nan, np.inf, -np.inf, 1e19):
        bad = x.copy()
        bad[rng.integers(24)] = special
        assert_same_outcome(histogram, hist, bad, 5, big=special == 1e19)
        assert_same_outcome(rounded_sum, summed, bad, big=special == 1e19)
