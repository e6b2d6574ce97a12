"""Items of a list grown in a traced loop (`parts.append(...)`), read by a
constant index as Python reads them: the loop's elements are stacked
(values.py `Segment`), and `parts[-1]` returned that stack object itself.
Checked on the interpreter and cpu against the plain function."""

import numpy as np
import pytest

import looptrace
from looptrace import UnsupportedError


def items(x):
    parts = [x + 1.0]
    for i in range(4):
        parts.append(x * i)
    parts.append(x - 1.0)
    return parts[0], parts[1], parts[3], parts[-1], parts[-2], parts[-6]


def last_row_sum(X):
    rows = []
    for i in range(X.shape[0]):
        rows.append(X[i] * 2.0)
    return rows[-1].sum() + rows[0][1]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_grown_list_s_items_are_its_elements(rng, backend):
    x = rng.standard_normal(5)
    for g, w in zip(looptrace.jit(items, backend=backend)(x), items(x)):
        assert isinstance(g, np.ndarray) and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12)
    X = rng.standard_normal((6, 3))
    np.testing.assert_allclose(looptrace.jit(last_row_sum, backend=backend)(X), last_row_sum(X), rtol=1e-12)


def out_of_range(x):
    parts = []
    for i in range(3):
        parts.append(x * i)
    return parts[3]


def traced_index(x, k):
    parts = []
    for i in range(3):
        parts.append(x * i)
    return parts[k]


def test_a_grown_list_read_out_of_range_or_at_a_traced_index_fails_clearly(rng):
    x = rng.standard_normal(4)
    with pytest.raises(IndexError, match="list index out of range"):
        looptrace.jit(out_of_range, backend="interpret")(x)
    with pytest.raises(UnsupportedError, match="np.array"):
        looptrace.jit(traced_index, backend="interpret")(x, np.int64(1))
