"""codegen/cpu/threading_policy.py fitted_threads: a kernel with a prange runs
on the cores other processes leave free (measured from /proc/stat less this
process's own CPU time), and the calling thread's Numba thread count is put
back after the call; a lower count the user set is kept."""
import threading
import time

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
    monkeypatch.setattr(tp, "_ADAPTIVE", True)
    monkeypatch.setattr(tp, "REFRESH_S", 0.0)  # every call reads (see test_reads_only_after_slow_calls)
    monkeypatch.setattr(time, "process_time", lambda: now["own"])
    monkeypatch.setattr(time, "monotonic", lambda: now["t"])
    return now


def _others_take(machine, cores: float, seconds: float = 0.1, own: float = 0.1):
    """`seconds` pass; this process uses `own` CPU seconds and others `cores` cores."""
    machine["busy"] += int(round((own + cores * seconds) * 100))
    machine["own"] += own
    machine["t"] += seconds


def test_free_cores_counts_what_others_used(fake_machine):
    fake_machine["t"] = 10.0
    assert tp.free_cores() is None  # a first sample: no interval yet
    _others_take(fake_machine, 0.0)
    assert tp.free_cores() == 2
    _others_take(fake_machine, 1.0)
    assert tp.free_cores() == 1
    fake_machine["t"] += 0.01
    assert tp.free_cores() == 1  # within SAMPLE_S: the last answer
    _others_take(fake_machine, 2.0, own=0.0)
    assert tp.free_cores() == 1  # never fewer than one


def _two_threads_or_skip():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one core")


def test_the_count_is_lowered_for_the_call_and_put_back(fake_machine):
    _two_threads_or_skip()
    seen = []
    run = tp.fitted_threads(lambda *a: seen.append(numba.get_num_threads()) or a)
    before = numba.get_num_threads()
    fake_machine["t"] = 20.0
    tp.free_cores()
    _others_take(fake_machine, 1.0)  # another process keeps a core busy
    assert run(1, 2) == (1, 2) and seen == [1]
    assert numba.get_num_threads() == before  # put back
    _others_take(fake_machine, 0.0)  # quiet again: Numba's count
    run()
    assert seen[-1] == before


def test_a_lower_count_the_user_set_is_kept(fake_machine):
    _two_threads_or_skip()
    seen = []
    run = tp.fitted_threads(lambda: seen.append(numba.get_num_threads()))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        fake_machine["t"] = 30.0
        tp.free_cores()
        _others_take(fake_machine, 0.0)
        run()
        assert seen == [1] and numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)


def test_the_count_is_put_back_when_the_kernel_raises(fake_machine):
    _two_threads_or_skip()
    before = numba.get_num_threads()

    def boom():
        raise ValueError("from the kernel")

    run = tp.fitted_threads(boom)
    fake_machine["t"] = 40.0
    tp.free_cores()
    _others_take(fake_machine, 1.0)
    with pytest.raises(ValueError, match="from the kernel"):
        run()
    assert numba.get_num_threads() == before


def test_reads_only_after_slow_calls(fake_machine, monkeypatch):
    """/proc/stat is read again only after a call of SLOW_CALL_S or more, or
    once the last reading is REFRESH_S old: a quick kernel called between
    other Python work does not pay a read (~50 us) at every call."""
    reads = []
    monkeypatch.setattr(tp, "REFRESH_S", 1.0)
    monkeypatch.setattr(tp, "_busy_ticks", lambda cpus: reads.append(1) or fake_machine["busy"])
    fake_machine["t"] = 50.0
    tp.free_cores()  # a first reading
    quick = tp.fitted_threads(lambda: None)
    for _ in range(5):
        fake_machine["t"] += 0.1  # other work between the calls
        quick()
    assert len(reads) == 1
    fake_machine["t"] += 1.0  # the reading is old: read again
    quick()
    assert len(reads) == 2

    def slow():
        fake_machine["t"] += 0.01  # the call takes 10 ms

    slow_run = tp.fitted_threads(slow)
    fake_machine["t"] += 0.1
    slow_run()  # (read less than REFRESH_S ago: not read before this call)
    fake_machine["t"] += 0.1
    slow_run()  # the last call was slow: read
    assert len(reads) == 3


def test_switched_off(monkeypatch):
    monkeypatch.setattr(tp, "_ADAPTIVE", False)
    k = object()
    assert tp.fitted_threads(k) is k


def test_a_parallel_kernel_runs_through_it_cold_and_warm(monkeypatch, rng):
    """Both the general path (the first call) and the warm runner go through
    fitted_threads, and the values are the plain function's."""
    from looptrace.codegen.cpu import kernel as kernel_module

    calls = []

    def counting(kernel):
        def call(*args):
            calls.append(threading.get_ident())
            return kernel(*args)
        return call

    monkeypatch.setattr(kernel_module, "fitted_threads", counting)

    def f(a):
        return np.sqrt((a * a).sum(axis=1))

    a = rng.standard_normal((2048, 512))
    jf = looptrace.jit(f, backend="cpu")
    for _ in range(3):
        np.testing.assert_allclose(jf(a), f(a), rtol=1e-12)
    assert "prange" in looptrace.explain(jf, a).kernel_source
    assert len(calls) >= 3
