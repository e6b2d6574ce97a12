"""max/min without initial= of a slice whose bounds are known only at run
time (`x[i:].max()`, `x[ptr[i]:ptr[i+1]].min()`): a run-time check that the
window is not empty, raising NumPy's ValueError, then the fold
(tracer/masked.py `_checked_extreme`). Before, refused with a hint to pass
initial=. Plain function against compiled, interpret and cpu."""

import numpy as np
import pytest

import looptrace

BACKENDS = ["interpret", "cpu"]


def suffix_spread(x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = x[i:].max() - x[:i + 1].min()
    return out


def column_window_max(X, lo, hi):
    out = np.empty(lo.shape[0])
    for t in range(lo.shape[0]):
        out[t] = X[:, lo[t]:hi[t]].max()
    return out


def row_mins(ptr, vals):
    out = np.empty(ptr.shape[0] - 1)
    for i in range(ptr.shape[0] - 1):
        out[i] = vals[ptr[i]:ptr[i + 1]].min()
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_suffix_and_prefix_extremes(backend, rng):
    x = rng.standard_normal(40)
    np.testing.assert_array_equal(looptrace.jit(suffix_spread, backend=backend)(x), suffix_spread(x))


@pytest.mark.parametrize("backend", BACKENDS)
def test_window_of_columns(backend, rng):
    X = rng.standard_normal((4, 12))
    lo = rng.integers(0, 6, 8)
    hi = lo + rng.integers(1, 6, 8)
    f = looptrace.jit(column_window_max, backend=backend)
    np.testing.assert_array_equal(f(X, lo, hi), column_window_max(X, lo, hi))
    hi[3] = lo[3]  # an empty window: NumPy's error, naming the line
    with pytest.raises(ValueError, match="zero-size array") as plain:
        column_window_max(X, lo, hi)
    with pytest.raises(ValueError, match="zero-size array") as compiled:
        f(X, lo, hi)
    assert str(plain.value) in str(compiled.value)
    assert any("X[:, lo[t]:hi[t]].max()" in n for n in getattr(compiled.value, "__notes__", []))


@pytest.mark.parametrize("backend", BACKENDS)
def test_rows_of_a_csr_matrix(backend, rng):
    ptr = np.concatenate([[0], np.cumsum(rng.integers(1, 5, 9))])
    vals = rng.standard_normal(ptr[-1])
    f = looptrace.jit(row_mins, backend=backend)
    np.testing.assert_array_equal(f(ptr, vals), row_mins(ptr, vals))
    ptr[4] = ptr[3]  # an empty row
    with pytest.raises(ValueError, match="zero-size array"):
        row_mins(ptr, vals)
    with pytest.raises(ValueError, match="zero-size array"):
        f(ptr, vals)
