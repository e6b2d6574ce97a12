"""Corpus kernels hand-written numba.njit beat (helper K2, s53): a codegen rule
off (old) and on (new), side by side with njit, in one process.

negative_step_suffix: a negative-step loop's stacked output written straight
into its array from the end back (codegen/cpu/destinations.py `_backwards`,
planning/fusion.py `covered_box`); old = the rule patched off at compile time
(a stacked temporary, a zero fill and a reversed copy after the loop).

enumerate_zip: a scan's coefficient map of a few cheap ops beside an iota
computed in the scan's loop (planning/fusion.py `_cheap_per_step`); old = the
map's nest of its own when it has more than 4 ops, the iota counted.

float_modulo_negative: a sum whose term calls libm (fmod) computes its terms
into a small block, then adds them to the 8 lanes (codegen/cpu/nest.py
`_terms_call`); old = the terms added to the lanes as computed.

continue_filter (and bench/masked_rows.py's sparse and dense masked folds, to
show the sparse ones keep their speed): sparse folds' runs taken untested
after runs that all selected something, and the masked float folds' lanes in
one loop over a run's rows (codegen/cpu/sparse_folds.py `_Untested`,
`_lanes_together`); old = both patched off (every run tested, a loop over
the rows per fold).

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
from looptrace.codegen.cpu import nest as N  # noqa: E402
from looptrace.codegen.cpu import sparse_folds as S  # noqa: E402
from looptrace.codegen.planning import fusion as F  # noqa: E402
from bench import masked_rows as M  # noqa: E402


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


def _sparse_off():
    """Every run's mask tested, and a loop over a run's rows per masked fold, as before."""
    keep_t, keep_l = S._Untested.test, S.SparseFolds._lanes_together
    S._Untested.test = lambda self, hit, tested: tested()
    S.SparseFolds._lanes_together = lambda self, folds, term_at, s0, s1, r, j, saved: [
        self._run_terms(o, acc, 0, term_at, s0, s1, r, j, saved) for o, acc in folds]
    return lambda: (setattr(S._Untested, "test", keep_t), setattr(S.SparseFolds, "_lanes_together", keep_l))


def _scan_maps_off():
    """A scan's coefficient map inlined only where is_streaming (at most 4 ops, an iota counted), as before."""
    keep = F._cheap_per_step
    F._cheap_per_step = F.is_streaming
    return lambda: setattr(F, "_cheap_per_step", keep)


def _libm_terms_off():
    """A sum's terms holding a libm call (not mathlib's) added to the 8 lanes as computed, as before."""
    keep = N._terms_call
    N._terms_call = lambda op, plan: any(N.element_cost(o) == N.MATHLIB for o in N.nest_ops(op, plan))
    return lambda: setattr(N, "_terms_call", keep)


def _cases():
    """(name, function, arguments, the rule off)."""
    out = []
    for name, off in (("negative_step_suffix", _backwards_off), ("continue_filter", _sparse_off),
                      ("enumerate_zip", _scan_maps_off), ("float_modulo_negative", _libm_terms_off)):
        k = next(k for k in all_kernels() if k.name == name)
        out.append((name, k.fn, k.make(np.random.default_rng(1), "bench"), off))
    rng = np.random.default_rng(46)
    data, radius = rng.random(400_000), rng.random(400_000)
    out += [("azimint_naive 400k x 100", M.azimint_naive, (data, radius, 100), _sparse_off),
            ("sum, 0.1% selected", M.band_sum, (data, radius, 0.4, 0.401), _sparse_off),
            ("sum, 5% selected", M.band_sum, (data, radius, 0.4, 0.45), _sparse_off),
            ("sum, 50% selected", M.band_sum, (data, radius, 0.25, 0.75), _sparse_off)]
    return out


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
    for name, fn, args, off in _cases():
        new, src_new = _compiled(fn, args)
        old, src_old = _compiled(fn, args, off)
        same = " (the same kernel: the rule does not apply)" if src_new == src_old else ""
        nj = numba.njit(fn)
        ref = fn(*args)
        for f in (new, old, nj):
            for got, want in zip(f(*args) if isinstance(ref, tuple) else (f(*args),),
                                 ref if isinstance(ref, tuple) else (ref,)):
                np.testing.assert_allclose(got, want, rtol=1e-12)
        for a, b in zip(new(*args) if isinstance(ref, tuple) else (new(*args),),
                        old(*args) if isinstance(ref, tuple) else (old(*args),)):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
        m = T.compare({"old": lambda: old(*args), "new": lambda: new(*args), "njit": lambda: nj(*args)},
                      repeats=repeats, warmup=2)
        print(f"{name}: ms old {m['old'] * 1e3:.4f} new {m['new'] * 1e3:.4f} njit {m['njit'] * 1e3:.4f}  "
              f"old/new {m['old'] / m['new']:.2f}  njit/new {m['njit'] / m['new']:.2f}  "
              f"njit/old {m['njit'] / m['old']:.2f}{same}")


if __name__ == "__main__":
    main()
