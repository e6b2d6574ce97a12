"""Reverse-mode gradients of np.linalg's factorizations (ops/factorizations.py)
against central finite differences in float64, on random well-conditioned
inputs: each primitive's VJP rule directly (a random cotangent on its packed
output, shapes from hypothesis), then whole functions through looptrace.grad
with losses invariant to the signs of eigen- and singular vectors.

Limitations the rules document: repeated eigenvalues (singular values) make
eigh's (svd's) vector gradients inf/nan; svd's vectors are differentiable for
the thin factorization (full_matrices=True of a square matrix is the same) and
qr for the reduced factorization with m >= n; lstsq's x is pinv(a) @ b, whose
gradient is the pseudo-inverse's at constant rank.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import assert_close, check_rule, numerical_grad
from looptrace.errors import UnsupportedError


def spread(r, lead, n, lo=1.0, gap=0.7):
    """Values well apart (at least `gap`), shuffled, with random signs of the offset."""
    base = lo + gap * np.arange(n) + r.uniform(0, 0.3 * gap, lead + (n,))
    return base


def orthogonal(r, lead, n):
    q, _ = np.linalg.qr(r.standard_normal(lead + (n, n)))
    return q


def symmetric_case(r, lead, n):
    """A symmetric matrix with well separated eigenvalues, plus junk above
    the diagonal (the rules read the lower triangle only)."""
    v = orthogonal(r, lead, n)
    w = spread(r, lead, n, lo=-1.5 * n / 2)
    a = (v * w[..., None, :]) @ np.swapaxes(v, -1, -2)
    return a + np.triu(r.standard_normal(lead + (n, n)), 1)


def rectangular_case(r, lead, m, n):
    """u diag(s) v^T with singular values well apart (full rank)."""
    k = min(m, n)
    u = orthogonal(r, lead, m)[..., :k]
    v = orthogonal(r, lead, n)[..., :k]
    s = spread(r, lead, k)
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def svd_signs(m, n):
    """Flip each singular pair (u's column, vh's row) of a packed svd output
    to the sign of the unperturbed one's (ops/factorizations.py svd_layout)."""
    k = min(m, n)

    def align(out, base):
        out = out.copy()
        sign = np.where(np.sum(out[..., :m, :k] * base[..., :m, :k], axis=-2) < 0, -1.0, 1.0)
        out[..., :m, :k] *= sign[..., None, :]
        out[..., m + 1:m + 1 + k, :n] *= sign[..., :, None]
        return out
    return align


dims = st.integers(1, 4)
leads = st.sampled_from([(), (2,)])


@settings(max_examples=10, deadline=None)
@given(n=dims, lead=leads, seed=st.integers(0, 2**32 - 1))
def test_square_rules(n, lead, seed):
    r = np.random.default_rng(seed)
    check_rule("slogdet", [r.standard_normal(lead + (n, n)) + n * np.eye(n)], {}, r)
    check_rule("eigh", [symmetric_case(r, lead, n)], {}, r)
    check_rule("eigvalsh", [symmetric_case(r, lead, n)], {}, r)


@settings(max_examples=12, deadline=None)
@given(m=dims, n=dims, lead=leads, seed=st.integers(0, 2**32 - 1))
def test_rectangular_rules(m, n, lead, seed):
    r = np.random.default_rng(seed)
    a = rectangular_case(r, lead, m, n)
    check_rule("svd", [a], {"full": False}, r, align=svd_signs(m, n))
    check_rule("svdvals", [a], {}, r)
    check_rule("pinv", [a], {"rcond": 1e-15}, r)
    if m >= n:
        check_rule("qr", [a], {"complete": False}, r)
    if m == n:
        check_rule("svd", [a], {"full": True}, r, align=svd_signs(m, n))
        check_rule("qr", [a], {"complete": True}, r)


def check(fn, args, argnums=(0,), rtol=1e-5, backend="interpret"):
    grads = looptrace.grad(looptrace.jit(fn, backend=backend), argnums=argnums)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(fn, list(args), i), rtol, f"{fn.__name__} argument {i}")


def eigh_loss(a, c):
    w, v = np.linalg.eigh((a + a.T) / 2)
    return np.sum(w * (v ** 2 @ c))


def eigh_upper_loss(a, c):
    w, v = np.linalg.eigh(a, UPLO="U")  # reads the upper triangle: the lower one has no gradient
    return np.sum(np.sin(w) * (v ** 2 @ c))


def eigvalsh_loss(a, c):
    return np.sum(np.linalg.eigvalsh(a) ** 2 * c)


def slogdet_loss(a, c):
    sign, logabs = np.linalg.slogdet(a)
    return logabs * c[0] + sign


def svd_loss(a, c):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    k = s.shape[0]
    return np.sum(s * c[:k]) + np.sum(u ** 2 @ c[:k]) + np.sum(c[:k] @ vh ** 2)


def svdvals_loss(a, c):
    return np.sum(np.linalg.svd(a, compute_uv=False) * c[:min(a.shape)])


def qr_loss(a, c):
    q, r = np.linalg.qr(a)
    return np.sum(q * c[: a.shape[0], None]) + np.sum(np.linalg.qr(a, mode="r") ** 2)


def pinv_loss(a, c):
    return np.sum(np.linalg.pinv(a) * c[: a.shape[1], None])


def lstsq_loss(a, b):
    x, res, rank, s = np.linalg.lstsq(a, b)
    return np.sum(x ** 2) + np.sum(res) + np.sum(s)


def norm_loss(a, c):
    return np.linalg.norm(a, 2) + 0.5 * np.linalg.norm(a, "nuc") - np.linalg.norm(a, -2) * c[0]


@pytest.mark.parametrize("loss, m, n, symmetric", [
    (eigh_loss, 4, 4, True), (eigh_upper_loss, 4, 4, True), (eigvalsh_loss, 4, 4, True),
    (slogdet_loss, 4, 4, False), (svd_loss, 5, 3, False), (svd_loss, 3, 5, False), (svdvals_loss, 3, 4, False),
    (qr_loss, 5, 3, False), (qr_loss, 4, 4, False), (pinv_loss, 5, 3, False), (pinv_loss, 3, 4, False),
    (norm_loss, 4, 3, False),
])
def test_function_gradients(loss, m, n, symmetric, rng):
    a = symmetric_case(rng, (), n).T if symmetric else rectangular_case(rng, (), m, n)
    if loss is slogdet_loss:
        a = -a if np.linalg.det(a) > 0 else a  # a negative determinant: the sign is -1
    c = rng.standard_normal(max(m, n))
    assert loss(a, c) == pytest.approx(looptrace.jit(loss, backend="interpret")(a, c), rel=1e-10, abs=1e-10)
    check(loss, (a, c))


@pytest.mark.parametrize("m, n", [(6, 3), (3, 5)])
def test_lstsq_gradient_in_both_arguments(m, n, rng):
    a, b = rectangular_case(rng, (), m, n), rng.standard_normal(m)
    check(lstsq_loss if m > n else (lambda a, b: np.sum(np.linalg.lstsq(a, b)[0] ** 2)), (a, b), (0, 1))


def test_gradient_through_a_loop_of_factorizations(rng):
    def f(a, c):
        total = 0.0
        for i in range(a.shape[0]):
            s = a[i] + a[i].T
            w, v = np.linalg.eigh(s)
            total = total + np.sum(w * (v ** 2 @ c)) + np.linalg.slogdet(a[i] @ a[i].T + np.eye(3))[1]
        return total

    a, c = rng.standard_normal((3, 3, 3)), rng.standard_normal(3)
    check(f, (a, c))


# slow: the VJPs (ops/factorizations.py) are built of primitives whose cpu lowerings
# test_lowering_completeness.py compiles (factorizations_float64, matmul); the same losses' gradients run
# on the interpreter above, and cpu gradients through linalg in test_np_linalg.py's loop of solves.
@pytest.mark.slow
def test_cpu_gradients(rng):
    a = symmetric_case(rng, (), 4).T
    c = rng.standard_normal(4)
    check(eigh_loss, (a, c), backend="cpu")
    b = rectangular_case(rng, (), 5, 3)
    check(svd_loss, (b, c), backend="cpu")


def test_unsupported_gradients_say_so(rng):
    wide = rectangular_case(rng, (), 3, 5)
    with pytest.raises(UnsupportedError, match="full_matrices=True"):
        looptrace.grad(lambda a: np.sum(np.linalg.svd(a)[0]))(wide)
    with pytest.raises(UnsupportedError, match="np.linalg.qr"):
        looptrace.grad(lambda a: np.sum(np.linalg.qr(a)[1]))(wide)
