"""Kernel compile cost, session 55 (helper Y6): mathlib's sin/cos/tan, float32
exp2/log2/log10 and power, nprules' gcd/lcm and specialfn.py's functions called
through llvm_inlined.py's wrappers (compiled once, inlined by LLVM), and the
rare-path vector variants (mathlib.py `_vector_variant`) linkonce_odr: one copy
a kernel, where each module that defined them had brought its own.

`--wrapped` compares, in one process, kernels that call them through the
wrappers (now) with the same kernel source calling them directly, as Numba's
inline="always" functions (before): compile CPU, the kernel's largest
function (instructions, stack references, calls), run time (interleaved,
medians) and values (asserted bit-equal).

    python bench/compile_cost_s55.py --wrapped [--rounds 41]

`--trees` runs bench/compile_cost_s54.py's cold-compile sample (one fresh
process per tree and round, empty LOOPTRACE_CACHE_DIR, Numba's helper caches
warm), with three more workloads that call the wrapped functions, for two or
more checkouts, rounds alternating the trees (process CPU of the first call
minus a warm call):

    git worktree add /tmp/old HEAD~1
    python bench/compile_cost_s55.py --trees /tmp/old,. [--rounds 3]

`--cold` (helper V2): kernels that grow a list in a while loop
(templates.reserved), call math.fsum (exact_sum.fsum_row), multiply complex128
and complex64 numbers (llvm_inlined.cmul_c128/c64) or take one rare path
(float32 sin: only its callback and vector variants), and (session 56, helper
T4) draw a permutation (templates.permutation_draw) or take svd and qr of a few
matrices in both modes (lapack.svd_batch, qr_batch), or call pow_f64 of an
int64 exponent after a float64 one (a Numba kernel calling it: its converting wrapper), first call on empty Numba
and looptrace caches, one fresh process per tree and round:

    python bench/compile_cost_s55.py --cold /tmp/old,. [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import compile_cost_s54 as s54  # noqa: E402

NEW = ("sin_f64", "cos_f64", "tan_f64", "tan_f32", "sin_f32", "cos_f32", "exp2_f32", "log2_f32", "log10_f32",
       "powc_f32", "gcd_int", "lcm_int", "digamma", "trigamma", "math_erf", "math_erfc", "math_gamma", "math_lgamma")

EXTRA = r'''
import scipy.special as _sp


def trig64(x, y):
    return np.tanh(x) * np.sin(y) + np.cos(x) - np.tan(x)


def trig32(x, y):
    return np.sin(x) * np.cos(y) + np.tan(x) + np.exp2(y * np.float32(0.1))


def gcd_digamma(a, b, x):
    return np.gcd(a, b) + np.lcm(a, b) + _sp.digamma(x)


W["trig64"] = (trig64, lambda: (r.standard_normal(500), r.standard_normal(500) * 20))
W["trig32"] = (trig32, lambda: (r.standard_normal(500).astype(np.float32), r.standard_normal(500).astype(np.float32)))
W["gcd_digamma"] = (gcd_digamma, lambda: (r.integers(-999, 999, 500), r.integers(1, 99, 500), r.uniform(0.5, 9, 500)))
'''
CHILD = s54.CHILD.replace('looptrace.jit(warmup', EXTRA + '\nlooptrace.jit(warmup')
WORKLOADS = (*s54.WORKLOADS, "trig64", "trig32", "gcd_digamma")


def trees(paths: list[str], rounds: int) -> None:
    s54.CHILD = CHILD
    for tree in paths:  # Numba's helper caches of each tree written once, as after a first test run
        s54.sample(tree, WORKLOADS)
    got = {t: [] for t in paths}
    for i in range(rounds):
        for tree in (paths if i % 2 == 0 else paths[::-1]):
            got[tree].append(s54.sample(tree, WORKLOADS))
    base = paths[0]
    print(f"{'workload':14s}" + "".join(f"{Path(t).name[:18]:>20s}" for t in paths) + "   ratio (last/first)")
    for w in (*WORKLOADS, "total"):
        meds = [statistics.median(sum(s.values()) if w == "total" else s[w] for s in got[t]) for t in paths]
        print(f"{w:14s}" + "".join(f"{m:20.3f}" for m in meds) + f"   {meds[-1] / meds[0]:.2f}")
    print(f"(process CPU seconds, medians of {rounds}; first tree {base})")


def _programs():
    import numpy as np
    import scipy.special as sp

    def trig64(x, y):
        return np.tanh(x) * np.sin(y) + np.cos(x) - np.tan(x)

    def trig32(x, y):
        return np.sin(x) * np.cos(y) + np.tan(x)

    def exps32(x, y):
        return np.exp2(x) + np.log2(np.abs(y) + np.float32(1)) - np.log10(np.abs(x) + np.float32(2))

    def powc(x, y):
        return np.abs(x) ** np.float32(0.37) + y

    def gcd_lcm(a, b):
        return np.gcd(a, b) + np.lcm(a, b)

    def digamma(x, y):
        return sp.digamma(x) * y

    def special(x, y):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = math.erf(x[i]) + math.erfc(y[i]) + math.lgamma(x[i]) + math.gamma(y[i] * 0.1)
        return out

    r = np.random.default_rng(0)
    n = 100_000
    x64, y64 = r.standard_normal(n) * 3, r.standard_normal(n) * 20
    x64[:4] = [1e300, -np.inf, np.nan, -0.0]  # the rare path taken
    x32, y32 = x64.astype(np.float32), y64.astype(np.float32)
    pos = np.abs(y64) + 0.1
    return [("trig64", trig64, (x64, y64)), ("trig32", trig32, (x32, y32)), ("exps32", exps32, (x32, y32)),
            ("powc", powc, (x32, y32)), ("gcd_lcm", gcd_lcm, (r.integers(-10**6, 10**6, n), r.integers(-999, 999, n))),
            ("digamma", digamma, (pos, pos + 1)), ("special", special, (pos, pos + 1))]


def _largest_function(asm: str) -> tuple[int, int, int]:
    """(instructions, stack references, calls) of the assembly's largest function."""
    bodies: dict[str, list[str]] = {}
    cur = None
    for line in asm.splitlines():
        m = re.match(r"^([\w.$@]+):\s*$", line)
        if m and not m.group(1).startswith(".L"):
            cur = m.group(1)
            bodies[cur] = []
        elif cur and line.strip() and not line.strip().startswith((".", "#")) and not line.strip().endswith(":"):
            bodies[cur].append(line.strip())
    body = max(bodies.values(), key=len)
    return len(body), sum("(%rsp)" in ln for ln in body), sum(ln.startswith("call") for ln in body)


def wrapped(rounds: int) -> None:
    import numba
    import numpy as np

    import looptrace
    from looptrace.codegen.cpu import templates

    pattern = re.compile(r"llvm_inlined\.(" + "|".join(NEW) + r")\(")
    print(f"load: {os.getloadavg()}")
    print(f"{'kernel':9s} {'compile s before/now':>22s} {'largest fn before':>19s} {'now':>16s}"
          f" {'run us before/now':>19s} ratio")
    for name, fn, args in _programs():
        src = looptrace.jit(fn, backend="cpu").explain(*args).kernel_source.replace("cache=True", "cache=False")
        assert pattern.search(src), name
        kernels, compile_s, shape = {}, {}, {}
        for v in ("before", "now"):
            scope = dict(vars(templates))
            exec(compile(pattern.sub(r"\1(", src) if v == "before" else src, f"<{name} {v}>", "exec"), scope)  # noqa: S102
            k = scope["kernel"]
            sig = tuple(numba.typeof(a) for a in args)
            s = time.process_time()
            k.compile(sig)
            compile_s[v] = time.process_time() - s
            shape[v] = _largest_function(k.inspect_asm(sig))
            kernels[v] = k
        with np.errstate(all="ignore"):
            outs = [kernels[v](*args) for v in ("before", "now")]
        for a, b in zip(*(o if isinstance(o, tuple) else (o,) for o in outs)):
            assert np.array_equal(a, b, equal_nan=True), name
        times = {v: [] for v in kernels}
        for i in range(rounds):
            for v in (("before", "now") if i % 2 else ("now", "before")):
                s = time.perf_counter()
                kernels[v](*args)
                times[v].append(time.perf_counter() - s)
        run = {v: statistics.median(t) * 1e6 for v, t in times.items()}
        print(f"{name:9s} {compile_s['before']:10.2f} {compile_s['now']:10.2f} {str(shape['before']):>19s}"
              f" {str(shape['now']):>16s} {run['before']:9.0f} {run['now']:9.0f} {run['now'] / run['before']:.3f}")
    print(f"(one process, {rounds} interleaved rounds, medians; values bit-equal)")


COLD_CHILD = r"""
import copy, json, math, sys, time, warnings
import numpy as np
import looptrace
warnings.simplefilter("ignore")


def grown(x):  # a list grown in a while loop: templates.reserved
    out = []
    i = 0
    while i < x.shape[0]:
        if x[i] > 0:
            out.append(x[i] * 2.0)
        i += 1
    return np.array(out)


def fsum(x):  # exact_sum.fsum_row
    return math.fsum(x)


def cprod(z, w):  # complex products: llvm_inlined.cmul_c128 / cmul_c64
    return z * w + w * w


def sin32(x):  # one rare-path symbol: its callback and vector variants only
    return np.sin(x) * np.float32(2)


def permute(g, n):  # templates.permutation_draw (session 56, T4)
    return g.permutation(n)


def svd_qr(a):  # lapack.svd_batch / qr_batch, full and thin / complete and reduced (session 56, T4)
    u, s, vh = np.linalg.svd(a, full_matrices=True)
    u2, s2, vh2 = np.linalg.svd(a, full_matrices=False)
    q, r = np.linalg.qr(a, mode="complete")
    q2, r2 = np.linalg.qr(a)
    # (the columns past the third of the full u and the complete q are any basis of the complement: left out)
    return np.abs(u[:, :, :3]).sum() + s.sum() + np.abs(vh2).sum() + np.abs(q[:, :, :3]).sum() + np.abs(r2).sum() + s2.sum()


def power(x, y):  # mathlib.pow_f64 (float64, float64): its body's one compile
    return x ** y


def warm(x):
    return x * 2.0 + 1.0


r = np.random.default_rng(0)
z = r.standard_normal(64) + 1j * r.standard_normal(64)
W = {"grown": (grown, (r.standard_normal(100),)), "fsum": (fsum, (r.standard_normal(100),)),
     "cprod": (cprod, (z, z[::-1].copy())), "cprod64": (cprod, (z.astype(np.complex64), z[::-1].astype(np.complex64))),
     "sin32": (sin32, (r.standard_normal(100).astype(np.float32) * 1e6,)),
     "permute": (permute, (np.random.default_rng(1), 50)), "svd_qr": (svd_qr, (r.standard_normal((2, 5, 3)),)),
     "power": (power, (r.uniform(0.1, 5, 100), r.uniform(-9, 9, 100)))}


def nb_pow_int():  # mathlib.pow_f64 of an int64 exponent after `power`'s (float64, float64): another signature
    import numba
    from looptrace.codegen.cpu.mathlib import pow_f64

    @numba.njit
    def k(x, e, out):
        for i in range(x.shape[0]):
            out[i] = pow_f64(x[i], e[i])
    x, e, out = r.uniform(0.1, 5, 100), r.integers(-9, 9, 100), np.empty(100)
    k(x, e, out)
    return out, x ** e


RAW = {"pow_int": nb_pow_int}
looptrace.jit(warm, backend="cpu")(np.arange(5.0))
got = {}
for name in sys.argv[1].split(","):
    if name in RAW:  # a Numba kernel calling the helper itself
        t = time.process_time()
        out, want = RAW[name]()
        got[name] = time.process_time() - t
        assert np.allclose(out, want, rtol=1e-12), name
        continue
    fn, args = W[name]
    plain_args = copy.deepcopy(args)  # (a generator the kernel advances)
    t = time.process_time()
    out = looptrace.jit(fn, backend="cpu")(*args)
    got[name] = time.process_time() - t
    assert np.allclose(out, fn(*plain_args), rtol=1e-5), name  # (NumPy's complex multiply differs from Python's formula in the last bits here)
print(json.dumps(got))
"""
COLD_WORKLOADS = ("grown", "fsum", "cprod", "cprod64", "sin32", "permute", "svd_qr", "power", "pow_int")


def cold_sample(tree: str) -> dict:
    """One fresh process: COLD_CHILD's workloads with empty Numba and looptrace caches (a machine's first run)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as nb, tempfile.TemporaryDirectory() as lt:
        env = dict(os.environ, PYTHONPATH=tree, NUMBA_CACHE_DIR=nb, LOOPTRACE_CACHE_DIR=lt)
        script = Path(lt) / "cold_child.py"  # (a file: looptrace reads the functions' source)
        script.write_text(COLD_CHILD)
        out = subprocess.run([sys.executable, str(script), ",".join(COLD_WORKLOADS)], cwd=tree, env=env,
                             capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{tree}: {out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def cold(paths: list[str], rounds: int) -> None:
    """Session 55 (helper V2): the first compile, on empty caches, of kernels that grow a list
    (templates.reserved), call math.fsum, multiply complex numbers, or take one rare path
    (mathlib's sin_f32), one fresh process per tree and round, trees alternating."""
    got = {t: [] for t in paths}
    for i in range(rounds):
        for tree in (paths if i % 2 == 0 else paths[::-1]):
            got[tree].append(cold_sample(tree))
    print(f"load: {os.getloadavg()}")
    print(f"{'workload':14s}" + "".join(f"{Path(t).name[:18]:>20s}" for t in paths) + "   ratio (last/first)")
    for w in (*COLD_WORKLOADS, "total"):
        meds = [statistics.median(sum(s.values()) if w == "total" else s[w] for s in got[t]) for t in paths]
        print(f"{w:14s}" + "".join(f"{m:20.3f}" for m in meds) + f"   {meds[-1] / meds[0]:.2f}")
    print(f"(process CPU seconds of each first call, empty caches, medians of {rounds}; first tree {paths[0]})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wrapped", action="store_true")
    ap.add_argument("--trees")
    ap.add_argument("--cold", help="trees, comma-separated: COLD_CHILD's workloads on empty caches")
    ap.add_argument("--rounds", type=int)
    a = ap.parse_args()
    if a.wrapped:
        wrapped(a.rounds or 41)
    if a.cold:
        cold([str(Path(t).resolve()) for t in a.cold.split(",")], a.rounds or 3)
    if a.trees:
        trees([str(Path(t).resolve()) for t in a.trees.split(",")], a.rounds or 3)


if __name__ == "__main__":
    main()
