"""Never slower than the code it replaces (issue 11): the sieve (a strided
fill in a while loop, then a count_nonzero of the bool array), np.interp on
sorted and unsorted points (and, session 48, nearly sorted, descending,
all-equal points and points all outside the samples: `_order`; the
`interp_search_*` cases are np.searchsorted alone), and float `**` on arrays
(an array exponent, a literal one, and one passed at run time:
`pow_traced2_64` is x ** p with p = 2.0).

One parent process times the plain function and numba.njit; looptrace runs
in child processes, one per tree (`--before DIR`: an older checkout, e.g.
`git worktree add /tmp/base HEAD`; the tree this file is in: "after"), each
timing one call when the parent asks. Rounds are interleaved (plain, before,
after, njit, rotated and reversed as bench/_timing.compare) and medians
taken over `--repeats`; ratios are plain's median over each case's.

    python bench/replaced_s47.py [--before /tmp/base] [--repeats 9] [--only sieve,interp_sorted] [--serial]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _timing import _round_order  # noqa: E402
from corpus.discrete import sieve  # noqa: E402


def interp(t_new, t, v):
    return np.interp(t_new, t, v, left=0.0, right=0.0)


def interp_default(t_new, t, v):
    return np.interp(t_new, t, v)


def search(t_new, t, v):
    return np.searchsorted(t, t_new, side="right")


def power(x, y):
    return x ** y


def power_scalar(x):
    return x ** 3.0


def power_frac(x):
    return x ** 0.45


def _data(name: str):
    r = np.random.default_rng(47)
    if name == "sieve":
        return sieve, (2_000_000,)
    if name.startswith("interp"):
        n = 1000 if name.endswith("_small") else 1_000_000
        t = np.sort(r.random(1000))
        x = _order(name, r.random(n) * 1.2 - 0.1, r)
        f = search if name.startswith("interp_search") else interp_default if "default" in name else interp
        return f, (x, t, r.standard_normal(1000))
    if name.startswith("pow"):
        dt = np.float32 if name.endswith("32") else np.float64
        x = (r.random(1_000_000) * 4 + 0.01).astype(dt)
        if "arrays" in name:
            return power, (x, (r.random(1_000_000) * 6 - 3).astype(dt))
        if "traced" in name:  # a run-time exponent: NumPy's square / sqrt shortcuts at 2 and 0.5, pow at 1.7
            return power, (x, {"2": 2.0, "05": 0.5, "17": 1.7}[name.split("_")[1][6:]])
        return (power_frac if "frac" in name else power_scalar), (x,)
    raise SystemExit(f"unknown case {name}")


def _order(name: str, x, r):
    """The points of an interp case in the order its name says: `_sorted`,
    `_descending`, `_nearly` (sorted, then 1% of them swapped with a random
    other), `_equal` (all one value inside the samples), `_outside` (sorted,
    every one below or above the samples); else as drawn."""
    if "_sorted" in name or "_nearly" in name or "_outside" in name:
        x = np.sort(x)
    if "_nearly" in name:
        i, k = r.integers(0, x.shape[0], (2, x.shape[0] // 100))
        x[i], x[k] = x[k], x[i]
    if "_outside" in name:
        x = np.where(x < 0.5, x - 0.6, x + 0.6)
    if "_descending" in name:
        x = np.sort(x)[::-1].copy()
    if "_equal" in name:
        x = np.full_like(x, 0.437)
    return x


CASES = ["sieve", "interp_unsorted", "interp_sorted", "interp_default_sorted", "interp_unsorted_small",
         "interp_search_sorted", "interp_search_unsorted", "interp_nearly", "interp_descending", "interp_equal",
         "interp_outside", "interp_search_nearly", "interp_search_descending",
         "pow_arrays64", "pow_arrays32", "pow_scalar64", "pow_frac64", "pow_frac32",
         "pow_traced2_64", "pow_traced05_64", "pow_traced17_64", "pow_traced2_32", "pow_traced05_32",
         "pow_traced17_32"]


def _child(tree: str, names: list[str]) -> None:
    """Serve timed calls: reads a case name a line, answers its seconds."""
    sys.path.insert(0, tree)
    import looptrace as lt
    fns = {}
    for name in names:
        f, args = _data(name)
        j = lt.jit(f, backend="cpu", parallel=os.environ.get("REPLACED_SERIAL") != "1")
        want, got = f(*args), j(*args)
        for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
            w, g = np.asarray(w), np.asarray(g)
            assert w.dtype == g.dtype, (name, w.dtype, g.dtype)
            if name.startswith("pow"):
                assert np.allclose(w, g, rtol=1e-5 if w.dtype == np.float32 else 1e-13), name
            else:
                assert np.array_equal(w, g, equal_nan=True), name
        fns[name] = (j, args)
    print("ready", flush=True)
    for line in sys.stdin:
        j, args = fns[line.strip()]
        t0 = time.perf_counter()
        j(*args)
        print(time.perf_counter() - t0, flush=True)


class _Remote:
    def __init__(self, tree: str, names: list[str]):
        self.p = subprocess.Popen([sys.executable, __file__, "--child", tree, "--only", ",".join(names)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.p.stdout.readline().strip() == "ready"

    def time(self, name: str) -> float:
        self.p.stdin.write(name + "\n")
        self.p.stdin.flush()
        return float(self.p.stdout.readline())

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait()


def _local(fn, args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default=None)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--only", default=",".join(CASES))
    ap.add_argument("--child", default=None)
    ap.add_argument("--serial", action="store_true", help="looptrace with parallel=False")
    a = ap.parse_args()
    names = a.only.split(",")
    if a.child:
        return _child(a.child, names)
    import numba
    if a.serial:
        os.environ["REPLACED_SERIAL"] = "1"
    trees = ({"before": a.before} if a.before else {}) | {"after": str(HERE.parent)}
    remotes = {k: _Remote(v, names) for k, v in trees.items()}
    print(f"{'case':24s} {'plain':>10s} " + " ".join(f"{k:>10s}" for k in remotes) + f" {'njit':>10s}   plain/x")
    for name in names:
        f, args = _data(name)
        nj = numba.njit(f)
        try:
            nj(*args)
        except Exception:  # noqa: BLE001 (Numba may not compile the function)
            nj = None
        cases = {"plain": lambda: _local(f, args)}
        cases |= {k: (lambda r=r: r.time(name)) for k, r in remotes.items()}
        if nj is not None:
            cases["njit"] = lambda: _local(nj, args)
        samples = {k: [] for k in cases}
        for rnd in range(-2, a.repeats):
            for k in _round_order(list(cases), max(rnd, 0)):
                s = cases[k]()
                if rnd >= 0:
                    samples[k].append(s)
        med = {k: statistics.median(v) for k, v in samples.items()}
        cols = " ".join(f"{med[k] * 1e3:8.3f}ms" for k in remotes)
        ratios = " ".join(f"{k}={med['plain'] / med[k]:.2f}x" for k in med if k != "plain")
        njt = f"{med['njit'] * 1e3:8.3f}ms" if "njit" in med else f"{'-':>10s}"
        print(f"{name:24s} {med['plain'] * 1e3:8.3f}ms {cols} {njt}   {ratios}", flush=True)
    for r in remotes.values():
        r.close()


if __name__ == "__main__":
    main()
