"""Which commonly used NumPy functions compile: each case is a small
function of random arrays, run plain and jitted on the interpreter and the
cpu backend; the table says ok, refused (the UnsupportedError's first line),
error (another exception) or wrong (a different result).

    python tools/numpy_survey.py [--backends interpret,cpu] [--only NAME,...]
"""
from __future__ import annotations

import argparse
import copy
import sys
import warnings

import numpy as np

import looptrace as lt

rng = np.random.default_rng(12345)
A = rng.standard_normal((5, 4))
B = rng.standard_normal((4, 4))
V = rng.standard_normal(6)
W = rng.standard_normal(6)
P3 = rng.standard_normal(3)
S = np.sort(rng.standard_normal(8))
I = rng.integers(-3, 4, (5, 4))
PH = np.cumsum(rng.uniform(-3, 3, 10))

CASES = {
    "gradient": (lambda v: np.gradient(v), (V,)),
    "gradient/2d-axis-spacing": (lambda a: np.gradient(a, 0.5, axis=1), (A,)),
    "gradient/edge_order2": (lambda v: np.gradient(v, edge_order=2), (V,)),
    "trapezoid": (lambda v, w: np.trapezoid(v, w), (V, np.sort(W))),
    "trapezoid/dx-axis": (lambda a: np.trapezoid(a, dx=0.3, axis=0), (A,)),
    "polyval": (lambda p, v: np.polyval(p, v), (P3, V)),
    "polyfit": (lambda v, w: np.polyfit(v, w, 2), (V, W)),
    "polyfit/w-full": (lambda v, w: np.polyfit(v, w, 1, w=np.abs(w) + 1, full=True)[:2], (V, W)),
    "polyder": (lambda p: np.polyder(p), (P3,)),
    "polyint": (lambda p: np.polyint(p), (P3,)),
    "searchsorted/left": (lambda s, v: np.searchsorted(s, v), (S, V)),
    "searchsorted/right": (lambda s, v: np.searchsorted(s, v, side="right"), (S, V)),
    "searchsorted/method": (lambda s, v: s.searchsorted(v, side="right"), (S, V)),
    "cross": (lambda a, b: np.cross(a, b), (rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))),
    "cross/2d": (lambda a, b: np.cross(a, b), (rng.standard_normal((4, 2)), rng.standard_normal((4, 2)))),
    "kron": (lambda a, b: np.kron(a, b), (A[:2, :3], B[:2, :2])),
    "outer": (lambda v, w: np.outer(v, w), (V, W)),
    "triu/k": (lambda a: np.triu(a, 1), (A,)),
    "tril/k": (lambda a: np.tril(a, -1), (A,)),
    "flip": (lambda a: np.flip(a, 1), (A,)),
    "rot90": (lambda a: np.rot90(a, 3), (A,)),
    "pad/constant": (lambda a: np.pad(a, ((1, 2), (0, 1)), constant_values=2.0), (A,)),
    "pad/edge": (lambda a: np.pad(a, 2, mode="edge"), (A,)),
    "pad/reflect": (lambda a: np.pad(a, 2, mode="reflect"), (A,)),
    "pad/wrap": (lambda a: np.pad(a, 1, mode="wrap"), (A,)),
    "pad/linear_ramp": (lambda a: np.pad(a, 1, mode="linear_ramp"), (A,)),
    "pad/mean": (lambda a: np.pad(a, 1, mode="mean"), (A,)),
    "pad/linear_ramp-end_values": (lambda a: np.pad(a, ((2, 1), (0, 3)), mode="linear_ramp", end_values=(1.5, -2)), (A,)),
    "pad/maximum-stat_length": (lambda a: np.pad(a, 2, mode="maximum", stat_length=2), (A,)),
    "pad/minimum": (lambda a: np.pad(a, (1, 2), mode="minimum"), (A,)),
    "pad/median": (lambda a: np.pad(a, 1, mode="median"), (A,)),
    "pad/mean-int": (lambda i: np.pad(i, 2, mode="mean", stat_length=3), (I,)),
    "take_along_axis": (lambda a: np.take_along_axis(a, np.argsort(a, axis=0), axis=0), (A,)),
    "put_along_axis": (lambda a: _put_along(a), (A,)),
    "put_along_axis/values": (lambda a, v: _put_along_values(a, v), (A, V)),
    "einsum/ij,jk": (lambda a, b: np.einsum("ij,jk->ik", a, b), (A, B)),
    "einsum/trace": (lambda b: np.einsum("ii", b), (B,)),
    "einsum/batch": (lambda a: np.einsum("bi,bj->bij", a, a), (A,)),
    "einsum/ellipsis": (lambda a, b: np.einsum("...j,jk", a, b), (A, B)),
    "einsum/optimize": (lambda a, b: np.einsum("ij,jk,kl->il", a, b, b, optimize=True), (A, B)),
    "argmax/axis": (lambda a: np.argmax(a, axis=1), (A,)),
    "argmin/keepdims": (lambda a: np.argmin(a, axis=0, keepdims=True), (A,)),
    "count_nonzero/axis": (lambda i: np.count_nonzero(i, axis=0), (I,)),
    "isclose": (lambda a, b: np.isclose(a, a + 1e-9 * b[0, 0]), (A, B)),
    "allclose": (lambda a: np.allclose(a, a * (1 + 1e-10)), (A,)),
    "unwrap": (lambda p: np.unwrap(p), (PH,)),
    "unwrap/period": (lambda p: np.unwrap(p, period=4.0), (PH,)),
    "ediff1d": (lambda v: np.ediff1d(v), (V,)),
    "ediff1d/to_end": (lambda v: np.ediff1d(v, to_begin=[0.5], to_end=[1.0, 2.0]), (V,)),
    "digitize": (lambda v, s: np.digitize(v, s), (V, S)),
    "digitize/right": (lambda v, s: np.digitize(v, s, right=True), (V, S)),
    "round/decimals": (lambda a: np.round(a * 100, 2), (A,)),
    "nan_to_num": (lambda a: np.nan_to_num(np.log(a)), (A,)),
    "select": (lambda a: np.select([a < -0.5, a > 0.5], [a * 2, a * 3], default=-1.0), (A,)),
    "piecewise": (lambda a: np.piecewise(a, [a < 0, a >= 0], [lambda x: -x, lambda x: x * 2]), (A,)),
    "apply_along_axis": (lambda a: np.apply_along_axis(lambda r: r.sum() * 2, 1, a), (A,)),
    "apply_along_axis/vector": (lambda a: np.apply_along_axis(lambda r: np.sort(r)[::-1] * r[0], 0, a), (A,)),
    "piecewise/constant": (lambda v: np.piecewise(v, [v < -0.5, v > 0.5], [np.sin, 2.0, lambda x: x ** 2]), (V,)),
    "vander": (lambda v: np.vander(v, 3), (V,)),
    "vander/increasing": (lambda v: np.vander(v, increasing=True), (V,)),
    "corrcoef": (lambda a: np.corrcoef(a), (A,)),
    "cov": (lambda a: np.cov(a, rowvar=False), (A,)),
    "ptp": (lambda a: np.ptp(a, axis=0), (A,)),
    "quantile": (lambda a: np.quantile(a, [0.1, 0.5, 0.9], axis=0), (A,)),
    "quantile/method": (lambda v: np.quantile(v, 0.3, method="nearest"), (V,)),
    "percentile": (lambda v: np.percentile(v, 75), (V,)),
    "median/axis": (lambda a: np.median(a, axis=1), (A,)),
    "cumsum/axis": (lambda a: np.cumsum(a, axis=1), (A,)),
    "cumprod/axis": (lambda a: np.cumprod(a, axis=0), (A,)),
    "logaddexp": (lambda a, b: np.logaddexp(a, b[0]), (A, B)),
    "logaddexp2": (lambda a, b: np.logaddexp2(a, b[0]), (A, B)),
    "sinc": (lambda a: np.sinc(a), (A,)),
    "heaviside": (lambda a: np.heaviside(a, 0.5), (A,)),
    "i0": (lambda a: np.i0(a), (A,)),
    "clip": (lambda a: np.clip(a, -0.5, 0.5), (A,)),
    "interp": (lambda v, s: np.interp(v, s, s ** 2), (V, S)),
    "convolve/same": (lambda v, w: np.convolve(v, w[:3], mode="same"), (V, W)),
    "histogram": (lambda v: np.histogram(v, bins=4, range=(-3, 3))[0], (V,)),
    "bincount/minlength": (lambda i: np.bincount(np.abs(i).ravel(), minlength=5), (I,)),
    "diff/n": (lambda a: np.diff(a, n=2, axis=0), (A,)),
    "roll/axis": (lambda a: np.roll(a, 2, axis=1), (A,)),
    "tile": (lambda a: np.tile(a, (2, 1)), (A,)),
    "repeat/axis": (lambda a: np.repeat(a, 2, axis=0), (A,)),
    "linspace": (lambda v: np.linspace(v[0], v[1], 7), (V,)),
    "meshgrid": (lambda v, w: np.meshgrid(v, w)[0] * 2, (V, W)),
    "where/3arg": (lambda a: np.where(a > 0, a, 0.0), (A,)),
    "sort/axis": (lambda a: np.sort(a, axis=0), (A,)),
    "argsort": (lambda a: np.argsort(a, axis=1, kind="stable"), (A,)),
    "partition": (lambda a: np.partition(a, 2, axis=1), (A,)),
    "argpartition": (lambda a: np.argpartition(a, [0, 3]), (A,)),
    "fft.hfft": (lambda v: np.fft.hfft(v), (V,)),
    "fft.ihfft": (lambda v: np.fft.ihfft(v), (V,)),
    "linalg.norm/axis": (lambda a: np.linalg.norm(a, axis=1), (A,)),
    "linalg.solve": (lambda b, v: np.linalg.solve(b + 4 * np.eye(4), v[:4]), (B, V)),
    "linalg.eig": (lambda b: np.linalg.eig(b)[0], (B,)),
    "linalg.eigvals": (lambda b: np.linalg.eigvals(b), (B,)),
    "linalg.lstsq": (lambda a, v: np.linalg.lstsq(a, v[:5])[0], (A, V)),
    "linalg.multi_dot": (lambda a, b: np.linalg.multi_dot([a, b, b]), (A, B)),
    "linalg.matrix_power": (lambda b: np.linalg.matrix_power(b, 3), (B,)),
    "linalg.cond": (lambda b: np.linalg.cond(b), (B,)),
    "linalg.cond/p": (lambda b: np.linalg.cond(b, 1) + np.linalg.cond(b, np.inf) + np.linalg.cond(b, "fro"), (B,)),
    "linalg.multi_dot/vectors": (lambda a, b, v: np.linalg.multi_dot([v[:5], a, b, b, v[:4]]), (A, B, V)),
    "linalg.tensorsolve": (lambda b, v: np.linalg.tensorsolve(b + 4 * np.eye(4), v[:4]), (B, V)),
    "nanmean/axis": (lambda a: np.nanmean(np.where(a > 1.5, np.nan, a), axis=0), (A,)),
    "nanargmax": (lambda a: np.nanargmax(a, axis=1), (A,)),
    "average/weights": (lambda a, v: np.average(a, axis=0, weights=v[:5]), (A, V)),
    "maximum.reduce": (lambda a: np.maximum.reduce(a, axis=1), (A,)),
    "cumulative_sum": (lambda a: np.cumulative_sum(a, axis=0), (A,)),
    "diag/k": (lambda b: np.diag(b, 1), (B,)),
    "diagonal": (lambda b: np.diagonal(b, 1), (B,)),
    "trace/offset": (lambda b: np.trace(b, 1), (B,)),
    "triu_indices": (lambda b: b[np.triu_indices(4, 1)], (B,)),
    "tensordot": (lambda a, b: np.tensordot(a, b, axes=([1], [0])), (A, B)),
    "inner": (lambda a, b: np.inner(a, b), (A, B)),
    "stack/axis": (lambda a: np.stack([a, a * 2], axis=2), (A,)),
    "split": (lambda v: np.split(v, 3)[1], (V,)),
    "array_split": (lambda v: np.array_split(v, 4)[1], (V,)),
    "atleast_3d": (lambda a: np.atleast_3d(a), (A,)),
    "squeeze/expand": (lambda a: np.squeeze(np.expand_dims(a, 0), 0), (A,)),
    "real_if_close": (lambda a: np.real_if_close(a + 0j), (A,)),
    "copysign": (lambda a, b: np.copysign(a, b[0]), (A, B)),
    "hypot": (lambda a, b: np.hypot(a, b[0]), (A, B)),
    "arctan2": (lambda a, b: np.arctan2(a, b[0]), (A, B)),
    "frexp": (lambda a: np.frexp(a)[0], (A,)),
    "frexp/exponent": (lambda a: np.frexp(a * 1e5)[1], (A,)),
    "ldexp": (lambda a, i: np.ldexp(a, i), (A, I)),
    "spacing/float32": (lambda a: np.spacing(a.astype(np.float32)), (A,)),
    "nextafter/array": (lambda a, b: np.nextafter(a, b[0]), (A, B)),
    "spacing": (lambda a: np.spacing(a), (A,)),
    "nextafter": (lambda a: np.nextafter(a, 0.0), (A,)),
    "cbrt": (lambda a: np.cbrt(a), (A,)),
    "exp2/log1p/expm1": (lambda a: np.exp2(a) + np.log1p(np.abs(a)) + np.expm1(a), (A,)),
    "sign/signbit": (lambda a: np.sign(a) + np.signbit(a), (A,)),
    "mod/fmod": (lambda a: np.mod(a, 0.7) + np.fmod(a, 0.7), (A,)),
    "floor_divide": (lambda a: np.floor_divide(a, 0.3), (A,)),
    "isin": (lambda i: np.isin(i, [0, 2]), (I,)),
    "unique": (lambda i: np.unique(i), (I,)),
    "nonzero": (lambda i: np.nonzero(i), (I,)),
    "argwhere": (lambda i: np.argwhere(i), (I,)),
    "flatnonzero": (lambda i: np.flatnonzero(i), (I,)),
    "histogram_bin_edges": (lambda v: np.histogram_bin_edges(v, bins=4, range=(-3, 3)), (V,)),
    "correlate/full": (lambda v, w: np.correlate(v, w, mode="full"), (V, W)),
    "sliding_window_view": (lambda v: np.lib.stride_tricks.sliding_window_view(v, 3).sum(axis=1), (V,)),
    "roots": (lambda p: np.roots(p), (P3,)),
    "poly": (lambda p: np.poly(p), (P3,)),
    "logspace": (lambda v: np.logspace(0.0, v[0], 5), (V,)),
    "logspace/base-axis": (lambda v: np.logspace(v[:2], 1.0, 4, base=2.0, axis=1), (V,)),
    "geomspace/negative": (lambda v: np.geomspace(-1.0 - v[0] ** 2, -5.0, 4, endpoint=False), (V,)),
    "geomspace": (lambda v: np.geomspace(1.0, 2.0 + v[0] ** 2, 5), (V,)),
    "tri": (lambda a: np.tri(5, 4, 1) * a, (A,)),
    "identity*": (lambda b: np.identity(4) * b, (B,)),
    "lexsort": (lambda v, w: np.lexsort((v, w)), (V, W)),
    "max/where": (lambda a: np.max(a, axis=0, where=a > 0, initial=-1.0), (A,)),
    "nanmedian": (lambda a: np.nanmedian(a, axis=0), (A,)),
    "nanquantile": (lambda a: np.nanquantile(a, 0.3, axis=0), (A,)),
    "nanpercentile": (lambda a: np.nanpercentile(a, 30), (A,)),
    "fabs/deg2rad": (lambda a: np.deg2rad(np.fabs(a)), (A,)),
    "around": (lambda a: np.around(a, 1), (A,)),
    "fix": (lambda a: np.fix(a * 3), (A,)),
    "trim_zeros": (lambda v: np.trim_zeros(v), (V,)),
    "resize": (lambda v: np.resize(v, 9), (V,)),
    "matrix_transpose": (lambda a: np.matrix_transpose(a), (A,)),
    "vecdot": (lambda a: np.vecdot(a, a), (A,)),
    "linalg.vector_norm": (lambda a: np.linalg.vector_norm(a, axis=0), (A,)),
    "linalg.matrix_norm": (lambda b: np.linalg.matrix_norm(b), (B,)),
    "linalg.outer": (lambda v, w: np.linalg.outer(v, w), (V, W)),
    "linalg.cross": (lambda a, b: np.linalg.cross(a, b), (A[:, :3], A[:, 1:])),
    "linalg.trace": (lambda b: np.linalg.trace(b), (B,)),
    "linalg.diagonal": (lambda b: np.linalg.diagonal(b), (B,)),
    "linalg.vecdot": (lambda a: np.linalg.vecdot(a, a), (A,)),
    "linalg.matmul": (lambda a, b: np.linalg.matmul(a, b), (A, B)),
}


def _put_along(a):
    out = a.copy()
    np.put_along_axis(out, np.argmax(a, axis=1)[:, None], 0.0, axis=1)
    return out


def _put_along_values(a, v):
    out = a.copy()
    np.put_along_axis(out, np.argsort(a, axis=0)[:2], v[:4], axis=0)
    return out


# --- s25: the rest of NumPy's public surface a scientific kernel calls on arrays --------------------------
C = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
SPD = B @ B.T + 4 * np.eye(4)
A3 = rng.standard_normal((2, 3, 4))
POS = np.abs(A) + 0.5
U = rng.uniform(-0.9, 0.9, (5, 4))
NANA = np.where(A > 1.0, np.nan, A)
IW = rng.integers(1, 4, 6)


def _ufunc_out(a, b):
    out = np.empty_like(a)
    np.add(a, b[0], out=out)
    return out


def _divide_where(a, b):
    return np.divide(a, b[0], out=np.zeros_like(a), where=b[0] > 0)


def _fill(a):
    b = a.copy()
    b.fill(2.5)
    return b


def _fill_diagonal(b):
    c = b.copy()
    np.fill_diagonal(c, 3.0)
    return c


def _put(a):
    b = a.copy()
    np.put(b, [0, 5, 7], [1.0, 2.0, 3.0])
    return b


def _place(a):
    b = a.copy()
    np.place(b, b > 0, [9.0, 8.0])
    return b


def _putmask(a):
    b = a.copy()
    np.putmask(b, b > 0, -b)
    return b


def _copyto(a):
    b = np.zeros_like(a)
    np.copyto(b, a, where=a > 0)
    return b


def _sort_inplace(a):
    b = a.copy()
    b.sort(axis=0)
    return b


def _sum_out(a):
    out = np.empty(4)
    np.sum(a, axis=0, out=out)
    return out


def _cumsum_out(a):
    out = np.empty_like(a)
    np.cumsum(a, axis=1, out=out)
    return out


def _matmul_out(a, b):
    out = np.empty((5, 4))
    np.matmul(a, b, out=out)
    return out


def _add_at(v):
    out = np.zeros(3)
    np.add.at(out, [0, 1, 0, 2, 2, 2], v)
    return out


def _method_put(a):
    b = a.copy()
    b.put([1, 3], [5.0, 6.0])
    return b


S25_CASES = {
    # elementwise ufuncs and their aliases
    "trig": (lambda u: np.sin(u) + np.cos(u) + np.tan(u) + np.arcsin(u) + np.arccos(u) + np.arctan(u), (U,)),
    "hyperbolic": (lambda u: np.sinh(u) + np.cosh(u) + np.tanh(u) + np.arcsinh(u) + np.arctanh(u) + np.arccosh(2 + u), (U,)),
    "array-api-aliases": (lambda u: np.acos(u) + np.asin(u) + np.atan(u) + np.atan2(u, 1.5) + np.acosh(2 + u) + np.asinh(u) + np.atanh(u) + np.pow(2 + u, 1.5), (U,)),
    "exp/log": (lambda p: np.exp(p) + np.log(p) + np.log2(p) + np.log10(p) + np.sqrt(p) + np.square(p) + np.reciprocal(p), (POS,)),
    "rounding": (lambda a: np.rint(a * 3) + np.floor(a * 3) + np.ceil(a * 3) + np.trunc(a * 3), (A,)),
    "minmax-ufuncs": (lambda a, b: np.maximum(a, b[0]) + np.minimum(a, b[0]) + np.fmax(a, np.nan) + np.fmin(a, b[1]), (A, B)),
    "float_power": (lambda p: np.float_power(p, 2.5), (POS,)),
    "float_power/int": (lambda i: np.float_power(i, 2), (I,)),
    "power/int": (lambda i: np.power(np.abs(i), 3), (I,)),
    "divmod": (lambda a: np.divmod(a, 0.7), (A,)),
    "modf": (lambda a: np.modf(a * 3), (A,)),
    "remainder/int": (lambda i: np.remainder(i, 3) + np.fmod(i, 3), (I,)),
    "gcd/lcm": (lambda i: np.gcd(i, 6) + np.lcm(i, 4), (I,)),
    "logical": (lambda a: np.logical_and(a > 0, a < 1) ^ np.logical_or(a < -1, a > 1) | np.logical_xor(a > 0, a > 0.5) | np.logical_not(a > 0), (A,)),
    "bitwise": (lambda i: np.bitwise_and(i, 3) + np.bitwise_or(i, 4) + np.bitwise_xor(i, 5) + np.invert(i) + np.left_shift(np.abs(i), 2) + np.right_shift(np.abs(i), 1), (I,)),
    "bitwise-aliases": (lambda i: np.bitwise_not(i) + np.bitwise_invert(i) + np.bitwise_left_shift(np.abs(i), 1) + np.bitwise_right_shift(np.abs(i), 1), (I,)),
    "bitwise_count": (lambda i: np.bitwise_count(i), (I,)),
    "comparisons": (lambda a, b: np.greater(a, b[0]) & np.less_equal(a, 0.5) | np.equal(a, a) & np.not_equal(a, 0) | np.greater_equal(a, 0) & np.less(a, 1), (A, B)),
    "isnan/isinf/isfinite": (lambda a: np.isnan(np.log(a)) | np.isinf(1 / (a * 0)) | ~np.isfinite(a), (A,)),
    "isposinf/isneginf": (lambda a: np.isposinf(1 / a * 1e308 * 1e10) | np.isneginf(np.log(np.abs(a) * 0)), (A,)),
    "complex-parts": (lambda c: np.real(c) + np.imag(c) + np.angle(c) + np.abs(c) + np.conj(c).real, (C,)),
    "angle/deg": (lambda c: np.angle(c, deg=True), (C,)),
    "iscomplex/isreal": (lambda c: np.iscomplex(c) ^ np.isreal(c.real + 0j), (C,)),
    "iscomplexobj/isrealobj": (lambda c, a: np.array([np.iscomplexobj(c), np.isrealobj(a)]), (C, A)),
    "degrees/radians": (lambda a: np.degrees(a) + np.radians(a) + np.rad2deg(a), (A,)),
    "negative/positive": (lambda a: np.negative(a) + np.positive(a), (A,)),
    "sign/int": (lambda i: np.sign(i), (I,)),
    "abs/int": (lambda i: np.abs(i) + np.absolute(i), (I,)),
    "ufunc/dtype": (lambda a: np.add(a, 1, dtype=np.float32), (A,)),
    "ufunc/out": (_ufunc_out, (A, B)),
    "ufunc/where-out": (_divide_where, (A, B)),
    "nan_to_num/kw": (lambda a: np.nan_to_num(np.log(a), nan=-1.0, neginf=-9.0, posinf=9.0), (A,)),
    "clip/arrays": (lambda a, b: np.clip(a, b[0], None), (A, B)),
    "clip/min-max-kw": (lambda a: np.clip(a, min=-0.5, max=0.5), (A,)),
    "round/negative-decimals": (lambda a: np.round(a * 1000, -1), (A,)),
    "ldexp/float": (lambda a: np.ldexp(a, 3), (A,)),
    "sqrt/complex": (lambda c: np.sqrt(c) + np.exp(c) + np.log(c), (C,)),
    "emath.sqrt": (lambda a: np.emath.sqrt(a), (A,)),
    "emath.log": (lambda p: np.emath.log(p), (POS,)),
    "emath.logn": (lambda p: np.emath.logn(3, p), (POS,)),
    # reductions and their keywords
    "sum/keepdims-dtype": (lambda a: np.sum(a, axis=1, keepdims=True, dtype=np.float32), (A,)),
    "sum/where": (lambda a: np.sum(a, axis=0, where=a > 0), (A,)),
    "sum/tuple-axis": (lambda a3: np.sum(a3, axis=(0, 2)), (A3,)),
    "sum/out": (_sum_out, (A,)),
    "prod/axis": (lambda a: np.prod(a, axis=0), (A,)),
    "mean/where-keepdims": (lambda a: np.mean(a, axis=1, where=a > -1, keepdims=True), (A,)),
    "std/ddof": (lambda a: np.std(a, axis=0, ddof=1), (A,)),
    "var/ddof-keepdims": (lambda a: np.var(a, axis=1, ddof=1, keepdims=True), (A,)),
    "std/where": (lambda a: np.std(a, where=a > -1), (A,)),
    "var/mean-kw": (lambda a: np.var(a, axis=0, mean=np.mean(a, axis=0, keepdims=True)), (A,)),
    "std/correction": (lambda a: np.std(a, correction=1), (A,)),
    "amax/amin": (lambda a: np.amax(a, axis=0) - np.amin(a, axis=1).sum(), (A,)),
    "all/any/axis": (lambda a: np.all(a > -2, axis=0) & np.any(a > 1, axis=0, keepdims=True)[0], (A,)),
    "nansum/nanprod": (lambda x: np.nansum(x, axis=0) + np.nanprod(x, axis=1).sum(), (NANA,)),
    "nanmax/nanmin": (lambda x: np.nanmax(x, axis=0) + np.nanmin(x), (NANA,)),
    "nanstd/nanvar": (lambda x: np.nanstd(x, axis=0, ddof=1) + np.nanvar(x), (NANA,)),
    "nancumsum/nancumprod": (lambda x: np.nancumsum(x, axis=1) + np.nancumprod(x, axis=0), (NANA,)),
    "nanargmin": (lambda x: np.nanargmin(x, axis=0), (NANA,)),
    "nanmean/keepdims": (lambda x: np.nanmean(x, axis=1, keepdims=True), (NANA,)),
    "median/keepdims": (lambda a: np.median(a, axis=0, keepdims=True), (A,)),
    "average/returned": (lambda a, v: np.average(a, axis=1, weights=v[:4], returned=True), (A, V)),
    "average/keepdims": (lambda a: np.average(a, axis=0, keepdims=True), (A,)),
    "percentile/axis-keepdims": (lambda a: np.percentile(a, [25, 75], axis=1, keepdims=True), (A,)),
    "quantile/weights": (lambda v, w: np.quantile(v, 0.4, weights=np.abs(w), method="inverted_cdf"), (V, W)),
    "cumsum/dtype": (lambda i: np.cumsum(i, dtype=np.float64), (I,)),
    "cumsum/out": (_cumsum_out, (A,)),
    "cumulative_prod": (lambda a: np.cumulative_prod(a, axis=1, include_initial=True), (A,)),
    "count_nonzero/keepdims": (lambda i: np.count_nonzero(i, axis=1, keepdims=True), (I,)),
    "ptp/keepdims": (lambda a: np.ptp(a, axis=1, keepdims=True), (A,)),
    "argmax/flat": (lambda a: np.argmax(a), (A,)),
    "add.reduce/keepdims": (lambda a: np.add.reduce(a, axis=1, keepdims=True), (A,)),
    "multiply.outer": (lambda v, w: np.multiply.outer(v, w), (V, W)),
    "add.accumulate": (lambda a: np.add.accumulate(a, axis=1), (A,)),
    "minimum.accumulate": (lambda v: np.minimum.accumulate(v), (V,)),
    "add.reduceat": (lambda v: np.add.reduceat(v, [0, 2, 5]), (V,)),
    "logaddexp.reduce": (lambda a: np.logaddexp.reduce(a * 30, axis=0), (A,)),
    "logaddexp2.reduce/keepdims": (lambda a: np.logaddexp2.reduce(a, axis=1, keepdims=True), (A,)),
    "fmax.reduce/nan": (lambda x: np.fmax.reduce(x, axis=0) + np.fmin.reduce(x, axis=1).sum(), (NANA,)),
    "bitwise_or.reduce": (lambda i: np.bitwise_or.reduce(i, axis=1) + np.bitwise_xor.reduce(i, axis=0).sum(), (I,)),
    "logical_xor.reduce": (lambda a: np.logical_xor.reduce(a > 0, axis=0), (A,)),
    "frexp.outer/logaddexp2.outer": (lambda v, w: np.logaddexp2.outer(v, w), (V, W)),
    "add.reduceat/traced-indptr": (lambda v, p: np.add.reduceat(v, p[:-1]), (V, np.array([0, 2, 2, 5, 6]))),
    "maximum.reduceat/axis": (lambda a: np.maximum.reduceat(a, [0, 3, 1], axis=0), (A,)),
    "add.at": (_add_at, (V,)),
    # shape and layout
    "reshape/order-F": (lambda a: np.reshape(a, (4, 5), order="F"), (A,)),
    "ravel/order-F": (lambda a: np.ravel(a, order="F"), (A,)),
    "transpose/axes": (lambda a3: np.transpose(a3, (2, 0, 1)), (A3,)),
    "permute_dims": (lambda a3: np.permute_dims(a3, (1, 2, 0)), (A3,)),
    "moveaxis/multi": (lambda a3: np.moveaxis(a3, [0, 1], [-1, -2]), (A3,)),
    "rollaxis": (lambda a3: np.rollaxis(a3, 2), (A3,)),
    "swapaxes": (lambda a3: np.swapaxes(a3, 0, 2), (A3,)),
    "expand_dims/tuple": (lambda a: np.expand_dims(a, (0, 3)), (A,)),
    "squeeze/all": (lambda a: np.squeeze(a[None, :, None]), (A,)),
    "concatenate/axis-None": (lambda a, b: np.concatenate([a, b], axis=None), (A, B)),
    "concatenate/dtype": (lambda a, i: np.concatenate([a, i], dtype=np.float32), (A, I)),
    "concat": (lambda a, b: np.concat([a, b]), (A, B)),
    "vstack/hstack": (lambda a, b: np.vstack([a, b]).sum() + np.hstack([a[:4], b]), (A, B)),
    "dstack/column_stack": (lambda v, w: np.dstack([v, w]).sum(axis=2) + np.column_stack([v, w]).T.sum(axis=0), (V, W)),
    "row_stack": (lambda v, w: np.vstack((v, w)), (V, W)),
    "block": (lambda a, b: np.block([[b, b], [a[:4], b]]), (A, B)),
    "hsplit/vsplit": (lambda b: np.hsplit(b, 2)[1] + np.vsplit(b, [1, 3])[1].T, (B,)),
    "dsplit": (lambda a3: np.dsplit(a3, 2)[0], (A3,)),
    "unstack": (lambda a: np.unstack(a, axis=1)[2], (A,)),
    "tile/int": (lambda v: np.tile(v, 3), (V,)),
    "repeat/array": (lambda v: np.repeat(v, [1, 2, 0, 1, 3, 1]), (V,)),
    "repeat/traced-counts": (lambda v, iw: np.repeat(v, iw), (V, IW)),
    "fliplr/flipud": (lambda a: np.fliplr(a) + np.flipud(a), (A,)),
    "flip/none": (lambda a: np.flip(a), (A,)),
    "roll/tuple": (lambda a: np.roll(a, (1, -2), axis=(0, 1)), (A,)),
    "roll/flat": (lambda a: np.roll(a, 3), (A,)),
    "rot90/axes": (lambda a3: np.rot90(a3, 1, axes=(1, 2)), (A3,)),
    "broadcast_to": (lambda v: np.broadcast_to(v, (3, 6)) * 1.0, (V,)),
    "broadcast_arrays": (lambda v, a: np.broadcast_arrays(v[:4], a)[0] * 1.0, (V, A)),
    "atleast_1d/2d": (lambda a: np.atleast_2d(a[0, 0]) + np.atleast_1d(a[0, 0]), (A,)),
    "append": (lambda v, w: np.append(v, w), (V, W)),
    "append/axis": (lambda a, b: np.append(a, b, axis=0), (A, B)),
    "insert": (lambda v: np.insert(v, 2, 9.0), (V,)),
    "insert/axis-array": (lambda a, v: np.insert(a, [1, 3], v[:5, None], axis=1), (A, V)),
    "delete": (lambda v: np.delete(v, [0, 3]), (V,)),
    "delete/axis-slice": (lambda a: np.delete(a, slice(0, 4, 2), axis=0), (A,)),
    "resize/2d": (lambda a: np.resize(a, (3, 7)), (A,)),
    "diagflat": (lambda v: np.diagflat(v[:3], 1), (V,)),
    "diag/vector": (lambda v: np.diag(v, -1), (V,)),
    "take/axis": (lambda a: np.take(a, [0, 2, 2], axis=1), (A,)),
    "take/flat": (lambda a: np.take(a, [0, 7, -1]), (A,)),
    "take/mode-clip": (lambda a: np.take(a, [0, 9, -3], axis=1, mode="clip"), (A,)),
    "take/mode-wrap": (lambda a: np.take(a, [0, 9, -7], axis=0, mode="wrap"), (A,)),
    "take/method": (lambda a, i: a.take(np.abs(i[0]), axis=0), (A, I)),
    "choose": (lambda i, a: np.choose(np.abs(i) % 3, [a, a * 2, -a]), (I, A)),
    "compress/static": (lambda a: np.compress([True, False, True, True], a, axis=1), (A,)),
    "compress/traced": (lambda a: np.compress(a[:, 0] > 0, a, axis=0), (A,)),
    "extract": (lambda a: np.extract(a > 0, a), (A,)),
    "put": (_put, (A,)),
    "place": (_place, (A,)),
    "putmask": (_putmask, (A,)),
    "copyto/where": (_copyto, (A,)),
    "fill_diagonal": (_fill_diagonal, (B,)),
    "diag_indices": (lambda b: b[np.diag_indices(4)], (B,)),
    "diag_indices_from": (lambda b: b[np.diag_indices_from(b)], (B,)),
    "tril_indices_from": (lambda b: b[np.tril_indices_from(b, -1)], (B,)),
    "triu_indices_from": (lambda b: b[np.triu_indices_from(b)], (B,)),
    "tril_indices": (lambda b: b[np.tril_indices(4)], (B,)),
    "ix_": (lambda a: a[np.ix_([0, 2, 4], [1, 3])], (A,)),
    "indices": (lambda a: np.indices(a.shape)[0] * a, (A,)),
    "mgrid/ogrid": (lambda a: np.mgrid[0:5, 0:4][1] * a + np.ogrid[0:5, 0:4][0], (A,)),
    "unravel_index": (lambda a: np.unravel_index(np.argmax(a), a.shape), (A,)),
    "ravel_multi_index": (lambda i: np.ravel_multi_index((np.abs(i[0]), np.abs(i[1])), (4, 4)), (I,)),
    "fromfunction": (lambda a: np.fromfunction(lambda i, j: i + 2 * j, (5, 4)) * a, (A,)),
    "array/list-of-traced": (lambda v: np.array([v[0], v[1] * 2, 3.0]), (V,)),
    "asarray/dtype": (lambda i: np.asarray(i, dtype=np.float64), (I,)),
    "ascontiguousarray": (lambda a: np.ascontiguousarray(a.T), (A,)),
    "asfortranarray": (lambda a: np.asfortranarray(a) * 2, (A,)),
    "asarray_chkfinite": (lambda a: np.asarray_chkfinite(a), (A,)),
    "require": (lambda a: np.require(a, dtype=np.float64), (A,)),
    "copy": (lambda a: np.copy(a), (A,)),
    "zeros_like/dtype": (lambda a: np.zeros_like(a, dtype=np.int32) + np.ones_like(a, shape=(4,)).sum(), (A,)),
    "full_like": (lambda a: np.full_like(a, 2.5) + np.full(a.shape, 1.0), (A,)),
    "empty_like": (lambda a: np.empty_like(a).shape[0] * a, (A,)),
    "arange/traced": (lambda v: np.arange(6) * v, (V,)),
    "linspace/retstep": (lambda v: np.linspace(v[0], v[1], 5, retstep=True), (V,)),
    "linspace/endpoint-dtype": (lambda v: np.linspace(v[0], v[1], 5, endpoint=False, dtype=np.float32), (V,)),
    "eye/k": (lambda b: np.eye(4, k=1) * b, (B,)),
    "astype": (lambda a: np.astype(a, np.int32), (A,)),
    "trim_zeros/static": (lambda v: np.trim_zeros(np.array([0.0, 1.0, 0.0])) * v[0], (V,)),
    "meshgrid/ij-sparse": (lambda v, w: np.meshgrid(v, w[:3], indexing="ij", sparse=True)[1] * 2, (V, W)),
    "array_equal": (lambda a: np.array_equal(a, a * 1.0), (A,)),
    "array_equiv": (lambda a: np.array_equiv(a, a[0]), (A,)),
    "isclose/kw": (lambda a: np.isclose(a, a + 1e-6, rtol=0, atol=1e-5, equal_nan=True), (A,)),
    "sort_complex": (lambda v: np.sort_complex(v), (V,)),
    "result_type/promote": (lambda a, i: a.astype(np.result_type(a, i)) + np.promote_types(a.dtype, np.float32).itemsize, (A, I)),
    "can_cast/issubdtype": (lambda a: a * float(np.issubdtype(a.dtype, np.floating)) + float(np.can_cast(a.dtype, np.float32)), (A,)),
    "shape/ndim/size": (lambda a: a * np.shape(a)[0] + np.ndim(a) + np.size(a, 0), (A,)),
    "isscalar": (lambda a: a * float(np.isscalar(a)), (A,)),
    "may_share_memory": (lambda a: np.may_share_memory(a, a[0]), (A,)),
    # ndarray methods and attributes
    "method/reductions": (lambda a: a.sum(axis=0) + a.mean(axis=0) + a.std(axis=0, ddof=1) + a.var(axis=0) + a.max(axis=0) + a.min(axis=0) + a.prod(axis=0), (A,)),
    "method/arg-cum": (lambda a: a.argmax(axis=1) + a.argmin(axis=1) + a.cumsum(axis=1)[:, 0] + a.cumprod(axis=1)[:, 0], (A,)),
    "method/all-any": (lambda a: (a > -2).all(axis=0) & (a > 1).any(axis=0), (A,)),
    "method/shape": (lambda a: a.reshape(4, 5).T.ravel() + a.flatten() + a.transpose(1, 0).reshape(-1) + a.swapaxes(0, 1).ravel(), (A,)),
    "method/squeeze-astype-copy": (lambda a: a[None].squeeze(0).astype(np.float32).copy(), (A,)),
    "method/clip-round": (lambda a: a.clip(-0.5, 0.5) + a.round(1), (A,)),
    "method/dot": (lambda a, b: a.dot(b), (A, B)),
    "method/sort-inplace": (_sort_inplace, (A,)),
    "method/fill": (_fill, (A,)),
    "method/take-repeat": (lambda a: a.take([0, 2], axis=0).repeat(2, axis=1), (A,)),
    "method/diagonal-trace": (lambda b: b.diagonal().sum() + b.trace(), (B,)),
    "method/conj-real-imag": (lambda c: c.conj().real + c.imag, (C,)),
    "method/item": (lambda a: a[0, 1].item() * a, (A,)),
    "method/tolist": (lambda a: np.array(a[0].tolist()), (A,)),
    "method/nbytes-itemsize": (lambda a: a * (a.nbytes + a.itemsize + a.size + a.ndim), (A,)),
    "method/dtype-shape": (lambda a: np.zeros(a.shape, a.dtype) + a, (A,)),
    "method/mT": (lambda a3: a3.mT, (A3,)),
    "method/flat": (lambda a: a.flat[3] * a, (A,)),
    "method/compress": (lambda a: a.compress([True, False, True, False], axis=1), (A,)),
    "method/choose": (lambda i, a: (np.abs(i) % 2).choose([a, -a]), (I, A)),
    "method/ptp": (lambda a: np.ptp(a), (A,)),
    "method/view": (lambda a: a.view(), (A,)),
    "method/put": (_method_put, (A,)),
    "method/argsort-partition": (lambda a: a.argsort(axis=0) + a.argpartition(1, axis=1), (A,)),
    "method/__abs__-pow": (lambda a: abs(a) ** 1.5 + divmod(a, 0.3)[1], (A,)),
    "method/cumsum-dtype": (lambda i: i.cumsum(dtype=np.float32), (I,)),
    "method/sum-keepdims": (lambda a: a.sum(axis=1, keepdims=True), (A,)),
    "method/mean-dtype": (lambda i: i.mean(dtype=np.float32), (I,)),
    "method/std-keepdims": (lambda a: a.std(axis=1, keepdims=True), (A,)),
    "method/max-initial": (lambda a: a.max(axis=0, initial=0.5), (A,)),
    # linalg
    "dot/vdot": (lambda a, b: np.dot(a, b) + np.vdot(b, b), (A, B)),
    "vdot/complex": (lambda c: np.vdot(c, c * 2), (C,)),
    "matmul/batch": (lambda a3: np.matmul(a3, a3.mT), (A3,)),
    "matmul/out": (_matmul_out, (A, B)),
    "matvec/vecmat": (lambda b, v: np.matvec(b, v[:4]) + np.vecmat(v[:4], b), (B, V)),
    "tensordot/int": (lambda a3, b: np.tensordot(a3, b, axes=1), (A3, B)),
    "linalg.tensordot": (lambda a3, b: np.linalg.tensordot(a3, b, axes=1), (A3, B)),
    "einsum/out-dtype": (lambda a: np.einsum("ij->j", a, dtype=np.float32, casting="same_kind"), (A,)),
    "einsum/interleaved": (lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), (A, B)),
    "einsum_path": (lambda a, b: np.einsum("ij,jk", a, b, optimize=np.einsum_path("ij,jk", a, b)[0]), (A, B)),
    "linalg.det/slogdet": (lambda b: np.linalg.det(b) + np.linalg.slogdet(b)[1], (B,)),
    "linalg.inv/pinv": (lambda b, a: np.linalg.inv(b + 4 * np.eye(4)) + np.linalg.pinv(a)[:, :4], (B, A)),
    "linalg.pinv/rcond-hermitian": (lambda s: np.linalg.pinv(s, rcond=1e-10, hermitian=True), (SPD,)),
    "linalg.solve/matrix": (lambda s, a: np.linalg.solve(s, a[:4]), (SPD, A)),
    "linalg.solve/batch": (lambda a3: np.linalg.solve(a3[:, :3, :3] + 3 * np.eye(3), a3[:, :3, 3:]), (A3,)),
    "linalg.cholesky": (lambda s: np.linalg.cholesky(s), (SPD,)),
    "linalg.cholesky/upper": (lambda s: np.linalg.cholesky(s, upper=True), (SPD,)),
    "linalg.qr": (lambda a: np.abs(np.linalg.qr(a)[1]), (A,)),
    "linalg.qr/complete": (lambda a: np.abs(np.linalg.qr(a, mode="complete")[1]), (A,)),
    "linalg.qr/r": (lambda a: np.abs(np.linalg.qr(a, mode="r")), (A,)),
    "linalg.svd": (lambda a: np.linalg.svd(a)[1], (A,)),
    "linalg.svd/no-uv": (lambda a: np.linalg.svd(a, compute_uv=False), (A,)),
    "linalg.svd/reduced": (lambda a: np.abs(np.linalg.svd(a, full_matrices=False)[2]), (A,)),
    "linalg.svdvals": (lambda a: np.linalg.svdvals(a), (A,)),
    "linalg.eigh": (lambda s: np.linalg.eigh(s)[0], (SPD,)),
    "linalg.eigh/vectors": (lambda s: np.abs(np.linalg.eigh(s)[1]), (SPD,)),
    "linalg.eigvalsh/UPLO": (lambda s: np.linalg.eigvalsh(s, UPLO="U"), (SPD,)),
    "linalg.matrix_rank": (lambda a: np.linalg.matrix_rank(a), (A,)),
    "linalg.matrix_rank/tol": (lambda a: np.linalg.matrix_rank(a, tol=1e-3), (A,)),
    "linalg.norm/ord-keepdims": (lambda a: np.linalg.norm(a, ord=1, axis=0, keepdims=True), (A,)),
    "linalg.norm/matrix-ords": (lambda b: np.linalg.norm(b, "nuc") + np.linalg.norm(b, 2) + np.linalg.norm(b, -np.inf), (B,)),
    "linalg.norm/vector-ords": (lambda v: np.linalg.norm(v, 3) + np.linalg.norm(v, 0) + np.linalg.norm(v, -1), (V,)),
    "linalg.lstsq/rcond": (lambda a, v: np.linalg.lstsq(a, v[:5], rcond=None)[1:], (A, V)),
    "linalg.lstsq/matrix": (lambda a, b: np.linalg.lstsq(a, np.hstack([a, a])[:, :3])[0], (A, B)),
    "linalg.tensorinv": (lambda b: np.linalg.tensorinv((b + 4 * np.eye(4)).reshape(2, 2, 2, 2), ind=2), (B,)),
    "linalg.tensorsolve/3d": (lambda a3, b: np.linalg.tensorsolve((b + 4 * np.eye(4)).reshape(4, 2, 2), a3[0, 0]), (A3, B)),
    "linalg.matrix_power/negative": (lambda b: np.linalg.matrix_power(b + 4 * np.eye(4), -2), (B,)),
    "linalg.det/batch": (lambda a3: np.linalg.det(a3[:, :3, :3]), (A3,)),
    "linalg.inv/complex": (lambda c: np.linalg.inv(c), (C,)),
    "linalg.solve/complex": (lambda c, v: np.linalg.solve(c, v[:4]), (C, V)),
    "linalg.eigvalsh/complex": (lambda c: np.linalg.eigvalsh(c @ c.conj().T), (C,)),
    # fft
    "fft.fft/n-axis-norm": (lambda a: np.fft.fft(a, n=6, axis=0, norm="ortho"), (A,)),
    "fft.ifft": (lambda v: np.fft.ifft(v), (V,)),
    "fft.rfft/irfft": (lambda v: np.fft.irfft(np.fft.rfft(v), n=6), (V,)),
    "fft.fft2/ifft2": (lambda a: np.fft.ifft2(np.fft.fft2(a)), (A,)),
    "fft.fftn/axes": (lambda a3: np.fft.fftn(a3, axes=(1, 2)), (A3,)),
    "fft.ifftn/s": (lambda a3: np.fft.ifftn(a3, s=(2, 4, 4)), (A3,)),
    "fft.rfft2/irfft2": (lambda a: np.fft.irfft2(np.fft.rfft2(a), s=a.shape), (A,)),
    "fft.rfftn/irfftn": (lambda a3: np.fft.irfftn(np.fft.rfftn(a3), s=a3.shape), (A3,)),
    "fft.fftfreq/rfftfreq": (lambda v: np.fft.fftfreq(6, 0.1) * v + np.fft.rfftfreq(10, 0.5)[:6], (V,)),
    "fft.fftshift/ifftshift": (lambda a: np.fft.fftshift(a) + np.fft.ifftshift(a, axes=0), (A,)),
    "fft.fft/norm-forward": (lambda v: np.fft.fft(v, norm="forward"), (V,)),
    "fft.fft/complex": (lambda c: np.fft.fft(c, axis=0), (C,)),
    # statistics, histograms, polynomials, misc
    "cov/ddof-aweights": (lambda a, v: np.cov(a, ddof=0, aweights=np.abs(v[:4])), (A, V)),
    "cov/fweights-bias": (lambda a: np.cov(a.T, fweights=[1, 2, 1, 3, 1], bias=True), (A,)),
    "cov/y": (lambda v, w: np.cov(v, w), (V, W)),
    "corrcoef/rowvar": (lambda a: np.corrcoef(a, rowvar=False), (A,)),
    "histogram/density-weights": (lambda v, w: np.histogram(v, bins=3, range=(-2, 2), weights=np.abs(w), density=True)[0], (V, W)),
    "histogram/edges-array": (lambda v: np.histogram(v, bins=[-3, -1, 0, 1, 3])[0], (V,)),
    "histogram/no-range": (lambda v: np.histogram(v, bins=4), (V,)),
    "histogram2d": (lambda v, w: np.histogram2d(v, w, bins=3, range=[[-3, 3], [-3, 3]])[0], (V, W)),
    "histogramdd": (lambda a: np.histogramdd(a[:, :2], bins=2, range=[(-3, 3), (-3, 3)])[0], (A,)),
    "bincount/weights": (lambda i, v: np.bincount(np.abs(i[0]), weights=v[:4], minlength=4), (I, V)),
    "digitize/decreasing": (lambda v, s: np.digitize(v, s[::-1]), (V, S)),
    "searchsorted/sorter": (lambda v, w: np.searchsorted(v, w, sorter=np.argsort(v)), (V, W)),
    "interp/left-right-period": (lambda v, s: np.interp(v, s, s ** 2, left=-1.0, right=2.0) + np.interp(v, s, s, period=2.0), (V, S)),
    "interp/complex-fp": (lambda v, s: np.interp(v, s, s + 1j * s), (V, S)),
    "convolve/full-valid": (lambda v, w: np.convolve(v, w[:3]) + np.convolve(v, w, mode="valid").sum(), (V, W)),
    "correlate/valid-same": (lambda v, w: np.correlate(v, w[:3]) .sum() + np.correlate(v, w[:3], mode="same"), (V, W)),
    "diff/prepend-append": (lambda a: np.diff(a, axis=1, prepend=0.0, append=a[:, -1:]), (A,)),
    "gradient/varargs-array": (lambda v, w: np.gradient(v, np.cumsum(np.abs(w) + 0.1)), (V, W)),
    "gradient/multi-axis": (lambda a: np.gradient(a), (A,)),
    "trapezoid/2d-x": (lambda a, v: np.trapezoid(a, v[:4], axis=1), (A, V)),
    "cross/axis": (lambda a: np.cross(a[:, :3].T, a[:, 1:].T, axisa=0, axisb=0), (A,)),
    "polyval/matrix-x": (lambda p, a: np.polyval(p, a), (P3, A)),
    "polyadd/polysub": (lambda p, v: np.polyadd(p, v[:2]) + np.polysub(p, v[:3]), (P3, V)),
    "polymul": (lambda p, v: np.polymul(p, v[:3]), (P3, V)),
    "polydiv": (lambda p, v: np.polydiv(v[:5], p), (P3, V)),
    "poly1d": (lambda p, v: np.poly1d(p)(v), (P3, V)),
    "polyder/m": (lambda v: np.polyder(v, 2), (V,)),
    "polyint/m-k": (lambda v: np.polyint(v, 2, k=[1.0, 2.0]), (V,)),
    "sinc/i0/2d": (lambda a: np.sinc(a) * np.i0(a), (A,)),
    "hanning/hamming": (lambda v: v * np.hanning(6) + np.hamming(6) + np.blackman(6) + np.bartlett(6) + np.kaiser(6, 5.0), (V,)),
    "real_if_close/tol": (lambda a: np.real_if_close(a + 1e-20j, tol=1000), (A,)),
    "around/decimals-neg": (lambda a: np.around(a * 100, -1), (A,)),
    "isin/invert": (lambda i: np.isin(i, [0, 2], invert=True), (I,)),
    "in1d-like/isin-traced": (lambda i: np.isin(i, i[0]), (I,)),
    "intersect1d": (lambda i: np.intersect1d(i[0], i[1]), (I,)),
    "union1d": (lambda i: np.union1d(i[0], i[1]), (I,)),
    "setdiff1d": (lambda i: np.setdiff1d(i[0], i[1]), (I,)),
    "setxor1d": (lambda i: np.setxor1d(i[0], i[1]), (I,)),
    "unique_values": (lambda i: np.unique_values(i), (I,)),
    "where/1arg": (lambda i: np.where(i), (I,)),
    "apply_over_axes": (lambda a3: np.apply_over_axes(np.sum, a3, [0, 2]), (A3,)),
    "vectorize": (lambda a: np.vectorize(lambda x: x * 2 + 1)(a), (A,)),
    "frompyfunc": (lambda a: np.frompyfunc(lambda x: x * 2, 1, 1)(a), (A,)),
    "lexsort/2d": (lambda a: np.lexsort(a[:2]), (A,)),
    "sort/kind-none-axis": (lambda a: np.sort(a, axis=None), (A,)),
    "argsort/descending": (lambda a: np.argsort(-a, axis=0, stable=True), (A,)),
    "max/nan": (lambda x: np.max(x, axis=0), (NANA,)),
    "round/int": (lambda i: np.round(i, -1), (I,)),
    "clip/int-float-bounds": (lambda i: np.clip(i, -1.5, 2.5), (I,)),
    "nan_to_num/int": (lambda i: np.nan_to_num(i), (I,)),
    "unwrap/discont-axis": (lambda a: np.unwrap(a * 3, discont=4.0, axis=0), (A,)),
    "einsum/broadcast-scalar": (lambda a, b: np.einsum(",ij->ij", b[0, 0], a), (A, B)),
    "outer/matrix": (lambda a, b: np.outer(a, b[0]), (A, B)),
    "kron/3d": (lambda a3, b: np.kron(a3, b[:2, :2]), (A3, B)),
    "trace/axes": (lambda a3: np.trace(a3, axis1=1, axis2=2), (A3,)),
    "diagonal/axes": (lambda a3: np.diagonal(a3, 1, 0, 2), (A3,)),
    "nanquantile/keepdims": (lambda x: np.nanquantile(x, [0.2, 0.8], axis=1, keepdims=True), (NANA,)),
    "median/axis-None-nan": (lambda x: np.median(x), (NANA,)),
}


CASES.update(S25_CASES)


def _sort_kind(a):
    b = a.copy()
    b.sort(axis=1, kind="stable")
    return b


def _method_outs(a):
    o = np.empty(4)
    a.sum(axis=0, out=o)
    c = np.empty_like(a)
    a.cumsum(axis=1, out=c)
    r = np.empty_like(a)
    a.round(1, out=r)
    return o, c, r


@np.vectorize
def _soft(x, t=0.5):
    if x > t:
        return x - t
    return x + t if x < -t else 0.0


def _soft_both(a):
    return _soft(a) + _soft(a, 1.0)


def _set_real(c):
    d = c.copy()
    d.real = 0.0
    d.imag[0] = 1.0
    return d


S25B_CASES = {
    # more keywords of functions already covered
    "cumsum/axis-None": (lambda a: np.cumsum(a), (A,)),
    "cumulative_sum/include_initial": (lambda a: np.cumulative_sum(a, axis=1, include_initial=True), (A,)),
    "sort/stable-descending": (lambda a: np.sort(a, axis=0, kind="stable"), (A,)),
    "argsort/axis-None": (lambda a: np.argsort(a, axis=None), (A,)),
    "percentile/methods": (lambda v: np.percentile(v, [10, 90], method="lower") + np.percentile(v, 50, method="higher") + np.percentile(v, 30, method="midpoint"), (V,)),
    "quantile/methods": (lambda v: np.quantile(v, 0.3, method="weibull") + np.quantile(v, 0.6, method="median_unbiased") + np.quantile(v, 0.2, method="closest_observation"), (V,)),
    "nanpercentile/method": (lambda x: np.nanpercentile(x, 40, axis=0, method="nearest"), (NANA,)),
    "correlate/same": (lambda v, w: np.correlate(v, w[:4], mode="same"), (V, W)),
    "convolve/valid-long-kernel": (lambda v, w: np.convolve(v[:3], w, mode="valid"), (V, W)),
    "gradient/edge2-axis-tuple": (lambda a3: np.gradient(a3, 0.5, 2.0, axis=(1, 2), edge_order=2), (A3,)),
    "gradient/coords-nonuniform": (lambda v: np.gradient(v ** 2, np.cumsum(np.arange(1.0, 7.0))), (V,)),
    "diff/axis0-n3": (lambda a: np.diff(a, n=3, axis=0), (A,)),
    "linspace/axis": (lambda v: np.linspace(v[:2], v[2:4], 5, axis=1), (V,)),
    "arange/float-step": (lambda v: np.arange(0.0, 2.0, 0.25) * v[0], (V,)),
    "meshgrid/3": (lambda v, w: sum(g.sum() for g in np.meshgrid(v[:2], w[:3], v[:4])), (V, W)),
    "stack/negative-axis": (lambda a: np.stack([a, -a], axis=-1), (A,)),
    "split/indices-axis": (lambda a: np.split(a, [1, 3], axis=1)[1], (A,)),
    "array_split/axis": (lambda a: np.array_split(a, 3, axis=0)[2], (A,)),
    "tile/larger-reps": (lambda v: np.tile(v, (2, 1, 2)), (V,)),
    "pad/symmetric": (lambda a: np.pad(a, 2, mode="symmetric"), (A,)),
    "pad/reflect-odd": (lambda a: np.pad(a, 1, mode="reflect", reflect_type="odd"), (A,)),
    "pad/symmetric-odd": (lambda a: np.pad(a, 1, mode="symmetric", reflect_type="odd"), (A,)),
    "pad/empty": (lambda a: np.pad(a, 1, mode="empty")[1:-1, 1:-1], (A,)),
    "where/scalars": (lambda a: np.where(a > 0, 1.0, -1), (A,)),
    "full/dtype": (lambda a: np.full((2, 3), 7, dtype=np.float32) + a[0, 0], (A,)),
    "isclose/broadcast": (lambda a, v: np.isclose(a, v[:4], atol=0.5), (A, V)),
    "floor_divide/int": (lambda i: np.floor_divide(i, 2) + i // -3, (I,)),
    "true_divide/int": (lambda i: np.true_divide(i, 4), (I,)),
    "remainder/negative": (lambda a: np.remainder(a, -0.7), (A,)),
    "conjugate/real": (lambda a: np.conjugate(a), (A,)),
    "dot/nd": (lambda a3, b: np.dot(a3, b), (A3, B)),
    "dot/scalar": (lambda a: np.dot(a, 2.0), (A,)),
    "matmul/vector": (lambda b, v: np.matmul(v[:4], b) + b @ v[:4], (B, V)),
    "inner/nd": (lambda a3, a: np.inner(a3, a), (A3, A)),
    "outer/2d-inputs": (lambda a, b: np.outer(a, b), (A, B)),
    "linalg.norm/axis-tuple": (lambda a3: np.linalg.norm(a3, axis=(1, 2)), (A3,)),
    "linalg.norm/keepdims-fro": (lambda a3: np.linalg.norm(a3, "fro", axis=(0, 2), keepdims=True), (A3,)),
    "linalg.det/empty": (lambda a: np.linalg.det(a[:0, :0]) + a[0, 0], (A,)),
    "linalg.qr/raw": (lambda a: np.abs(np.linalg.qr(a, mode="raw")[1]), (A,)),
    "linalg.svd/hermitian": (lambda s: np.linalg.svd(s, hermitian=True)[1], (SPD,)),
    "linalg.eigh/complex": (lambda c: np.linalg.eigh(c @ c.conj().T)[0], (C,)),
    "linalg.pinv/batched": (lambda a3: np.linalg.pinv(a3), (A3,)),
    "linalg.lstsq/under": (lambda a, v: np.linalg.lstsq(a.T, v[:4])[0], (A, V)),
    "linalg.matrix_rank/hermitian": (lambda s: np.linalg.matrix_rank(s, hermitian=True), (SPD,)),
    "linalg.slogdet/complex": (lambda c: np.linalg.slogdet(c), (C,)),
    "linalg.det/complex": (lambda c: np.linalg.det(c), (C,)),
    "linalg.cholesky/batched": (lambda a3: np.linalg.cholesky(a3 @ a3.mT + 3 * np.eye(3)), (A3,)),
    "linalg.solve/vector-batch": (lambda a3, v: np.linalg.solve(a3[:, :, :3] @ a3[:, :, :3].mT + np.eye(3), v[:3]), (A3, V)),
    "linalg.inv/batched": (lambda a3: np.linalg.inv(a3[:, :, :3] + 3 * np.eye(3)), (A3,)),
    "fft.hfft/n": (lambda v: np.fft.hfft(v, n=8), (V,)),
    "fft.rfft/n-odd": (lambda v: np.fft.rfft(v, n=7), (V,)),
    "fft.irfft/axis": (lambda a: np.fft.irfft(a, axis=0), (A,)),
    "fft.fft2/s-axes": (lambda a3: np.fft.fft2(a3, s=(4, 4), axes=(0, 2)), (A3,)),
    "fft.fftshift/axes": (lambda a3: np.fft.fftshift(a3, axes=(1, 2)), (A3,)),
    "einsum/repeated-output": (lambda b: np.einsum("ii->i", b), (B,)),
    "einsum/three-operands": (lambda a, b, v: np.einsum("ij,jk,k->i", a, b, v[:4]), (A, B, V)),
    "tensordot/axes-0": (lambda v, w: np.tensordot(v, w, axes=0), (V, W)),
    "kron/vectors": (lambda v, w: np.kron(v[:3], w[:2]), (V, W)),
    "cross/3d-2d": (lambda a: np.cross(a[:, :3], a[:, 1:3]), (A,)),
    "trapezoid/x-2d": (lambda a: np.trapezoid(a, np.cumsum(np.abs(a), axis=0), axis=0), (A,)),
    "interp/period-decreasing": (lambda v: np.interp(v, [3.0, 1.0, 2.0], [1.0, 2.0, 3.0], period=4.0), (V,)),
    "average/weights-2d": (lambda a: np.average(a, axis=1, weights=np.abs(a) + 0.1), (A,)),
    "average/axis-tuple": (lambda a3: np.average(a3, axis=(0, 2)), (A3,)),
    "mean/dtype-float32": (lambda a: np.mean(a, axis=0, dtype=np.float32), (A,)),
    "var/int": (lambda i: np.var(i, axis=0), (I,)),
    "median/int": (lambda i: np.median(i, axis=0), (I,)),
    "max/keepdims-initial": (lambda a: np.max(a, axis=1, keepdims=True, initial=10.0), (A,)),
    "any/where": (lambda a: np.any(a > 1, axis=0, where=a < 2), (A,)),
    "prod/where-int": (lambda i: np.prod(i, axis=1, where=i != 0), (I,)),
    "nansum/where": (lambda x: np.nansum(x, axis=0, where=x < 1), (NANA,)),
    "nanmean/all-nan-col": (lambda x: np.nanmean(np.where(np.arange(4) == 1, np.nan, x), axis=0), (A,)),
    "count_nonzero/all": (lambda a: np.count_nonzero(a > 0), (A,)),
    "bincount/traced-minlength-const": (lambda i: np.bincount(np.abs(i[0]), minlength=8), (I,)),
    "digitize/int-bins": (lambda v: np.digitize(v, [-1, 0, 1]), (V,)),
    "searchsorted/scalar": (lambda s: np.searchsorted(s, 0.1), (S,)),
    "histogram/range-density": (lambda v: np.histogram(v, bins=5, range=(-2, 2), density=True)[0], (V,)),
    "histogram2d/edges": (lambda v, w: np.histogram2d(v, w, bins=[np.array([-3.0, 0.0, 3.0]), np.array([-3.0, -1.0, 1.0, 3.0])])[0], (V, W)),
    "unravel_index/array": (lambda i: np.unravel_index(np.abs(i).ravel(), (4, 4)), (I,)),
    "argmax/keepdims": (lambda a: np.argmax(a, axis=0, keepdims=True), (A,)),
    "clip/traced-bounds": (lambda a, v: np.clip(a, v[:4], v[0] + 1), (A, V)),
    "round/complex": (lambda c: np.round(c, 1), (C,)),
    "sign/complex": (lambda c: np.sign(c), (C,)),
    "abs/complex64": (lambda c: np.abs(c.astype(np.complex64)), (C,)),
    "exp/float32": (lambda a: np.exp(a.astype(np.float32)), (A,)),
    "sqrt/int": (lambda i: np.sqrt(np.abs(i)), (I,)),
    "mod/int-negative": (lambda i: np.mod(i, -3), (I,)),
    "power/float-int": (lambda a, i: np.power(a, np.abs(i)), (A, I)),
    "maximum/nan": (lambda x: np.maximum(x, 0.0), (NANA,)),
    "isfinite/int": (lambda i: np.isfinite(i), (I,)),
    # methods with keywords
    "method/sort-kind": (_sort_kind, (A,)),
    "method/outs": (_method_outs, (A,)),
    "method/max-where": (lambda a: a.max(axis=0, where=a < 1, initial=-5.0), (A,)),
    "method/mean-where": (lambda a: a.mean(axis=1, where=a > -1), (A,)),
    "method/all-keepdims": (lambda a: (a > -1).all(axis=1, keepdims=True), (A,)),
    "method/squeeze-axis": (lambda a: a[:, None].squeeze(axis=1), (A,)),
    "method/astype-copy-false": (lambda a: a.astype(np.float64, copy=False) * 2, (A,)),
    "method/trace-kw": (lambda a3: a3.trace(offset=1, axis1=1, axis2=2, dtype=np.float32), (A3,)),
    "method/diagonal-kw": (lambda a3: a3.diagonal(offset=-1, axis1=0, axis2=1), (A3,)),
    "method/var-ddof-dtype": (lambda a: a.var(ddof=1, dtype=np.float32), (A,)),
    "method/argsort-kind": (lambda a: a.argsort(axis=0, kind="stable"), (A,)),
    "method/cumprod-axis-None": (lambda a: a.cumprod(), (A,)),
    "method/dot-out": (lambda a, b: a.dot(b), (A, B)),
    "method/repeat-array": (lambda v: v.repeat([1, 0, 2, 1, 1, 3]), (V,)),
    "method/searchsorted-sorter": (lambda v, w: v.searchsorted(w, sorter=np.argsort(v)), (V, W)),
    "method/clip-min-only": (lambda a: a.clip(min=0.0), (A,)),
    "method/T-1d": (lambda v: v.T, (V,)),
    "method/real-setitem": (_set_real, (C,)),
    "method/shape-tuple-reshape": (lambda a: a.reshape(a.shape[::-1]), (A,)),
    "method/nonzero-error": (lambda i: i.nonzero(), (I,)),
    "common_type": (lambda a, i: a.astype(np.common_type(a, i)), (A, I)),
    "emath/complex": (lambda c: np.emath.sqrt(c) + np.emath.log(c) + np.emath.logn(2, c), (C,)),
    "vectorize/module-decorator": (_soft_both, (A,)),
    "broadcast/shape": (lambda a, v: np.zeros(np.broadcast(a, v[:4]).shape) + a, (A, V)),
    "atleast_1d/2d-several": (lambda a, v: np.atleast_1d(a[0, 0], v)[0] + np.atleast_2d(v, a)[0].sum(), (A, V)),
    "asanyarray": (lambda a: np.asanyarray(a) * 2, (A,)),
    "iterable": (lambda a: a * np.iterable(a) + np.iterable(a[0, 0]), (A,)),
    "flags/strides": (lambda a: a * a.strides[0], (A,)),
    "isfortran": (lambda a: a * np.isfortran(a), (A,)),
}


CASES.update(S25B_CASES)

# np.random.Generator methods (DESIGN.md: draws are NumPy's own stream), each from a generator seeded inside
_RANDOM = {
    "standard_normal": lambda g, a: g.standard_normal(a.shape) + a, "normal": lambda g, a: g.normal(a, 2.0),
    "random": lambda g, a: g.random(a.shape, dtype=np.float32), "uniform": lambda g, a: g.uniform(a, a + 1),
    "lognormal": lambda g, a: g.lognormal(a, 0.5), "triangular": lambda g, a: g.triangular(-2.0, a[0, 0], 3.0, 4),
    "integers": lambda g, a: g.integers(0, 10, a.shape), "exponential": lambda g, a: g.exponential(1.0, a.shape),
    "choice": lambda g, a: g.choice(a.ravel(), 3), "permutation": lambda g, a: g.permutation(a),
    "shuffle": lambda g, a: g.shuffle(a), "poisson": lambda g, a: g.poisson(2.0, a.shape),
    "binomial": lambda g, a: g.binomial(5, 0.3, a.shape), "gamma": lambda g, a: g.gamma(2.0, 1.0, a.shape),
    "beta": lambda g, a: g.beta(2.0, 3.0, a.shape), "standard_cauchy": lambda g, a: g.standard_cauchy(a.shape),
    "laplace": lambda g, a: g.laplace(a, 1.0), "logistic": lambda g, a: g.logistic(a, 1.0),
    "multivariate_normal": lambda g, a: g.multivariate_normal(a[0], np.eye(4)),
    "standard_exponential": lambda g, a: g.standard_exponential(4),
}
for _name, _draw in _RANDOM.items():
    CASES["random." + _name] = (_draw, (np.random.default_rng(7), A))  # each call gets a copy of the generator


def same(got, want) -> bool:
    if isinstance(want, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(want) and all(map(same, got, want))
    g, w = np.asarray(got), np.asarray(want)
    if g.shape != w.shape or g.dtype != w.dtype:
        return False
    if w.dtype.kind in "fc":  # float32 to about 1e-4 (API.md): its sums may round in another order
        rtol = 1e-9 if w.dtype in (np.float64, np.complex128) else 1e-4
        return np.allclose(g, w, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)
    return np.array_equal(g, w)


def run(name: str, backend: str) -> str:
    fn, args = CASES[name]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            want = fn(*[copy.deepcopy(a) for a in args])
        except Exception as e:  # NumPy itself refuses
            return f"numpy raises {type(e).__name__}"
        try:
            got = lt.jit(fn, backend=backend)(*[copy.deepcopy(a) for a in args])
        except lt.UnsupportedError as e:
            return "refused: " + str(getattr(e, "problem", e)).splitlines()[0][:90]
        except Exception as e:
            return f"error: {type(e).__name__}: {str(e).splitlines()[0][:80] if str(e) else ''}"
    if not same(got, want):
        return "WRONG"
    return "ok"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="interpret,cpu")
    ap.add_argument("--only", default="")
    opts = ap.parse_args(argv)
    backends = opts.backends.split(",")
    names = [n for n in CASES if not opts.only or n in opts.only.split(",")]
    counts = {}
    print("| function | " + " | ".join(backends) + " |")
    print("| --- | " + " | ".join("---" for _ in backends) + " |")
    for name in names:
        results = [run(name, b) for b in backends]
        for r in results:
            counts[r.split(":")[0]] = counts.get(r.split(":")[0], 0) + 1
        print(f"| {name} | " + " | ".join(results) + " |", flush=True)
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
