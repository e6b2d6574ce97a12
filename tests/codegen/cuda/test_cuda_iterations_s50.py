"""Loops of independent iterations on the cuda target: one thread per iteration
(codegen/cuda/iterations.py), a perfect nest flattened into one range. Values
under the simulator against the plain function (values, dtypes, the argument
arrays after the call); types and lowering by compiling the kernels to sm_90
PTX (the simulator checks neither)."""
import math

import numpy as np
import pytest

import looptrace as lt
from bench.corpus.algorithms import bisection_roots
from bench.corpus.discrete import collatz_lengths
from bench.corpus.domains import kepler_newton, sph_density, sphere_trace
from bench.corpus.physics import mandelbrot_loops
from looptrace.codegen.cuda import ptxinfo
from tests.codegen.cuda.test_cuda_target_ptx import compile_all

from _cuda_support import assert_like_plain, cuda_backend

ITERATIONS = "GPU: one thread per iteration"


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def _sph_args(rng):
    n = 6
    pos = rng.uniform(0, 1.5, (n, 2))
    near = [[j for j in range(n) if j != i and math.hypot(*(pos[i] - pos[j])) < 1.2] for i in range(n)]
    offsets = np.cumsum([0] + [len(x) for x in near]).astype(np.int64)
    return pos, offsets, np.array([j for x in near for j in x], dtype=np.int64), 0.6, 1.0


CORPUS = {
    "sphere_trace": (sphere_trace, lambda rng: (4, 3, 8), "12 iterations, independent; the nested loop at line"),
    "mandelbrot_loops": (mandelbrot_loops, lambda rng: (rng.uniform(-2, 1, (3, 4)), rng.uniform(-1, 1, (3, 4)), 20),
                         "12 iterations, independent; the nested loop at line"),
    "bisection_roots": (bisection_roots, lambda rng: (rng.normal(size=5), 1e-6), "5 iterations"),
    "collatz_lengths": (collatz_lengths, lambda rng: (rng.integers(1, 30, 5),), "5 iterations"),
    "kepler_newton": (kepler_newton, lambda rng: (rng.uniform(0, 6, 5), rng.uniform(0, 0.95, 5), 1e-10),
                      "5 iterations"),
    "sph_density": (sph_density, _sph_args, "6 iterations"),
}


def _reasons(jitted, args) -> str:
    return " | ".join(l.reason for l in jitted.explain(*args).loops)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_corpus_loops_run_one_thread_per_iteration(case, rng):
    fn, make, words = CORPUS[case]
    args = make(rng)
    jitted = lt.jit(fn, backend="cuda")
    assert_like_plain(fn, args, jitted)
    reasons = _reasons(jitted, args)
    assert ITERATIONS in reasons and words in reasons, reasons


def nested_break(x, lim):
    """A for loop carrying a count around a while with a break, per row; two outputs of two dtypes."""
    n, m = x.shape
    out = np.zeros(n, dtype=np.int64)
    last = np.empty(n, dtype=np.float32)
    for i in range(n):
        c = 0
        for j in range(m):
            v = x[i, j]
            while v < lim:
                v = v * 2.0 + 0.1
                c += 1
                if c > 40:
                    break
        out[i] = c
        last[i] = c / 3.0
    return out, last


def windows(a, idx):
    out = np.empty(idx.shape[0])
    for i in range(idx.shape[0]):
        j = idx[i]
        s = 0.0
        k = 0
        while k < 3:
            s += a[j + k]  # the line an out-of-range index names
            k += 1
        out[i] = s
    return out


def roots(x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        v = x[i]
        k = 0
        while k < 2:
            v = math.sqrt(v) - 0.25  # ValueError where v < 0
            k += 1
        out[i] = v
    return out


def smooth_in_place(a):
    """Each iteration reads what the one before it wrote: not independent."""
    for i in range(1, a.shape[0]):
        k = 0
        while k < 2:
            a[i] = a[i] + 0.5 * a[i - 1]
            k += 1
    return a


def voxels(x):
    a, b, c = x.shape
    out = np.empty((a, b, c), dtype=np.int32)
    for i in range(a):
        for j in range(b):
            for k in range(c):
                v = x[i, j, k]
                n = 0
                while v > 1.0:
                    v = v * 0.5
                    n += 1
                out[i, j, k] = n + i - j
    return out


def row_folds(x):
    """The inner loop becomes a stacked row and a sum over it: the thread folds it in a register
    (iterations.py `thread_rows`, s51)."""
    n, m = x.shape
    out = np.empty(n)
    for i in range(n):
        acc = 0.0
        for k in range(m):
            t = x[i, k]
            while t > 1.0:
                t = t / 2.0
            acc += t
        out[i] = acc
    return out


def test_three_nested_loops_are_one_range(rng):
    args = (rng.uniform(0, 40, (2, 3, 4)),)
    jitted = lt.jit(voxels, backend="cuda")
    assert_like_plain(voxels, args, jitted)
    reasons = _reasons(jitted, args)
    assert f"{ITERATIONS} (24 iterations, independent; the nested loops at lines" in reasons, reasons


def test_a_body_folding_a_row_runs_one_thread_per_iteration(rng):
    args = (rng.uniform(0, 9, (3, 2)),)
    jitted = lt.jit(row_folds, backend="cuda")
    assert_like_plain(row_folds, args, jitted)
    assert ITERATIONS in _reasons(jitted, args)


def test_break_inside_a_nested_while(rng):
    args = (rng.uniform(0.01, 1, (4, 3)), 50.0)
    jitted = lt.jit(nested_break, backend="cuda")
    assert_like_plain(nested_break, args, jitted, rtol=1e-6)
    assert ITERATIONS in _reasons(jitted, args)


def test_index_out_of_range_raises_index_error_naming_the_line(rng):
    a = rng.normal(size=10)
    jitted = lt.jit(windows, backend="cuda")
    assert_like_plain(windows, (a, rng.integers(0, 7, 6)), jitted)
    assert ITERATIONS in _reasons(jitted, (a, rng.integers(0, 7, 6)))
    bad = np.array([0, 2, 8, 1])
    with pytest.raises(IndexError) as plain:
        windows(a, bad)
    with pytest.raises(IndexError) as got:
        jitted(a.copy(), bad)
    assert str(plain.value) in str(got.value)
    assert "s += a[j + k]" in str(got.value)


def test_failed_check_raises_the_plain_error(rng):
    x = rng.uniform(1.0, 3.0, 6)
    jitted = lt.jit(roots, backend="cuda")
    assert_like_plain(roots, (x,), jitted)
    assert ITERATIONS in _reasons(jitted, (x,))
    x[3] = 0.01  # sqrt(0.01) - 0.25 < 0: the second sqrt fails
    with pytest.raises(ValueError) as plain:
        roots(x)
    with pytest.raises(ValueError) as got:
        jitted(x)
    assert str(plain.value) == str(got.value)
    assert "math.sqrt(v)" in "".join(getattr(got.value, "__notes__", [])), got.value.__dict__


def test_a_loop_reading_another_iterations_write_keeps_its_order(rng):
    args = (rng.normal(size=6),)
    jitted = lt.jit(smooth_in_place, backend="cuda")
    assert_like_plain(smooth_in_place, args, jitted)
    reasons = _reasons(jitted, args)
    assert "independent" not in reasons and ITERATIONS not in reasons, reasons


def test_zero_iterations(rng):
    jitted = lt.jit(bisection_roots, backend="cuda")
    assert_like_plain(bisection_roots, (np.empty(0), 1e-6), jitted)


def test_forced_strategies(monkeypatch, rng):
    args = (rng.integers(1, 30, 4),)
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", "single")
    jitted = lt.jit(collatz_lengths, backend="cuda")
    assert_like_plain(collatz_lengths, args, jitted)
    assert "single-block" in _reasons(jitted, args)
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", "iterations")
    jitted = lt.jit(collatz_lengths, backend="cuda")
    assert_like_plain(collatz_lengths, args, jitted)
    assert f"{ITERATIONS} (4 iterations, independent; forced by LOOPTRACE_CUDA_SCAN)" in _reasons(jitted, args)
    carried = (rng.normal(size=5),)  # not independent: forcing it falls back to the cost model
    jitted = lt.jit(smooth_in_place, backend="cuda")
    assert_like_plain(smooth_in_place, carried, jitted)
    assert ITERATIONS not in _reasons(jitted, carried)


def test_iterations_kernels_compile_to_ptx(ptx_ok, rng):
    """Types and lowering of the kernels (flattened nest, nested while with break, checks):
    sm_90 PTX, no spills, registers per thread reported by ptxas."""
    for name in ("sphere_trace", "kepler_newton"):
        fn, make, _ = CORPUS[name]
        program = lt.jit(fn, backend="interpret").explain(*make(rng)).program
        ptx = compile_all(program, name, only="its")
        assert ptx, name
        for kname, text in ptx.items():
            res = ptxinfo.resources(text)
            assert not res.spills, (kname, res)
            assert res.registers <= 128, (kname, res)
            print(kname, "registers", res.registers, "stack", res.stack_bytes)
