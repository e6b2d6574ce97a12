"""A conditional read-modify-write at a data-dependent position
(`if ok: hist[b] += w`) becomes an unconditional scatter-accumulation with
the combining op's identity where ok is false, at position 0
(vectorize/select.py). Checked against the plain function on random data:
values out of range are skipped, a signed zero in slot 0 survives, a
position out of range where the condition holds still raises, and arrays
the caller passed are updated as the plain function updates them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace

BACKENDS = ["interpret", "cpu"]


def histogram(x, lo, hi):
    hist = np.zeros(8)
    width = (hi - lo) / 8
    for i in range(x.shape[0]):
        b = np.int64(np.floor((x[i] - lo) / width))
        if b >= 0 and b < 8:
            hist[b] += 1.0
    return hist


def weighted_into(x, w, hist):
    for i in range(x.shape[0]):
        b = np.int64(x[i] * 4.0)
        if not (b < 0 or b >= hist.shape[0]):
            hist[b] += w[i]
    return hist


def grid_counts(x, y):
    H = np.zeros((3, 4))
    for i in range(x.shape[0]):
        a, b = np.int64(x[i] * 3.0), np.int64(y[i] * 4.0)
        if a >= 0 and a < 3 and b >= 0 and b < 4:
            H[a, b] += 1.0
    return H


def products(x, labels):
    p = np.ones(4)
    for i in range(x.shape[0]):
        if x[i] > 0:
            p[labels[i]] *= x[i]
    return p


def unguarded(x, labels):
    out = np.zeros(3)
    for i in range(x.shape[0]):
        if x[i] > 0:
            out[labels[i]] += x[i]
    return out


def _kinds(f, *args):
    return [r.kind for r in looptrace.explain(f, *args).loops]


@pytest.mark.parametrize("backend", BACKENDS)
def test_histogram_is_a_scatter_add(backend, rng):
    x = rng.standard_normal(200) * 2
    f = looptrace.jit(histogram, backend=backend)
    np.testing.assert_array_equal(f(x, -1.5, 1.5), histogram(x, -1.5, 1.5))
    assert _kinds(histogram, x, -1.5, 1.5) == ["reduction"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_weights_into_the_callers_array(backend, rng):
    x, w = rng.random(50) * 1.6 - 0.3, rng.standard_normal(50)
    h0 = rng.standard_normal(5)
    want_h, got_h = h0.copy(), h0.copy()
    want = weighted_into(x, w, want_h)
    got = looptrace.jit(weighted_into, backend=backend)(x, w, got_h)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got_h, want_h, rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_signed_zero_in_slot_zero_survives(backend):
    x, w = np.array([-1.0, 5.0, 0.3]), np.array([1.0, 2.0, -0.0])
    h = np.array([-0.0, 1.0, 2.0, 3.0, 4.0])
    want = weighted_into(x, w, h.copy())
    got = looptrace.jit(weighted_into, backend=backend)(x, w, h.copy())
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got[0]) == np.signbit(want[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_dimensional_and_product_updates(backend, rng):
    x, y = rng.random(80) * 1.2 - 0.1, rng.random(80) * 1.2 - 0.1
    np.testing.assert_array_equal(looptrace.jit(grid_counts, backend=backend)(x, y), grid_counts(x, y))
    v, labels = rng.standard_normal(40), rng.integers(0, 4, 40)
    np.testing.assert_allclose(looptrace.jit(products, backend=backend)(v, labels), products(v, labels),
                               rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bad_position_where_the_condition_holds_still_raises(backend):
    x, labels = np.array([1.0, -1.0, 2.0]), np.array([0, 7, 3])
    with pytest.raises(IndexError):
        unguarded(x, labels)
    with pytest.raises(IndexError):
        looptrace.jit(unguarded, backend=backend)(x, labels)
    labels = np.array([0, 7, 2])  # 7 only where x[i] <= 0: never read
    np.testing.assert_array_equal(looptrace.jit(unguarded, backend=backend)(x, labels), unguarded(x, labels))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 30), bins=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_generated_histograms(n, bins, seed):
    r = np.random.default_rng(seed)
    x, w = r.random(n) * 1.6 - 0.3, r.standard_normal(n)
    h0 = r.standard_normal(bins)
    want_h, got_h = h0.copy(), h0.copy()
    want = weighted_into(x, w, want_h)
    got = looptrace.jit(weighted_into, backend="interpret")(x, w, got_h)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got_h, want_h, rtol=1e-12)
