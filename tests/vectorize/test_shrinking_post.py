"""A scan's large per-step value reduced to a small one is reduced in the
scan (vectorize/loop_rewrite.py `_shrinking_post`), not stacked for every
iteration and reduced after it; a linear recurrence whose history would
outweigh what its loop stacks stays a loop (vectorize/linear_recurrence.py
`_history_outweighs_stack`). "Large" is STACKED_FEEDER_BYTES, lowered here
so that small inputs cross it."""

import numpy as np
import pytest

import looptrace
from bench.corpus.stochastic import brownian_trap
from looptrace.vectorize import loop_rewrite


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch):
    monkeypatch.setattr(loop_rewrite, "STACKED_FEEDER_BYTES", 4096)


def tanh_energy(x0, drive, w):
    x = x0.copy()
    e = np.empty(drive.shape[0])
    for t in range(drive.shape[0]):
        x = np.tanh(w * x + drive[t])
        e[t] = np.sum(x * x)
    return x, e


def energy_and_squares(x0, drive, a):
    x = x0.copy()
    e = np.empty(drive.shape[0])
    sq = np.empty_like(drive)
    for t in range(drive.shape[0]):
        x = a * x + drive[t]
        s = x * x
        sq[t] = s  # the squares leave the loop as they are: stacked all the same
        e[t] = s.max()
    return e, sq


def history_kept(x0, drive, a):
    x = x0.copy()
    xs = np.empty_like(drive)
    for t in range(drive.shape[0]):
        x = a * x + drive[t]
        xs[t] = x  # the history is the result: the prefix scan writes nothing extra
    return xs


def _loop(f, *args):
    ops = f.explain(*args).program.body.ops
    return [op for op in ops if op.prim.name in ("for_loop", "linear_scan")]


def _trap_args(rng, n=40, m=60):
    return (rng.standard_normal((m, 3)), rng.standard_normal((n, m, 3)), 2.0, 1.0, 1.0, 1e-3)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_per_step_mean_of_a_wide_linear_state_is_reduced_in_its_loop(backend, rng):
    args = _trap_args(rng)
    f = looptrace.jit(brownian_trap, backend=backend)
    x0 = args[0].copy()
    got, want = f(*args), brownian_trap(*args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(args[0], x0)  # x = x0.copy(): the argument is untouched
    (loop,) = _loop(f, *args)
    assert loop.prim.name == "for_loop"
    assert all(o.ndim <= 2 for o in loop.outputs)  # the state's final value and the per-step sums
    reason = looptrace.explain(brownian_trap, *args).loops[0].reason
    assert "left a loop: the prefix scan's history would be" in reason


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_nonlinear_scan_reduces_its_wide_state_in_the_loop(backend, rng):
    x0, drive = rng.standard_normal(300), rng.standard_normal((30, 300))
    f = looptrace.jit(tanh_energy, backend=backend)
    got, want = f(x0, drive, 0.9), tanh_energy(x0, drive, 0.9)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-13)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    (loop,) = _loop(f, x0, drive, 0.9)
    assert sorted(o.shape for o in loop.outputs) == [(30,), (300,)]
    assert "reduce_sum" not in {op.prim.name for op in f.explain(x0, drive, 0.9).program.body.ops}


def test_a_value_stacked_anyway_is_not_reduced_twice(rng):
    x0, drive = rng.standard_normal(200), rng.standard_normal((25, 200))
    f = looptrace.jit(energy_and_squares, backend="interpret")
    got, want = f(x0, drive, 0.8), energy_and_squares(x0, drive, 0.8)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)  # a prefix scan's rounding (ops/scan.py)
    assert [op.prim.name for op in _loop(f, x0, drive, 0.8)] == ["linear_scan"]


def test_a_history_that_is_the_result_is_still_a_prefix_scan(rng):
    x0, drive = rng.standard_normal(200), rng.standard_normal((25, 200))
    f = looptrace.jit(history_kept, backend="interpret")
    np.testing.assert_allclose(f(x0, drive, 0.8), history_kept(x0, drive, 0.8), rtol=1e-12)
    assert [op.prim.name for op in _loop(f, x0, drive, 0.8)] == ["linear_scan"]
