"""Transposes in generated kernels: never Numba's `np.transpose(x, axes)`,
which costs about 5 s of compile time per kernel. A full reversal is `.T`
(a view); another permutation read only by loop nests is read through its
base; anything else is an explicit copy. Values follow the plain function.
"""

import re

import numpy as np
import pytest

import looptrace
from bench.corpus.stochastic import random_walk_msd as lagged_sums  # over every lag: a gather

from .kernel_text import loop_body


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def permutations(A, B):
    p = np.transpose(A, (1, 0, 2))  # read by a loop nest only
    q = np.transpose(A, (2, 0, 1))  # returned: a copy
    r = A.T  # full reversal: a view
    s = np.einsum("ijk,kjl->il", A, B)  # operands rearranged for BLAS
    return p * 2.0 + 1.0, q, r + 0.0, s, np.transpose(s @ s.T)


def test_no_numba_transpose_and_values_follow_numpy():
    rng = np.random.default_rng(7)
    A, B = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 4, 6))
    f = looptrace.jit(permutations, backend="cpu")
    for g, w in zip(f(A, B), permutations(A, B)):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-9)
    src = f.explain(A, B).kernel_source
    assert "np.transpose(" not in src


def test_transposed_input_written_in_a_loop_after_read():
    """A transpose skipped (read through its base) keeps the base alive until
    its last reader, even when the base is updated in place afterwards."""
    def fn(X):
        Y = X * 1.0
        Z = np.transpose(Y[:, :, None], (1, 0, 2))[:, :, 0] * 2.0
        W = np.transpose(Y[:, :, None], (1, 0, 2))[:, :, 0] + 1.0
        Y[0, 0] = -5.0
        return Z, W, Y

    X = np.random.default_rng(8).standard_normal((4, 3))
    f = looptrace.jit(fn, backend="cpu")
    for g, w in zip(f(X), fn(X)):
        np.testing.assert_allclose(g, w, rtol=1e-9)


def copied_transpose_then_base_updated(X):
    Y = X * 1.0
    T = np.transpose(Y, (1, 0, 2))  # read by a product too: made as a copy
    S = T @ np.ones((X.shape[2], 2))
    Y[0, 0, 0] = 100.0  # in NumPy T is a view: it sees this write
    Z = T * 2.0
    return S, Z, Y


def test_a_transposed_view_sees_a_later_write_to_its_base():
    """NumPy's view semantics hold whether the kernel copies the transpose
    (read by a product) or reads through it (read by a loop nest)."""
    X = np.random.default_rng(14).standard_normal((3, 4, 5))
    f = looptrace.jit(copied_transpose_then_base_updated, backend="cpu")
    for g, w in zip(f(X), copied_transpose_then_base_updated(X)):
        np.testing.assert_allclose(g, w, rtol=1e-9)


def products_of_transposes(x1, x2, A):
    B = A * 2.0  # a transpose of a value the kernel made, and of an argument
    return (-2 * np.dot(x1, x2.T) + np.sum(np.square(x1), axis=1)[:, None] + np.sum(np.square(x2), axis=1),
            x2.T @ B, B.T @ x2, B.T @ B.T.T, np.dot(A.T, x2))


def test_products_read_transposes_in_place():
    """A product of `.T` operands is one np.dot of the untransposed arrays
    (BLAS takes the transpose): no transposed copy, no permuted loop."""
    rng = np.random.default_rng(9)
    x1, x2, A = rng.standard_normal((3, 70)), rng.standard_normal((90, 70)), rng.standard_normal((90, 80))
    f = looptrace.jit(products_of_transposes, backend="cpu")
    for g, w in zip(f(x1, x2, A), products_of_transposes(x1, x2, A)):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-11)
    src = f.explain(x1, x2, A).kernel_source
    assert src.count("dot_into(") == 5  # BLAS (codegen/cpu/templates.py)
    assert not re.search(r"\btr\d+_ = ", src)  # no permuted copy (Emitter.permuted_copy)
    views = re.findall(r"(v\d+) = v\d+\.T$", src, re.M)
    assert views and not any(f"contiguous({v})" in src for v in views)  # no copy of a .T view


def gradient_steps(X, y, lr, n):
    w = np.zeros(X.shape[1])
    for _ in range(n):
        g = 1.0 / (1.0 + np.exp(-(X @ w))) - y
        w -= lr * (X.T @ g)
    return w


def test_a_transpose_made_before_a_loop_is_not_copied_in_it():
    """X.T @ g in a loop, X.T hoisted before it (its view is not the
    product's operand's producer in the loop's block): BLAS still takes the
    F-contiguous view as it is (templates.blas_matrix), no copy of X per
    iteration (logistic regression's gradient: 20000 x 20 copied 50 times)."""
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((300, 7)), (rng.random(300) > 0.5).astype(np.float64)
    f = looptrace.jit(gradient_steps, backend="cpu")
    np.testing.assert_allclose(f(X, y, 0.01, 20), gradient_steps(X, y, 0.01, 20), rtol=1e-10)
    src = f.explain(X, y, 0.01, 20).kernel_source
    views = re.findall(r"(v\d+) = v\d+\.T$", src, re.M)
    assert views and not any(f"contiguous({v})" in src for v in views)
    Xf = np.asfortranarray(X)[:, ::-1]  # an operand neither C- nor F-contiguous: copied, right values
    np.testing.assert_allclose(f(Xf, y, 0.01, 20), gradient_steps(Xf, y, 0.01, 20), rtol=1e-10)


def permuted_map(a, b, c):
    return np.transpose(np.exp(a) * b + 1.0, (1, 0, 2)) * c, np.transpose(a - b, (2, 0, 1)).sum(axis=0)


def _allocs(src: str) -> list[str]:
    return re.findall(r"alloc\(\(([^)]*)\)", src.split("def kernel", 1)[1])


def test_a_value_read_transposed_once_is_computed_in_its_reader():
    """The gather of every lag's slices is never stored: the sum computes it
    at the permuted index (it was a 4-d array, 255 MB at the corpus's size)."""
    steps = np.random.default_rng(21).standard_normal((5, 16, 2))
    f = looptrace.jit(lagged_sums, backend="cpu")
    np.testing.assert_allclose(f(steps), lagged_sums(steps), rtol=1e-12)
    shapes = _allocs(f.explain(steps).kernel_source)
    assert all(s.count(",") <= 3 for s in shapes), shapes  # at most 3-d arrays (no (5, 7, 16, 2) gather)


def test_an_elementwise_value_read_transposed_once_is_not_stored():
    rng = np.random.default_rng(22)
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 5))
    c = rng.standard_normal((4, 3, 5))
    f = looptrace.jit(permuted_map, backend="cpu")
    for g, w in zip(f(a, b, c), permuted_map(a, b, c)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    src = f.explain(a, b, c).kernel_source
    assert all(not s.startswith("3, 4, 5") for s in _allocs(src)), _allocs(src)  # exp(a) * b is not stored
    assert "np.transpose(" not in src


def test_a_slice_write_of_large_sums_runs_on_threads(monkeypatch):
    """msd[1:] = sums, each over many elements, computed in the write's own
    nest: on threads when the work is large (the threshold lowered here),
    with the same values."""
    from looptrace.codegen.cpu import emitter

    monkeypatch.setattr(emitter, "PARALLEL_MIN_WORK", 64)
    steps = np.random.default_rng(23).standard_normal((6, 20, 2))
    f = looptrace.jit(lagged_sums, backend="cpu", cache=False)
    np.testing.assert_allclose(f(steps), lagged_sums(steps), rtol=1e-12)
    inside = loop_body(f.explain(steps).kernel_source, r"numba\.prange")
    assert any(re.match(r"\s+\w+\[\(1 \+ i\d+_\)\] = ", ln) for ln in inside), inside  # msd[1 + lag] = ...


def checked_rows(x, idx):
    out = np.zeros(x.shape[0] + 1)
    out[1:] = x[:, idx].sum(axis=1)  # idx read from the data: checked in the nest
    return out


def test_a_slice_write_that_may_raise_stays_on_one_thread(monkeypatch):
    from looptrace.codegen.cpu import emitter

    monkeypatch.setattr(emitter, "PARALLEL_MIN_WORK", 16)
    rng = np.random.default_rng(24)
    x, idx = rng.standard_normal((8, 30)), rng.integers(-30, 30, 12)
    f = looptrace.jit(checked_rows, backend="cpu", cache=False)
    np.testing.assert_allclose(f(x, idx), checked_rows(x, idx), rtol=1e-12)
    assert "numba.prange" not in f.explain(x, idx).kernel_source
    with pytest.raises(IndexError):
        f(x, np.array([0, 31]))
