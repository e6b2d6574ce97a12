"""A scatter's index computed by a long chain from an array stored anyway is
stored instead (planning/fusion.py `_long_scatter_index`): the chain runs in a
nest of its own, and the scatter's serial loop only reads the index. And
np.histogram's index reads no edges (tracer/np_arrays.py `linspace_at`) and
counts the values out of range in a bin cut off after, so its scatter's loop
reads the index alone."""
import re

import numpy as np
import pytest

import looptrace

from .kernel_text import checked_kernel, innermost_loop, kernel_body


def binned_from_stored(x, w):
    """t (a chain too long to recompute) is read three times, so stored; the bin is a long chain of t."""
    out = np.zeros(16)
    for i in range(x.shape[0]):
        t = np.int64(np.sqrt(np.abs(x[i]) * 5.0 + 0.5) * 2.0 + 0.25)
        b = (np.minimum(t * 3 + 1, 40) - (t > 2) + (t == 1) * 2) % 16
        out[b] += w[i]
    return out


def binned_through_a_shared_step(x, w):
    """As above, with `t + 1` read twice: recomputed where read, all in the index's nest."""
    out = np.zeros(16)
    for i in range(x.shape[0]):
        t = np.int64(np.sqrt(np.abs(x[i]) * 5.0 + 0.5) * 2.0 + 0.25)
        u = t + 1
        b = (np.minimum(u * 3 + 1, 40) - (u > 2) + (t == 1) * 2 - (t > 3)) % 16
        out[b] += w[i]
    return out


def binned_in_one_loop(x, w):
    """A long chain of x alone: storing the index would be an array more."""
    out = np.zeros(16)
    for i in range(x.shape[0]):
        out[np.minimum(np.int64(np.abs(x[i]) * 5.0 + 0.5) * 3 + 1, 40) % 16] += w[i]
    return out


@pytest.mark.parametrize("fn", [binned_from_stored, binned_through_a_shared_step])
def test_a_long_index_from_a_stored_array_is_stored_instead(fn, rng):
    x, w = rng.standard_normal(3000), rng.standard_normal(3000)
    body = checked_kernel(fn, (x, w))
    scatter = innermost_loop("def kernel" + body)
    assert len(scatter) == 2 and "+=" in scatter[1], body  # j = index[i]; out[j] += w[i]
    assert body.count("alloc(") == 1 and body.count("for ") == 2, body  # the index's nest, the scatter's loop


def test_a_long_index_of_the_inputs_alone_stays_in_the_scatter_loop(rng):
    x, w = rng.standard_normal(3000), rng.standard_normal(3000)
    body = checked_kernel(binned_in_one_loop, (x, w))
    assert "alloc(" not in body and body.count("for ") == 1, body


def histogram_in_range(x):
    return np.histogram(x, bins=32, range=(-2.5, 3.0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_histogram_index_is_one_vectorizable_pass_and_a_scatter(dtype, rng):
    x = (rng.standard_normal(5000) * 1.5).astype(dtype)  # about one in ten out of range
    x[::97] = np.nan
    f = looptrace.jit(histogram_in_range)
    got, want = f(x), histogram_in_range(x)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    src = f.explain(x).kernel_source
    body, scatter = kernel_body(src), innermost_loop(src)
    assert len(scatter) == 2 and scatter[1].strip().endswith("+= 1"), body  # no mask, no weight read
    assert body.count("for ") == 2 and not re.search(r"\bk\d+\[", body), body  # the edges never read by index


def test_histogram_of_a_traced_range_reads_no_edges(rng):
    x = rng.standard_normal(4000)
    f = looptrace.jit(lambda a, lo, hi: np.histogram(a, bins=20, range=(lo, hi)))
    got, want = f(x, -1.5, 2.0), np.histogram(x, bins=20, range=(-1.5, 2.0))
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    got, want = f(x, -1.0, 1.0), np.histogram(x, bins=20, range=(-1.0, 1.0))
    np.testing.assert_array_equal(got[0], want[0])
