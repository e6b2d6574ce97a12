"""A kernel that calls BLAS inside prange runs with one BLAS thread and
restores the caller's setting (codegen/cpu/blas_threads.py)."""
import os
import threading

import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import blas, blas_threads


class FakeBlas:
    def __init__(self, n):
        self.n, self.calls = n, []

    def get_num_threads(self):
        return self.n

    def set_num_threads(self, n):
        self.calls.append(n)
        self.n = n


def batched(x, w):
    out = np.empty((x.shape[0], x.shape[1], w.shape[2]))
    for b in range(x.shape[0]):
        out[b] = x[b] @ w[b]
    return out


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def test_the_library_kernels_call_is_found():
    lib = blas_threads.numba_blas()
    if blas.choice() == "numba":  # Numba's np.dot: SciPy's BLAS
        assert lib is not None and "scipy" in lib.filepath
    else:
        assert lib is not None and os.path.realpath(lib.filepath) == blas.numpy_library().path


def test_one_thread_inside_and_restored_after(monkeypatch):
    fake = FakeBlas(4)
    monkeypatch.setattr(blas_threads, "numba_blas", lambda: fake)
    with blas_threads.one_blas_thread():
        assert fake.n == 1
        with blas_threads.one_blas_thread():  # nested (another thread's kernel) keeps it
            assert fake.n == 1
        assert fake.n == 1
    assert fake.n == 4 and fake.calls == [1, 4]


def test_concurrent_kernels_restore_once(monkeypatch):
    fake = FakeBlas(3)
    monkeypatch.setattr(blas_threads, "numba_blas", lambda: fake)
    barrier = threading.Barrier(4)

    def run():
        with blas_threads.one_blas_thread():
            barrier.wait()
            assert fake.n == 1

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.n == 3


def test_batched_products_run_in_prange_with_blas_threaded(monkeypatch, rng):
    monkeypatch.setattr("looptrace.codegen.cpu.emitter.PARALLEL_MIN_WORK", 1)
    fake = FakeBlas(2)
    monkeypatch.setattr(blas_threads, "numba_blas", lambda: fake)
    x, w = rng.standard_normal((8, 40, 50)), rng.standard_normal((8, 50, 30))
    f = looptrace.jit(batched, backend="cpu", cache=False)
    np.testing.assert_allclose(f(x, w), batched(x, w), rtol=1e-12)
    assert "numba.prange" in f.explain(x, w).kernel_source
    assert fake.calls == [1, 2]


@pytest.mark.skipif(blas.choice() == "numba", reason="kernels call Numba's np.dot here")
def test_products_blas_threads_itself_stay_in_a_serial_loop(monkeypatch, rng):
    """Each product big enough for BLAS to thread (m * n * k >= 262144): the
    batch loop is serial and BLAS's own threads (NumPy's pool) run it."""
    monkeypatch.setattr("looptrace.codegen.cpu.emitter.PARALLEL_MIN_WORK", 1)
    monkeypatch.setattr("looptrace.codegen.cpu.threading_policy._ADAPTIVE", False)  # (fitted_blas: a busy machine's)
    fake = FakeBlas(2)
    monkeypatch.setattr(blas_threads, "numba_blas", lambda: fake)
    x, w = rng.standard_normal((4, 80, 70)), rng.standard_normal((4, 70, 60))
    f = looptrace.jit(batched, backend="cpu", cache=False)
    np.testing.assert_allclose(f(x, w), batched(x, w), rtol=1e-12)
    src = f.explain(x, w).kernel_source
    loop = next(line for line in src.splitlines() if "dot_into" in line)
    before = src[:src.index(loop)].splitlines()
    assert "numba.prange" not in before[-1] and fake.calls == []
