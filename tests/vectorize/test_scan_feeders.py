"""Cheap scalar work that only feeds a scan stays in the scan
(vectorize/loop_rewrite.py `_scalar_feeders`): batched, each op would be a
pass over memory and an array the scan reads back. Expensive or vectorizable
work (a transcendental, a product) still leaves the loop."""

import numpy as np
import pytest

import looptrace
from bench.corpus.misc import longest_run
from looptrace.ir.core import walk


def smooth_of_exp(x, a):
    m = 0.0
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        m = a * m + np.exp(x[i])  # exp is batched before the scan
        out[i] = m
    return out


def _split(f, *args):
    body = f.explain(*args).program.body
    loops = [op for op in body.ops if op.prim.name == "for_loop"]
    inside = {op.prim.name for lp in loops for op in walk(lp.blocks[0])}
    outside = {op.prim.name for op in body.ops}
    return inside, outside


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_comparison_feeding_a_count_stays_in_its_scan(backend, rng):
    x = rng.standard_normal(300)
    f = looptrace.jit(longest_run, backend=backend)
    assert f(x) == longest_run(x)
    inside, outside = _split(f, x)
    assert "greater" in inside and "greater" not in outside


def test_expensive_terms_still_leave_the_scan(rng):
    x = rng.standard_normal(50)
    f = looptrace.jit(smooth_of_exp, backend="interpret")
    np.testing.assert_allclose(f(x, 0.3), smooth_of_exp(x, 0.3), rtol=1e-12)
    inside, outside = _split(f, x, 0.3)
    assert "exp" in outside and "exp" not in inside


# --- reductions of values the scan computes (loop_rewrite._reduced_in_scan) ---------------------
def smoothed_energy(x, a):
    s = 0.0
    tot = 0.0
    for i in range(x.shape[0]):
        s = a * s + x[i]
        tot += s * s  # the term comes from the scan: summed beside it, in the plain order
    return s, tot


def smoothed_exp_total(x, a):
    s = 0.0
    tot = 0.0
    for i in range(x.shape[0]):
        s = a * s + x[i]
        tot += np.exp(s)  # an exp per iteration: batched after the scan
    return tot


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_drawdowns_result_type_is_reduced_in_its_scan(backend):
    """worst = 0.0 (a Python float) until `if dd > worst: worst = dd`: the
    tag of its type is a max reduction over a predicate the scan computes;
    it is carried in the scan, not stacked and reduced after it."""
    from bench.corpus.finance import max_drawdown

    for seed in range(3):
        r = np.random.default_rng(seed)
        p = 100.0 * np.exp(np.cumsum(0.01 * r.standard_normal(400)))
        f = looptrace.jit(max_drawdown, backend=backend)
        got, want = f(p), max_drawdown(p)
        assert got == want and type(got) is type(want)
        rising = np.arange(1.0, 20.0)  # no drawdown: the Python float 0.0 comes back
        got, want = f(rising), max_drawdown(rising)
        assert got == want and type(got) is type(want) is float
    inside, outside = _split(f, p)
    assert "maximum" in inside and "reduce_max" not in outside
    ex = looptrace.explain(max_drawdown, p)
    # (the tag of its Python type is not named on its own: `worst` is, explain_s33)
    assert "`worst`" in ex.loops[0].reason and "type(" not in ex.loops[0].reason


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_sum_of_the_scans_values_is_summed_in_the_scan(backend, rng):
    x = rng.standard_normal(500)
    f = looptrace.jit(smoothed_energy, backend=backend)
    got, want = f(x, 0.7), smoothed_energy(x, 0.7)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    inside, outside = _split(f, x, 0.7)
    assert "reduce_sum" not in outside
    loop = [op for op in f.explain(x, 0.7).program.body.ops if op.prim.name == "for_loop"][0]
    assert all(v.shape == () for v in loop.outputs)  # nothing stacked


def test_an_expensive_term_of_the_scans_values_is_still_batched_after_it(rng):
    x = rng.standard_normal(60)
    f = looptrace.jit(smoothed_exp_total, backend="interpret")
    np.testing.assert_allclose(f(x, 0.5), smoothed_exp_total(x, 0.5), rtol=1e-12)
    inside, outside = _split(f, x, 0.5)
    assert "exp" in outside and "reduce_sum" in outside
