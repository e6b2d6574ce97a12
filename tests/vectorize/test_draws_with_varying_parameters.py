"""A draw whose parameters change between iterations (`rng.poisson(lam[i])`,
`rng.binomial(n[i], p[i])`) is one draw of all of them, element k from
parameters k, as NumPy's broadcast loop draws them (batch_interpreter
`_draw`, ops/random.py `_params_draw_batch`): the loop is vectorized and the
values are the plain loop's. A draw whose rule takes one value of each
parameter (`rng.integers(lo[i], hi[i])`) stays in the loop, with the same values."""
import numpy as np
import pytest

import looptrace as lt


def poisson_per_rate(lam, seed):
    rng = np.random.default_rng(seed)
    out = np.empty(lam.shape[0], dtype=np.int64)
    for i in range(lam.shape[0]):
        out[i] = rng.poisson(lam[i])
    return out


def binomial_per_trial(n, p, seed):
    rng = np.random.default_rng(seed)
    out = np.empty(n.shape[0], dtype=np.int64)
    for i in range(n.shape[0]):
        out[i] = rng.binomial(n[i], p[i])
    return out


def integers_per_bounds(lo, seed):
    rng = np.random.default_rng(seed)
    out = np.empty(lo.shape[0], dtype=np.int64)
    for i in range(lo.shape[0]):
        out[i] = rng.integers(lo[i], lo[i] + 10)
    return out


def _kinds(fn, *args):
    return [r.kind for r in lt.explain(lt.jit(fn, backend="interpret"), *args).loops]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_varying_parameters_draw_as_the_loop(backend):
    r = np.random.default_rng(8)
    lam = r.uniform(0.0, 40.0, 500)
    n, p = r.integers(0, 60, 500), r.random(500)
    lo = r.integers(-50, 50, 500)
    for fn, args in ((poisson_per_rate, (lam, 3)), (binomial_per_trial, (n, p, 4)), (integers_per_bounds, (lo, 5))):
        np.testing.assert_array_equal(lt.jit(fn, backend=backend)(*args), fn(*args))
    assert _kinds(poisson_per_rate, lam, 3) == ["vectorized"]
    assert _kinds(binomial_per_trial, n, p, 4) == ["vectorized"]
    assert _kinds(integers_per_bounds, lo, 5) == ["scan"]


def test_a_bad_parameter_raises_as_numpy():
    lam = np.array([1.0, -2.0, 3.0])
    with pytest.raises(ValueError):
        poisson_per_rate(lam, 1)
    with pytest.raises(ValueError):
        lt.jit(poisson_per_rate, backend="interpret")(lam, 1)
