"""Array-style kernels that ran slower than plain NumPy (issue 11, probe W2's
lbm_d2q9, forest_fire, logreg_sgd_minibatch): values against the plain
function, and the shape of what is generated where the fix is structural.
Speed itself is measured in bench/, never asserted here."""
from __future__ import annotations

import numpy as np
import pytest

import looptrace as lt
from bench.corpus import domains
from looptrace.ir.core import walk
from looptrace.pipeline import run_passes


def _rolled_rows(f, n_steps, omega):
    """lbm_d2q9's shape: a relaxation toward a weighted mean, then each row k
    rolled by its own shifts along both axes."""
    cx = np.array([0, 1, 0, -1, 0, 1, -1, -1, 1])
    cy = np.array([0, 0, 1, 0, -1, 1, 1, -1, -1])
    w = np.array([4 / 9, 1 / 9, 1 / 9, 1 / 9, 1 / 9, 1 / 36, 1 / 36, 1 / 36, 1 / 36])
    f = f.copy()
    for _ in range(n_steps):
        rho = f.sum(axis=0)
        ux = (f * cx[:, None, None]).sum(axis=0) / rho
        for k in range(9):
            feq = w[k] * rho * (1.0 + 3.0 * cx[k] * ux)
            f[k] = f[k] + omega * (feq - f[k])
        for k in range(9):
            f[k] = np.roll(np.roll(f[k], cx[k], axis=1), cy[k], axis=0)
    return f


def _fire(grid, u, p):
    """forest_fire's shape: masks combined with | and & each step."""
    g = grid.copy()
    burned = np.zeros(u.shape[0], dtype=np.int64)
    for t in range(u.shape[0]):
        burning = g == 2
        nb = np.roll(burning, 1, 0) | np.roll(burning, -1, 1)
        new = g.copy()
        new[burning] = 0
        new[(g == 1) & (nb | (u[t] < p))] = 2
        burned[t] = burning.sum()
        g = new
    return g, burned


def _check(f, *args, backends=("interpret", "cpu")):
    want = f(*args)
    for backend in backends:
        got = lt.jit(f, backend=backend)(*args)
        for a, b in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def _lbm_args(rng, shape=(6, 7)):
    return 1.0 / 9 + 0.01 * rng.random((9,) + shape), 3, 1.2


def test_rolled_rows_values():
    _check(_rolled_rows, *_lbm_args(np.random.default_rng(1)))


def test_rolled_rows_one_pass_no_transposes():
    """Each row's two rolls (a batched gather along a later axis: moved to the
    front, gathered, moved back) compose with the relaxation into reads at
    positions: no gather or transpose of the whole (9, n, m) state is left
    to be made and copied at every step."""
    args = _lbm_args(np.random.default_rng(2))
    program = run_passes(lt.jit(_rolled_rows).trace(list(args)))
    big = [op for op in walk(program.body) if len(op.outputs) == 1 and np.prod(op.out.shape) >= 9 * 6 * 7]
    assert not [op for op in big if op.prim.name == "transpose"]
    # what is left of the gathers: element reads of a flat array at computed offsets
    assert all(op.inputs[0].ndim == 1 for op in big if op.prim.name == "gather")


def test_composed_gather_keeps_index_error():
    """A gather of a gather whose index is data (not known to be in range) is
    not composed away: its IndexError is the plain function's."""
    def f(x, idx, n):
        out = x.copy()
        for _ in range(n):
            out = (out * 2.0)[idx][::-1] + 1.0
        return out

    x = np.random.default_rng(3).random(10)
    _check(f, x, np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]), 3)
    bad = np.array([3, 1, 4, 1, 5, 10, 2, 6, 5, 3])
    for backend in ("interpret", "cpu"):
        with pytest.raises(IndexError):
            lt.jit(f, backend=backend)(x, bad, 3)


def test_gather_of_gathered_rows_values():
    """x[i][j] in a loop with in-range positions: one read at composed positions."""
    def f(x, n):
        m = x.shape[1]
        out = x.copy()
        for _ in range(n):
            s = np.empty_like(out)
            for k in range(out.shape[0]):
                s[k] = np.roll(out[k] * 0.5 + 1.0, k % m)
            out = s[::-1]
        return out

    _check(f, np.random.default_rng(4).random((5, 8)), 4)


def test_fire_values():
    rng = np.random.default_rng(5)
    _check(_fire, rng.integers(0, 3, (9, 11)), rng.random((4, 9, 11)), 0.3)


def test_logical_and_or_are_bitwise_in_the_kernel():
    """np.logical_and / np.logical_or of masks: `&` / `|`, not Python's
    short-circuit `and` / `or` (a branch per element that mispredicts on
    random masks and keeps the loop from vectorizing)."""
    def f(a, b, c):
        return np.logical_or(np.logical_and(a > 0.5, b < 0.5), c > 0.9)

    rng = np.random.default_rng(6)
    args = rng.random(1000), rng.random(1000), rng.random(1000)
    _check(f, *args)
    source = lt.explain(lt.jit(f), *args).kernel_source
    assert " and " not in source and " or " not in source, source


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.bool_])
def test_logical_ops_of_numbers(dtype):
    """Operands that are not bools are truthy as NumPy counts them (NaN is true)."""
    def f(a, b):
        return np.logical_and(a, b), np.logical_or(a, b), np.logical_and(a > 0, b)

    rng = np.random.default_rng(7)
    a = (rng.integers(0, 3, 50) - 1).astype(dtype)
    b = (rng.integers(0, 3, 50) - 1).astype(dtype)
    if dtype == np.float64:
        a[::7] = np.nan
    want = f(a, b)
    got = lt.jit(f)(a, b)
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)


def test_weighted_sum_over_leading_axis_reads_in_place():
    """einsum('abc,a->bc'): the operand is read as a (bc, a) column-major
    matrix view, not copied into a (b, c, a) transpose first."""
    def f(x, w):
        return (x * w[:, None, None]).sum(axis=0)

    rng = np.random.default_rng(8)
    x, w = rng.random((9, 60, 70)), rng.random(9)
    _check(f, x, w)
    source = lt.explain(lt.jit(f), x, w).kernel_source
    assert "alloc((60, 70, 9" not in source, source


def test_fitted_blas_limits_threads_on_busy_cores(monkeypatch):
    """A kernel calling BLAS runs with BLAS limited to the free cores (here
    1) and the library's setting is put back after the call."""
    from looptrace.codegen.cpu import blas_threads, threading_policy

    lib = blas_threads.numba_blas()
    if lib is None or lib.get_num_threads() < 2:
        pytest.skip("no BLAS library with several threads to limit")
    before = lib.get_num_threads()
    monkeypatch.setattr(threading_policy, "free_cores", lambda now=None: 1)
    monkeypatch.setitem(threading_policy._sample, "t", -1e9)  # stale: the next call asks free_cores
    seen = []
    run = blas_threads.fitted_blas(lambda: seen.append(lib.get_num_threads()))
    run()
    assert seen == [1]
    assert lib.get_num_threads() == before


def test_logreg_minibatch_values():
    f = domains.logreg_sgd_minibatch  # the corpus kernel (bench/corpus/domains.py)
    rng = np.random.default_rng(9)
    X = rng.standard_normal((64, 3))
    y = (X @ rng.standard_normal(3) > 0).astype(np.float64)
    perm = np.stack([rng.permutation(64) for _ in range(2)])
    # on the interpreter (the passes' program); its cpu kernel (2.1 s in session 54's CI at 0bc3f38) runs
    # against the plain function in tests/vectorize/test_hoist_cost_s44.py::test_minibatch_gathers_are_read_per_step[cpu]
    _check(f, X, y, perm, 0.1, 16, 2, backends=("interpret",))
