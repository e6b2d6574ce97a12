"""The benchmark competitors compute what the plain seed functions compute.

Every hand-written competitor in bench/competitors.py is checked against its
workload's plain Python function on small arguments (float64, rtol 1e-9).
JAX competitors are skipped when JAX is not installed.
"""

import numpy as np
import pytest

from bench.competitors import HAVE_JAX, WORKLOADS, scalar_recurrence
from looptrace.examples import _conv_args, _gauss_args, _rnn_args

RTOL, ATOL = 1e-9, 1e-12

SMALL_ARGS = {
    "rnn_taps": lambda rng: _rnn_args(rng, T=30, nx=4, ny=5),
    "gaussian_layer": _gauss_args,
    "batched_conv": _conv_args,
    "sum_reduce": lambda rng: (rng.standard_normal(1000),),
    "scalar_recurrence": lambda rng: (rng.standard_normal(500),),
}

EXPECTED_COMPETITORS = {
    "rnn_taps": ["numpy", "numba", "jax"],
    "gaussian_layer": ["numpy", "numba", "jax"],
    "batched_conv": ["numpy", "numba", "jax"],
    "sum_reduce": ["numpy", "numba"],
    "scalar_recurrence": ["numba", "jax"],
}

# slow: the two costliest hand-written Numba competitors, a cold Numba compile each (5.5 s and 2.4 s of
# the suite on CI); gaussian_layer's and sum_reduce's (prange), scalar_recurrence's (a loop) keep the
# numba competitors checked by default, every numpy and jax competitor too. They run with -m slow.
SLOW_CASES = {("rnn_taps", "numba"), ("batched_conv", "numba")}
CASES = [pytest.param(workload, name, marks=pytest.mark.slow) if (workload, name) in SLOW_CASES else (workload, name)
         for workload, names in EXPECTED_COMPETITORS.items() for name in names]


def test_every_workload_has_small_args():
    assert set(SMALL_ARGS) == set(WORKLOADS) == set(EXPECTED_COMPETITORS)


@pytest.mark.parametrize(("workload", "name"), CASES)
def test_competitor_matches_plain(workload, name, rng):
    if name == "jax" and not HAVE_JAX:
        pytest.skip("jax is not installed")
    entry = WORKLOADS[workload]
    args = SMALL_ARGS[workload](rng)
    expected = entry.plain(*args)
    got = np.asarray(entry.competitors[name](*args))
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def test_scalar_recurrence_is_a_discounted_sum(rng):
    x = rng.standard_normal(50)
    discounts = 0.9 ** np.arange(x.shape[0] - 1, -1, -1)
    np.testing.assert_allclose(scalar_recurrence(x), discounts @ x, rtol=RTOL)
