"""The vectorizer on the seed programs: each loop meets its `expect` kind, the
values stay the plain function's, and what is left in the loops is counted.
"""
import numpy as np
import pytest

import looptrace
from looptrace.examples import PROGRAMS
from looptrace.ir.core import walk

RTOL, ATOL = 1e-9, 1e-12


def _args(name, seed=0):
    return PROGRAMS[name]["make_args"](np.random.default_rng(seed))


def _program(name):
    return looptrace.explain(PROGRAMS[name]["fn"], *_args(name)).program


def _loops(program):
    return [op for op in walk(program.body) if op.prim.name in ("for_loop", "while_loop")]


@pytest.mark.parametrize("name", PROGRAMS)
def test_kinds_and_values(name, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_VERIFY", "1")
    entry = PROGRAMS[name]
    loops = looptrace.explain(entry["fn"], *_args(name)).loops
    assert [l.kind for l in loops] == entry["expect"]
    expected = entry["fn"](*_args(name, 1))
    got = looptrace.jit(entry["fn"], backend="interpret")(*_args(name, 1))
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=RTOL, atol=ATOL)


def test_rnn_taps_keeps_one_small_scan():
    (scan,) = _loops(_program("rnn_taps"))
    names = [op.prim.name for op in scan.blocks[0].ops]
    assert names.count("einsum") == 1
    assert names.count("add") == 1
    assert names.count("tanh") == 1
    (einsum,) = [op for op in scan.blocks[0].ops if op.prim.name == "einsum"]
    assert [v.ndim for v in einsum.inputs] == [2, 1]  # matrix-vector


@pytest.mark.parametrize("name", ["gaussian_layer", "batched_conv", "double_map", "sum_reduce", "polynomial"])
def test_no_loop_left(name):
    assert _loops(_program(name)) == []


def test_batched_conv_is_one_contraction():
    p = _program("batched_conv")
    einsums = [op for op in walk(p.body) if op.prim.name == "einsum"]
    assert len(einsums) == 1
    assert [op.prim.name for op in walk(p.body)].count("reduce_sum") == 0


def test_multi_taps_keeps_a_scan_with_taps():
    (scan,) = _loops(_program("multi_taps"))
    reads = [op for op in scan.blocks[0].ops if op.prim.name == "dynamic_slice"
             and op.inputs[0].id == scan.blocks[0].args[1].id]
    assert len(reads) == 2  # Y[t-3], Y[t-5]
    e = looptrace.explain(PROGRAMS["multi_taps"]["fn"], *_args("multi_taps"))
    reason = e.loops[0].reason
    assert "`Y`" in reason and "line 126" in reason and "-5, -3" in reason


def test_noisy_rnn_draws_leave_the_loop():
    (scan,) = _loops(_program("noisy_rnn"))
    body_ops = [op.prim.name for op in scan.blocks[0].ops]
    assert "random_normal" not in body_ops
    assert body_ops.count("einsum") == 1


def test_scan_reason_names_variable_and_line():
    e = looptrace.explain(PROGRAMS["rnn_taps"]["fn"], *_args("rnn_taps"))
    (loop,) = e.loops
    assert "`y`" in loop.reason and "line 79" in loop.reason


def test_counter_traced_trip_count_becomes_multiply():
    p = _program("counter")
    assert _loops(p) == []
    state = np.zeros(1)
    f = looptrace.jit(PROGRAMS["counter"]["fn"], backend="interpret")
    assert f(state, 7) == 7.0 and state[0] == 7.0
    assert f(state, 0) == 7.0


def test_disable_with_env(monkeypatch):
    monkeypatch.setenv("LOOPTRACE_NO_VECTORIZE", "1")
    p = _program("double_map")
    assert len(_loops(p)) == 1
