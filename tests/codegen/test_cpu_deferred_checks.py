"""Scalar checks in a top-level serial loop raise after it (codegen/cpu/
regions.py `deferred_checks`): the first failure in iteration order, as the
plain function raises it, without a raise inside the loop that kept LLVM
from optimizing it (corpus pendulum 3.15 ms -> 2.3 ms, numba.njit 2.3).
Where anything else in the loop may raise (an index check), the checks
raise where they fail, as before. The plain function is the oracle."""

import math

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def two_domains(x):
    a, b = 0.0, 0.0
    for t in range(x.shape[0]):
        # recurrences (the arguments read the carries): the checks stay in the loop
        a = math.cos(a) + math.log(x[t] + 1e-9 * math.tanh(a))  # fails where x[t] <= 0
        b = 0.5 * b + math.sqrt(x[t] + 1.0 + 1e-9 * math.tanh(b))  # fails where x[t] < -1
    return a, b


def with_an_index(x, idx, steps):
    s = 0.0
    for t in range(steps):
        s = math.sqrt(x[t] + 1e-9 * math.tanh(s)) + 0.5 * s
        s += x[idx[t]]  # an index check: raises where it fails
    return s


def _outcome(f, *args):
    try:
        return "value", f(*args)
    except Exception as e:  # noqa: BLE001
        return "raised", (type(e), str(e).splitlines()[0] if str(e) else "")


@pytest.mark.parametrize("bad", [None, (3, 0.5), (3, -0.5), (2, -3.0), (0, -2.0)])
def test_the_first_failure_in_iteration_order(bad):
    x = np.random.default_rng(3).uniform(0.5, 2.0, 8)
    if bad is not None:
        x[bad[0]] = bad[1] if bad[1] < 0 else x[bad[0]]
        x[6] = -5.0  # a later failure of the other check
    f = looptrace.jit(two_domains, backend="cpu")
    want, got = _outcome(two_domains, x), _outcome(f, x)
    assert got[0] == want[0]
    if want[0] == "value":
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    else:
        assert got[1] == want[1]
    src = f.explain(x).kernel_source
    assert "raise CheckFailed(fail" in src  # after the loop


def test_a_failure_in_the_last_iteration_and_none_at_all():
    """8 elements, as test_the_first_failure_in_iteration_order: the length is the kernel's constant
    (explain's sources of 5 and 8 equal but for the integers): that test's kernel (0.5 s in 3d8fb51's CI)."""
    f = looptrace.jit(two_domains, backend="cpu")
    x = np.full(8, 2.0)
    np.testing.assert_allclose(f(x), two_domains(x), rtol=1e-12)
    x[7] = -2.0
    with pytest.raises(ValueError, match="math domain error"):
        f(x)
    assert f(x[:0]) == two_domains(x[:0])


@pytest.mark.parametrize("case", ["sqrt first", "index first", "fine"])
def test_an_index_check_keeps_checks_where_they_fail(case):
    x = np.random.default_rng(4).uniform(0.5, 2.0, 6)
    idx = np.arange(6)
    if case == "sqrt first":
        x[2], idx[4] = -1.0, 99
    elif case == "index first":
        x[4], idx[2] = -1.0, 99
    f = looptrace.jit(with_an_index, backend="cpu")
    want, got = _outcome(with_an_index, x, idx, 6), _outcome(f, x, idx, 6)
    assert got[0] == want[0] and (got[1][0] is want[1][0] if want[0] == "raised" else True)
    if want[0] == "value":
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    assert "raise CheckFailed(fail" not in f.explain(x, idx, 6).kernel_source
