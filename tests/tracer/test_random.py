"""Draws from a `np.random.Generator` passed as an argument: inside and outside
loops, the jitted function gives exactly the plain function's values for the
same generator state, and leaves the generator in the same state afterwards.
Unsupported Generator methods raise UnsupportedError naming the line.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.examples import noisy_rnn


def assert_same(got, expected, rtol=0.0):
    """Same structure, types, dtypes and shapes; values equal bit for bit
    (rtol=0: the same draws in the same order) or within `rtol` where the
    arithmetic around the draws may be reassociated by the vectorizer."""
    if isinstance(expected, (tuple, list)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e, rtol)
        return
    if isinstance(expected, (bool, int, float)):
        assert type(got) is type(expected), (type(got), type(expected))
    g, e = np.asarray(got), np.asarray(expected)
    assert g.dtype == e.dtype and g.shape == e.shape, (g.dtype, e.dtype, g.shape, e.shape)
    if rtol:
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(g, e)


def assert_same_state(a: np.random.Generator, b: np.random.Generator) -> None:
    sa, sb = a.bit_generator.state, b.bit_generator.state
    assert sa.keys() == sb.keys()
    for k in sa:
        if isinstance(sa[k], dict):
            assert sa[k].keys() == sb[k].keys()
            for kk in sa[k]:
                np.testing.assert_array_equal(sa[k][kk], sb[k][kk])
        else:
            np.testing.assert_array_equal(sa[k], sb[k])


def check(fn, *args, seed=1234, rtol=0.0):
    """fn(*args, rng) jitted and plain, each with a fresh generator seeded
    alike: same values, same final generator state."""
    plain_rng, jit_rng = np.random.default_rng(seed), np.random.default_rng(seed)
    expected = fn(*args, plain_rng)
    got = looptrace.jit(fn, backend="interpret")(*args, jit_rng)
    assert_same(got, expected, rtol)
    assert_same_state(jit_rng, plain_rng)
    return got


# --- single draws ---------------------------------------------------------------------------------
def draw_standard_normal(x, rng):
    return rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal(x.shape), \
        rng.standard_normal(size=4), rng.standard_normal(0)


def draw_normal(x, rng):
    return rng.normal(0.5, 2.0, 3), rng.normal(x, 0.1), rng.normal(loc=x[0], scale=x[1] ** 2, size=(2,)), \
        rng.normal(size=(2, 2)), rng.normal(x, np.abs(x) + 1, size=x.shape), rng.normal(0.0, x[:, None] ** 2)


def draw_uniform(x, rng):
    # NumPy refuses high < low: the bounds below are ordered for any x
    return rng.uniform(-1.0, 1.0, 4), rng.uniform(x, x + 1), rng.uniform(low=-abs(x[0]), high=2.0, size=(3, 2)), \
        rng.uniform(size=2), rng.uniform(0, np.abs(x).max(), size=5)


def draw_random(x, rng):
    return rng.random(3), rng.random((2, 2)), rng.random(size=x.shape), rng.random() + x


def draw_float32(x, rng):
    return rng.standard_normal(4, dtype=np.float32), rng.random((2, 3), dtype=np.float32), \
        rng.standard_normal(size=2, dtype="float32") * x[:2], rng.random(dtype=np.float32)


def draw_scalars(x, rng):
    return rng.standard_normal(), rng.random(), rng.normal(), rng.uniform(), rng.normal(1.0, 2.0), \
        rng.uniform(-1, 1), rng.normal(x[0], 1.0), x * rng.standard_normal()


def draw_interleaved(x, rng):
    a = rng.standard_normal(3)
    b = rng.random(2)
    c = rng.normal(a, 1.0)
    d = rng.uniform(b[0], 1.0, 3) * rng.standard_normal(3)
    return a, b, c, d


@pytest.mark.parametrize("fn", [draw_standard_normal, draw_normal, draw_uniform, draw_random, draw_float32,
                                draw_scalars, draw_interleaved], ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", [0, 7, 2**31 + 5])
def test_draws_match_the_plain_function(fn, seed, rng):
    check(fn, rng.standard_normal(3), seed=seed)


def test_float32_data_with_python_float_draw_stays_float32(rng):
    def f(x, g):
        return x * g.random(), x + g.standard_normal()

    got = check(f, rng.standard_normal(4).astype(np.float32))
    assert all(r.dtype == np.float32 for r in got)


def test_generator_state_only_advances_by_draws(rng):
    def f(x, g):
        return x * 2

    check(f, rng.standard_normal(3))


# --- draws in loops -------------------------------------------------------------------------------
def loop_map(x, rng):
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] + rng.standard_normal(x.shape[1])
    return out


def loop_recurrence(x, rng):
    h = np.zeros(x.shape[1])
    for t in range(x.shape[0]):
        h = np.tanh(h + x[t]) + 0.1 * rng.normal(0.0, 1.0, h.shape)
    return h


def loop_scalar_draws(x, rng):
    total = 0.0
    for t in range(x.shape[0]):
        total += rng.random() * x[t, 0] + rng.uniform(-1, 1)
    return total


def loop_while(x, rng):
    s = 0.0
    n = 0
    while s < 3.0:
        s += rng.random()
        n += 1
    return s, n


def loop_break(x, rng):
    acc = np.zeros(x.shape[1])
    for t in range(100):
        u = rng.uniform(0, 1, x.shape[1])
        acc += u
        if acc.sum() > 5.0:
            break
    return acc


def loop_nested(x, rng):
    out = np.zeros(x.shape)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = x[i, j] * rng.standard_normal()
    return out


def loop_conditional_draw(x, rng):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        if x[i, 0] > 0:
            out[i] = rng.standard_normal()
        else:
            out[i] = -1.0
    return out


def loop_list_append(x, rng):
    zs = []
    for t in range(x.shape[0]):
        zs.append(rng.random(2) + x[t, :2])
    return np.stack(zs)


def loop_float32(x, rng):
    h = np.zeros(x.shape[1], dtype=np.float32)
    for t in range(x.shape[0]):
        h = h * np.float32(0.5) + x[t] * rng.standard_normal(x.shape[1], dtype=np.float32)
    return h


LOOPS = [loop_map, loop_recurrence, loop_scalar_draws, loop_while, loop_break, loop_nested,
         loop_conditional_draw, loop_list_append]


@pytest.mark.parametrize("fn", LOOPS, ids=lambda f: f.__name__)
def test_draws_in_loops(fn, rng):
    check(fn, rng.standard_normal((5, 3)), seed=int(rng.integers(2**32)), rtol=1e-12)


def test_float32_draws_in_a_loop(rng):
    got = check(loop_float32, rng.standard_normal((5, 3)).astype(np.float32), rtol=1e-6)
    assert got.dtype == np.float32


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**63), steps=st.integers(0, 6), width=st.integers(0, 3))
def test_loop_draws_generated(seed, steps, width):
    x = np.random.default_rng(seed + 1).standard_normal((steps, width))
    check(loop_map, x, seed=seed)
    check(loop_recurrence, x, seed=seed, rtol=1e-12)


@pytest.mark.parametrize("seed", [7, 8, 12345])
def test_noisy_rnn_seed_program(seed, rng):
    T, nx, nh, nz = 12, 3, 5, 2
    args = (rng.standard_normal((T, nx)), np.zeros(nh), 0.3 * rng.standard_normal((nh, nh)),
            rng.standard_normal((nh, nx)), rng.standard_normal((nz, nh)), 0.1 * rng.standard_normal((nz, nh)))
    check(noisy_rnn, *args, seed=seed, rtol=1e-12)


def test_same_compiled_function_follows_the_generator_state(rng):
    f = looptrace.jit(loop_recurrence, backend="interpret")
    x = rng.standard_normal((4, 2))
    g_plain, g_jit = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(3):  # successive calls continue the stream, as the plain function does
        np.testing.assert_allclose(f(x, g_jit), loop_recurrence(x, g_plain), rtol=1e-12)
    assert_same_state(g_jit, g_plain)


def test_other_bit_generators(rng):
    x = rng.standard_normal((3, 2))
    for bitgen in (np.random.PCG64, np.random.Philox, np.random.SFC64, np.random.MT19937):
        g_plain, g_jit = np.random.Generator(bitgen(5)), np.random.Generator(bitgen(5))
        np.testing.assert_array_equal(looptrace.jit(loop_map, backend="interpret")(x, g_jit), loop_map(x, g_plain))
        assert_same_state(g_jit, g_plain)


# --- unsupported methods --------------------------------------------------------------------------
def un_gamma(x, rng):
    return x + rng.gamma(2.0, size=x.shape)


def un_choice(x, rng):
    return rng.choice(x)


def un_geometric(x, rng):
    for i in range(x.shape[0]):
        x[i] = rng.geometric(0.5)
    return x


def un_beta(x, rng):
    return x * rng.beta(1.0, 2.0)


@pytest.mark.parametrize("fn, method", [(un_gamma, "gamma"), (un_choice, "choice"),
                                        (un_geometric, "geometric"), (un_beta, "beta")],
                         ids=lambda v: getattr(v, "__name__", v))
def test_unsupported_generator_methods_name_the_line(fn, method, rng):
    lines, first = inspect.getsourcelines(fn)
    with pytest.raises(looptrace.UnsupportedError) as info:
        looptrace.jit(fn, backend="interpret")(rng.standard_normal(3), np.random.default_rng(0))
    err = info.value
    assert f"Generator.{method}" in err.problem
    assert err.loc.file == __file__ and first < err.loc.line < first + len(lines)
    assert "standard_normal" in err.hint


def test_an_int_argument_sizing_a_draw_is_specialized(rng):
    """(It was refused: the size of a draw must be static; an int argument
    that sizes np.zeros was already made static, specialize.py.)"""
    def f(x, n, g):
        return g.standard_normal(n)

    g1, g2 = np.random.default_rng(0), np.random.default_rng(0)
    got = looptrace.jit(f, backend="interpret")(rng.standard_normal(3), 3, g1)
    np.testing.assert_array_equal(got, f(None, 3, g2))
    assert g1.bit_generator.state == g2.bit_generator.state
