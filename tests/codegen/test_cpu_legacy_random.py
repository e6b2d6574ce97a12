"""NumPy's legacy global random state on the cpu backend: the Numba helpers of
codegen/cpu/legacy_random.py against NumPy's RandomState (values and final
state, bit for bit), the state array a call copies in and out
(tracer/legacy_random.py), and a representative set of jitted functions
(tests/tracer/test_legacy_random.py runs them all on the interpreter).
"""

from __future__ import annotations

import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import legacy_random as helpers
from looptrace.tracer import legacy_random
from tests.tracer.test_legacy_random import (assert_same_state, batched_draws, check, every_method,
                                             keep_global_state, monte_carlo_pi, scalar_draws_per_iteration,
                                             seeded_in_a_loop, start_state)

__all__ = ["keep_global_state"]  # the fixture, autouse here too


def state_of(rs: np.random.RandomState) -> np.ndarray:
    _, key, pos, has_gauss, gauss = rs.get_state()
    return np.concatenate([key, [pos, has_gauss], np.array([gauss]).view(np.uint32)]).astype(np.uint32)


def assert_state_is(state: np.ndarray, rs: np.random.RandomState) -> None:
    np.testing.assert_array_equal(state, state_of(rs))


@pytest.mark.parametrize("gaussians", [0, 1])
def test_normal_and_uniform_helpers_equal_numpy(gaussians):
    rs = np.random.RandomState(7)
    rs.standard_normal(gaussians)
    state = state_of(rs)
    assert (helpers.legacy_normal_draws(state, 1001) == rs.standard_normal(1001)).all()  # past a twist
    assert_state_is(state, rs)
    assert helpers.legacy_normal_draw(state) == rs.standard_normal()
    assert (helpers.legacy_uniform_draws(state, 2100) == rs.random_sample((3, 700)).ravel()).all()
    assert helpers.legacy_uniform_draw(state) == rs.random_sample()
    assert_state_is(state, rs)


@pytest.mark.parametrize("low,high", [(0, 7), (-5, 1000), (3, 4), (0, 2**32), (0, 2**32 + 1), (-(2**63), 2**63 - 1),
                                      (-(2**40), 2**41 + 17), (0, 2**31 + 1), (10, 11)])
def test_randint_helpers_equal_numpy(low, high):
    rs = np.random.RandomState(3)
    state = state_of(rs)
    assert (helpers.legacy_randint_draws(state, low, high, 50) == rs.randint(low, high, 50)).all()
    assert helpers.legacy_randint_draw(state, low, high) == rs.randint(low, high)
    assert_state_is(state, rs)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**32 - 1])
def test_seed_helper_equals_numpy(seed):
    rs = np.random.RandomState(1)
    rs.standard_normal()  # a cached gaussian, which the seed clears
    state = state_of(rs)
    helpers.legacy_seed(state, seed)
    rs.seed(seed)
    assert_state_is(state, rs)


@pytest.mark.parametrize("fast", [True, False])
def test_state_array_round_trip(fast, monkeypatch):
    if not fast:  # the get_state/set_state path, where the memory of the state was not found
        monkeypatch.setattr(legacy_random, "_mt_words", lambda bg: None)
    rs = np.random.RandomState(4)
    rs.standard_normal()
    state = legacy_random.state_array(rs)
    assert_state_is(state, rs)
    other = np.random.RandomState(9)
    legacy_random.store_state(other, state)
    assert_same_state(other.get_state(), rs.get_state())
    assert other.standard_normal(3).tolist() == rs.standard_normal(3).tolist()


def test_the_cache_offset_is_found():
    rs = np.random.RandomState(2)
    assert legacy_random._cache_at(rs) is not None  # else every call pays get_state and set_state
    assert legacy_random._mt_words(rs._bit_generator) is not None


def test_monte_carlo_pi():
    check(monte_carlo_pi, 2000, backend="cpu")


@pytest.mark.slow  # 43 s of CPU; twins: tests/tracer test_every_method_outside_loops, the helper tests above
def test_every_method(rng):
    check(every_method, rng.standard_normal(4), backend="cpu", rtol=1e-15)


@pytest.mark.parametrize("gaussians", [0, 1])
def test_draws_in_loops(gaussians, rng):
    x = rng.standard_normal(7)
    check(scalar_draws_per_iteration, x, backend="cpu", gaussians=gaussians, rtol=1e-13)
    check(batched_draws, x, backend="cpu", gaussians=gaussians, rtol=1e-13)


def test_traced_seeds(rng):
    check(seeded_in_a_loop, rng.standard_normal(5), np.int64(17), backend="cpu")


def test_a_call_that_raises():
    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += np.random.normal()
            if x[i] > 100.0:
                raise ValueError("too big")
        return s

    x = np.array([0.5, 1.0, 1000.0, 2.0])
    jf = looptrace.jit(f, backend="cpu")
    state = start_state(3, 1)
    with pytest.raises(ValueError, match="too big"):
        f(x)
    after = np.random.get_state()
    np.random.set_state(state)
    with pytest.raises(ValueError, match="too big"):
        jf(x)
    assert_same_state(np.random.get_state(), after)
    x[2] = 3.0
    np.random.set_state(state)
    want = f(x)
    np.random.set_state(state)
    assert jf(x) == want


def test_traced_bounds(rng):
    from tests.tracer.test_legacy_random import shuffled_by_hand

    check(shuffled_by_hand, rng.standard_normal(6), backend="cpu")
