"""The workloads of issue 12 on a GPU: looptrace against JAX, PyTorch, CuPy and hand-written numba.cuda.

One process; per workload every competitor that can run here is timed
round-robin (`_timing.compare`: interleaved rounds, medians) and the table
gives each median, its ratio to the baseline (JAX when present), the
launches one call makes where known, the per-step cost of the scans, the
first call (cold: compilation included, in this process), the second call
(warm, in this process) and the error against the plain function (max |got -
want| / max |want|; ok below 1e-4 in float32, 1e-8 in float64). The
recurrences also run looptrace cuda with each scan strategy forced ("lt cuda
single", "coop", "host"), with and without split products ("1 lane"), which
is what the cost model's constants are read from. Before each competitor its name is printed, and a stack dump after 90 s
says where a slow one is (the first H200 run lost a whole stage to one).
Warm start across processes (disk caches) is not measured here yet: it
matters for "looptrace cuda", and bench_seed.py's fresh-process harness is
the model for it once that backend exists. A competitor that cannot run here (its
library, or a GPU for it, is missing) is listed with the reason, never a
crash. Inputs go to the device once, before timing.

Competitors (bench/gpu_competitors.py): "jax" (jit, lax.scan), "torch cudnn"
(torch.nn.RNN, tanh), "torch eager" (a Python loop), "cupy" (by hand),
"numba per-step" (one numba.cuda launch per step), "persistent",
"persistent coop" (single-block and cooperative multi-block) and the
linear-scan kernels (looptrace's hand-written kernel library,
looptrace/codegen/cuda/), "looptrace cpu", and "looptrace cuda": the plain
function compiled with backend="cuda", called on device arrays (device in,
device out); its "launches" column says what `explain` reports: the GPU
strategy of each loop and the launches of the generated host function.

    python bench/bench_gpu.py [--repeats 7] [--only rnn_taps_f32,...] [--json PATH]
    python bench/bench_gpu.py --dry-run     # CUDA simulator, tiny sizes: checks the script, times nothing real

Never read speed from --dry-run: the simulator runs kernels as Python threads.
"""
from __future__ import annotations

import argparse
import faulthandler
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# JAX takes 75% of the GPU's memory at start by default; CuPy, PyTorch and numba share this process.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import looptrace  # noqa: E402
from bench import gpu_competitors as gc  # noqa: E402
from bench._timing import compare  # noqa: E402
from bench.competitors import scalar_recurrence  # noqa: E402
from bench.grad_bench import numpy_bptt  # noqa: E402
from looptrace.examples import _conv_args, _gauss_args, _rnn_args, batched_conv, gaussian_layer, rnn_taps  # noqa: E402


def linear_recurrence(a, b, h0):
    """The plain loop: h_t = a_t * h_{t-1} + b_t over (T, C)."""
    H = np.empty_like(b)
    h = h0
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        H[t] = h
    return H


def langevin(x0, noise, dt, s):
    """Overdamped Langevin paths: every point alone (a pointwise scan: looptrace cuda's points kernel)."""
    x = x0.copy()
    for t in range(noise.shape[0]):
        x = x + dt * (x - x * x * x) + s * noise[t]
    return x


def rnn_taps_sum(X, y0, W1, W2, W3):
    return rnn_taps(X, y0, W1, W2, W3).sum()


@dataclass
class Workload:
    plain: Callable
    make: Callable[[np.random.Generator, bool], tuple]  # (rng, dry) -> args
    competitors: dict[str, Callable]
    reference: Callable | None = None  # args -> expected result of the competitors (default: plain)


def _rnn(T, nx, ny, dtype):
    def make(rng, dry):
        args = _rnn_args(rng, T=6 if dry else T, nx=3 if dry else nx, ny=5 if dry else ny)
        return tuple(a.astype(dtype) for a in args)
    return make


def _looptrace(backend, scan: str = "", lanes: str = ""):
    """looptrace on NumPy inputs (cpu), or on device arrays (cuda: device in, device out, as a user would).
    `scan` forces the cuda strategy of every loop (LOOPTRACE_CUDA_SCAN) and `lanes` caps the lanes of a
    split product (LOOPTRACE_CUDA_LANES, codegen/cuda/splitk.py; "1": not split), both read when the
    function compiles, so one run times each strategy the cost model chooses between (strategy.py)."""
    def make(w, d, env):
        fn = WORKLOADS[w].plain
        if backend == "cuda":
            settings = {"LOOPTRACE_CUDA_SCAN": scan, "LOOPTRACE_CUDA_LANES": lanes}
            saved = {k: os.environ.pop(k, None) for k in settings}
            os.environ.update({k: v for k, v in settings.items() if v})
            try:
                return _looptrace_cuda(w, fn, d, env)
            finally:
                for k, v in saved.items():
                    os.environ.pop(k, None)
                    if v is not None:
                        os.environ[k] = v
        try:
            if w == "rnn_taps_grad":
                jitted = looptrace.jit(rnn_taps, backend=backend)
                vg = looptrace.value_and_grad(lambda *a: jitted(*a).sum(), argnums=(1, 2, 3, 4), backend=backend)
                vg(*d)
                return gc.Case(lambda: vg(*d), lambda r: np.asarray(r[1][1]), "n/a", 2 * (d[0].shape[0] - 1))
            jitted = looptrace.jit(fn, backend=backend)
            jitted(*d)
        except NotImplementedError as e:
            raise gc.Skip(f"backend={backend!r} does not exist ({e})") from e
        steps = d[0].shape[0] if w in ("scalar_recurrence", "linear_recurrence") else 0
        steps = d[0].shape[0] - 1 if w.startswith("rnn_taps") else steps
        steps = d[1].shape[0] if w.startswith("langevin") else steps
        return gc.Case(lambda: jitted(*d), np.asarray, "n/a" if backend == "cpu" else "see explain()", steps)
    return make


def _looptrace_cuda(w, fn, d, env):
    """backend="cuda" on device arrays (NumPy inputs are checked first: they must give NumPy back)."""
    target = rnn_taps if w == "rnn_taps_grad" else fn
    if not isinstance(looptrace.jit(target, backend="cuda")(*d), (np.ndarray, np.generic, float)):
        raise AssertionError("backend='cuda' on NumPy inputs did not return NumPy")
    args = tuple(env.to(a) if isinstance(a, np.ndarray) else a for a in d)
    fetch = lambda r: r.copy_to_host() if hasattr(r, "copy_to_host") else np.asarray(r)  # noqa: E731
    if w == "rnn_taps_grad":
        jitted = looptrace.jit(rnn_taps, backend="cuda")
        vg = looptrace.value_and_grad(lambda *a: jitted(*a).sum(), argnums=(1, 2, 3, 4), backend="cuda")
        call = lambda: vg(*args)  # noqa: E731
        fetch_grad = lambda r: fetch(r[1][1])  # noqa: E731
    else:
        jitted = looptrace.jit(fn, backend="cuda")
        call, fetch_grad = (lambda: jitted(*args)), fetch
    call()

    def run():
        out = call()
        env.sync()
        return out
    steps = d[0].shape[0] - 1 if w.startswith("rnn_taps") else (d[0].shape[0] if "recurrence" in w else 0)
    steps = d[1].shape[0] if w.startswith("langevin") else steps
    return gc.Case(run, fetch_grad, _cuda_plan(jitted, args), steps, ["device arrays in and out"])


def _cuda_plan(jitted, args) -> str:
    """What explain says the GPU does: each loop's strategy, and the launch sites of the host function."""
    e = jitted.explain(*args)
    kinds = []
    for l in e.loops:
        for kind in ("points kernel", "persistent single-block", "persistent cooperative", "host-driven"):
            if kind in l.reason:
                kinds.append(kind)
    host = e.kernel_source[e.kernel_source.index("def host"):]
    sites = host.count("rt.launch")
    lanes = [n[n.index("split over ") + 11:].split(" per element")[0] for n in e.notes if "split over " in n]
    return (f"{sites} launch sites" + (f"; loops: {', '.join(kinds)}" if kinds else "")
            + (f"; products split over {', '.join(lanes)}" if lanes else ""))


RNN = {"jax": gc.rnn_jax, "torch cudnn": gc.rnn_torch_cudnn, "torch eager": gc.rnn_torch_eager, "cupy": gc.rnn_cupy,
       "numba per-step": gc.rnn_numba_per_step, "persistent": gc.rnn_persistent,
       "persistent coop": gc.rnn_persistent_coop,
       "looptrace cpu": _looptrace("cpu"), "looptrace cuda": _looptrace("cuda"),
       # each strategy forced, to calibrate the cost model (the default row above is its choice)
       "lt cuda single": _looptrace("cuda", "single"), "lt cuda single 1 lane": _looptrace("cuda", "single", "1"),
       "lt cuda coop": _looptrace("cuda", "coop"), "lt cuda coop 1 lane": _looptrace("cuda", "coop", "1"),
       "lt cuda host": _looptrace("cuda", "host")}

WORKLOADS = {
    "rnn_taps_f32": Workload(rnn_taps, _rnn(1001, 100, 200, np.float32), RNN),
    "rnn_taps_f64": Workload(rnn_taps, _rnn(1001, 100, 200, np.float64), RNN),
    "rnn_taps_T1e4_y512_f32": Workload(rnn_taps, _rnn(10_000, 100, 512, np.float32),
                                       {k: v for k, v in RNN.items() if k != "lt cuda host"}),
    "rnn_taps_grad": Workload(rnn_taps_sum, _rnn(1001, 100, 200, np.float64),
                              {k: RNN[k] for k in ("jax", "torch cudnn", "persistent", "persistent coop", "looptrace cpu",
                                                     "looptrace cuda", "lt cuda single", "lt cuda coop")},
                              reference=lambda *a: numpy_bptt(*a)[1][1]),
    "gaussian_layer": Workload(gaussian_layer, lambda r, dry: _gauss_args(r, B=8 if dry else 1024, D=3 if dry else 64,
                                                                          H=5 if dry else 256),
                               {"jax": gc.gauss_jax, "torch eager": gc.gauss_torch, "cupy": gc.gauss_cupy,
                                "hand kernel": gc.gauss_hand_kernel, "looptrace cpu": _looptrace("cpu"),
                                "looptrace cuda": _looptrace("cuda")}),
    "gaussian_layer_x16": Workload(gaussian_layer, lambda r, dry: _gauss_args(r, B=16 if dry else 16 * 1024,
                                                                              D=3 if dry else 64, H=5 if dry else 256),
                                   {"jax": gc.gauss_jax, "torch eager": gc.gauss_torch, "cupy": gc.gauss_cupy,
                                    "hand kernel": gc.gauss_hand_kernel, "looptrace cpu": _looptrace("cpu"),
                                    "looptrace cuda": _looptrace("cuda")}),
    "batched_conv": Workload(batched_conv, lambda r, dry: _conv_args(r, N=2, P=2, F=3, K=4, S=5) if dry
                             else _conv_args(r, N=32, P=16, F=32, K=27, S=256),
                             {"jax": gc.conv_jax, "torch eager": gc.conv_torch, "cupy": gc.conv_cupy,
                              "looptrace cpu": _looptrace("cpu"), "looptrace cuda": _looptrace("cuda")}),
    "scalar_recurrence": Workload(scalar_recurrence, lambda r, dry: (r.standard_normal(40 if dry else 10**6),),
                                  {"jax": gc.scalar_jax, "persistent": gc.scalar_persistent,
                                   "looptrace cpu": _looptrace("cpu"), "looptrace cuda": _looptrace("cuda")},
                                  reference=lambda x: np.asarray([scalar_recurrence(x)])),
    "linear_recurrence": Workload(linear_recurrence, lambda r, dry: (
        r.uniform(-0.99, 0.99, (37 if dry else 2**16, 5 if dry else 64)),
        r.standard_normal((37 if dry else 2**16, 5 if dry else 64)), r.standard_normal(5 if dry else 64)),
        {"jax": gc.linear_jax, "persistent": gc.linear_persistent, "looptrace cpu": _looptrace("cpu"),
         "looptrace cuda": _looptrace("cuda")}),
    "langevin_f32": Workload(langevin, lambda r, dry: (
        r.standard_normal(6 if dry else 2**16).astype(np.float32),
        r.standard_normal((5 if dry else 1000, 6 if dry else 2**16)).astype(np.float32), 0.01, 0.1),
        {"jax": gc.langevin_jax, "torch eager": gc.langevin_torch, "cupy": gc.langevin_cupy,
         "looptrace cpu": _looptrace("cpu"), "looptrace cuda": _looptrace("cuda")}),
}


def _error(got, want) -> float:
    """max |got - want| / max |want| (inf for a wrong shape). float32 results are compared with the float32
    plain function, whose own sums round differently: an exact float32 order gives ~1e-6 after 1000 steps,
    TF32 products (cuDNN's and JAX's defaults on this GPU) ~1e-3."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        got = got.reshape(want.shape) if got.size == want.size else got
    if got.shape != want.shape:
        return float("inf")
    scale = float(np.max(np.abs(want))) if want.size else 1.0
    return float(np.max(np.abs(got - want))) / (scale or 1.0) if want.size else 0.0


def _ok(err: float, dtype) -> bool:
    return err <= (1e-4 if np.dtype(dtype) == np.float32 else 1e-8)


def run_workload(name: str, env: gc.Env, dry: bool, repeats: int) -> dict:
    w = WORKLOADS[name]
    data = w.make(np.random.default_rng(0), dry)
    want = (w.reference or w.plain)(*data)
    cases, info = {}, {}
    single = any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in data)  # rnn_taps' Y is float64 anyway
    dtype = np.float32 if single else np.float64
    for label, make in w.competitors.items():
        print(f"  .. {label}", flush=True)  # a competitor that hangs is the last one named
        faulthandler.dump_traceback_later(90, exit=False)  # and where it hangs is printed after 90 s
        try:
            t0 = time.perf_counter()
            made = make(name, data, env)
            for case_label, case in (made.items() if isinstance(made, dict) else [(label, made)]):
                t1 = time.perf_counter()
                result = case.run()
                first = time.perf_counter() - t1 + (t1 - t0)
                t2 = time.perf_counter()
                case.run()
                info[case_label] = {"launches": case.launches, "steps": case.steps, "notes": case.notes,
                                    "first_call_s": first, "second_call_s": time.perf_counter() - t2,
                                    "error": _error(case.fetch(result), want if case.expect is None else case.expect)}
                info[case_label]["matches"] = _ok(info[case_label]["error"], dtype)
                if case.count is not None:
                    try:
                        info[case_label]["launches"] = case.count()
                    except Exception as e:  # a profiler that does not work here leaves the estimate
                        info[case_label]["notes"].append(f"launch count failed: {type(e).__name__}")
                cases[case_label] = case.run
        except gc.Skip as e:
            info[label] = {"skipped": str(e)}
        except Exception as e:  # a competitor that breaks is reported, the run goes on
            info[label] = {"skipped": f"failed: {type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"}
        finally:
            faulthandler.cancel_dump_traceback_later()
    slow = max((info[k]["second_call_s"] for k in cases), default=0.0) > 0.5
    medians = compare(cases, repeats=min(repeats, 3) if slow else repeats, warmup=0) if cases else {}
    for label, median in medians.items():
        info[label]["median_s"] = median
    return info


def print_workload(name: str, info: dict) -> None:
    base = next((info[k]["median_s"] for k in ("jax", "jax scan") if "median_s" in info.get(k, {})), None)
    print(f"\n{name}  (ratio: median / JAX's; above 1 is slower than JAX)")
    print(f"  {'case':22s} {'median':>11s} {'vs jax':>8s} {'per step':>10s} {'first call':>11s} "
          f"{'2nd call':>11s} {'error':>8s} {'ok':>3s}  launches / notes")
    for label, r in info.items():
        if "skipped" in r:
            print(f"  {label:22s} skipped: {r['skipped']}")
            continue
        med = r.get("median_s")
        ratio = f"{med / base:7.2f}x" if base and med else ""
        step = _fmt(med / r["steps"]) if med and r["steps"] else ""
        extra = "; ".join([str(r["launches"])] + r["notes"])
        print(f"  {label:22s} {_fmt(med):>11s} {ratio:>8s} {step:>10s} {_fmt(r['first_call_s']):>11s} "
              f"{_fmt(r['second_call_s']):>11s} {r['error']:8.1e} {'yes' if r['matches'] else 'NO':>3s}  {extra}")


def _fmt(s) -> str:
    if s is None:
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3f} {unit}"
    return f"{s * 1e9:.1f} ns"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument("--dry-run", action="store_true", help="CUDA simulator and tiny sizes (checks the script only)")
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "bench_gpu.json"))
    ns = ap.parse_args()
    names = [n for n in ns.only.split(",") if n] or list(WORKLOADS)
    unknown = set(names) - set(WORKLOADS)
    if unknown:
        ap.error(f"unknown workloads {sorted(unknown)}; known: {list(WORKLOADS)}")
    mode = "sim" if ns.dry_run else "gpu"
    if ns.dry_run:
        os.environ.setdefault("LOOPTRACE_CUDA_SIM", "1")  # backend="cuda" may use the simulator
    try:
        env = gc.make_env(mode)
    except Exception as e:
        print(f"no GPU benchmark here: {e}\n(use --dry-run to check the script under the simulator)")
        sys.exit(2)
    if ns.dry_run:
        print("DRY RUN: CUDA simulator, tiny sizes. These times say nothing about GPU speed.")
    report = {"mode": mode, "workloads": {}}
    for name in names:
        t0 = time.perf_counter()
        info = run_workload(name, env, ns.dry_run, 2 if ns.dry_run else ns.repeats)
        report["workloads"][name] = info
        print_workload(name, info)
        print(f"  ({time.perf_counter() - t0:.1f} s for this workload)", flush=True)
        Path(ns.json).parent.mkdir(parents=True, exist_ok=True)  # after each workload: a timeout keeps the rest
        Path(ns.json).write_text(json.dumps(report, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
