"""np.fft under tracing: fft, ifft, rfft, irfft over one axis (the primitives
of ops/fft.py), hfft and ihfft (irfft and rfft of the conjugate in the other
direction, as NumPy composes them), their 2-d and n-d versions as NumPy
composes them, and the helpers fftfreq, rfftfreq, fftshift, ifftshift.

Invariant: values, shapes and dtypes are NumPy 2's: float16/float32/complex64
compute in complex64 (irfft of float16 gives float16), everything else in
complex128; `n` zero-pads or truncates the transformed axis; `norm` scales
by 1, 1/sqrt(n) or 1/n. `n`, `s` and `axes` are static: a traced one that comes
from an int argument is specialized on, others raise UnsupportedError. Invalid
values raise NumPy's exceptions (ValueError for n < 1 or a bad norm, AxisError
for a bad axis, TypeError for rfft of complex input) while tracing. Without a
traced argument each function is NumPy's own.
"""
from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.ops import get as prim
from looptrace.ops.fft import complex_dtype, real_dtype

from . import context as ctx
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer

_tr, _any_traced = nx._tr, nx._any_traced
_NORMS = (None, "backward", "ortho", "forward")


# --- argument checks ---------------------------------------------------------------------------
def _static_int(n: Any, what: str, fname: str) -> int:
    if is_tracer(n):
        from .static import UnsupportedConcrete, concrete_error

        raise concrete_error([n], f"np.fft.{fname} needs a static {what}",
                             f"pass {what} as a Python int (or list it in static_argnames)",
                             cls=UnsupportedConcrete)
    return operator.index(n)


def _check_n(n: int) -> int:
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return n


def _norm_factor(norm: Any, n: int, forward: bool) -> float:
    """The factor NumPy's `norm` puts on a transform of length n in one direction."""
    if norm not in _NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward","ortho" or "forward".')
    scaled = "forward" if forward else "backward"  # the norm that divides this direction by n
    norm = "backward" if norm is None else norm
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    return 1.0 / n if norm == scaled else 1.0


def _no_out(out: Any, fname: str) -> None:
    if out is not None:
        raise UnsupportedError(f"np.fft.{fname}(..., out=) is not supported", ctx.current_loc(),
                               "assign the result instead")


def _axis(axis: Any, ndim: int, fname: str) -> int:
    axis = _static_int(axis, "axis", fname)
    if ndim == 0:
        raise IndexError("tuple index out of range")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


# --- one axis --------------------------------------------------------------------------------
def _emit(name: str, x: Tracer, **attrs) -> Tracer:
    return sem.wrap(ctx.emit1(prim(name), [x.value], **attrs))


def _to_last(x: Tracer, axis: int) -> Tracer:
    if axis == x.ndim - 1:
        return x
    return sem.transpose(x, [a for a in range(x.ndim) if a != axis] + [axis])


def _from_last(x: Tracer, axis: int) -> Tracer:
    if axis == x.ndim - 1:
        return x
    perm = list(range(x.ndim - 1))
    perm.insert(axis, x.ndim - 1)
    return sem.transpose(x, perm)


def _resize_last(x: Tracer, n: int) -> Tracer:
    """x truncated or zero-padded to length n along its last axis."""
    m = x.shape[-1]
    if n < m:
        return x[(Ellipsis, slice(0, n))]
    if n > m:
        zeros = sem.full(tuple(x.shape[:-1]) + (n - m,), 0, x.dtype)
        return sem.concatenate([x, zeros], axis=-1)
    return x


def _padded_transform(name: str, x: Tracer, n: int, factor: float, **attrs) -> Tracer:
    """fft/rfft (ops/fft.py) of x's last axis truncated or zero-padded to n,
    scaled by the norm's factor: a padding and a scale are the primitive's
    own (one call of NumPy's, no padded copy, no pass over the result)."""
    if n < x.shape[-1]:
        x = _resize_last(x, n)
    if n != x.shape[-1]:
        attrs["n"] = n
    if factor != 1.0:
        attrs["scale"] = factor
    return _emit(name, x, **attrs)


def _transform(fname: str, a, axis, out) -> tuple[Tracer, int]:
    """The prologue every one-axis transform shares: the array and its normalized axis."""
    _no_out(out, fname)
    a = _tr(a)
    axis = _axis(axis, a.ndim, fname)
    return a, axis


def _c2c(fname: str, inverse: bool):
    def transform(a, n=None, axis=-1, norm=None, out=None):
        if not _any_traced(a, n, axis):
            return getattr(np.fft, fname)(a, n=n, axis=axis, norm=norm, out=out)
        a, axis = _transform(fname, a, axis, out)
        n = _check_n(a.shape[axis] if n is None else _static_int(n, "n", fname))
        factor = _norm_factor(norm, n, forward=not inverse)
        x = _to_last(sem.astype(a, complex_dtype(a.dtype)), axis)
        return _from_last(_padded_transform("fft", x, n, factor, inverse=inverse), axis)

    transform.__name__ = fname
    return transform


fft = _c2c("fft", False)
ifft = _c2c("ifft", True)


def rfft(a, n=None, axis=-1, norm=None, out=None):
    if not _any_traced(a, n, axis):
        return np.fft.rfft(a, n=n, axis=axis, norm=norm, out=out)
    a, axis = _transform("rfft", a, axis, out)
    if a.dtype.kind == "c":
        raise TypeError("ufunc 'rfft_n_even' not supported for the input types, and the inputs could not be "
                        "safely coerced to any supported types according to the casting rule ''safe''")
    n = _check_n(a.shape[axis] if n is None else _static_int(n, "n", "rfft"))
    factor = _norm_factor(norm, n, forward=True)
    x = _to_last(sem.astype(a, real_dtype(a.dtype)), axis)
    return _from_last(_padded_transform("rfft", x, n, factor), axis)


def irfft(a, n=None, axis=-1, norm=None, out=None):
    if not _any_traced(a, n, axis):
        return np.fft.irfft(a, n=n, axis=axis, norm=norm, out=out)
    a, axis = _transform("irfft", a, axis, out)
    n = _check_n(2 * (a.shape[axis] - 1) if n is None else _static_int(n, "n", "irfft"))
    factor = _norm_factor(norm, n, forward=False)
    x = _resize_last(_to_last(sem.astype(a, complex_dtype(a.dtype)), axis), n // 2 + 1)
    y = _emit("irfft", x, n=n, **({"scale": factor} if factor != 1.0 else {}))
    if a.dtype == np.float16:
        y = sem.astype(y, np.float16)
    return _from_last(y, axis)


# NumPy's `_swap_direction`: hfft/ihfft are irfft/rfft with the norm of the other direction
_SWAPPED = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _swap_direction(norm: Any) -> str:
    if norm not in _SWAPPED:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')
    return _SWAPPED[norm]


def hfft(a, n=None, axis=-1, norm=None, out=None):
    """The real spectrum of a Hermitian-symmetric signal: irfft(conj(a)) with
    the norm swapped, n = 2 (m - 1) by default (NumPy's own composition)."""
    if not _any_traced(a, n, axis):
        return np.fft.hfft(a, n=n, axis=axis, norm=norm, out=out)
    a, ax = _transform("hfft", a, axis, out)
    n = (a.shape[ax] - 1) * 2 if n is None else _static_int(n, "n", "hfft")
    new_norm = _swap_direction(norm)
    return irfft(nx.conjugate(a), n, ax, norm=new_norm)


def ihfft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of hfft: conj(rfft(a)) with the norm swapped."""
    if not _any_traced(a, n, axis):
        return np.fft.ihfft(a, n=n, axis=axis, norm=norm, out=out)
    a, ax = _transform("ihfft", a, axis, out)
    n = a.shape[ax] if n is None else _static_int(n, "n", "ihfft")
    new_norm = _swap_direction(norm)
    return nx.conjugate(rfft(a, n, ax, norm=new_norm))


# --- several axes -------------------------------------------------------------------------------
def _cook(a: Tracer, s, axes, inverse_real: bool, fname: str) -> tuple[list, list]:
    """NumPy's `_cook_nd_args`: the lengths and axes of an n-d transform."""
    if is_tracer(s) or is_tracer(axes):
        _static_int(s if is_tracer(s) else axes, "s and axes", fname)
    shapeless = s is None
    if axes is not None:
        axes = [_static_int(ax, "axes", fname) for ax in axes]
    if s is None:
        s = list(a.shape) if axes is None else [a.shape[ax] for ax in axes]
    s = [None if d is None else _static_int(d, "s", fname) for d in s]
    if axes is None:
        axes = list(range(-len(s), 0))
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    if inverse_real and shapeless:
        s[-1] = (a.shape[axes[-1]] - 1) * 2
    s = [a.shape[ax] if d in (-1, None) else d for d, ax in zip(s, axes)]
    return s, axes


def _nd(fname: str, apply, real_output: bool = False, default_axes=None):
    """np.fft.<fname>: the transform over several axes, `apply(a, s, axes,
    norm)` once NumPy's `s` and `axes` are read (`_cook`)."""
    def transform(a, s=None, axes=default_axes, norm=None, out=None):
        if not _any_traced(a, s, axes):
            return getattr(np.fft, fname)(a, s=s, axes=axes, norm=norm, out=out)
        _no_out(out, fname)
        a = _tr(a)
        s, axes = _cook(a, s, axes, real_output, fname)
        return apply(a, s, axes, norm)

    transform.__name__ = fname
    return transform


def _c2c_axes(one_axis):
    def apply(a, s, axes, norm):
        for ii in reversed(range(len(axes))):
            a = one_axis(a, n=s[ii], axis=axes[ii], norm=norm)
        return a

    return apply


def _rfft_axes(a, s, axes, norm):
    a = rfft(a, s[-1], axes[-1], norm)
    for ii in range(len(axes) - 2, -1, -1):
        a = fft(a, s[ii], axes[ii], norm)
    return a


def _irfft_axes(a, s, axes, norm):
    for ii in range(len(axes) - 1):
        a = ifft(a, s[ii], axes[ii], norm)
    return irfft(a, s[-1], axes[-1], norm)


# --- helpers ------------------------------------------------------------------------------------
def fftfreq(n, d=1.0, device=None):
    """NumPy's own formula: [0, 1, ..., -(n // 2), ..., -1] / (n d); n static, d may be traced."""
    if not _any_traced(n, d):
        return np.fft.fftfreq(n, d, device=device)
    n = _static_int(n, "n", "fftfreq")
    k = np.concatenate([np.arange(0, (n - 1) // 2 + 1), np.arange(-(n // 2), 0)]).astype(int)
    return sem.ufunc("multiply", k, sem.ufunc("divide", 1.0, sem.ufunc("multiply", n, d)))


def rfftfreq(n, d=1.0, device=None):
    if not _any_traced(n, d):
        return np.fft.rfftfreq(n, d, device=device)
    n = _static_int(n, "n", "rfftfreq")
    k = np.arange(0, n // 2 + 1, dtype=int)
    return sem.ufunc("multiply", k, sem.ufunc("divide", 1.0, sem.ufunc("multiply", n, d)))


def _shift(fname: str, sign: int):
    def shift(x, axes=None):
        if not _any_traced(x, axes):
            return getattr(np.fft, fname)(x, axes=axes)
        x = _tr(x)
        if axes is None:
            axes = tuple(range(x.ndim))
            amounts = [sign * (d // 2) for d in x.shape]
        elif isinstance(axes, (int, np.integer)) or is_tracer(axes):
            axes = _static_int(axes, "axes", fname)
            amounts = sign * (x.shape[axes] // 2)
        else:
            axes = [_static_int(ax, "axes", fname) for ax in axes]
            amounts = [sign * (x.shape[ax] // 2) for ax in axes]
        return nx.NAMESPACE["roll"](x, amounts, axes)

    shift.__name__ = fname
    return shift


TABLE: dict[str, Any] = {
    "fft": fft, "ifft": ifft, "rfft": rfft, "irfft": irfft, "hfft": hfft, "ihfft": ihfft,
    "fft2": _nd("fft2", _c2c_axes(fft), default_axes=(-2, -1)),
    "ifft2": _nd("ifft2", _c2c_axes(ifft), default_axes=(-2, -1)),
    "fftn": _nd("fftn", _c2c_axes(fft)), "ifftn": _nd("ifftn", _c2c_axes(ifft)),
    "rfft2": _nd("rfft2", _rfft_axes, default_axes=(-2, -1)),
    "irfft2": _nd("irfft2", _irfft_axes, real_output=True, default_axes=(-2, -1)),
    "rfftn": _nd("rfftn", _rfft_axes), "irfftn": _nd("irfftn", _irfft_axes, real_output=True),
    "fftfreq": fftfreq, "rfftfreq": rfftfreq,
    "fftshift": _shift("fftshift", 1), "ifftshift": _shift("ifftshift", -1),
}
