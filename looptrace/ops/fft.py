"""Discrete Fourier transforms over the last axis: `fft`, `rfft`, `irfft`.

fft(x, inverse)  complex -> complex of the same shape and dtype:
                 out[k] = sum_j x[j] exp(-+2 pi i j k / n) (minus forward, plus inverse)
rfft(x)          real (float32/float64) -> complex, last axis n -> n // 2 + 1:
                 the first half of fft(x), the rest being its mirror's conjugate
irfft(x, n)      complex, last axis exactly n // 2 + 1 -> real, last axis n:
                 the real signal whose rfft is x (Hermitian extension; the
                 imaginary parts of the zero and, for even n, the Nyquist bin
                 are ignored, as NumPy's C2R transform ignores them)

All three are unscaled (no 1/n, NumPy's norm="backward" forward transform and
norm="forward" inverse one); the tracer (tracer/np_fft.py) multiplies by the
norm's factor, moves the user's axis last and pads or truncates to `n`.
float32 stays single precision (complex64), as NumPy 2 keeps it.

VJPs (JAX's convention for complex cotangents, the transpose of the real
linear map on (re, im) pairs, as ops/special.py): the DFT matrix is
symmetric, so fft^T = fft with the same direction. rfft is slice . fft . real
-> complex, so rfft^T(g) = real(fft(g padded to n)) = irfft(conj(g) * w, n)
with w = 1 at the zero and Nyquist bins and 1/2 elsewhere (each other bin
stands for itself and its mirror); irfft^T(g) = conj(rfft(g)) / w.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.core import literal
from looptrace.ir.primitive import Primitive, ShapeMismatch, register

from .shape_arith import fmt


def complex_dtype(dtype) -> np.dtype:
    """The complex dtype NumPy 2's FFTs compute in for an input dtype."""
    dt = np.dtype(dtype)
    single = dt in (np.float16, np.float32, np.complex64)
    return np.dtype(np.complex64 if single else np.complex128)


def real_dtype(dtype) -> np.dtype:
    return np.dtype(np.float32 if complex_dtype(dtype) == np.complex64 else np.float64)


def _last_axis(x, what: str) -> int:
    if len(x.shape) == 0:
        raise ShapeMismatch(f"{what} needs an array of at least one dimension, not a scalar")
    n = x.shape[-1]
    if isinstance(n, (int, np.integer)) and n < 1:
        raise ShapeMismatch(f"{what} of an empty last axis (shape {fmt(x.shape)})")
    return n


def _fft_abstract(x, *, inverse):
    _last_axis(x, "fft")
    if np.dtype(x.dtype) not in (np.complex64, np.complex128):
        raise ShapeMismatch(f"fft needs complex64 or complex128 input, not {x.dtype}")
    return [(x.dtype, tuple(x.shape))]


def _rfft_abstract(x):
    n = _last_axis(x, "rfft")
    if np.dtype(x.dtype) not in (np.float32, np.float64):
        raise ShapeMismatch(f"rfft needs float32 or float64 input, not {x.dtype}")
    return [(complex_dtype(x.dtype), tuple(x.shape[:-1]) + (n // 2 + 1,))]


def _irfft_abstract(x, *, n):
    m = _last_axis(x, "irfft")
    if np.dtype(x.dtype) not in (np.complex64, np.complex128):
        raise ShapeMismatch(f"irfft needs complex64 or complex128 input, not {x.dtype}")
    if not isinstance(n, int) or n < 1 or m != n // 2 + 1:
        raise ShapeMismatch(f"irfft to length {n} needs {n // 2 + 1} input bins, not {m}")
    return [(real_dtype(x.dtype), tuple(x.shape[:-1]) + (n,))]


def _fft_impl(x, *, inverse):
    y = np.fft.ifft(x, axis=-1, norm="forward") if inverse else np.fft.fft(x, axis=-1)
    return y.astype(x.dtype, copy=False)


def _rfft_impl(x):
    return np.fft.rfft(x, axis=-1).astype(complex_dtype(x.dtype), copy=False)


def _irfft_impl(x, *, n):
    return np.fft.irfft(x, n=n, axis=-1, norm="forward").astype(real_dtype(x.dtype), copy=False)


fft = register(Primitive("fft", "fft", _fft_abstract, _fft_impl, fresh=True,
                         doc="unscaled complex DFT over the last axis (inverse: the conjugate direction)"))
rfft = register(Primitive("rfft", "fft", _rfft_abstract, _rfft_impl, fresh=True,
                          doc="unscaled DFT of a real last axis: its n // 2 + 1 first bins"))
irfft = register(Primitive("irfft", "fft", _irfft_abstract, _irfft_impl, fresh=True,
                           doc="unscaled inverse of rfft: n real samples from n // 2 + 1 bins"))


# --- batching rules: the transform is over the last axis, a leading batch axis is one more lane ---
def _batch(name: str):
    def rule(b, args, dims, **attrs):
        from .batching_helpers import bcast

        x = bcast(b, args[0], dims[0], b.axis_size)
        return [b.op(name, x, **attrs)], [0]

    return rule


fft.batch = _batch("fft")
rfft.batch = _batch("rfft")
irfft.batch = _batch("irfft")


# --- VJP rules ------------------------------------------------------------------------------------
def _weights(n: int, dtype, inverse: bool):
    w = np.full(n // 2 + 1, 0.5)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return literal((1.0 / w if inverse else w).astype(dtype))


def _fft_vjp(b, g, op):
    return b.emit("fft", g, inverse=op.attrs["inverse"])


def _rfft_vjp(b, g, op):
    n = op.inputs[0].shape[-1]
    weighted = b.mul(b.emit("conjugate", g), _weights(n, g.dtype, inverse=False))
    return b.emit("irfft", weighted, n=n)


def _irfft_vjp(b, g, op):
    n = op.attrs["n"]
    spectrum = b.emit("conjugate", b.emit("rfft", g))
    return b.mul(spectrum, _weights(n, spectrum.dtype, inverse=True))


def _attach_vjp_rules() -> None:
    from looptrace.ops.vjp_helpers import defvjp

    defvjp(fft, _fft_vjp)
    defvjp(rfft, _rfft_vjp)
    defvjp(irfft, _irfft_vjp)


_attach_vjp_rules()
