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
