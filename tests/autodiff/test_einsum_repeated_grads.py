"""Gradients through an einsum whose operand repeats a letter (a diagonal
'ii->i', a trace 'ii->', 'iji->j', a diagonal times a vector): the operand's
cotangent lies on the positions where the repeated axes agree
(ops/linalg.py `_on_diagonals`). Before, these raised "cannot differentiate
an einsum with a repeated index". Checked against central differences."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad


def diagonal_squares(a):
    return (np.einsum("ii->i", a) ** 2).sum()


def trace_squared(a):
    return np.einsum("ii->", a) ** 2


def diagonal_of_slices(a, w):
    return (np.einsum("iji->j", a) * w).sum()


def diagonal_times_vector(a, w):
    return (np.einsum("ii,i->i", a, w) ** 2).sum()


def two_repeats(a, w):
    return (np.einsum("iij->j", a) * w).sum() + np.einsum("jii->", a) + np.einsum("iii->", a) ** 2


def diagonal_in_a_loop(a, w):
    s = 0.0
    for k in range(a.shape[0]):
        s = s + np.sin(np.einsum("ii->i", a[k]) * w).sum() * (k + 1)
    return s


CASES = [
    (diagonal_squares, [(4, 4)]),
    (trace_squared, [(5, 5)]),
    (diagonal_of_slices, [(3, 5, 3), (5,)]),
    (diagonal_times_vector, [(4, 4), (4,)]),
    (two_repeats, [(3, 3, 3), (3,)]),
    (diagonal_in_a_loop, [(3, 4, 4), (4,)]),
]


def _check(fn, shapes, backend, rng):
    args = [rng.standard_normal(s) for s in shapes]
    argnums = tuple(range(len(args)))
    grads = lt.grad(lt.jit(fn, backend=backend), argnums=argnums)(*args)
    for k, g in zip(argnums, grads):
        assert_close(g, numerical_grad(fn, list(args), k), 1e-6, f"{fn.__name__} argument {k}")


@pytest.mark.parametrize("fn,shapes", CASES, ids=[c[0].__name__ for c in CASES])
def test_against_central_differences(fn, shapes, rng):
    _check(fn, shapes, "interpret", rng)


# diagonal_in_a_loop: slow, the same repeated-index einsum gradient on cpu as diagonal_times_vector's, in a loop the
# interpreter test of every case checks
@pytest.mark.parametrize("fn,shapes", [pytest.param(*CASES[3], id="diagonal_times_vector"),
                                       pytest.param(*CASES[5], id="diagonal_in_a_loop", marks=pytest.mark.slow)])
def test_against_central_differences_on_cpu(fn, shapes, rng):
    _check(fn, shapes, "cpu", rng)
