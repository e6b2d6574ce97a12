"""Blocked argmax/argmin of long float vectors (codegen/cpu/reductions.py
`_blocked_arg`): NumPy's first position of the best, the first NaN's where
there is one, against the plain function on the interpreter and cpu backends."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cpu.reductions import ARG_BLOCK

N = 5 * ARG_BLOCK + 123  # full blocks and a tail


def _argmax(x):
    return x.argmax()


def _argmin(x):
    return np.argmin(x)


def _data(dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(N).astype(dtype)


def _positions():
    """Where the special values go: the first block, a middle block's edges, the tail."""
    return [0, 7, ARG_BLOCK - 1, ARG_BLOCK, 3 * ARG_BLOCK + 77, 5 * ARG_BLOCK, N - 1]


def _check(f, x):
    want = f(x.copy())
    for backend in ("interpret", "cpu"):
        got = lt.jit(f, backend=backend)(x.copy())
        assert got == want and type(got) is type(want), (backend, got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("f", [_argmax, _argmin])
def test_random(f, dtype):
    _check(f, _data(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("f", [_argmax, _argmin])
@pytest.mark.parametrize("at", _positions())
def test_first_nan_wins(f, dtype, at):
    x = _data(dtype, 1)
    x[at] = np.nan
    x[min(at + 5000, N - 1)] = np.nan  # a later NaN loses
    _check(f, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("f", [_argmax, _argmin])
@pytest.mark.parametrize("at", _positions())
def test_ties_keep_the_first(f, dtype, at):
    x = _data(dtype, 2)
    best = np.inf if f is _argmax else -np.inf
    x[at] = best
    x[N - 1 - (at % 50)] = best
    _check(f, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_signed_zeros_infinities_denormals(dtype):
    x = -np.abs(_data(dtype, 3)) - 1  # all below zero
    tiny = np.finfo(dtype).smallest_subnormal
    x[ARG_BLOCK + 3], x[ARG_BLOCK + 9], x[4 * ARG_BLOCK] = -0.0, 0.0, tiny  # max: the denormal
    _check(_argmax, x)
    x[4 * ARG_BLOCK] = -0.0  # max: the first zero, -0.0 == 0.0
    _check(_argmax, x)
    y = np.full(N, -np.inf, dtype)  # all equal: position 0
    _check(_argmax, y)
    y[2 * ARG_BLOCK + 1] = -np.finfo(dtype).max
    _check(_argmax, y)
    _check(_argmin, -y)


@pytest.mark.parametrize("f, lane", [(_argmax, "max_blocks("), (_argmin, "min_blocks(")])  # the blocks' bests
def test_the_blocked_path_is_taken(f, lane):
    src = lt.jit(f, backend="cpu").explain(_data(np.float32)).kernel_source
    assert lane in src and "arg_of_blocks(" in src  # extrema.py's helpers (s51)
