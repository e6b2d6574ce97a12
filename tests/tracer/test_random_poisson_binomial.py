"""Generator.poisson and Generator.binomial on a generator passed in: the
jitted function gives the plain function's values bit for bit and leaves the
generator in the same state (NumPy's own algorithms: the multiplication
method and PTRS for Poisson, inversion and BTPE for binomial, with the
p > 0.5 flip), inside loops and outside, with scalar or array parameters;
NumPy's errors for bad parameters; no gradient through a draw.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.codegen import get_target
from looptrace.codegen.target import CompileOptions
from looptrace.ir.builder import EagerBuilder
from looptrace.ops import PRIMITIVES
from looptrace.ops.batching_helpers import apply_rule

LAMS = [0.0, 0.5, 3.0, 9.99, 10.0, 55.5, 1e4]
# (n, p): inversion (n * min(p, 1 - p) <= 30) and BTPE, each with p > 0.5 (flipped), and the edges
BINOMIALS = [(10, 0.3), (60, 0.5), (1000, 0.2), (1000, 0.5), (1000, 0.97), (40, 0.9), (100, 0.6),
             (10**6, 0.4), (0, 0.5), (0, 0.0), (25, 0.0), (25, 1.0), (2**40, 1e-3)]


def same(got, expected) -> None:
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            same(g, e)
        return
    if isinstance(expected, int):  # a draw without size from scalar parameters is a Python int
        assert type(got) is int, type(got)
    g, e = np.asarray(got), np.asarray(expected)
    assert g.dtype == e.dtype and g.shape == e.shape, (g.dtype, e.dtype, g.shape, e.shape)
    np.testing.assert_array_equal(g, e)


def check(fn, *args, backend="interpret", seed=1234):
    """fn(*args, rng) jitted and plain, each with a generator seeded alike:
    the same values and the same final generator state."""
    plain_rng, jit_rng = np.random.default_rng(seed), np.random.default_rng(seed)
    expected = fn(*args, plain_rng)
    got = looptrace.jit(fn, backend=backend)(*args, jit_rng)
    same(got, expected)
    assert jit_rng.bit_generator.state == plain_rng.bit_generator.state
    return got


# --- single draws, every algorithm ----------------------------------------------------------------
def poisson_draws(lam, rng):
    return rng.poisson(lam), rng.poisson(lam, size=300), rng.poisson(lam=lam, size=(2, 3))


def binomial_draws(n, p, rng):
    return rng.binomial(n, p), rng.binomial(n, p, size=300), rng.binomial(n=n, p=p, size=(3, 2))


@pytest.mark.parametrize("lam", LAMS)
def test_poisson_of_a_traced_lam(lam):
    check(poisson_draws, lam, seed=int(lam * 7) + 1)


@pytest.mark.parametrize("n, p", BINOMIALS)
def test_binomial_of_traced_parameters(n, p):
    check(binomial_draws, n, p, seed=n % 1000 + int(p * 100))


def constant_parameters(x, rng):
    return x + rng.poisson(55.5), rng.poisson(0.5, 4), rng.binomial(1000, 0.97), rng.binomial(25, 1.0, 3), \
        rng.binomial(7, 0.3), rng.poisson()


def test_constant_parameters(rng):
    check(constant_parameters, rng.standard_normal(3))


def array_parameters(lam, n, p, rng):
    return (rng.poisson(lam), rng.poisson(lam, size=(4,) + lam.shape), rng.poisson(lam[:, None] + lam),
            rng.binomial(n, p), rng.binomial(n, 0.7), rng.binomial(300, p, size=(2, 5)), rng.binomial(n[0], p))


def test_array_parameters_broadcast_as_numpy_does(rng):
    lam = np.concatenate([rng.uniform(0, 10, 3), rng.uniform(10, 500, 2)])
    n, p = rng.integers(0, 2000, 5), np.array([0.0, 0.3, 0.6, 0.99, 1.0])
    check(array_parameters, lam, n, p)


def test_python_int_draws_are_weak_in_promotion(rng):
    def f(x, g):
        return x + g.poisson(3.0), x * g.binomial(5, 0.5)

    got = check(f, rng.standard_normal(4).astype(np.float32))
    assert all(r.dtype == np.float32 for r in got)


# --- in loops -------------------------------------------------------------------------------------
def wright_fisher(N, p0, T, rng):
    """Allele frequency under drift: each generation is N draws of the last one's frequency."""
    p = p0
    freqs = np.empty(T)
    for t in range(T):
        p = rng.binomial(N, p) / N
        freqs[t] = p
    return freqs


def sir(beta, gamma, T, rng):
    """A tau-leaping SIR epidemic: Poisson infections, binomial recoveries."""
    S, I, R = 9990, 10, 0
    out = np.zeros((T, 3), dtype=np.int64)
    for t in range(T):
        new_inf = min(rng.poisson(beta * S * I / 10000), S)
        new_rec = rng.binomial(I, gamma)
        S, I, R = S - new_inf, I + new_inf - new_rec, R + new_rec
        out[t] = S, I, R
    return out


def constant_draws_batched(x, rng):
    out = np.zeros(x.shape, dtype=np.int64)
    for i in range(x.shape[0]):
        out[i] = rng.binomial(40, 0.25, size=x.shape[1])
    return out


def per_item_draws(lam, rng):
    counts = np.zeros(lam.shape[0], dtype=np.int64)
    for i in range(lam.shape[0]):
        counts[i] = rng.poisson(lam[i]) + rng.binomial(i, 0.5)
    return counts


def test_wright_fisher(rng):
    check(wright_fisher, 500, 0.3, 200)
    check(wright_fisher, 60, 0.9, 100)  # inversion with the flip, then whatever drift brings


def test_sir(rng):
    check(sir, 0.3, 0.1, 120)
    check(sir, 2.5, 0.05, 60)  # past 10 infections a step: PTRS


def test_constant_parameter_draws_in_a_loop_are_batched(rng):
    x = rng.standard_normal((6, 4))
    check(constant_draws_batched, x)
    report = looptrace.explain(looptrace.jit(constant_draws_batched, backend="interpret"), x,
                               np.random.default_rng(0))
    assert [r.kind for r in report.loops] == ["vectorized"]


def test_per_item_parameters_in_a_loop(rng):
    check(per_item_draws, rng.uniform(0, 30, 12))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63), lam=st.floats(0, 200), n=st.integers(0, 5000), p=st.floats(0, 1),
       size=st.sampled_from([None, 3, (2, 2)]), steps=st.integers(0, 5))
def test_generated_draws(seed, lam, n, p, size, steps):
    def f(lam, n, p, rng):
        draws = [rng.poisson(lam, size), rng.binomial(n, p, size)]
        for _ in range(steps):
            draws.append(rng.binomial(n, p) + rng.poisson(lam))
        return draws

    check(f, lam, n, p, seed=seed)


# --- the batching rule -----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 4])
def test_batched_draws_consume_the_stream_like_the_loop(n):
    lam = np.linspace(0, 40, 3 * n).reshape(n, 3)
    ns, ps = np.arange(n) * 70, np.linspace(0, 1, n)
    cases = [("random_poisson", [lam], [0], lambda g, k: g.poisson(lam[k], 3)),
             ("random_poisson", [np.float64(12.0)], [None], lambda g, k: g.poisson(12.0, 3)),
             ("random_poisson", [np.linspace(1, 30, n)], [0], lambda g, k: g.poisson(1 + 29 * k / max(n - 1, 1), 3)),
             ("random_binomial", [ns, ps], [0, 0], lambda g, k: g.binomial(ns[k], ps[k], 3)),
             ("random_binomial", [np.int64(90), ps], [None, 0], lambda g, k: g.binomial(90, ps[k], 3)),
             ("random_binomial", [np.int64(9), np.float64(0.5)], [None, None], lambda g, k: g.binomial(9, 0.5, 3))]
    for name, params, dims, draw in cases:
        plain, batched = np.random.default_rng(6), np.random.default_rng(6)
        rows = [draw(plain, k) for k in range(n)]
        (gen, vals), out_dims = apply_rule(EagerBuilder(axis_size=n), PRIMITIVES[name], [batched, *params],
                                           [0, *dims], {"shape": (3,)})
        assert out_dims == [None, 0]
        np.testing.assert_array_equal(vals, np.stack(rows) if n else np.zeros((0, 3)))
        assert gen.bit_generator.state == plain.bit_generator.state


# --- errors ---------------------------------------------------------------------------------------
def draw_poisson(lam, rng):
    return rng.poisson(lam)


def draw_binomial(n, p, rng):
    return rng.binomial(n, p)


@pytest.mark.parametrize("fn, args", [
    (draw_poisson, (-1.0,)), (draw_poisson, (np.nan,)), (draw_poisson, (1e300,)),
    (draw_poisson, (np.array([1.0, -2.0]),)), (draw_poisson, (np.array([np.nan]),)),
    (draw_poisson, (np.array([-1.0, 1e300]),)),
    (draw_binomial, (10, 1.5)), (draw_binomial, (10, np.nan)), (draw_binomial, (-1, 0.5)), (draw_binomial, (-1, 2.0)),
    (draw_binomial, (np.array([3, -1]), 0.5)), (draw_binomial, (np.array([3, 1]), np.array([0.5, -0.1]))),
    (draw_binomial, (np.array([3.0]), 0.5)), (draw_binomial, (np.nan, 0.5)), (draw_binomial, (np.inf, 0.5)),
    (draw_binomial, (1e30, 0.5)), (draw_binomial, (-1.5, 0.5)),
])
def test_bad_parameters_raise_numpys_error(fn, args):
    with pytest.raises((ValueError, TypeError, OverflowError)) as plain:
        fn(*args, np.random.default_rng(0))
    with pytest.raises(type(plain.value)) as jitted:
        looptrace.jit(fn, backend="interpret")(*args, np.random.default_rng(0))
    assert str(jitted.value).splitlines()[0] == str(plain.value)  # (then where: the user's line)


def test_a_float_n_is_truncated_as_numpy_does(rng):
    """NumPy converts a float scalar n with `<int64_t>n` (an array of floats is a TypeError)."""
    def f(n, rng):
        return rng.binomial(n, 0.4), rng.binomial(np.float64(n) * 3, 0.4), rng.binomial(7.9, 0.4, size=2)

    for n in (10.5, 0.0, 0.3, 99.99):
        check(f, n)


def test_a_size_the_parameters_do_not_broadcast_to_is_a_shape_error():
    def f(lam, rng):
        return rng.poisson(lam, size=(2, 1))

    with pytest.raises(ValueError, match="not compatible"):
        f(np.ones(3), np.random.default_rng(0))
    with pytest.raises(looptrace.ShapeError, match=r"Output size \(2, 1\) is not compatible"):
        looptrace.jit(f, backend="interpret")(np.ones(3), np.random.default_rng(0))


def test_a_bad_parameter_in_an_untaken_branch_never_raises(rng):
    def f(x, rng):
        if x.sum() > 1e9:
            return rng.poisson(-1.0) + 0.0
        return x.sum()

    check(f, rng.standard_normal(3))


# --- gradients ------------------------------------------------------------------------------------
def test_no_gradient_flows_through_a_draw():
    def loss(lam, rng):
        return (rng.poisson(lam * 10, size=3) * lam).sum() + rng.binomial(50, lam / 4) * lam

    jitted = looptrace.jit(loss, backend="interpret")
    grad = looptrace.grad(lambda lam: jitted(lam, np.random.default_rng(5)), backend="interpret")(1.5)
    g = np.random.default_rng(5)
    assert grad == g.poisson(15.0, size=3).sum() + g.binomial(50, 1.5 / 4)


# --- cpu ------------------------------------------------------------------------------------------
def every_algorithm(lams, n, p, rng):
    out = [rng.poisson(lams), rng.binomial(n, p), rng.binomial(n, 0.5, size=(2, 4))]
    for lam in (0.0, 0.5, 9.99, 10.0, 1e4):
        out.append(rng.poisson(lam, size=50))
    for m, q in ((10, 0.3), (1000, 0.2), (1000, 0.97), (40, 0.9), (0, 0.5), (25, 0.0), (25, 1.0)):
        out.append(rng.binomial(m, q, size=50))
    out.append(rng.poisson(3.0) + rng.binomial(12, 0.4))
    return out


@pytest.mark.slow  # 20 s of CPU (session 48: the draws' array signatures); the interpreter's
def test_cpu_every_algorithm(rng):  # per-algorithm tests above and test_cpu_loops below always run
    check(every_algorithm, np.array(LAMS), rng.integers(0, 3000, 4), rng.random(4), backend="cpu")


def test_cpu_loops(rng):
    check(wright_fisher, 500, 0.3, 300, backend="cpu")
    check(sir, 2.5, 0.05, 80, backend="cpu")


def test_cpu_bad_parameter_raises_numpys_error():
    with pytest.raises(ValueError, match=r"^p < 0, p > 1 or p is NaN\n"):
        looptrace.jit(draw_binomial, backend="cpu")(10, 1.5, np.random.default_rng(0))


def sir_steps(beta, gamma, rng):
    return sir(beta, gamma, 5, rng)


def test_cuda_refuses_naming_the_line():
    program = looptrace.jit(sir_steps, backend="interpret").trace([0.3, 0.1, np.random.default_rng(0)])
    lines, first = inspect.getsourcelines(sir)
    with pytest.raises(looptrace.UnsupportedError, match="Generator.poisson is not supported by the cuda") as info:
        get_target("cuda").compile(program, CompileOptions(cache=False))
    assert info.value.loc.file == __file__ and first < info.value.loc.line < first + len(lines)
