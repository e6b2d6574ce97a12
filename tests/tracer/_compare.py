"""The comparison the NumPy-surface and dtype tests share: a jitted call
(interpret backend unless said) against the plain call, on copies of the
same arguments; and a gradient against central differences."""

from __future__ import annotations

import numpy as np

import looptrace

RTOL = {np.dtype(np.float16): 2e-3, np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-9}


def assert_same(got, expected, rtol=None):
    """Same structure, Python types, dtypes, shapes and values (NaNs equal)."""
    if isinstance(expected, (tuple, list)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e, rtol)
        return
    if isinstance(expected, (bool, int, float, complex, tuple)) or expected is None:
        assert type(got) is type(expected), (type(got), type(expected))
    if isinstance(expected, np.dtype):
        assert got == expected
        return
    g, e = np.asarray(got), np.asarray(expected)
    assert g.dtype == e.dtype, (g.dtype, e.dtype)
    assert g.shape == e.shape, (g.shape, e.shape)
    tol = RTOL.get(e.dtype, 0) if rtol is None else rtol
    if tol:
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol * 1e-3, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, e)


def check(fn, *args, rtol=None, backend="interpret", jitted=None):
    """jit(fn)(*args) equals fn(*args), arguments' final contents and dtypes included.
    `jitted`: a jit of fn to call instead of a new one (hypothesis examples of one
    signature share its trace and compile)."""
    plain_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jit_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with np.errstate(all="ignore"):
        expected = fn(*plain_args)
        got = (jitted or looptrace.jit(fn, backend=backend))(*jit_args)
    assert_same(got, expected, rtol)
    for g, e in zip(jit_args, plain_args):
        if isinstance(e, np.ndarray):
            assert g.dtype == e.dtype
            np.testing.assert_array_equal(g, e)
    return got


def grad_check(fn, args, argnums, backend="interpret"):
    """looptrace.grad of jit(fn) against central differences in float64."""
    from looptrace.autodiff.check import assert_close, numerical_grad

    grads = looptrace.grad(looptrace.jit(fn, backend=backend), argnums=argnums)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(fn, list(args), i), 1e-6, f"{fn.__name__} argument {i}")


def raises_as_numpy(call, exc, match, x):
    """call(x) raises `exc` matching `match` plain and jitted (interpret)."""
    import pytest

    with np.errstate(all="ignore"):
        with pytest.raises(exc, match=match):
            call(x.copy())
        with pytest.raises(exc, match=match):
            looptrace.jit(call, backend="interpret")(x.copy())
