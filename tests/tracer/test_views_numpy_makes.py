"""Views as NumPy makes them, seen through writes (found by probing the NumPy
surface; each was a lost or a stray write into an argument):

- np.squeeze, np.expand_dims, np.atleast_1d/2d/3d return views: a write
  into one reaches the array;
- x.astype(x.dtype, copy=False), np.array(x, copy=False), and
  np.ascontiguousarray / np.asfortranarray / np.asarray(order=) of an array
  already in that order are the array itself; of one that is not, a copy
  (the argument's memory layout decides: tracer/layout.py `decides`);
- np.broadcast_arrays gives an array of the whole shape as a view of itself;
- np.diagonal, np.broadcast_to and .imag of a real array are read-only
  views: they see later writes, and a write into one raises ValueError."""
import numpy as np
import pytest

import looptrace as lt

from ._compare import check


def squeezed(x):
    v = x.squeeze()
    v[0, 0] = 100.0
    return x.sum()


def expanded(x):
    v = np.expand_dims(x, 0)
    v[0, 0, 0] = 100.0
    return x.sum()


def at_least_3d(x):
    np.atleast_3d(x)[0, 0, 0] = 100.0
    return x.sum()


def squeezed_rows_in_a_loop(x):
    for i in range(x.shape[0]):
        row = np.squeeze(x[i:i + 1])
        row *= 2.0
    return x


def same_dtype_no_copy(x):
    v = x.astype(np.float64, copy=False)
    v[0, 1] = 100.0
    w = x.astype(np.float64)
    w[0, 2] = -1.0
    return x.sum()


def array_copy_false(x):
    v = np.array(x, copy=False)
    v[1, 1] = 100.0
    return x.sum()


def contiguous(x):
    v = np.ascontiguousarray(x)
    v[1, 0] = 100.0
    return x.sum()


def fortran(x):
    v = np.asfortranarray(x)
    v[0, 0] = 100.0
    return x.sum()


def as_c_order(x):
    v = np.asarray(x, order="C")
    v[0, 0] = 100.0
    return x.sum()


def broadcast_together(x):
    a, b = np.broadcast_arrays(x, x[0])
    a[0, 0] = 100.0
    return x.sum() + b.sum()


@pytest.mark.parametrize("fn", [squeezed, expanded, at_least_3d, squeezed_rows_in_a_loop, same_dtype_no_copy,
                                array_copy_false, contiguous, fortran, as_c_order, broadcast_together])
@pytest.mark.parametrize("order", ["C", "F"])
def test_writes_reach_what_numpy_views(fn, order):
    x = np.random.default_rng(0).standard_normal((3, 4))
    check(fn, np.asarray(x, order=order))
    if order == "C" and fn in (contiguous, as_c_order, squeezed):
        check(fn, np.asarray(x, order=order), backend="cpu")


def test_a_layout_deciding_copy_is_traced_per_layout():
    """One jitted function called with a C-ordered, then an F-ordered array."""
    x = np.random.default_rng(1).standard_normal((3, 4))
    f = lt.jit(contiguous, backend="interpret")
    for order in ("C", "F", "C"):
        a, b = np.asarray(x, order=order), np.asarray(x, order=order)
        assert f(a) == contiguous(b)
        np.testing.assert_array_equal(a, b)


def diagonal_written(x):
    x.diagonal()[0] = 1.0
    return x


def imag_written(x):
    x.imag[0, 0] = 1.0
    return x


def broadcast_written(x):
    np.broadcast_to(x, (2, 3, 4))[0, 0, 0] = 1.0
    return x


def diagonal_sees_later_writes(x):
    d = np.diagonal(x)
    x[1, 1] = 50.0
    return d * 2, np.trace(x), x.diagonal(1).sum(), np.broadcast_to(x[0], (2, 4)).sum(0)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_read_only_views(backend):
    x = np.arange(12.0).reshape(3, 4)
    for fn in (diagonal_written, imag_written, broadcast_written):
        with pytest.raises(ValueError, match="read-only"):
            fn(x.copy())
        with pytest.raises(ValueError, match="read-only"):
            lt.jit(fn, backend=backend)(x.copy())
    check(diagonal_sees_later_writes, x, backend=backend)
