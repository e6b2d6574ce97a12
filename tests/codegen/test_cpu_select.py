"""The CPU target writes a select as `pick(c, a, b)`, one LLVM select
(codegen/cpu/mathlib.py), not a Python conditional expression: Numba lowers
that to branches, which mispredict on random masks and keep the 8-chain sums
from vectorizing. Values follow the plain function for every dtype, NaNs in
the arm not taken included."""
import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def masked_sum(x, y):
    return np.where(y > 0.0, x, 0.0).sum()


def mixed_dtypes(x, y, k, m):
    c = y > 0.0
    return (np.where(c, k, -k), np.where(c, m, ~m), np.where(c, x.astype(np.float32), np.float32(2.5)),
            np.where(c, x, np.nan))


def masked_loop(x, y):
    acc = 0.0
    count = 0
    for i in range(x.shape[0]):
        if y[i] > 0.0:
            acc += x[i]
            count += 1
    return acc, count


def test_masked_sum_is_a_pick_and_matches():
    rng = np.random.default_rng(21)
    x, y = rng.standard_normal(1001), rng.standard_normal(1001)
    x[::7] = np.nan  # NaNs where the mask may be false: a select, not arithmetic
    f = looptrace.jit(masked_sum, backend="cpu")
    np.testing.assert_allclose(f(x, y), masked_sum(x, y), rtol=1e-12)
    src = f.explain(x, y).kernel_source
    # the term is a pick of x's and y's elements, never `a if c else b` of them (the sparse folds'
    # own run bookkeeping, sparse_folds.py, may use conditional expressions of its counters)
    assert "pick(" in src and not [line for line in src.splitlines()
                                   if " else " in line and ("v0[" in line or "v1[" in line)], src


def test_dtypes_follow_numpy():
    rng = np.random.default_rng(22)
    x, y = rng.standard_normal(50), rng.standard_normal(50)
    k, m = rng.integers(-5, 5, 50), rng.standard_normal(50) > 0
    got = looptrace.jit(mixed_dtypes, backend="cpu")(x, y, k, m)
    for g, e in zip(got, mixed_dtypes(x, y, k, m), strict=True):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)


def test_conditional_accumulation_loop():
    rng = np.random.default_rng(23)
    x, y = rng.standard_normal(500), rng.standard_normal(500)
    f = looptrace.jit(masked_loop, backend="cpu")
    acc, count = f(x, y)
    want_acc, want_count = masked_loop(x, y)
    np.testing.assert_allclose(acc, want_acc, rtol=1e-12)
    assert int(count) == want_count
