"""Corpus kernels hand-written numba.njit beat (helper K2, s53): a codegen rule
off (old) and on (new), side by side with njit, in one process.

negative_step_suffix: a negative-step loop's stacked output written straight
into its array from the end back (codegen/cpu/destinations.py `_backwards`,
planning/fusion.py `covered_box`); old = the rule patched off at compile time
(a stacked temporary, a zero fill and a reversed copy after the loop).

CPU time (time.process_time: wall time lies on a loaded machine), the kernels'
calls interleaved round-robin (bench/_timing.compare), medians; ratios only
within one run. usage: python bench/corpus_losses_k2.py [--repeats 20]
"""
import argparse
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import looptrace as lt  # noqa: E402
from bench import _timing as T  # noqa: E402
from bench.corpus import all_kernels  # noqa: E402
from looptrace.codegen.cpu import destinations as D  # noqa: E402
from looptrace.codegen.planning import fusion as F  # noqa: E402


def _cpu_time(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def _backwards_off():
    """The rule as before: a backwards write is no destination, its box not a cover."""
    keep_b, keep_c = D._backwards, F.covered_box
    D._backwards = lambda w, b: None if keep_b(w, b) else keep_b(w, b)
    F.covered_box = F._written_box
    return lambda: (setattr(D, "_backwards", keep_b), setattr(F, "covered_box", keep_c))


def _compiled(fn, args, off=None):
    restore = off() if off else None
    try:
        j = lt.jit(lambda *a: fn(*a), backend="cpu")  # (a new function: its own kernel)
        j(*args)
        return j, lt.explain(j, *args).kernel_source
    finally:
        if restore:
            restore()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    repeats = ap.parse_args().repeats
    warnings.simplefilter("ignore")
    T._time_once = _cpu_time
    for name, off in (("negative_step_suffix", _backwards_off),):
        k = next(k for k in all_kernels() if k.name == name)
        args = k.make(np.random.default_rng(1), "bench")
        new, src_new = _compiled(k.fn, args)
        old, src_old = _compiled(k.fn, args, off)
        assert src_new != src_old, "the rule changed nothing"
        nj = numba.njit(k.fn)
        ref = k.fn(*args)
        for f in (new, old, nj):
            np.testing.assert_allclose(f(*args), ref)
        m = T.compare({"old": lambda: old(*args), "new": lambda: new(*args), "njit": lambda: nj(*args)},
                      repeats=repeats, warmup=2)
        print(f"{name}: ms old {m['old'] * 1e3:.4f} new {m['new'] * 1e3:.4f} njit {m['njit'] * 1e3:.4f}  "
              f"old/new {m['old'] / m['new']:.2f}  njit/new {m['njit'] / m['new']:.2f}  "
              f"njit/old {m['njit'] / m['old']:.2f}")


if __name__ == "__main__":
    main()
