"""Discrete Fourier transforms over the last axis: `fft`, `rfft`, `irfft`.

fft(x, inverse)  complex -> complex of the same shape and dtype:
                 out[k] = sum_j x[j] exp(-+2 pi i j k / n) (minus forward, plus inverse)
rfft(x)          real (float32/float64) -> complex, last axis n -> n // 2 + 1:
                 the first half of fft(x), the rest being its mirror's conjugate
irfft(x, n)      complex, last axis exactly n // 2 + 1 -> real, last axis n:
                 the real signal whose rfft is x (Hermitian extension; the
                 imaginary parts of the zero and, for even n, the Nyquist bin
                 are ignored, as NumPy's C2R transform ignores them)

Each takes `scale`, a real factor on its result (default 1: unscaled, no
1/n: NumPy's norm="backward" forward transform and norm="forward" inverse
one), and fft and rfft take `n`, the length the last axis is zero-padded to
(default: its own); the tracer (tracer/np_fft.py) turns the user's `norm`
into `scale`, moves the user's axis last, truncates with a slice and pads
with `n`, so a padded transform is one call of NumPy's (no padded copy), and
a scaled one is scaled inside it (no pass over the result).
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


def _length(x, n, what: str) -> int:
    """The transform's length: `n`, to which the last axis (m <= n) is
    zero-padded, or the last axis itself."""
    m = _last_axis(x, what)
    if n is None:
        return m
    if not isinstance(n, int) or isinstance(m, (int, np.integer)) and not 1 <= m <= n:
        raise ShapeMismatch(f"{what} of length {n} pads a last axis of at most {n} elements, not {m}")
    return n


def _fft_abstract(x, *, inverse, n=None, scale=1.0):
    n = _length(x, n, "fft")
    if np.dtype(x.dtype) not in (np.complex64, np.complex128):
        raise ShapeMismatch(f"fft needs complex64 or complex128 input, not {x.dtype}")
    return [(x.dtype, tuple(x.shape[:-1]) + (n,))]


def _rfft_abstract(x, *, n=None, scale=1.0):
    n = _length(x, n, "rfft")
    if np.dtype(x.dtype) not in (np.float32, np.float64):
        raise ShapeMismatch(f"rfft needs float32 or float64 input, not {x.dtype}")
    return [(complex_dtype(x.dtype), tuple(x.shape[:-1]) + (n // 2 + 1,))]


def _irfft_abstract(x, *, n, scale=1.0):
    m = _last_axis(x, "irfft")
    if np.dtype(x.dtype) not in (np.complex64, np.complex128):
        raise ShapeMismatch(f"irfft needs complex64 or complex128 input, not {x.dtype}")
    if not isinstance(n, int) or n < 1 or m != n // 2 + 1:
        raise ShapeMismatch(f"irfft to length {n} needs {n // 2 + 1} input bins, not {m}")
    return [(real_dtype(x.dtype), tuple(x.shape[:-1]) + (n,))]


def _times(y, scale):
    return y if scale == 1.0 else y * scale


def _fft_impl(x, *, inverse, n=None, scale=1.0):
    y = np.fft.ifft(x, n=n, axis=-1, norm="forward") if inverse else np.fft.fft(x, n=n, axis=-1)
    return _times(y, scale).astype(x.dtype, copy=False)


def _rfft_impl(x, *, n=None, scale=1.0):
    return _times(np.fft.rfft(x, n=n, axis=-1), scale).astype(complex_dtype(x.dtype), copy=False)


def _irfft_impl(x, *, n, scale=1.0):
    return _times(np.fft.irfft(x, n=n, axis=-1, norm="forward"), scale).astype(real_dtype(x.dtype), copy=False)


fft = register(Primitive("fft", "fft", _fft_abstract, _fft_impl, fresh=True,
                         doc="scale * complex DFT of the last axis zero-padded to n (inverse: the conjugate direction)"))
rfft = register(Primitive("rfft", "fft", _rfft_abstract, _rfft_impl, fresh=True,
                          doc="scale * DFT of a real last axis zero-padded to n: its n // 2 + 1 first bins"))
irfft = register(Primitive("irfft", "fft", _irfft_abstract, _irfft_impl, fresh=True,
                           doc="scale * the inverse of rfft: n real samples from n // 2 + 1 bins"))


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


def _first(b, x, m: int):
    """x's first m elements along its last axis (the part a padded transform read)."""
    if x.shape[-1] == m:
        return x
    nd = len(x.shape)
    return b.emit("slice", x, starts=(0,) * nd, stops=tuple(x.shape[:-1]) + (m,), steps=(1,) * nd)


def _fft_vjp(b, g, op):
    a = op.attrs
    return _first(b, b.emit("fft", g, inverse=a["inverse"], scale=a.get("scale", 1.0)), op.inputs[0].shape[-1])


def _rfft_vjp(b, g, op):
    m = op.inputs[0].shape[-1]
    n = op.attrs.get("n") or m
    weighted = b.mul(b.emit("conjugate", g), _weights(n, g.dtype, inverse=False))
    return _first(b, b.emit("irfft", weighted, n=n, scale=op.attrs.get("scale", 1.0)), m)


def _irfft_vjp(b, g, op):
    n = op.attrs["n"]
    spectrum = b.emit("conjugate", b.emit("rfft", g, scale=op.attrs.get("scale", 1.0)))
    return b.mul(spectrum, _weights(n, spectrum.dtype, inverse=True))


def _attach_vjp_rules() -> None:
    from looptrace.ops.vjp_helpers import defvjp

    defvjp(fft, _fft_vjp)
    defvjp(rfft, _rfft_vjp)
    defvjp(irfft, _irfft_vjp)


_attach_vjp_rules()
