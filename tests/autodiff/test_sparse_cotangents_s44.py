"""A loop body that reads the same differentiated array more than once per
step (`x[i] * x[i]`, the RNN's `X[t]` and `X[t - 1]`, two gathers) gives it
a sum of sparse cotangents. add_cts (ops/vjp_helpers.py) used to make the
older one dense, zeros plus an update, in every step of the reverse loop:
O(T^2) time, and O(T^2) memory where the vectorizer batched it into a T x T
matrix (session-44 probe G: n = 80000 took 5.9 s, the RNN at T = 16000 2.1 GB).
A SparseSum keeps the parts and adds them into the accumulator one by one."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.api import _Differentiated
from looptrace.autodiff.check import assert_close, numerical_grad
from looptrace.autodiff.vjp import gradient_program
from looptrace.ir.core import walk

from bench.grad_sparse_reads import rec_accum, rnn, sq_twice  # (the workloads of the bench, probe G's)


def scatter_twice(v, idx):
    out = np.zeros(5)
    for i in range(v.shape[0]):
        out[idx[i]] += v[i] * v[i]
    return np.sum(out ** 2)


def neighbours(x):
    s = 0.0
    for i in range(1, x.shape[0] - 1):
        s += x[i - 1] * x[i] * np.sin(x[i + 1])
    return s


def gathers(v, idx, jdx):
    s = 0.0
    for i in range(idx.shape[0]):
        s += v[idx[i]] * np.cos(v[jdx[i]]) + v[i] ** 3
    return s


def sparse_and_dense(x):
    s = 0.0
    for i in range(1, x.shape[0]):
        s += x[i] * x[i - 1] + 0.1 * np.sum(x * x) * x[i]
    return s


def transposed_pairs(X):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            s += X[i, j] * np.tanh(X[j, i])
    return s


def while_pairs(x):
    s = 0.0
    i = 0
    while i < x.shape[0] - 1:
        s += np.exp(0.3 * x[i]) * x[i + 1] * x[i]
        i += 1
    return s


def _rnn_args(rng, T):
    return (rng.normal(size=(T, 2)), rng.normal(size=3), rng.normal(size=(3, 3)) * .4,
            rng.normal(size=(3, 2)), rng.normal(size=(3, 2)))


CASES = {
    "sq_twice": (sq_twice, lambda r: (r.normal(size=9),), 0),
    "rnn_X": (rnn, lambda r: _rnn_args(r, 8), 0),
    "rnn_W3": (rnn, lambda r: _rnn_args(r, 8), 4),
    "scatter_twice": (scatter_twice, lambda r: (r.normal(size=11), r.integers(0, 5, size=11)), 0),
    "rec_accum": (rec_accum, lambda r: (r.normal(size=10),), 0),
    "neighbours": (neighbours, lambda r: (r.normal(size=9),), 0),
    "gathers": (gathers, lambda r: (r.normal(size=8), r.integers(0, 3, size=6), r.integers(0, 8, size=6)), 0),
    "sparse_and_dense": (sparse_and_dense, lambda r: (r.normal(size=7),), 0),
    "transposed_pairs": (transposed_pairs, lambda r: (r.normal(size=(4, 4)),), 0),
    "while_pairs": (while_pairs, lambda r: (r.normal(size=9),), 0),
}


def _check(name, backend, rng):
    fn, make, wrt = CASES[name]
    args = make(rng)
    before = [np.copy(a) for a in args]
    value, g = lt.value_and_grad(fn, argnums=wrt, backend=backend)(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)  # no effect on the arguments
    assert np.isclose(value, fn(*args), rtol=1e-12)
    want = numerical_grad(fn, list(args), wrt)
    assert g.dtype == np.float64 and g.shape == np.shape(args[wrt])
    assert_close(g, want, 1e-6, name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_grad_matches_finite_differences(name, rng):
    _check(name, "interpret", rng)


# rnn_X: slow, its gradient on the interpreter above; sq_twice keeps the sparse cotangents' cpu lowering
@pytest.mark.parametrize("name", [pytest.param("rnn_X", marks=pytest.mark.slow), "sq_twice"])
def test_grad_matches_finite_differences_cpu(name, rng):
    _check(name, "cpu", rng)


# --- structure: no full-size dense cotangent per reverse step, no T x T value --------------------
def _programs(fn, args, wrt):
    c, _, _ = _Differentiated(fn, None, "interpret").compiled(list(args), (wrt,), "grad")
    return gradient_program(c.traced, [wrt]), c.program


def _loop_ops(block):
    for op in walk(block):
        if op.prim.name in ("for_loop", "while_loop"):
            for blk in op.blocks:
                yield from walk(blk)


@pytest.mark.parametrize("name", ["sq_twice", "rnn_X", "scatter_twice", "rec_accum", "neighbours"])
def test_reverse_loop_has_no_full_size_zeros(name, rng):
    """The gradient program's loop bodies make no zeros the size of the
    differentiated argument (the old dense(old) of add_cts), and after the
    passes no value has two axes as long as the loop (the batched one-hots)."""
    fn, make, wrt = CASES[name]
    T = 40
    args = list(make(rng))
    args[0] = rng.normal(size=(T,) + np.shape(args[0])[1:])
    if name == "scatter_twice":
        args[1] = rng.integers(0, 5, size=T)
    full = tuple(np.shape(args[wrt]))
    grad_p, compiled_p = _programs(fn, args, wrt)
    zeros = [op for op in _loop_ops(grad_p.body)
             if op.prim.name == "broadcast_to" and tuple(op.outputs[0].shape) == full]
    assert not zeros, f"{name}: full-size zeros in a loop body of the gradient program: {zeros[0]}"
    big = [v for op in walk(compiled_p.body) for v in op.outputs
           if sum(isinstance(d, int) and d >= T - 1 for d in v.shape) >= 2]
    assert not big, f"{name}: a T x T value after the passes: {big[0]}"
    assert all(isinstance(d, int) and d < T * T for op in walk(compiled_p.body) for v in op.outputs for d in v.shape)
