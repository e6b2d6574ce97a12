"""What a shape-generic kernel costs at run time, and what it saves in compiles.

For each corpus kernel whose kernel at the "test" sizes and at the "bench"
sizes differ only in numeric literals (one family, looptrace/codegen/cpu/
generic.py), the bench-size call runs
  - specialized: a kernel compiled for the bench sizes
    (LOOPTRACE_SPECIALIZED_SHAPES=0), and
  - generic: after a call at the test sizes, the family's generic kernel,
    with the bench sizes passed at run time,
in one process, alternating, median of --repeats. Also printed: the first
call at the bench sizes in each mode (a Numba compile for specialized, the
generic kernel's compile for generic) and a third size's first call in
generic mode (no compile: trace, passes, emit only).

    python bench/generic_kernels.py [--repeats 15] [--only name ...]
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp(prefix="lt_generic_"))

import looptrace  # noqa: E402
from bench.corpus import all_kernels  # noqa: E402
from looptrace.codegen.cpu import generic  # noqa: E402


def first_call(f, args) -> float:
    t = time.perf_counter()
    f(*copy.deepcopy(args))
    return time.perf_counter() - t


def median_ms(f, args, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        a = copy.deepcopy(args)
        t = time.perf_counter()
        f(*a)
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def one_family(f, small, big) -> bool:
    os.environ["LOOPTRACE_SPECIALIZED_SHAPES"] = "0"  # each signature's own source
    a = f.explain(*small).kernel_source
    b = f.explain(*big).kernel_source
    return generic.literals(a).skeleton == generic.literals(b).skeleton


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--only", nargs="*")
    args = p.parse_args()
    print("| kernel | sizes passed | specialized ms | generic ms | generic / specialized time | "
          "first call specialized s | first call generic s | another size s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for k in all_kernels():
        if args.only and k.name not in args.only:
            continue
        rng = np.random.default_rng(0)
        small, big = k.make(rng, "test"), k.make(rng, "bench")
        try:
            if not one_family(looptrace.jit(k.fn, backend="cpu"), small, big):
                continue
        except Exception:
            continue
        os.environ["LOOPTRACE_SPECIALIZED_SHAPES"] = "0"
        spec = looptrace.jit(k.fn, backend="cpu")
        c_spec = first_call(spec, big)
        os.environ["LOOPTRACE_SPECIALIZED_SHAPES"] = "1"
        generic.forget_families()
        gen = looptrace.jit(k.fn, backend="cpu")
        gen(*copy.deepcopy(small))
        c_gen = first_call(gen, big)
        notes = [n for n in gen.explain(*big).notes if "shape-generic" in n]
        if not notes:
            continue
        holes = notes[0].count("lt_n")
        third = k.make(np.random.default_rng(1), "test")
        third = _perturbed(k, third)
        c_third = first_call(gen, third) if third is not None else float("nan")
        ts, tg = [], []
        for _ in range(3):
            ts.append(median_ms(spec, big, args.repeats))
            tg.append(median_ms(gen, big, args.repeats))
        s, g = min(ts), min(tg)
        ratios.append(g / s)
        print(f"| {k.name} | {holes} | {s:.3f} | {g:.3f} | {g / s:.2f} | {c_spec:.2f} | {c_gen:.2f} | "
              f"{c_third:.3f} |", flush=True)
    if ratios:
        print(f"\n{len(ratios)} kernels; generic / specialized run time: geometric mean "
              f"{np.exp(np.mean(np.log(ratios))):.3f}, max {max(ratios):.2f}, min {min(ratios):.2f}")


def _perturbed(k, args):
    """The test arguments with every array one element longer on its first
    axis where that keeps the kernel's structure (else None)."""
    out = []
    for a in args:
        if isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[0] > 2 and a.dtype.kind == "f":
            a = np.concatenate([a, a[:1]])
        out.append(a)
    try:
        k.fn(*copy.deepcopy(out))
    except Exception:
        return None
    return tuple(out)


if __name__ == "__main__":
    main()
