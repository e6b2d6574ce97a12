"""Already-vectorized NumPy one-liners against the same code under
@looptrace.jit (cpu backend, default threading): one process, interleaved,
medians; ratio NumPy / looptrace (above 1: looptrace faster).

    python bench/array_speed.py [--repeats 7] [--only name,name]

A survey for issue 11's "never slower than the code it replaces": each case
is a line people write on arrays of 10^6 elements or 1000x1000.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import looptrace as lt

rng = np.random.default_rng(0)
V = rng.random(1_000_000)
M = rng.random((1000, 1000))
M32 = M.astype(np.float32)
I = rng.integers(0, 1000, 1_000_000)
W = rng.integers(0, 10**12, 1_000_000)
B = V > 0.5

CASES = {
    "sum": (lambda v: v.sum(), V), "mean_axis0": (lambda m: m.mean(axis=0), M), "mean_axis1": (lambda m: m.mean(axis=1), M),
    "std": (lambda v: v.std(), V), "var_axis0": (lambda m: m.var(axis=0), M), "max_axis1": (lambda m: m.max(axis=1), M),
    "ptp_axis1": (lambda m: m.max(axis=1) - m.min(axis=1), M),
    "argmax": (lambda v: v.argmax(), V), "argmin_axis0": (lambda m: m.argmin(axis=0), M),
    "cumsum": (lambda v: np.cumsum(v), V), "cumsum_axis0": (lambda m: np.cumsum(m, axis=0), M),
    "cumprod_axis1": (lambda m: np.cumprod(m, axis=1), M), "diff": (lambda v: np.diff(v), V),
    "sort": (lambda v: np.sort(v), V), "argsort": (lambda v: np.argsort(v), V),
    "sort_axis1": (lambda m: np.sort(m, axis=1), M), "where": (lambda v: np.where(v > 0.5, v, -v), V),
    "clip": (lambda v: np.clip(v, 0.2, 0.8), V), "transpose_copy": (lambda m: m.T.copy(), M),
    "matmul": (lambda m: m @ m, M), "matvec": (lambda m: m @ m[0], M), "outer": (lambda v: np.outer(v[:1000], v[:1000]), V),
    "take": (lambda v: v[I], V), "mask_sum": (lambda v: v[v > 0.5].sum(), V),
    "mask_write": (lambda v: np.where(v > 0.5, 0.0, v), V), "concatenate": (lambda v: np.concatenate([v, v]), V),
    "stack": (lambda m: np.stack([m, m]), M), "roll": (lambda v: np.roll(v, 7), V),
    "linspace_math": (lambda v: np.sin(np.linspace(0, 10, v.shape[0])) * v, V),
    "bincount": (lambda v: np.bincount((v * 1000).astype(np.int64), minlength=1000), V),
    "histogram": (lambda v: np.histogram(v, bins=50, range=(0.0, 1.0))[0], V),
    "searchsorted": (lambda v: np.searchsorted(np.linspace(0, 1, 1000), v), V),
    "interp": (lambda v: np.interp(v, np.linspace(0, 1, 100), np.linspace(0, 1, 100) ** 2), V),
    "einsum_ij_j": (lambda m: np.einsum("ij,j->i", m, m[0]), M),
    "norm_axis1": (lambda m: np.linalg.norm(m, axis=1), M), "abs_diff_mean": (lambda v: np.abs(np.diff(v)).mean(), V),
    "astype_f32": (lambda v: v.astype(np.float32), V), "f32_sum_axis0": (lambda m: m.sum(axis=0), M32),
    "int_sum": (lambda i: i.sum(), I), "int_mod": (lambda i: (i % 7).sum(), I),
    "softmax_rows": (lambda m: np.exp(m - m.max(axis=1, keepdims=True)) / np.exp(m - m.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True), M),
    "pairwise_sq": (lambda m: ((m[:300, None, :50] - m[None, :300, :50]) ** 2).sum(-1), M),
    "stencil": (lambda m: m[1:-1, 1:-1] + 0.25 * (m[:-2, 1:-1] + m[2:, 1:-1] + m[1:-1, :-2] + m[1:-1, 2:]), M),
    "any": (lambda b: b.any(), B), "count_nonzero": (lambda b: np.count_nonzero(b), B),
    "median": (lambda v: np.median(v), V), "percentile": (lambda v: np.percentile(v, [5, 50, 95]), V),
    "unique_sum": (lambda i: np.unique(i).sum(), I), "sort_small_ints": (lambda i: np.sort(i), I),
    "sort_wide_ints": (lambda w: np.sort(w), W), "unique_wide_sum": (lambda w: np.unique(w).sum(), W),
    "argsort_stable_ints": (lambda i: np.argsort(i, kind="stable"), I),
    "unique_counts_entropy": (lambda i: (lambda c: -(c / c.sum() * np.log(c / c.sum())).sum())(
        np.unique(i, return_counts=True)[1]), I), "meshgrid": (lambda v: sum(g.sum() for g in np.meshgrid(v[:1000], v[:1000])), V),
    "convolve": (lambda v: np.convolve(v, np.ones(9) / 9, mode="same"), V),
    "round": (lambda v: np.round(v, 2), V), "floor_div": (lambda v: v // 0.1, V), "sign": (lambda v: np.sign(v - 0.5), V),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    for name, (fn, arg) in CASES.items():
        if a.only and name not in a.only.split(","):
            continue
        try:
            j = lt.jit(lambda x, fn=fn: fn(x), backend="cpu")
            j(arg)
        except Exception as e:  # report, do not stop the survey
            print(f"{name:16s} looptrace error: {type(e).__name__}: {str(e).splitlines()[0][:100]}", flush=True)
            continue
        tp, tj = [], []
        for _ in range(a.repeats):
            t = time.perf_counter(); fn(arg); tp.append(time.perf_counter() - t)
            t = time.perf_counter(); j(arg); tj.append(time.perf_counter() - t)
        p, q = np.median(tp) * 1e3, np.median(tj) * 1e3
        print(f"{name:16s} numpy {p:8.3f} ms  looptrace {q:8.3f} ms  ratio {p / q:5.2f}", flush=True)


if __name__ == "__main__":
    main()
