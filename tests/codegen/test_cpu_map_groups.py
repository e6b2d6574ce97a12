"""Elementwise roots one right after another over one shape, none reading
another's result, share one loop nest (planning/fusion.py `_group_maps`,
codegen/cpu/nest.py `_emit_map_group`): one loop (or prange) instead of
several. Values and effects are the plain function's; a map overwrites an
input in place only when no other map of the group reads it."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def cnd(d):
    """The cumulative normal of Black-Scholes (a polynomial and an exp)."""
    k = 1.0 / (1.0 + 0.2316419 * np.abs(d))
    w = 1.0 - 0.3989422804014327 * np.exp(-0.5 * d * d) * k * (0.31938153 + k * (-0.356563782 + k * 1.781477937))
    return np.where(d < 0, 1.0 - w, w)


def call_put(s, x, t, r, v):
    d1 = (np.log(s / x) + (r + 0.5 * v * v) * t) / (v * np.sqrt(t))
    d2 = d1 - v * np.sqrt(t)
    disc = x * np.exp(-r * t)
    call = s * cnd(d1) - disc * cnd(d2)
    put = disc * cnd(-d2) - s * cnd(-d1)
    return call, put


def _data(rng, n):
    return (rng.uniform(5, 30, n), rng.uniform(1, 100, n), rng.uniform(0.25, 10, n))


# the large size's values with -m slow (its parallel kernel: 2.6 s of CPU in 0bc3f38's CI; map nests on
# threads keep their values in test_cpu_parallel_map.py and test_cpu_costs.py); both sizes' sources are read
# by default (explain: no compile)
@pytest.mark.parametrize("n", [7, pytest.param(200_000, marks=pytest.mark.slow)])
def test_independent_maps_share_one_nest(n, rng):
    s, x, t = _data(rng, n)
    f = looptrace.jit(call_put, backend="cpu")
    for got, want in zip(f(s, x, t, 0.02, 0.3), call_put(s, x, t, 0.02, 0.3)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for size in (7, 200_000):
        src = f.explain(*_data(rng, size), 0.02, 0.3).kernel_source
        # call and put: one nest (a prange at the large size), both written in it
        last = src[src.rindex("\n    for "):]
        assert ("numba.prange(" in last.splitlines()[1]) == (size > 1000)
        assert last.count("] = ") >= 2
        assert size > 1000 or "numba.prange(" not in src


def test_gradient_through_grouped_maps_matches_finite_differences(rng):
    """The reverse program's maps are grouped too (a reversed read of an
    earlier result once was, giving garbage): d/ds and d/dx of the sum of
    call and put, against central differences."""
    s, x, t = _data(rng, 9)

    def loss(s, x):
        call, put = call_put(s, x, t, 0.02, 0.3)
        return np.sum(call + 2.0 * put)

    gs, gx = looptrace.grad(loss, argnums=(0, 1), backend="cpu")(s, x)
    for g, k in ((gs, 0), (gx, 1)):
        want = np.empty(9)
        for i in range(9):
            h = 1e-6 * max(1.0, abs((s, x)[k][i]))
            up, down = [s.copy(), x.copy()], [s.copy(), x.copy()]
            up[k][i] += h
            down[k][i] -= h
            want[i] = (loss(*up) - loss(*down)) / (2 * h)
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8)


def overwrite_read_by_other(x, y):
    t = np.exp(np.abs(x) + 0.5) + x  # a temporary of the kernel's own, read by both maps below
    u = x * 1.5 - t  # alone, as t's last reader, u would be written over t
    w = y * 1.5 - t
    return u, w


def independent_inputs(x, y):
    a = (np.exp(x) + 1.0) * 3.0
    b = np.sin(y) + np.cos(y)
    return a, b


@pytest.mark.parametrize("fn", [overwrite_read_by_other, independent_inputs])
def test_in_place_writes_only_where_no_other_map_reads(fn, rng):
    x, y = rng.standard_normal((40, 9)), rng.standard_normal((40, 9))
    f = looptrace.jit(fn, backend="cpu")
    for got, want in zip(f(x, y), fn(x, y)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)  # sin(y) + cos(y) near 0: 1 ulp each
    src = f.explain(x, y).kernel_source
    last = src[src.rindex("\n    for "):]
    assert last.count("] = ") == 2  # both maps in one nest
    if fn is overwrite_read_by_other:  # u is not written over t, which w reads after it
        assert not re.search(r"^ +v\d+ = v\d+$", src, re.M)


def chained(x, y):
    a = np.exp(x) * 2.0
    b = a + y  # reads the first map's result: not in its nest
    return a, b


def reversed_read(x, y):
    a = np.exp(x) * 2.0
    b = a[::-1] * 3.0 + y  # reads the first map's result at another index (through the reversal)
    return a, b


@pytest.mark.parametrize("fn", [chained, reversed_read])
def test_a_map_reading_an_earlier_result_is_not_grouped(fn, rng):
    x, y = rng.standard_normal(50), rng.standard_normal(50)
    f = looptrace.jit(fn, backend="cpu")
    for got, want in zip(f(x, y), fn(x, y)):
        np.testing.assert_allclose(got, want, rtol=1e-13)


# --- generated programs: several maps of shared temporaries -------------------------------------
UNARY = [np.exp, np.sin, np.abs, np.sqrt, np.tanh]


def _program(spec):
    """spec: temporaries, each a unary of an input or earlier temporary plus an
    input; outputs, each a combination of two values, the first maybe read
    reversed. Every array is (n, m)."""
    temps, outs = spec

    def fn(x, y, z):
        vals = [x, y, z]
        for (u, a, b) in temps:
            vals.append(UNARY[u](np.abs(vals[a]) + 0.5) + vals[b])
        return tuple((vals[a][::-1] if flip else vals[a]) * 1.5 - vals[b] for a, b, flip in outs)

    return fn


@st.composite
def programs(draw):
    temps = []
    for k in range(draw(st.integers(1, 4))):
        have = 3 + k
        temps.append((draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, have - 1)),
                      draw(st.integers(0, have - 1))))
    have = 3 + len(temps)
    outs = [(draw(st.integers(0, have - 1)), draw(st.integers(0, have - 1)), draw(st.booleans()))
            for _ in range(draw(st.integers(2, 4)))]
    return temps, outs


def _generated_maps(backend, spec, n, m, rng):
    fn = _program(spec)
    x, y, z = (rng.standard_normal((n, m)) for _ in range(3))
    got = looptrace.jit(fn, backend=backend)(x, y, z)
    want = fn(x, y, z)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


# a cpu kernel per example (7.7 s of CPU at 10 in session 54's CI, 2.5 s at 5 in e17f737's, 1.7 s at 3 in
# 0bc3f38's): 2 of them; the interpreter runs 10 examples of the same generator below
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=programs(), n=st.integers(1, 6), m=st.integers(1, 9))
def test_generated_maps_follow_the_plain_function(spec, n, m, rng):
    _generated_maps("cpu", spec, n, m, rng)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=programs(), n=st.integers(1, 6), m=st.integers(1, 9))
def test_generated_maps_follow_the_plain_function_interpret(spec, n, m, rng):
    _generated_maps("interpret", spec, n, m, rng)


def shared_then_overwritten(x, y, z):
    """The case hypothesis found: w = |t| + 0.5 feeds exp (u = exp(w) + t,
    which may take t's buffer) and sin (v = sin(w) + u, computed in the
    output's nest, so t is read there, after u's nest)."""
    t = np.exp(np.abs(x) + 0.5) + x
    w = np.abs(t) + 0.5
    u = np.exp(w) + t
    v = np.sin(w) + u
    return x * 1.5 - u, x * 1.5 - v


# (2, 3) with -m slow (0.7 s in 0bc3f38's CI): the same nests as (40, 9), with a shorter row
@pytest.mark.parametrize("shape", [(1, 1), pytest.param((2, 3), marks=pytest.mark.slow), (40, 9)])
def test_a_buffer_read_by_a_later_nest_through_inlined_values_is_not_overwritten(shape, rng):
    x, y, z = (rng.standard_normal(shape) for _ in range(3))
    f = looptrace.jit(shared_then_overwritten, backend="cpu")
    for got, want in zip(f(x, y, z), shared_then_overwritten(x, y, z)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert f(x, y, z)[1].shape == shape
