"""Trace time of `rnn_taps` against its trip count.

Each loop body is traced exactly once, so tracing a loop of 10**6 iterations
should take about as long as one of 10: the table's times must be roughly
flat in T. A second column times `explain` (trace plus the pipeline's
passes) the same way. Only the length of X changes with T (nx, ny stay small so making
the data is cheap). Each sample traces on a fresh JitFunction (no signature
cache), so it measures the whole trace: binding arguments, running the
converted function on tracers, building the IR.

    python bench/trace_time.py [--repeats 15]
"""

import argparse
import statistics
import sys
import time

import numpy as np

import looptrace
from looptrace.examples import rnn_taps
from looptrace.ir.core import walk

TRIP_COUNTS = [10, 100, 10**3, 10**4, 10**5, 10**6]


def make_args(T: int, nx: int = 3, ny: int = 4, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [2 * rng.random((T, nx)) - 1, rng.standard_normal(ny), rng.standard_normal((ny, ny)) / ny,
            rng.standard_normal((ny, nx)), rng.standard_normal((ny, nx))]


def trace_once(args: list) -> tuple[float, int]:
    """Seconds to trace rnn_taps on a fresh JitFunction, and its op count."""
    f = looptrace.jit(rnn_taps, backend="interpret")
    t0 = time.perf_counter()
    program = f.trace(args)
    elapsed = time.perf_counter() - t0
    return elapsed, sum(1 for _ in walk(program.body))


def explain_once(args: list) -> float:
    """Seconds for `explain` on a fresh JitFunction: trace plus every pass
    of the pipeline (vectorize, ...), without running the program."""
    f = looptrace.jit(rnn_taps, backend="interpret")
    t0 = time.perf_counter()
    f.explain(*args)
    return time.perf_counter() - t0


def measure(repeats: int) -> list[tuple[int, float, float, int, float]]:
    """(T, median trace s, min trace s, op count, median explain s) per trip
    count, interleaved round-robin so machine drift falls on every T alike."""
    data = {T: make_args(T) for T in TRIP_COUNTS}
    trace_once(data[TRIP_COUNTS[0]])  # warm-up: the AST conversion is cached per function
    explain_once(data[TRIP_COUNTS[0]])
    samples: dict[int, list[float]] = {T: [] for T in TRIP_COUNTS}
    explains: dict[int, list[float]] = {T: [] for T in TRIP_COUNTS}
    n_ops: dict[int, int] = {}
    for r in range(repeats):
        for T in TRIP_COUNTS[r % len(TRIP_COUNTS):] + TRIP_COUNTS[:r % len(TRIP_COUNTS)]:
            elapsed, n_ops[T] = trace_once(data[T])
            samples[T].append(elapsed)
            explains[T].append(explain_once(data[T]))
    return [(T, statistics.median(samples[T]), min(samples[T]), n_ops[T], statistics.median(explains[T]))
            for T in TRIP_COUNTS]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    opts = ap.parse_args(argv)
    rows = measure(opts.repeats)
    base = rows[0][1]
    print(f"trace time of rnn_taps (nx=3, ny=4), median of {opts.repeats}, fresh JitFunction each")
    print(f"{'T':>9} {'median ms':>10} {'min ms':>8} {'vs T=10':>8} {'IR ops':>7} {'explain ms':>11}")
    for T, med, lo, n_ops, expl in rows:
        print(f"{T:>9} {med * 1e3:>10.3f} {lo * 1e3:>8.3f} {med / base:>8.2f} {n_ops:>7} {expl * 1e3:>11.3f}")
    print("explain ms: trace plus the pipeline's passes (vectorize, ...), median, fresh JitFunction each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
