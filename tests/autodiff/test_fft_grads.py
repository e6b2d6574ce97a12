"""Gradients through np.fft (ops/fft.py's VJPs) against central finite
differences in float64, through real losses of the complex spectra, with
random weights so no loss is invariant: fft and ifft both ways and every
norm, rfft and irfft with even and odd n (the zero and Nyquist bins counted
once), n shorter and longer than the axis, another axis, 2-d transforms, a
loop over frames and a recurrence through a transform."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad


def check(fn, args, argnums=(0,), rtol=1e-6, backend="interpret"):
    grads = lt.grad(lt.jit(fn, backend=backend), argnums=argnums)(*args)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(fn, list(args), i), rtol, f"{fn.__name__} argument {i}")


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_fft_then_ifft_filter(norm, rng):
    def loss(x, h):
        y = np.fft.ifft(np.fft.fft(x, norm=norm) * h, norm=norm)
        return np.real(y * np.conj(y + 0.3j)).sum() + np.sum(np.imag(y) * h)

    check(loss, [rng.standard_normal(9), rng.standard_normal(9)], (0, 1))


@pytest.mark.parametrize("n", [None, 6, 11, 16])
def test_rfft_power_spectrum(n, rng):
    def loss(x, w, v):
        return np.sum(np.abs(np.fft.rfft(x * w, n=n)) ** 2 * v)

    v = rng.uniform(0.5, 2.0, (n or 12) // 2 + 1)
    check(loss, [rng.standard_normal(12), rng.standard_normal(12), v], (0, 1))


@pytest.mark.parametrize("n", [8, 9, 4, 13])
def test_irfft_of_a_spectrum(n, rng):
    def loss(re, im, w):
        return np.sum(np.fft.irfft(re + 1j * im, n=n, norm="ortho") * w) + np.sum(np.fft.irfft(re * re) ** 2)

    m = 5
    check(loss, [rng.standard_normal(m), rng.standard_normal(m), rng.standard_normal(n)], (0, 1))


def test_complex_input_and_other_axis(rng):
    def loss(a, b, w):
        z = a + 1j * b
        return np.sum(np.abs(np.fft.fft(z, n=7, axis=0)) * w) + np.sum(np.real(np.fft.ifft(z, axis=1) ** 2))

    check(loss, [rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.uniform(0.5, 2, (7, 3))], (0, 1, 2))


def test_two_dimensional(rng):
    def loss(x, w):
        spec = np.fft.rfft2(x * w)
        back = np.fft.irfft2(spec * np.conj(spec), s=x.shape)
        return np.sum(back * w) + np.sum(np.abs(np.fft.fftshift(np.fft.fft2(x))) * w[0, 0])

    check(loss, [rng.standard_normal((4, 6)), rng.standard_normal((4, 6))], (0, 1))


def frames_loss(x, w):
    n, hop = w.shape[0], 4
    total = 0.0
    for t in range((x.shape[0] - n) // hop + 1):
        total += np.sum(np.abs(np.fft.rfft(x[t * hop:t * hop + n] * w)) ** 2 * (t + 1))
    return total


def test_loop_over_frames(rng):
    check(frames_loss, [rng.standard_normal(26), rng.standard_normal(8)], (0, 1))


def recurrence_loss(x, h):
    y = x
    for _ in range(3):
        y = np.real(np.fft.ifft(np.fft.fft(y) * h)) * 0.7 + x
    return np.sum(y * y * h)


def test_recurrence_through_a_transform(rng):
    check(recurrence_loss, [rng.standard_normal(8), rng.standard_normal(8)], (0, 1))


# slow: the gradient of an fft is ffts (ops/fft.py), their cpu lowering compiled by tests/tracer/test_np_fft.py and
# test_lowering_completeness.py; frames_loss's gradient runs on the interpreter above
@pytest.mark.slow
def test_cpu_backend(rng):
    check(frames_loss, [rng.standard_normal(26), rng.standard_normal(8)], (0, 1), backend="cpu")


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_padded_convolution(norm, rng):
    """rfft zero-padded past the input (ops/fft.py `n`) and scaled by the
    norm (`scale`), both ways: a linear convolution through the FFT."""
    def loss(x, h, w):
        size = 16
        y = np.fft.irfft(np.fft.rfft(x, size, norm=norm) * np.fft.rfft(h, size, norm=norm), size, norm=norm)
        return np.sum(y[: x.shape[0] + h.shape[0] - 1] * w)

    check(loss, [rng.standard_normal(9), rng.standard_normal(4), rng.standard_normal(12)], (0, 1))
