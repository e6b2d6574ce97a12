"""Which corpus kernels change when row groups are switched off, and what
that does to their speed and compile time.

Row groups (codegen/cpu/nest.py `_row_group`) run the roots over one leading
axis that read each other only in their own row in one loop over the rows.
For every corpus kernel that runs on the cpu backend, the kernel source is
generated with them (default) and without (LOOPTRACE_NO_ROW_GROUPS=1);
kernels whose source differs are compiled both ways in this one process and
timed round-robin with the plain function (bench/_timing.py `compare`), so
the two variants see the same machine. off/on above 1 means row groups are
faster. Compile times are of each variant's first call (the first kernel of
the process also pays Numba's start: read them as rough).

    PYTHONPATH=. python bench/row_groups_ab.py [--repeats 15] [--only a,b]

Numbers are of one run on one machine; rerun before trusting a small ratio.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import looptrace  # noqa: E402
from bench._timing import compare  # noqa: E402
from bench.corpus import all_kernels  # noqa: E402

SWITCH = "LOOPTRACE_NO_ROW_GROUPS"


def _build(kernel, args, grouped: bool):
    if grouped:
        os.environ.pop(SWITCH, None)
    else:
        os.environ[SWITCH] = "1"
    try:
        f = looptrace.jit(kernel.fn, backend="cpu")
        src = f.explain(*copy.deepcopy(args)).kernel_source or ""
        start = time.perf_counter()
        f(*copy.deepcopy(args))
        return f, src, time.perf_counter() - start
    finally:
        os.environ.pop(SWITCH, None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--only", default="")
    opts = p.parse_args()
    os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp(prefix="lt_rows_"))
    only = set(filter(None, opts.only.split(",")))
    print("ratio = off time / on time (above 1: row groups faster)")
    for k in all_kernels():
        if k.expect.get("cpu") != "ok" or (only and k.name not in only):
            continue
        args = k.make(np.random.default_rng(0), "bench")
        f_off, src_off, c_off = _build(k, args, grouped=False)
        f_on, src_on, c_on = _build(k, args, grouped=True)
        if src_off == src_on:
            continue
        cp = [copy.deepcopy(args) for _ in range(3)]
        m = compare({"plain": lambda: k.fn(*cp[0]), "off": lambda: f_off(*cp[1]),
                     "on": lambda: f_on(*cp[2])}, repeats=opts.repeats)
        print(f"{k.name:26s} plain {m['plain'] * 1e3:9.3f} ms  off {m['off'] * 1e3:8.3f}  on {m['on'] * 1e3:8.3f}  "
              f"off/on {m['off'] / m['on']:.2f}  compile off {c_off:.2f} s on {c_on:.2f} s", flush=True)


if __name__ == "__main__":
    main()
