"""Gradients at points that are degenerate in floating point (probe G, s51):
repeated eigenvalues and singular values whose vectors the function does
not mix, dependent QR columns, sample points of np.interp, ties of
logaddexp/logaddexp2 (of large magnitude too), arctan2 and hypot at tiny,
huge and zero arguments. Each against central finite differences or the
closed form, in float64 (float32 where the failure was float32's)."""
import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad


def grad(f, *args, **kw):
    return looptrace.grad(f, backend=kw.pop("backend", "interpret"), **kw)(*args)


# --- eigh / svd: values only, or a simple eigenvector, at a repeat -------------------------------
def eig_values_squared(a):
    return np.sum(np.linalg.eigh(a)[0] ** 2)


def nuclear_by_svd(a):
    return np.sum(np.linalg.svd(a, full_matrices=False)[1])


def top_vector(a):
    w, v = np.linalg.eigh(a)
    return v[0, -1] ** 2 + v[2, -1] ** 2 * w[-1]  # the top eigenvector (simple), a repeated pair below


@pytest.mark.parametrize("a", [np.eye(3), np.diag([2.0, 2.0, 5.0])], ids=["identity", "pair"])
def test_eigenvalues_alone_at_a_repeat_are_finite(a):
    """F = 1/(w_j - w_i) is inf at a repeat; the vectors unused, the term is
    0 (it was inf * 0 = NaN), as eigvalsh gives."""
    np.testing.assert_allclose(grad(eig_values_squared, a), 2 * a, atol=1e-12)
    np.testing.assert_allclose(grad(top_vector, a if a[2, 2] == 5.0 else np.diag([2.0, 2.0, 5.0])),
                               numerical_grad(top_vector, [np.diag([2.0, 2.0, 5.0])], 0), atol=1e-6)


def test_singular_values_alone_of_an_orthogonal_matrix(rng):
    q = np.linalg.qr(rng.standard_normal((4, 4)))[0]  # every singular value 1: the gradient is q itself
    np.testing.assert_allclose(grad(nuclear_by_svd, q), q, atol=1e-12)
    wide = np.linalg.qr(rng.standard_normal((5, 3)))[0].T  # 3x5, singular values all 1
    np.testing.assert_allclose(grad(nuclear_by_svd, wide), wide, atol=1e-12)
    a = rng.standard_normal((4, 3))  # generic: the rule as before
    assert_close(grad(nuclear_by_svd, a), numerical_grad(nuclear_by_svd, [a], 0), 1e-6, "svd")


# --- qr with dependent columns ---------------------------------------------------------------------
def r_squared(a):
    return np.sum(np.linalg.qr(a)[1] ** 2)  # = ||a||_F^2: gradient 2a


def test_qr_with_a_dependent_column_before_an_independent_one_raises_naming_the_line(rng):
    """The rule's solve by R divides by rounding noise there: finite, wrong
    gradients (a duplicated middle column: 40 of 40 draws); now a clear
    LinAlgError naming the user's line."""
    a = rng.standard_normal((5, 3))
    a[:, 1] = a[:, 0]
    with pytest.raises(np.linalg.LinAlgError, match="dependent") as info:
        grad(r_squared, a)
    assert "test_degenerate_grads_s51.py" in "".join(getattr(info.value, "__notes__", [])) + str(info.value)


def test_qr_with_dependent_columns_at_the_end_keeps_its_right_gradient(rng):
    for _ in range(5):
        a = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 4))  # rank 2: the last two dependent
        _right_or_singular(a)
        b = rng.standard_normal((5, 3))
        b[:, 2] = b[:, 0]
        _right_or_singular(b)


def _right_or_singular(b):
    """The gradient 2b, or, where LAPACK's R has a diagonal entry exactly 0 (one draw of ten on an
    AVX2 machine, none on AVX-512), NumPy's LinAlgError from the rule's solve naming the user's
    line: no gradient is known there (a gap, not a wrong answer)."""
    if np.any(np.diag(np.linalg.qr(b)[1]) == 0.0):
        with pytest.raises(np.linalg.LinAlgError) as info:
            grad(r_squared, b)
        assert "test_degenerate_grads_s51.py" in "".join(getattr(info.value, "__notes__", [])) + str(info.value)
        return
    np.testing.assert_allclose(grad(r_squared, b), 2 * b, atol=1e-10)


# --- np.interp at its sample points ------------------------------------------------------------------
XP, FP = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 2.0, 3.0, 7.0])  # slopes 2, 1, 4


def interp_sum(x):
    return np.sum(np.interp(x, XP, FP))


def interp_values(x):
    return np.interp(x, XP, np.array([-0.0, 2.0, -0.0, 0.0]))


def test_interp_at_a_sample_point_has_the_slope_to_its_right():
    """It was 0 at every sample point (the value picked as fp[j] exactly)."""
    np.testing.assert_array_equal(grad(interp_sum, XP.copy()), [2.0, 1.0, 4.0, 0.0])
    got = looptrace.jit(interp_values, backend="interpret")(XP.copy())  # the values, zeros' signs included
    want = interp_values(XP.copy())
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got).tolist() == np.signbit(want).tolist()


# --- logaddexp and logaddexp2 at ties --------------------------------------------------------------
def lae(v):
    return np.logaddexp(v[0], v[1])


def lae2(v):
    return np.logaddexp2(v[0], v[1])


def lae_chain(v):
    acc = v[0]
    for k in range(1, 4):
        acc = np.logaddexp(acc, v[k])
    return acc


@pytest.mark.parametrize("v", [np.array([1.0, 1.0]), np.array([-3.0, -3.0]), np.array([-1e30, -1e30]),
                               np.array([1e17, 1e17]), np.array([-1e9, -1e9], np.float32)])
def test_logaddexp_ties_split_the_gradient_evenly(v):
    """logaddexp's share was exp(x - out) from the rounded output: 1 each at
    a tie of large magnitude (the usual -1e30 mask value); logaddexp2's tie
    branch x + 1 gave (1, 0)."""
    np.testing.assert_allclose(grad(lae, v), [0.5, 0.5], rtol=1e-6)
    if abs(v[0]) < 1e6:
        np.testing.assert_allclose(grad(lae2, v), [0.5, 0.5], rtol=1e-12)


def test_logaddexp_chain_of_masked_terms():
    v = np.full(4, -1e30)
    np.testing.assert_allclose(grad(lae_chain, v), [1 / 8, 1 / 8, 1 / 4, 1 / 2], rtol=1e-12)
    w = np.array([-np.inf, -np.inf, 0.5, -np.inf])  # unreachable terms move nothing
    np.testing.assert_allclose(grad(lae_chain, w), [0.0, 0.0, 1.0, 0.0])


# --- arctan2 and hypot at tiny, huge and zero arguments --------------------------------------------
def atan2_of(v):
    return np.arctan2(v[0], v[1])


def hypot_of(v):
    return np.hypot(v[0], v[1])


@pytest.mark.parametrize("scale", [1e-170, 1e200, 1.0])
def test_arctan2_gradient_without_squares(scale):
    """x*x + y*y overflowed (1e200: gradient 0) and underflowed (1e-170: inf)."""
    v = np.array([1.0, 2.0]) * scale
    np.testing.assert_allclose(grad(atan2_of, v), np.array([2.0, -1.0]) / (5.0 * scale), rtol=1e-14)
    v32 = np.array([1e-25, 2e-25], np.float32)
    np.testing.assert_allclose(grad(atan2_of, v32), np.array([4e24, -2e24], np.float32), rtol=1e-5)


def test_hypot_at_zero_has_the_zero_subgradient():
    """0/0 before; np.linalg.norm of a zero vector already gave 0 (and JAX gives 0 here)."""
    np.testing.assert_array_equal(grad(hypot_of, np.zeros(2)), [0.0, 0.0])
    np.testing.assert_allclose(grad(hypot_of, np.array([3.0, 4.0])), [0.6, 0.8], rtol=1e-15)


def elementwise_rules(v):
    return (np.logaddexp(v[0], v[1]) + np.logaddexp2(v[2], v[3]) + np.arctan2(v[4], v[5])
            + np.hypot(v[6], v[7]))


def test_the_elementwise_rules_compiled(rng):
    """One cpu kernel: the same rules through codegen, at ties, zeros and a generic point."""
    at = np.array([-1e30, -1e30, 2.0, 2.0, 1e-170, 2e-170, 0.0, 0.0])
    got = grad(elementwise_rules, at, backend="cpu")
    np.testing.assert_allclose(got, [0.5, 0.5, 0.5, 0.5, 4e169, -2e169, 0.0, 0.0], rtol=1e-12)
    x = rng.standard_normal(8)
    assert_close(grad(elementwise_rules, x, backend="cpu"), numerical_grad(elementwise_rules, [x], 0), 1e-6,
                 "elementwise")


def inverse_hyperbolic(v):
    return np.sum(np.arcsinh(v[:3])) + np.sum(np.arccosh(v[3:]))


def test_inverse_hyperbolic_derivatives_past_the_square_overflow(rng):
    """1/sqrt(x*x +- 1) was 0 from |x| ~ 1e154 (x*x = inf); now 1/hypot(x, 1) and
    1/(sqrt(x - 1) sqrt(x + 1)), which also keeps x - 1 exact near 1."""
    v = np.array([1e200, -1e160, 0.0, 1e200, 1e160, 1.0 + 2.0 ** -40])
    want = [1e-200, 1e-160, 1.0, 1e-200, 1e-160, 1.0 / np.sqrt(2.0 ** -40 * (2.0 + 2.0 ** -40))]
    np.testing.assert_allclose(grad(inverse_hyperbolic, v), want, rtol=1e-14)
    x = np.concatenate([rng.standard_normal(3), 1.5 + rng.random(3)])
    assert_close(grad(inverse_hyperbolic, x), numerical_grad(inverse_hyperbolic, [x], 0), 1e-7, "arcsinh/arccosh")
