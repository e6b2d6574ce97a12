"""Slice views of run-time bounds written in place through a name, and
windows of length 1 at a negative start (session 46, helper S).

1. `s = x[ptr[i]:ptr[i + 1]]; s *= 2`: s is a view of x in NumPy, so x
   changes; the in-place operator of a slice whose bounds are read from an
   array (or with a step) gave a new selection, which only the subscripted
   form `x[a:b] *= 2` wrote back (through its setitem). The selection's
   in-place operator now writes it back however it is reached
   (MaskedSelection.inplace; session 47 in test_view_writes_s47.py).
2. `x[s:s + 1]` at s = -1 is NumPy's x[-1:0], empty: read as an array it gave
   [x[-1]] (np.median, .copy(), np.sort); now its order statistics are of the
   masked window (NaN, as NumPy's), and a use that needs the array raises.
Every check runs the plain function beside the interpreter (one cpu kernel
for each item).
"""
import warnings

import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import SliceOverrunError


def _run(f, args, backend="interpret"):
    """(result or exception, the arguments after the call)."""
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # (np.median of an empty slice)
            res = f(*args) if backend is None else lt.jit(f, backend=backend)(*args)
    except Exception as e:  # noqa: BLE001
        res = e
    return res, args


def _same(f, *args, backend="interpret"):
    want, want_args = _run(f, args, None)
    got, got_args = _run(f, args, backend)
    if isinstance(want, Exception):
        assert isinstance(got, type(want)), (got, want)
        return
    assert not isinstance(got, Exception), got
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)
        assert np.asarray(g).dtype == np.asarray(w).dtype
    for w, g in zip(want_args, got_args):
        if isinstance(w, np.ndarray):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)


# --- 1. in place through a name bound to a slice of run-time bounds -------------------------------------------------
def scaled(x, ptr):
    for i in range(ptr.shape[0] - 1):
        s = x[ptr[i]:ptr[i + 1]]
        s *= 2.0
    return x


def scaled_then_read(x, ptr):
    sums = np.zeros(ptr.shape[0] - 1)
    for i in range(ptr.shape[0] - 1):
        s = x[ptr[i]:ptr[i + 1]]
        s += 1.0
        sums[i] = s.sum()  # the view sees the write
    return sums


def stepped(x, ptr):
    for i in range(ptr.shape[0] - 1):
        s = x[ptr[i]:ptr[i + 1]:2]
        s -= 3.0
    return x


def columns(x, ptr):
    for i in range(ptr.shape[0] - 1):
        s = x[:, ptr[i]:ptr[i + 1]]
        s *= 0.5
    return x


def one_column(x, ptr):
    for i in range(ptr.shape[0] - 1):
        s = x[ptr[i]:ptr[i + 1], 1]
        s += 10.0
    return x


def aliased(x, ptr):
    for i in range(ptr.shape[0] - 1):
        s = x[ptr[i]:ptr[i + 1]]
        t = s
        t *= 3.0
    return x


def of_a_row(x, ptr):
    r = x[1]
    s = r[ptr[0]:ptr[2]]
    s += 1.0
    return x


def scalar_bounds(x, a, b):
    s = x[a:b]
    s *= 2.0
    t = x[a:b:2]
    t += 1.0
    return x


def static_bounds(x):
    s = x[2:5]
    s *= 2.0
    return x


def cast_refused(x, ptr):
    s = x[ptr[0]:ptr[1]]
    s *= 1.5  # int x: NumPy's UFuncTypeError (same_kind casting), x unchanged
    return x


def direct(x, ptr):
    for i in range(ptr.shape[0] - 1):
        x[ptr[i]:ptr[i + 1]] *= 2.0
    return x


@pytest.mark.parametrize("f, shape", [(scaled, 8), (scaled_then_read, 8), (stepped, 8), (columns, (3, 8)),
                                      (one_column, (8, 3)), (aliased, 8), (of_a_row, (2, 8)), (direct, 8)])
def test_inplace_through_a_named_view_writes_the_array(f, shape, rng):
    _same(f, rng.standard_normal(shape), np.array([0, 2, 5, 8]))
    _same(f, rng.standard_normal(shape), np.array([0, 0, 7, 8]))  # (an empty segment)


def test_inplace_through_views_of_scalar_and_static_bounds(rng):
    _same(scalar_bounds, rng.standard_normal(9), 1, 8)
    _same(scalar_bounds, rng.standard_normal(9), -6, -1)
    _same(static_bounds, rng.standard_normal(8))


def test_inplace_cast_through_a_named_view_raises_as_numpy():
    _same(cast_refused, np.arange(8), np.array([1, 4]))  # (NumPy's own class: numpy_errors.py)


def test_names_not_bound_to_a_subscript_keep_pythons_augmented_assignment(rng):
    def f(x, n):
        acc = 0.0
        for i in range(n):
            acc += x[i]
        v = x[0]
        v += 1.0  # a NumPy scalar, a copy: x unchanged
        y = x
        y += 1.0  # a whole array: an in-place write NumPy makes too
        return acc, v, y

    _same(f, rng.standard_normal(5), 5)


# --- 2. x[s:s + 1] at s = -1: NumPy's x[-1:0], empty -------------------------------------------------------------
def moving_stats(x):
    out = np.zeros((x.shape[0], 6))
    for i in range(x.shape[0]):
        w = x[i - 1:i]  # x[-1:0] at i = 0: empty
        out[i, 0] = np.median(w)
        out[i, 1] = np.nanmedian(w * 2.0)
        out[i, 2] = w.sum()
        out[i, 3] = np.max(w, initial=-9.0)
        v = x[i - 2:i]  # x[-2:0], x[-1:1]: empty at i = 0, 1
        out[i, 4] = np.median(v)
        out[i, 5] = v.mean() if i >= 2 else 0.0
    return out


def test_length_one_window_at_negative_start_order_statistics(rng):
    _same(moving_stats, rng.standard_normal(6))
    _same(moving_stats, rng.standard_normal(1))


def at_start(x, s):
    w = x[s:s + 1]
    return np.median(w), np.percentile(w, 50) if s != -1 else 0.0, w.sum(), np.mean(x[s - 1:s + 1])


@pytest.mark.parametrize("s", [-6, -5, -2, -1, 0, 3, 4])
def test_length_one_window_of_a_scalar_start(s, rng):
    _same(at_start, rng.standard_normal(5), s)


def materialized(x, s):
    return x[s:s + 1].copy()


def sorted_sum(x, s):
    return np.sort(x[s:s + 1]).sum()


def column_window(x, s):
    return x[s:s + 1, 1] * 2.0


def written(x, s):
    x[s:s + 1, 0] = 9.0
    return x


@pytest.mark.parametrize("f, shape", [(materialized, 5), (sorted_sum, 5), (column_window, (5, 2)), (written, (5, 2))])
def test_length_one_window_that_needs_its_array_at_minus_one(f, shape, rng):
    """NumPy's slice is empty there, a traced one keeps its length 1: an
    IndexError, never x[-1]; elsewhere NumPy's values (x[-2:-1] is x[3])."""
    x = rng.standard_normal(shape)
    with pytest.raises(IndexError):
        lt.jit(f, backend="interpret")(x.copy(), -1)
    for s in (-5, -2, 0, 4):
        _same(f, x, s)


def test_length_one_window_write_names_the_slice():
    with pytest.raises(SliceOverrunError, match=r"x\[-1:0\] is empty"):
        lt.jit(written, backend="interpret")(np.ones((5, 2)), -1)


def both_cpu(x, ptr, y, s):
    """Item 1: a 1-d segment scaled then read, a 2-d column segment; item 2:
    order statistics and a sum of x[i - 1:i], x[i - 2:i], a copy of x[s:s + 1]."""
    sums = np.zeros(ptr.shape[0] - 1)
    for i in range(ptr.shape[0] - 1):
        seg = y[0, ptr[i]:ptr[i + 1]]
        seg *= 2.0
        sums[i] = seg.sum()
        t = y[:, ptr[i]:ptr[i + 1]]
        t += 1.0
    out = np.zeros((x.shape[0], 3))
    for i in range(x.shape[0]):
        w = x[i - 1:i]
        out[i, 0] = np.median(w)
        out[i, 1] = w.sum()
        out[i, 2] = np.median(x[i - 2:i])
    return sums, out, x[s:s + 1].copy()


# slow: the views and in-place writes are the tracer's (checked on the interpreter above); their cpu
# lowerings (strided views, segment sums, order statistics) are compiled by tests/codegen.
@pytest.mark.slow
def test_both_cpu(rng):
    """One kernel for both items."""
    x, ptr = rng.standard_normal(6), np.array([0, 3, 3, 7, 10])
    f = lt.jit(both_cpu, backend="cpu")
    for s in (-3, 0, 5):
        y = rng.standard_normal((2, 10))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want, want_y = both_cpu(x, ptr, y.copy(), s), y.copy()
            both_cpu(x, ptr, want_y, s)
        got_y = y.copy()
        for w, g in zip(want, f(x, ptr, got_y, s)):
            np.testing.assert_allclose(g, w, rtol=1e-12)
        np.testing.assert_allclose(got_y, want_y, rtol=1e-12)
    try:  # NumPy's empty copy (where s is specialized on), or an IndexError: never [x[-1]]
        assert f(x, ptr, y, -1)[2].shape == (0,)
    except IndexError:
        pass
