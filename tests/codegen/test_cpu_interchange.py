"""Reductions whose last kept axis is moved innermost (codegen/cpu/nest.py).

`out[i, j] = f(sum_d g(x[i, d], W[d, j]))` is emitted as `for d: for j:
acc[j] += ...` when every array the sum reads along j is contiguous along j.
The plain function is the oracle; the kernel source shows which order was
chosen. One compile covers several reductions.
"""

import numpy as np
import pytest

import looptrace
from looptrace import examples as ex


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def many_reductions(X, Y):
    d = X[:, :, None] - Y[None, :, :]  # (I, D, J)
    return (np.sum(d * d, axis=1), np.max(d, axis=1), np.min(d, axis=1),
            np.prod(1.0 + 0.01 * d, axis=1), np.all(d > -3.0, axis=1), np.any(d > 2.0, axis=1))


def test_gaussian_layer_is_interchanged_and_exact():
    rng = np.random.default_rng(1)
    args = ex._gauss_args(rng, B=64, D=16, H=40)
    f = looptrace.jit(ex.gaussian_layer, backend="cpu")
    np.testing.assert_allclose(f(*args), ex.gaussian_layer(*args), rtol=1e-9)
    src = f.explain(*args).kernel_source
    assert "alloc(40, np.float64)" in src  # one accumulator row per i
    # the sum over D is outside the loop over H: W is read along its rows
    body = src[src.index("alloc(40"):]
    assert body.index("range(16)") < body.index("range(40)", body.index("range(16)"))


# float32 with -m slow (3.7 s in session 54's CI at e17f737): [float64]'s interchanged nests in another
# dtype, the same lowering (the float32 reductions run in test_cpu_full_reductions and test_argext)
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.float32, marks=pytest.mark.slow)])
def test_every_reduction_kind_interchanged(dtype):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 5)).astype(dtype)
    Y = rng.standard_normal((5, 11)).astype(dtype)
    X[2, 3] = np.nan  # max/min propagate NaN, as NumPy does
    f = looptrace.jit(many_reductions, backend="cpu")
    got, want = f(X, Y), many_reductions(X, Y)
    rtol = 1e-9 if dtype == np.float64 else 1e-5
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, equal_nan=True)
    src = f.explain(X, Y).kernel_source
    assert src.count("alloc(11, ") == 6


def row_sums(X, W):
    return np.sum(X * X, axis=1), np.sum(W[:, :, None] * X[None, :, :], axis=(1, 2))


def test_reduction_along_contiguous_axis_keeps_its_order():
    """sum(X*X, axis=1) reads X along the summed axis: interchanging would read
    it down its columns, so the nest keeps the sum innermost."""
    rng = np.random.default_rng(3)
    X, W = rng.standard_normal((30, 9)), rng.standard_normal((4, 30))
    f = looptrace.jit(row_sums, backend="cpu")
    for g, w in zip(f(X, W), row_sums(X, W)):
        np.testing.assert_allclose(g, w, rtol=1e-9)
    assert "alloc(30, np.float64)" not in f.explain(X, W).kernel_source


def several_axes(A, B):
    # out[i, j] = sum_{a, b} (A[i, a, b] - B[a, b, j])**2 (a product would be a GEMM)
    return np.sum((A[:, :, :, None] - B[None, :, :, :]) ** 2, axis=(1, 2)) + 1.0


def test_several_reduced_axes_and_transposed_reads():
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((3, 4, 5)), rng.standard_normal((4, 5, 12))
    f = looptrace.jit(several_axes, backend="cpu")
    np.testing.assert_allclose(f(A, B), several_axes(A, B), rtol=1e-9)
    assert "alloc(12, np.float64)" in f.explain(A, B).kernel_source

    def transposed(P, Q):
        return np.exp(-np.sum((P.T[:, :, None] - Q[None, :, :]) ** 2, axis=1))

    P, Q = rng.standard_normal((7, 10)), rng.standard_normal((7, 9))
    g = looptrace.jit(transposed, backend="cpu")
    np.testing.assert_allclose(g(P, Q), transposed(P, Q), rtol=1e-9)
    assert "alloc(9, np.float64)" in g.explain(P, Q).kernel_source


def test_interchange_inside_a_loop():
    """A loop whose body holds an interchangeable reduction (kept as a loop
    because it carries state) gets the same nest inside its body."""
    def fn(X, W, h):
        for t in range(3):
            h = 0.5 * h + np.sum((X[:, :, None] - W[None, :, :]) ** 2, axis=1)
        return h

    rng = np.random.default_rng(5)
    X, W, h = rng.standard_normal((4, 6)), rng.standard_normal((6, 10)), rng.standard_normal((4, 10))
    f = looptrace.jit(fn, backend="cpu")
    np.testing.assert_allclose(f(X, W, h), fn(X, W, h), rtol=1e-9)


# --- an elementwise nest writing over the array it reads ---------------------------------------
def reuse_cases(A, B):
    y = A @ B  # ours, dead after the next line: the nest may write over it
    z = np.tanh(y * 2.0 + 1.0)
    w = (A + 1.0) @ B
    t = w + w.T  # reads w at the transposed element too: must not write over w
    u = (A - 1.0) @ B
    r = u + u[::-1]  # reads u reversed
    return z, t, r


def test_elementwise_nest_overwrites_only_a_safe_input():
    rng = np.random.default_rng(6)
    A, B = rng.standard_normal((40, 30)), rng.standard_normal((30, 40))
    f = looptrace.jit(reuse_cases, backend="cpu")
    for g, w in zip(f(A, B), reuse_cases(A, B)):
        np.testing.assert_allclose(g, w, rtol=1e-9)
    src = f.explain(A, B).kernel_source
    assert src.count("alloc((40, 40, ), np.float64)") == 2  # t and r get their own
    assert "tanh" in src.split("alloc((40, 40, ), np.float64)")[0]  # z wrote over y


def column_folds(X, k):
    """Folds over the rows of a tall computed array, one value per column."""
    Y = np.sqrt(np.abs(X)) + 0.5
    T = X.reshape(X.shape[0] // 4, 4, X.shape[1])
    return (Y.sum(axis=0), np.prod(1.0 + 1e-4 * X, axis=0), (k * 3 + 1).sum(axis=0),
            (T * T).sum(axis=(0, 1)), np.max(Y, axis=0))


def threaded_column_folds(X, k):
    """column_folds' folds whose row parts combine differently: a float
    product, an exact integer sum, and a fold over two axes (in 2 parts)."""
    T = X.reshape(X.shape[0] // 4, 4, X.shape[1])
    return np.prod(1.0 + 1e-4 * X, axis=0), (k * 3 + 1).sum(axis=0), (T * T).sum(axis=(0, 1))


def test_tall_column_folds_split_over_threads(monkeypatch, rng):
    """A fold over the rows of a tall input with a 1-d result runs in fixed
    row parts on the threads (`_emit_chunked_columns`), combined in order:
    the same value on every call, integers exactly. column_folds' source is
    read through explain (no Numba compile); three of its folds are compiled
    and run (threaded_column_folds: 2.6 s of CPU against 4.0 s for all five,
    session 55, one process; Y.sum's float sum is the product's code with +)."""
    monkeypatch.setattr("looptrace.codegen.cpu.emitter.PARALLEL_MIN_WORK", 1)
    X = rng.standard_normal((4100, 12))
    k = rng.integers(-50, 50, (4100, 12))
    src = looptrace.explain(looptrace.jit(column_folds, backend="cpu", cache=False), X, k).kernel_source
    assert src.count("numba.prange(8)") == 3  # 4100 rows in 8 parts of at least 512
    assert src.count("numba.prange(2)") == 1  # (T * T).sum(axis=(0, 1)): 1025 rows of T in 2 parts
    assert "max_nan" in src.split("numba.prange")[-1]  # max is not split: one loop
    f = looptrace.jit(threaded_column_folds, backend="cpu", cache=False)
    got, want = f(X, k), threaded_column_folds(X, k)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-10)
    assert np.array_equal(got[1], want[1])
    again = f(X, k)
    assert all(np.array_equal(a, b) for a, b in zip(got, again))
    src = f.explain(X, k).kernel_source
    assert src.count("numba.prange(8)") == 2 and src.count("numba.prange(2)") == 1
