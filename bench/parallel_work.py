"""Threads or not for a loop nest, by its elements times the work of each
(codegen/cpu/costs.py `cost_factor`), not by its element count alone.

For each case, in this one process, timed round-robin (bench/_timing.py
`compare`, medians): looptrace as the decision was before this change
("before": costs.py without `_computed_gather`, the rule of HEAD of
2026-12-06), as it is now ("after"), and with every nest threaded ("threads":
PARALLEL_MIN_WORK = 1, what a prange would give); numba.njit of the plain
function, with and without parallel=True, and for the warp the same loops
with an explicit numba.prange. Each looptrace row says whether its kernel
holds a prange. Cases: corpus affine_warp_bilinear at its bench size
(500 x 500) and at 1/4 and 4x the pixels, corpus resample_interp and
lbm_d2q9 (the other corpus kernels whose decision changed), and two small cheap maps that
must stay serial (x * 2 + 1 over 1000, a 5-point stencil over 64 x 64).

    PYTHONPATH=. python bench/parallel_work.py [--repeats 15] [--only warp500,axpy]
        [--busy]          (also time with a process spinning on the last core)
        [--head DIR]      (check that HEAD's code, a worktree at DIR, emits the
                           "before" kernel source, in a subprocess)
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import json
import math
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile

# --sources runs under the looptrace of another checkout (--head), named by LT_PW_ROOT
sys.path.insert(0, os.environ.get("LT_PW_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numba  # noqa: E402
import numpy as np  # noqa: E402


def warp_prange(img, angle, scale):
    """corpus affine_warp_bilinear with its rows under numba.prange."""
    h, w = img.shape
    out = np.zeros((h, w))
    ca = math.cos(angle) / scale
    sa = math.sin(angle) / scale
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    for i in numba.prange(h):
        for j in range(w):
            y = ca * (i - cy) - sa * (j - cx) + cy
            x = sa * (i - cy) + ca * (j - cx) + cx
            i0 = int(math.floor(y))
            j0 = int(math.floor(x))
            if i0 < 0 or j0 < 0 or i0 >= h - 1 or j0 >= w - 1:
                continue
            fy = y - i0
            fx = x - j0
            out[i, j] = ((1 - fy) * ((1 - fx) * img[i0, j0] + fx * img[i0, j0 + 1])
                         + fy * ((1 - fx) * img[i0 + 1, j0] + fx * img[i0 + 1, j0 + 1]))
    return out


def axpy_small(x):
    return x * 2.0 + 1.0


def stencil(u):
    out = u.copy()
    out[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
    return out


def cases() -> dict:
    from bench.corpus import all_kernels

    corpus = {k.name: k for k in all_kernels()}
    warp = corpus["affine_warp_bilinear"].fn
    interp, lbm = corpus["resample_interp"], corpus["lbm_d2q9"]

    def image(n):
        return lambda r: (r.random((n, n)), 0.3, 1.2)

    return {
        "warp250": (warp, image(250), warp_prange),  # 1/4 of the bench pixels
        "warp500": (warp, image(500), warp_prange),  # the corpus bench size
        "warp1000": (warp, image(1000), warp_prange),  # 4x
        "interp": (interp.fn, lambda r: interp.make(r, "bench"), None),
        "lbm": (lbm.fn, lambda r: lbm.make(r, "bench"), None),
        "axpy1000": (axpy_small, lambda r: (r.random(1000),), None),
        "stencil64": (stencil, lambda r: (r.random((64, 64)),), None),
    }


@contextlib.contextmanager
def variant(name: str):
    """The code generation of one looptrace variant, for builds inside."""
    import looptrace.codegen.cpu.costs as costs
    import looptrace.codegen.cpu.emitter as emitter

    rule, threshold = getattr(costs, "_computed_gather", None), emitter.PARALLEL_MIN_WORK
    if name == "before" and rule is not None:
        costs._computed_gather = lambda ops, plan: False
    if name == "threads":
        emitter.PARALLEL_MIN_WORK = 1
    try:
        yield
    finally:
        if rule is not None:
            costs._computed_gather = rule
        emitter.PARALLEL_MIN_WORK = threshold


def build(fn, args, name: str):
    import looptrace

    with variant(name):
        f = looptrace.jit(fn, backend="cpu", cache=False)
        src = f.explain(*args).kernel_source or ""
        f(*args)  # compiled under the variant's rule
    return f, src


def digest(src: str) -> str:
    return hashlib.sha1(src.encode()).hexdigest()[:12]


def sources(only: set[str]) -> None:
    """(--sources) each case's kernel source digest under this PYTHONPATH's looptrace."""
    import looptrace

    out = {}
    for name, (fn, make, _) in cases().items():
        if not only or name in only:
            out[name] = digest(looptrace.jit(fn, backend="cpu", cache=False).explain(*make(np.random.default_rng(0))).kernel_source)
    print(json.dumps(out))


def _spin() -> None:
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    while True:
        pass


def run_case(name, fn, make, hand, repeats: int, busy: bool) -> dict:
    args = make(np.random.default_rng(0))
    want = fn(*args)
    timed, srcs = {}, {}
    for v in ("before", "after", "threads"):
        f, srcs[v] = build(fn, args, v)
        np.testing.assert_allclose(f(*args), want, rtol=1e-12, atol=1e-12)
        timed[v] = f
    refs = {"njit": numba.njit(fn), "njit_par": numba.njit(fn, parallel=True)}
    if hand is not None:
        refs["njit_prange"] = numba.njit(hand, parallel=True)
    for k, f in refs.items():
        try:
            np.testing.assert_allclose(f(*args), want, rtol=1e-12, atol=1e-12)
        except numba.core.errors.TypingError:  # np.interp's left= and right=: not in Numba
            continue
        timed[k] = f
    calls = {k: (lambda f=f: f(*args)) for k, f in timed.items()}
    res = {"prange": {v: srcs[v].count("numba.prange(") for v in srcs}, "before_src": digest(srcs["before"])}
    for mode in ("quiet", "busy") if busy else ("quiet",):
        proc = mp.get_context("fork").Process(target=_spin, daemon=True) if mode == "busy" else None
        if proc is not None:
            proc.start()
        try:
            res[mode] = timings(calls, repeats)
        finally:
            if proc is not None:
                proc.terminate()
                proc.join()
    return res


def timings(calls: dict, repeats: int) -> dict:
    """Medians: looptrace's variants with serial njit, then Numba's threaded
    versions beside "after" in rounds of their own (Numba's threads are not
    fitted to the free cores: on a loaded machine their calls take tens of
    ms, and they are kept from the rounds of the others)."""
    from bench._timing import compare

    threaded = [k for k in calls if k.startswith("njit_p")]
    m = compare({k: c for k, c in calls.items() if k not in threaded}, repeats=repeats, warmup=3)
    if threaded:
        m2 = compare({k: calls[k] for k in ["after", *threaded]}, repeats=repeats, warmup=3)
        m.update({k: m2[k] for k in threaded}, after2=m2["after"])
    return m


def report(name: str, res: dict) -> None:
    p = res["prange"]
    print(f"{name}: prange regions before {p['before']} after {p['after']} threads {p['threads']}")
    for mode in ("quiet", "busy"):
        if mode in res:
            m = res[mode]
            cols = "  ".join(f"{k} {v * 1e3:.4f}" for k, v in m.items())
            ref = f"  after/njit {m['after'] / m['njit']:.2f}" if "njit" in m else ""
            print(f"  {mode:5s} ms: {cols}  before/after {m['before'] / m['after']:.2f}{ref}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--only", default="")
    ap.add_argument("--busy", action="store_true")
    ap.add_argument("--head", default=None)
    ap.add_argument("--sources", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    only = set(filter(None, a.only.split(",")))
    if "LOOPTRACE_CACHE_DIR" not in os.environ:  # fresh compiles, the kernels removed at exit
        os.environ["LOOPTRACE_CACHE_DIR"] = tempfile.mkdtemp(prefix="lt_pw_")
        atexit.register(shutil.rmtree, os.environ["LOOPTRACE_CACHE_DIR"], True)
    if a.sources:
        return sources(only)
    head = None
    if a.head:
        root = os.path.abspath(a.head)
        env = dict(os.environ, PYTHONPATH=root, LT_PW_ROOT=root)  # its kernels: cache=False
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--sources", "--only", a.only],
                             env=env, capture_output=True, text=True, check=True)
        head = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"cores {len(os.sched_getaffinity(0))}, load {os.getloadavg()[0]:.1f}, medians of {a.repeats} (ms); "
          f"numba threads {numba.config.NUMBA_NUM_THREADS}; after2: 'after' in the rounds of njit_par and njit_prange")
    for name, (fn, make, hand) in cases().items():
        if only and name not in only:
            continue
        res = run_case(name, fn, make, hand, a.repeats, a.busy)
        report(name, res)
        print(f"  load {os.getloadavg()[0]:.1f}")
        if head is not None:
            print(f"  HEAD emits the 'before' source: {head.get(name) == res['before_src']}")
    print(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, layer {numba.threading_layer()}")


if __name__ == "__main__":
    main()
