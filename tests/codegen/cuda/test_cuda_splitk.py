"""A product inside a persistent step split over lanes (codegen/cuda/splitk.py), under the simulator.

Summed lengths from 64 are split: the simulator runs the same additions as
the GPU, exchanging partials through memory instead of warp shuffles (it has
none), with as many threads as a group has lanes. The simulator is slow, so
most tests lower the thresholds (SPLIT_MIN 16, 2 terms a lane) and keep the
states small; one runs at the real threshold. Each program is compared
with the plain function; the kernels' PTX (with the shuffles) is compiled
by test_cuda_ptx_loops.py, and on a GPU the seed programs at seed size
(test_cuda_target_seeds.py) and the cooperative scan over many blocks
(test_cuda_target_strategies.py) run split.
"""
import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cuda import splitk
from looptrace.codegen.cuda.splitk import lanes_for
from looptrace.examples import _rnn_args, rnn_taps

from _cuda_support import assert_like_plain, cuda_backend


@pytest.mark.parametrize("n, k, capacity, lanes", [
    (200, 200, 1024, 4),  # rnn_taps at seed size, one block: 800 threads
    (512, 512, 1024, 2),
    (64, 64, 1024, 8),  # 8 terms a lane at least
    (2000, 200, 1024, 1),  # wider than a block: one thread per element
    (200, 200, 132 * 256, 16),  # a cooperative grid: 12 terms a lane
    (300, 300, 132 * 256, 32),  # a group never leaves its warp
    (10, 63, 1024, 4),
])
def test_lanes(n, k, capacity, lanes):
    assert lanes_for(n, k, capacity) == lanes


@pytest.fixture
def small(monkeypatch):
    """Split from 16 terms, 2 a lane at least (the simulator's threads are OS threads)."""
    cuda_backend()
    monkeypatch.setattr(splitk, "SPLIT_MIN", 16)
    monkeypatch.setattr(splitk, "PER_LANE", 2)


def split_notes(jitted, args):
    return [n for n in jitted.explain(*args).notes if "split over" in n]


# each strategy with two of the three shapes and each shape under one strategy at least in CI; all with -m slow
_SPLIT_CASES = [("single", np.float64, 16), ("coop", np.float32, 16), ("coop", np.float64, 19)]


@pytest.mark.parametrize("strategy, dtype, ny", [
    pytest.param(s, d, n, marks=() if (s, d, n) in _SPLIT_CASES else pytest.mark.slow)
    for s in ("single", "coop") for d, n in ((np.float64, 16), (np.float32, 16), (np.float64, 19))])
def test_rnn_taps_split(small, monkeypatch, strategy, dtype, ny):
    """ny=19: 19 terms over 8 lanes leave 3 for the first lanes (the tail)."""
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", strategy)
    # T=3: two steps, the second's product reading the first's state (T=4's third step added nothing the
    # second does not check: 1.31 -> 0.85 s of CPU a case, /tmp/T4/splitk_ab.py, load ~11)
    args = [a.astype(dtype) for a in _rnn_args(np.random.default_rng(3), T=3, nx=3, ny=ny)]
    jitted = lt.jit(rnn_taps, backend="cuda")
    rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (1e-5, 1e-6)
    assert_like_plain(rnn_taps, args, jitted, rtol=rtol, atol=atol)
    assert split_notes(jitted, args) == [f"line 79: the product in the step is split over 8 lanes per element "
                                         f"({ny} elements, {ny} terms: {ny // 8} per lane)"]


def test_rnn_taps_split_at_the_real_threshold():
    cuda_backend()
    args = _rnn_args(np.random.default_rng(7), T=2, nx=2, ny=64)
    jitted = lt.jit(rnn_taps, backend="cuda")
    assert_like_plain(rnn_taps, args, jitted)
    assert "split over 8 lanes" in split_notes(jitted, args)[0]


def batch_rnn(X, H0, W):
    """A state of two axes: the product's output is (2, 16), one group per element."""
    H = H0
    for t in range(X.shape[0]):
        H = np.tanh(H @ W + X[t])
    return H


def test_two_axis_state_split(small):
    rng = np.random.default_rng(4)
    args = (rng.standard_normal((2, 2, 16)), rng.standard_normal((2, 16)), rng.standard_normal((16, 16)) / 4)
    jitted = lt.jit(batch_rnn, backend="cuda")
    assert_like_plain(batch_rnn, args, jitted)
    assert split_notes(jitted, args) and "32 elements, 16 terms" in split_notes(jitted, args)[0]


def test_lanes_cap_turns_the_split_off(small, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CUDA_LANES", "1")
    args = _rnn_args(np.random.default_rng(5), T=3, nx=3, ny=16)
    jitted = lt.jit(rnn_taps, backend="cuda")
    assert_like_plain(rnn_taps, args, jitted)
    assert split_notes(jitted, args) == []


def rnn_loss(X, y0, W1, W2, W3):
    return rnn_taps(X, y0, W1, W2, W3).sum()


def test_gradient_through_split_scans(small):
    """value_and_grad on cuda (forward and reverse scans, each with a 16-long product) against interpret."""
    args = _rnn_args(np.random.default_rng(6), T=3, nx=3, ny=16)  # two steps each way (as test_rnn_taps_split)
    want = lt.value_and_grad(rnn_loss, argnums=(1, 2), backend="interpret")(*args)
    got = lt.value_and_grad(rnn_loss, argnums=(1, 2), backend="cuda")(*args)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10)
    for g, w in zip(got[1], want[1], strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-9, atol=1e-12)
