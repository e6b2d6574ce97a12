"""Loops of mathlib's float32 trigonometry and of argext's row helpers stay
vectorized, in lanes as wide as their elements (issue 11: wrapping NumPy in
looptrace must not make it slower), and keep NumPy's answers: the first
occurrence of the best, the first NaN (of either sign) winning."""
from __future__ import annotations

import re

import numba
import numpy as np
import pytest

from looptrace.codegen.cpu import argext, mathlib


def _vector_types(llvm: str) -> set[str]:
    return set(re.findall(r"<\d+ x (?:i\d+|float|double)>", llvm))


@pytest.mark.parametrize("fn", [mathlib.sin_f32, mathlib.cos_f32])
def test_float32_trig_loop_is_vectorized(fn):
    """cos_f32 once chose between 1.0 and its reduction's result as a branch
    around the reduction: LLVM kept it, the loop stayed scalar (250k: 2.4 ms
    against sin_f32's 0.45)."""
    @numba.njit(error_model="numpy", boundscheck=False)
    def apply(x, out):
        mathlib.wide_vectors()  # as a kernel's functions
        mathlib.no_gathers()
        for i in range(x.shape[0]):
            out[i] = fn(x[i])

    x = np.linspace(-10, 10, 64, dtype=np.float32)
    out = np.empty_like(x)
    apply(x, out)
    assert any(t.endswith(" x double>") for t in _vector_types(apply.inspect_llvm(apply.signatures[0])))


def _fresh(helper):
    """The helper compiled here (its cached version cannot be inspected)."""
    return numba.njit(nogil=True)(helper.py_func)


# argmin_rows with -m slow: argmax_rows's _rows_any with upper=False (0.5 s in e17f737's CI)
@pytest.mark.parametrize("upper", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_float32_rows_take_32_bit_lanes(upper):
    """The best of a float32 block (keys, a NaN's key the extreme one) and the
    position of the first match (int32 positions) take 32-bit lanes: as int64
    (a count of NaNs, int64 positions), 8 float32 to a vector, not 16
    ((300, 4000): 0.098 ms, NumPy 0.062; now 0.065)."""
    helper = _fresh(argext.argmax_rows if upper else argext.argmin_rows)
    x = np.random.default_rng(0).standard_normal((3, 3000)).astype(np.float32)
    out = np.empty(3, np.int64)
    helper(x, out, 0, 3)
    types = _vector_types(helper.inspect_llvm(helper.signatures[0]))
    assert any(t.endswith(" x i32>") for t in types), types
    assert not any(t.endswith(" x i64>") for t in types), types


@numba.njit
def _argmax_rows(x, out):  # (the helpers have no Python wrapper: kernels call them)
    argext.argmax_rows(x, out, 0, x.shape[0])


@numba.njit
def _argmin_rows(x, out):
    argext.argmin_rows(x, out, 0, x.shape[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 300, 2048, 2049, 5000])
def test_rows_against_numpy_with_nans_ties_and_zeros(dtype, n):
    rng = np.random.default_rng(n)
    rows = 40
    x = rng.integers(-3, 4, (rows, n)).astype(dtype)  # many ties
    x[rng.random((rows, n)) < 0.02] = np.inf
    x[rng.random((rows, n)) < 0.02] = -np.inf
    x[x == 0] = rng.choice(np.array([0.0, -0.0], dtype), (x == 0).sum())
    nan_rows = rng.random(rows) < 0.5
    for r in np.flatnonzero(nan_rows):
        at = rng.integers(0, n, rng.integers(1, 3))
        x[r, at] = rng.choice(np.array([np.nan, -np.nan], dtype), at.size)
    x[0] = x[0, ::-1].copy()
    out = np.empty(rows, np.int64)
    _argmax_rows(x, out)
    np.testing.assert_array_equal(out, x.argmax(axis=1))
    _argmin_rows(x, out)
    np.testing.assert_array_equal(out, x.argmin(axis=1))
