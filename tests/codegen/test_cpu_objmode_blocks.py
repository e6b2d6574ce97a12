"""A kernel with more than one object-mode block (np.fft, NumPy's sort, in two
loops) calls each block as a function of its own (codegen/cpu/objmode.py):
Numba could not lower two blocks in different loops ("bitcast ptr ... to
ptr", numba/numba#9574), which stopped the gradient of every FFT
recurrence on cpu (session-35 probe H). Values and gradients against the
plain function and central differences."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad
from tests.tracer._loopcheck import check


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def spectral_smoothing(x):
    y = x.copy()
    for t in range(2):
        F = np.fft.rfft(y)
        y = np.fft.irfft(F * 0.5, n=y.shape[0])
    return (y ** 2).sum()


def two_loops(x, w):
    y = x.copy()
    for t in range(3):
        y = np.fft.irfft(np.fft.rfft(y) * w, n=y.shape[0]) + 0.1
    z = x * 2.0
    for t in range(2):
        z = np.sort(z + y)[::-1] * 0.5
    return y, z


def test_blocks_in_two_loops(rng):
    f = lt.jit(two_loops, backend="cpu")
    for _ in range(2):
        x = rng.standard_normal(64)
        check(two_loops, x, rng.standard_normal(33), jitted=f, rtol=1e-10)
    assert "_objmode1(" in f.explain(x, rng.standard_normal(33)).kernel_source


def test_gradient_of_an_fft_recurrence(rng):
    x = rng.standard_normal(8)
    g = lt.grad(lt.jit(spectral_smoothing, backend="cpu"))(x)
    assert_close(g, numerical_grad(spectral_smoothing, [x], 0), 1e-6, "spectral_smoothing")
