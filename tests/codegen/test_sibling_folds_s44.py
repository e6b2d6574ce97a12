"""Folds that share one pass (session 44): an argmax (argmin) and the max
(min) of the same input and axis in one loop (siblings.py `extremes_beside`,
reductions.py `_arg_lower`), the input computed in that loop where nothing
else reads it (`made_in_loop`), and a max (min) of row maxes (mins) as one
flat fold (fold_groups.py `_whole`). Each program is compiled with the
shared loops and with the separate passes (LOOPTRACE_NO_SIBLING_FOLDS=1) and
called on many data sets with ties, +0.0/-0.0, NaN and infinities: the
results must be the same bits, and the values the plain function's (the
viterbi and flat-fold programs against the plain function only, one compile
each: the suite's time)."""
import os
import re

import numpy as np
import pytest

import looptrace as lt
from bench.corpus.algorithms import viterbi
from bench.sibling_folds import nanmin_max_loop


def _both(f, *args):
    """f compiled for cpu with the shared loops and with the separate passes
    (LOOPTRACE_NO_SIBLING_FOLDS=1 while it compiles, on this first call)."""
    shared = lt.jit(f, backend="cpu")
    shared(*args)
    os.environ["LOOPTRACE_NO_SIBLING_FOLDS"] = "1"
    try:
        separate = lt.jit(f, backend="cpu")
        separate(*args)
    finally:
        del os.environ["LOOPTRACE_NO_SIBLING_FOLDS"]
    return shared, separate


def _bits(a) -> np.ndarray:
    a = np.asarray(a)
    return a.view(np.uint8) if a.ndim else np.asarray([a]).view(np.uint8)


def _same_bits(got, want) -> None:
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g, w)
        assert np.array_equal(_bits(g), _bits(w)), (g, w)


def _same_values(got, want) -> None:
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g, w)
        assert np.array_equal(g, w, equal_nan=w.dtype.kind == "f"), (g, w)


def _tied(rng, shape, nan: bool) -> np.ndarray:
    """Small integers as floats (many ties), zeros of both signs, infinities, NaNs."""
    x = rng.integers(-2, 2, shape).astype(np.float64)
    x = np.where(x == 0.0, np.where(rng.random(shape) < 0.5, 0.0, -0.0), x)
    x[rng.random(shape) < 0.08] = -np.inf
    if nan:
        x[rng.random(shape) < 0.1] = np.nan
    return x


def extremes_with_args(a, b, k, z):
    s = a[:, 0][:, None] + a  # read only by the argmax and the max: computed in their loop
    at, top = np.argmax(s, axis=0), np.max(s, axis=0)
    return (at, top, np.argmax(a, axis=0), np.max(a, axis=0), np.argmin(a, axis=0), np.min(a, axis=0),
            np.argmax(b, axis=0), np.max(b, axis=0),
            np.argmax(k, axis=0), np.max(k, axis=0), np.argmin(k, axis=0), np.min(k, axis=0),
            np.argmax(k[0]), np.max(k[0]), np.argmin(k[1]), np.min(k[1]),
            np.argmax(z, axis=1), np.max(z, axis=1), np.argmin(z, axis=1), np.min(z, axis=1))


def test_argmax_and_max_share_a_loop_cpu():
    rng = np.random.default_rng(44)
    args = lambda nan: (_tied(rng, (7, 5), nan), _tied(rng, (1, 6), nan),  # noqa: E731
                        rng.integers(-3, 3, (6, 4)), _tied(rng, (5, 9), nan))
    first = args(True)
    f, g = _both(extremes_with_args, *first)
    src = f.explain(*first).kernel_source
    assert re.search(r"\bsc\d+_\[", src), src  # the max kept from the argmax's loop
    assert "alloc((7, 5, )" not in src, src  # s never made
    for trial in range(40):
        data = args(trial % 2 == 0)
        if trial % 5 == 0:
            data[0][:] = np.nan  # every column all NaN
        want = extremes_with_args(*[d.copy() for d in data])
        got = f(*[d.copy() for d in data])
        _same_bits(got, g(*[d.copy() for d in data]))
        _same_values(got, want)


def _hmm(rng, s, o, T, ties: bool, nan: bool):
    if ties:  # integer logs: sums tie often, the first of equal scores wins
        a, b = rng.integers(-3, 1, (s, s)).astype(np.float64), rng.integers(-3, 1, (s, o)).astype(np.float64)
    else:
        a, b = np.log(rng.random((s, s)) + 0.05), np.log(rng.random((s, o)) + 0.05)
    a[rng.random((s, s)) < 0.1] = -np.inf
    if nan:
        a[rng.integers(0, s), rng.integers(0, s)] = np.nan
    return a, b, np.log(rng.random(s) + 0.1), rng.integers(0, o, T)


def test_viterbi_scores_in_the_argmax_loop_cpu():
    rng = np.random.default_rng(7)
    data = _hmm(rng, 16, 8, 3000, True, False)
    f = lt.jit(viterbi, backend="cpu")  # (the separate passes' bits: test_argmax_and_max_share_a_loop_cpu)
    assert "alloc((16, 16, )" not in f.explain(*data).kernel_source  # no scores made per step
    for trial in range(8):
        data = _hmm(rng, 16, 8, 3000, trial % 2 == 0, trial % 4 == 3)
        _same_values(f(*data), viterbi(*data))


def extremes_of_extremes(X, Y):
    lo, hi = nanmin_max_loop(X)
    return lo, hi, Y.max(axis=1).max(), Y.min(axis=1).min(), np.max(np.min(Y, axis=1)), Y.sum(axis=1).max()


def test_row_extremes_as_one_flat_fold_cpu():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((300, 70)), rng.standard_normal((90, 33))
    f = lt.jit(extremes_of_extremes, backend="cpu")
    src = f.explain(X, Y).kernel_source
    assert "reshape((21000, ))" in src, src  # X read flat once, its min and max together
    for trial in range(12):
        X, Y = rng.standard_normal((300, 70)), rng.standard_normal((90, 33))
        X[rng.random(X.shape) < [0.0, 0.05, 0.5, 1.0][trial % 4]] = np.nan
        if trial % 3 == 1:
            Y[rng.integers(0, 90), rng.integers(0, 33)] = np.nan
        if trial == 5:
            X[7, 3], Y[2, 2] = -np.inf, np.inf
        got, want = f(X.copy(), Y.copy()), extremes_of_extremes(X.copy(), Y.copy())
        _same_values(got[:5], want[:5])
        assert np.isclose(got[5], want[5], rtol=1e-13, atol=0, equal_nan=True)  # (a max of sums: not flat)


@pytest.mark.parametrize("f", [nanmin_max_loop])
def test_row_extremes_interpret(f):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 5))
    X[rng.random(X.shape) < 0.3] = np.nan
    _same_values(lt.jit(f, backend="interpret")(X), f(X))
