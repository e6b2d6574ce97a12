"""A generator the function makes itself (`rng = np.random.default_rng(7)`)
draws at run time: it is an implicit argument each call makes afresh
(guards.Source "made"), so a loop traced once draws new numbers on every
iteration, as the plain function does. Before (session-35 probe G), the
Generator object drew once while tracing and every iteration reused those
numbers. A Generator looptrace only sees as a Python object inside a loop
(made in code it ran as plain Python) is refused with a clear error."""
import numpy as np
import pytest

import looptrace as lt

from .test_result_types_loops import check


def rows_of_noise(w):
    rng = np.random.default_rng(7)
    out = np.zeros((3, w.shape[0]))
    for t in range(3):
        out[t] = w * rng.standard_normal(w.shape[0])
    return out


def noisy_sum(w, seed):
    rng = np.random.default_rng(seed)
    s = 0.0
    for t in range(w.shape[0]):
        s += w[t] * rng.normal(0.0, 2.0) + rng.uniform()
    return s


def draws_before_and_in_loop(w):
    rng = np.random.default_rng(11)
    first = rng.standard_normal()
    s = first
    for t in range(w.shape[0]):
        s = s * 0.5 + w[t] * rng.standard_normal()
    return s, rng.integers(0, 100)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_draws_in_a_loop_are_new_each_iteration(backend):
    w = np.random.default_rng(0).standard_normal(4) + 2.0
    f = lt.jit(rows_of_noise, backend=backend)
    got = f(w.copy())
    np.testing.assert_allclose(got, rows_of_noise(w), rtol=1e-12)
    assert not np.allclose(got[0], got[1])
    np.testing.assert_allclose(f(w.copy()), got, rtol=0)  # a fresh generator on every call


@pytest.mark.parametrize("fn,args", [(noisy_sum, (5,)), (draws_before_and_in_loop, ())])
def test_other_draws(fn, args):
    w = np.random.default_rng(1).standard_normal(6)
    check(fn, (w, *args))
    check(fn, (w[:2], *args))


def test_gradient_through_a_made_generator():
    w = np.random.default_rng(2).standard_normal(3)
    jf = lt.jit(rows_of_noise, backend="interpret")
    got = lt.grad(lambda w: jf(w).sum(), backend="interpret")(w)
    r = np.random.default_rng(7)
    want = r.standard_normal(3) + r.standard_normal(3) + r.standard_normal(3)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def _loop_draws(w, rng):
    s = 0.0
    for t in range(2):
        s += np.sum(w * rng.standard_normal(w.shape[0]))
    return s


def test_a_generator_made_in_a_star_args_function_under_grad():
    """A *args function under grad runs traced (autodiff/api.py `_calling`):
    the generator it makes is traced as made there, each iteration drawing
    afresh. (It ran as plain Python before, its generator a Python object
    that the loop refused: 'reuse those numbers'.)"""
    jf = lt.jit(_loop_draws, backend="interpret")

    def varargs(*q):
        return jf(q[0], np.random.default_rng(7))

    w = np.ones(3)
    assert jf(w, np.random.default_rng(7)) == _loop_draws(w, np.random.default_rng(7))
    r = np.random.default_rng(7)
    np.testing.assert_allclose(lt.grad(varargs, backend="interpret")(w), r.standard_normal(3) + r.standard_normal(3), rtol=1e-12)
