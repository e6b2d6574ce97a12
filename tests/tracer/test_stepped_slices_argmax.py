"""Two things a loop over a varying slice needs that looptrace lacked.

1. A slice with a traced bound and a step other than 1 (`x[i::2]`,
   `is_prime[p * p::p] = False` in a sieve, `x[:i:-2]`) or a traced step
   (`x[::k]`): `varying_slice` compared the traced step with None and
   failed with "cannot use a NoneType as an array operand of np.equal" (or
   "a slice with traced bounds needs step 1"). It is now a selection masked
   to the positions NumPy's slice.indices gives, for either sign of the
   step; a traced step of 0 raises NumPy's ValueError at run time.
2. np.argmax / np.argmin of a varying slice or a boolean-mask selection
   (`k + np.argmax(np.abs(U[k:, k]))`, the pivot search of LU with partial
   pivoting): a ConcreteIndexError once the loop was too long to unroll.
   It is now the first selected position holding the extreme (the first
   NaN where there is one), counted among the selected positions; an empty
   selection raises NumPy's ValueError.
Plain against compiled on random data, on interpret and cpu.
"""
import numpy as np
import pytest

import looptrace
from bench.corpus.discrete import sieve
from bench.corpus.linalg_loops import lu_partial_pivot

from ._loopcheck import assert_same
from tests.marks import INTERPRET_AND_SLOW_CPU

BACKENDS = ["interpret", "cpu"]


def run(fn, *args, backend):
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jitted = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with np.errstate(all="ignore"):
        want = fn(*plain)
    got = looptrace.jit(fn, backend=backend)(*jitted)
    assert_same(got, want)
    for g, w in zip(jitted, plain):
        if isinstance(w, np.ndarray):
            assert_same(g, w, what="argument after the call")


def stepped_reads(x):
    out = np.zeros((x.shape[0], 4))
    for i in range(x.shape[0]):
        out[i, 0] = x[i::2].sum()
        out[i, 1] = x[i::-1].sum()
        out[i, 2] = x[:i:-3].max(initial=-10.0)
        out[i, 3] = (x[1:i:2] * x[1:i:2]).sum()
    return out


def stepped_writes(x):
    y = x.copy()
    for i in range(1, 9):
        y[i::i] *= 0.5
        y[:-i:-i] = y[:-i:-i] + 1.0
    return y


def traced_step(x, steps):
    out = np.zeros(steps.shape[0])
    for i in range(steps.shape[0]):
        k = steps[i]
        out[i] = x[1::k].sum() + x[::k].min(initial=99.0)
    return out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("backend", BACKENDS)
def test_stepped_slices_match(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    r = np.random.default_rng(4)
    if backend != "cpu":  # on cpu: tests/codegen/test_cpu_stepped_writes.py test_sieve_matches[cpu] and
        # test_stepped_writes_match_numpy_cpu (writes through slices of traced start and step)
        run(sieve, 1000, backend=backend)
        run(stepped_writes, r.standard_normal(70), backend=backend)
    run(stepped_reads, r.standard_normal(90), backend=backend)
    run(traced_step, r.standard_normal(80), np.array([1, 2, 3, -1, -4, 7, 100, -100]), backend=backend)


def test_traced_step_of_zero_raises_numpys_error():
    f = looptrace.jit(traced_step, backend="interpret")
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        f(np.ones(80), np.array([2, 0, 1]))


def arg_extremes(x):
    out = np.zeros((x.shape[0], 3), dtype=np.int64)
    for k in range(x.shape[0]):
        out[k, 0] = np.argmax(x[k:])
        out[k, 1] = x[:k + 1].argmin()
        out[k, 2] = np.argmax(x[k:] > 0.5)
    return out


def masked_arg(x, c):
    return np.argmax(x[x > c]), x[x < c].argmin()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_argmax_of_selections_matches(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    r = np.random.default_rng(5)
    run(lu_partial_pivot, r.standard_normal((70, 70)), backend=backend)  # longer than a loop that is unrolled
    nan = r.standard_normal(80)
    nan[[3, 40, 41, 77]] = np.nan
    ties = r.integers(0, 3, 80)
    for x in (r.standard_normal(80), nan, ties, np.full(80, -np.inf), r.random(80) > 0.5):
        run(arg_extremes, x, backend=backend)
    run(masked_arg, nan, 0.2, backend=backend)
    run(masked_arg, ties, 1, backend=backend)


def test_argmax_of_an_empty_selection_raises_numpys_error():
    f = looptrace.jit(masked_arg, backend="interpret")
    with pytest.raises(ValueError, match="attempt to get argmax of an empty sequence"):
        f(np.zeros(10), 1.0)
