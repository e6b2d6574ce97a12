"""Deterministic block tree reductions (codegen/cuda/reduce.py) against NumPy.

Under the simulator with a small block (so several chunks and passes happen
at test sizes); the bits must equal `reduce.reference`, the same tree in
NumPy, for every grid, and the values must be close to NumPy's own
reduction. The default-size kernels compile to sm_90 PTX.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from looptrace.codegen.cuda import reduce as red

from _cuda_support import Arrays

SMALL = dict(block=16, items=2)  # CHUNK = 32: up to 1,024 elements in 2 passes, then 3


def run(arrays, x, op, grid=None, **kw):
    out = red.reduce_rows(arrays.to(x), op, arrays.mode, arrays.empty, grid=grid, **{**SMALL, **kw})
    return arrays.back(out)[:, 0]


NUMPY = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min}


# under the simulator, float32 of prod, max and min with -m slow (1.4 s each in session 54's CI): the kernels are
# the same Python for either dtype there, sum-float32 and every float64 still run, and test_compiles_to_sm90_ptx
# compiles every (op, dtype) to PTX
# (sum-float32 too, 1.1 s in e17f737's CI: test_three_passes runs it against the reference bits and NumPy)
def _sim_cases():
    return [pytest.param(op, dtype, marks=pytest.mark.slow) if dtype == np.float32 else (op, dtype)
            for op in red.OPS for dtype in (np.float32, np.float64)]


@pytest.mark.parametrize("op, dtype", _sim_cases())
def test_matches_numpy_and_reference_bits(arrays, rng, op, dtype):
    x = rng.standard_normal((2, 70)).astype(dtype)  # three chunks, two passes (150: 1.1 s a case in e17f737's CI)
    if op == "prod":
        x = (1 + 0.05 * x).astype(dtype)  # keep the product finite
    got = run(arrays, x, op)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, red.reference(x, op, **SMALL))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, NUMPY[op](x, axis=1), rtol=rtol, atol=rtol)


# a block of 8 (chunks of 16): three passes from 257 elements; the simulator runs each thread in Python, and
# 1100 elements in blocks of 16 took 4.2 s in e17f737's CI
THREE_PASSES = dict(SMALL, block=8)


def test_three_passes(arrays, rng):
    x = rng.standard_normal((1, 300)).astype(np.float32)
    assert len(red.pass_sizes(300, **THREE_PASSES)) == 3
    got = run(arrays, x, "sum", block=8)
    np.testing.assert_array_equal(got, red.reference(x, "sum", **THREE_PASSES))
    np.testing.assert_allclose(got, x.sum(axis=1, dtype=np.float64), rtol=1e-5)


@pytest.mark.parametrize("op", ["sum", pytest.param("max", marks=pytest.mark.slow)])  # (max: exact in any order)
def test_same_bits_for_every_grid(arrays, rng, op):
    x = rng.standard_normal((1, 80)).astype(np.float32)
    # 5 chunks of 16 (blocks of 8): one block striding over them, 3 blocks, a block each (None; a grid of 7
    # was clipped to the 5 chunks, None's launch again: 1.2 s of the simulator in 0bc3f38's CI). One row of
    # blocks of 8 (was two rows, blocks of 16: 3.7 s in 3eb5406's CI): rows are independent launches' y,
    # which test_matches_numpy_and_reference_bits's two rows check
    results = [run(arrays, x, op, grid=g, block=8) for g in (1, 3, None)]
    assert len(red.pass_sizes(80, block=8, items=2)) == 2 and red.pass_sizes(80, block=8, items=2)[0] == 5
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


@pytest.mark.parametrize("op", ["max", "min"])
def test_nan_propagates_like_numpy(arrays, rng, op):
    x = rng.standard_normal((2, 70))
    x[1, 41] = np.nan
    got = run(arrays, x, op)
    np.testing.assert_array_equal(np.isnan(got), [False, True])
    assert got[0] == NUMPY[op](x[0])


def test_empty_rows_give_the_identity(arrays):
    x = np.empty((2, 0))
    for op in red.OPS:
        np.testing.assert_array_equal(run(arrays, x, op), [red.IDENTITY[op]] * 2)


def test_pass_count():
    assert red.pass_sizes(0) == [1]
    assert red.pass_sizes(2048) == [1]
    assert red.pass_sizes(2049) == [2, 1]
    assert red.pass_sizes(2048 * 2048 + 1) == [2049, 2, 1]


def test_bad_arguments():
    with pytest.raises(ValueError, match="op must be one of"):
        red.chunk_kernel("mean", np.dtype(np.float64), "sim")
    with pytest.raises(TypeError, match="float32 or float64"):
        red.chunk_kernel("sum", np.dtype(np.int64), "sim")


# every example runs its grid's threads in the simulator (6.1 s at 8 in session 54's CI)
@settings(max_examples=4, deadline=None)
@given(rows=st.integers(1, 3), n=st.integers(0, 90), op=st.sampled_from(red.OPS), seed=st.integers(0, 2**16))
def test_generated_shapes_under_the_simulator(rows, n, op, seed):
    x = np.random.default_rng(seed).standard_normal((rows, n))
    if op == "prod":
        x = 1 + 0.05 * x
    got = run(Arrays("sim"), x, op, grid=1 + seed % 4)
    np.testing.assert_array_equal(got, red.reference(x, op, **SMALL))
    if n:
        np.testing.assert_allclose(got, NUMPY[op](x, axis=1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", red.OPS)
def test_compiles_to_sm90_ptx(ptx_ok, op, dtype):
    from numba import types

    from looptrace.codegen.cuda import ptxinfo

    nb = getattr(types, dtype)
    kernel = red.chunk_kernel(op, np.dtype(dtype), "gpu")
    res = ptxinfo.kernel_resources(kernel, (nb[:, :], nb[:, :]))
    assert res.registers > 0 and not res.spills
    assert res.shared_bytes >= red.BLOCK * np.dtype(dtype).itemsize  # the tree's shared array
    assert res.barriers >= 1
