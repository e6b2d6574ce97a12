"""NumPy-surface cases found by probing, each against plain NumPy:

- a reduction's narrow `dtype=` (np.sum(x, dtype=np.uint8), bool) wraps as
  NumPy's accumulator does;
- a Python int that does not fit a narrow int array's dtype raises
  OverflowError (an argument, a store, a loop index past 255), and compares
  exactly (np.uint8(5) > 300 is False);
- a negative shift count of Python ints raises ValueError; duplicate axes,
  np.clip without a_max, np.swapaxes out of range, negative dimensions raise
  NumPy's errors; astype to bytes is a clear error;
- np.concatenate / vstack / hstack of a list appended to in a loop;
- np.maximum.accumulate over an empty axis compiles."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import UnsupportedError

from ._compare import check

BACKENDS = ["interpret", "cpu"]


def narrow_sums(x):
    return (np.sum(x, dtype=np.uint8), np.sum(x.astype(np.float64), dtype=np.int32),
            x.reshape(1, 2).prod(axis=1, dtype=np.uint8), np.sum(x > 0, dtype=bool), np.trace(np.outer(x, x), dtype=np.int8))


def plus(x, k):
    return x + k


def stored(x):
    out = np.zeros(len(x), dtype=np.uint8)
    for i in range(len(x)):
        out[i] = int(x[i]) + 250
    return out


def plus_index(x):
    s = 0
    for i in range(x.shape[0]):
        s += x[i] + i
    return s


def compared(x, k):
    return x > k, x == k, x <= 300, x != -1


def shifted(x, k):
    return 1 << (k - 10), x[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_narrow_integers(backend):
    u8 = np.array([200, 100], np.uint8)
    check(narrow_sums, u8, backend=backend)
    check(plus, np.array([1, 2, 3], np.uint8), 30, backend=backend)
    check(stored, np.arange(4.0), backend=backend)
    check(plus_index, np.arange(10, dtype=np.uint8), backend=backend)
    for k in (300, -1, 7):
        check(compared, np.array([1, 7, 200, 255], np.uint8), k, backend=backend)
    for fn, args in ((plus, (np.array([1, 2, 3], np.uint8), 300)), (plus, (np.array([1, 2], np.int8), -129)),
                     (stored, (np.arange(8.0),)), (plus_index, (np.arange(300).astype(np.uint8),))):
        with pytest.raises(OverflowError):
            fn(*args)
        with pytest.raises(OverflowError, match="out of bounds for u?int8"):
            lt.jit(fn, backend=backend)(*args)


@pytest.mark.parametrize("backend", BACKENDS)
def test_negative_shift_count(backend):
    check(shifted, np.ones(3), 12, backend=backend)
    with pytest.raises(ValueError, match="negative shift count"):
        lt.jit(shifted, backend=backend)(np.ones(3), 3)


def duplicate_axes(x):
    return np.sum(x, axis=(0, -2))


def clip_without_a_max(x):
    return np.clip(x, 1)


def swap_out_of_range(x):
    return np.swapaxes(x, 0, 3)


def negative_dimension(x):
    return np.ones((2, -1)) + x[0]


def as_bytes(x):
    return x.astype("S3")


def test_numpy_errors():
    x = np.ones((3, 4))
    for fn, exc in ((duplicate_axes, ValueError), (clip_without_a_max, TypeError), (swap_out_of_range, np.exceptions.AxisError),
                    (negative_dimension, ValueError)):
        with pytest.raises(exc):
            fn(x)
        for backend in BACKENDS:
            with pytest.raises(exc):
                lt.jit(fn, backend=backend)(x)
    with pytest.raises(UnsupportedError, match="numeric arrays only"):
        lt.jit(as_bytes, backend="interpret")(x)


def joined(x):
    rows, blocks, scalars = [], [], []
    for i in range(x.shape[0]):
        rows.append(x[i] * 2)
        blocks.append(np.outer(x[i], x[i]))
        scalars.append(x[i, 0])
    return (np.concatenate(rows), np.vstack(rows), np.hstack(rows), np.concatenate(blocks, axis=1),
            np.vstack(blocks), np.hstack(blocks), np.concatenate(blocks, axis=-2), np.hstack(scalars),
            np.vstack(scalars))


def running_max_of_nothing(m):
    return np.maximum.accumulate(m, axis=0), np.minimum.accumulate(m.T, axis=1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_lists_and_empty(backend):
    check(joined, np.random.default_rng(0).standard_normal((4, 3)), backend=backend)
    check(running_max_of_nothing, np.ones((3, 0)), backend=backend)


def _edge_padded(x):
    return np.concatenate(([x[0]], x, [x[-1]])), np.hstack(([x[0] * 2, x[1]], x)), np.concatenate((x, (x[0],)))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_joining_lists_of_traced_elements(backend, rng):
    """A list or tuple of traced elements among the pieces joined (the edge
    padding idiom): TraceError ("needs a concrete NumPy array") before (probe S)."""
    x = rng.standard_normal(7)
    for w, g in zip(_edge_padded(x), lt.jit(_edge_padded, backend=backend)(x)):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
