"""The s25 widening of the NumPy surface (tools/numpy_survey.py): each function
against the undecorated function on fresh random data (interpret, and a few
grouped cases on cpu), gradients against central differences in float64, and
refusals of data-dependent shapes or dtypes that name the user's line."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad

from ._compare import assert_same


def same(fn, *args, backend="interpret", rtol=None):
    """Values, dtypes, shapes, and the arguments' contents afterwards."""
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jitted = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with np.errstate(all="ignore"):
        want = fn(*plain)
        got = lt.jit(fn, backend=backend)(*jitted)
    assert_same(got, want, rtol)
    for g, w in zip(jitted, plain):
        if isinstance(w, np.ndarray):
            np.testing.assert_array_equal(g, w)


def grad_check(fn, args, argnums, backend="interpret"):
    grads = lt.grad(lt.jit(fn, backend=backend), argnums=argnums)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(fn, list(args), i), 1e-6, f"{fn.__name__} argument {i}")


def complex_matrix(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


# --- wrong answers found by the s25 survey --------------------------------------------------------------
def test_vdot_conjugates_its_first_argument(rng):
    """np.vdot of complex arrays summed a * b; NumPy's is conj(a) * b."""
    c, d, a = complex_matrix(rng, 4, 4), complex_matrix(rng, 4, 4), rng.standard_normal((4, 4))
    same(lambda c, d, a: (np.vdot(c, d), np.vdot(c, c * 2), np.vdot(a, c), np.vdot(c, a), np.vdot(a, a)), c, d, a,
         rtol=1e-12)


def test_var_and_std_of_complex_arrays_are_real(rng):
    """np.var of complex arrays averaged d * d (complex); NumPy's is |d| ** 2, real."""
    c = complex_matrix(rng, 4, 5)
    same(lambda c: (np.var(c), np.var(c, axis=0), np.std(c, axis=1, ddof=1), np.var(c.astype(np.complex64)),
                    np.std(c, dtype=np.complex128), c.var(axis=1, keepdims=True), c.std()), c)


def test_var_mean_and_correction_keywords(rng):
    a = rng.standard_normal((5, 4))
    same(lambda a: (np.var(a, axis=0, mean=np.mean(a, axis=0, keepdims=True)), np.std(a, correction=1),
                    np.var(a, axis=1, correction=2, keepdims=True),
                    np.std(a, axis=1, mean=a.mean(axis=1, keepdims=True), ddof=1)), a)
    with pytest.raises(ValueError, match="ddof and correction"):
        lt.jit(lambda a: np.var(a, ddof=1, correction=1), backend="interpret")(a)


def test_var_complex_gradient(rng):
    def loss(x, y):
        return np.var(x + 1j * y) + np.std(x * (1 - 2j) + y, axis=0).sum() + np.var(x, mean=x.mean())

    grad_check(loss, [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))], (0, 1))
