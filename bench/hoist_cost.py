"""Gathers kept in the scan against gathers stacked before it
(looptrace/vectorize/gather_reads.py), beside numba.njit, timed round-robin.

For each corpus kernel named, at its bench size: this tree's looptrace
("after") and numba.njit of the plain function run in this process; the
looptrace of another source tree ("before", --before DIR: a copy of an
older commit, e.g. `git archive HEAD | tar -x -C DIR`) runs in a worker
process started with PYTHONPATH=DIR, which times each call it is asked for
and reports the seconds. The rounds alternate the three in the order of
bench/_timing.py (each follows each other equally often), so all see the
same machine; medians over the rounds, of the wall-clock time and of the
calling thread's CPU time ("thread": on a machine shared by more processes
than cores the wall clock mostly measures waiting for a core; it leaves out
the work of prange threads). Each variant's result is checked
against the plain function first, and the script says whether the two
trees generate the same kernel source.

    python bench/hoist_cost.py --before DIR [--only logreg_sgd_minibatch,csr_matvec_slices] [--repeats 12]

Numbers are of one run on one machine; rerun before trusting a small ratio.
"""
from __future__ import annotations

import argparse
import copy
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = "logreg_sgd_minibatch,csr_matvec_slices"


def _kernel(name: str):
    from bench.corpus import all_kernels

    return next(k for k in all_kernels() if k.name == name)


def _prepare(name: str):
    """(timed call, kernel source, matches the plain function) of this process's looptrace."""
    import numpy as np

    import looptrace
    from bench.corpus.run import same

    kernel = _kernel(name)
    args = kernel.make(np.random.default_rng(1), "bench")
    f = looptrace.jit(kernel.fn, backend="cpu")
    ok = same(f(*copy.deepcopy(args)), kernel.fn(*copy.deepcopy(args)), max(kernel.rtol, 1e-7), kernel.atol)
    source = f.explain(*copy.deepcopy(args)).kernel_source or ""
    return _timer(f, args), source, ok


def _timer(fn, args):
    def once() -> tuple[float, float]:
        fresh = copy.deepcopy(args)  # (a kernel that writes into its arguments sees the same data each time)
        start, cpu = time.perf_counter(), time.thread_time()
        fn(*fresh)
        return time.perf_counter() - start, time.thread_time() - cpu

    return once


# --- the worker: the "before" tree -------------------------------------------------------------------
def worker(name: str, tree: str) -> None:
    """Reads a line per request: "t" times one call and answers its seconds."""
    warnings.simplefilter("ignore")
    sys.path.insert(0, tree)  # (its looptrace and bench, not this file's tree)
    import looptrace

    assert os.path.abspath(looptrace.__file__).startswith(tree), looptrace.__file__
    once, source, ok = _prepare(name)
    _send({"source": source, "ok": ok})
    for line in sys.stdin:
        if line.strip() != "t":
            break
        _send({"s": once()})


def _send(obj) -> None:
    data = pickle.dumps(obj).hex()
    sys.stdout.write(data + "\n")
    sys.stdout.flush()


class Remote:
    def __init__(self, tree: str, name: str):
        env = dict(os.environ, PYTHONPATH=tree)
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--before", tree]
        self.p = subprocess.Popen(cmd, cwd=tree, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.info = self._recv()

    def _recv(self):
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("the worker ended without an answer")
        return pickle.loads(bytes.fromhex(line.strip()))

    def __call__(self) -> tuple[float, float]:
        self.p.stdin.write("t\n")
        self.p.stdin.flush()
        return self._recv()["s"]

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait(timeout=60)


# --- the driver --------------------------------------------------------------------------------------
def measure(name: str, before: str, repeats: int) -> dict:
    import numba
    import numpy as np

    from bench._timing import _round_order, whole_turns
    from bench.corpus.run import same

    kernel = _kernel(name)
    args = kernel.make(np.random.default_rng(1), "bench")
    after, source, ok = _prepare(name)
    jitted = numba.njit(kernel.fn)
    ok_njit = same(jitted(*copy.deepcopy(args)), kernel.fn(*copy.deepcopy(args)), max(kernel.rtol, 1e-7), kernel.atol)
    remote = Remote(before, name)
    try:
        cases = {"before": remote, "after": after, "njit": _timer(jitted, args)}
        samples: dict[str, list[tuple[float, float]]] = {c: [] for c in cases}
        n = whole_turns(repeats, len(cases))
        for r in range(-2, n):
            for c in _round_order(list(cases), max(r, 0)):
                s = cases[c]()
                if r >= 0:
                    samples[c].append(s)
    finally:
        remote.close()
    med = {c: statistics.median(w for w, _ in v) for c, v in samples.items()}
    cpu = {c: statistics.median(t for _, t in v) for c, v in samples.items()}
    return {"medians": med, "cpu": cpu, "rounds": n, "same_source": remote.info["source"] == source,
            "ok": {"before": remote.info["ok"], "after": ok, "njit": ok_njit}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", required=True, help="a source tree of the version to compare with")
    p.add_argument("--only", default=DEFAULT)
    p.add_argument("--repeats", type=int, default=12)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    opts = p.parse_args()
    if opts.worker:
        return worker(opts.worker, os.path.abspath(opts.before))
    warnings.simplefilter("ignore")
    os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp(prefix="lt_hoist_"))
    sys.path.insert(0, ROOT)
    print(f"{'kernel':28s} {'clock':6s} {'before':>10s} {'after':>10s} {'njit':>10s} {'before/after':>12s} "
          f"{'njit/after':>10s}  rounds  same source  results ok")
    for name in filter(None, opts.only.split(",")):
        r = measure(name, os.path.abspath(opts.before), opts.repeats)
        for clock, m in (("wall", r["medians"]), ("thread", r["cpu"])):
            print(f"{name:28s} {clock:6s} {m['before'] * 1e3:8.2f}ms {m['after'] * 1e3:8.2f}ms "
                  f"{m['njit'] * 1e3:8.2f}ms {m['before'] / m['after']:12.2f} {m['njit'] / m['after']:10.2f}  "
                  f"{r['rounds']:6d}  {str(r['same_source']):11s}  {r['ok']}", flush=True)


if __name__ == "__main__":
    main()
