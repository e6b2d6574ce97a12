"""A product that reads each element of a computed operand once is a fold
(vectorize/fused_products.py): `values @ onehot` with the one-hot matrix made
elementwise becomes a sum of products whose elements are computed inside the
sum's loop nest, never stored; products of arrays in memory stay BLAS calls.
The plain function is the oracle (values on the interpreter and the CPU
backend), the IR says which became what, gradients match finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.grouping import group_onehot
from looptrace.autodiff.check import numerical_grad
from looptrace.ir.core import walk
from tests.tracer._loopcheck import check


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def centered(X, mu, w):
    return (X - mu) @ w


def left_vector(X, w):
    return w @ np.exp(X)


def batched(X, y):
    return np.einsum("bij,bj->bi", X * 2.0, y)


def reordered(X, Y):
    """The small operand's letters in another order than the big one's."""
    return np.einsum("ij,ji->", np.sin(X), Y)


def out_of_order(X, v):
    """The output's letters in another order than the big operand's: left a product."""
    return np.einsum("ijk,j->ki", X + 1.0, v)


def stored(X, w):
    return X @ w


def matrix(A, B):
    return (A + 1.0) @ B


def prims(f, *args):
    return [op.prim.name for op in walk(f.explain(*args).program.body)]


def cases(rng):
    n = 300
    labels = rng.integers(0, 16, n)
    return [
        (group_onehot, (rng.standard_normal(n), labels, np.arange(16)), True),
        (centered, (rng.standard_normal((200, 30)), rng.standard_normal(30), rng.standard_normal(30)), True),
        (left_vector, (rng.standard_normal((40, 70)), rng.standard_normal(40)), True),
        (batched, (rng.standard_normal((5, 20, 30)), rng.standard_normal((5, 30))), True),
        (reordered, (rng.standard_normal((20, 30)), rng.standard_normal((30, 20))), True),
        (out_of_order, (rng.standard_normal((6, 7, 8)), rng.standard_normal(7)), False),
        (stored, (rng.standard_normal((200, 30)), rng.standard_normal(30)), False),
        (matrix, (rng.standard_normal((40, 50)), rng.standard_normal((50, 60))), False),
    ]


@pytest.mark.parametrize("k", range(8))
def test_values_and_what_the_product_became(rng, k):
    fn, args, folds = cases(rng)[k]
    f = check(fn, *args)
    names = prims(f, *args)
    assert ("einsum" not in names) == folds, names
    if folds:
        assert "reduce_sum" in names and "multiply" in names


@pytest.mark.parametrize("k", range(8))
def test_cpu_backend(rng, k):
    fn, args, _ = cases(rng)[k]
    check(fn, *args, jitted=looptrace.jit(fn, backend="cpu"))


def test_the_one_hot_matrix_is_never_stored(rng):
    n = 5000
    args = (rng.standard_normal(n), rng.integers(0, 16, n), np.arange(16))
    f = looptrace.jit(group_onehot, backend="cpu")
    check(group_onehot, *args, jitted=f)
    body = f.explain(*args).kernel_source.split("def kernel", 1)[1]
    assert f"alloc(({n}, 16" not in body  # no (n, 16) temporary
    assert "dot_into" not in body


def test_float32_and_complex(rng):
    X, w = rng.standard_normal((60, 70)).astype(np.float32), rng.standard_normal(70).astype(np.float32)
    mu = np.float32(0.5)
    for backend in ("interpret", "cpu"):
        got = looptrace.jit(centered, backend=backend)(X, mu, w)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, centered(X, mu, w), rtol=1e-4, atol=1e-4)
    Xc = rng.standard_normal((30, 20)) + 1j * rng.standard_normal((30, 20))
    wc = rng.standard_normal(20) + 1j * rng.standard_normal(20)
    check(centered, Xc, 1.0 + 0.5j, wc, jitted=looptrace.jit(centered, backend="cpu"))


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 12), n=st.integers(1, 12), left=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_generated_matrix_vector_products(m, n, left, seed):
    r = np.random.default_rng(seed)
    X, v = r.standard_normal((m, n)), r.standard_normal(m if left else n)

    def fn(X, v):
        Y = np.tanh(X) * 3.0
        return (v @ Y) if left else (Y @ v)

    f = check(fn, X, v)
    assert "einsum" not in prims(f, X, v)


# centered's gradient program on the interpreter, left_vector's on cpu (the grad of the lambda
# defaulted to auto for both: 3.1 s of CI until session 54)
@pytest.mark.parametrize("fn,backend", [(centered, "interpret"), (left_vector, "cpu")])
def test_gradients_match_finite_differences(rng, fn, backend):
    args = (rng.standard_normal((8, 5)), rng.standard_normal(5), rng.standard_normal(5)) if fn is centered \
        else (rng.standard_normal((6, 7)), rng.standard_normal(6))
    jitted = looptrace.jit(fn, backend="interpret")

    def loss(*xs):
        return float(np.sum(fn(*xs) ** 2))

    grads = looptrace.grad(lambda *xs: (jitted(*xs) ** 2).sum(), argnums=tuple(range(len(args))),
                           backend=backend)(*args)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, numerical_grad(loss, list(args), i), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("k", [0, 1, 3])
def test_cuda_backend_under_the_simulator(rng, k):
    pytest.importorskip("numba.cuda")
    from tests.codegen.cuda._cuda_support import assert_like_plain, cuda_backend

    cuda_backend()
    fn, args, _ = cases(rng)[k]
    assert_like_plain(fn, args, looptrace.jit(fn, backend="cuda"))
