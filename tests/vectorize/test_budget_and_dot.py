"""The memory budget keeps large batched intermediates in the loop (and
explain says so); to_dot draws the vectorized program."""
import re

import numpy as np
import pytest

import looptrace
from looptrace.examples import PROGRAMS
from looptrace.ir.core import walk
from looptrace.vectorize.batch_interpreter import memory_budget, set_memory_budget


@pytest.fixture
def small_budget():
    set_memory_budget(20_000)
    yield
    set_memory_budget(None)


def _args(name, seed=0):
    return PROGRAMS[name]["make_args"](np.random.default_rng(seed))


def test_default_budget_is_a_fraction_of_ram():
    assert 0 < memory_budget() < 1 << 50


def test_over_budget_op_stays_in_loop(small_budget):
    fn = PROGRAMS["rnn_taps"]["fn"]
    e = looptrace.explain(fn, *_args("rnn_taps"))
    (loop,) = e.loops
    assert loop.kind == "scan" and "memory budget" in loop.reason
    (scan,) = [op for op in walk(e.program.body) if op.prim.name == "for_loop"]
    assert [op.prim.name for op in scan.blocks[0].ops].count("einsum") == 3
    got = looptrace.jit(fn, backend="interpret")(*_args("rnn_taps", 1))
    np.testing.assert_allclose(got, fn(*_args("rnn_taps", 1)), rtol=1e-9, atol=1e-12)


def test_budget_from_environment(monkeypatch):
    monkeypatch.setenv("LOOPTRACE_VECTORIZE_BUDGET", "12345")
    assert memory_budget() == 12345


@pytest.mark.parametrize("name", ["rnn_taps", "batched_conv", "powers_of_two"])
def test_to_dot_is_well_formed(name):
    dot = looptrace.explain(PROGRAMS[name]["fn"], *_args(name)).to_dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    declared = set(re.findall(r"^\s*(n\d+) \[", dot, re.MULTILINE))
    for src, dst in re.findall(r"^\s*(n\d+) -> (n\d+);", dot, re.MULTILINE):
        assert src in declared and dst in declared
    if name == "rnn_taps":
        assert "for_loop [scan]" in dot and "cluster_" in dot


def test_internal_error_keeps_the_loop(monkeypatch):
    from looptrace.vectorize import loop_rewrite

    def broken(loop, parent, facts, carries):
        loop.blocks[0].ops.clear()  # mutate first, then fail
        raise RuntimeError("boom")

    monkeypatch.delenv("LOOPTRACE_VECTORIZE_STRICT")
    monkeypatch.setenv("LOOPTRACE_VERIFY", "1")
    monkeypatch.setattr(loop_rewrite, "_rewrite_with_retries", broken)
    fn = PROGRAMS["batched_conv"]["fn"]
    with pytest.warns(UserWarning, match="boom"):
        e = looptrace.explain(fn, *_args("batched_conv"))
    assert all("internal error" in l.reason for l in e.loops)
    with pytest.warns(UserWarning, match="boom"):
        got = looptrace.jit(fn, backend="interpret")(*_args("batched_conv", 1))
    np.testing.assert_allclose(got, fn(*_args("batched_conv", 1)), rtol=1e-9)
