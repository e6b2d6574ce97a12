"""np.bincount (tracer/np_counting.py) and np.gcd / np.lcm (ufuncs of
ops/elementwise.py, codegen/scalar_algorithms.py on the compiled targets):
values, dtypes and errors as NumPy's, most of it on the interpret backend,
a representative program on cpu and under the cuda simulator."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.codegen import scalar_algorithms
from tests.tracer._compare import assert_same, check

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def _run(fn, backend, *args):
    with np.errstate(all="ignore"):
        want = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
        got = looptrace.jit(fn, backend=backend)(*args)
    assert_same(got, want)
    return got


# --- bincount: values and dtypes --------------------------------------------------------------------
def counts(x):
    return np.bincount(x, minlength=9)


def weighted(x, w):
    return np.bincount(x, w, minlength=9), np.bincount(x, weights=w, minlength=12)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 20),
       dtype=st.sampled_from(["bool", "uint8", "int16", "uint32", "int64", "uint64"]),
       wdtype=st.sampled_from(["float64", "float32", "int32", "bool", "uint64"]))
def test_bincount_matches_numpy(seed, n, dtype, wdtype):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 9 if dtype != "bool" else 2, n).astype(dtype)
    w = (rng.standard_normal(n) * 10).astype(wdtype) if wdtype != "bool" else rng.random(n) > 0.5
    if wdtype == "uint64":
        w = rng.integers(0, 1000, n).astype(wdtype)
    check(counts, x)
    check(weighted, x, w)


def test_bincount_of_a_row_in_a_loop_batches(rng):
    def per_row(X, w):
        out = np.zeros((X.shape[0], 6))
        for i in range(X.shape[0]):
            out[i] = np.bincount(X[i], w * i, minlength=6)
        return out

    check(per_row, rng.integers(0, 6, (5, 7)), rng.standard_normal(7))


def test_bincount_minlength_from_an_int_argument_is_specialized(rng):
    def f(x, n):
        return np.bincount(x, minlength=n)

    x = rng.integers(0, 5, 10)
    jitted = looptrace.jit(f, backend="interpret")
    for n in (5, 8):
        assert_same(jitted(x, n), f(x, n))
    assert_same(looptrace.jit(f, backend="interpret", static_argnames=("n",))(x, 7), f(x, 7))


def test_bincount_gradient_matches_central_differences(rng):
    x = rng.integers(0, 6, 12)
    weights = rng.standard_normal(12)

    def loss(w):
        h = np.bincount(x, w, minlength=6)
        return np.sum(np.sin(h) * np.arange(1.0, 7.0))

    jitted = looptrace.jit(loss, backend="interpret")
    got = looptrace.grad(jitted)(weights)
    eps, want = 1e-6, np.zeros_like(weights)
    for k in range(weights.size):
        e = np.zeros_like(weights)
        e[k] = eps
        want[k] = (loss(weights + e) - loss(weights - e)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


# --- bincount: errors ---------------------------------------------------------------------------------
def test_bincount_past_minlength_raises_naming_the_length_and_the_line(rng):
    x = np.array([1, 3, 9, 2])
    with pytest.raises(ValueError, match=r"holds the value 9.*static length minlength = 9") as info:
        looptrace.jit(counts, backend="interpret")(x)
    assert "return np.bincount(x, minlength=9)" in str(info.value)
    assert __file__ in str(info.value)


def test_bincount_negative_raises_as_numpy_and_before_the_length_check():
    x = np.array([20, 1, -1])  # a value past minlength first, then a negative one: NumPy names the negative
    with pytest.raises(ValueError, match="'list' argument must have no negative elements"):
        counts(x)
    with pytest.raises(ValueError, match="'list' argument must have no negative elements"):
        looptrace.jit(counts, backend="interpret")(x)
    with pytest.raises(ValueError, match="'list' argument must have no negative elements"):  # a wrapped uint64
        looptrace.jit(counts, backend="interpret")(np.array([2**63 + 1], np.uint64))


@pytest.mark.parametrize("fn", [lambda x: np.bincount(x), lambda x: np.bincount(x, minlength=0),
                                lambda x: np.bincount(x, minlength=x[0])], ids=["none", "zero", "traced"])
def test_bincount_without_a_static_minlength_is_unsupported_with_a_hint(fn, rng):
    with pytest.raises(looptrace.UnsupportedError, match="minlength") as info:
        looptrace.jit(fn, backend="interpret")(rng.integers(1, 5, 6))
    assert "minlength=" in info.value.hint


def test_bincount_of_constant_positions_has_numpys_length(rng):
    """Positions written in the function (weights traced) size the result as
    NumPy does, with or without minlength."""
    def f(w):
        return (np.bincount(np.array([0, 4, 1, 4]), weights=w), np.bincount([3, 1, 1], w[:3], minlength=6),
                np.bincount(np.array([2, 0]), w[:2], minlength=1))

    check(f, rng.standard_normal(4))


@pytest.mark.parametrize("args, exc", [
    ((np.zeros((2, 2), np.int64),), ValueError), ((np.array(3),), ValueError),
    ((np.array([1.0, 2.0]),), TypeError), ((np.array([1, 2]), np.ones(3)), ValueError),
    ((np.array([1, 2]), np.ones(2, complex)), TypeError), ((np.array([1, 2]), np.ones((2, 1))), ValueError),
], ids=["2d", "0d", "float", "weights-length", "complex-weights", "2d-weights"])
def test_bincount_bad_arguments_raise_numpys_errors(args, exc):
    def f(*a):
        return np.bincount(*a, minlength=4)

    with pytest.raises(exc) as want:
        f(*args)
    with pytest.raises(exc) as got:
        looptrace.jit(f, backend="interpret")(*args)
    assert str(got.value).splitlines()[0] == str(want.value)


@pytest.mark.parametrize("minlength, exc", [(None, TypeError), (-1, ValueError), (True, TypeError)])
def test_bincount_bad_minlength_raises_numpys_error(minlength, exc):
    def f(x):
        return np.bincount(x, minlength=minlength)

    with pytest.raises(exc) as want:
        f(np.array([1, 2]))
    with pytest.raises(exc) as got:
        looptrace.jit(f, backend="interpret")(np.array([1, 2]))
    assert str(got.value) == str(want.value)


# --- gcd / lcm -------------------------------------------------------------------------------------
def gcd_lcm(a, b):
    return np.gcd(a, b), np.lcm(a, b), np.gcd(a, 6), np.lcm(-4, b)


def _extremes(dtype: str) -> np.ndarray:
    info = np.iinfo(dtype)
    small = [0, 1, 2, 3, 6, 12, 100] + ([-1, -6, -12, info.min + 1] if info.min < 0 else [])
    return np.array(small + [info.max, info.max - 1, info.min], dtype=dtype)


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_scalar_algorithms_gcd_lcm_match_numpy_at_the_extremes(dtype):
    """The one definition the compiled targets share, run as Python on NumPy
    scalars (as the CUDA simulator runs it)."""
    vals = _extremes(dtype)
    with np.errstate(all="ignore"):
        for a, b in itertools.product(vals, vals):
            assert np.array(scalar_algorithms.gcd(a, b)).astype(dtype) == np.gcd(a, b), (a, b)
            assert np.array(scalar_algorithms.lcm(a, b)).astype(dtype) == np.lcm(a, b), (a, b)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), da=st.sampled_from(INT_DTYPES), db=st.sampled_from(INT_DTYPES))
def test_gcd_lcm_match_numpy_with_broadcasting_and_mixed_widths(seed, da, db):
    rng = np.random.default_rng(seed)
    a = rng.integers(np.iinfo(da).min, np.iinfo(da).max, (3, 4), dtype=da, endpoint=True)
    b = rng.integers(max(np.iinfo(db).min, -60), 60, (4,), dtype=db, endpoint=True)
    try:
        with np.errstate(all="ignore"):
            gcd_lcm(a, b)
    except (TypeError, OverflowError) as e:  # no common loop (uint64 with a signed type), or -4 as unsigned
        with pytest.raises((type(e), looptrace.TraceError)):
            looptrace.jit(gcd_lcm, backend="interpret")(a, b)
        return
    check(gcd_lcm, a, b)


def test_gcd_of_scalars_and_bools_follow_numpy(rng):
    check(lambda a, k: (np.gcd(a, k), np.lcm(k, 10), np.gcd(a[0], a[1])), rng.integers(-50, 50, 5), 15)
    check(lambda a: np.gcd(a > 0, 4), rng.standard_normal(5))  # bool with a Python int: int64
    with pytest.raises((TypeError, looptrace.TraceError)):
        looptrace.jit(lambda a: np.gcd(a > 0, a < 0), backend="interpret")(rng.standard_normal(3))


def test_gcd_has_no_gradient(rng):
    def f(x):
        return np.sum(x * np.gcd(np.arange(4), 2))

    x = rng.standard_normal(4)
    np.testing.assert_allclose(looptrace.grad(looptrace.jit(f, backend="interpret"))(x), np.gcd(np.arange(4), 2))


# --- compiled: one representative program per target ---------------------------------------------------
def compiled_program(X, w, a8, b8, a64, u64):
    hist = np.zeros((X.shape[0], 5))
    for i in range(X.shape[0]):
        hist[i] = np.bincount(X[i], w, minlength=5)
    return (hist, np.bincount(X[0], minlength=7), np.gcd(a8, b8), np.lcm(a8, b8), np.gcd(a64, a64[::-1]),
            np.lcm(a64, 3), np.gcd(u64, u64[::-1]), np.lcm(u64, u64[::-1]))


def _compiled_args(rng):
    return (rng.integers(0, 5, (4, 6)), rng.standard_normal(6), _extremes("int8")[:12], _extremes("int8")[::-1][:12],
            _extremes("int64"), _extremes("uint64"))


def test_cpu_matches_the_plain_function(rng):
    args = _compiled_args(rng)
    _run(compiled_program, "cpu", *args)
    bad = list(args)
    bad[0] = args[0].copy()
    bad[0][2, 3] = 5  # in the loop's bincount, of length 5
    with pytest.raises(ValueError, match="holds the value 5.*static length minlength = 5"):
        looptrace.jit(compiled_program, backend="cpu")(*bad)


def test_cuda_simulator_matches_the_plain_function(rng):
    from tests.codegen.cuda._cuda_support import cuda_backend

    cuda_backend()
    _run(compiled_program, "cuda", *_compiled_args(rng))
