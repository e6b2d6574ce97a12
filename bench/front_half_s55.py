"""CPU of looptrace's front half (convert, trace, passes) and of the reference interpreter, two
checkouts side by side: each round runs one fresh worker process per checkout, alternating, and
the medians and ratios are printed at the end.

    python bench/front_half_s55.py OLD_ROOT NEW_ROOT [--rounds 5] [--verify stages|1|""]

A worker imports looptrace from its root and, for every corpus kernel (bench/corpus/) that runs on
the interpreter, calls a fresh `jit(fn, backend="interpret")` twice on the kernel's test-size
arguments: the first call converts, traces, runs the passes and interprets; the second only
interprets (the signature is cached; each call gets its own arguments). front half = first - second (process CPU time, summed over
kernels); interpreter = second. LOOPTRACE_VERIFY defaults to "stages", as most test files run.

    python bench/front_half_s55.py OLD_ROOT NEW_ROOT --same-ir

checks instead that both checkouts make the same programs: each kernel's traced and passed IR as
printed (value and length ids renumbered in order of appearance) and its results, hashed, kernel by
kernel (LOOPTRACE_VERIFY=1: the verifier after every pass and step too); it prints the kernels that
differ and exits 1 if any does.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import time


def worker(root: str) -> dict:
    sys.path.insert(0, root)
    sys.path.insert(0, os.path.join(root, "bench"))
    import warnings

    import numpy as np

    import looptrace as lt
    from corpus import all_kernels

    warnings.simplefilter("ignore")
    front = interp = 0.0
    n = 0
    for k in all_kernels():
        if k.expect.get("interpret") != "ok":
            continue
        f = lt.jit(k.fn, backend="interpret")
        first, second = (k.make(np.random.default_rng(0), "test") for _ in range(2))
        try:
            t0 = time.process_time()
            f(*first)
            t1 = time.process_time()
            f(*second)
            t2 = time.process_time()
        except Exception:  # noqa: BLE001 (a kernel whose arguments the call refuses: left out)
            continue
        front += (t1 - t0) - (t2 - t1)
        interp += t2 - t1
        n += 1
    return {"front": front, "interp": interp, "kernels": n}


def _canonical(text: str) -> str:
    """IR text with %value and ?length ids numbered by first appearance (they come from global counters)."""
    names: dict[str, str] = {}
    return re.sub(r"[%?]\d+", lambda m: names.setdefault(m.group(0), f"{m.group(0)[0]}{len(names)}"), text)


def ir_worker(root: str) -> dict:
    """kernel name -> hash of its traced and passed IR and of its results (the interpreter's)."""
    sys.path.insert(0, root)
    sys.path.insert(0, os.path.join(root, "bench"))
    import warnings

    import numpy as np

    import looptrace as lt
    from corpus import all_kernels
    from looptrace.ir.printer import print_program

    warnings.simplefilter("ignore")
    out = {}
    for k in all_kernels():
        if k.expect.get("interpret") != "ok":
            continue
        f = lt.jit(k.fn, backend="interpret")
        try:
            res = f(*k.make(np.random.default_rng(0), "test"))
        except Exception as e:  # noqa: BLE001 (refused arguments: the error's type is compared)
            out[k.name] = type(e).__name__
            continue
        res = res if isinstance(res, tuple) else (res,)
        text = "".join(_canonical(print_program(c.traced)) + "\n==\n" + _canonical(print_program(c.program))
                       for c in f._cache.values())
        text += repr([np.asarray(r).tobytes() if isinstance(r, np.ndarray) else repr(r) for r in res])
        out[k.name] = hashlib.sha1(text.encode()).hexdigest()
    return out


def same_ir(old: str, new: str) -> None:
    env = dict(os.environ, LOOPTRACE_VERIFY="1")
    got = [json.loads(subprocess.run([sys.executable, __file__, root, root, "--ir-worker"], env=env, cwd="/tmp",
                                     capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
           for root in (old, new)]
    differ = sorted(k for k in got[0].keys() | got[1].keys() if got[0].get(k) != got[1].get(k))
    print(f"{len(got[0])} corpus kernels, {len(differ)} with other IR or results: {differ}")
    sys.exit(1 if differ else 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--verify", default="stages")
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--ir-worker", action="store_true")
    ap.add_argument("--same-ir", action="store_true")
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.old)))
        return
    if a.ir_worker:
        print(json.dumps(ir_worker(a.old)))
        return
    if a.same_ir:
        same_ir(a.old, a.new)
        return
    env = dict(os.environ, LOOPTRACE_VERIFY=a.verify)
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for _ in range(a.rounds):
        for name, root in (("old", a.old), ("new", a.new)):
            out = subprocess.run([sys.executable, __file__, root, root, "--worker"], env=env, cwd="/tmp",
                                 capture_output=True, text=True, check=True).stdout
            res[name].append(json.loads(out.strip().splitlines()[-1]))
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"{res['new'][0]['kernels']} corpus kernels, LOOPTRACE_VERIFY={a.verify!r}, {a.rounds} rounds, "
          f"load {load} at the end")
    for part in ("front", "interp"):
        o = statistics.median(r[part] for r in res["old"])
        n = statistics.median(r[part] for r in res["new"])
        print(f"{part:7s} old {o:7.2f} s  new {n:7.2f} s  old/new {o / n:5.2f}  "
              f"(old {[round(r[part], 2) for r in res['old']]}, new {[round(r[part], 2) for r in res['new']]})")


if __name__ == "__main__":
    main()
