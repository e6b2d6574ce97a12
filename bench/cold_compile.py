"""Cold compile time of the seed workloads (or of kernels of the corpus,
bench/corpus/), in fresh processes, for one or more checkouts side by side
(the restructure's check: same compile time).

Each sample is one new process with empty LOOPTRACE_CACHE_DIR and
NUMBA_CACHE_DIR: the first call minus a warm call (trace, passes, Numba
compile). Rounds alternate the trees, so drift falls on all alike.

    python bench/cold_compile.py [--trees /work/before,/work/main] [--rounds 4] [--corpus ising_checkerboard,...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys, time, numpy as np
import looptrace
from looptrace import examples as ex
fn, make = {"rnn_taps": (ex.rnn_taps, ex._rnn_args), "batched_conv": (ex.batched_conv, ex._conv_args),
            "gaussian_layer": (ex.gaussian_layer, ex._gauss_args),
            "sum_reduce": (ex.sum_reduce, lambda r: (r.standard_normal(10**6),))}[sys.argv[1]]
args = make(np.random.default_rng(0))
f = looptrace.jit(fn, backend="cpu")
s = time.perf_counter(); f(*args); first = time.perf_counter() - s
s = time.perf_counter(); f(*args); warm = time.perf_counter() - s
print(first - warm)
"""
# a corpus kernel at its benchmark size, after the plain function has run once (as bench/corpus.py times it)
CORPUS_CHILD = """
import sys, time, warnings, numpy as np
import looptrace
from bench.corpus import all_kernels
warnings.simplefilter("ignore")
kernel = next(k for k in all_kernels() if k.name == sys.argv[1])
args = kernel.make(np.random.default_rng(1), "bench")
kernel.fn(*args)
f = looptrace.jit(kernel.fn, backend="cpu")
s = time.perf_counter(); f(*args); first = time.perf_counter() - s
s = time.perf_counter(); f(*args); warm = time.perf_counter() - s
print(first - warm)
"""
WORKLOADS = ("rnn_taps", "batched_conv", "gaussian_layer", "sum_reduce")


def sample(tree: str, workload: str, corpus: bool = False) -> float:
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, PYTHONPATH=tree, LOOPTRACE_CACHE_DIR=d, NUMBA_CACHE_DIR=d)
        out = subprocess.run([sys.executable, "-c", CORPUS_CHILD if corpus else CHILD, workload], cwd=tree, env=env,
                             capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trees", default=str(ROOT))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--corpus", default="", help="comma-separated corpus kernels, instead of the seed workloads")
    a = ap.parse_args()
    trees = a.trees.split(",")
    workloads = a.corpus.split(",") if a.corpus else WORKLOADS
    times = {(t, w): [] for t in trees for w in workloads}
    for _ in range(a.rounds):
        for w in workloads:
            for t in trees:
                times[t, w].append(sample(t, w, corpus=bool(a.corpus)))
    print("| workload | " + " | ".join(trees) + " |\n|---|" + "---|" * len(trees))
    for w in workloads:
        base = statistics.median(times[trees[0], w])
        cells = [f"{statistics.median(times[t, w]):.2f} s ({statistics.median(times[t, w]) / base:.2f}×) "
                 f"[{', '.join(f'{x:.2f}' for x in times[t, w])}]" for t in trees]
        print(f"| {w} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
