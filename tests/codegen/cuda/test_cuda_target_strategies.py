"""Every scan strategy of the cuda target (strategy.py) on the same programs, under the simulator.

LOOPTRACE_CUDA_SCAN forces a strategy; each is compared with the plain
function: "single" (one block runs every step), "coop" (a cooperative grid
runs every step, a grid sync between ops) and "host" (the body's kernels
launched every step). The simulator runs a cooperative grid as ONE block,
so the "coop" runs here check the kernel's indexing, barriers and
reductions, not the synchronization between blocks: that is what the
gpu-marked test checks on a device. A bounded number of generated loop
programs (tests/vectorize/test_generated_programs.py's statements and
tests/tracer/test_generated_loops.py's programs) run with a strategy drawn
for each.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace as lt
from looptrace.examples import PROGRAMS, _rnn_args
from tests.tracer import test_generated_loops as gl
from tests.vectorize.test_generated_programs import STMTS, build, make_source

from _cuda_support import HAVE_DEVICE, assert_like_plain, cuda_backend

STRATEGIES = ["single", "coop", "host"]


def while_break_nested(X, W):
    """A while loop (the break), a counted loop and a conditional inside it, folds of the state."""
    h = np.zeros(X.shape[1])
    total = 0.0
    for t in range(X.shape[0]):
        h = np.tanh(W @ h + X[t])
        for j in range(3):
            h = h + 0.1 * h[j]
        total += np.max(h) + np.sum(h * h)
        if total > 1.0:
            break
    return h, total


def scatter_in_scan(x, idx, W):
    """A recurrence whose body scatters into a carried array (a histogram of the state's signs)."""
    counts = np.zeros(3)
    h = x[0].copy()
    for t in range(1, x.shape[0]):
        h = np.tanh(W @ h + x[t])
        counts[idx[t]] += h[0]
    return h, counts


CASES = {
    "rnn_taps": (PROGRAMS["rnn_taps"]["fn"], lambda rng: _rnn_args(rng, T=8, nx=3, ny=4)),
    "multi_taps": (PROGRAMS["multi_taps"]["fn"], lambda rng: (rng.standard_normal((14, 2)), rng.standard_normal((5, 2)))),
    "powers_of_two": (PROGRAMS["powers_of_two"]["fn"], lambda rng: (30.0,)),
    "while_break_nested": (while_break_nested, lambda rng: (rng.standard_normal((6, 4)),
                                                            0.4 * rng.standard_normal((4, 4)))),
    "scatter_in_scan": (scatter_in_scan, lambda rng: (rng.standard_normal((6, 3)), rng.integers(0, 3, 6),
                                                      0.4 * rng.standard_normal((3, 3)))),
}


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_strategy_matches_plain(case, strategy, rng, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", strategy)
    fn, make = CASES[case]
    args = make(rng)
    jitted = lt.jit(fn, backend="cuda")
    assert_like_plain(fn, args, jitted)
    reasons = " ".join(l.reason for l in jitted.explain(*args).loops)
    want = {"single": "persistent single-block", "coop": "persistent cooperative", "host": "host-driven"}[strategy]
    assert want in reasons, reasons


def test_cost_model_picks_one_block_for_small_states_and_a_grid_for_wide_ones():
    from looptrace.codegen.cuda.strategy import StepCost, _coop_us, _host_us, _single_us

    seed = StepCost(work=200 * 200 + 3 * 200, width=200, writes=2)  # rnn_taps at seed size
    assert _single_us(seed) < _coop_us(seed) < _host_us(seed)
    wide = StepCost(work=4096 * 4096, width=4096, writes=2)
    assert _coop_us(wide) < _single_us(wide)


@pytest.mark.parametrize("dtype, ny, kind", [
    (np.float32, 200, "persistent single-block"),  # W (160 KB) staged in the block's shared memory
    (np.float64, 200, "persistent cooperative"),  # W (320 KB) would be read from L2: the grid reads it
    (np.float32, 512, "persistent cooperative"),
    (np.float64, 60, "persistent single-block"),  # fits
])
def test_operands_beyond_shared_memory_send_the_scan_to_the_grid(dtype, ny, kind):
    """The rule over the cost model (strategy.py), from the H200's hand kernels."""
    cuda_backend()
    args = [a.astype(dtype) for a in _rnn_args(np.random.default_rng(0), T=3, nx=4, ny=ny)]
    (loop,) = lt.jit(PROGRAMS["rnn_taps"]["fn"], backend="cuda").explain(*args).loops
    assert kind in loop.reason, loop.reason
    assert ("do not fit one block's shared memory" in loop.reason) == (kind == "persistent cooperative")


def test_a_generator_in_the_body_runs_host_driven(rng):
    def noisy(x, g):
        h = np.zeros(x.shape[1])
        for t in range(x.shape[0]):
            h = np.tanh(h + x[t])
            if h[0] > 0:  # a draw only on some steps: it cannot be batched out of the loop
                h = h + g.standard_normal(x.shape[1])
        return h

    args = (rng.standard_normal((6, 3)), np.random.default_rng(3))
    jitted = lt.jit(noisy, backend="cuda")
    assert_like_plain(noisy, args, jitted)  # values and the generator's final state
    (loop,) = jitted.explain(rng.standard_normal((6, 3)), np.random.default_rng(3)).loops
    assert "GPU: host-driven steps, because a generator is carried" in loop.reason


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, len(STMTS) - 1), min_size=1, max_size=4),
       T=st.integers(5, 7), strategy=st.sampled_from(STRATEGIES), seed=st.integers(0, 2**16))
def test_generated_programs(picks, T, strategy, seed, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", strategy)
    src = make_source(picks)
    f = build(src)
    rng = np.random.default_rng(seed)
    X, W = rng.standard_normal((T, 3)), 0.5 * rng.standard_normal((3, 3))
    want = f(X.copy(), W.copy())
    got = lt.jit(f, backend="cuda")(X.copy(), W.copy())
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-9, atol=1e-12, err_msg=src)


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU: multi-block grid sync cannot be checked")
@pytest.mark.parametrize("ny", [300, 2000])
def test_cooperative_scan_over_many_blocks_on_a_gpu(ny, monkeypatch):
    """The grid sync between blocks (the simulator runs one block): a state wide enough for many blocks."""
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", "coop")
    fn = PROGRAMS["rnn_taps"]["fn"]
    args = _rnn_args(np.random.default_rng(0), T=50, nx=8, ny=ny)
    np.testing.assert_allclose(lt.jit(fn, backend="cuda")(*args), fn(*args), rtol=1e-9, atol=1e-12)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(src=st.one_of(gl.map_program(), gl.accumulate_program(), gl.recurrence_program(), gl.break_program(),
                     gl.while_program(), gl.conditional_program(), gl.append_program()),
       n=st.integers(1, 6), strategy=st.sampled_from(STRATEGIES), seed=st.integers(0, 2**16))
def test_generated_tracer_programs(src, n, strategy, seed, monkeypatch):
    """tests/tracer/test_generated_loops.py's programs (break, while, append, conditionals) on cuda."""
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", strategy)
    f = gl.compile_source(src)
    rng = np.random.default_rng(seed)
    args = (rng.standard_normal(n), rng.standard_normal(n))
    assert_like_plain(f, args, lt.jit(f, backend="cuda"))
