"""Lists a for loop appends to while reading them: static rows vs a growable buffer.

A for loop over a range of a static trip count that appends to a list and
reads it (`ps.append(ps[-1] + v)`) gets a buffer of static rows since s53
(tracer/carries.py ListSpec._fixed_rows: the preallocated array, which the
gradient follows); before, a buffer the run grows (`reserve`: a capacity
test at every append). In one process, the same functions traced both ways
(the old way by turning _fixed_rows off while tracing), cpu backend,
interleaved calls, medians (ms) and ratios:
  - rnn_list: an 8-wide tanh RNN of 2000 steps, states in a list, stacked;
  - prefix: prefix sums over 1e5 numbers read at [-1] and [len // 2];
  - peaks: a running maximum appended under a condition (a run-time count).
Also prints the cost of a warm value_and_grad of the list RNN beside its
preallocated twin (the old way had no gradient).

    python bench/grown_list_reads.py [--rounds 15]
"""
from __future__ import annotations

import argparse
import statistics
import time
import types

import numpy as np

import looptrace
from looptrace.tracer import carries


def rnn_list(W, X):
    hs = [np.zeros(W.shape[0])]
    for t in range(X.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + X[t]))
    return np.stack(hs)


def prefix(x):
    ps = [0.0]
    for v in x:
        ps.append(ps[-1] + v)
    return ps[-1] + ps[len(ps) // 2]


def peaks(x):
    ys = [0.0]
    for i in range(x.shape[0]):
        if x[i] > ys[-1]:
            ys.append(x[i])
    return np.array(ys)


def rnn_loss_list(W, X):
    hs = [np.zeros(W.shape[0])]
    for t in range(X.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + X[t]))
    return np.sum(np.stack(hs) ** 2)


def rnn_loss_preallocated(W, X):
    H = np.zeros((X.shape[0] + 1, W.shape[0]))
    for t in range(X.shape[0]):
        H[t + 1] = np.tanh(W @ H[t] + X[t])
    return np.sum(H ** 2)


STATIC_ROWS = carries.ListSpec._fixed_rows


def _traced(f, growable: bool, args):
    """f jitted on cpu, traced (on this first call) with static rows or the growable buffer."""
    carries.ListSpec._fixed_rows = (lambda *a, **k: None) if growable else STATIC_ROWS
    try:
        g = types.FunctionType(f.__code__, f.__globals__, f.__name__ + ("_growable" if growable else "_static"))
        j = looptrace.jit(g, backend="cpu")
        np.testing.assert_allclose(j(*args), f(*args), rtol=1e-9)
    finally:
        carries.ListSpec._fixed_rows = STATIC_ROWS
    return j


def _medians(fns: list, args, rounds: int) -> list[float]:
    times = [[] for _ in fns]
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn(*args)
            times[k].append(time.perf_counter() - t0)
    return [statistics.median(t) * 1e3 for t in times]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    rounds = ap.parse_args().rounds
    rng = np.random.default_rng(0)
    W, X = 0.3 * rng.standard_normal((8, 8)), rng.standard_normal((2000, 8))
    x = rng.standard_normal(100_000)
    print("forward, cpu (ms): growable buffer, static rows, ratio")
    for f, args in [(rnn_list, (W, X)), (prefix, (x,)), (peaks, (x,))]:
        old, new = _medians([_traced(f, True, args), _traced(f, False, args)], args, rounds)
        print(f"  {f.__name__:10s} {old:8.3f} {new:8.3f} {old / new:6.2f}x")
    print("value_and_grad of the RNN loss, cpu (ms): list, preallocated")
    fns = [looptrace.value_and_grad(f, argnums=(0, 1), backend="cpu")
           for f in (rnn_loss_list, rnn_loss_preallocated)]
    for fn in fns:
        fn(W, X)
    a, b = _medians(fns, (W, X), rounds)
    print(f"  {a:8.3f} {b:8.3f} {a / b:6.2f}x")


if __name__ == "__main__":
    main()
