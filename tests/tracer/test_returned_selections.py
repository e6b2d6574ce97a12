"""A returned array whose length the data decides: `x[x > t]`, the count-
then-slice idiom of Numba code (`out[:c]`), rows chosen by a mask, a slice
whose bounds are read from an array. The run returns the whole array and the
mask (or the clipped bounds); NumPy picks after the run (trace.py `_picked`):
a copy for a mask, a view for a slice, as NumPy's. Before, each was refused
("returning it ... needs that length"). A slice an int argument bounds is
still specialized on that argument (one version per value)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import looptrace

BACKENDS = ["interpret", "cpu"]


def above(x, t):
    return x[x > t]


def count_then_slice(a, t):
    out = np.empty(a.shape[0], np.int64)
    c = 0
    for i in range(a.shape[0]):
        if a[i] > t:
            out[c] = i
            c += 1
    return out[:c]


def rows_with_positive_sums(x):
    s = x.sum(axis=1)
    return x[s > 0], s


def tail_after_first_negative(x):
    k = 0
    while k < x.shape[0] and x[k] >= 0:
        k += 1
    return x[k:], x[:k].sum()


def _same(want, got):
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(want) == len(got)
    for w, g in zip(want, got):
        assert np.asarray(g).dtype == np.asarray(w).dtype and np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-12)  # (a float sum may be reassociated)


@pytest.mark.parametrize("backend", BACKENDS)
def test_returned_selections_match_numpy(backend):
    r = np.random.default_rng(31)
    x, m = r.standard_normal(40), r.standard_normal((7, 3))
    for f, args in [(above, (x, 0.3)), (count_then_slice, (x, 0.1)), (rows_with_positive_sums, (m,)),
                    (tail_after_first_negative, (np.abs(x) * np.where(np.arange(40) == 17, -1, 1),))]:
        jf = looptrace.jit(f, backend=backend)
        _same(f(*args), jf(*args))
        _same(f(*args), jf(*args))  # the warm path too


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_returned_slice_of_an_argument_is_a_view_of_it(backend):
    x = np.abs(np.random.default_rng(32).standard_normal(12)) + 0.1
    x[5] = -1.0
    got, _ = looptrace.jit(tail_after_first_negative, backend=backend)(x)
    assert np.shares_memory(got, x)
    got[0] = 42.0
    assert x[5] == 42.0


def test_eval_shape_leaves_the_length_open_and_vjp_says_why():
    x = np.random.default_rng(33).standard_normal(9)
    s = looptrace.eval_shape(above, x, 0.2)
    assert s.shape == (None,) and s.dtype == np.float64
    out, vjp_fn = looptrace.vjp(lambda x: above(x, 0.2) * 2.0, x)
    np.testing.assert_allclose(out, above(x, 0.2) * 2.0)
    with pytest.raises(looptrace.UnsupportedError, match="known only at run time"):
        vjp_fn(np.ones(out.shape[0]))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 30), t=st.floats(-2, 2), seed=st.integers(0, 2**32 - 1))
def test_count_then_slice_on_random_data(n, t, seed):
    a = np.random.default_rng(seed).standard_normal(n)
    _same(count_then_slice(a, t), looptrace.jit(count_then_slice, backend="interpret")(a, t))
