"""Data-dependent `raise` and `assert` run as checks in the compiled code:
the user's exception class and message, a note naming the line, raised only
when the plain function raises. `try/except` that compiled code could not
honour is refused at trace time, never ignored."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import looptrace as lt

from . import _check_programs as programs
from ._check_programs import PROGRAMS, in_loop, two_checks




def _outcome(fn, x):
    try:
        return "value", fn(x.copy())
    except Exception as e:  # noqa: BLE001 - the outcome is what we compare
        return "raised", e


def assert_same_outcome(fn, jitted, x):
    want = _outcome(fn, x)
    got = _outcome(jitted, x)
    assert got[0] == want[0], (fn.__name__, x, got, want)
    if want[0] == "value":
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        return
    assert type(got[1]) is type(want[1]) and got[1].args == want[1].args, (got[1], want[1])
    notes = "\n".join(getattr(got[1], "__notes__", []))
    assert programs.__file__ in notes and "line" in notes, notes


@pytest.mark.parametrize("fn", PROGRAMS, ids=lambda f: f.__name__)
@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.float64, st.integers(0, 8), elements=st.floats(-5, 5)))
def test_checks_raise_exactly_when_the_plain_function_does(fn, x):
    assert_same_outcome(fn, lt.jit(fn, backend="interpret"), x)


@pytest.mark.parametrize("fn", PROGRAMS, ids=lambda f: f.__name__)
def test_checks_on_the_cpu_backend(fn, rng):
    jitted = lt.jit(fn, backend="cpu")
    for _ in range(6):
        x = rng.uniform(-1.0, 1.0, 6) * rng.choice([0.5, 3.0, 6.0])
        assert_same_outcome(fn, jitted, x)
    assert_same_outcome(fn, jitted, np.abs(rng.standard_normal(4)) * 0.1)


def test_a_check_does_not_stop_vectorization(rng):
    e = lt.explain(in_loop, rng.random(5))
    assert e.loops[0].kind == "reduction", e
    e = lt.explain(two_checks, rng.random(5))
    assert e.loops[0].kind == "vectorized", e


def test_the_first_failing_iteration_decides_which_exception(rng):
    """Batched checks keep the loop's order: iteration 1 fails the second
    check before iteration 3 fails the first."""
    x = np.array([0.0, -4.0, 0.0, 4.0])
    for backend in ("interpret", "cpu"):
        with pytest.raises(ArithmeticError, match="below -3"):
            lt.jit(two_checks, backend=backend)(x)


def test_zero_trip_loop_never_raises():
    def f(x, n):
        for i in range(n):
            raise ValueError("ran")
        return x

    for backend in ("interpret", "cpu"):
        np.testing.assert_array_equal(lt.jit(f, backend=backend)(np.ones(2), 0), np.ones(2))
        with pytest.raises(ValueError, match="ran"):
            lt.jit(f, backend=backend)(np.ones(2), 3)


def test_raise_on_python_values_raises_while_tracing(rng):
    def f(x):
        if x.ndim != 1:
            raise TypeError("1-d input only")
        return x * 2

    with pytest.raises(TypeError, match="1-d input only"):
        lt.jit(f, backend="interpret")(rng.random((2, 2)))
    np.testing.assert_allclose(lt.jit(f, backend="interpret")(np.ones(3)), 2 * np.ones(3))


def test_message_from_a_traced_value_is_the_plain_functions(rng):
    def f(x):
        for i in range(x.shape[0]):
            if x[i] < 0:
                raise ValueError(f"negative value {x[i]}")
        return x

    x = rng.random(3)
    np.testing.assert_array_equal(lt.jit(f, backend="interpret")(x), x)
    x[1] = -0.25
    with pytest.raises(ValueError, match="negative value -0.25"):  # the plain function, run again, raises it
        lt.jit(f, backend="interpret")(x)


def test_grad_through_a_function_with_checks(rng):
    def loss(w, x):
        s = 0.0
        for i in range(x.shape[0]):
            assert x[i] > -10, "outlier"
            s += np.tanh(w * x[i])
        return s

    x = rng.standard_normal(6)
    g = lt.grad(loss, backend="interpret")(0.7, x)
    assert np.isclose(g, np.sum(x * (1 - np.tanh(0.7 * x) ** 2)))
    x[2] = -20.0
    with pytest.raises(AssertionError, match="outlier"):
        lt.grad(loss, backend="interpret")(0.7, x)


# --- try / except --------------------------------------------------------------------------------------
def test_try_around_run_time_index_errors_is_refused(rng):
    def f(x, idx):
        s = 0.0
        for i in range(idx.shape[0]):
            try:
                s += x[idx[i]]
            except IndexError:
                s += 0.0
        return s

    with pytest.raises(lt.UnsupportedError, match="IndexError at run time inside a `try`"):
        lt.jit(f, backend="interpret")(rng.random(3), np.array([0, 5]))


def test_try_around_a_check_is_refused(rng):
    def f(x):
        try:
            for i in range(x.shape[0]):
                if x[i] < 0:
                    raise ValueError("negative")
        except Exception:
            return x * 0
        return x

    with pytest.raises(lt.UnsupportedError, match="at run time inside a `try`"):
        lt.jit(f, backend="interpret")(rng.random(3))


def test_try_around_python_level_code_runs_as_python(rng):
    table = {"a": 2.0}

    def f(x):
        try:
            k = table["missing"]
        except KeyError:
            k = 3.0
        try:
            y = x[0:2]  # a static slice cannot fail at run time
        except IndexError:
            y = x
        return y * k

    x = rng.random(4)
    np.testing.assert_allclose(lt.jit(f, backend="interpret")(x), f(x))


def test_looptrace_errors_are_not_swallowed_by_user_handlers(rng):
    def f(x):
        try:
            y = np.roots(x)  # not supported (np.polyval is)
        except Exception:
            y = x
        return y

    with pytest.raises(lt.UnsupportedError, match="roots"):
        lt.jit(f, backend="interpret")(rng.random(4))
