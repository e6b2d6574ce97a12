"""Loops whose variables change shape in each iteration (a pairwise tree sum,
coarser and coarser grids): a traced loop has one shape per variable, so such
a loop whose iterations are known while tracing (a short static range, a
`while` whose test reads only shapes) runs as Python, each iteration traced on
its own (unrolled), and explain says so. Longer or data-dependent ones are a
clear ShapeError."""

from __future__ import annotations

import numpy as np
import pytest

import looptrace

from ._compare import check


def pairwise_total(x):
    a = x.copy()
    while a.shape[0] > 1:
        a = a[::2] + a[1::2]
    return a


def coarsen(x, levels):
    u = x.copy()
    for _ in range(levels):
        u = 0.5 * (u[:-1:2] + u[1::2])
    return u


def coarsen_three(x):
    u = x.copy()
    for _ in range(3):
        u = 0.5 * (u[:-1:2] + u[1::2])
    return u.sum()


def grow_until(x):
    a = x[:1].copy()
    while a.size < 5:
        a = np.append(a, a[-1] * 2.0)
    return a


def levels_with_inner_loop(x):
    a = x.copy()
    s = 0.0
    while a.shape[0] > 1:
        for i in range(a.shape[0]):
            s += a[i] * i
        a = a[::2] * a[1::2]
    return s, a


def halving_with_traced_break(x):
    a = x.copy()
    while a.shape[0] > 1:
        a = a[::2] + a[1::2]
        if a[0] > 100.0:
            break
    return a


def long_shrinking(x):
    h = x.copy()
    for t in range(x.shape[0]):
        h = h[1:] * 2.0
    return h


@pytest.mark.parametrize("fn", [pairwise_total, coarsen_three, grow_until, levels_with_inner_loop])
def test_shape_changing_loops_run_as_python(fn):
    x = np.random.default_rng(3).random(16) + 0.5
    check(fn, x)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_levels_from_an_int_argument_are_specialized(backend):
    x = np.random.default_rng(4).random(32) + 0.5
    check(coarsen, x, 3, backend=backend)
    check(coarsen, x, 2, backend=backend)
    text = str(looptrace.explain(coarsen, x, 3))
    assert "specialized on `levels` = 3" in text
    assert "unrolled while tracing (a loop variable changes shape in its iterations): 3 iterations" in text


def test_explain_says_unrolled():
    x = np.random.default_rng(5).random(8)
    (loop,) = looptrace.explain(pairwise_total, x).loops
    assert loop.kind == "vectorized" and "unrolled while tracing" in loop.reason and "3 iterations" in loop.reason


def test_traced_break_is_a_clear_error():
    x = np.random.default_rng(6).random(8)
    with pytest.raises(looptrace.ShapeError, match="a loop variable must keep its shape"):
        looptrace.jit(halving_with_traced_break, backend="interpret")(x)


def test_long_range_is_a_clear_error():
    x = np.random.default_rng(7).random(200)
    with pytest.raises(looptrace.ShapeError, match="a loop variable must keep its shape|not shrink") as info:
        looptrace.jit(long_shrinking, backend="interpret")(x)
    assert any("not unrolled" in n for n in getattr(info.value, "__notes__", []))


def skip_one_level(a):
    for level in range(4):
        if level == 1:
            continue
        a = a[1:] - a[:-1]
    return a


def stop_at_five(a):
    while a.shape[0] > 1:
        if a.shape[0] < 5:
            break
        a = a[::2] + a[1::2]
    return a


def shrink_while_long(a):
    while len(a) > 3:
        a = a[1:] * 2
    return a


@pytest.mark.parametrize("fn", [skip_one_level, stop_at_five, shrink_while_long])
def test_conditions_known_while_tracing_in_shape_changing_loops(fn):
    check(fn, np.random.default_rng(8).random(16) + 0.5)
