"""What a call returns is what the plain function returns, as Python
objects: an argument written in place and returned is the caller's array
itself (later writes through the result reach it, `r is a`), and a 0-d
ndarray (a 0-d argument, np.zeros(()), np.asarray(x.sum())) comes back as a
0-d ndarray of its dtype, not a NumPy scalar. Before: the interpreter gave a
new array for a written argument, and every backend turned 0-d arrays into
scalars."""

import numpy as np
import pytest

import looptrace
from tests.marks import INTERPRET_AND_SLOW_CPU

BACKENDS = ["interpret", "cpu"]


def add_in_place(a, x):
    a += x.sum()
    return a


def written_and_other(a, b, x):
    for i in range(x.shape[0]):
        a[i % a.shape[0]] += x[i]
    return b, a, x.sum()


def zero_d_results(x):
    z = np.zeros(())
    z += x[0]
    return np.asarray(x.sum()), z, np.asarray(x.astype(np.float32).max()), x.sum()


def _repeat(f, backend, *args):
    """Two calls: the first builds, the second may take the direct runner."""
    jitted = looptrace.jit(f, backend=backend)
    for _ in range(2):
        plain = [a.copy() for a in args]
        comp = [a.copy() for a in args]
        yield f(*plain), jitted(*comp), plain, comp


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(4,), ()])
def test_a_written_argument_returned_is_the_callers_array(backend, shape):
    r = np.random.default_rng(1)
    a, x = r.standard_normal(shape), r.standard_normal(5)
    for want, got, plain, comp in _repeat(add_in_place, backend, a, x):
        assert want is plain[0] and got is comp[0]
        assert type(got) is np.ndarray and got.shape == shape
        np.testing.assert_allclose(got, want, rtol=1e-12)
        got[...] = 3.0  # the caller sees it
        assert np.all(comp[0] == 3.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_tuple_with_written_and_unwritten_arguments(backend):
    r = np.random.default_rng(2)
    a, b, x = r.standard_normal(3), r.standard_normal(2), r.standard_normal(7)
    for want, got, plain, comp in _repeat(written_and_other, backend, a, b, x):
        assert got[0] is comp[1] and got[1] is comp[0]
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        np.testing.assert_allclose(comp[0], plain[0], rtol=1e-12)
        assert type(got[2]) is type(want[2])


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_d_arrays_stay_arrays(backend):
    x = np.random.default_rng(3).standard_normal(6)
    for want, got, _, _ in _repeat(zero_d_results, backend, x):
        for g, w in zip(got, want):
            assert type(g) is type(w), (type(g), type(w))
            assert np.asarray(g).dtype == np.asarray(w).dtype and np.ndim(g) == np.ndim(w)
            np.testing.assert_allclose(g, w, rtol=1e-6)


def _made_from_python_values(x):
    lst = []
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    return s, np.array(lst), np.array([1.0, 2.0])


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_array_made_from_python_values_is_a_fresh_ndarray(backend):
    """`np.array(lst)` of a list never appended to, or of a literal, came back
    as looptrace's OwnArray subclass, and the same object on every call (a
    write into one result changed the next call's; probe Q: 944 generated
    programs returned one)."""
    f = looptrace.jit(_made_from_python_values, backend=backend)
    x = np.array([1.0, 2.0])
    a, b = f(x), f(x)
    assert [type(v) for v in a[1:]] == [np.ndarray, np.ndarray]
    assert a[1] is not b[1] and a[2] is not b[2]
    a[2][0] = 99.0
    np.testing.assert_array_equal(f(x)[2], [1.0, 2.0])
    assert a[1].shape == (0,) and a[1].dtype == np.float64


def _copies(x):
    return x.copy(), np.copy(x), np.array(x), x.astype(np.float64)


def _stacked_elements(x):
    out = []
    for i in range(0, 6, 2):
        out.append(x[i])
    return np.array(out)


def _snapshot(w, g):
    old = w.copy()
    for i in range(w.shape[0]):
        w[i] -= 0.1 * g[i]
    return old, w


def _view(x):
    return x[1:3], x.T


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_array_never_shares_an_arguments_memory(backend, rng):
    """`x.copy()` is x's value in the IR and `np.array([x[0], x[2], x[4]])` a
    strided slice of x once vectorized: the kernel gave x's memory for both,
    and a write into the result changed the caller's array (probe R W1, W2)."""
    for f in (_copies, _stacked_elements, _snapshot):
        args = [rng.standard_normal(6), rng.standard_normal(6)][: f.__code__.co_argcount]
        for want, got, plain, comp in _repeat(f, backend, *args):
            got = got if isinstance(got, tuple) else (got,)
            want = want if isinstance(want, tuple) else (want,)
            for w, g in zip(want, got):
                np.testing.assert_array_equal(g, w)
            fresh = got[:-1] if f is _snapshot else got  # (_snapshot's w is the caller's array itself)
            for g in fresh:
                assert not any(np.shares_memory(g, a) for a in comp)
            if f is _snapshot:
                assert got[1] is comp[0]
    x = rng.standard_normal((4, 4))
    a, t = looptrace.jit(_view, backend=backend)(x)  # views stay views, as NumPy's
    assert np.shares_memory(a, x) and np.shares_memory(t, x)


# --- views of a written argument -------------------------------------------------------------------
# A result that is a view of an argument the function writes into (`return
# a[1:]` after a loop that writes `a`) is that view of the caller's array, as
# in NumPy: a later write through either is seen by the other. Before, the
# call returned a copy of the view's contents (api.py `_unshared`), and a
# caller that wrote into the result did not change its argument.
def double_then_tail(a):
    for i in range(a.shape[0]):
        a[i] = a[i] * 2.0
    return a[1:]


def views_of_written(a, b):
    for i in range(a.shape[0]):
        b[i] = a[i] * 2.0
    v = b[::2]
    return v[:, 1:].T, b.reshape(-1)[2:5], b[1], a.T


def copy_of_a_transposed_reshape(a):
    a += 1.0
    return a.T.reshape(-1), a[1:].copy()


def _sharing(result, arrays):
    return [np.shares_memory(x, y) for x in result for y in arrays]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_view_of_a_written_argument_is_a_view_of_the_callers_array(backend):
    a = np.random.default_rng(3).standard_normal((5, 3))
    for want, got, plain, comp in _repeat(double_then_tail, backend, a):
        np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_allclose(comp[0], plain[0], rtol=1e-12)
        assert np.shares_memory(got, comp[0])
        got[0] = 7.0
        want[0] = 7.0
        np.testing.assert_array_equal(comp[0], plain[0])


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_views_through_slices_reshapes_and_transposes(backend):
    r = np.random.default_rng(4)
    a, b = r.standard_normal((4, 3)), r.standard_normal((4, 3))
    for want, got, plain, comp in _repeat(views_of_written, backend, a, b):
        for w, g in zip(want, got):
            np.testing.assert_allclose(g, w, rtol=1e-12)
        assert _sharing(got, comp) == _sharing(want, plain)
        for w, g in zip(want, got):
            g[...] = -1.0
            w[...] = -1.0
        np.testing.assert_array_equal(comp[1], plain[1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_what_numpy_copies_stays_a_copy(backend):
    a = np.random.default_rng(5).standard_normal((3, 4))
    for want, got, plain, comp in _repeat(copy_of_a_transposed_reshape, backend, a):
        for w, g in zip(want, got):
            np.testing.assert_allclose(g, w, rtol=1e-12)
        assert _sharing(got, comp) == _sharing(want, plain) == [False, False]
