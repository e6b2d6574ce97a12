"""A residual product chain P = P @ A (A loop invariant, only the final P
used) runs as `matrix_power_apply` by repeated squaring
(looptrace/vectorize/linear.py, looptrace/ops/scan.py): the plain function's
values on the interpreter and the CPU backend for every spelling of the
product, static and run-time trip counts; the rewrite seen in the IR and in
`explain`; chains that must keep their loop; gradients against finite
differences.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import numerical_grad
from looptrace.examples import matrix_power
from looptrace.ir.core import walk

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}


def right(P, A, k):
    for _ in range(k):
        P = P @ A
    return P


def left(P, A, k):
    for _ in range(k):
        P = A @ P
    return P


def dot_spelling(P, A, k):
    for _ in range(k):
        P = np.dot(P, A)
    return P


def right_transposed(P, A, k):
    for _ in range(k):
        P = P @ A.T
    return P


def left_transposed(P, A, k):
    for _ in range(k):
        P = np.matmul(A.T, P)
    return P


def from_identity(P, A, k):
    Q = np.eye(A.shape[0], dtype=A.dtype)
    for _ in range(1, k + 1):
        Q = Q @ A
    return P @ Q


RIGHT = [right, dot_spelling, right_transposed, from_identity]
LEFT = [left, left_transposed]


def _matrix(rng, m, dtype):
    """Nonnegative with row sums 1 (a stochastic matrix): its powers neither
    grow nor cancel, so every grouping of the product is accurate."""
    a = rng.random((m, m)) + 0.05
    return (a / a.sum(axis=1, keepdims=True)).astype(dtype)


def _p0(rng, m, side, vector, dtype):
    shape = (m,) if vector else ((3, m) if side == "right" else (m, 3))
    return rng.standard_normal(shape).astype(dtype)


def powers_in(fn, args, backend="interpret", **jit_kw):
    e = looptrace.jit(fn, backend=backend, **jit_kw).explain(*args)
    ops = list(walk(e.program.body))
    return sum(op.prim.name == "matrix_power_apply" for op in ops), sum(op.prim.name == "for_loop" for op in ops), e.loops


@SETTINGS
@given(fn=st.sampled_from(RIGHT + LEFT), m=st.integers(1, 6), k=st.sampled_from([0, 1, 2, 3, 7, 50, 300]),
       vector=st.booleans(), static=st.booleans(), dtype=st.sampled_from([np.float64, np.float32]),
       seed=st.integers(0, 2**32 - 1))
def test_matches_plain_function(fn, m, k, vector, static, dtype, seed):
    rng = np.random.default_rng(seed)
    side = "left" if fn in LEFT else "right"
    if fn is from_identity:
        vector = False
    args = (_p0(rng, m, side, vector, dtype), _matrix(rng, m, dtype), k)
    kw = {"static_argnames": ("k",)} if static else {}
    got = looptrace.jit(fn, backend="interpret", **kw)(*args)
    want = fn(*args)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=RTOL[np.dtype(dtype)], atol=RTOL[np.dtype(dtype)])
    n_pow, n_loops, loops = powers_in(fn, args, **kw)
    if static and k == 0:
        return  # no loop was traced at all
    assert (n_pow, n_loops) == (1, 0)
    assert loops[0].kind == "scan" and "repeated squaring" in loops[0].reason


@pytest.mark.parametrize("k", [0, 1, 10, 1000])
def test_seed_matrix_power(k, rng):
    A = _matrix(rng, 5, np.float64)
    got = looptrace.jit(matrix_power, backend="interpret")(A, k)
    np.testing.assert_allclose(got, matrix_power(A, k), rtol=1e-9, atol=1e-12)
    assert powers_in(matrix_power, (A, k))[:2] == (1, 0)


def test_general_matrix_small_powers(rng):
    """Signed entries: the chain and the squaring differ by the rounding of
    |A|^n, small for a few steps."""
    A = rng.standard_normal((4, 4)) / 2
    for k in range(8):
        np.testing.assert_allclose(looptrace.jit(matrix_power, backend="interpret")(A, k), matrix_power(A, k),
                                   rtol=1e-9, atol=1e-12)


# --- chains that keep their loop ------------------------------------------------------------------
def stacked(P, A, k):
    Ps = np.zeros((k, *P.shape))
    for t in range(k):
        P = P @ A
        Ps[t] = P
    return Ps


def varying(P, As, k):
    for t in range(k):
        P = P @ As[t]
    return P


def squares_itself(P, A, k):
    for _ in range(k):
        P = P @ P
    return P


def affine(P, A, k):
    for _ in range(k):
        P = P @ A + 0.1
    return P


def also_summed(P, A, k):
    s = 0.0
    for _ in range(k):
        P = P @ A
        s = s + P.sum()
    return P, s


def integer_chain(P, A, k):
    for _ in range(k):
        P = P @ A
    return P


@pytest.mark.parametrize("fn", [stacked, varying, squares_itself, affine, also_summed, integer_chain])
def test_not_a_pure_chain_keeps_the_loop(fn, rng):
    P, A = rng.standard_normal((3, 3)) / 3, _matrix(rng, 3, np.float64)
    if fn is varying:
        A = np.stack([_matrix(rng, 3, np.float64) for _ in range(6)])
    if fn is integer_chain:
        P, A = rng.integers(-2, 3, (3, 3)), rng.integers(-1, 2, (3, 3))
    kw = {"static_argnames": ("k",)}
    got, want = looptrace.jit(fn, backend="interpret", **kw)(P, A, 6), fn(P, A, 6)
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(g, w, rtol=1e-9)
    assert powers_in(fn, (P, A, 6), **kw)[0] == 0


def test_the_switch_keeps_the_loop(monkeypatch, rng):
    A = _matrix(rng, 3, np.float64)
    monkeypatch.setenv("LOOPTRACE_NO_REPEATED_SQUARING", "1")
    assert powers_in(matrix_power, (A, 5))[:2] == (0, 1)
    np.testing.assert_allclose(looptrace.jit(matrix_power, backend="interpret")(A, 5), matrix_power(A, 5))


# --- gradients --------------------------------------------------------------------------------------
# on the interpreter (the grad of the lambda defaulted to auto: 6 cpu compiles, 5.2 s of CI until
# session 54); a chain's gradient on cpu: test_scaling_chain_gradient
@pytest.mark.parametrize("fn", [right, left])
@pytest.mark.parametrize("k", [0, 3, 9])
def test_gradients_match_finite_differences(fn, k, rng):
    P, A = rng.standard_normal((2, 3)), rng.standard_normal((3, 3)) / 2
    if fn is left:
        P = P.T.copy()
    jitted = looptrace.jit(fn, backend="interpret")

    def loss(P, A):
        return float(np.sum(fn(P, A, k) ** 2))

    gP, gA = looptrace.grad(lambda P, A: (jitted(P, A, k) ** 2).sum(), argnums=(0, 1), backend="interpret")(P, A)
    np.testing.assert_allclose(gP, numerical_grad(loss, [P, A], 0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gA, numerical_grad(loss, [P, A], 1), rtol=1e-6, atol=1e-7)


# --- CPU backend --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn,vector", [(right, False), (left, True)])
def test_cpu_backend(fn, vector, rng):
    side = "left" if fn is left else "right"
    P, A = _p0(rng, 6, side, vector, np.float64), _matrix(rng, 6, np.float64)
    jitted = looptrace.jit(fn, backend="cpu")
    for k in (0, 1, 5, 200):  # one compiled kernel for every run-time k
        np.testing.assert_allclose(jitted(P, A, k), fn(P, A, k), rtol=1e-9, atol=1e-12)
    assert powers_in(fn, (P, A, 5), backend="cpu")[:2] == (1, 0)


def test_cpu_seed_program_float32(rng):
    A = _matrix(rng, 8, np.float32)
    jitted = looptrace.jit(matrix_power, backend="cpu")
    for k in (2, 100):
        got = jitted(A, k)
        np.testing.assert_allclose(got, matrix_power(A, k), rtol=1e-4, atol=1e-5)


# --- the elementwise analogue: p = p * a -> p0 * a ** n -----------------------------------------------
def scaled(p, a, k):
    for _ in range(k):
        p = p * a
    return p


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scaling_chain(backend, dtype, rng):
    p, a = rng.standard_normal((2, 3)).astype(dtype), rng.uniform(-1.2, 1.2, 3).astype(dtype)
    jitted = looptrace.jit(scaled, backend=backend)
    for k in (0, 1, 2, 7, 40):
        np.testing.assert_allclose(jitted(p, a, k), scaled(p, a, k), rtol=RTOL[np.dtype(dtype)], atol=1e-30)
    _, n_loops, loops = powers_in(scaled, (p, a, 7), backend=backend)
    assert n_loops == 0 and "p0 * a ** n" in loops[0].reason


def test_scaling_chain_gradient(rng):
    p, a = rng.standard_normal(3), rng.uniform(0.5, 1.2, 3)
    jitted = looptrace.jit(scaled, backend="interpret")

    def loss(p, a):
        return float(np.sum(scaled(p, a, 6) ** 2))

    gp, ga = looptrace.grad(lambda p, a: (jitted(p, a, 6) ** 2).sum(), argnums=(0, 1), backend="interpret")(p, a)
    np.testing.assert_allclose(gp, numerical_grad(loss, [p, a], 0), rtol=1e-6)
    np.testing.assert_allclose(ga, numerical_grad(loss, [p, a], 1), rtol=1e-6)


# --- a chain inside a loop the vectorizer batches ------------------------------------------------------
def batch_of_chains(P0, As, k):
    out = np.zeros(P0.shape)
    for i in range(P0.shape[0]):
        P = P0[i]
        for _ in range(k):
            P = P @ As[i].T
        out[i] = P
    return out


@pytest.mark.parametrize("k", [0, 1, 6, 100])
def test_chain_batched_by_the_outer_loop(k, rng):
    P0 = rng.standard_normal((4, 2, 3))
    As = np.stack([_matrix(rng, 3, np.float64) for _ in range(4)])
    kw = {"static_argnames": ("k",)}
    got = looptrace.jit(batch_of_chains, backend="interpret", **kw)(P0, As, k)
    np.testing.assert_allclose(got, batch_of_chains(P0, As, k), rtol=1e-9, atol=1e-12)
    if k:
        n_pow, n_loops, loops = powers_in(batch_of_chains, (P0, As, k), **kw)
        assert (n_pow, n_loops) == (1, 0)
        assert [lp.kind for lp in loops] == ["vectorized", "scan"]
