"""Which commonly used NumPy functions compile: each case is a small
function of random arrays, run plain and jitted on the interpreter and the
cpu backend; the table says ok, refused (the UnsupportedError's first line),
error (another exception) or wrong (a different result).

    python tools/numpy_survey.py [--backends interpret,cpu] [--only NAME,...]
"""
from __future__ import annotations

import argparse
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


def same(got, want) -> bool:
    if isinstance(want, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(want) and all(map(same, got, want))
    g, w = np.asarray(got), np.asarray(want)
    if g.shape != w.shape or g.dtype != w.dtype:
        return False
    if w.dtype.kind in "fc":
        return np.allclose(g, w, rtol=1e-9, atol=1e-12, equal_nan=True)
    return np.array_equal(g, w)


def run(name: str, backend: str) -> str:
    fn, args = CASES[name]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            want = fn(*[a.copy() for a in args])
        except Exception as e:  # NumPy itself refuses
            return f"numpy raises {type(e).__name__}"
        try:
            got = lt.jit(fn, backend=backend)(*[a.copy() for a in args])
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
