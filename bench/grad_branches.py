"""Gradients of loops whose body keeps a branch, and of nested loops
(session-45 helper G). Before the fix each step of the reverse loop made the
cotangent of the whole differentiated array dense: a branch's arms merged
as full-size zeros-plus-update, and an inner loop's reverse pass started
from zeros of the whole array at every outer step: O(T * size) time.

Case 1, a branch kept inside the loop (a cond in the IR, not a select):
  branch_arms   arms reading x[i] differently
  branch_state  the branch tests a carry (h > 0.5)
  early_stop    a `break` on x[i] (a while loop) plus a branch reading x[i - 1]
Case 2, nested loops:
  rows_dot      for i: for j: s += X[i, j] * w[j]
  row_recur     a recurrence over rows with an inner loop over columns
Both:
  loop_in_branch  an inner loop in one arm of a branch
  branch_in_inner a branch inside the inner loop

n is the size of the differentiated array (2-D ones are (n // 8, 8)).
One process per tree: for each workload and n, the median of --repeats
calls of looptrace.value_and_grad after one compiling call, interleaved
with JAX's `jax.grad` of the same loops (lax.fori_loop / lax.cond / while)
when jax imports (its column is absent otherwise). The gradient's norm is
printed so that trees can be checked against each other:

    python bench/grad_branches.py [--tree after=. --tree before=/path/to/old/checkout]
        [--backend cpu] [--repeats 7] [--sizes 1000,10000,80000] [--only rows_dot,branch_arms]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


# --- the workloads (plain Python; looptrace compiles them) ------------------------------------------
def branch_arms(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            s += np.sin(x[i]) * x[i]
        else:
            s -= x[i] * x[i] * 0.5
    return s


def branch_state(x):
    s = 0.0
    h = 0.0
    for i in range(x.shape[0]):
        if h > 0.5:
            h = 0.3 * h + x[i]
        else:
            h = np.tanh(h + x[i] * x[i])
        s += h
    return s


def early_stop(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 20.0:
            break
        if x[i] > 0:
            s += x[i] ** 2
        else:
            s += np.sin(x[i]) * x[i - 1]
    return s


def rows_dot(X, w):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            s += X[i, j] * w[j]
    return s


def row_recur(X):
    h = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            h = np.tanh(0.5 * h + X[i, j])
    return h


def loop_in_branch(X, w):
    s = 0.0
    for i in range(X.shape[0]):
        if X[i, 0] > 0:
            for j in range(X.shape[1]):
                s += X[i, j] * w[j]
        else:
            s += X[i, 1] ** 2
    return s


def branch_in_inner(X):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] > 0:
                s += X[i, j] * X[i, 0]
            else:
                s += np.sin(X[i, j])
    return s


WORKLOADS = {f.__name__: f for f in (branch_arms, branch_state, early_stop, rows_dot, row_recur,
                                     loop_in_branch, branch_in_inner)}
TWO_D = ("rows_dot", "row_recur", "loop_in_branch", "branch_in_inner")


def make_args(name: str, n: int, rng) -> tuple:
    if name in TWO_D:
        X = rng.normal(size=(max(n // 8, 1), 8))
        return (X, rng.normal(size=8)) if name in ("rows_dot", "loop_in_branch") else (X,)
    return (rng.normal(size=n),)


# --- JAX: the same loops, differentiated by jax.grad ------------------------------------------------
def _jax_versions():
    """name -> jitted jax.grad of the workload (argument 0), or {} without JAX."""
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)

    def branch_arms_j(x):
        def step(i, s):
            return lax.cond(x[i] > 0, lambda: s + jnp.sin(x[i]) * x[i], lambda: s - x[i] * x[i] * 0.5)
        return lax.fori_loop(0, x.shape[0], step, 0.0)

    def branch_state_j(x):
        def step(i, c):
            s, h = c
            h = lax.cond(h > 0.5, lambda: 0.3 * h + x[i], lambda: jnp.tanh(h + x[i] * x[i]))
            return s + h, h
        return lax.fori_loop(0, x.shape[0], step, (0.0, 0.0))[0]

    def early_stop_j(x):  # (a while loop: reverse mode needs a bound, so the scan runs all steps, masked)
        def step(c, xi_prev):
            s, stopped = c
            xi, prev = xi_prev
            stopped = stopped | (xi > 20.0)
            add = lax.cond(xi > 0, lambda: xi ** 2, lambda: jnp.sin(xi) * prev)
            return (s + jnp.where(stopped, 0.0, add), stopped), None
        return lax.scan(step, (0.0, False), (x, jnp.roll(x, 1)))[0][0]

    def rows_dot_j(X, w):
        def row(i, s):
            return lax.fori_loop(0, X.shape[1], lambda j, s: s + X[i, j] * w[j], s)
        return lax.fori_loop(0, X.shape[0], row, 0.0)

    def row_recur_j(X):
        def row(i, h):
            return lax.fori_loop(0, X.shape[1], lambda j, h: jnp.tanh(0.5 * h + X[i, j]), h)
        return lax.fori_loop(0, X.shape[0], row, 0.0)

    def loop_in_branch_j(X, w):
        def row(i, s):
            inner = lambda: lax.fori_loop(0, X.shape[1], lambda j, s: s + X[i, j] * w[j], s)
            return lax.cond(X[i, 0] > 0, inner, lambda: s + X[i, 1] ** 2)
        return lax.fori_loop(0, X.shape[0], row, 0.0)

    def branch_in_inner_j(X):
        def cell(i, j, s):
            return lax.cond(X[i, j] > 0, lambda: s + X[i, j] * X[i, 0], lambda: s + jnp.sin(X[i, j]))
        def row(i, s):
            return lax.fori_loop(0, X.shape[1], lambda j, s: cell(i, j, s), s)
        return lax.fori_loop(0, X.shape[0], row, 0.0)

    fns = {"branch_arms": branch_arms_j, "branch_state": branch_state_j, "early_stop": early_stop_j,
           "rows_dot": rows_dot_j, "row_recur": row_recur_j, "loop_in_branch": loop_in_branch_j,
           "branch_in_inner": branch_in_inner_j}
    out = {}
    for name, f in fns.items():
        vg = jax.jit(jax.value_and_grad(f))

        def call(*args, vg=vg):
            v, g = vg(*args)
            return float(v), np.asarray(g.block_until_ready())

        out[name] = call
    return out


# --- one tree, one process --------------------------------------------------------------------------
def worker(names: list[str], sizes: list[int], backend: str, repeats: int) -> list[dict]:
    import looptrace

    jax_fns = _jax_versions()
    rows = []
    for name in names:
        for n in sizes:
            args = make_args(name, n, np.random.default_rng(0))
            vg = looptrace.value_and_grad(WORKLOADS[name], argnums=0, backend=backend)
            t0 = time.perf_counter()
            value, g = vg(*args)
            first = time.perf_counter() - t0
            ref = jax_fns.get(name)
            ok = None
            if ref is not None:
                rv, rg = ref(*args)  # (compiles)
                ok = bool(np.isclose(value, rv, rtol=1e-9) and np.allclose(g, rg, rtol=1e-7, atol=1e-9))
            times, ref_times = [], []
            for _ in range(repeats):  # interleaved with the reference
                t0 = time.perf_counter()
                vg(*args)
                times.append(time.perf_counter() - t0)
                if ref is not None:
                    t0 = time.perf_counter()
                    ref(*args)
                    ref_times.append(time.perf_counter() - t0)
            rows.append({"name": name, "n": n, "grad_s": statistics.median(times), "first_s": first,
                         "jax_s": statistics.median(ref_times) if ref_times else None, "jax_ok": ok,
                         "grad_norm": float(np.linalg.norm(g))})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def run_tree(root: str, names, sizes, backend: str, repeats: int, timeout: float) -> list[dict] | str:
    with tempfile.TemporaryDirectory(prefix="lt_grad_branches_") as cache:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(root).resolve())] + sys.path[1:]),
                   LOOPTRACE_CACHE_DIR=cache)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", ",".join(names),
               ",".join(map(str, sizes)), backend, str(repeats)]
        try:
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                                 cwd=str(Path(root).resolve()))
        except subprocess.TimeoutExpired:
            return f"over {timeout:.0f} s"
    if out.returncode != 0:
        return out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"rc {out.returncode}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        names, sizes = sys.argv[2].split(","), [int(s) for s in sys.argv[3].split(",")]
        print(json.dumps(worker(names, sizes, sys.argv[4], int(sys.argv[5]))))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", action="append", default=[], help="label=path of a checkout (repeatable)")
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sizes", default="1000,10000,80000")
    ap.add_argument("--only", default="", help="comma-separated workloads")
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds per process")
    opts = ap.parse_args()
    trees = [t.split("=", 1) for t in (opts.tree or ["this=" + str(Path(__file__).resolve().parent.parent)])]
    names = [w for w in WORKLOADS if not opts.only or w in opts.only.split(",")]
    sizes = [int(s) for s in opts.sizes.split(",")]
    results = {}
    for label, root in trees:
        results[label] = run_tree(root, names, sizes, opts.backend, opts.repeats, opts.timeout)
        print(f"{label}: done", file=sys.stderr, flush=True)
    print(f"backend={opts.backend}; median of {opts.repeats} calls of value_and_grad after a compiling one; "
          "jax: jax.jit(jax.value_and_grad) of the same loops, in the same process (- without JAX)")
    print(f"{'workload':16s} {'n':>6s} {'tree':8s} {'grad (s)':>10s} {'jax (s)':>10s} {'jax ok':>6s} {'|grad|':>12s}")
    for label, rows in results.items():
        if isinstance(rows, str):
            print(f"{label}: {rows}")
            continue
        for r in rows:
            jax_s = f"{r['jax_s']:.5f}" if r["jax_s"] is not None else "-"
            print(f"{r['name']:16s} {r['n']:6d} {label:8s} {r['grad_s']:10.5f} {jax_s:>10s} "
                  f"{str(r['jax_ok']) if r['jax_ok'] is not None else '-':>6s} {r['grad_norm']:12.6g}")


if __name__ == "__main__":
    main()
