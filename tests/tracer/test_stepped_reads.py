"""A fold of a 1-d slice with a step other than 1 and traced bounds
(`x[p * p::p].sum()`, `np.min(x[a:b:-2])`) is a loop over the selected
positions (tracer/stepped.py `fold`), its elementwise ops taken again at
each: it costs the elements selected. Before, it was a masked fold over the
whole axis (a sieve-like sum per p ran at 0.81x the plain function, now
~100x), and max/min without initial= were refused.
Plain function against compiled on the interpret and cpu backends."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.ir.core import walk

BACKENDS = ["interpret", "cpu"]


def sieve_sums(x):
    tot = 0.0
    for p in range(2, x.shape[0]):
        tot += x[p * p::p].sum() + x[p::p].max(initial=-1.0)
    return tot


def folds(x, k):
    out = np.zeros((k.shape[0], 4))
    for t in range(k.shape[0]):
        a = k[t]
        out[t, 0] = (x[a::3] * 2.0 + 1.0).sum()
        out[t, 1] = np.min(x[a:a + 20:2])
        out[t, 2] = x[-1:a:-2].prod()
        out[t, 3] = np.max(x[a::4] - x[a::4] ** 2)
    return out


def int_folds(v, k):
    out = np.zeros((k.shape[0], 2), np.int64)
    for t in range(k.shape[0]):
        out[t, 0] = v[k[t]::2].sum()
        out[t, 1] = (v[k[t]::5] > 0).sum()
    return out


def empty_max(x, a):
    return x[a::2].max()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_sieve_of_sums(backend, rng):
    x = rng.random(300)
    f = looptrace.jit(sieve_sums, backend=backend)
    assert f(x) == pytest.approx(sieve_sums(x), rel=1e-12)
    ops = list(walk(f.explain(x).program.body))
    assert not any(op.prim.name.startswith("reduce") and op.inputs[0].shape == (300,) for op in ops)
    assert sum(op.prim.name == "for_loop" for op in ops) == 3  # p's loop, and one over each slice's positions


@pytest.mark.parametrize("backend", BACKENDS)
def test_folds_of_stepped_windows(backend, rng):
    x, k = rng.random(60) + 0.5, rng.integers(0, 40, 25)
    np.testing.assert_allclose(looptrace.jit(folds, backend=backend)(x, k), folds(x, k), rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_and_boolean_sums(backend, rng):
    v, k = rng.integers(-5, 5, 40).astype(np.int32), rng.integers(0, 45, 12)
    got, want = looptrace.jit(int_folds, backend=backend)(v, k), int_folds(v, k)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_max_of_nothing_raises_numpys_error(backend, rng):
    x = rng.random(10)
    assert looptrace.jit(empty_max, backend=backend)(x, 3) == empty_max(x, 3)
    with pytest.raises(ValueError, match="zero-size array") as plain:
        empty_max(x, 12)
    with pytest.raises(ValueError, match="zero-size array") as compiled:
        looptrace.jit(empty_max, backend=backend)(x, 12)
    assert str(plain.value) in str(compiled.value)


@settings(max_examples=25, deadline=None)  # (40 were 2.6 s of the suite; CI draws new examples every run)
@given(n=st.integers(0, 12), a=st.integers(-15, 15), b=st.integers(-15, 15),
       s=st.sampled_from([-3, -2, 2, 3, 5]), seed=st.integers(0, 2 ** 31))
def test_any_stepped_window(n, a, b, s, seed):
    x = np.random.default_rng(seed).standard_normal(n)

    def f(x, a, b):
        return x[a:b:s].sum(), x[a:b:s].prod(), x[a:b:s].max(initial=-9.0), x[b:a:s].min(initial=9.0)

    got = looptrace.jit(f, backend="interpret")(x, a, b)
    np.testing.assert_allclose(got, f(x, a, b), rtol=1e-12)


def stepped_moments(x, k):
    out = np.zeros((k.shape[0], 2))
    for t in range(k.shape[0]):
        out[t, 0] = x[k[t]::3].mean()
        out[t, 1] = x[k[t]::2].var()
    return out


def test_means_and_variances_of_stepped_windows(rng):
    x, k = rng.random(40), rng.integers(0, 30, 10)
    np.testing.assert_allclose(looptrace.jit(stepped_moments, backend="interpret")(x, k), stepped_moments(x, k),
                               rtol=1e-12)
