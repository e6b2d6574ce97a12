"""Gradient of rnn_taps: looptrace.value_and_grad against the forward pass,
a hand-written NumPy BPTT (weight gradients as one GEMM each), and JAX's
value_and_grad of the lax.scan version when JAX is installed; then peak
memory (tracemalloc) of value_and_grad with and without checkpointing.

    python bench/grad_bench.py [--backend interpret|cpu] [--sizes 1001,10000] [--repeats 5]

Loss: sum(Y); gradients with respect to y0, W1, W2, W3 (float64).
"""

import argparse
import math
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import looptrace  # noqa: E402
from looptrace import pipeline  # noqa: E402
from bench import competitors  # noqa: E402
from bench._timing import compare, print_table  # noqa: E402
from looptrace.examples import _rnn_args, rnn_taps  # noqa: E402

WRT = (1, 2, 3, 4)


def numpy_bptt(X, y0, W1, W2, W3):
    """Hand-written value and gradient of sum(rnn_taps(...))."""
    U = X[1:] @ W2.T + X[:-1] @ W3.T
    Y = np.empty((U.shape[0], y0.shape[0]))
    y = y0
    for t in range(U.shape[0]):
        y = np.tanh(W1 @ y + U[t])
        Y[t] = y
    G = np.empty_like(Y)  # cotangent of the pre-activation, per step
    g = np.zeros_like(y0)
    for t in range(U.shape[0] - 1, -1, -1):
        g = (g + 1.0) * (1.0 - Y[t] ** 2)
        G[t] = g
        g = W1.T @ g
    Yprev = np.vstack([y0[None], Y[:-1]])
    return Y.sum(), (g, G.T @ Yprev, G.T @ X[1:], G.T @ X[:-1])


def rnn_taps_loss(X, y0, W1, W2, W3):
    """rnn_taps with the loss accumulated in the loop: no O(T) output, so the
    saved residuals are all that grows with T."""
    y = y0
    total = 0.0
    for t in range(1, X.shape[0]):
        y = np.tanh(W1 @ y + W2 @ X[t] + W3 @ X[t - 1])
        total += np.sum(y)
    return total


def jax_value_and_grad():
    if not competitors.HAVE_JAX:
        return None
    import jax

    def loss(y0, W1, W2, W3, X):
        return competitors.rnn_taps_jax.__wrapped__(X, y0, W1, W2, W3).sum()

    vg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2, 3)))
    return lambda X, y0, W1, W2, W3: jax.block_until_ready(vg(y0, W1, W2, W3, X))


def check(args, vg) -> None:
    value, grads = vg(*args)
    ref_value, ref_grads = numpy_bptt(*args)
    np.testing.assert_allclose(value, ref_value, rtol=1e-9)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-7, atol=1e-10)


def time_case(T: int, backend: str, repeats: int, nx: int = 10, ny: int = 20) -> dict[str, float]:
    args = _rnn_args(np.random.default_rng(0), T=T, nx=nx, ny=ny)
    fwd = looptrace.jit(rnn_taps, backend=backend)
    vg = looptrace.value_and_grad(lambda *a: fwd(*a).sum(), argnums=WRT, backend=backend)
    check(args, vg)
    cases = {"forward": lambda: fwd(*args), "value_and_grad": lambda: vg(*args),
             "numpy_bptt": lambda: numpy_bptt(*args)}
    jvg = jax_value_and_grad()
    if jvg is not None:
        cases["jax_value_and_grad"] = lambda: jvg(*args)
    return compare(cases, repeats=repeats, warmup=1)


def peak_memory(fn, T: int, backend: str, checkpoint: int | None) -> float:
    args = _rnn_args(np.random.default_rng(0), T=T)
    fwd = looptrace.jit(fn, backend=backend)
    vg = looptrace.value_and_grad(lambda *a: fwd(*a).sum(), argnums=WRT, backend=backend,
                                  checkpoint=checkpoint)
    vg(*args)  # compile outside the measurement
    tracemalloc.start()
    vg(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="interpret")
    ap.add_argument("--sizes", default="1001,10000")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--nx", type=int, default=10)
    ap.add_argument("--ny", type=int, default=20)
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory table")
    opts = ap.parse_args()
    sizes = [int(s) for s in opts.sizes.split(",")]
    rows = {f"rnn_taps T={T} x{opts.nx} y{opts.ny}": time_case(T, opts.backend, opts.repeats, opts.nx, opts.ny)
            for T in sizes}
    print(f"backend={opts.backend}; JAX available: {competitors.HAVE_JAX}")
    print_table(rows, baseline="forward")
    if opts.no_memory:
        return
    print("\npeak memory of value_and_grad (tracemalloc, MiB; interpret backend: tracemalloc "
          "does not see the CPU backend's Numba allocations):")
    for passes in ("with the pipeline's passes", "without passes (the gradient IR as built)"):
        saved = pipeline.PASSES
        if passes.startswith("without"):
            pipeline.PASSES = ()
        try:
            print(f" {passes}:")
            for fn in (rnn_taps, rnn_taps_loss):
                for T in sizes:
                    k = int(math.sqrt(T))
                    full = peak_memory(fn, T, "interpret", None)
                    ckpt = peak_memory(fn, T, "interpret", k)
                    print(f"  {fn.__name__:14s} T={T:6d}: full saving {full:8.3f}   "
                          f"checkpoint={k:3d} {ckpt:8.3f}")
        finally:
            pipeline.PASSES = saved


if __name__ == "__main__":
    main()
