"""np.sort / np.argsort (stable, NaNs last) on the cuda target, under the
simulator, against the plain function on fresh random data: along every
axis, floats with NaNs and ties, integers, booleans (hypothesis over shapes),
a median, and a sort inside a loop that runs as one persistent kernel."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import looptrace as lt

from _cuda_support import assert_like_plain, cuda_backend


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def sort_both_axes(x):
    return np.sort(x, axis=0), np.sort(x, axis=-1), np.argsort(x, axis=0, kind="stable"), \
        np.argsort(x, axis=1, kind="stable")


@settings(max_examples=5, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
                    elements=st.sampled_from([-1.5, 0.0, 0.25, 2.0, np.nan, -np.inf, np.inf])))
def test_sort_and_argsort_are_stable_with_nans_last(x):
    assert_like_plain(sort_both_axes, [x], lt.jit(sort_both_axes, backend="cuda"))


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "bool"])
def test_sort_of_other_dtypes(rng, dtype):
    x = (rng.integers(-3, 4, (4, 5)) if dtype != "bool" else rng.random((4, 5)) > 0.5).astype(dtype)
    assert_like_plain(sort_both_axes, [x], lt.jit(sort_both_axes, backend="cuda"))


def medians(x):
    return np.median(x, axis=1), np.percentile(x, 30.0)


def test_median_and_percentile(rng):
    x = rng.standard_normal((3, 7))
    assert_like_plain(medians, [x], lt.jit(medians, backend="cuda"))


def sorted_steps(x, w):
    h = np.zeros(x.shape[1])
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        h = np.sort(np.tanh(w * h + x[t]))
        out[t] = h
    return out


@pytest.mark.parametrize("scan", ["single", "host"])
def test_sort_in_a_loop(rng, monkeypatch, scan):
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", scan)
    x, w = rng.standard_normal((4, 6)), rng.standard_normal(6)
    assert_like_plain(sorted_steps, [x, w], lt.jit(sorted_steps, backend="cuda"))


def test_complex_sort_is_a_clear_error(rng):
    from looptrace.errors import LooptraceError

    z = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    with pytest.raises((LooptraceError, TypeError)):
        lt.jit(lambda z: np.sort(z), backend="cuda")(z)
