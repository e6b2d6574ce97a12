"""What one call of a corpus kernel costs, warm and with cold caches, and
how much of it is looptrace's call path rather than its kernel.

bench/corpus.py times one call right after one call of the plain function
(interleaved, bench/_timing.py), so every Python object on a call's path is
out of cache then. This benchmark separates the parts, for each kernel named,
in one process, interleaved, medians:
  - looptrace: `looptrace.jit(fn)(*args)`, the user's call;
  - kernel: the generated Numba kernel's dispatcher called directly (what
    the call path adds is looptrace minus kernel);
  - numba: `numba.njit(fn)(*args)` where Numba compiles the plain function.
Two regimes: "warm" (calls back to back) and "after plain" (each call right
after one call of the plain function, as bench/corpus.py times it).

    python bench/call_cost.py [--kernels pi_monte_carlo,heat_1d_loops,...] [--rounds 21]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT = "pi_monte_carlo,heat_1d_loops,ewma,ising_metropolis,gbm_paths,histogram_fixed,group_max"


def measure(name: str, rounds: int) -> dict[str, dict[str, float]]:
    import numba
    import numpy as np

    import looptrace
    from bench.corpus import all_kernels

    kernel = next(k for k in all_kernels() if k.name == name)
    args = kernel.make(np.random.default_rng(1), "bench")
    jitted = looptrace.jit(kernel.fn, backend="cpu")
    jitted(*copy.deepcopy(args))
    jitted(*copy.deepcopy(args))
    compiled = next(iter(jitted._fast.values()))[0]
    cases = {"looptrace": lambda: jitted(*args)}
    run = compiled.run
    if not run.consts and not run.holes and not compiled.program.writebacks and \
            all(s.kind != "static" for s in compiled.program.arg_specs):
        cases["kernel"] = lambda: run.kernel(*args)  # the kernel takes the user's arguments as they are
    try:
        nj = numba.njit(kernel.fn)
        nj(*copy.deepcopy(args))
        cases["numba"] = lambda: nj(*args)
    except Exception:  # noqa: BLE001 - Numba does not compile it
        pass
    out = {}
    for regime in ("warm", "after plain"):
        samples = {c: [] for c in cases}
        for r in range(rounds):
            names = list(cases)[r % len(cases):] + list(cases)[:r % len(cases)]
            for c in names:
                if regime == "after plain":
                    with np.errstate(all="ignore"):
                        kernel.fn(*args)
                start = time.perf_counter()
                cases[c]()
                samples[c].append(time.perf_counter() - start)
        out[regime] = {c: statistics.median(v) for c, v in samples.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", default=DEFAULT)
    ap.add_argument("--rounds", type=int, default=21)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'kernel':18s} {'regime':12s} {'looptrace':>10s} {'kernel':>10s} {'numba':>10s} "
          f"{'path adds':>10s} {'numba/lt':>9s}")
    for name in a.kernels.split(","):
        for regime, m in measure(name, a.rounds).items():
            lt, kn, nb = m["looptrace"], m.get("kernel"), m.get("numba")
            us = lambda s: f"{s * 1e6:8.1f}us" if s is not None else f"{'':10s}"  # noqa: E731
            adds = us(lt - kn) if kn is not None else f"{'':10s}"
            ratio = f"{nb / lt:8.2f}x" if nb is not None else ""
            print(f"{name:18s} {regime:12s} {us(lt)} {us(kn)} {us(nb)} {adds} {ratio}")


if __name__ == "__main__":
    main()
