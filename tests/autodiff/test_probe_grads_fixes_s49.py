"""Probe D's wrong gradients (session 49), fixed: no NaN where central finite
differences are finite.

- A zero cotangent contributes exactly zero through every elementwise VJP
  whose partial is not a finite constant (ops/elementwise.py _ct_times): the
  side of np.where not taken and the elements a mask leaves out (x[x > 0],
  y[m] = ..., np.compress, np.nonzero, a data-dependent slice) get a zero
  cotangent, while their partials may be NaN or inf (multiply's other
  operand log(x) at x < 0, tanh's 1 - out**2 of a NaN, x * exp(1000 x)).
- np.linalg.det's gradient is the cofactor matrix, finite at a singular
  matrix (ops/decomp.py _cofactors): minors up to 8 x 8, a Sherman-Morrison
  form without its division above.
- sqrt of a sum of squares at 0 (np.linalg.norm, np.std, or written by
  hand: pairwise distances with their zero diagonal, the std of one element)
  takes the zero subgradient: a square's zero partial against sqrt's
  infinite derivative contributes 0 (the same _ct_times); a lone np.sqrt(x)
  at 0 keeps its infinite derivative.
"""
import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the plain functions' log of a negative


def _signed(rng, n, low=0.2, high=2.0):
    """Random values of both signs, none near 0 (the masks' kinks)."""
    x = rng.uniform(low, high, n) * np.where(np.arange(n) % 2 == 0, -1.0, 1.0)
    return rng.permutation(x)


def _check(f, args, argnums=0, backend="interpret", rtol=1e-5):
    copies = [a.copy() for a in args]
    want_value = f(*[a.copy() for a in args])
    value, got = looptrace.value_and_grad(f, argnums=argnums, backend=backend)(*copies)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)  # the arguments are left alone
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    got = got if isinstance(argnums, tuple) else (got,)
    for i, g in zip(nums, got):
        assert g.shape == args[i].shape and g.dtype == args[i].dtype
        assert np.all(np.isfinite(g)), f"{f.__name__}: {g}"
        assert_close(g, numerical_grad(f, list(args), i), rtol, f"{f.__name__} argument {i}")


# --- 1. a zero cotangent through every elementwise partial --------------------------------------
def where_xlogx(x):
    return np.sum(np.where(x > 0, x * np.log(x), 0.0))


def where_tanh_log(x):
    return np.sum(np.where(x > 0, np.tanh(np.log(x)), 0.0))


def where_cos_sqrt(x):
    return np.sum(np.where(x > 0, np.cos(np.sqrt(x)), 1.0))


def where_abs_log(x):
    return np.sum(np.where(x > 0, np.abs(np.log(x)), 0.0))


def where_log_squared(x):
    return np.sum(np.where(x > 0, np.log(x) ** 2, 0.0))


def where_x_sqrt(x):
    return np.sum(np.where(x > 0, x * np.sqrt(x), -x))


def where_exp_overflow(x):
    return np.sum(np.where(x < 5.0, x ** 2, x * np.exp(1000.0 * x)))


def nansum_xlogx(x):
    return np.nansum(x * np.log(x))


def where_logx_times_y(x, y):
    return np.sum(np.where(x > 0, np.log(x) * y, 0.0))


def selection(x):
    p = x[x > 0]
    return np.sum(p * np.log(p)) + np.sum(np.tanh(np.log(p)))


def masked_assign(x):
    y = np.zeros_like(x)
    m = x > 0
    y[m] = x[m] * np.log(x[m])
    return np.sum(y * y)


def compressed(x):
    return np.sum(np.log(np.compress(x > 0, x)) ** 2)


def nonzero_index(x):
    i = np.nonzero(x > 0)[0]
    return np.sum(x[i] * np.log(x[i]))


def prefix_before_negative(x):
    p = x[:np.argmax(x < 0)]
    return np.sum(p * np.log(p))


ELEMENTWISE = [where_xlogx, where_tanh_log, where_cos_sqrt, where_abs_log, where_log_squared, where_x_sqrt,
               nansum_xlogx, selection, masked_assign, compressed, nonzero_index]


@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_a_side_not_taken_or_masked_out_moves_nothing(f, rng):
    _check(f, [_signed(rng, 7)])


def test_the_other_operand_and_an_overflowing_side(rng):
    x, y = _signed(rng, 6), rng.standard_normal(6)
    _check(where_logx_times_y, [x, y], (0, 1))
    _check(where_exp_overflow, [np.concatenate([_signed(rng, 4), [2.0, 4.5]])])  # x * exp(1000 x) overflows, not taken


def test_a_data_dependent_prefix(rng):
    x = np.concatenate([rng.uniform(0.2, 2.0, 3), [-0.7], _signed(rng, 4)])
    _check(prefix_before_negative, [x])


def test_float32_keeps_its_dtype_and_stays_finite(rng):
    x = _signed(rng, 6).astype(np.float32)
    g = looptrace.grad(selection, backend="interpret")(x)
    assert g.dtype == np.float32 and np.all(np.isfinite(g))
    assert_close(g, numerical_grad(selection, [x.astype(np.float64)], 0), 2e-3, "float32 selection")


def test_a_nonzero_cotangent_still_meets_the_nan():
    """The guard drops only a zero cotangent: log's NaN where the user's
    function really reads it stays NaN (finite differences are NaN too)."""
    g = looptrace.grad(lambda x: np.sum(x * np.log(x)), backend="interpret")(np.array([-0.5, 0.4]))
    assert np.isnan(g[0]) and np.isfinite(g[1])


# --- 2. det at a singular matrix ----------------------------------------------------------------
def det(a):
    return np.linalg.det(a)


def det_weighted(a):
    return np.sum(np.linalg.det(a) * np.arange(1.0, a.shape[0] + 1))


def _repeated_row(rng, n):
    a = rng.standard_normal((n, n))
    a[n // 2] = a[0]  # the LU meets an exact zero pivot: det is exactly 0 and inv raises
    return a


def test_det_gradient_is_the_adjugate_at_a_singular_matrix(rng):
    got = looptrace.grad(det, backend="interpret")(np.array([[1.0, 2.0], [2.0, 4.0]]))
    np.testing.assert_allclose(got, [[4.0, -2.0], [-2.0, 1.0]], rtol=1e-12)
    u, v = rng.standard_normal(3), rng.standard_normal(3)
    _check(det, [np.outer(u, v)])  # rank 1 of 3: a zero gradient
    _check(det, [_repeated_row(rng, 4)])
    _check(det, [rng.standard_normal((1, 1))])
    _check(det, [rng.standard_normal((5, 5))])


def test_det_gradient_past_the_minors(rng):
    _check(det, [_repeated_row(rng, 9)], rtol=1e-6)
    _check(det, [rng.standard_normal((10, 10))], rtol=1e-6)


def _of_rank(rng, n, r):
    return rng.standard_normal((n, r)) @ rng.standard_normal((r, n))  # not exactly singular: det ~ 1e-15


def test_det_gradient_near_a_matrix_of_rank_n_minus_2_or_less(rng):
    """Above 4x4 the cofactors come from the SVD: det(a) a^-T gave entries
    of ~300 for a 5x5 of rank 3 (LU noise times a huge inverse), where the
    finite differences give ~1e-15; ranks n and n - 1 stay right too."""
    for n in (5, 7):
        for r in (n, n - 1, *[n - 2, n - 3] * 4):  # (the old rule: 12 of 60 such draws wrong, 3 raised)
            _check(det, [_of_rank(rng, n, r)], rtol=1e-6)


def test_det_gradient_of_a_stack_with_a_singular_member(rng):
    for n in (3, 9):
        a = rng.standard_normal((3, n, n))
        a[1] = _repeated_row(rng, n)
        a[2] = _of_rank(rng, n, n - 2)
        _check(det_weighted, [a], rtol=1e-6)


# --- 3. sqrt of a sum of squares at zero --------------------------------------------------------
def pairwise(X):
    return np.sum(np.linalg.norm(X[:, None, :] - X[None, :, :], axis=-1))


def norms_at_zero(x):
    M = x.reshape(2, 3)
    M0 = np.concatenate([M[:1] * 0.0, M[1:]])
    return (np.linalg.norm(x * 0.0) + np.sum(x) + np.sum(np.linalg.norm(M0, axis=1, keepdims=True))
            + np.linalg.norm(M0[:1] * 0.0, "fro") + np.linalg.norm(M0))


def std_of_one(x):
    return np.std(x[:1]) + np.std(x) + np.sum(x)


def hand_distance_masked(X):
    s = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    return np.sum(np.where(s > 0, np.sqrt(np.where(s > 0, s, 1.0)), 0.0)) + np.sum(np.where(s > 0, np.sqrt(s), 0.0))


def hand_distances(X):
    d = X[:, None, :] - X[None, :, :]
    return np.sum(np.sqrt(np.sum(d ** 2, axis=-1))) + np.sum(np.sqrt(np.sum(d * d, axis=-1)) ** 3)


def hand_std_of_one(x):
    return np.sqrt(np.mean((x[:1] - np.mean(x[:1])) ** 2)) + np.sum(np.sqrt(x * 0.0)) + np.sum(x)


def test_a_hand_written_root_of_squares_at_zero(rng):
    """A square's zero partial against sqrt's infinite derivative gives 0 (x * 0.0 too)."""
    _check(hand_distances, [rng.standard_normal((4, 3))])
    _check(hand_std_of_one, [rng.standard_normal(3)])


def test_a_lone_sqrt_at_zero_keeps_its_infinite_derivative():
    g = looptrace.grad(lambda x: np.sum(np.sqrt(x)), backend="interpret")(np.array([0.0, 4.0]))
    assert g[0] == np.inf and g[1] == 0.25


def test_norm_and_std_at_zero_take_the_zero_subgradient(rng):
    _check(pairwise, [rng.standard_normal((4, 3))])
    _check(norms_at_zero, [rng.standard_normal(6)])
    _check(std_of_one, [rng.standard_normal(5)])
    _check(hand_distance_masked, [rng.standard_normal((4, 2))])


def test_norm_values_are_numpys(rng):
    x = rng.standard_normal((3, 4))
    f = looptrace.jit(lambda a: (np.linalg.norm(a), np.linalg.norm(a, axis=0), np.std(a, axis=1),
                                 np.linalg.norm(a * 0.0)), backend="interpret")
    for got, want in zip(f(x), (np.linalg.norm(x), np.linalg.norm(x, axis=0), np.std(x, axis=1), 0.0)):
        np.testing.assert_allclose(got, want, rtol=1e-14)
        assert np.asarray(got).dtype == np.float64
    y = x.astype(np.float32)
    assert looptrace.jit(lambda a: np.linalg.norm(a), backend="interpret")(y).dtype == np.float32


# --- one cpu kernel for the codegen of all three ------------------------------------------------
def cpu_batch(x, X, a2, a9):
    return (where_xlogx(x) + selection(x) + masked_assign(x) + where_tanh_log(x) + pairwise(X) + std_of_one(x)
            + det(a2) + det(a9))


# slow: the fixes are in the VJPs (ops/elementwise.py _ct_times, ops/decomp.py _cofactors), checked by
# each interpreter test above; cpu gradients keep running in test_seed_gradients.py.
@pytest.mark.slow
def test_cpu_kernel_matches_finite_differences(rng):
    args = [_signed(rng, 6), rng.standard_normal((3, 2)), np.array([[1.0, 2.0], [2.0, 4.0]]), _repeated_row(rng, 9)]
    _check(cpu_batch, args, (0, 1, 2, 3), backend="cpu", rtol=1e-6)
