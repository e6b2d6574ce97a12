"""A row written piece by piece (`out[i, 0] = a; out[i, 1] = b`) is one write
of the row block (vectorize/row_writes.py), so the loop is a map, not a scan.
Values and argument effects against the plain function (interpret; cpu on a
representative case), the loop fate from explain, overlapping pieces in
program order, unwritten elements kept, gradients against finite differences.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def features(x, out):
    for i in range(x.shape[0]):
        out[i, 0] = x[i]
        out[i, 1] = x[i] ** 2
        out[i, 3] = np.sin(x[i])  # column 2 is never written: it keeps its contents
    return out


def overlapping(x, out):
    for i in range(x.shape[0]):
        out[i, 0:3] = x[i]
        out[i, 1] = -x[i]  # overwrites the middle of the first piece
        out[i, 2:4] = 2.0 * x[i]
    return out


def strided_rows(x, out):
    for i in range(0, x.shape[0], 2):
        out[i, 1] = x[i]
        out[i, 0] = x[i] + 1.0
    return out


def columns(x, out):
    for j in range(x.shape[0]):
        out[0, j] = x[j]
        out[2, j] = x[j] * 3.0
    return out


def planes(x, out):
    for i in range(x.shape[0]):
        out[i, 0, :] = x[i]
        out[i, 1, 1] = x[i] - 1.0
    return out


def read_between(x, out):
    for i in range(x.shape[0]):
        out[i, 0] = x[i]
        out[i, 1] = out[i, 0] * 2.0  # reads the row as partly written
    return out


def run_both(fn, *args, backend="interpret"):
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jitted = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    f = looptrace.jit(fn, backend=backend)
    # x ** 2 of a float64 scalar (plain) and of an array (batched) may differ in the last bit
    np.testing.assert_allclose(f(*jitted), fn(*plain), rtol=1e-15, atol=0)
    for g, w in zip(jitted, plain):
        np.testing.assert_allclose(g, w, rtol=1e-15, atol=0)
    return f


@SETTINGS
@given(n=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_piecewise_rows_match_plain_and_are_maps(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    for fn, shape in ((features, (n, 4)), (overlapping, (n, 4)), (strided_rows, (n, 2)),
                      (columns, (3, n)), (planes, (n, 2, 3))):
        out = rng.standard_normal(shape)
        f = run_both(fn, x, out)
        assert [l.kind for l in looptrace.explain(f, x, out).loops] == ["vectorized"], fn.__name__


def test_a_row_read_while_partly_written_stays_exact(rng):
    run_both(read_between, rng.standard_normal(5), rng.standard_normal((5, 2)))


def loss(x):
    out = np.zeros((x.shape[0], 3))
    for i in range(x.shape[0]):
        out[i, 0] = np.tanh(x[i])
        out[i, 2] = x[i] * x[i]
    return (out * np.arange(1.0, 4.0)).sum()


def test_gradient_through_piecewise_rows(rng):
    x = rng.standard_normal(6)
    assert_close(looptrace.grad(loss, backend="interpret")(x), numerical_grad(loss, (x,), 0), 1e-6, "d loss / dx")


def test_compiled_piecewise_rows(rng):
    x = rng.standard_normal(9)
    f = run_both(features, x, rng.standard_normal((9, 4)), backend="cpu")
    assert [l.kind for l in looptrace.explain(f, x, np.zeros((9, 4))).loops] == ["vectorized"]
    run_both(overlapping, x, rng.standard_normal((9, 4)), backend="cpu")
