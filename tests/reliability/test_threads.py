"""Threads: tracing state is per thread, each signature is compiled once
under a lock and every caller agrees on it, warm calls take no lock."""
import threading

import numpy as np
import pytest

import looptrace as lt

N_THREADS = 8


def smooth(x, a):
    y = 0.0
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        y = a * y + x[t]
        out[t] = y
    return out


def energy(w, x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.tanh(w * x[i]) ** 2
    return s


def _together(n, fn):
    """Run fn(k) in n threads released at once; results (or exceptions) by k."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def work(k):
        barrier.wait()
        try:
            results[k] = fn(k)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            results[k] = e

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _counting_traces(jitted):
    traces = []
    original = jitted.trace

    def trace(*a, **k):
        traces.append(threading.get_ident())
        return original(*a, **k)

    jitted.trace = trace
    return traces


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_first_calls_from_many_threads_agree_and_compile_once(backend, rng):
    x = rng.standard_normal(50)
    jitted = lt.jit(smooth, backend=backend)
    traces = _counting_traces(jitted)
    results = _together(N_THREADS, lambda k: jitted(x, 0.5))
    for r in results:
        assert not isinstance(r, BaseException), repr(r)
        np.testing.assert_allclose(r, smooth(x, 0.5), rtol=1e-12)
    assert len(traces) == 1
    np.testing.assert_allclose(jitted(x, 0.5), smooth(x, 0.5), rtol=1e-12)  # nothing broken is cached


def test_many_signatures_from_many_threads(rng):
    jitted = lt.jit(smooth, backend="interpret")
    traces = _counting_traces(jitted)
    xs = [rng.standard_normal(5 + k % 4) for k in range(N_THREADS)]
    results = _together(N_THREADS, lambda k: jitted(xs[k], 0.25))
    for x, r in zip(xs, results):
        assert not isinstance(r, BaseException), repr(r)
        np.testing.assert_allclose(r, smooth(x, 0.25), rtol=1e-12)
    assert len(traces) == 4  # one per shape


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_grad_from_many_threads(backend, rng):
    x = rng.standard_normal(20)
    g = lt.grad(lt.jit(energy, backend=backend), backend=backend)
    results = _together(N_THREADS, lambda k: g(0.3 + 0.1 * k, x))
    for k, r in enumerate(results):
        assert not isinstance(r, BaseException), repr(r)
        w = 0.3 + 0.1 * k
        expected = np.sum(2 * np.tanh(w * x) * (1 - np.tanh(w * x) ** 2) * x)
        np.testing.assert_allclose(r, expected, rtol=1e-9)


def test_grad_of_a_varargs_function_with_different_arities_from_threads(rng):
    xs = [rng.standard_normal(6) for _ in range(3)]

    def total(*args):
        return sum(np.sum(a * a) for a in args)

    g = lt.grad(total, backend="interpret")
    results = _together(N_THREADS, lambda k: g(*xs[: 1 + k % 3]))
    for k, r in enumerate(results):
        assert not isinstance(r, BaseException), repr(r)
        np.testing.assert_allclose(r, 2 * xs[0], rtol=1e-12)


def test_a_trace_in_progress_is_invisible_to_other_threads(rng):
    """While thread A is in the middle of tracing, thread B calls another
    jitted function: B must trace on its own, not see A's frames."""
    entered, release = threading.Event(), threading.Event()

    def pause():
        entered.set()
        release.wait(30)
        return 1.0

    def slow(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += x[i] * pause()
        return s

    a = lt.jit(slow, backend="interpret")
    b = lt.jit(smooth, backend="interpret")
    x = rng.standard_normal(8)
    out = {}
    ta = threading.Thread(target=lambda: out.setdefault("a", a(x)))
    ta.start()
    assert entered.wait(30)
    try:
        out["b"] = b(x, 0.5)
    finally:
        release.set()
        ta.join(60)
    np.testing.assert_allclose(out["b"], smooth(x, 0.5), rtol=1e-12)
    assert np.isclose(out["a"], x.sum())


class _CountingLock:
    def __init__(self, inner):
        self.inner, self.count = inner, 0

    def __enter__(self):
        self.count += 1
        return self.inner.__enter__()

    def __exit__(self, *exc):
        return self.inner.__exit__(*exc)


def test_warm_calls_take_no_lock(rng):
    x = rng.standard_normal(10)
    for backend in ("interpret", "cpu"):
        jitted = lt.jit(smooth, backend=backend)
        jitted(x, 0.5)
        jitted(x, a=0.5)  # the slow path (a keyword) as well
        lock = jitted._cache.lock = _CountingLock(jitted._cache.lock)
        results = _together(N_THREADS, lambda k: [jitted(x, 0.5), jitted(x, a=0.5)])
        assert all(not isinstance(r, BaseException) for r in results)
        assert lock.count == 0
