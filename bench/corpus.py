"""Run the kernel corpus (bench/corpus/) through looptrace and Numba.

For each kernel, in a fresh child process with an empty kernel cache (so the
compile is cold and a hang or a crash stays in the child):
  - the outcome on backend "interpret" at the small test size, and on "cpu"
    at the benchmark size (ok / error / crash / wrong / timeout, see
    bench/corpus/run.py), with the first line of any error;
  - cold compile: the first cpu call (timed alone: not the plain call and the
    copies the judging makes) minus one warm run (trace, vectorize, Numba
    compile); with --compile-repeats N, the median of N such fresh processes
    (one sample varies by about +-0.4 s on a busy 2-core machine);
  - speed: medians of the plain function, looptrace (cpu) and `numba.njit`
    of the same function where Numba compiles it, interleaved in one process
    (bench/_timing.py), --repeats rounded up to whole double turns so that
    looptrace and numba.njit each follow the plain function as often;
    ratios are plain / looptrace and numba / looptrace (above 1: looptrace
    is faster);
  - loop fates: the `explain` kind of each source loop.
Then a table (markdown with --markdown) and the summary the issue's goals
are stated in. Numbers are of one run on one machine.

    python bench/corpus.py [--only a,b] [--repeats 5] [--compile-repeats 3] [--timeout 300]
                           [--json out.json] [--markdown out.md]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# --- the child: one kernel ------------------------------------------------------------------------------
def child(name: str, repeats: int) -> None:
    import copy

    import numpy as np

    from bench._timing import compare, whole_turns
    from bench.corpus import all_kernels
    from bench.corpus.run import judge, run_one

    warnings.simplefilter("ignore")
    kernel = next(k for k in all_kernels() if k.name == name)
    emit({"interpret": _as_dict(run_one(kernel, "interpret"))})
    args = kernel.make(np.random.default_rng(1), "bench")
    outcome, jitted = judge(kernel, args, "cpu", explain=False)
    first = outcome.first_s
    emit({"cpu": _as_dict(outcome)})
    if outcome.kind != "ok":
        return
    import looptrace

    emit({"loops": [l.kind for l in looptrace.explain(jitted, *copy.deepcopy(args)).loops]})
    cases = {"plain": _caller(kernel.fn, args), "looptrace": _caller(jitted, args)}
    numba_fn, numba_info = _numba(kernel, args)
    emit({"numba": numba_info})
    if numba_fn is not None:
        cases["numba"] = _caller(numba_fn, args)
    once = _time_once(cases["plain"])
    n = whole_turns(max(1, min(repeats, int(4.0 / max(once, 1e-9)))), len(cases))
    medians = compare(cases, repeats=n, warmup=1 if once > 0.5 else 2)
    emit({"medians": medians, "repeats": n, "compile_s": max(first - medians["looptrace"], 0.0)})


def child_compile(name: str) -> None:
    """One more cold first call of the kernel on cpu (a fresh process and kernel cache), timed alone."""
    import numpy as np

    from bench.corpus import all_kernels
    from bench.corpus.run import judge

    warnings.simplefilter("ignore")
    kernel = next(k for k in all_kernels() if k.name == name)
    args = kernel.make(np.random.default_rng(1), "bench")
    outcome, jitted = judge(kernel, args, "cpu", explain=False)
    if outcome.kind == "ok":
        start = time.perf_counter()
        jitted(*args)
        emit({"first_s": outcome.first_s, "warm_s": time.perf_counter() - start})


def _caller(fn, args):
    """A timed call on the same arguments each time (writes into them only repeat the same work)."""
    return lambda: fn(*args)


def _time_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _numba(kernel, args):
    """njit of the plain function: (callable or None, info)."""
    import copy

    import numba
    import numpy as np

    from bench.corpus.run import same

    try:
        fn = numba.njit(kernel.fn)
        start = time.perf_counter()
        got = fn(*copy.deepcopy(args))
        compile_s = time.perf_counter() - start
    except Exception as e:  # noqa: BLE001 - Numba does not compile it
        return None, {"compiles": False, "detail": f"{type(e).__name__}"}
    with np.errstate(all="ignore"):
        matches = same(got, kernel.fn(*copy.deepcopy(args)), max(kernel.rtol, 1e-7), kernel.atol)
    return (fn if matches else None), {"compiles": True, "matches": matches, "compile_s": compile_s}


def _as_dict(o) -> dict:
    return {"kind": o.kind, "detail": o.detail, "loops": o.loops}


def emit(d: dict) -> None:
    print("@@" + json.dumps(d), flush=True)


# --- the parent: every kernel in its own process ------------------------------------------------------------
def run_kernel(name: str, repeats: int, timeout: float, compile_repeats: int = 1) -> dict:
    result = _run_child(name, repeats, timeout)
    if compile_repeats > 1 and result.get("compile_s") is not None:
        samples = [result["compile_s"]]
        for _ in range(compile_repeats - 1):
            extra = _run_child(name, repeats, timeout, ["--child-compile", name])
            if "first_s" in extra:
                samples.append(max(extra["first_s"] - extra["warm_s"], 0.0))
        result["compile_samples"] = samples
        result["compile_s"] = sorted(samples)[len(samples) // 2]  # the median (upper for an even count)
    return result


def _run_child(name: str, repeats: int, timeout: float, mode: list | None = None) -> dict:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        env["LOOPTRACE_CACHE_DIR"] = cache
        cmd = [sys.executable, __file__, *(mode or ["--child", name]), "--repeats", str(repeats)]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
            out, timed_out = proc.stdout, False
            if proc.returncode:
                out += "@@" + json.dumps({"child_error": (proc.stderr.strip().splitlines() or [""])[-1]}) + "\n"
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            timed_out = True
    result: dict = {"name": name}
    for line in out.splitlines():
        if line.startswith("@@"):
            result.update(json.loads(line[2:]))
    if mode:
        return result
    if timed_out:
        for backend in ("interpret", "cpu"):
            result.setdefault(backend, {"kind": "timeout", "detail": f"over {timeout:.0f} s", "loops": []})
    for backend in ("interpret", "cpu"):
        result.setdefault(backend, {"kind": "crash", "detail": str(result.get("child_error", "")), "loops": []})
    return result


def ratio(r: dict, other: str) -> float | None:
    m = r.get("medians") or {}
    if other not in m or "looptrace" not in m:
        return None
    return m[other] / m["looptrace"]


def fmt_s(s: float | None) -> str:
    if s is None:
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def table(results: list[dict], kernels: dict) -> str:
    lines = ["| kernel | style | interpret | cpu | looptrace | vs plain | vs numba | cold compile | loops |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        k = kernels[r["name"]]
        rp, rn = ratio(r, "plain"), ratio(r, "numba")
        numba = r.get("numba", {})
        vs_numba = f"{rn:.2f}×" if rn is not None else ("no njit" if numba and not numba.get("compiles") else "")
        loops = ", ".join(r.get("loops") or r["cpu"].get("loops") or [])
        cpu = r["cpu"]["kind"] + (f" ({r['cpu']['detail'][:70]})" if r["cpu"]["kind"] != "ok" else "")
        lines.append(f"| {k.name} | {k.style} | {r['interpret']['kind']} | {cpu} | "
                     f"{fmt_s((r.get('medians') or {}).get('looptrace'))} | "
                     f"{f'{rp:.2f}×' if rp is not None else ''} | {vs_numba} | {fmt_s(r.get('compile_s'))} | "
                     f"{loops} |")
    return "\n".join(lines)


def summary(results: list[dict], kernels: dict) -> str:
    def geo(xs):
        xs = [x for x in xs if x]
        return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")

    out = []
    for backend in ("interpret", "cpu"):
        kinds = [r[backend]["kind"] for r in results]
        counts = {k: kinds.count(k) for k in ("ok", "error", "crash", "wrong", "timeout")}
        out.append(f"- {backend}: " + ", ".join(f"{v} {k}" for k, v in counts.items()) +
                   f" of {len(results)} ({100 * counts['ok'] / max(len(results), 1):.0f}% run and match)")
    arrays = [ratio(r, "plain") for r in results if kernels[r["name"]].style == "array"]
    arrays = [x for x in arrays if x]
    if arrays:
        out.append(f"- already-vectorized kernels that ran: {len(arrays)}; vs plain NumPy geometric mean "
                   f"{geo(arrays):.2f}×, slowest {min(arrays):.2f}×, {sum(x < 1 for x in arrays)} below 1.0×")
    loops = [ratio(r, "numba") for r in results if kernels[r["name"]].style != "array"]
    loops = [x for x in loops if x]
    if loops:
        out.append(f"- loop and mixed kernels with a Numba time: {len(loops)}; vs numba.njit geometric mean "
                   f"{geo(loops):.2f}×")
    compiles = [r.get("compile_s") for r in results if r.get("compile_s") is not None]
    if compiles:
        out.append(f"- cold compile: median {fmt_s(sorted(compiles)[len(compiles) // 2])}, max "
                   f"{fmt_s(max(compiles))}, {sum(c > 3 for c in compiles)} over 3 s")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child")
    ap.add_argument("--child-compile")
    ap.add_argument("--compile-repeats", type=int, default=1,
                    help="cold compiles per kernel, each in a fresh process; the median is reported")
    ap.add_argument("--only", default="")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.repeats)
        return
    if a.child_compile:
        child_compile(a.child_compile)
        return
    from bench.corpus import all_kernels

    kernels = {k.name: k for k in all_kernels()}
    names = [n for n in a.only.split(",") if n] or list(kernels)
    unknown = [n for n in names if n not in kernels]
    if unknown:
        ap.error(f"--only names no kernel of the corpus: {', '.join(unknown)}")
    results = []
    for name in names:
        r = run_kernel(name, a.repeats, a.timeout, a.compile_repeats)
        results.append(r)
        rp = ratio(r, "plain")
        print(f"{name:26s} interpret={r['interpret']['kind']:7s} cpu={r['cpu']['kind']:7s} "
              f"vs plain={'' if rp is None else f'{rp:.2f}x':8s} loops={r.get('loops', [])} "
              f"{r['cpu']['detail'][:90]}", flush=True)
    text = table(results, kernels) + "\n\n" + summary(results, kernels)
    print("\n" + text)
    if a.markdown:
        Path(a.markdown).write_text(text + "\n")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
