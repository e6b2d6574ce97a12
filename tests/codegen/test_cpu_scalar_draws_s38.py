"""One random draw at a time (cpu/random.py, templates.py `uniform_draw`,
`normal_draw`, `exponential_draw`, `integer_draw`).

A scalar draw in a loop was `uniform_draws(gen, (1,), dtype)[0]`: an array
made per draw, 8-26x slower than numba.njit on a Gillespie simulation or a
Metropolis chain. It is now a scalar helper; these check that its values,
dtypes and the generator's final state are the plain function's on both
backends, and that the kernel makes no array per draw. `integer_draw` (and
`integer_draws`, which draws through it) follow NumPy's bounded algorithm:
Numba's gen.integers drew other values than NumPy for ranges of 2**62 and
more (its 64-bit rejection threshold was computed in float64)."""
import copy
import math

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def walk(gen, L):
    x, steps = L // 2, 0
    while 0 < x < L:
        x += 1 if gen.random() < 0.5 else -1
        steps += 1
    return x, steps


def gillespie(gen, k1, k2, x0, t_end):
    t, x, steps = 0.0, x0, 0
    while t < t_end:
        a0 = k1 + k2 * x
        t += gen.exponential() / a0
        if gen.uniform(0.0, a0) < k1:
            x += 1
        else:
            x -= 1
        steps += 1
    return t, x, steps


def metropolis(gen, n, step):
    x, acc, s = 0.0, 0, 0.0
    for i in range(n):
        y = x + gen.normal(0.0, step)
        if gen.random() < math.exp((x**4 - y**4) / 4.0):
            x = y
            acc += 1
        s += x
    return s, acc


def each_kind(gen, n, out):
    for i in range(n):
        out[i, 0] = gen.random()
        out[i, 1] = gen.standard_normal()
        out[i, 2] = gen.standard_exponential()
        out[i, 3] = gen.integers(-3, 1000)
        out[i, 4] = gen.integers(5, 2**40, endpoint=True)
        out[i, 5] = gen.integers(7, dtype=np.int32)
    return out


def float32_draws(gen, n):
    s = np.float32(0)
    for i in range(n):
        s += gen.random(dtype=np.float32) * gen.standard_normal(dtype=np.float32)
        s += gen.standard_exponential(dtype=np.float32)
    return s


def wide_integers(gen, n, lo, hi):
    s = 0
    for i in range(n):
        s ^= gen.integers(lo, hi, endpoint=True)
    return s, gen.integers(lo, hi, size=n, endpoint=True)


def _state(gen):
    return gen.bit_generator.state


def _check(fn, seed, *args):
    """fn on both backends against the plain function: values, types and the generator's state."""
    want_gen = np.random.default_rng(seed)
    want = fn(want_gen, *copy.deepcopy(args))
    for backend in ("interpret", "cpu"):
        gen = np.random.default_rng(seed)
        got = looptrace.jit(fn, backend=backend)(gen, *copy.deepcopy(args))
        assert _state(gen) == _state(want_gen), backend
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            assert np.asarray(g).dtype == np.asarray(w).dtype, backend
            np.testing.assert_array_equal(g, w, err_msg=backend)


def _no_draw_arrays(fn, *args):
    src = looptrace.jit(fn, backend="cpu").explain(np.random.default_rng(0), *args).kernel_source
    assert "_draw(" in src and "_draws(" not in src, src


@pytest.mark.parametrize("L", [2, 9, 40])
def test_random_walk(L, rng):
    _check(walk, int(rng.integers(1 << 30)), L)
    _no_draw_arrays(walk, L)


def test_gillespie(rng):
    _check(gillespie, int(rng.integers(1 << 30)), 4.0, 0.3, 6, float(rng.uniform(20.0, 40.0)))
    _no_draw_arrays(gillespie, 4.0, 0.3, 6, 30.0)


def test_metropolis(rng):
    _check(metropolis, int(rng.integers(1 << 30)), 500, float(rng.uniform(0.5, 1.5)))
    _no_draw_arrays(metropolis, 500, 1.0)


def test_each_kind_of_draw(rng):
    out = rng.standard_normal((50, 6))
    _check(each_kind, int(rng.integers(1 << 30)), 50, out)
    _no_draw_arrays(each_kind, 50, out)


def test_float32_draws(rng):
    _check(float32_draws, int(rng.integers(1 << 30)), 300)


@pytest.mark.parametrize("lo, hi", [(0, 2**62), (-(2**63), 2**63 - 1), (3, 2**63 - 1), (-(2**40), 2**62 + 12345)])
def test_wide_integer_ranges(lo, hi, rng):
    """Ranges of 2**62 and more: Numba's own gen.integers drew other values."""
    _check(wide_integers, int(rng.integers(1 << 30)), 400, lo, hi)


def int32_draws(gen, n, hi):
    s = 0
    for i in range(n):
        s += gen.integers(-5, hi, dtype=np.int32)
    return s, gen.integers(0, hi, size=3, dtype=np.uint32)


def test_int32_draws(rng):
    _check(int32_draws, int(rng.integers(1 << 30)), 200, 2**31 - 1)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_bounds_outside_the_dtype_raise(backend):
    with pytest.raises(ValueError):
        int32_draws(np.random.default_rng(0), 3, 2**40)
    with pytest.raises(ValueError):
        looptrace.jit(int32_draws, backend=backend)(np.random.default_rng(0), 3, 2**40)
