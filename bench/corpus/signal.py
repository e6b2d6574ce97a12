"""Signals: moving averages (loop, cumsum, convolve), FIR filters, an echo delay line, rolling std."""
import numpy as np

from . import Kernel, error

ECHO_DELAY = 40
WINDOW = 16


def moving_average_loop(x, w):
    """A window of w samples ending at each position (w passed by the caller)."""
    n = x.shape[0]
    out = np.zeros(n - w + 1)
    for i in range(n - w + 1):
        out[i] = x[i:i + w].sum() / w
    return out


def moving_average_cumsum(x, w):
    """The cumsum trick."""
    c = np.cumsum(np.concatenate((np.zeros(1), x)))
    return (c[w:] - c[:-w]) / w


def moving_average_convolve(x):
    return np.convolve(x, np.ones(WINDOW) / WINDOW, mode="valid")


def moving_average_fixed(x):
    """A fixed window read with a traced start (length known from the constant)."""
    n = x.shape[0]
    out = np.empty(n - WINDOW + 1)
    for i in range(n - WINDOW + 1):
        out[i] = x[i:i + WINDOW].mean()
    return out


def fir_loops(x, h):
    """y[n] = sum_k h[k] x[n - k], with the bounds check in the inner loop."""
    n, m = x.shape[0], h.shape[0]
    y = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for k in range(m):
            if i - k >= 0:
                acc += h[k] * x[i - k]
        y[i] = acc
    return y


def iir_biquad(x, b0, b1, b2, a1, a2):
    """A direct-form-I biquad: a true recurrence on two past outputs."""
    y = np.zeros_like(x)
    x1 = x2 = y1 = y2 = 0.0
    for i in range(x.shape[0]):
        yi = b0 * x[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2, x1 = x1, x[i]
        y2, y1 = y1, yi
        y[i] = yi
    return y


def echo(x, gain):
    """A feed-forward echo through a delay-line buffer."""
    n = x.shape[0]
    buf = np.zeros(n + ECHO_DELAY)
    y = np.empty(n)
    for t in range(n):
        buf[t + ECHO_DELAY] = x[t]
        y[t] = x[t] + gain * buf[t]
    return y


def rolling_std(x):
    n = x.shape[0]
    out = np.empty(n - WINDOW + 1)
    for i in range(n - WINDOW + 1):
        out[i] = np.std(x[i:i + WINDOW], ddof=1)
    return out


def phase_unwrap(z):
    """Instantaneous frequency of a complex signal: its angle unwrapped, then differenced."""
    phase = np.unwrap(np.angle(z))
    return np.diff(phase) / (2 * np.pi), phase[-1]


def spectrogram(x, n_fft, hop):
    """Power spectrogram (STFT with a Hann window), one frame per loop step."""
    window = np.hanning(n_fft)
    n_frames = 1 + (x.shape[0] - n_fft) // hop
    S = np.empty((n_frames, n_fft // 2 + 1))
    for t in range(n_frames):
        frame = x[t * hop:t * hop + n_fft] * window
        S[t] = np.abs(np.fft.rfft(frame)) ** 2
    return S


def fft_convolve(x, h):
    """Linear convolution through the FFT (zero-padded to a power of two), as scipy's fftconvolve does."""
    n = x.shape[0] + h.shape[0] - 1
    size = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)
    return y[:n]


def fir_shifted_slices(x, h):
    """An FIR filter as a sum of shifted slices, one per tap."""
    n = x.shape[0] - h.shape[0] + 1
    y = np.zeros(n)
    for k in range(h.shape[0]):
        y += h[k] * x[k:k + n]
    return y


def _signal(r, m, test=64, bench=200_000):
    return r.standard_normal(test if m == "test" else bench)


KERNELS = [
    Kernel("moving_average_loop", moving_average_loop, lambda r, m: (_signal(r, m, 64, 20_000), 8), "loop",
           "moving average"),
    Kernel("moving_average_cumsum", moving_average_cumsum, lambda r, m: (_signal(r, m, 64, 1_000_000), 8), "array",
           "moving average"),
    Kernel("moving_average_convolve", moving_average_convolve, lambda r, m: (_signal(r, m, 64, 1_000_000),), "array",
           "moving average"),
    Kernel("moving_average_fixed", moving_average_fixed, lambda r, m: (_signal(r, m, 64, 20_000),), "mixed",
           "moving average"),
    Kernel("fir_shifted_slices", fir_shifted_slices, lambda r, m: (_signal(r, m, 40, 1_000_000), r.standard_normal(9)),
           "mixed", "filter"),
    Kernel("fir_loops", fir_loops, lambda r, m: (_signal(r, m, 40, 20_000), r.standard_normal(8)), "loop",
           "filter"),
    Kernel("iir_biquad", iir_biquad, lambda r, m: (_signal(r, m), 0.2, 0.4, 0.2, -0.5, 0.1), "loop", "filter"),
    Kernel("echo", echo, lambda r, m: (_signal(r, m), 0.6), "loop", "filter"),
    Kernel("phase_unwrap", phase_unwrap,
           lambda r, m: (np.exp(1j * np.cumsum(r.uniform(0.0, 1.5, 64 if m == "test" else 1_000_000))),),
           "array", "filter"),
    Kernel("rolling_std", rolling_std, lambda r, m: (_signal(r, m, 64, 10_000),), "mixed", "moving average"),
    Kernel("spectrogram", spectrogram, lambda r, m: (_signal(r, m, 300, 1_000_000), 64 if m == "test" else 512,
                                                     16 if m == "test" else 128), "mixed", "spectrum"),
    Kernel("fft_convolve", fft_convolve, lambda r, m: (_signal(r, m, 100, 1_000_000), r.standard_normal(31)),
           "array", "filter"),
]
