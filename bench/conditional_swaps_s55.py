"""Trace time of writes through names that repeated conditional swaps bind (`if x[i] > 0: a, b = b, a`,
then `a[i] += 1.0`, k times), tracer/array.py's `_write_linked` of a git revision (default 0278d5f:
it enumerated every chain of links) against the working tree's, in one process, alternating.

    python bench/conditional_swaps_s55.py [--old REV] [--rounds 3] [--ks 2,4,8,12,16,32]

Each sample is the first call of a fresh `jit(f, backend="interpret")` (convert, trace, passes,
interpret) on an empty kernel cache, checked against the plain function for both signs of x[i];
"refused" is the old code's UnsupportedError (too many chains). Prints medians (s) and old/new.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types

os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp())

import numpy as np  # noqa: E402

import looptrace as lt  # noqa: E402
from looptrace.tracer import array  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def old_write_linked(rev: str):
    """`_write_linked` of `rev`'s tracer/array.py, taking the working tree's (box, value)."""
    src = subprocess.run(["git", "show", f"{rev}:looptrace/tracer/array.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    mod = types.ModuleType("looptrace.tracer._array_old")
    mod.__package__ = "looptrace.tracer"
    mod.__file__ = array.__file__
    exec(compile(src, "old_array.py", "exec"), mod.__dict__)
    mod.Tracer, mod.note_write = array.Tracer, array.note_write  # (the tracer's own class, not a twin)
    return lambda box, value: mod._write_linked(box, value, {id(box)})


def make(k: int):
    lines = ["def f(x, y):", "    a, b = x, y"]
    for i in range(k):
        lines += [f"    if x[{i}] > 0:", "        a, b = b, a", f"    a[{i}] += 1.0"]
    lines += ["    return x, y"]
    path = os.path.join(tempfile.mkdtemp(), f"swaps_{k}.py")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    ns: dict = {}
    exec(compile(open(path).read(), path, "exec"), ns)
    return ns["f"]


def sample(k: int, seed: int) -> float | str:
    f = make(k)
    r = np.random.default_rng(seed)
    x, y = r.standard_normal(k + 4), r.standard_normal(k + 4)
    px, py = x.copy(), y.copy()
    f(px, py)
    t = time.process_time()
    try:
        g = lt.jit(f, backend="interpret")
        g(x, y)
    except lt.errors.UnsupportedError:
        return "refused"
    took = time.process_time() - t
    for _ in range(2):  # other data through the same kernel: other swaps taken
        x2, y2 = r.standard_normal(k + 4), r.standard_normal(k + 4)
        p2, q2 = x2.copy(), y2.copy()
        f(p2, q2)
        g(x2, y2)
        assert np.array_equal(x2, p2) and np.array_equal(y2, q2), k
    assert np.array_equal(x, px) and np.array_equal(y, py), k
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", default="0278d5f")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ks", default="2,4,8,12,16,32")
    a = ap.parse_args()
    new, old = array._write_linked, old_write_linked(a.old)
    ks = [int(k) for k in a.ks.split(",")]
    times: dict = {(k, v): [] for k in ks for v in ("old", "new")}
    for rnd in range(a.rounds):
        for k in ks:
            for v in (("old", "new") if rnd % 2 == 0 else ("new", "old")):
                if times[(k, v)] and times[(k, v)][-1] == "refused":
                    continue
                if v == "old" and k > 12:  # (chains double per swap: past 12 the old code refuses)
                    times[(k, v)].append("refused")
                    continue
                array._write_linked = old if v == "old" else new
                times[(k, v)].append(sample(k, 1000 * rnd + k))
    array._write_linked = new
    print(f"load: {os.getloadavg()[0]:.1f}")
    print(f"{'swaps':>5} {'old s':>9} {'new s':>9} {'old/new':>8}")
    for k in ks:
        m = {}
        for v in ("old", "new"):
            xs = [t for t in times[(k, v)] if t != "refused"]
            m[v] = statistics.median(xs) if xs else None
        show = lambda t: f"{t:9.3f}" if t is not None else f"{'refused':>9}"  # noqa: E731
        ratio = f"{m['old'] / m['new']:8.2f}" if m["old"] and m["new"] else f"{'-':>8}"
        print(f"{k:>5} {show(m['old'])} {show(m['new'])} {ratio}")


if __name__ == "__main__":
    sys.exit(main())
