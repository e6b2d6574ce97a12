"""Windows `x[s:s + k]` with a traced start (tracer/windows.py): where NumPy
shortens the slice past the end of the axis, reductions of the window, its
elementwise arithmetic and writes through it give NumPy's answer (pad and
mask); a window used as an array of its static length past the end is a clear
error (tests/reliability/test_numpy_edges.py). Values and argument effects
against the plain function on the interpret backend (hypothesis over lengths
and starts), gradients against central finite differences, and the compiled
CPU backend on a representative program.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

from ._compare import assert_same, check

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy: the mean of an empty slice
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def window_reductions(x):
    n = x.shape[0]
    out = np.empty((n, 12))
    for i in range(n):
        w = x[i:i + 3]
        out[i, 0] = w.sum()
        out[i, 1] = np.mean(x[i:i + 3])
        out[i, 2] = w.prod()
        out[i, 3] = w.var()
        out[i, 4] = np.std(x[i:i + 3], ddof=0)
        out[i, 5] = w.max()
        out[i, 6] = np.min(x[i:i + 3])
        out[i, 7] = (w ** 2).sum() - np.abs(w - 0.5).max()
        out[i, 8] = np.sum(w > 0) + (x[i:i + 3] < -1).any()
        out[i, 9] = np.exp(-w).sum() + (2.0 * w + 1.0).mean()
        out[i, 10] = (w * x[i:i + 3]).sum()  # two windows of one origin
        out[i, 11] = w.max(initial=0.25) + np.sum(w, axis=0)
    return out


# one jit for all the examples: it traces each length once (7 lengths in 20 examples; a new jit per
# example traced every one, 6.5 s of CI until session 54)
WINDOW_REDUCTIONS = looptrace.jit(window_reductions, backend="interpret")


@SETTINGS
@given(n=st.integers(3, 9), seed=st.integers(0, 2**32 - 1))
def test_window_reductions_follow_numpy_past_the_end(n, seed):
    check(window_reductions, np.random.default_rng(seed).standard_normal(n), jitted=WINDOW_REDUCTIONS)


def strided_windows(x, k_scale):
    out = np.zeros(x.shape[0])
    for i in range(0, x.shape[0], 2):
        out[i] = x[i:i + 4].sum() * k_scale + x[i:i + 4].mean()
    return out


def row_windows(A):
    """A window of rows: reductions over the window axis, over all axes, and
    arithmetic with a row (broadcast against the trailing axis)."""
    out = np.empty((A.shape[0], A.shape[1]))
    tot = np.empty(A.shape[0])
    for i in range(A.shape[0]):
        out[i] = (A[i:i + 2, :] * A[0]).sum(axis=0)
        tot[i] = A[i:i + 2].max() + np.mean(A[i:i + 2], axis=0).sum()
    return out, tot


def test_strided_loops_and_row_windows(rng):
    check(strided_windows, rng.standard_normal(7), 1.5)
    check(row_windows, rng.standard_normal((5, 3)))


def from_a_start(x, s):
    return x[s:s + 3].sum(), x[s:s + 3].mean(), (x[s:s + 3] * 2).prod()


@pytest.mark.parametrize("s", [0, 3, 4, 5, 6, 9])
def test_a_start_at_or_past_the_end_is_an_empty_or_short_window(rng, s):
    check(from_a_start, rng.standard_normal(6), s)


def max_from(x, s):
    return x[s:s + 2].max()


def test_max_of_an_empty_window_raises_like_numpy(rng):
    x = rng.standard_normal(5)
    with pytest.raises(ValueError) as plain:
        max_from(x, 5)
    with pytest.raises(ValueError) as compiled:
        looptrace.jit(max_from, backend="interpret")(x, 5)
    assert str(compiled.value).splitlines()[0] == str(plain.value)
    assert looptrace.jit(max_from, backend="interpret")(x, 4) == max_from(x, 4)


@pytest.mark.parametrize("s", [-1, -2, -3, -5, -7, 0, 3, 4, 5, 9])
def test_a_negative_start_counts_from_the_end_as_in_numpy(rng, s):
    x = rng.standard_normal(5)
    assert_same(looptrace.jit(from_a_start, backend="interpret")(x, s), from_a_start(x, s))


def centered_sums(x):
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = x[i - 1:i + 2].sum() + x[i - 4:i - 1].mean() if i >= 4 else x[i - 1:i + 2].sum()
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_windows_reaching_before_the_start(rng, backend):
    x = rng.standard_normal(9)
    assert_same(looptrace.jit(centered_sums, backend=backend)(x), centered_sums(x))


def written_around(x):
    y = np.zeros(len(x) + 2)
    for i in range(len(x)):
        y[i - 1:i + 2] += x[i]
    return y


def test_a_window_written_from_a_negative_start_is_refused_at_run_time_with_its_line(rng):
    with pytest.raises(IndexError, match="negative traced start") as info:
        looptrace.jit(written_around, backend="interpret")(rng.standard_normal(5))
    assert isinstance(info.value, looptrace.SliceOverrunError) and "y[i - 1:i + 2] += x[i]" in str(info.value)


def window_writes(x, y, v):
    for i in range(x.shape[0]):
        y[i:i + 3] = v
        x[i:i + 2] += 0.5 * x[i]
    return x, y


def window_copies(x, y):
    for i in range(0, x.shape[0], 2):
        y[i:i + 4] = 2.0 * x[i:i + 4] - 1.0
    return y


def row_window_writes(A, row):
    for i in range(A.shape[0]):
        A[i:i + 2, :] = row
        A[i:i + 3] *= 0.5
    return A


# one jitted function each, shared by every example: a length traced once, not once per example
_WRITES = {fn: looptrace.jit(fn, backend="interpret") for fn in (window_writes, window_copies, row_window_writes)}


@SETTINGS
@given(n=st.integers(4, 9), seed=st.integers(0, 2**32 - 1))
def test_writes_through_a_window_past_the_end(n, seed):
    rng = np.random.default_rng(seed)
    check(window_writes, rng.standard_normal(n), rng.standard_normal(n), float(rng.standard_normal()),
          jitted=_WRITES[window_writes])
    check(window_copies, rng.standard_normal(n), rng.standard_normal(n), jitted=_WRITES[window_copies])
    check(row_window_writes, rng.standard_normal((n, 2)), rng.standard_normal(2), jitted=_WRITES[row_window_writes])


def view_sees_a_write(x, s):
    w = x[s:s + 3]
    x[s] = 100.0
    return w.sum(), w.max()


def test_a_window_is_a_view(rng):
    for s in (1, 4):
        check(view_sees_a_write, rng.standard_normal(6), s)


def smoothness(x):
    total = 0.0
    for i in range(x.shape[0]):
        total += ((x[i:i + 3] - x[i]) ** 2).sum() + x[i:i + 2].mean()
    return total


def test_gradient_of_window_reductions(rng):
    x = rng.standard_normal(7)
    got = looptrace.grad(smoothness, backend="interpret")(x)
    assert_close(got, numerical_grad(smoothness, (x,), 0), 1e-6, "d smoothness / dx")


def moving_stats(x):
    mean, peak, energy = np.empty(x.shape[0]), np.empty(x.shape[0]), np.empty(x.shape[0])
    for i in range(x.shape[0]):
        mean[i] = x[i:i + 5].mean()
        peak[i] = np.abs(x[i:i + 5]).max()
        energy[i] = (x[i:i + 5] ** 2).sum()
    return mean, peak, energy


def test_compiled_windows_match_and_vectorize(rng):
    x, y = rng.standard_normal(11), rng.standard_normal(11)
    f = looptrace.jit(window_reductions, backend="cpu")
    np.testing.assert_allclose(f(x), window_reductions(x), rtol=1e-12, atol=1e-12)
    # moving_stats' values on the interpreter, its cpu plan through explain (no Numba compile): its
    # window mean, max of abs and sum of squares are window_reductions' folds, compiled just above
    check(moving_stats, x)
    g = looptrace.jit(moving_stats, backend="cpu")
    assert [l.kind for l in looptrace.explain(g, x).loops] == ["vectorized"]
    got_x, got_y, want_x, want_y = x.copy(), y.copy(), x.copy(), y.copy()
    for g, w in zip(looptrace.jit(window_writes, backend="cpu")(got_x, got_y, 0.7), window_writes(want_x, want_y, 0.7)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    np.testing.assert_allclose(got_x, want_x, rtol=1e-12)
    np.testing.assert_allclose(got_y, want_y, rtol=1e-12)


def fill_in_bounds(x, y):
    for i in range(0, x.shape[0] - 2, 3):
        y[i:i + 3] = x[i]  # never past the end: the clamp min(i, n - 3) is i (vectorize/bounds.py)
    return y


def fill_past_the_end(x, y):
    for i in range(x.shape[0]):
        y[i:i + 3] = x[i]
    return y


def test_a_window_write_the_bounds_keep_inside_is_not_clamped(rng):
    x, y = rng.standard_normal(8), rng.standard_normal(8)
    check(fill_in_bounds, x, y)
    check(fill_past_the_end, x, y)
    f = looptrace.jit(fill_in_bounds, backend="interpret")
    report = looptrace.explain(f, x, y.copy())
    assert "minimum" not in str(report.program)
    assert [l.kind for l in report.loops] == ["vectorized"]  # disjoint blocks at an affine start: a map
