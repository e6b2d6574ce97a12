"""Cold compile CPU of a representative set of cpu kernels (the ones the
test files test_cpu_stepped_writes, test_cpu_full_reductions,
test_cpu_pointwise_scan and test_seed_programs compile), for one or more
checkouts side by side (session 54, helper P: cheaper kernel compiles).

Each sample is one new process per tree with an empty LOOPTRACE_CACHE_DIR
(Numba's helper caches as they are: warm, as in a test run after the first)
that first compiles a warm-up kernel (Numba's own first-use costs), then each
workload once: process CPU time of the first call (trace, passes, kernel
source, Numba compile) minus a warm call. Rounds alternate the trees.

    python bench/compile_cost_s54.py [--trees /tmp/P/old,/work/main] [--rounds 3]

`--inlined` instead compares, in one process, kernels whose element code calls
nprules.py's integer helpers (remainder_int, floordiv_int, fmod_int, shl,
shr, ipow) or mathlib's inline="always" functions (tanh, float32 log, abs of
complex, expm1) as compiled now (one cached function each, inlined by
LLVM: llvm_inlined.py for mathlib's) with the same kernels calling them as
Numba's inline="always" functions (as before session 54): compile CPU and
run time of each, interleaved, medians, results asserted bit-equal.

    python bench/compile_cost_s54.py --inlined [--rounds 9]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time, warnings
import numpy as np
import looptrace
from looptrace import examples as ex
from bench.pointwise_scan import mandelbrot, paths, quadratic
from bench.corpus.discrete import sieve
warnings.simplefilter("ignore")


def update(x, y, a, b, s):
    x[a:b:s] += 2.0 * y[a:b:s] + y[0]
    x[a:b:s] *= 0.5
    return x.sum()


def rows(x, a, s):
    for i in range(x.shape[0]):
        x[i, a + i::s] = x[i, a + i::s] * 2.0 - 1.0
    x[a::s, 1] = -3.0
    return x


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def argmax_rows(x):
    return np.argmax(x, axis=1)


def warmup(x):
    return x * 2.0 + 1.0


r = np.random.default_rng(0)
W = {
    "update": (update, lambda: (r.standard_normal(9), r.standard_normal(9), 1, 8, 3)),
    "rows": (rows, lambda: (r.standard_normal((4, 9)), 1, 2)),
    "sieve": (sieve, lambda: (97,)),
    "logsumexp": (logsumexp, lambda: (r.standard_normal(1000),)),
    "argmax_rows": (argmax_rows, lambda: (r.standard_normal((30, 70)),)),
    "quadratic": (quadratic, lambda: (r.uniform(-0.5, 0.5, 300),)),
    "mandelbrot": (mandelbrot, lambda: (r.uniform(-2, 1, (20, 30)) + 1j * r.uniform(-1, 1, (20, 30)),)),
    "rnn_taps": (ex.rnn_taps, lambda: ex._rnn_args(np.random.default_rng(0))),
    "batched_conv": (ex.batched_conv, lambda: ex._conv_args(np.random.default_rng(0))),
    "gaussian_layer": (ex.gaussian_layer, lambda: ex._gauss_args(np.random.default_rng(0))),
}
looptrace.jit(warmup, backend="cpu")(np.arange(5.0))
out = {}
for name in sys.argv[1].split(","):
    fn, make = W[name]
    args = make()
    f = looptrace.jit(fn, backend="cpu")
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    s = time.process_time(); f(*copies); first = time.process_time() - s
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    s = time.process_time(); f(*copies); warm = time.process_time() - s
    out[name] = first - warm
print(json.dumps(out))
"""
WORKLOADS = ("update", "rows", "sieve", "logsumexp", "argmax_rows", "quadratic", "mandelbrot", "rnn_taps",
             "batched_conv", "gaussian_layer")


def sample(tree: str, workloads) -> dict:
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, PYTHONPATH=tree, LOOPTRACE_CACHE_DIR=d)
        out = subprocess.run([sys.executable, "-c", CHILD, ",".join(workloads)], cwd=tree, env=env,
                             capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{tree}: {out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


INT_HELPERS = ("remainder_int", "floordiv_int", "fmod_int", "shl", "shr", "ipow")


def _as_inline_always(name: str):
    """nprules.py's helper `name` as it was before: numba.njit(inline="always")
    of the same body (without the LLVM alwaysinline marker, which would mark the kernel)."""
    import inspect

    import numba

    from looptrace.codegen.cpu import nprules
    text = inspect.getsource(getattr(nprules, name).py_func)
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("@") and "_inline_into_callers()" not in ln)
    scope = dict(vars(nprules))
    exec(body, scope)  # noqa: S102 (looptrace's own source)
    return numba.njit(inline="always")(scope[name])


def _int_programs():
    import numpy as np

    def ints(x, y, s):
        return np.remainder(x, y) + np.floor_divide(x, y) + np.fmod(x, y) + (x << s) + (x >> s) + x ** 3

    def small(x, y):
        return np.remainder(x, y) * np.floor_divide(x, y) + (x << 2)

    def stepped(x, a, b, s):
        x[a:b:s] += 1.0
        x[b::s] *= 2.0
        return x.sum()

    r = np.random.default_rng(0)
    n = 200_000
    return [("ints int64", ints, (r.integers(-1000, 1000, n), r.integers(-9, 9, n), r.integers(0, 70, n))),
            ("ints int32", ints, (r.integers(-1000, 1000, n).astype(np.int32), r.integers(-9, 9, n).astype(np.int32),
                                  r.integers(0, 40, n).astype(np.int32))),
            ("small uint8", small, (r.integers(0, 255, n).astype(np.uint8), r.integers(0, 9, n).astype(np.uint8))),
            ("stepped", stepped, (r.standard_normal(n), 3, n - 5, 7))]


def _math_programs():
    import numpy as np

    def tanh_both(x, y):
        return np.tanh(x) * np.tanh(y)

    def float32_math(x):
        return np.tanh(x) + np.log(np.abs(x) + np.float32(1))

    def moduli(z):
        return np.abs(z) + np.expm1(z.real * 0.01)

    r = np.random.default_rng(0)
    n = 200_000
    return [("tanh tanh", tanh_both, (r.standard_normal(n), r.standard_normal(n) * 10)),
            ("float32 math", float32_math, (r.standard_normal(n).astype(np.float32),)),
            ("cabs expm1", moduli, (r.standard_normal(n) + 1j * r.standard_normal(n),))]


def inlined(rounds: int) -> None:
    """Compile CPU and run time of kernels calling the integer helpers, now and as inline="always"."""
    _compare(rounds, _int_programs(), lambda source: source, {name: _as_inline_always(name) for name in INT_HELPERS})
    # mathlib's inline="always" functions: through llvm_inlined.py's wrappers, or called as they are
    _compare(rounds, _math_programs(), lambda source: source.replace("llvm_inlined.", ""), {})


def _compare(rounds: int, programs, old_source, old) -> None:
    import time

    import numba
    import numpy as np

    import looptrace
    from looptrace.codegen.cpu import templates

    print(f"load: {os.getloadavg()}")
    for label, fn, args in programs:
        jf = looptrace.jit(fn, backend="cpu")
        want = jf(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
        source = jf.explain(*args).kernel_source.replace("cache=True", "cache=False")
        kernels = {}

        def build(variant):
            scope = dict(vars(templates))
            text = source
            if variant == "inline_always":
                scope.update(old)
                text = old_source(source)
            exec(compile(text, f"<{label} {variant}>", "exec"), scope)  # noqa: S102
            k = scope["kernel"]
            sig = tuple(numba.typeof(a) for a in args)
            t = time.process_time()
            k.compile(sig)
            return k, time.process_time() - t

        comp = {"inline_always": [], "now": []}
        for v in comp:  # (first compiles: the helpers' own loading)
            kernels[v] = build(v)[0]
        for k in range(3):
            for v in (list(comp) if k % 2 == 0 else list(comp)[::-1]):
                kernels[v], dt = build(v)
                comp[v].append(dt)
        runs = {v: [] for v in comp}
        for v, kern in kernels.items():
            got = kern(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
            for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
                assert np.array_equal(np.asarray(g), np.asarray(w)), (label, v)
        for k in range(rounds):
            for v in (list(comp) if k % 2 == 0 else list(comp)[::-1]):
                a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
                t = time.perf_counter()
                kernels[v](*a)
                runs[v].append(time.perf_counter() - t)
        c0, c1 = (statistics.median(comp[v]) for v in comp)
        r0, r1 = (statistics.median(runs[v]) for v in comp)
        print(f"{label:12s} compile inline_always {c0 * 1e3:6.0f} ms, now {c1 * 1e3:6.0f} ms ({c1 / c0:.2f}x); "
              f"run {r0 * 1e6:7.0f} us, now {r1 * 1e6:7.0f} us ({r1 / r0:.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trees", default=str(ROOT))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--inlined", action="store_true", help="nprules' integer helpers: now vs inline='always'")
    a = ap.parse_args()
    if a.inlined:
        inlined(a.rounds)
        return
    trees, workloads = a.trees.split(","), a.workloads.split(",")
    times = {(t, w): [] for t in trees for w in workloads}
    for k in range(a.rounds):
        for t in (trees if k % 2 == 0 else trees[::-1]):
            for w, x in sample(t, workloads).items():
                times[t, w].append(x)
    print(f"load: {os.getloadavg()}")
    print("| workload | " + " | ".join(trees) + " |\n|---|" + "---|" * len(trees))
    totals = {t: 0.0 for t in trees}
    for w in workloads:
        base = statistics.median(times[trees[0], w])
        cells = []
        for t in trees:
            m = statistics.median(times[t, w])
            totals[t] += m
            cells.append(f"{m:.2f} s ({m / base:.2f}x) [{', '.join(f'{x:.2f}' for x in times[t, w])}]")
        print(f"| {w} | " + " | ".join(cells) + " |")
    print("| total of medians | " + " | ".join(f"{totals[t]:.2f} s ({totals[t] / totals[trees[0]]:.2f}x)"
                                            for t in trees) + " |")


if __name__ == "__main__":
    main()
