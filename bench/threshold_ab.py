"""Which corpus kernels change when the CPU threading threshold changes, and
what that does to their speed.

For every corpus kernel that runs on the cpu backend, the kernel source is
generated under two values of `emitter.PARALLEL_MIN_WORK` (element-ops above
which a loop nest runs under prange). Kernels whose source differs are then
compiled under both values in this one process and timed round-robin with
the plain function (bench/_timing.py `compare`), so the two variants see the
same machine. Ratios above 1 mean the second value is faster.

    PYTHONPATH=. python bench/threshold_ab.py [--old 1048576] [--new 524288] [--repeats 15] [--only a,b]

Numbers are of one run on one machine; rerun before trusting a small ratio.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import looptrace  # noqa: E402
import looptrace.codegen.cpu.emitter as emitter  # noqa: E402
from bench._timing import compare  # noqa: E402
from bench.corpus import all_kernels  # noqa: E402


def _build(kernel, args, limit: int):
    emitter.PARALLEL_MIN_WORK = limit
    f = looptrace.jit(kernel.fn, backend="cpu")
    f(*copy.deepcopy(args))
    return f, f.explain(*copy.deepcopy(args)).kernel_source or ""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--old", type=int, default=1 << 20)
    p.add_argument("--new", type=int, default=emitter.PARALLEL_MIN_WORK)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--only", default="")
    opts = p.parse_args()
    os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp(prefix="lt_ab_"))
    only = set(filter(None, opts.only.split(",")))
    print(f"PARALLEL_MIN_WORK old={opts.old} new={opts.new}; ratio = old time / new time")
    for k in all_kernels():
        if k.expect.get("cpu") != "ok" or (only and k.name not in only):
            continue
        args = k.make(np.random.default_rng(0), "bench")
        f_old, src_old = _build(k, args, opts.old)
        f_new, src_new = _build(k, args, opts.new)
        if src_old == src_new:
            continue
        cp = [copy.deepcopy(args) for _ in range(3)]
        m = compare({"plain": lambda: k.fn(*cp[0]), "old": lambda: f_old(*cp[1]),
                     "new": lambda: f_new(*cp[2])}, repeats=opts.repeats)
        print(f"{k.name:26s} plain {m['plain'] * 1e3:9.3f} ms  old {m['old'] * 1e3:8.3f}  "
              f"new {m['new'] * 1e3:8.3f}  old/new {m['old'] / m['new']:.2f}", flush=True)


if __name__ == "__main__":
    main()
