"""Gradients of np.concatenate with a piece whose length is known only at run
time (s55).

A list appended to under a condition becomes an array of run-time length (a
Dim). Concatenating it with other pieces and differentiating crashed inside
the concatenate VJP (an int added to a Dim: a Python TypeError), as did a
run-time length on another axis than the joined one (a Dim as a slice bound). Now every
piece gets its window of the cotangent at a run-time offset: a dynamic_slice
for a piece of static length, a gather for one of run-time length. Checked
against central finite differences of the undecorated function in float64, on
the interpreter (the backend that differentiates grown lists); on cpu the
refusal is the clear UnsupportedError with the user's line.
"""

import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad
from looptrace.errors import UnsupportedError


def _kept(x, cut=0.1):
    items = []
    for i in range(x.shape[0]):
        if x[i] > cut:
            items.append(x[i] * 2.0)
    return np.array(items, dtype=np.float64)


def grown_last(x):  # the run-time piece last: its window starts at a static offset
    out = np.concatenate((x[:2], _kept(x)))
    return np.sum(out ** 2)


def grown_first(x):  # every later window starts at a run-time offset
    out = np.concatenate((_kept(x), np.sin(x[1:4]), x[:3] * 3.0))
    return np.sum(out ** 3) + np.sum(np.tanh(out))


def grown_twice(x):  # two run-time pieces and a static one between them
    big = _kept(x, 0.3)
    small = _kept(-x, 0.2)
    out = np.concatenate((big, np.cos(x[:2]), small))
    return np.sum(np.exp(0.3 * out)) + np.sum(out) ** 2


def grown_rows(x, W):  # rows of a matrix: axis 0 of a 2-d piece
    rows = [W * 0.1]  # (never empty: np.array of an empty list would have shape (0,))
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            rows.append(np.tanh(W * x[i]))
    out = np.concatenate((W[None, :] * 0.5, np.array(rows), np.sin(W)[None, :]), axis=0)
    return np.sum(out ** 2 * np.arange(1.0, 4.0))


def grown_rows_side_by_side(x, W):  # joined on axis 1: the run-time length is on the other axis
    rows = [W * 0.1]
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            rows.append(np.tanh(W * x[i]))
    R = np.array(rows)
    out = np.concatenate((R, np.sin(R) * 2.0, R * R), axis=1)
    return np.sum(out ** 2 * np.arange(1.0, 10.0))


def inactive_grown(x, y):  # only the static piece after the run-time one is differentiated
    out = np.concatenate((_kept(y), x))
    return np.sum(out ** 2)


def _fd_check(f, args, argnums=(0,)):
    plain = f(*[a.copy() for a in args])
    value, grads = looptrace.value_and_grad(f, argnums=argnums, backend="interpret")(*args)
    np.testing.assert_allclose(value, plain, rtol=1e-10)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(f, list(args), i), 1e-6, f"{f.__name__} argument {i}")


@pytest.mark.parametrize("f", [grown_last, grown_first, grown_twice])
@pytest.mark.parametrize("seed", [0, 1])
def test_run_time_piece_gradient(f, seed):
    x = np.random.default_rng(seed).standard_normal(9)
    _fd_check(f, (x,))


def test_run_time_rows_gradient():
    rng = np.random.default_rng(3)
    _fd_check(grown_rows, (rng.standard_normal(7), rng.standard_normal(3)), argnums=(0, 1))


def test_run_time_length_off_the_joined_axis():  # (was a Python TypeError: a Dim as a slice bound)
    rng = np.random.default_rng(7)
    _fd_check(grown_rows_side_by_side, (rng.standard_normal(7), rng.standard_normal(3)), argnums=(0, 1))


def test_static_piece_after_an_inactive_run_time_piece():
    rng = np.random.default_rng(4)
    _fd_check(inactive_grown, (rng.standard_normal(5), rng.standard_normal(8)), argnums=(0,))


def test_no_kept_items():  # the run-time piece is empty: its window is empty too
    x = -np.abs(np.random.default_rng(5).standard_normal(6)) - 0.2
    _fd_check(grown_first, (x,))


def test_cpu_refuses_clearly():
    x = np.random.default_rng(6).standard_normal(9)
    with pytest.raises(UnsupportedError) as info:
        looptrace.grad(grown_first, backend="cpu")(x)
    assert "test_concat_grad_s55.py" in str(info.value)


def test_cpu_static_window_at_a_run_time_offset():  # the dynamic_slice lowers on cpu
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(5), rng.standard_normal(8)
    np.testing.assert_allclose(looptrace.grad(inactive_grown, backend="cpu")(x, y), 2 * x, rtol=1e-12)
