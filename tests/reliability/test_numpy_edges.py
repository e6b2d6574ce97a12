"""Answers and errors that match NumPy and Python at the edges: array
subclasses and byte orders, index errors that name the real index and axis,
slices past the end, failed calls that change nothing (transactional),
checkpoint= validation, and gradients through untaken np.where branches."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt
from looptrace.autodiff.check import numerical_grad


def total(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * 2.0
    return s


def triple_in_place(x):
    for i in range(x.shape[0]):
        x[i] = x[i] * 3.0
    return x.sum()


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_masked_and_matrix_arguments_are_refused_by_name(backend):
    with pytest.raises(TypeError, match="argument `x` is a masked array"):
        lt.jit(total, backend=backend)(np.ma.array([1.0, 2.0], mask=[0, 1]))
    with pytest.raises(TypeError, match="argument `x` is a np.matrix"):
        lt.jit(total, backend=backend)(np.matrix([[1.0, 2.0]]))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("dtype", [">f8", ">i4", ">f4", "<f8"])
def test_non_native_byte_order_is_converted(backend, dtype, rng):
    x = (rng.standard_normal(5) * 10).astype(dtype)
    assert lt.jit(total, backend=backend)(x) == pytest.approx(total(x), rel=1e-6)
    y, y_plain = x.copy(), x.copy()
    got = lt.jit(triple_in_place, backend=backend)(y)
    assert got == pytest.approx(triple_in_place(y_plain), rel=1e-6)
    np.testing.assert_array_equal(y, y_plain)
    assert y.dtype == np.dtype(dtype)


# --- index errors -------------------------------------------------------------------------------
def read_indexed(x, j):
    s = 0.0
    for i in range(j.shape[0]):
        s += x[j[i]]
    return s


def read_2d(A, j):
    out = np.empty(j.shape[0])
    for i in range(j.shape[0]):
        out[i] = A[i, j[i]]
    return out


def read_nested(A, J):
    out = np.empty(J.shape)
    for i in range(J.shape[0]):
        for k in range(J.shape[1]):
            out[i, k] = A[i][J[i, k]]
    return out


def _plain_error(fn, *args):
    try:
        fn(*args)
    except IndexError as e:
        return str(e)
    return None


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("bad", [7, 100, -7, 2**40])
def test_index_errors_name_the_real_index_and_axis(backend, bad):
    x = np.arange(6.0)
    cases = [(read_indexed, (x, np.array([0, bad]))), (read_2d, (np.ones((3, 6)), np.array([0, bad, 1]))),
             (read_nested, (np.arange(18.0).reshape(3, 6), np.array([[1, 0], [bad, 1], [1, 2]])))]
    for fn, args in cases:
        want = _plain_error(fn, *args)
        with pytest.raises(IndexError) as info:
            lt.jit(fn, backend=backend)(*args)
        assert str(info.value).splitlines()[0] == want, fn.__name__


@settings(max_examples=25, deadline=None)
@given(j=st.lists(st.integers(-12, 12), min_size=1, max_size=6))
def test_generated_gathers_never_read_a_neighbouring_row(j):
    """An index out of range in a batched 2-d read raises, as NumPy does; it
    never lands in the next row (a silent wrong answer before)."""
    A = np.arange(24.0).reshape(4, 6)
    J = np.array([j] * 4)
    want = _plain_error(read_nested, A, J)
    if want is None:
        np.testing.assert_array_equal(lt.jit(read_nested, backend="interpret")(A, J), read_nested(A, J))
    else:
        with pytest.raises(IndexError) as info:
            lt.jit(read_nested, backend="interpret")(A, J)
        assert str(info.value).splitlines()[0] == want


def window_rows(x):
    out = np.empty((x.shape[0], 3))
    for i in range(x.shape[0]):
        out[i] = x[i:i + 3]  # the plain function fails too: a shortened row does not fill out[i]
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_slice_past_the_end_used_as_an_array_says_numpy_would_shorten_it(backend, rng):
    """Windows that feed reductions and writes follow NumPy's shortening
    (tests/tracer/test_windows.py); the last iterations whose windows NumPy
    shortens run on their own (s36), where the shortened row does not fit
    out[i]: NumPy's broadcast error, as the plain function's, naming the line."""
    with pytest.raises(lt.ShapeError, match="could not broadcast input array from shape") as info:
        lt.jit(window_rows, backend=backend)(rng.standard_normal(6))
    assert "x[i:i + 3]" in str(info.value)


# --- a failed call leaves what the plain function leaves -------------------------------------------
# (the compiled run writes nothing before it ran through; on a failure the plain function runs:
# api.py `_after_failure`)
def writes_then_fails(x, rng):
    for i in range(x.shape[0]):
        x[i] = rng.random()
        if x[i] > 2.0:
            raise ValueError("unreachable")
    if x.sum() > -1.0:
        raise RuntimeError("after the writes")
    return x


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_failing_call_leaves_arguments_and_generators_as_python_does(backend, rng):
    x = rng.standard_normal(5)
    plain_x, plain_gen = x.copy(), np.random.default_rng(3)
    with pytest.raises(RuntimeError, match="after the writes"):
        writes_then_fails(plain_x, plain_gen)
    gen = np.random.default_rng(3)
    with pytest.raises(RuntimeError, match="after the writes"):
        lt.jit(writes_then_fails, backend=backend)(x, gen)
    np.testing.assert_array_equal(x, plain_x)
    assert gen.bit_generator.state == plain_gen.bit_generator.state


# --- checkpoint= and gradients ----------------------------------------------------------------------
@pytest.mark.parametrize("bad,exc", [(-1, ValueError), (0, ValueError), (2.5, TypeError), (True, TypeError),
                                     ("3", TypeError)])
def test_checkpoint_must_be_a_positive_int(bad, exc):
    for make in (lt.grad, lt.value_and_grad):
        with pytest.raises(exc, match="checkpoint must be a positive int"):
            make(total, checkpoint=bad)
    with pytest.raises(exc, match="checkpoint must be a positive int"):
        lt.vjp(total, np.ones(3), checkpoint=bad)


def where_sqrt(x):
    return np.where(x > 0, np.sqrt(x), 0.0).sum()


def where_log_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.where(x[i] > 0, np.log(x[i]), 2.0 * x[i])
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [where_sqrt, where_log_in_loop], ids=lambda f: f.__name__)
def test_an_untaken_where_branch_contributes_nothing_to_the_gradient(fn, backend, rng):
    x = rng.standard_normal(8)
    x[np.abs(x) < 0.1] = 0.5  # away from the kink, where finite differences are meaningful
    with np.errstate(invalid="ignore", divide="ignore"):
        g = lt.grad(fn, backend=backend)(x)
        fd = numerical_grad(lambda v: float(fn(v)), [x], 0)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)
