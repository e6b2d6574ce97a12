"""Transforms that do not read each other's results run at the same time
(codegen/cpu/fft.py `side_by_side`, Emitter.object_mode's `together`): NumPy's
pocketfft releases the GIL. Values as the plain function's (each transform
is NumPy's own call, bit for bit; the kernel's complex products round as
Numba's do), on one core and on several."""
import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import fft as cpu_fft


def convolve(x, h):
    n = x.shape[0] + h.shape[0] - 1
    size = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:n]


def three_spectra(a, b, c):
    return np.fft.fft(a), np.fft.rfft(b, norm="ortho"), np.fft.ifft(c, n=40) * 2.0


def chained(x):
    return np.fft.irfft(np.fft.rfft(x), x.shape[0])


def test_independent_transforms_share_one_block(rng, monkeypatch):
    """On one core (no pool: in turn) and on two (the pool): the core count is read when the kernel
    runs, so one compile of each kernel serves both (two compiles each before session 54, 3.5 s of CPU)."""
    monkeypatch.setattr(cpu_fft, "SIDE_BY_SIDE_MIN", 0)  # small sizes, for speed
    x, h = rng.standard_normal(1000), rng.standard_normal(31)
    f = looptrace.jit(convolve, backend="cpu", cache=False)
    a = rng.standard_normal(64) + 1j * rng.standard_normal(64)
    b, c = rng.standard_normal(33), rng.standard_normal(40) + 1j * rng.standard_normal(40)
    g = looptrace.jit(three_spectra, backend="cpu", cache=False)
    for cores in (1, 2):
        monkeypatch.setattr(cpu_fft, "_cores", lambda: cores)
        np.testing.assert_allclose(f(x, h), convolve(x, h), rtol=1e-12, atol=1e-12)
        for got, want in zip(g(a, b, c), three_spectra(a, b, c)):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    src = f.explain(x, h).kernel_source
    assert src.count("side_by_side(") == 1 and src.count("np.fft.rfft") == 2, src
    assert "np.fft.irfft(" in src.split("side_by_side(")[1]  # the inverse reads both: a block of its own
    src = g.explain(a, b, c).kernel_source
    assert src.count("side_by_side(") == 1 and "'ortho'" in src and "np.fft.ifft" in src


def test_small_transforms_run_in_turn(rng):
    """Below SIDE_BY_SIDE_MIN points a transform is not worth a thread's
    handoff: a block of its own (a scan of small transforms pays nothing).
    The sources only, which explain writes without compiling them (the
    compile of the kernel below was 2.9 s of session 55's CI at 0278d5f):
    test_a_transform_of_a_transform_is_not_joined runs an rfft and irfft
    kernel of transforms in turn against the plain function."""
    x, h = rng.standard_normal(1000), rng.standard_normal(31)
    f = looptrace.jit(convolve, backend="cpu", cache=False)
    src = f.explain(x, h).kernel_source
    assert "side_by_side(" not in src and src.count("np.fft.rfft") == 2 and "np.fft.irfft(" in src
    # at SIDE_BY_SIDE_MIN points the transforms go side by side (the second compile was ~1 s of CPU);
    # test_independent_transforms_share_one_block runs convolve's side-by-side kernel against the plain function
    x = rng.standard_normal(cpu_fft.SIDE_BY_SIDE_MIN)
    assert "side_by_side(" in f.explain(x, h).kernel_source


def test_a_transform_of_a_transform_is_not_joined(rng):
    x = rng.standard_normal(256)
    f = looptrace.jit(chained, backend="cpu", cache=False)
    np.testing.assert_allclose(f(x), chained(x), rtol=1e-12, atol=1e-14)
    assert "side_by_side(" not in f.explain(x).kernel_source


def test_an_error_of_any_transform_is_raised_after_all_finish(monkeypatch):
    monkeypatch.setattr(cpu_fft, "_cores", lambda: 2)
    finished = []

    def slow(x, n=None, axis=-1, norm=None):
        finished.append("slow")
        return np.fft.fft(x, n=n, axis=axis, norm=norm)

    def bad(x, n=None, axis=-1, norm=None):
        raise ValueError("invalid number of data points")

    x = np.ones(8)
    ok = (slow, x, None, "backward", None, np.complex128)
    with pytest.raises(ValueError, match="invalid number"):
        cpu_fft.side_by_side(ok, (bad, x, None, "backward", None, np.complex128), ok)
    assert finished == ["slow", "slow"]
    out = cpu_fft.side_by_side(ok, (slow, x, 16, "ortho", 2.0, np.complex64))
    np.testing.assert_array_equal(out[1], (np.fft.fft(x, 16, norm="ortho") * 2.0).astype(np.complex64))


def test_a_forked_child_makes_its_own_pool(monkeypatch):
    monkeypatch.setattr(cpu_fft, "_cores", lambda: 2)
    pool = cpu_fft._executor()
    monkeypatch.setattr(cpu_fft, "_pool_pid", -1)  # as a child process of this one sees it
    assert cpu_fft._executor() is not pool
