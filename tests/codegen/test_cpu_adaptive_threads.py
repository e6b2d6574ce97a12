"""codegen/cpu/threading_policy.py fit_threads: a kernel with a prange runs
on the cores other processes leave free, measured from /proc/stat less this
process's own CPU time, and leaves a count the user set alone."""
import numba
import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import threading_policy as tp


@pytest.fixture
def fake_machine(monkeypatch):
    """Two CPUs whose busy ticks and this process's CPU time the test sets."""
    now = {"busy": 0, "own": 0.0, "t": 0.0}
    monkeypatch.setattr(tp, "_cpu_set", lambda: {0, 1})
    monkeypatch.setattr(tp, "_busy_ticks", lambda cpus: now["busy"])
    monkeypatch.setattr(tp, "_CLOCK_TICKS", 100)
    monkeypatch.setattr(tp, "_sample", {"t": -1.0, "busy": 0, "own": 0.0, "free": None})
    import time

    monkeypatch.setattr(time, "process_time", lambda: now["own"])
    monkeypatch.setattr(time, "monotonic", lambda: now["t"])
    return now


def test_free_cores_counts_what_others_used(fake_machine):
    assert tp.free_cores(now=10.0) is None  # a first sample: no interval yet
    fake_machine["busy"] += 10  # 0.1 s of busy CPU in 0.1 s: one core, all of it ours
    fake_machine["own"] += 0.1
    assert tp.free_cores(now=10.1) == 2
    fake_machine["busy"] += 20  # both cores busy, half of it another process's
    fake_machine["own"] += 0.1
    assert tp.free_cores(now=10.2) == 1
    assert tp.free_cores(now=10.21) == 1  # within SAMPLE_S: the last answer
    fake_machine["busy"] += 40  # others took both cores: still one thread
    assert tp.free_cores(now=10.4) == 1


def test_fit_threads_sets_the_count_and_leaves_a_user_s_alone(fake_machine, monkeypatch):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one core")
    monkeypatch.setattr(tp, "_ADAPTIVE", True)
    monkeypatch.setattr(tp, "_applied", __import__("threading").local())
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        fake_machine["t"] = 20.0
        tp.free_cores()
        fake_machine["busy"] += 20  # both cores busy, one of them by another process
        fake_machine["own"] += 0.1
        fake_machine["t"] = 20.1
        tp.fit_threads()
        assert numba.get_num_threads() == 1
        numba.set_num_threads(2)  # the user's choice
        fake_machine["busy"] += 40  # the other process keeps its core
        fake_machine["own"] += 0.1
        fake_machine["t"] = 20.3
        tp.fit_threads()
        assert tp.free_cores() == 1 and numba.get_num_threads() == 2  # left alone
    finally:
        numba.set_num_threads(before)


def test_a_parallel_kernel_calls_fit_threads(monkeypatch, rng):
    calls = []
    monkeypatch.setattr(tp, "fit_threads", lambda: calls.append(1))
    from looptrace.codegen.cpu import kernel

    monkeypatch.setattr(kernel, "fit_threads", lambda: calls.append(1))

    def f(a):
        return np.sqrt((a * a).sum(axis=1))

    a = rng.standard_normal((2048, 512))
    jf = looptrace.jit(f, backend="cpu")
    for _ in range(3):
        np.testing.assert_allclose(jf(a), f(a), rtol=1e-12)
    assert "prange" in looptrace.explain(jf, a).kernel_source
    assert calls  # the general path and the warm runner both
