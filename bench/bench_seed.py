"""The seed workloads on looptrace's CPU backend against their competitors.

For each workload (sizes from issue 4) this times, interleaved in one process
(`_timing.compare`, medians): looptrace (backend "cpu"), the plain NumPy loop
(the undecorated function), hand-vectorized NumPy, hand-written Numba, and JAX
when it is installed; it prints one table of medians with ratios to looptrace
(above 1: slower than looptrace) and writes the same numbers as JSON. A plain
loop that takes over a second per call is timed on its own, with fewer
repeats (marked "not interleaved").

Then, each in fresh processes: the cold compile time of each workload (empty
kernel cache) and the warm start from the disk cache (first call in a new
process whose cache holds the kernel), next to the same for a hand-written
`@njit(cache=True)` function; the per-step cost of the scalar recurrence
`y = 0.9 * y + x[t]` over 100,000 steps; and the call overhead on tiny inputs.

    python bench/bench_seed.py [--repeats 15] [--quick] [--json bench/results/bench_seed.json]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import looptrace
from bench import competitors as comp
from bench._timing import compare, print_table
from looptrace.examples import (
    _conv_args,
    _gauss_args,
    _rnn_args,
    batched_conv,
    gaussian_layer,
    rnn_taps,
    sum_reduce,
)


def rnn_f32_args(rng):
    args = _rnn_args(rng, T=10000, nx=100, ny=512)
    return tuple(a.astype(np.float32) for a in args)


# name -> (plain function, args maker, competitors from bench/competitors.py)
WORKLOADS = {
    "rnn_taps": (rnn_taps, lambda r: _rnn_args(r, T=1001, nx=100, ny=200),
                 comp.WORKLOADS["rnn_taps"].competitors),
    "rnn_taps_f32": (rnn_taps, rnn_f32_args, comp.WORKLOADS["rnn_taps"].competitors),
    "gaussian_layer": (gaussian_layer, lambda r: _gauss_args(r, B=1024, D=64, H=256),
                       comp.WORKLOADS["gaussian_layer"].competitors),
    "batched_conv": (batched_conv, lambda r: _conv_args(r, N=32, P=16, F=32, K=27, S=256),
                     comp.WORKLOADS["batched_conv"].competitors),
    "sum_reduce": (sum_reduce, lambda r: (r.standard_normal(10**7),),
                   comp.WORKLOADS["sum_reduce"].competitors),
    "scalar_recurrence": (comp.scalar_recurrence, lambda r: (r.standard_normal(100_000),),
                          comp.WORKLOADS["scalar_recurrence"].competitors),
}
QUICK = {"rnn_taps_f32", "gaussian_layer"}  # dropped by --quick: slow plain loops


def _same(a, b, single: bool) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    rtol, atol = (1e-4, 1e-5) if single else (1e-7, 1e-9)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def time_workload(name: str, repeats: int) -> tuple[dict, dict]:
    """Medians of every case of one workload, and notes (correctness, separate timing)."""
    plain, make, competitors = WORKLOADS[name]
    args = make(np.random.default_rng(0))
    jitted = looptrace.jit(plain, backend="cpu")
    reference = competitors.get("numpy", plain)(*args)
    got = jitted(*args)  # compiles (disk cache permitting)
    single = any(getattr(a, "dtype", None) == np.float32 for a in args)
    notes = {"looptrace matches": _same(reference, got, single)}
    cases = {"looptrace": lambda: jitted(*args)}
    for k, fn in competitors.items():
        try:
            fn(*args)
        except Exception as e:  # e.g. a hand-written kernel that only types float64
            notes[k] = f"failed, left out: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
            continue
        cases[k] = lambda fn=fn: fn(*args)
    t0 = time.perf_counter()
    plain(*args)
    plain_once = time.perf_counter() - t0
    if plain_once < 1.0:
        cases["plain"] = lambda: plain(*args)
    medians = compare(cases, repeats=repeats, warmup=2)
    if plain_once >= 1.0:
        medians["plain"] = min(plain_once, *_repeat(lambda: plain(*args), 2))
        notes["plain"] = "timed alone (slow): best of 3, not interleaved"
    return medians, notes


def _repeat(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


# --- fresh-process compile timings ------------------------------------------------------------
def child_main(kind: str, name: str) -> None:
    """In a fresh process (looptrace, NumPy, Numba and the competitors are
    already imported by this module): seconds of the first and second call."""
    plain, make, competitors = WORKLOADS[name]
    args = make(np.random.default_rng(0))
    fn = looptrace.jit(plain, backend="cpu") if kind == "looptrace" else competitors["numba"]
    t2 = time.perf_counter()
    fn(*args)
    t3 = time.perf_counter()
    fn(*args)
    t4 = time.perf_counter()
    print(json.dumps({"first_call_s": t3 - t2, "second_call_s": t4 - t3}))


def _child(kind: str, name: str, cache_dir: str) -> dict:
    """The child's timings, plus `process_s`: the whole process, start to exit."""
    env = dict(os.environ, LOOPTRACE_CACHE_DIR=cache_dir)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", kind, name], env=env,
                         capture_output=True, text=True, timeout=600, check=False)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"process_s": wall}


def compile_times(names: list[str]) -> dict:
    """Cold compile (empty cache) and warm start (cache filled) per workload."""
    rows = {}
    for name in names:
        with tempfile.TemporaryDirectory() as cache:
            cold = _child("looptrace", name, cache)
            warm = _child("looptrace", name, cache)
        hand = _child("numba", name, tempfile.gettempdir())  # its own cache=True files in bench/
        rows[name] = {"cold_first_call_s": cold.get("first_call_s"),
                      "warm_start_first_call_s": warm.get("first_call_s"),
                      "warm_process_s": warm.get("process_s"),
                      "hand_numba_cached_first_call_s": hand.get("first_call_s"),
                      "hand_numba_process_s": hand.get("process_s"), "errors": [
                          r["error"] for r in (cold, warm, hand) if "error" in r]}
    return rows


def _s(seconds) -> str:
    return "n/a" if seconds is None else f"{seconds:.3f}"


def call_overhead(repeats: int) -> dict:
    """Warm per-call cost on a tiny input: looptrace vs the hand njit."""
    x = np.random.default_rng(1).standard_normal(8)
    lt_fn = looptrace.jit(comp.scalar_recurrence, backend="cpu")
    lt_fn(x)
    nb = comp.scalar_recurrence_numba
    nb(x)
    med = compare({"looptrace": lambda: lt_fn(x), "numba": lambda: nb(x)}, repeats=repeats * 50, warmup=20)
    return {k: v * 1e6 for k, v in med.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="skip the slowest workloads")
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "bench_seed.json"))
    ap.add_argument("--child", nargs=2, metavar=("KIND", "WORKLOAD"), help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.child:
        return child_main(*ns.child)
    names = [n for n in WORKLOADS if not (ns.quick and n in QUICK)]
    rows, notes = {}, {}
    for name in names:
        rows[name], notes[name] = time_workload(name, ns.repeats)
        print(f"{name}: {notes[name]}", flush=True)
    print()
    print_table(rows, baseline="looptrace", json_path=ns.json)
    steps = 100_000
    per_step = {k: v / steps * 1e9 for k, v in rows["scalar_recurrence"].items()}
    print("\nscalar recurrence, ns/step:", {k: round(v, 2) for k, v in per_step.items()})
    overhead = call_overhead(ns.repeats)
    print("call overhead on 8 elements, us:", {k: round(v, 2) for k, v in overhead.items()})
    compiles = compile_times(names)
    print("\ncompile (fresh processes), seconds:")
    for name, r in compiles.items():
        print(f"  {name:18s} cold {_s(r['cold_first_call_s'])} warm start {_s(r['warm_start_first_call_s'])}"
              f" (whole process {_s(r['warm_process_s'])}); hand njit from its cache "
              f"{_s(r['hand_numba_cached_first_call_s'])} (whole process {_s(r['hand_numba_process_s'])})"
              f" {r['errors'] or ''}")
    report = json.loads(Path(ns.json).read_text())
    report |= {"notes": notes, "scalar_recurrence_ns_per_step": per_step,
               "call_overhead_us": overhead, "compile": compiles}
    Path(ns.json).write_text(json.dumps(report, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
