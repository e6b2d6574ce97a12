"""Gradients of the NumPy surface that session 49's probe D (about 650 float64
losses, one or two NumPy functions each, written the ways scientists write
them) found right: reductions with axis/keepdims/ddof (products with zeros,
every norm order), elementwise ufuncs (an untaken np.where branch that is
NaN or inf stays out of the gradient when the branch is one singular ufunc),
shape functions (np.pad in every mode, repeats, rolls, takes, einsum, kron,
batched matmul), linalg (solve, inv, det, slogdet, cholesky, eigh, svd, qr,
lstsq, pinv, matrix_power), interpolation and order statistics, complex
intermediates and np.fft with a real loss, and the calling conventions
(argnums tuples, keywords, 0-d and float results, float32 gradients).
Each is checked against central finite differences of the undecorated
function in float64; the interpreter for all, one cpu kernel batching a
few of them."""

import math

import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

W34 = np.arange(12.0).reshape(3, 4) / 7.0 - 0.5
XP = np.linspace(-2.0, 2.0, 6)


# --- reductions ------------------------------------------------------------------------------
def sum_axes(x):
    return np.sum(np.sum(x, axis=(0, 2)) ** 3) + np.sum(x / np.sum(x ** 2, axis=(-1, -2), keepdims=True))


def mean_keep(x):
    return np.sum((x - x.mean(axis=0, keepdims=True)) ** 2) + np.sum(np.mean(x, axis=-3) ** 2)


def prod_axes(x):
    return np.prod(x) + np.sum(np.prod(x, axis=1)) + np.sum(np.prod(x, axis=0, keepdims=True) * x)


def var_std_ddof(x):
    return (np.var(x, ddof=1) + np.sum(np.std(x, axis=0, ddof=1))
            + np.sum((x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)))


def max_min_gathers(x):
    i = np.argmax(x, axis=1)
    return (np.sum(np.max(x, axis=1) ** 2) + np.sum(x * np.min(x, axis=0, keepdims=True))
            + np.sum(x[np.arange(x.shape[0]), i] ** 2) + np.ptp(x) ** 2)


def vector_norms(x):
    return (np.linalg.norm(x) + np.linalg.norm(x, ord=1) + np.linalg.norm(x, ord=np.inf)
            + np.linalg.norm(x, ord=3) + np.linalg.norm(x, ord=-1))


def matrix_norms(x):
    return (np.linalg.norm(x, "fro") + np.linalg.norm(x, "nuc") + np.linalg.norm(x, 1)
            + np.linalg.norm(x, np.inf) + np.linalg.norm(x, 2) + np.linalg.norm(x, -2))


def axis_norms(x):
    return (np.sum(np.linalg.norm(x, axis=1)) + np.sum(x / np.linalg.norm(x, axis=0, keepdims=True))
            + np.sum(np.linalg.norm(x, ord=1, axis=0)) + np.sum(np.linalg.norm(x, ord=np.inf, axis=1)))


def logsumexp_softmax(x, y):
    m = np.max(x, axis=1, keepdims=True)
    lse = np.sum(m[:, 0] + np.log(np.sum(np.exp(x - m), axis=1)))
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return lse + np.sum(e / e.sum(axis=-1, keepdims=True) * y)


def cross_entropy(x, t):
    z = x - np.max(x, axis=1, keepdims=True)
    lp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(lp[np.arange(x.shape[0]), t])


def cumulative(x):
    return np.sum(np.cumsum(x, axis=0) * np.cumsum(x, axis=-1)) + np.sum(np.cumprod(x, axis=1) ** 2)


def differences(x):
    return (np.sum(np.diff(x, n=2, axis=-1) ** 3) + np.sum(np.diff(x, axis=0) ** 2)
            + np.sum(np.gradient(x, axis=1) ** 2) + np.trapezoid(np.trapezoid(x ** 2, dx=0.5), dx=0.25))


def trapezoid_x(y, x):
    return np.trapezoid(y, x) + np.trapezoid(y ** 2)


def weighted_average(x, w):
    return np.average(x[0], weights=w) + np.sum(np.average(x, axis=1, weights=w) ** 2)


def nan_reductions(x):
    y = x.copy()
    y[0, 1] = np.nan
    y[2, 3] = np.nan
    return (np.nansum(y ** 2) + np.sum(np.nanmean(y, axis=0) ** 2) + np.nanmax(y) ** 2
            + np.nanstd(y) + np.nanvar(y, ddof=1))


# --- elementwise -----------------------------------------------------------------------------
def exp_log_family(x):
    return np.sum(np.exp(x) * x + np.log1p(x ** 2) + np.expm1(x) ** 2 + np.exp2(x) + np.log(np.abs(x)))


def roots_and_powers(x):
    return np.sum(np.sqrt(np.abs(x)) * x + np.cbrt(x) + np.square(x) * np.reciprocal(x) + np.abs(x) ** -1.5)


def power_arrays(x, p):
    return np.sum(np.power(np.abs(x), p)) + np.sum(x ** np.array([1.0, 2.0, 3.0, 2.0, 1.0, 4.0])) + np.sum(2.0 ** p)


def trig_hyper(x):
    return np.sum(np.sinh(x) * np.cosh(x) + np.tanh(x) + np.arctan(x) ** 2 + np.arcsinh(x)
                  + np.sin(x) * np.cos(x) + np.sinc(x) + np.i0(x))


def inverse_trig(x):
    return np.sum(np.arcsin(x) + np.arccos(x) ** 2 + np.arctanh(x))


def two_argument(y, x):
    return np.sum(np.arctan2(y, x) ** 2 + np.hypot(x, y) + np.logaddexp(x, y) + np.logaddexp2(x, y))


def max_min_clip(x, y, lo, hi):
    return (np.sum(np.maximum(x, y) ** 2 + np.minimum(x, y) ** 2) + np.sum(np.fmax(x, y) * np.fmin(x, y))
            + np.sum(np.clip(x, lo, hi) ** 2) + np.sum(np.maximum(x, 0) ** 2))


def sigmoid_losses(x, t):
    p = 1.0 / (1.0 + np.exp(-x))
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)) + np.sum(np.log1p(np.exp(x)))


def untaken_singular_branches(x):
    # the branch not taken is NaN or inf there: it must not reach the gradient
    return (np.sum(np.where(x > 0, np.log(x), 0.0)) + np.sum(np.where(x > 0, np.sqrt(x), x ** 2))
            + np.sum(np.where(np.abs(x) > 0.3, 1.0 / x, 0.0)) + np.sum(np.where(x < 5.0, x ** 2, np.exp(1000.0 * x)))
            + np.sum(np.where(np.abs(x) < 1, np.arctanh(x), x)) + np.sum(np.where(x > 0, np.log(x) ** 3, 0.0)))


def zero_gradient_pieces(x):
    return np.sum(np.floor(3 * x) * x + np.sign(x) * x ** 2 + np.heaviside(x, 0.5) * x ** 2
                  + np.round(x, 1) + (x // 0.7) * x + np.mod(x, 0.7) ** 2)


def math_in_a_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += math.erf(x[i]) ** 2 + math.lgamma(abs(x[i]) + 0.5) + math.atan2(x[i], 1.3) + math.hypot(x[i], 0.4)
    return s


def huber(x):
    a = np.abs(x)
    return np.sum(np.where(a < 0.5, 0.5 * x ** 2, 0.5 * (a - 0.25)))


# --- shapes ----------------------------------------------------------------------------------
def views(x):
    return (np.sum(np.transpose(x, (2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3))
            + np.sum(np.swapaxes(x, 0, 2) ** 2 * np.arange(4.0)[:, None, None])
            + np.sum(np.moveaxis(x, -1, 0)[1] ** 3) + np.sum(x.reshape(4, 6, order="F") ** 2 * np.arange(6.0)))


def broadcast_back(a, b, B):
    return np.sum((a * B) ** 2) + np.sum(np.exp(B - b)) + np.sum(np.broadcast_to(a, (3, 4)) * W34)


def tile_repeat_roll(x):
    return (np.sum(np.tile(x, (2, 2)) ** 2 * np.arange(24.0).reshape(6, 4))
            + np.sum(np.repeat(x, 2, axis=1) ** 2 * np.arange(4.0)) + np.sum(np.repeat(x[:, 0], [1, 0, 2]) ** 3)
            + np.sum(np.roll(x, (1, 1), axis=(0, 1)) * W34[:, :2])
            + np.sum(np.roll(x, 7) * np.arange(6.0).reshape(3, 2)))


PAD_MODES = ["constant", "edge", "reflect", "symmetric", "wrap", "linear_ramp", "mean", "maximum", "minimum", "median"]


def pads(x):
    s = np.sum(np.pad(x, ((1, 0), (2, 1)), mode="edge") ** 2 * np.arange(28.0).reshape(4, 7))
    s += np.sum(np.pad(x[0], (5, 7), mode="reflect") * np.arange(16.0))
    s += np.sum(np.pad(x[1], 2, mode="reflect", reflect_type="odd") * np.arange(8.0))
    for mode in PAD_MODES:
        s += np.sum(np.pad(x[2], 2, mode=mode) * np.arange(8.0) ** 2)
    return s


def join_split(x, y):
    a, b = np.split(x, [2], axis=1)
    p = np.array_split(y, 3)
    return (np.sum(np.concatenate((x, y[:, None] * x), axis=1) ** 2 * np.arange(8.0))
            + np.sum(np.stack([y, y ** 2], axis=-1) @ np.array([1.0, -2.0])) + np.sum(a ** 2) + np.sum(np.exp(b))
            + np.sum(p[0] ** 2) + np.sum(p[2] ** 3) + np.sum(np.flip(x, axis=0) * W34))


def fancy_indices(x, v):
    y = x.copy()
    y[np.array([0, 2, 2])] += v
    out = np.zeros(4)
    np.add.at(out, np.array([0, 1, 1, 3]), v[:4] * x[0, 0])
    return (np.sum(x[np.array([0, 2, 2]), np.array([1, 1, 3])] ** 3) + np.sum(x[np.ix_([0, 2], [1, 3, 3])] ** 2)
            + np.sum(x[x > 0.3] ** 3) + np.sum(y ** 2) + np.sum(out ** 2))


def takes(x, v):
    y = x.copy()
    np.put_along_axis(y, np.array([[1], [0], [3]]), v, axis=1)
    idx = np.argsort(x, axis=1)
    return (np.sum(np.take(x, [2, 0, 2], axis=1) * x[:, :3])
            + np.sum(np.take_along_axis(x, idx, axis=1) * np.arange(4.0))
            + np.sum(np.take(x, [7, -9, 2], mode="wrap") ** 2) + np.sum(y ** 2))


def triangles_diagonals(x):
    return (np.sum(np.triu(x) ** 2) + np.sum(np.tril(x, -1) * 3.0) + np.sum(np.diag(x) ** 2) + np.sum(np.diag(x, 1))
            + np.sum(np.diagonal(x, offset=-1) ** 2) + np.trace(x) ** 2 + np.sum((np.diag(x[0]) @ x) ** 2)
            + np.sum(x[np.triu_indices(4, 1)] ** 2))


def products(x, y, A):
    return (np.sum(np.outer(x, y) ** 2 * W34) + np.sum(np.kron(A, A[:2, :2]) ** 2)
            + np.sum(np.cross(A[:, :3], A[::-1, 1:]) ** 2) + np.vdot(y, A[0]) ** 2)


def einsums(A, B, x):
    return (np.einsum("ii", A[:, :4] @ B) ** 2 + np.sum(np.einsum("ij,jk->ik", A, B) ** 2)
            + np.einsum("i,ij,j", x, A[:, :3], x) + np.sum(np.einsum("ij->ji", A) * W34.T)
            + np.einsum("ij,ij->", A, A) + np.sum(np.einsum("ij,jk,kl->il", A, B, B.T) ** 2))


def batched_contractions(A, B, x):
    return (np.sum(np.einsum("bij,bjk->bik", A, B) ** 2) + np.sum(np.einsum("...ij,...j->...i", A, x) ** 2)
            + np.sum(np.einsum("bii->b", A[:, :, :3]) ** 2) + np.sum((x @ np.swapaxes(A, 1, 2)) ** 2)
            + np.sum(np.matmul(A[:, None], B[None]) ** 2))


def tensordots(A, B):
    return (np.sum(np.tensordot(A, B, axes=([0, 2], [1, 0])) ** 2) + np.tensordot(A[:, :, 0], A[:, :, 1], axes=2) ** 2
            + np.sum(np.tensordot(A[0, 0], B[0, 0], axes=0) ** 2))


def matmul_1d(x, A, y):
    return np.sum((x @ A) ** 2) + np.sum((A @ y) ** 2) + (y @ y) ** 2 + np.sum(np.dot(A, y) * x[0])


# --- linalg ----------------------------------------------------------------------------------
def solves(A, b):
    return (np.sum(np.linalg.solve(A, b) ** 2) + np.sum(np.linalg.inv(A) ** 2) + np.linalg.det(A)
            + np.sum(np.linalg.matrix_power(A, -2)) + np.sum(np.linalg.matrix_power(A, 3))
            + np.trace(np.linalg.inv(A) @ A.T))


def slogdets(A):
    s, ld = np.linalg.slogdet(A)
    return s * ld + np.log(np.abs(np.linalg.det(A)))


def gaussian_nll(S, x):
    L = np.linalg.cholesky(S)
    z = np.linalg.solve(L, x)
    return 0.5 * np.dot(z, z) + np.sum(np.log(np.diagonal(L))) + np.sum(np.linalg.cholesky(S) * W34[:, :3])


def spectral(A):
    w, V = np.linalg.eigh(A + A.T)
    return (np.sum(np.linalg.eigvalsh(A + A.T) ** 3) + np.sum((V[:, 0] * V[:, 1]) ** 2) + np.sum(V[:, -1] ** 4)
            + np.sum((V @ np.diag(np.exp(0.1 * w)) @ V.T) * np.arange(16.0).reshape(4, 4)))


def singular_values(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    sv = np.linalg.svd(A, compute_uv=False)
    return np.sum(sv ** 3) + np.sum((U * s) @ Vt * np.arange(12.0).reshape(4, 3)) + sv[0] / sv[-1] + np.sum(Vt[0] ** 4)


def qr_lstsq_pinv(A, b):
    Q, R = np.linalg.qr(A)
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    return (np.sum(np.abs(np.diag(R)) ** 1.5) + np.sum((Q @ (Q.T @ b)) ** 2) + np.sum((A @ x - b) ** 2)
            + np.sum(x * np.arange(3.0)) + np.sum(np.linalg.pinv(A) * np.arange(12.0).reshape(3, 4)))


# --- interpolation, order statistics ---------------------------------------------------------
def interps(x, fp, xp):
    return (np.sum(np.interp(x, XP, np.sin(XP)) ** 2) + np.sum(np.interp(x, xp, fp) ** 2)
            + np.sum(np.interp(x * 2, XP, fp, left=-1.0, right=2.0) * x))


def order_statistics(x):
    return (np.sum(np.sort(x) * np.arange(7.0)) + np.median(x) ** 2 + np.percentile(x, 30.0)
            + np.sum(np.percentile(x, [10.0, 50.0, 95.0]) ** 2) + np.quantile(x, 0.37) ** 2
            + np.sum(-np.sort(-x)[:3] ** 2) + np.sum(np.partition(x, 2)[:2] ** 2))


def order_statistics_axis(x):
    return (np.sum(np.median(x, axis=1) ** 2) + np.sum(np.percentile(x, 75.0, axis=0))
            + np.sum(x - np.quantile(x, 0.5, axis=1, keepdims=True) ** 2) + np.sum(np.sort(x, axis=0) * W34))


def searchsorted_gather(t, fp):
    i = np.clip(np.searchsorted(XP, t) - 1, 0, XP.size - 2)
    w = (t - XP[i]) / (XP[i + 1] - XP[i])
    return np.sum(((1 - w) * fp[i] + w * fp[i + 1]) ** 2)


# --- complex intermediates, fft --------------------------------------------------------------
def complex_real_loss(x, y):
    z = x + 1j * y
    return (np.sum(np.abs(z) ** 2) + np.sum(((x + 1j * y) ** 2).real * (z * z).imag) + np.sum(np.angle(z) ** 2)
            + np.sum(np.real(z * np.conj(z * 1j + 2))))


def ffts(x):
    k = np.fft.rfftfreq(8, d=0.1) * 2 * np.pi
    return (np.sum(np.abs(np.fft.fft(x)) ** 2 * np.arange(8.0))
            + np.sum(np.abs(np.fft.rfft(x, norm="ortho")) * np.arange(5.0))
            + np.sum(np.fft.irfft(1j * k * np.fft.rfft(x), n=8) ** 2)
            + np.sum(np.real(np.fft.ifft(np.fft.fft(x) * np.exp(-np.arange(8.0)))) ** 2))


def convolutions(x, k):
    return (np.sum(np.convolve(x, k) ** 2) + np.sum(np.convolve(x, k, mode="same") ** 2 * np.arange(6.0))
            + np.sum(np.correlate(x, k, mode="valid") ** 2) + np.sum(np.polyval(k, x) ** 2))


def _n(*shape):
    return lambda r: r.standard_normal(shape)


def _away_from_zero(*shape):
    def make(r):
        x = r.standard_normal(shape)
        return np.where(np.abs(x) < 0.2, 0.5, x)
    return make


def _uniform(lo, hi, *shape):
    return lambda r: r.uniform(lo, hi, shape)


def _with_zeros(r):
    x = r.standard_normal((3, 4))
    x[1, 2] = 0.0
    x[0, 0] = 0.0
    return x


def _well_conditioned(r):
    return r.standard_normal((4, 4)) + 4 * np.eye(4)


def _spd(r):
    a = r.standard_normal((3, 3))
    return a @ a.T + 3 * np.eye(3)


def _cases(*makers):
    return lambda r: [m(r) if callable(m) else m for m in makers]


CASES = {
    "sum_axes": (sum_axes, _cases(_n(2, 3, 4)), 0),
    "mean_keep": (mean_keep, _cases(_n(2, 3, 4)), 0),
    "prod_axes": (prod_axes, _cases(_n(3, 4)), 0),
    "prod_axes_with_zeros": (prod_axes, _cases(_with_zeros), 0),
    "var_std_ddof": (var_std_ddof, _cases(_n(4, 5)), 0),
    "max_min_gathers": (max_min_gathers, _cases(_n(3, 4)), 0),
    "vector_norms": (vector_norms, _cases(_away_from_zero(6)), 0),
    "matrix_norms": (matrix_norms, _cases(_n(4, 3)), 0),
    "axis_norms": (axis_norms, _cases(_n(3, 4)), 0),
    "logsumexp_softmax": (logsumexp_softmax, _cases(_n(3, 5), _n(3, 5)), (0, 1)),
    "cross_entropy": (cross_entropy, _cases(_n(4, 5), np.array([0, 3, 3, 1])), 0),
    "cumulative": (cumulative, _cases(_n(3, 4)), 0),
    "cumulative_with_zeros": (cumulative, _cases(_with_zeros), 0),
    "differences": (differences, _cases(_n(3, 5)), 0),
    "trapezoid_x": (trapezoid_x, _cases(_n(6), lambda r: np.sort(r.standard_normal(6))), (0, 1)),
    "weighted_average": (weighted_average, _cases(_n(3, 5), _uniform(0.5, 2.0, 5)), (0, 1)),
    "nan_reductions": (nan_reductions, _cases(_n(3, 4)), 0),
    "exp_log_family": (exp_log_family, _cases(_away_from_zero(6)), 0),
    "roots_and_powers": (roots_and_powers, _cases(_away_from_zero(6)), 0),
    "power_arrays": (power_arrays, _cases(_away_from_zero(6), _n(6)), (0, 1)),
    "trig_hyper": (trig_hyper, _cases(_uniform(-1.2, 1.2, 6)), 0),
    "sinc_at_zero": (trig_hyper, _cases(np.array([0.0, 0.3, -1.1])), 0),
    "inverse_trig": (inverse_trig, _cases(_uniform(-0.9, 0.9, 6)), 0),
    "two_argument": (two_argument, _cases(_away_from_zero(6), _away_from_zero(6)), (0, 1)),
    "max_min_clip": (max_min_clip, _cases(np.array([-1.2, -0.3, 0.1, 0.4, 0.9, 2.0]), _n(6),
                                          _uniform(-0.55, -0.45, 6), _uniform(0.45, 0.55, 6)), (0, 1, 2, 3)),
    "sigmoid_losses": (sigmoid_losses, _cases(_n(6), np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])), 0),
    "untaken_singular_branches": (untaken_singular_branches,
                                  _cases(np.array([-0.5, 0.4, -1.2, 2.0, 0.7, -0.1, -0.6, 0.9])), 0),
    "zero_gradient_pieces": (zero_gradient_pieces, _cases(np.array([0.12, 0.33, -0.44, 1.11, -1.32, 0.81])), 0),
    "math_in_a_loop": (math_in_a_loop, _cases(_away_from_zero(5)), 0),
    "huber": (huber, _cases(np.array([0.1, -0.3, 0.7, -1.4, 2.0, 0.45])), 0),
    "views": (views, _cases(_n(2, 3, 4)), 0),
    "broadcast_back": (broadcast_back, _cases(_n(3, 1), _n(4), _n(3, 4)), (0, 1, 2)),
    "broadcast_0d": (broadcast_back, _cases(_n(), _n(1, 1), _n(3, 4)), (0, 1, 2)),
    "tile_repeat_roll": (tile_repeat_roll, _cases(_n(3, 2)), 0),
    "pads": (pads, _cases(_n(3, 4)), 0),
    "join_split": (join_split, _cases(_n(3, 4), _n(3)), (0, 1)),
    "fancy_indices": (fancy_indices, _cases(_n(3, 4), _n(4)), (0, 1)),
    "takes": (takes, _cases(_n(3, 4), _n(3, 1)), (0, 1)),
    "triangles_diagonals": (triangles_diagonals, _cases(_n(4, 4)), 0),
    "products": (products, _cases(_n(3), _n(4), _n(4, 4)), (0, 1, 2)),
    "einsums": (einsums, _cases(_n(3, 4), _n(4, 3), _n(3)), (0, 1, 2)),
    "batched_contractions": (batched_contractions, _cases(_n(2, 3, 4), _n(2, 4, 2), _n(4)), (0, 1, 2)),
    "tensordots": (tensordots, _cases(_n(3, 4, 2), _n(2, 3, 5)), (0, 1)),
    "matmul_1d": (matmul_1d, _cases(_n(3), _n(3, 4), _n(4)), (0, 1, 2)),
    "solves": (solves, _cases(_well_conditioned, _n(4)), (0, 1)),
    "slogdets": (slogdets, _cases(_n(3, 3)), 0),
    "gaussian_nll": (gaussian_nll, _cases(_spd, _n(3)), (0, 1)),
    "spectral": (spectral, _cases(_n(4, 4)), 0),
    "singular_values": (singular_values, _cases(_n(4, 3)), 0),
    "qr_lstsq_pinv": (qr_lstsq_pinv, _cases(_n(4, 3), _n(4)), (0, 1)),
    "interps": (interps, _cases(_uniform(-0.95, 0.95, 5), _n(6), lambda r: XP + 0.05 * r.standard_normal(6)),
                (0, 1, 2)),
    "order_statistics": (order_statistics, _cases(_n(7)), 0),
    "order_statistics_axis": (order_statistics_axis, _cases(_n(3, 4)), 0),
    "searchsorted_gather": (searchsorted_gather, _cases(_uniform(-1.9, 1.9, 5), _n(6)), (0, 1)),
    "complex_real_loss": (complex_real_loss, _cases(_n(5), _n(5)), (0, 1)),
    "ffts": (ffts, _cases(_n(8)), 0),
    "convolutions": (convolutions, _cases(_n(6), _n(3)), (0, 1)),
}


def _copies(args):
    return [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]


def _numerical(f, args, i):
    with np.errstate(all="ignore"):  # the untaken np.where branches overflow and take logs of negatives
        return numerical_grad(lambda *xs: float(f(*_copies(xs))), _copies(args), i)


def _check(f, args, argnums, backend="interpret", rtol=1e-5):
    got = looptrace.grad(f, argnums=argnums, backend=backend)(*_copies(args))
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    got = got if isinstance(argnums, tuple) else (got,)
    for i, g in zip(nums, got):
        assert np.asarray(g).shape == args[i].shape and np.asarray(g).dtype == args[i].dtype
        assert_close(g, _numerical(f, [np.asarray(a, np.float64) if a.dtype.kind == "f" else a for a in args], i),
                     rtol, f"{f.__name__} argument {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name, rng):
    f, make, argnums = CASES[name]
    _check(f, make(rng), argnums)


@pytest.mark.parametrize("name", ["logsumexp_softmax", "var_std_ddof", "pads", "einsums", "solves", "ffts",
                                  "order_statistics", "untaken_singular_branches"])
def test_float32_arguments_get_float32_gradients(name, rng):
    f, make, argnums = CASES[name]
    args = [a.astype(np.float32) if a.dtype == np.float64 else a for a in make(rng)]
    _check(f, args, argnums, rtol=2e-3)


def keyword_loss(x, y, scale=2.0):
    return scale * np.sum(x * y ** 2)


def test_argnums_and_keywords(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    grad = looptrace.grad
    assert_close(grad(keyword_loss, backend="interpret")(x, y, scale=3.0), 3 * y ** 2, 1e-12, "scale=3")
    assert_close(grad(keyword_loss, argnums=1, backend="interpret")(x, y=y), 4 * x * y, 1e-12, "y by keyword")
    assert_close(grad(keyword_loss, argnums=2, backend="interpret")(x, y, scale=3.0), np.sum(x * y ** 2), 1e-12,
                 "scale's gradient")
    gy, gx = grad(keyword_loss, argnums=(1, 0), backend="interpret")(x, y)
    assert_close(gx, 2 * y ** 2, 1e-12, "x, second")
    assert_close(gy, 4 * x * y, 1e-12, "y, first")


def zero_d(x):
    return np.asarray(np.sum(x ** 2))


def python_float(x):
    return float(np.sum(x ** 2))


def test_value_and_grad_keeps_the_value_type(rng):
    x = rng.standard_normal(4)
    for f in (zero_d, python_float, var_std_ddof):
        v, g = looptrace.value_and_grad(f, backend="interpret")(x.reshape(2, 2) if f is var_std_ddof else x)
        want = f(x.reshape(2, 2) if f is var_std_ddof else x)
        assert type(v) is type(want) and np.shape(v) == np.shape(want)
        assert np.allclose(v, want, rtol=1e-12)
    v, g = looptrace.value_and_grad(lambda a: np.sum(a ** 2), backend="interpret")(x.astype(np.float32))
    assert v.dtype == np.float32 and g.dtype == np.float32


def cpu_batch(x, y):
    """Three of the losses above in one kernel (products with zeros, the
    zero-cotangent guard of untaken singular branches, two-argument ufuncs):
    one compile."""
    return prod_axes(x) + untaken_singular_branches(y) + two_argument(y, y[::-1])


# slow: each loss's gradient runs on the interpreter above; cpu gradients keep running in
# test_seed_gradients.py, products and untaken where-branches' lowerings in tests/codegen.
@pytest.mark.slow
def test_cpu_kernel_matches_finite_differences(rng):
    _check(cpu_batch, [_with_zeros(rng), np.array([-0.5, 0.4, -1.2, 2.0, 0.7, -0.1, -0.6, 0.9])], (0, 1), backend="cpu")
