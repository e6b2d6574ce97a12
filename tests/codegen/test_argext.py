"""argmax and argmin along an axis (codegen/cpu/argext.py, reductions.py
`_helper_arg`): a kernel calls a cached helper per 2-d slab of its operand,
`argmax_rows` along the last axis, `argmax_cols` along another (small
operands and short rows keep the loop written into the kernel). Against the
plain function on interpret and cpu: the first occurrence of the best, the
first NaN (of either sign) winning, +0.0 and -0.0 equal, bools, ties, rows
longer than a block, operands that are not C-contiguous, keepdims, 3-d, an
empty axis."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cpu import argext

BACKENDS = ["interpret", "cpu"]


def _forms_2d(x):
    return (x.argmax(axis=1), x.argmin(axis=1), np.argmax(x, axis=0), np.argmin(x, axis=0),
            x.argmax(axis=-1, keepdims=True), np.argmin(x, axis=0, keepdims=True))


def _forms_3d(x):
    return (x.argmax(axis=0), x.argmin(axis=1), x.argmax(axis=2), np.argmin(x, axis=-1, keepdims=True),
            np.argmax(x, axis=1, keepdims=True))


def _strided(x):
    return x[:, ::2].argmax(axis=1), x.T.argmin(axis=1), x.T.argmax(axis=0), x[1:, 1:].argmin(axis=0)


def _fused(a, b):
    return np.argmax(a * b + 1.0, axis=1), np.argmin(a - b, axis=0)


def _in_loop(x):
    out = np.zeros((x.shape[0], x.shape[2]), dtype=np.int64)
    for t in range(x.shape[0]):
        out[t] = x[t].argmax(axis=0) + x[t].T.argmin(axis=1)
    return out


def _data(rng, shape, dtype):
    """Values with ties, and for floats NaNs of both signs, +-0.0 and infinities."""
    if dtype == np.bool_:
        return rng.random(shape) < 0.2
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 7, shape).astype(dtype)
    x = np.round(rng.standard_normal(shape) * 3).astype(dtype)  # few distinct values: ties
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, size=max(1, flat.size // 50), replace=False)
    kinds = [np.nan, -np.nan, 0.0, -0.0, np.inf, -np.inf]
    for k, p in enumerate(picks):
        flat[p] = kinds[k % len(kinds)]
    return x


def _same(got, want):
    for g, w in zip(got, want, strict=True):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(g, w)


def _check(fn, *args, backend):
    want = fn(*[a.copy() for a in args])
    given = [a.copy() for a in args]
    got = lt.jit(fn, backend=backend)(*given)
    _same(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,))
    for a, g in zip(args, given):
        np.testing.assert_array_equal(a, g)  # the operand is left as it was


def _cases(dtypes, cpu_dtypes):
    """(backend, dtype) pairs: every dtype interpreted, a representative few compiled (~1 s each)."""
    return [("interpret", d) for d in dtypes] + [("cpu", d) for d in cpu_dtypes]


def _slow(*pairs):
    """(backend, dtype) pairs compiled only with -m slow (tests/marks.py): the suite's budget."""
    return [pytest.param(b, d, marks=pytest.mark.slow) for b, d in pairs]


@pytest.mark.parametrize("backend, dtype", _cases([np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_],
                                                  [np.float64, np.float32])
                         + _slow(("cpu", np.int64), ("cpu", np.bool_)))
def test_2d_forms(rng, backend, dtype):
    _check(_forms_2d, _data(rng, (37, 45), dtype), backend=backend)


# cpu with -m slow (7.0 s of CPU in session 54's CI at e17f737): the interpreter checks the 3-d forms; on cpu
# test_cpu_full_reductions' row args of a (6, 5, 1000) operand (default) run the kernel's loop over the
# slabs against the plain function, and test_operands_not_c_contiguous the helpers on strided slabs
@pytest.mark.parametrize("backend, dtype", _cases([np.float64, np.int32], []) + _slow(("cpu", np.float64)))
def test_3d_forms(rng, backend, dtype):
    _check(_forms_3d, _data(rng, (5, 9, 33), dtype), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_operands_not_c_contiguous(rng, backend):
    _check(_strided, _data(rng, (40, 70), np.float64), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fused_operands_and_loops(rng, backend):
    a, b = rng.standard_normal((30, 20)), rng.standard_normal((30, 20))
    _check(_fused, a, b, backend=backend)
    _check(_in_loop, _data(rng, (4, 12, 9), np.float64), backend=backend)


def _long_rows_cases():
    """Rows of several ROW_BLOCKs: the best in a later block, a tie across
    blocks (the first block's wins), NaN only in a late block, NaN in two
    blocks, and the first NaN before a larger value."""
    n = 2 * argext.ROW_BLOCK + 77
    x = np.random.default_rng(5).standard_normal((6, n))
    x[0, n - 3] = 50.0
    x[1, 10] = x[1, argext.ROW_BLOCK + 5] = 50.0
    x[2, argext.ROW_BLOCK + 9] = np.nan
    x[3, argext.ROW_BLOCK + 1] = -np.nan
    x[3, 2 * argext.ROW_BLOCK + 3] = np.nan
    x[4, 7], x[4, 8] = np.nan, np.inf
    x[5, :] = -0.0
    x[5, 100] = 0.0
    return x


# [float64-cpu] with -m slow (0.8 s in session 54's CI at 0bc3f38): the helpers' blocks (ROW_BLOCK elements,
# `_block_best` and `_first_equal`) are the same code for every dtype, run on cpu by [float32-cpu]
@pytest.mark.parametrize("dtype, backend", [(np.float64, "interpret"), (np.float32, "interpret"),
                                            pytest.param(np.float64, "cpu", marks=pytest.mark.slow), (np.float32, "cpu")])
def test_long_rows(dtype, backend):
    x = _long_rows_cases().astype(dtype)
    _check(lambda x: (x.argmax(axis=1), x.argmin(axis=1), x.T.argmax(axis=0), x.T.argmin(axis=0)), x,
           backend=backend)


@pytest.mark.parametrize("backend, dtype", _cases([np.float64, np.float32, np.int64, np.bool_],
                                                  [np.float64, np.int64]))
def test_narrow_columns(rng, backend, dtype):
    """Along axis 0 of fewer than NARROW columns: several rows at a time as
    one vector of lanes, merged per column, then the rows left over."""
    x1, x2, x3 = (_data(rng, shape, dtype) for shape in [(301, 7), (1100, 1), (2 * argext.NARROW + 5, argext.NARROW - 1)])
    _check(lambda a, b, c: (a.argmax(axis=0), a.argmin(axis=0), b.argmax(axis=0), np.argmin(c, axis=0)),
           x1, x2, x3, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_large_operands_on_threads(rng, backend):
    """Large enough for the kernel's chunks on threads (rows, and columns
    in tiles)."""
    x = _data(rng, (1200, 2 * argext.COL_TILE + 37), np.float64)
    _check(lambda x: (x.argmax(axis=1), x.argmin(axis=0)), x, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_axis_raises_value_error(backend):
    with pytest.raises(ValueError, match="empty"):
        lt.jit(lambda x: x.argmax(axis=1), backend=backend)(np.ones((4, 0)))
    got = lt.jit(lambda x: x.argmin(axis=1), backend=backend)(np.ones((0, 5)))
    assert got.shape == (0,) and got.dtype == np.int64


def test_plain_argument_calls_the_helper(rng):
    """The fast path cannot fall away unnoticed: a plain argument's argmax
    along the last axis is one call of the cached helper, not a loop; a
    small operand (a scan's step) keeps the loop, cheaper than a call."""
    x = rng.standard_normal((50, 30))
    jf = lt.jit(lambda x: (x.argmax(axis=1), np.argmin(x, axis=0)), backend="cpu")
    source = lt.explain(jf, x).kernel_source  # planned and emitted, not compiled: the values are the other tests'
    assert "argmax_rows(" in source and "argmin_cols(" in source
    assert "for " not in source.split("def kernel", 1)[1]
    small = rng.standard_normal((16, 16))
    assert "argmax_rows(" not in lt.explain(jf, small).kernel_source
