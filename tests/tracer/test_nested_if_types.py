"""A value whose type a nested traced `if` chooses keeps that type after the
outer `if` (tracer/control.py `_hidden_tags`: the tag made inside a branch is
one more result of the branches). Before, the tag stayed inside the branch
and the value came back in the type it was held in: a float32 chosen two
ifs deep came back np.float64, a Python float np.float64 (session-34 probes
A and E). Compared with the plain function on fresh data, types included."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


from .test_result_types_loops import check


def two_ifs_float32(x):
    bv = 0.0
    for i in range(3):
        if x[0] > 0:
            if x[i] > 0:
                bv = x[i]
    return bv


def elif_never_taken(x):
    s = 0.0
    for i in range(x.shape[0]):
        if i % 2 == 0:
            pass
        elif x[i] > 5:
            s += x[i]
    return s


def continue_then_if(x):
    s = 0
    for i in range(x.shape[0]):
        if x[i] < -1.0:
            continue
        if x[i] > 0.5:
            s += 1.5
    return s


def inner_loop_after_if(h, y):
    bv = -1.0
    for i in range(3):
        if h[i] > 0.0:
            bv = y[0] * 2.0
        if h[i] < -1.0:
            continue
        for j in range(2):
            bv = j * 0.5
    return bv


def three_deep(x, y32):
    v = 0
    for i in range(x.shape[0]):
        if x[i] > 0:
            if x[i] > 0.5:
                if x[i] > 1.0:
                    v = y32[i]
                else:
                    v = 2.5
    return v


def no_loop(x, y32):
    r = 1
    if x[0] > 0:
        if x[1] > 0:
            r = y32[0]
        else:
            r = 0.5
    return r


def nested_ifexp_carry(M, z):
    si = 0
    for i in range(3):
        si += (M[0] if z[0] > 0.0 else (2 if i % 2 == 0 else si))
    return si


def nested_ifexp_triangle(M, z):
    n = M.shape[0]
    si = 0
    for i in range(n):
        for j in range(i + 1, n):
            si += (M[j] if z[i] > 0.0 else (2 if i % 2 == 0 else si))
    return si


def nested_ifexp_inline(x, y32):
    v = 0.5
    for i in range(x.shape[0]):
        v = v * 0.5 + (y32[i] if x[i] > 1.0 else (0.25 if x[i] > 0 else v))
    return v


CASES = [
    (two_ifs_float32, lambda r: (r.standard_normal(3).astype(np.float32),)),
    (elif_never_taken, lambda r: (r.standard_normal(6),)),
    (continue_then_if, lambda r: (r.standard_normal(7),)),
    (inner_loop_after_if, lambda r: (r.standard_normal(3), r.standard_normal(1))),
    (three_deep, lambda r: (r.standard_normal(8), r.standard_normal(8).astype(np.float32))),
    (no_loop, lambda r: (r.standard_normal(2), r.standard_normal(1).astype(np.float32))),
    (nested_ifexp_carry, lambda r: (r.integers(-5, 6, 2), r.standard_normal(2))),
    (nested_ifexp_triangle, lambda r: (r.integers(-5, 6, 6), r.standard_normal(6) - 1.0)),
    (nested_ifexp_inline, lambda r: (r.standard_normal(5), r.standard_normal(5).astype(np.float32))),
]


@pytest.mark.parametrize("fn,make", CASES, ids=[c[0].__name__ for c in CASES])
@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_nested_ifs_keep_the_type_that_ran(fn, make, seed):
    check(fn, make(np.random.default_rng(seed)))


@pytest.mark.parametrize("fn,make", CASES[:3], ids=[c[0].__name__ for c in CASES[:3]])
def test_on_cpu(fn, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(3):
            check(fn, make(np.random.default_rng(seed)), backend="cpu")
