"""A cuda recurrence whose state is complex (kept in shared memory by the
persistent kernel): the generated module names complex64/complex128 (it did
not, and such a kernel failed with NameError; found with np.fft in a loop)."""
import numpy as np

import looptrace as lt

from _cuda_support import assert_like_plain, cuda_backend


def spectral_steps(z, h, T):
    for _ in range(T):
        z = np.fft.ifft(np.fft.fft(z) * h)
    return z


def rotate(z, w, T):
    for _ in range(T):
        z = z * w + 0.1j
    return z


def test_complex_state_in_a_cuda_recurrence(rng):
    cuda_backend()
    z = rng.standard_normal(8) + 1j * rng.standard_normal(8)
    h = np.exp(1j * rng.uniform(0, 2 * np.pi, 8)) * 0.9
    assert_like_plain(spectral_steps, [z, h, 5], lt.jit(spectral_steps, backend="cuda"), rtol=1e-9, atol=1e-12)
    w = (np.exp(1j * rng.uniform(0, 1, 8)) * 0.95).astype(np.complex64)
    assert_like_plain(rotate, [z.astype(np.complex64), w, 6], lt.jit(rotate, backend="cuda"), rtol=1e-5, atol=1e-6)
