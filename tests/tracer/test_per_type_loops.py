"""A scalar whose type depends on what ran (an array element on one path, a
Python number on another, or elements of two dtypes) is kept in a dtype that
holds every type's values exactly (kinds.holding: int64 for a Python int
against a uint8, float64 for a Python float against a float32), and an op on
it runs the loop of the type that ran (semantics._loop_of_kinds/_each_type):
uint8's add, which wraps, where the uint8 ran; a Python int's where the int
did; float32's tanh where the float32 ran. Before (session-35 probe I), the
Python number took the element's dtype: `v = img[0] if c else 100; v + 200`
gave 44 for 300, a sentinel `best = 10**18` over int32 raised a builtins
OverflowError, and `max(x32[i], 0.1) / 3` computed in float32."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt

from .test_result_types_loops import check


def ifelse(img):
    if img[0] > 100:
        v = img[0]
    else:
        v = 100
    return v + 200


def max_builtin(img):
    return max(img[0], 100) + 200, min(img[0], 300) * 2


def carried_max(img):
    best = 100
    for i in range(img.shape[0]):
        if img[i] > best:
            best = img[i]
    return best + 200


def clip_low(img):
    out = np.zeros(img.shape[0], dtype=np.int64)
    for i in range(img.shape[0]):
        v = img[i]
        if v < 50:
            v = 50
        out[i] = v * 10
    return out


def int16_default(a):
    out = np.zeros(a.shape[0], dtype=np.int64)
    for i in range(a.shape[0]):
        v = a[i] if a[i] > 0 else 30000
        out[i] = v * 2
    return out


def float32_default(x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = max(x[i], 0.1) / 3.0
    return out


def big_sentinel(a):
    best = 10**18
    for i in range(a.shape[0]):
        if a[i] < best:
            best = a[i]
    return best


def sentinel_never_beaten(a):
    best = 10**9
    for i in range(a.shape[0]):
        if a[i] > 0 and a[i] < best:
            best = a[i]
    return best


def two_dtypes(img, big):
    out = np.zeros(img.shape[0], dtype=np.int64)
    for i in range(img.shape[0]):
        if img[i] > 100:
            v = img[i]
        else:
            v = big[i]
        out[i] = v + 200
    return out


def float32_or_float64(x32, y):
    out = np.zeros(x32.shape[0])
    for i in range(x32.shape[0]):
        v = x32[i] if x32[i] > 0 else y[i]
        out[i] = v / 3.0
    return out


def tanh_of_choice(x, w32):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = np.tanh(0.3 if x[i] > 0 else w32[i])
    return out


def u8(r, n):
    return r.integers(0, 256, n).astype(np.uint8)


CASES = [
    (ifelse, lambda r: (u8(r, 1),)),
    (max_builtin, lambda r: (u8(r, 1),)),
    (carried_max, lambda r: (u8(r, 4),)),
    (clip_low, lambda r: (u8(r, 6),)),
    (int16_default, lambda r: (r.integers(-30000, 30000, 6).astype(np.int16),)),
    (float32_default, lambda r: (r.standard_normal(6).astype(np.float32),)),
    (big_sentinel, lambda r: (r.integers(-1000, 1000, 5).astype(np.int32),)),
    (sentinel_never_beaten, lambda r: (r.integers(-20, 5, 4).astype(np.int16),)),
    (two_dtypes, lambda r: (u8(r, 6), r.integers(-5000, 5000, 6))),
    (float32_or_float64, lambda r: (r.standard_normal(6).astype(np.float32), r.standard_normal(6))),
    (tanh_of_choice, lambda r: (r.standard_normal(6), r.standard_normal(6).astype(np.float32))),
]


@pytest.mark.parametrize("fn,make", CASES, ids=[c[0].__name__ for c in CASES])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_each_type_runs_its_own_loop(fn, make, seed):
    check(fn, make(np.random.default_rng(seed)))


@pytest.mark.parametrize("fn,make", [CASES[i] for i in (0, 3, 8, 10)],
                         ids=[CASES[i][0].__name__ for i in (0, 3, 8, 10)])
def test_on_cpu(fn, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(3):
            check(fn, make(np.random.default_rng(seed)), backend="cpu")


# --- session-35 probe J: attacks on the above ------------------------------------------------
def min_builtin_sentinel(a):
    best = 10**18
    for i in range(a.shape[0]):
        best = min(best, a[i])
    return best


def max_builtin_start(a):
    s = 1000
    for i in range(a.shape[0]):
        s = max(a[i], s)
    return s


def if_statement_float(x):
    if x[0] > 0:
        v = 0.1
    else:
        v = x[0]
    return v


def made_draw_or_float32(x):
    rng = np.random.default_rng(7)
    v = 0.0
    for i in range(x.shape[0]):
        v = rng.standard_normal() if x[i] > 0 else x[i]
    return v


J_CASES = [
    (min_builtin_sentinel, lambda r: (r.integers(-50, 50, 3).astype(np.int32),)),
    (max_builtin_start, lambda r: (r.integers(-100, 100, 2).astype(np.int8),)),
    (if_statement_float, lambda r: (r.standard_normal(2).astype(np.float32),)),
    (made_draw_or_float32, lambda r: (r.standard_normal(3).astype(np.float32),)),
]


@pytest.mark.parametrize("fn,make", J_CASES, ids=[c[0].__name__ for c in J_CASES])
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_probe_j_attacks(fn, make, seed):
    check(fn, make(np.random.default_rng(seed)))


def python_int_overflow_on_one_path(b, c):
    s = 0
    for i in range(b.shape[0]):
        v = 300 if c[i] else b[i]
        s = s + v
    return s


def huge_sentinel_product(a, b):
    """Its first iteration converts 10**18 to int32 (plain: OverflowError);
    a cpu kernel converted the float holding it, which is undefined in LLVM,
    and crashed."""
    s = 10**18
    for i in range(a.shape[0]):
        s *= (b[i] if 1e-3 >= (a[i] * s) else 2)
        s = max(float(s), b[i])
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_python_int_that_does_not_fit_raises_where_it_ran(backend):
    b = np.array([1, 2, 3], np.uint8)
    with pytest.raises(OverflowError):
        python_int_overflow_on_one_path(b, np.array([False, True, False]))
    f = lt.jit(python_int_overflow_on_one_path, backend=backend)
    with pytest.raises(OverflowError, match="out of bounds for uint8"):
        f(b, np.array([False, True, False]))
    assert f(b, np.array([False, False, False])) == python_int_overflow_on_one_path(b, np.array([False] * 3))
    a, bb = np.array([-36, -12, -44], np.int32), np.array([47, -100, 40], np.int64)
    with pytest.raises(OverflowError):
        huge_sentinel_product(a, bb)
    with pytest.raises(OverflowError, match="out of bounds for int32"):
        lt.jit(huge_sentinel_product, backend=backend)(a, bb)
