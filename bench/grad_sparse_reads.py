"""Gradients of loops that read the same argument more than once per step
(session-44 probe G's reproducers): `s += x[i] * x[i]`, the API.md RNN
reading `X[t]` and `X[t - 1]` (gradient with respect to X), a scatter-add
`out[idx[i]] += v[i] * v[i]`, and a recurrence plus `s += h * x[t]`.
Before the sparse-sum cotangents these took O(T^2) time (and memory where
the vectorizer batched the per-step dense cotangents into a T x T matrix).

Each (tree, workload, size) runs in its own process (a fresh kernel cache):
median of --repeats calls of value_and_grad after one compiling call, with
the reference (NumPy or a hand-written numba.njit adjoint) timed in the same
process, its gradient checked against looptrace's, and the process's peak
RSS. Trees alternate, workload by workload, for --rounds rounds:

    python bench/grad_sparse_reads.py --tree after=. --tree before=/path/to/old/checkout \\
        [--backend cpu] [--repeats 5] [--rounds 2] [--only sq_twice,rnn_X]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# workload -> sizes (probe G's)
SIZES = {"sq_twice": (80000,), "rnn_X": (8000, 16000), "scatter_twice": (80000,), "rec_accum": (80000,)}


# --- the workloads (plain Python; looptrace compiles them) ------------------------------------------
def sq_twice(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * x[i]
    return s


def rnn(X, y0, W1, W2, W3):
    Y = np.empty((X.shape[0] - 1, y0.shape[0]))
    y = y0
    for t in range(1, X.shape[0]):
        y = np.tanh(W1 @ y + W2 @ X[t] + W3 @ X[t - 1])
        Y[t - 1] = y
    return Y.sum()


def scatter_twice(v, idx):
    out = np.zeros(50)
    for i in range(v.shape[0]):
        out[idx[i]] += v[i] * v[i]
    return np.sum(out ** 2)


def rec_accum(x):
    h = 0.0
    s = 0.0
    for t in range(x.shape[0]):
        h = np.tanh(0.5 * h + x[t])
        s = s + h * x[t]
    return s


# --- references: the gradient by hand ----------------------------------------------------------------
def _njit_refs():
    import numba

    @numba.njit(cache=False)
    def rnn_grad_X(X, y0, W1, W2, W3):
        T, n = X.shape[0], y0.shape[0]
        Y = np.empty((T, n))
        Y[0] = y0
        for t in range(1, T):
            Y[t] = np.tanh(W1 @ Y[t - 1] + W2 @ X[t] + W3 @ X[t - 1])
        gX = np.zeros_like(X)
        g = np.zeros(n)
        for t in range(T - 1, 0, -1):
            a = (g + 1.0) * (1.0 - Y[t] ** 2)
            gX[t] += W2.T @ a
            gX[t - 1] += W3.T @ a
            g = W1.T @ a
        return Y[1:].sum(), gX

    @numba.njit(cache=False)
    def rec_accum_grad(x):
        T = x.shape[0]
        H = np.empty(T + 1)
        H[0] = 0.0
        s = 0.0
        for t in range(T):
            H[t + 1] = np.tanh(0.5 * H[t] + x[t])
            s += H[t + 1] * x[t]
        g = np.empty(T)
        gh = 0.0
        for t in range(T - 1, -1, -1):
            gh += x[t]  # d s / d h_t, plus what flows back from step t + 1
            a = gh * (1.0 - H[t + 1] ** 2)
            g[t] = H[t + 1] + a
            gh = 0.5 * a
        return s, g

    return rnn_grad_X, rec_accum_grad


def _setup(name: str, n: int):
    """(function, args, argnums, reference value-and-grad, reference name)."""
    r = np.random.default_rng(0)
    if name == "sq_twice":
        x = r.normal(size=n)
        return sq_twice, (x,), 0, lambda: (x @ x, 2.0 * x), "numpy"
    if name == "scatter_twice":
        v, idx = r.normal(size=n), r.integers(0, 50, size=n)

        def ref():
            out = np.bincount(idx, v * v, minlength=50)
            return out @ out, 4.0 * out[idx] * v

        return scatter_twice, (v, idx), 0, ref, "numpy"
    rnn_grad_X, rec_accum_grad = _njit_refs()
    if name == "rnn_X":
        args = (r.normal(size=(n, 2)), r.normal(size=3), r.normal(size=(3, 3)) * .4,
                r.normal(size=(3, 2)), r.normal(size=(3, 2)))
        return rnn, args, 0, lambda: rnn_grad_X(*args), "numba.njit"
    x = r.normal(size=n)
    return rec_accum, (x,), 0, lambda: rec_accum_grad(x), "numba.njit"


def worker(name: str, n: int, backend: str, repeats: int) -> dict:
    import resource

    import looptrace

    fn, args, wrt, ref, ref_name = _setup(name, n)
    vg = looptrace.value_and_grad(fn, argnums=wrt, backend=backend)
    t0 = time.perf_counter()
    value, g = vg(*args)
    first = time.perf_counter() - t0
    ref_value, ref_g = ref()
    ok = bool(np.isclose(value, ref_value, rtol=1e-9) and np.allclose(g, ref_g, rtol=1e-7, atol=1e-9))
    times, ref_times = [], []
    for _ in range(repeats):  # interleaved with the reference
        t0 = time.perf_counter()
        vg(*args)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref()
        ref_times.append(time.perf_counter() - t0)
    return {"grad_s": statistics.median(times), "ref_s": statistics.median(ref_times), "ref": ref_name,
            "first_call_s": first, "ok": ok, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "looptrace": str(Path(looptrace.__file__).parent.parent)}


def run_tree(root: str, name: str, n: int, backend: str, repeats: int, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="lt_sparse_reads_") as cache:
        env = dict(os.environ, PYTHONPATH=str(Path(root).resolve()), LOOPTRACE_CACHE_DIR=cache)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, str(n), backend, str(repeats)]
        try:
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                                 cwd=str(Path(root).resolve()))
        except subprocess.TimeoutExpired:
            return {"error": f"over {timeout:.0f} s"}
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"rc {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        name, n, backend, repeats = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
        print(json.dumps(worker(name, n, backend, repeats)))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", action="append", default=[], help="label=path of a checkout (repeatable)")
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated workloads")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per process")
    opts = ap.parse_args()
    trees = [t.split("=", 1) for t in (opts.tree or ["this=" + str(Path(__file__).resolve().parent.parent)])]
    names = [w for w in SIZES if not opts.only or w in opts.only.split(",")]
    results: dict = {}
    for rnd in range(opts.rounds):
        for name in names:
            for n in SIZES[name]:
                order = trees if rnd % 2 == 0 else trees[::-1]
                for label, root in order:
                    res = run_tree(root, name, n, opts.backend, opts.repeats, opts.timeout)
                    results.setdefault((name, n, label), []).append(res)
                    print(f"round {rnd} {name} n={n} {label}: {res}", file=sys.stderr, flush=True)
    print(f"backend={opts.backend}; median of {opts.repeats} calls per process, {opts.rounds} processes per cell "
          "(the cell shows each process's median); peak RSS of the process (compile included)")
    print(f"{'workload':14s} {'n':>6s} {'tree':8s} {'grad (s)':>22s} {'reference (s)':>26s} {'peak RSS MB':>14s} ok")
    for (name, n, label), runs in results.items():
        good = [r for r in runs if "error" not in r]
        if not good:
            print(f"{name:14s} {n:6d} {label:8s} {runs[0]['error']}")
            continue
        grad = " / ".join(f"{r['grad_s']:.4f}" for r in good)
        ref = " / ".join(f"{r['ref_s']:.4f}" for r in good) + f" {good[0]['ref']}"
        rss = " / ".join(f"{r['peak_rss_mb']:.0f}" for r in good)
        print(f"{name:14s} {n:6d} {label:8s} {grad:>22s} {ref:>26s} {rss:>14s} {all(r['ok'] for r in good)}")


if __name__ == "__main__":
    main()
