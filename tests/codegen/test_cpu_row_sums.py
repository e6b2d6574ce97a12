"""A float sum along the last (contiguous) axis at each kept index runs as 8
independent add chains (Fuser._sum_8way, as for a 1-d sum): accumulator j
takes the terms at 8r + j, the 8 are added pairwise, then the tail in order.
Values follow NumPy within the rounding of a reordered sum."""

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def row_stats(X, Y):
    var = np.var(X, axis=1, ddof=1)
    norms = np.sqrt((X * X).sum(axis=1))
    long_term = (np.exp(-X * X) * np.sin(X) + np.cos(X) * X - np.tanh(X) / (1.0 + X * X)).sum(axis=-1)
    batched = (Y * 2.0 - 1.0).sum(axis=2)  # 3-d: kept (i, j), summed over k
    return var, norms, long_term, batched


def eight_way(row):
    """The order the kernel sums in."""
    n = row.size
    accs = [0.0] * 8
    for r in range(n // 8):
        for j in range(8):
            accs[j] += row[8 * r + j]
    total = ((accs[0] + accs[1]) + (accs[2] + accs[3])) + ((accs[4] + accs[5]) + (accs[6] + accs[7]))
    for k in range(n - n % 8, n):
        total += row[k]
    return total


# 203 with -m slow (2.4 s of CPU in session 54's CI): its tail of 3 after whole lanes is 67's
@pytest.mark.parametrize("m", [64, 67, pytest.param(203, marks=pytest.mark.slow)])
def test_row_sums_follow_numpy(m):
    r = np.random.default_rng(m)
    X, Y = r.standard_normal((9, m)) * 3.0 + 1.0, r.standard_normal((3, 4, m))
    f = looptrace.jit(row_stats, backend="cpu")
    for got, want in zip(f(X, Y), row_stats(X, Y)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    src = f.explain(X, Y).kernel_source
    assert src.count("lane_add(") >= 2  # 8 accumulators, not one chain


def test_the_order_is_the_eight_way_one():
    def row_sum(X):
        return X.sum(axis=1)

    X = np.random.default_rng(5).standard_normal((6, 131)) * 10.0 ** np.arange(-3, 3.55, 0.05)
    got = looptrace.jit(row_sum, backend="cpu")(X)
    want = np.array([eight_way(row) for row in X])
    np.testing.assert_array_equal(got, want)
