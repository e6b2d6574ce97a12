"""Order statistics of selections at their edges (session 45): an empty
window on cpu (a check folded to True made a kernel part that always raises,
which Numba could not compile), a slice stop that may be negative (NumPy
counts it from the end, so the static bound on the length does not hold: a
clear refusal while tracing, or the right numbers where the loop is short
enough to unroll), traced q of x[mask], and the empty axis of the plain
functions (np.percentile's IndexError where the call runs, the nan forms'
NaN)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.errors import ConcreteIndexError

from ._compare import assert_same, check


def _plain(fn, *args):
    """fn(*args), or the exception it raises; NumPy's RuntimeWarnings of empty slices silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001  (compared by class)
            return e


def _same_outcome(fn, args, backend="interpret"):
    expected = _plain(fn, *args)
    try:
        got = looptrace.jit(fn, backend=backend)(*args)
    except Exception as e:  # noqa: BLE001
        got = e
    if isinstance(expected, Exception):
        assert type(got) is type(expected), (got, expected)
        assert str(got).splitlines()[0] == str(expected), (got, expected)
    else:
        assert not isinstance(got, Exception), got
        assert_same(got, expected)
    return got


# --- 1. an empty window: NumPy's IndexError, on cpu too ---------------------------------------------------------
def empty_first_window(x, k):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = np.percentile(x[max(0, i - k):i], 50)  # x[0:0] at i = 0
    return out


def window_stats(x, k, q):
    out = np.empty((x.shape[0], 3))
    out[0] = 0.0
    for i in range(1, x.shape[0]):
        w = x[max(0, i - k):i]
        out[i, 0] = np.quantile(w, q[i])
        out[i, 1] = np.nanmedian(w)  # all-NaN windows: NaN
        out[i, 2] = np.nanpercentile(x[max(0, i - k):i - 1], 30)  # empty at i = 1: NaN
    return out


def more_window_stats(x, k, q):
    out = np.empty((x.shape[0], 3))
    out[0] = 0.0
    for i in range(1, x.shape[0]):
        out[i, 0] = np.percentile(x[max(0, i - k):i], 50)
        out[i, 1] = np.median(x[max(0, i - k):max(0, i - 3)])  # empty at i <= 3: NaN
        out[i, 2] = np.quantile(x[x > q[i]], q[0])  # traced q of x[mask]
    return out


def _stats_data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    x[5:9] = np.nan  # windows of NaNs only
    return x, rng.random(n)


def test_empty_window_interpret():
    x, q = _stats_data()
    _same_outcome(empty_first_window, (x, 3))
    _same_outcome(window_stats, (x, 3, q))
    _same_outcome(more_window_stats, (x, 3, q))


@pytest.mark.slow  # 6-7 s of CPU (session 48); the interpreter's twin above always runs
def test_empty_window_and_window_stats_cpu():
    x, q = _stats_data()
    with pytest.raises(IndexError, match="index -1 is out of bounds for axis 0 with size 0") as info:
        looptrace.jit(empty_first_window, backend="cpu")(x, 3)
    assert "test_selection_edges_s45.py" in "".join(getattr(info.value, "__notes__", ()))  # the user's line
    assert isinstance(_plain(empty_first_window, x, 3), IndexError)
    f = looptrace.jit(window_stats, backend="cpu")
    assert_same(f(x, 3, q), _plain(window_stats, x, 3, q))
    x2, q2 = _stats_data(seed=1)
    assert_same(f(x2, 3, q2), _plain(window_stats, x2, 3, q2))  # the same kernel on other data


def test_nan_forms_of_empty_and_all_nan_windows():
    def f(x, k):
        out = np.empty((x.shape[0], 4))
        for i in range(x.shape[0]):
            w = x[max(0, i - k):i]
            out[i, 0] = np.nanmedian(w)
            out[i, 1] = np.nanpercentile(w, 30)
            out[i, 2] = np.nanquantile(w, 0.7)
            out[i, 3] = np.median(w)
        return out

    x = np.random.default_rng(3).standard_normal(12)
    x[2:6] = np.nan
    _same_outcome(f, (x, 2))


# --- 2. a stop that may be negative ------------------------------------------------------------------------------
def stop_may_wrap(x, k):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = np.median(x[max(0, i - k):i - 3])  # x[0:n - 3] at i = 0
    return out


def stop_wraps_below_k(x, k):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = np.median(x[max(0, i - k):i + 1 - k])
    return out


def stop_kept_from_wrapping(x, k):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = np.median(x[max(0, i - k):max(0, i - 3)])
    return out


@pytest.mark.parametrize("fn", [stop_may_wrap, stop_wraps_below_k])
def test_negative_stop_refused_while_tracing(fn):
    x = np.random.default_rng(4).standard_normal(80)  # too long a loop to unroll
    with pytest.raises(ConcreteIndexError, match="stop may be negative") as info:
        looptrace.jit(fn, backend="interpret")(x, 5)
    text = str(info.value)
    assert "report this" not in text and "test_selection_edges_s45.py" in text and "max(0, i - 3)" in text


@pytest.mark.parametrize("fn", [stop_may_wrap, stop_wraps_below_k, stop_kept_from_wrapping])
def test_negative_stop_short_loop_exact(fn):
    x = np.random.default_rng(5).standard_normal(9)  # unrolled: each slice NumPy's
    _same_outcome(fn, (x, 5))
    _same_outcome(fn, (x, 2))


def test_stop_kept_from_wrapping_is_narrowed():
    x = np.random.default_rng(6).standard_normal(80)
    for k in (2, 5):
        check(stop_kept_from_wrapping, x, k)
    assert looptrace.explain(stop_kept_from_wrapping, x, 5).loops[0].kind == "vectorized"


def test_loop_start_and_negative_static_stop():
    def from_s(x, s, k):
        out = np.zeros(x.shape[0])
        for i in range(s, x.shape[0]):
            out[i] = np.median(x[max(0, i - k):i]) + np.percentile(x[max(0, i - k):-1], 20)
        return out

    x = np.random.default_rng(7).standard_normal(70)
    check(from_s, x, 1, 3)
    _same_outcome(from_s, (x, 0, 3))  # x[0:0] at i = 0: NaN


def _lo_max(i, a, n):
    return max(0, i - a)


def _lo_minus(i, a, n):
    return i - a


def _lo_plus(i, a, n):
    return i + a


def _lo_min(i, a, n):
    return min(n, i + a)


def _median(w):
    return np.median(w)


def _percentile(w):
    return np.percentile(w, 30)


def _nanmedian(w):
    return np.nanmedian(w)


_ENDS = (_lo_max, _lo_minus, _lo_plus, _lo_min)
_STATS = (_median, _percentile, _nanmedian)
_MADE: dict = {}


def _window_fn(lo, hi, stat):
    def f(x, a, b):
        n = x.shape[0]
        out = np.empty(n)
        for i in range(n):
            out[i] = stat(x[lo(i, a, n):hi(i, b, n)])
        return out

    return _MADE.setdefault((lo, hi, stat), f)


# pairs of ends whose difference is not static (x[i - a:i + b] is a window of static length: windows.py)
_VARYING = [(lo, hi) for lo in _ENDS for hi in _ENDS if _lo_max in (lo, hi) or _lo_min in (lo, hi)]


@settings(max_examples=25, deadline=None)
@given(ends=st.sampled_from(_VARYING), stat=st.sampled_from(_STATS), a=st.integers(0, 4), b=st.integers(-1, 4),
       n=st.sampled_from([1, 3, 6, 70]), seed=st.integers(0, 2**16))
def test_generated_window_bounds(ends, stat, a, b, n, seed):
    """Plain against interpret: the values, or the same error class; a loop
    too long to unroll (n = 70) may instead refuse while tracing with the
    slice's error (ConcreteIndexError), never a "report this"."""
    x = np.random.default_rng(seed).standard_normal(n)
    f = _window_fn(*ends, stat)
    expected = _plain(f, x, a, b)
    try:
        got = looptrace.jit(f, backend="interpret")(x, a, b)
    except ConcreteIndexError as e:
        assert n > 64 and "report this" not in str(e), e
        return
    except Exception as e:  # noqa: BLE001
        got = e
    if isinstance(expected, Exception):
        assert type(got) is type(expected), (got, expected)
    else:
        assert not isinstance(got, Exception), got
        assert_same(got, expected)


def test_length_one_window_at_negative_start():
    def f(x):
        out = np.empty(x.shape[0])
        for i in range(x.shape[0]):
            out[i] = np.median(x[i - 1:i])  # x[-1:0] at i = 0: empty, NaN
        return out

    _same_outcome(f, (np.arange(5.0) + 3,))


# --- 3. traced q of x[mask] --------------------------------------------------------------------------------------
def test_traced_q_of_mask_selection():
    rng = np.random.default_rng(8)
    x = rng.standard_normal(12)
    x[3] = np.nan
    q = rng.random(4)
    check(lambda x, q: np.quantile(x[x > 0], q[0]), x, q)
    check(lambda x, q: np.percentile(x[x > 0], q[:2] * 100), x, q)
    check(lambda x, q: np.quantile(x[x > 0], q[0].astype(np.float32)), x, q)
    check(lambda x, q: (np.nanquantile(x[x > -5], q[:3]), np.nanpercentile(x[x > 0], q[1] * 100)), x, q)
    check(lambda x, q: np.nanquantile(x[x > 0], [0.2, 0.7]), x, q)  # (a static q array: was a ShapeError)
    check(lambda x, q: np.quantile(x.reshape(3, 4)[x.reshape(3, 4) > 0], q[1:3]), x, q)
    _same_outcome(lambda x, q: np.quantile(x[x > 10], q[0]), (x, q))  # empty: IndexError
    _same_outcome(lambda x, q: np.quantile(x[x > 0], q[:2] + 1), (x, q))  # ValueError


# --- the empty axis of the plain functions -----------------------------------------------------------------------
def test_empty_axis_of_arrays():
    x = np.random.default_rng(9).standard_normal(6)

    def in_untaken_branch(x):
        out = np.zeros(3)
        for i in range(3):
            if x[i] > 5:
                out[i] = np.quantile(x[i:i], 0.5)
        return out

    for fn in (lambda x: np.percentile(x[:0], 30.0), lambda x: np.quantile(x.reshape(3, 2)[:, :0], [0.3, 0.6], axis=1),
               in_untaken_branch, lambda x: np.median(x[:0]), lambda x: np.nanmedian(x[:0]),
               lambda x: np.nanpercentile(x[:0], [20, 50]),  # NumPy: np.nanmean of it, whatever q's shape
               lambda x: np.nanpercentile(x.reshape(2, 3)[:0], [20, 50], axis=1, keepdims=True),
               lambda x: np.nanpercentile(x.reshape(2, 3)[:, :0].astype(np.float32), [20, 50], axis=1, keepdims=True),
               lambda x: np.nanpercentile(x[:0].astype(np.int64), 40), lambda x: np.nanmedian(x.reshape(2, 3)[:, :0], 1)):
        _same_outcome(fn, (x,))


def quantile_of_selection(x, q):
    return np.quantile(x[x > 0], q[0]), np.percentile(x, q * 100)


@pytest.mark.parametrize("bad", [np.nan, -0.25, 1.5, np.inf])
def test_a_traced_q_outside_the_range_or_nan_raises_numpys_value_error(bad):
    """NumPy 2's check `0 <= q <= 1` fails for NaN too (it used to pass the
    traced check and index with a garbage position: IndexError)."""
    x = np.random.default_rng(45).standard_normal(12)
    q = np.array([bad, 0.5])
    with pytest.raises(ValueError, match="must be in the range"):
        quantile_of_selection(x, q)
    with pytest.raises(ValueError, match="must be in the range"):
        looptrace.jit(quantile_of_selection, backend="interpret")(x, q)
