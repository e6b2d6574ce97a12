"""Compare a plain function with its jitted version on the interpret backend.

`check(fn, *args)` runs the undecorated function and
`looptrace.jit(fn, backend="interpret")` on separate copies of the
arguments and asserts that the results AND the arguments' final contents
(in-place writes the caller sees) agree. Generators are copied by state so
both runs draw the same numbers. Every compiled program is also run through
the IR verifier.
"""

import copy

import numpy as np

import looptrace
from looptrace.ir.verify import verify


def _copy(x):
    if isinstance(x, np.random.Generator):
        return copy.deepcopy(x)
    if isinstance(x, np.ndarray):
        return x.copy()
    return x


def assert_same(got, want, rtol=1e-9, what="result"):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, type(want)), f"{what}: {type(got)} vs {type(want)}"
        assert len(got) == len(want), what
        for k, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, rtol, f"{what}[{k}]")
        return
    if want is None:
        assert got is None, what
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape} vs {w.shape}"
    assert g.dtype == w.dtype, f"{what}: dtype {g.dtype} vs {w.dtype}"
    if w.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w, err_msg=what)
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12, err_msg=what)


def check(fn, *args, jitted=None, rtol=1e-9, **jit_kwargs):
    """Run plain and jitted on copies; compare outputs and argument effects.
    Returns the jitted function (so callers can inspect its cache)."""
    f = jitted or looptrace.jit(fn, backend="interpret", **jit_kwargs)
    plain_args = [_copy(a) for a in args]
    jit_args = [_copy(a) for a in args]
    want = fn(*plain_args)
    got = f(*jit_args)
    for compiled in f._cache.values():
        verify(compiled.program)
    assert_same(got, want, rtol)
    for k, (g, w) in enumerate(zip(jit_args, plain_args)):
        if isinstance(w, np.ndarray):
            assert_same(g, w, rtol, f"argument {k} after the call")
        elif isinstance(w, np.random.Generator):
            assert g.bit_generator.state == w.bit_generator.state, f"generator argument {k}"
    return f
