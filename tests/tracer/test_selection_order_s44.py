"""np.median / np.percentile / np.quantile (and the nan forms) of selections:
boolean-mask reads `x[x > t]` and slices of varying length with a static
bound on their length (a moving median `x[max(0, i - k):i + 1]`), each
against the plain function on random data (tracer/selected_order.py)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import looptrace as lt
from looptrace.errors import ConcreteIndexError


def movmed(x, k):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        lo = max(0, i - k)
        out[i] = np.median(x[lo:i + 1])
    return out


def centered(x, k):
    n = x.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = np.median(x[max(0, i - k):min(n, i + k + 1)])
    return out


def order_stats(x, k):
    out = np.empty((x.shape[0], 5))
    for i in range(x.shape[0]):
        w = x[max(0, i - k):i + 1]
        out[i, 0] = np.nanmedian(w)
        out[i, 1] = np.nanpercentile(w, 75)
        out[i, 2] = np.quantile(w, 0.4)
        out[i, 3] = np.percentile(w, 12.5)
        out[i, 4] = np.median(np.abs(w - np.median(w)))  # a window's arithmetic keeps its bound
    return out


def masked(x, t):
    sel = x[x > t]
    return np.median(sel), np.percentile(sel, [10, 50, 90]), np.nanmedian(sel), np.quantile(sel, 0.25)


def expanding(x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = np.median(x[:i + 1])
    return out


def _same(p, r):
    p = p if isinstance(p, tuple) else (p,)
    r = r if isinstance(r, tuple) else (r,)
    assert len(p) == len(r)
    for u, v in zip(p, r):
        u, v = np.asarray(u), np.asarray(v)
        assert u.dtype == v.dtype and u.shape == v.shape
        np.testing.assert_array_equal(u, v)


def _run(f, *args, backend="interpret"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = f(*args)
        got = lt.jit(f, backend=backend)(*args)
    _same(expected, got)


def _data(kind: str, n: int = 200, seed: int = 0):
    """The same data for a test however xdist orders the tests (a generator
    shared by the module gave each test whatever was drawn before it)."""
    rng = np.random.default_rng([20261206, seed, sum(map(ord, kind))])
    if kind == "f64":
        return rng.standard_normal(n)
    if kind == "f32":
        return rng.standard_normal(n).astype(np.float32)
    if kind == "int":
        return rng.integers(-20, 20, n)
    if kind == "nan":
        x = rng.standard_normal(n)
        x[rng.integers(0, n, 6)] = np.nan
        x[40:46] = np.nan  # a window of NaNs only
        return x
    if kind == "ties":
        return rng.choice(np.array([-1.5, -0.0, 0.0, 2.0, np.inf, -np.inf]), n)
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["f64", "f32", "int", "nan", "ties"])
@pytest.mark.parametrize("k", [0, 1, 5])
def test_moving_median_matches_plain(kind, k):
    _run(movmed, _data(kind), k)


@pytest.mark.parametrize("kind", ["f64", "int", "nan"])
def test_centered_and_other_order_statistics(kind):
    x = _data(kind)
    _run(centered, x, 3)
    _run(order_stats, x, 4)


def test_moving_median_is_a_batched_window_specialized_on_k():
    x = _data("f64", 500)
    e = lt.explain(movmed, x, 5)
    assert [lp.kind for lp in e.loops] == ["vectorized"]
    assert any("specialized on `k`" in note for note in e.notes)
    ir = str(e)
    assert "sort" in ir and "float64[500,6]" in ir  # a window of k + 1 elements per iteration, not the axis


@pytest.mark.parametrize("t", [-0.3, 0.9, 2.5])
def test_boolean_mask_order_statistics(t):
    for kind in ("f64", "nan", "int"):
        x = _data(kind).astype(np.float64)
        x[:3] = t + np.array([0.5, 1.0, 2.0])  # a selection that is never empty (np.percentile raises there)
        _run(masked, x, t)


def test_empty_selection_median_nan_percentile_index_error():
    x = _data("f64")

    def med(x, t):
        return np.median(x[x > t]), np.nanmedian(x[x > t])

    def pct(x, t):
        return np.percentile(x[x > t], 50)

    _run(med, x, 100.0)
    with pytest.raises(IndexError):
        pct(x, 100.0)
    with pytest.raises(IndexError):
        lt.jit(pct, backend="interpret")(x, 100.0)
    assert lt.jit(pct, backend="interpret")(x, 0.0) == pct(x, 0.0)


def test_unbounded_window_keeps_the_slice_error():
    # x[:i + 1] has no static bound: the whole axis would be sorted at every iteration
    with pytest.raises(ConcreteIndexError, match="order statistic"):
        lt.jit(expanding, backend="interpret")(_data("f64", 400))


def test_percentile_of_a_constant_array_inside_jit():
    # NumPy 2.4 dropped interpolation=: the untraced path must not pass it
    c = np.array([3.0, 1.0, 2.0, 7.0])

    def f(x):
        return x * np.percentile(c, 40) + np.nanquantile(c, 0.5)

    _run(f, _data("f64", 8))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(0, 8), q=st.floats(0, 100), seed=st.integers(0, 2**31))
def test_moving_percentile_property(n, k, q, seed):
    x = np.random.default_rng(seed).standard_normal(n).round(1)  # ties

    def f(x, k):
        out = np.empty((x.shape[0], 2))
        for i in range(x.shape[0]):
            w = x[max(0, i - k):min(x.shape[0], i + 2)]
            out[i, 0] = np.percentile(w, q)
            out[i, 1] = np.median(w)
        return out

    _run(f, x, k)


def test_moving_median_cpu():
    x = _data("nan", 300)
    _run(movmed, x, 5, backend="cpu")
    _run(masked, _data("f64"), 0.2, backend="cpu")


def test_traced_q_out_of_range_is_numpys_value_error():
    def moving(x, q):
        out = np.empty(x.shape[0])
        for i in range(x.shape[0]):
            out[i] = np.percentile(x[max(0, i - 2):i + 1], q[i])
        return out

    def whole(x, q):
        out = np.empty(x.shape[0])
        for i in range(x.shape[0]):
            out[i] = np.quantile(x, q[i] / 100)
        return out

    x = _data("f64", 20)
    q = np.random.default_rng(192).random(20) * 100
    _run(moving, x, q)
    _run(whole, x, q)
    q[7] = 101.0
    for f in (moving, whole):
        with pytest.raises(ValueError, match="must be in the range"):
            f(x, q)
        with pytest.raises(ValueError, match="must be in the range"):
            lt.jit(f, backend="interpret")(x, q)


def test_float32_q_keeps_a_float32_result():
    x = _data("f32", 30)

    def f(x, t):
        return np.quantile(x[x > t], np.float32(0.5)), np.percentile(x[x > t], np.float32(50)), \
            np.quantile(x, np.float32(0.5))

    _run(f, x, 0.0)
