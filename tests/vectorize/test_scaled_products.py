"""A product of a scaled operand is the scaled product
(vectorize/scaled_products.py): `alpha * A @ B @ C + beta * D` multiplies by
alpha once, in the loop that adds `beta * D`, not over A first. The plain
function is the oracle (values, dtypes and argument effects on the
interpreter and the CPU backend); the IR says which multiplies moved."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.ir.core import walk
from tests.tracer._loopcheck import check


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def two_products(alpha, beta, A, B, C, D):
    """npbench's 2mm, as written there."""
    D[:] = alpha * A @ B @ C + beta * D


def gemm(alpha, beta, A, B, C):
    return alpha * A @ B + beta * C


def right_factor(A, B, s):
    return A @ (B * s)


def both_factors(A, B, s, t):
    return np.tanh((s * A) @ (B * t))


def outer(x, y, s):
    """The product's output is larger than the scaled operand and is the
    result itself: the multiply stays on x."""
    return np.einsum("i,j->ij", s * x, y)


def reused(A, B, s):
    M = s * A
    return M @ B, M.sum()


def in_a_loop(W, X, a):
    y = np.zeros(W.shape[0])
    for t in range(X.shape[0]):
        y = np.tanh(W @ (a * X[t]) + 0.5 * y)
    return y


def scaled_inputs(f, *args) -> int:
    """How many einsums of the final program read a multiply by a 0-d value."""
    body = f.explain(*args).program.body
    made = {v.id: op for op in walk(body) for v in op.outputs}
    count = 0
    for op in walk(body):
        if op.prim.name == "einsum":
            for v in op.inputs:
                src = made.get(v.id)
                if src is not None and src.prim.name == "multiply" and any(x.ndim == 0 for x in src.inputs):
                    count += 1
    return count


def cases(rng):
    def m(*shape, dtype=np.float64):
        return rng.standard_normal(shape).astype(dtype)

    return [
        (two_products, (1.5, 1.2, m(8, 11), m(11, 10), m(10, 9), m(8, 9)), 0),
        (gemm, (1.5, -0.7, m(12, 7), m(7, 9), m(12, 9)), 0),
        (right_factor, (m(4, 6), m(6, 5), 0.3), 0),
        (both_factors, (m(6, 5), m(5, 4), 0.3, -2.0), 0),
        (outer, (m(5), m(7), 1.5), 1),
        (reused, (m(6, 5), m(5, 4), 2.5), 1),
        (in_a_loop, (m(5, 6), m(4, 6), 0.8), 0),
        (gemm, (np.float64(1.5), 2.0, m(12, 7, dtype=np.float32), m(7, 9, dtype=np.float32),
                m(12, 9, dtype=np.float32)), None),  # a float64 factor of float32 arrays: a float64 product
        (gemm, (3, 2, rng.integers(-5, 5, (6, 7)), rng.integers(-5, 5, (7, 3)), rng.integers(-5, 5, (6, 3))), 0),
        (gemm, (1.5 - 0.5j, 2.0, m(6, 7) + 1j * m(6, 7), m(7, 3), m(6, 3)), 0),
    ]


@pytest.mark.parametrize("k", range(10))
def test_values_and_where_the_factor_went(rng, k):
    fn, args, left = cases(rng)[k]
    f = check(fn, *args, rtol=1e-6 if any(getattr(a, "dtype", None) == np.float32 for a in args) else 1e-9)
    if left is not None:
        assert scaled_inputs(f, *args) == left


@pytest.mark.parametrize("k", [0, 1, 6, 7, 9])
def test_cpu_backend(rng, k):
    fn, args, _ = cases(rng)[k]
    check(fn, *args, jitted=looptrace.jit(fn, backend="cpu"),
          rtol=1e-5 if any(getattr(a, "dtype", None) == np.float32 for a in args) else 1e-9)


def test_the_scaled_operand_is_never_made(rng):
    """2mm's kernel multiplies by alpha and beta in its last loop only: no
    temporary of A's shape."""
    A, B, C, D = (rng.standard_normal(s) for s in ((80, 90), (90, 85), (85, 95), (80, 95)))
    f = looptrace.jit(two_products, backend="cpu")
    check(two_products, 1.5, 1.2, A, B, C, D, jitted=f)
    body = f.explain(1.5, 1.2, A, B, C, D).kernel_source.split("def kernel", 1)[1]
    assert "alloc((80, 90" not in body and body.count("dot_into(") == 2


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 6), n=st.integers(1, 6), p=st.integers(1, 6), side=st.sampled_from("lrb"),
       seed=st.integers(0, 2 ** 16))
def test_generated_scaled_products(m, n, p, side, seed):
    r = np.random.default_rng(seed)
    A, B, s = r.standard_normal((m, n)), r.standard_normal((n, p)), float(r.uniform(-2, 2))

    def fn(A, B, s):
        left = s * A if side in "lb" else A
        right = B * (s - 1.0) if side in "rb" else B
        return np.sin(left @ right) + left.shape[0]

    check(fn, A, B, s)


def test_gradients_through_a_scaled_product(rng):
    from looptrace.autodiff.check import numerical_grad

    args = [rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), 0.7]
    jitted = looptrace.jit(right_factor, backend="interpret")

    def loss(A, B, s):
        return float(np.sum(np.tanh(right_factor(A, B, s))))

    grads = looptrace.grad(lambda A, B, s: np.tanh(jitted(A, B, s)).sum(), argnums=(0, 1, 2),
                           backend="interpret")(*args)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, numerical_grad(loss, list(args), i), rtol=1e-6, atol=1e-7)
