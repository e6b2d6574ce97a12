"""A reshape that only drops or inserts axes of length 1 is a view whatever
the array's layout (codegen/cpu/shape.py `_unit_axes_index`, templates
`unit_axes`): contiguous(x).reshape copied a Fortran-ordered argument at
every such reshape (numba-benchmark's centered difference on a Fortran array
made three copies per call, 0.35x numba.njit)."""

import re

import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu.shape import _unit_axes_index


def centered_difference(u, D, dx):
    m, n = u.shape
    for i in range(1, m - 1):
        for j in range(1, n - 1):
            D[i, j] = (u[i + 1, j] + u[i, j + 1] + u[i - 1, j] + u[i, j - 1] - 4.0 * u[i, j]) / dx ** 2
    return D


def column_means(X):
    out = np.empty(X.shape[1])
    for j in range(X.shape[1]):
        out[j] = X[:, j].sum() / X.shape[0]
    return out


@pytest.mark.parametrize("order", ["C", "F", "strided"])
def test_a_stencil_on_any_layout(order, rng):
    """The vectorizer's chain for `u[i+1, j]` (slice, a unit axis in, slice,
    the unit axis out) is never made: the nest reads the argument itself at
    shifted indices, on any layout (planning/fusion.py `_skip_views`). Made,
    the 3-d slices were typed strided and LLVM read them with gathers."""
    u = rng.random((40, 30))
    u = np.asfortranarray(u) if order == "F" else np.concatenate([u, u])[::2] if order == "strided" else u
    D, D0 = np.zeros_like(u), np.zeros_like(u)
    f = looptrace.jit(centered_difference, backend="cpu")
    np.testing.assert_allclose(f(u, D, 1.5), centered_difference(u, D0, 1.5), rtol=1e-14)
    np.testing.assert_allclose(D, D0, rtol=1e-14)  # the argument is written as by the plain function
    src = f.explain(u, D, 1.5).kernel_source
    assert "contiguous(" not in src and "unit_axes(" not in src
    assert not re.search(r"= v\d+\[[^\]\n]*:", src), src  # no view made
    assert re.search(r"v\d+\[nonneg\(\(1 \+ i\d_\)\), i\d_\]", src), src  # u[i + 1, j - 1] read in place


@pytest.mark.parametrize("order", ["C", "F"])
def test_unit_axes_dropped_from_any_layout(order, rng):
    X = rng.random((25, 7))
    X = np.asfortranarray(X) if order == "F" else X
    np.testing.assert_allclose(looptrace.jit(column_means, backend="cpu")(X), column_means(X), rtol=1e-13)


@pytest.mark.parametrize("xs, vs, index", [
    ((248, 250), (248, 1, 250), ":, None, :"),
    ((248, 1, 250), (248, 250), ":, 0, :"),
    ((1, 5), (5, 1), "0, :, None"),
    ((5,), (1, 5, 1), "None, :, None"),
    ((3, 1), (3,), ":, 0"),
    ((1,), (), "0,"),
    ((6,), (2, 3), None),  # elements move between axes: no view of unit axes
    ((2, 3), (3, 2), None),
])
def test_the_index_of_a_change_of_unit_axes(xs, vs, index):
    assert _unit_axes_index(xs, vs) == index


def peak_of_a_column(rates, n):
    out = np.zeros((n, 3))
    s = 1.0
    for k in range(n):
        s = s * rates[k % rates.shape[0]]
        out[k, 0], out[k, 1], out[k, 2] = s, -s, s * s
    col = out[:, 1]
    col[0] = 7.0  # a write through the view reaches out, as in NumPy
    return out, np.argmax(out[:, 2]), np.argmin(col)


def test_a_column_of_an_array_the_kernel_made_is_read_as_a_view(rng):
    """`np.argmax(out[:, 2])` of an array the kernel made reads the column in
    place (a strided view, shape.py `_strided_slice`): contiguous() copied
    it, an allocation and a pass per call (seir of the corpus)."""
    rates = rng.uniform(0.9, 1.1, 5)
    f = looptrace.jit(peak_of_a_column, backend="cpu")
    for g, w in zip(f(rates, 40), peak_of_a_column(rates, 40)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    body = f.explain(rates, 40).kernel_source.split("def kernel", 1)[1]
    columns = re.findall(r"(v\d+) = v\d+\[0:40, \d:\d\]", body)
    assert columns, body
    for c in columns:
        assert f"contiguous({c})" not in body and f"{c}[:, 0]" in body, body
