"""A reshape of an array argument is a view or a copy by the argument's
memory order in NumPy (x.reshape(-1) of a Fortran-ordered x copies; x.T of
it reshaped is a view), and a write into the argument or into the reshape
shows which. The trace follows the layout of the arrays it is made for
(tracer/layout.py); a program whose writes show it is keyed by that
layout and traced again for another (api.py JitFunction._layout_sensitive),
and runs as the plain function on C-ordered, Fortran-ordered and strided
arguments alike. Before, the trace took every argument for C order: a
wrong answer on the others."""
import numpy as np
import pytest

import looptrace


def flat_then_write(X):
    y = X.reshape(-1)
    X[0, 1] = 5.0
    return y


def transposed_flat_then_write(X):
    y = X.T.reshape(-1)
    X[1, 0] += 2.0
    return y * 2.0


def write_into_the_reshape(X):
    y = X.T.reshape(-1)
    y[1] = 7.0
    return X


def write_in_a_loop(X, v):
    y = X.reshape(X.shape[0] * X.shape[1])
    for i in range(X.shape[0]):
        X[i, 0] = v[i]
    return y.sum()


def reshape_read_only(X):
    s = X.reshape(-1)
    return s[1:] - s[:-1], X.T.reshape(2, -1).sum(axis=0)


def temporary_reshape_then_write(X):
    s = X.reshape(-1).sum()
    X[0, 0] = 1.0
    return s


def unit_axes_then_write(X):
    y = X.reshape(X.shape[0], 1, X.shape[1])
    X[0, 0] = 3.0
    return y


def _layouts(rng):
    base = rng.standard_normal((4, 6))
    return {"C": np.ascontiguousarray(base), "F": np.asfortranarray(base),
            "strided": rng.standard_normal((8, 6))[::2]}


def _twin(X):
    """A copy of X with its layout (a strided X's copy would be C-ordered)."""
    if X.flags.forc:
        return X.copy(order="K")
    twin = np.empty((X.shape[0] * 2, X.shape[1]))[::2]
    twin[...] = X
    return twin


def _run(fn, args, backend):
    plain = [_twin(a) if isinstance(a, np.ndarray) else a for a in args]
    want = fn(*plain)
    got = looptrace.jit(fn, backend=backend)(*args)
    return got, want, plain


@pytest.mark.parametrize("fn", [flat_then_write, transposed_flat_then_write, write_into_the_reshape])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_write_that_shows_the_layout_follows_it(fn, backend, rng):
    jf = looptrace.jit(fn, backend=backend)
    layouts = _layouts(rng)
    for _ in range(2):  # layouts in turn: one program each, kept
        for X in layouts.values():
            X, plain = _twin(X), _twin(X)
            got, want = jf(X), fn(plain)
            np.testing.assert_allclose(got, want, rtol=1e-12)
            np.testing.assert_array_equal(X, plain)
    assert len(jf._cache) == 3


def test_a_write_in_a_loop_shows_it_too(rng):
    v = rng.standard_normal(4)
    f = looptrace.jit(write_in_a_loop, backend="interpret")
    for X in _layouts(rng).values():
        again = _twin(X)
        got, want, plain = _run(write_in_a_loop, [X, v], "interpret")
        assert got == pytest.approx(want, rel=1e-12)
        assert f(again, v) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("fn", [reshape_read_only, temporary_reshape_then_write, unit_axes_then_write])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_reshapes_no_write_tells_apart_run_on_every_layout(fn, backend, rng):
    for X in _layouts(rng).values():
        got, want, plain = _run(fn, [X], backend)
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(g, w, rtol=1e-12)
        np.testing.assert_array_equal(X, plain[0])


def test_a_c_ordered_call_keeps_its_program_after_an_f_ordered_one(rng):
    f = looptrace.jit(flat_then_write, backend="cpu")
    layouts = _layouts(rng)
    for order in "CFCFC":
        np.testing.assert_allclose(f(_twin(layouts[order])), flat_then_write(_twin(layouts[order])), rtol=1e-12)
    assert len(f._cache) == 2


GRID = np.zeros((3, 4))


def reshape_a_global_then_write(x):
    y = GRID.reshape(-1)
    GRID[0, 1] = 5.0
    return y + x


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_array_read_from_outside_follows_its_layout_too(backend, rng):
    """A global's array is an implicit argument, fetched at each call: a
    program traced for another layout of it is traced again."""
    global GRID
    start = rng.standard_normal((3, 4))
    f = looptrace.jit(reshape_a_global_then_write, backend=backend)
    for make in (np.ascontiguousarray, np.asfortranarray, np.ascontiguousarray):
        GRID = make(start.copy())
        want = reshape_a_global_then_write(0.5)
        written = GRID.copy()
        GRID = make(start.copy())
        np.testing.assert_allclose(f(0.5), want, rtol=1e-12)
        np.testing.assert_array_equal(GRID, written)
