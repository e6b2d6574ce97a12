"""A select in a scan's body whose operands read the scan's arrays is an
if/else with each operand's reads and arithmetic on its own branch
(codegen/planning/lazy_reads.py, codegen/cpu/nest.py `_emit_lazy_select`), as
numba.njit compiles the plain function's `if`: a taken branch no longer waits
for the other operand's chain. Values match the plain function on fresh
random data; the kernel source shows the reads inside the branches."""
import numpy as np
import pytest

import looptrace
from .kernel_text import innermost_loop
from bench.corpus.discrete import lcs_length


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def edit_distance(a, b):
    n, m = a.shape[0], b.shape[0]
    D = np.zeros((n + 1, m + 1), dtype=np.int64)
    for i in range(n + 1):
        D[i, 0] = i
    for j in range(m + 1):
        D[0, j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if a[i - 1] == b[j - 1]:
                D[i, j] = D[i - 1, j - 1]
            else:
                D[i, j] = 1 + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return D[n, m]


def two_taps(x):
    y = np.zeros(x.shape[0])
    y[0], y[1] = x[0], x[1]
    for i in range(2, x.shape[0]):
        if x[i] > 0.0:
            y[i] = 0.5 * y[i - 1] + x[i]
        else:
            y[i] = y[i - 2] * 0.25 - x[i]
    return y


def _reads_in_branches(body: list[str], array_reads: int) -> None:
    """No pick; an if/else whose branches hold `array_reads` element reads of the carried array."""
    assert not any("pick(" in ln for ln in body)
    top = min(len(ln) - len(ln.lstrip()) for ln in body if ln.strip())
    branch = [ln for ln in body if len(ln) - len(ln.lstrip()) > top]
    assert any(ln.strip().startswith("if ") for ln in body) and any(ln.strip() == "else:" for ln in body)
    assert sum(ln.count("[") for ln in branch if "= v" in ln and "[" in ln.split("=", 1)[1]) >= array_reads


@pytest.mark.parametrize("n", [1, 7, 40])
def test_lcs_values_and_branches(n, rng):
    a, b = rng.integers(0, 4, n), rng.integers(0, 4, n + 5)
    f = looptrace.jit(lcs_length, backend="cpu")
    got, want = f(a, b), lcs_length(a, b)
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])
    if n == 40:
        _reads_in_branches(innermost_loop(f.explain(a, b).kernel_source), 3)


def test_edit_distance(rng):
    f = looptrace.jit(edit_distance, backend="cpu")
    for n, m in ((30, 25), (12, 40)):
        a, b = rng.integers(0, 3, n), rng.integers(0, 3, m)
        assert f(a, b) == edit_distance(a, b)
    _reads_in_branches(innermost_loop(f.explain(a, b).kernel_source), 3)


def test_one_dimensional_taps(rng):
    x = rng.standard_normal(50)
    f = looptrace.jit(two_taps, backend="cpu")
    np.testing.assert_allclose(f(x), two_taps(x), rtol=1e-12)
    _reads_in_branches(innermost_loop(f.explain(x).kernel_source), 2)
