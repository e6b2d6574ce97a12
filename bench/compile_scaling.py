"""Compile time against the size of a loop body: 50 -> 400 statements.

Two bodies, each `for i in range(n): ...` with S statements:
  independent  out[i, k] = x[i] * (k + 1)            for k < S
  chained      y = y * 0.5 + x[i] * c_k; out[i] = y  (S links)
Each stage is timed on its own: tracing (AST conversion included), the pass
pipeline (vectorizer), emitting the kernel source, and Numba's compile of the
kernel (in memory, no disk cache). looptrace's own stages should grow
linearly with S; the last column is Numba's (LLVM's) compile of one kernel
function, which grows faster than linearly with its length.

    python bench/compile_scaling.py [--sizes 50 100 200 400] [--numba-max 100]
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np


def independent(n: int) -> str:
    body = "\n".join(f"        out[i, {k}] = x[i] * {k + 1}" for k in range(n))
    return f"def f(x):\n    out = np.empty((x.shape[0], {n}))\n    for i in range(x.shape[0]):\n{body}\n    return out\n"


def chained(n: int) -> str:
    body = "\n".join(f"        y = y * 0.5 + x[i] * {k % 7 + 1}" for k in range(n))
    return (f"def f(x):\n    out = np.empty_like(x)\n    for i in range(x.shape[0]):\n        y = 0.0\n{body}\n"
            "        out[i] = y\n    return out\n")


def make(src: str, tag: str):
    path = os.path.join(tempfile.mkdtemp(), f"body_{tag}.py")
    with open(path, "w") as f:
        f.write(src)
    ns = {"np": np}
    exec(compile(src, path, "exec"), ns)
    return ns["f"]


def stages(fn, x, with_numba: bool) -> tuple:
    import looptrace as lt
    from looptrace import pipeline
    from looptrace.codegen import cpu
    from looptrace.codegen.target import CompileOptions

    j = lt.jit(fn, backend="cpu")
    t0 = time.perf_counter()
    program = j.trace([x])
    t1 = time.perf_counter()
    program = pipeline.run_passes(program)
    t2 = time.perf_counter()
    kernel = cpu.compile_program(program, CompileOptions(cache=False))
    t3 = time.perf_counter()
    numba_s = None
    if with_numba:
        out = kernel([x])[0]
        numba_s = time.perf_counter() - t3
        assert np.allclose(out, fn(x))
    return t1 - t0, t2 - t1, t3 - t2, numba_s, len(kernel.source.splitlines())


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200, 400])
    p.add_argument("--numba-max", type=int, default=100, help="largest size whose Numba compile is timed")
    args = p.parse_args()
    x = np.linspace(0.0, 1.0, 16)
    print(f"# python {sys.version.split()[0]}; seconds per stage")
    print("| body | statements | trace | passes | emit | looptrace total | per statement (ms) | kernel lines "
          "| Numba compile |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, gen in (("independent", independent), ("chained", chained)):
        for n in args.sizes:
            tr, ps, em, nb, lines = stages(make(gen(n), f"{name}{n}"), x, n <= args.numba_max)
            own = tr + ps + em
            nb_text = f"{nb:.1f}" if nb is not None else "not timed"
            print(f"| {name} | {n} | {tr:.2f} | {ps:.2f} | {em:.2f} | {own:.2f} | {1000 * own / n:.1f} | {lines} "
                  f"| {nb_text} |", flush=True)


if __name__ == "__main__":
    main()
