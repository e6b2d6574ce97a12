"""Threaded kernels on a busy machine: does `parallel=True` ever lose more
than the cores another process takes?

For each Numba threading layer that loads here (tbb, omp, workqueue), in a
fresh child process per layer: a 5-point stencil, two elementwise maps (one
memory-bound) and a row reduction, each compiled by looptrace with `parallel=True` and with
`parallel=False`, timed interleaved (bench/_timing.py, medians) twice: on a
quiet machine, and with a busy-looping process pinned to the last core
(`os.sched_setaffinity`). The question of issue 11: with one core taken,
the threaded kernel must not be slower than the serial one.

    python bench/busy_core.py [--layers tbb,omp,workqueue] [--repeats 41] [--size 1024]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stencil(u):
    out = u.copy()
    out[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
    return out


def smooth_map(x, y):
    return np.sqrt(x * x + y * y) * np.exp(-0.5 * x) + np.sin(y)


def axpy(a, x, y):
    return a * x + y


def row_norms(a):
    return np.sqrt((a * a).sum(axis=1))


import numpy as np  # noqa: E402  (after the kernels: they read np as a global, like user code)

KERNELS = {
    "stencil": (stencil, lambda r, n: (r.standard_normal((n, n)),)),
    "map": (smooth_map, lambda r, n: (r.standard_normal(n * n), r.standard_normal(n * n))),
    "axpy": (axpy, lambda r, n: (1.5, r.standard_normal(n * n), r.standard_normal(n * n))),
    "row_norms": (row_norms, lambda r, n: (r.standard_normal((n, n)),)),
}


def _spin() -> None:
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    while True:
        pass


def child(layer: str, repeats: int, size: int) -> None:
    import numba

    import looptrace
    from bench._timing import compare

    rng = np.random.default_rng(0)
    rows = {}
    for name, (fn, make) in KERNELS.items():
        args = make(rng, size)
        threaded = looptrace.jit(fn, backend="cpu", parallel=True)
        serial = looptrace.jit(fn, backend="cpu", parallel=False)
        cases = {"parallel": lambda: threaded(*args), "serial": lambda: serial(*args)}
        quiet = compare(cases, repeats=repeats, warmup=3)
        busy_proc = mp.get_context("fork").Process(target=_spin, daemon=True)
        busy_proc.start()
        try:
            busy = compare(cases, repeats=repeats, warmup=3)
        finally:
            busy_proc.terminate()
            busy_proc.join()
        rows[name] = {"quiet": quiet, "busy": busy}
    try:
        used = numba.threading_layer()
    except ValueError:  # no kernel went parallel: below looptrace's work threshold
        used = f"{layer}: none"
    print(json.dumps({"layer": used, "threads": numba.get_num_threads(), "rows": rows}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", default="tbb,omp,workqueue")
    ap.add_argument("--repeats", type=int, default=41)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a.child, a.repeats, a.size)
    print(f"cores: {len(os.sched_getaffinity(0))}, size {a.size}; times are medians in ms; "
          f"busy = one process spinning on the last core")
    print(f"{'layer':<10} {'kernel':<10} {'quiet par':>10} {'quiet ser':>10} {'busy par':>10} {'busy ser':>10} "
          f"{'busy par/ser':>13}")
    for layer in a.layers.split(","):
        env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
        out = subprocess.run([sys.executable, __file__, "--child", layer, "--repeats", str(a.repeats),
                              "--size", str(a.size)], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{layer:<10} not available: {out.stderr.strip().splitlines()[-1] if out.stderr else '?'}")
            continue
        res = json.loads(out.stdout.strip().splitlines()[-1])
        for name, r in res["rows"].items():
            q, b = r["quiet"], r["busy"]
            print(f"{res['layer']:<10} {name:<10} {q['parallel'] * 1e3:>10.3f} {q['serial'] * 1e3:>10.3f} "
                  f"{b['parallel'] * 1e3:>10.3f} {b['serial'] * 1e3:>10.3f} {b['parallel'] / b['serial']:>13.2f}")


if __name__ == "__main__":
    main()
