"""A reshape of an array argument is a view or a copy by the argument's
memory order in NumPy (x.reshape(-1) of a Fortran-ordered x copies; x.T of
it reshaped is a view), and a write into the argument or into the reshape
shows which. The trace takes arguments for C order (tracer/layout.py): a
program whose writes show it runs as the plain function on C-ordered
arguments and refuses others clearly (api.py `_check_layouts`); a program
whose reshapes no write can tell apart runs on any layout."""
import numpy as np
import pytest

import looptrace
from looptrace.errors import UnsupportedError


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


def _run(fn, args, backend):
    plain = [a.copy(order="K") if isinstance(a, np.ndarray) else a for a in args]
    want = fn(*plain)
    got = looptrace.jit(fn, backend=backend)(*args)
    return got, want, plain


@pytest.mark.parametrize("fn", [flat_then_write, transposed_flat_then_write, write_into_the_reshape])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_write_that_shows_the_layout_runs_on_c_order_and_refuses_others(fn, backend, rng):
    for name, X in _layouts(rng).items():
        if name == "C":
            got, want, plain = _run(fn, [X], backend)
            np.testing.assert_allclose(got, want, rtol=1e-12)
            np.testing.assert_array_equal(X, plain[0])
            continue
        before = X.copy()
        with pytest.raises(UnsupportedError, match="not C-ordered") as e:
            looptrace.jit(fn, backend=backend)(X)
        assert "test_reshape_layouts.py" in str(e.value) and "reshape" in str(e.value)
        np.testing.assert_array_equal(X, before)  # nothing written


def test_a_write_in_a_loop_shows_it_too(rng):
    v = rng.standard_normal(4)
    f = looptrace.jit(write_in_a_loop, backend="interpret")
    X = _layouts(rng)["C"]
    got, want, _ = _run(write_in_a_loop, [X, v], "interpret")
    assert got == pytest.approx(want, rel=1e-12)
    with pytest.raises(UnsupportedError, match="not C-ordered"):
        f(_layouts(rng)["F"], v)


@pytest.mark.parametrize("fn", [reshape_read_only, temporary_reshape_then_write, unit_axes_then_write])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_reshapes_no_write_tells_apart_run_on_every_layout(fn, backend, rng):
    for X in _layouts(rng).values():
        got, want, plain = _run(fn, [X], backend)
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(g, w, rtol=1e-12)
        np.testing.assert_array_equal(X, plain[0])


def test_a_c_ordered_call_keeps_the_fast_path_and_an_f_ordered_one_is_refused_after_it(rng):
    f = looptrace.jit(flat_then_write, backend="cpu")
    layouts = _layouts(rng)
    for _ in range(3):
        X = layouts["C"].copy()
        np.testing.assert_allclose(f(X), flat_then_write(layouts["C"].copy()), rtol=1e-12)
    with pytest.raises(UnsupportedError, match="not C-ordered"):
        f(layouts["F"].copy(order="F"))


GRID = np.zeros((3, 4))


def reshape_a_global_then_write(x):
    y = GRID.reshape(-1)
    GRID[0, 1] = 5.0
    return y + x


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_array_read_from_outside_is_held_to_c_order_too(backend, rng):
    """A global's array is an implicit argument, fetched at each call: its
    memory order is checked as an argument's."""
    global GRID
    start = rng.standard_normal((3, 4))
    f = looptrace.jit(reshape_a_global_then_write, backend=backend)
    GRID = start.copy()
    want = reshape_a_global_then_write(0.5)
    GRID = start.copy()
    np.testing.assert_allclose(f(0.5), want, rtol=1e-12)
    GRID = np.asfortranarray(start)
    with pytest.raises(UnsupportedError, match="the array GRID is not C-ordered"):
        f(0.5)
    np.testing.assert_array_equal(GRID, start)
