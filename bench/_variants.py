"""Two variants of looptrace's code generation over the corpus, in one process.

`corpus_ab(build, ...)`: for every corpus kernel that runs on the cpu backend,
`build(kernel, args, variant)` (variant "old" or "new") gives (jitted
function, kernel source); kernels whose source differs between the variants
are compiled both ways and timed round-robin with the plain function
(bench/_timing.py `compare`), so that the variants see the same machine.
Used by bench/threshold_ab.py and bench/row_groups_ab.py.
"""
from __future__ import annotations

import copy
import time
from typing import Callable

import numpy as np

from bench._timing import compare
from bench.corpus import all_kernels


def corpus_ab(build: Callable, labels: tuple[str, str], repeats: int, only: set[str]) -> None:
    old, new = labels
    print(f"ratio = {old} time / {new} time (above 1: {new} faster); compile = first call")
    for k in all_kernels():
        if k.expect.get("cpu") != "ok" or (only and k.name not in only):
            continue
        args = k.make(np.random.default_rng(0), "bench")
        made = {}
        for variant in ("old", "new"):
            f, src = build(k, args, variant)
            start = time.perf_counter()
            f(*copy.deepcopy(args))
            made[variant] = (f, src, time.perf_counter() - start)
        if made["old"][1] == made["new"][1]:
            continue
        cp = [copy.deepcopy(args) for _ in range(3)]
        f_old, f_new = made["old"][0], made["new"][0]
        m = compare({"plain": lambda: k.fn(*cp[0]), "old": lambda: f_old(*cp[1]),
                     "new": lambda: f_new(*cp[2])}, repeats=repeats)
        print(f"{k.name:26s} plain {m['plain'] * 1e3:9.3f} ms  {old} {m['old'] * 1e3:8.3f}  "
              f"{new} {m['new'] * 1e3:8.3f}  {old}/{new} {m['old'] / m['new']:.2f}  "
              f"compile {old} {made['old'][2]:.2f} s {new} {made['new'][2]:.2f} s", flush=True)
