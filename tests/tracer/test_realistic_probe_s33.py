"""What a probe of realistic programs found (session 33): the Metropolis
test `if dE <= 0 or rng.random() < p:` (refused: a draw inside `or`), an int
argument that sizes only a random draw (refused, where np.zeros(n) is
specialized), and a loop drawing in a branch that warned of an internal
error in the linear-scan pass. Against the plain function, generator states
included."""
import warnings

import numpy as np
import pytest

import looptrace as lt

BACKENDS = ["interpret", "cpu"]


def metropolis(x, rng, beta):
    acc = 0.0
    for i in range(x.shape[0]):
        dE = x[i]
        if dE <= 0 or rng.random() < np.exp(-beta * dE):
            acc += dE
    return acc


def both_and_draw(x, rng):
    n = 0
    for i in range(x.shape[0]):
        if x[i] > 0 and rng.random() < 0.5:
            n += 1
    return n


def accepted(x, rng):
    acc = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            ok = rng.random() < 0.5
        else:
            ok = True
        if ok:
            acc = 0.5 * acc + x[i]
    return acc


@pytest.mark.parametrize("backend", BACKENDS)
def test_draws_inside_or_and_and(backend):
    x = np.random.default_rng(0).standard_normal(60)
    for fn, extra in ((metropolis, (2.0,)), (both_and_draw, ()), (accepted, ())):
        r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (the linear-scan pass warned of an internal error)
            got = lt.jit(fn, backend=backend)(x, r1, *extra)
        want = fn(x, r2, *extra)
        assert got == pytest.approx(want, rel=1e-12) and type(got) is type(want)
        assert r1.bit_generator.state == r2.bit_generator.state


def draws_n(n, rng):
    return rng.random(n).sum() + rng.standard_normal((n, 2)).sum()


def test_an_int_argument_that_sizes_a_draw_is_specialized():
    for n in (5, 3):
        r1, r2 = np.random.default_rng(1), np.random.default_rng(1)
        assert lt.jit(draws_n, backend="interpret")(n, r1) == pytest.approx(draws_n(n, r2), rel=1e-12)
        assert r1.bit_generator.state == r2.bit_generator.state
