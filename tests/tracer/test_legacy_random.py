"""NumPy's legacy global random state (np.random.seed, random, rand, randn,
normal, uniform, randint, exponential, choice) in traced code: the jitted
function gives the plain function's values and leaves np.random's state (MT19937's
key and position, and the cached gaussian) as the plain function leaves it, in
loops (scalar draws per iteration, loops whose draws are batched) and outside
them. Uses it does not support raise UnsupportedError naming the line.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def keep_global_state():
    """Tests set np.random's state; the rest of the session gets it back."""
    before = np.random.get_state()
    yield
    np.random.set_state(before)


def assert_same_state(a, b) -> None:
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:], (a[2:], b[2:])


def assert_same(got, expected, rtol=0.0) -> None:
    if isinstance(expected, (tuple, list)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e, rtol)
        return
    g, e = np.asarray(got), np.asarray(expected)
    assert g.dtype == e.dtype and g.shape == e.shape, (g.dtype, e.dtype, g.shape, e.shape)
    if rtol:
        np.testing.assert_allclose(g, e, rtol=rtol)
    else:
        np.testing.assert_array_equal(g, e)


def start_state(seed: int, gaussians: int) -> tuple:
    """A state after `gaussians` normal draws: an odd count leaves a cached gaussian."""
    np.random.seed(seed)
    np.random.standard_normal(gaussians)
    return np.random.get_state()


def check(fn, *args, backend="interpret", seed=5, gaussians=1, calls=2, rtol=0.0):
    """Plain and jitted from the same state, `calls` times in a row: the same
    results, and the same state after each call."""
    jf = looptrace.jit(fn, backend=backend)
    state = start_state(seed, gaussians)
    for _ in range(calls):
        np.random.set_state(state)
        want = fn(*args)
        after = np.random.get_state()
        np.random.set_state(state)
        got = jf(*args)
        assert_same(got, want, rtol)
        assert_same_state(np.random.get_state(), after)
        state = after
    return jf


def monte_carlo_pi(n):
    np.random.seed(0)
    hits = 0
    for i in range(n):
        x = np.random.random()
        y = np.random.random()
        if x * x + y * y < 1.0:
            hits += 1
    return 4.0 * hits / n


def test_monte_carlo_pi_with_a_seed():
    check(monte_carlo_pi, 500)


def every_method(x):
    a = np.random.random() + np.random.random_sample() + np.random.rand()
    b = np.random.rand(3), np.random.rand(2, 2), np.random.random((2, 3)), np.random.random_sample(4)
    c = np.random.randn(), np.random.randn(5), np.random.randn(2, 3), np.random.standard_normal(3)
    d = np.random.standard_normal(), np.random.normal(), np.random.normal(1.5, 2.0), np.random.normal(x, 0.5)
    e = np.random.normal(0.0, 3.0, size=(2, 2)), np.random.uniform(), np.random.uniform(-2.0, 5.0)
    f = np.random.uniform(x, 4.0), np.random.uniform(1.0, 2.0, 3), np.random.exponential()
    g = np.random.exponential(2.5), np.random.exponential(0.5, 3), np.random.standard_exponential(2)
    h = np.random.randint(10), np.random.randint(-5, 1000), np.random.randint(0, 2**40, size=4)
    i = np.random.randint(3, 9, size=(2, 2)), np.random.choice(7), np.random.choice(5, 6), np.random.choice(x)
    j = np.random.choice(x, size=3), np.random.randint(-(2**63), 2**63 - 1, size=2)
    return a, b, c, d, e, f, g, h, i, j


@pytest.mark.parametrize("gaussians", [0, 1])
def test_every_method_outside_loops(gaussians, rng):
    check(every_method, rng.standard_normal(4), gaussians=gaussians, rtol=1e-15)


def test_python_number_results_keep_their_types():
    def f(x32, k32):
        return x32 * np.random.random(), k32 + np.random.randint(5), np.random.random(), np.random.randint(3)

    check(f, np.ones(3, np.float32), np.arange(3, dtype=np.int32))


def scalar_draws_per_iteration(x):
    out = np.empty_like(x)
    acc = 0.0
    for i in range(x.shape[0]):
        out[i] = x[i] * np.random.normal(1.0, 2.0)
        acc += np.random.exponential(1.5) + np.random.randint(0, 7)
    return out, acc


def batched_draws(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] + np.random.randn()
    total = np.zeros(3)
    for i in range(x.shape[0]):
        total += np.random.rand(3) * x[i]
    ks = np.empty(x.shape[0], np.int64)
    for i in range(x.shape[0]):
        ks[i] = np.random.randint(-4, 2**33)
    return out, total, ks


@pytest.mark.parametrize("n", [0, 1, 6, 7])
@pytest.mark.parametrize("gaussians", [0, 1])
def test_draws_in_loops(n, gaussians, rng):
    x = rng.standard_normal(n)
    check(scalar_draws_per_iteration, x, gaussians=gaussians, rtol=1e-13)
    jf = check(batched_draws, x, gaussians=gaussians, rtol=1e-13)
    if n > 1:
        kinds = [r.kind for r in looptrace.explain(jf, x).loops]
        assert kinds[0] == "vectorized" and kinds[2] == "vectorized", kinds  # the draws were batched


def seeded_in_a_loop(x, base):
    out = np.empty((x.shape[0], 2))
    for i in range(x.shape[0]):
        np.random.seed(base + i)
        out[i, 0] = np.random.randn() * x[i]
        out[i, 1] = np.random.random()
    np.random.seed(base)  # a seed clears the cached gaussian
    return out, np.random.randn(3)


def test_traced_seeds_before_and_between_draws(rng):
    check(seeded_in_a_loop, rng.standard_normal(5), np.int64(17), gaussians=1)


def test_a_seed_out_of_range_raises_at_run_time():
    def f(s):
        np.random.seed(s)
        return np.random.random()

    jf = looptrace.jit(f, backend="interpret")
    assert jf(np.int64(3)) == f(3)
    for bad in (np.int64(-1), np.int64(2**32)):
        with pytest.raises(ValueError, match="Seed must be between 0 and 2"):
            jf(bad)


def test_a_call_that_raises_leaves_the_state_as_the_plain_function_does(rng):
    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += np.random.normal()
            if x[i] > 100.0:
                raise ValueError("too big")
        return s

    x = rng.random(5)
    x[3] = 1000.0
    jf = looptrace.jit(f, backend="interpret")
    state = start_state(3, 1)
    with pytest.raises(ValueError, match="too big"):
        f(x)
    after = np.random.get_state()
    np.random.set_state(state)
    with pytest.raises(ValueError, match="too big"):
        jf(x)
    assert_same_state(np.random.get_state(), after)


def test_transactional_run_puts_nothing_back_when_the_run_raises():
    from looptrace.api import transactional_run

    np.random.seed(1)
    before = np.random.get_state()

    def run(args):
        args[0][:] = 0  # a run that spoils the state array, then fails
        raise RuntimeError("failed")

    with pytest.raises(RuntimeError):
        transactional_run(run, [np.random.mtrand._rand])
    assert_same_state(np.random.get_state(), before)


def test_the_state_is_read_at_each_call():
    def f():
        return np.random.random(), np.random.randn()

    jf = looptrace.jit(f, backend="interpret")
    for seed in (1, 2):
        np.random.seed(seed)
        want = f()
        np.random.seed(seed)
        assert jf() == want


RS = np.random.RandomState(11)
normal = np.random.normal  # a bound method of the global RandomState, reached by a global name


def test_a_global_randomstate_and_a_bound_method():
    def f(x):
        return RS.randn(2) + x, RS.randint(3, 8), normal(2.0, 1.0), RS.choice(4)

    x = np.arange(2.0)
    jf = looptrace.jit(f, backend="interpret")
    st_rs, st_glob = RS.get_state(), start_state(2, 1)
    want = f(x)
    after_rs, after_glob = RS.get_state(), np.random.get_state()
    RS.set_state(st_rs)
    np.random.set_state(st_glob)
    assert_same(jf(x), want)
    assert_same_state(RS.get_state(), after_rs)
    assert_same_state(np.random.get_state(), after_glob)


def _line_of(fn, text: str) -> int:
    lines, start = inspect.getsourcelines(fn)
    return start + next(k for k, s in enumerate(lines) if text in s)


def test_unsupported_uses_name_the_line():
    def unseeded():
        np.random.seed()
        return np.random.random()

    def gamma():
        return np.random.gamma(2.0)

    def weighted():
        return np.random.choice(3, p=[0.2, 0.3, 0.5])

    def small_ints():
        return np.random.randint(0, 5, dtype=np.int32)

    for fn, text, what in [(unseeded, "seed()", "seed of None"), (gamma, "np.random.gamma", "np.random.gamma"),
                           (weighted, "np.random.choice", "p= or replace=False"),
                           (small_ints, "np.random.randint", "dtype=int32")]:
        with pytest.raises(looptrace.UnsupportedError, match=what) as e:
            looptrace.jit(fn, backend="interpret")()
        assert str(_line_of(fn, text)) in str(e.value)


def test_numpy_value_errors():
    def bad_scale():
        return np.random.normal(0.0, -0.0)

    def bad_bounds():
        return np.random.randint(5, 5)

    def bad_seed():
        np.random.seed(-3)

    def bad_range():
        return np.random.uniform(0.0, np.inf)

    for fn, exc, what in [(bad_scale, ValueError, "scale < 0"), (bad_bounds, ValueError, "low >= high"),
                          (bad_seed, ValueError, "Seed must be"), (bad_range, OverflowError, "Range exceeds")]:
        with pytest.raises(exc, match=what):
            fn()
        with pytest.raises(exc, match=what):
            looptrace.jit(fn, backend="interpret")()


def test_traced_scale_checked_at_run_time():
    def f(s):
        return np.random.normal(0.0, s, size=3)

    jf = looptrace.jit(f, backend="interpret")
    np.random.seed(0)
    want = f(np.array([1.0, 2.0, 0.5]))
    np.random.seed(0)
    assert_same(jf(np.array([1.0, 2.0, 0.5])), want)
    with pytest.raises(ValueError, match="scale < 0"):
        jf(np.array([1.0, -2.0, 0.5]))


def test_cuda_refuses_naming_the_line():
    def f(x):
        return x + np.random.random()

    with pytest.raises(looptrace.UnsupportedError, match="legacy global random state") as e:
        looptrace.jit(f, backend="cuda")(np.ones(3))
    assert str(_line_of(f, "np.random.random()")) in str(e.value)


def test_grad_and_vjp_use_the_draws_of_one_call(rng):
    def f(x):
        return (x * np.random.random(x.shape[0])).sum() + np.random.normal(x[0], 1.0)

    x = rng.standard_normal(3)
    state = start_state(8, 1)
    want = f(x)
    after = np.random.get_state()
    np.random.set_state(state)
    u = np.random.random(3)
    jf = looptrace.jit(f, backend="interpret")
    np.random.set_state(state)
    value, g = looptrace.value_and_grad(jf)(x)
    assert value == want
    np.testing.assert_array_equal(g, u + np.array([1.0, 0.0, 0.0]))
    assert_same_state(np.random.get_state(), after)
    np.random.set_state(state)
    out, vjp_fn = looptrace.vjp(jf, x)
    assert out == want
    for _ in range(2):  # each call of vjp_fn sees the draws of the call
        np.testing.assert_array_equal(vjp_fn(1.0)[0], u + np.array([1.0, 0.0, 0.0]))
    assert_same_state(np.random.get_state(), after)


def shuffled_by_hand(x):
    """Fisher-Yates as written for Numba: bounds that change every iteration."""
    out = x.copy()
    for i in range(x.shape[0] - 1, 0, -1):
        j = np.random.randint(0, i + 1)
        out[i], out[j] = out[j], out[i]
    return out, np.random.choice(x.shape[0] + 2, size=2)


def test_traced_bounds(rng):
    check(shuffled_by_hand, rng.standard_normal(6))
