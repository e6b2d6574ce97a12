"""Several integer arrays in one index (tracer/advanced.py), reads and
writes, against NumPy: NumPy's placement of the broadcast index axes
(in place when the indexed axes stand together, first otherwise), negative
indices, integers beside the arrays, concrete and traced index arrays,
IndexError for an index out of range, gradients, the compiled backend and a
loop that batches the read."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

from ._loopcheck import check

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

READS = {
    "pairs": lambda A, i, j: A[i, j],
    "rows_and_labels": lambda A, i, j: A[np.arange(A.shape[0]), j[:A.shape[0]] % A.shape[1]],
    "triu": lambda A, i, j: A[np.triu_indices(A.shape[0], 1, A.shape[1])],
    "diag_indices": lambda A, i, j: A[np.diag_indices(min(A.shape))] * 2.0,
    "broadcast_grid": lambda A, i, j: A[i[:, None], j[None, :]],
    "with_int": lambda A, i, j: A[i, 1] + A[-2, j],
    "negative": lambda A, i, j: A[-1 - i, j % A.shape[1] - A.shape[1]],
    "lists": lambda A, i, j: A[[0, 2, -1], [1, 1, 0]],
}
READS3 = {
    "adjacent_then_slice": lambda T, i, j: T[i, j, :],
    "slice_then_adjacent": lambda T, i, j: T[:, i, j],
    "separated": lambda T, i, j: T[i, :, j],  # index axes first
    "separated_by_int_and_slice": lambda T, i, j: T[1, 1:3, j],
    "int_slice_array": lambda T, i, j: T[i, 1:, 0],
    "three": lambda T, i, j: T[i, j, i % T.shape[2]],
    "new_axis_between": lambda T, i, j: T[i, None, j],
    "strided": lambda T, i, j: T[::2, i, j],
}


def _indices(rng, shape, k):
    return rng.integers(-shape[0], shape[0], k), rng.integers(-shape[1], shape[1], k)


@pytest.mark.parametrize("name", list(READS))
def test_reads_of_a_matrix(name, rng):
    A = rng.standard_normal((5, 4))
    i, j = _indices(rng, A.shape, 6)
    check(READS[name], A, i, j)


@pytest.mark.parametrize("name", list(READS3))
def test_reads_of_a_3d_array(name, rng):
    T = rng.standard_normal((4, 3, 5))
    i = rng.integers(-3, 3, 7)
    j = rng.integers(-3, 3, 7)
    check(READS3[name], T, i, j)


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), seed=st.integers(0, 2**32 - 1),
       data=st.data())
def test_generated_keys_read_as_numpy_reads(shape, seed, data):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    key, arrays = [], []
    kinds = [data.draw(st.sampled_from(["array", "array", "int", "slice"])) for _ in shape]
    at = data.draw(st.integers(0, len(shape) - 2))
    kinds[at] = "array"  # two arrays at least, here and somewhere after
    kinds[data.draw(st.integers(at + 1, len(shape) - 1))] = "array"
    for n, kind in zip(shape, kinds):
        if kind == "array":
            key.append(("a", len(arrays)))
            arrays.append(rng.integers(-n, n, data.draw(st.sampled_from([(3,), (2, 3), (1, 3)]))))
        elif kind == "int":
            key.append(("i", int(rng.integers(-n, n))))
        else:
            key.append(("s", slice(data.draw(st.integers(0, n - 1)), None)))
    arrays += [np.zeros(1, np.int64)] * (4 - len(arrays))

    def f(x, a0, a1, a2, a3):
        arrs = (a0, a1, a2, a3)
        return x[tuple(arrs[v] if k == "a" else v for k, v in key)]

    check(f, x, *arrays)


def scatter_pairs(A, i, j, v):
    A[i, j] = v
    A[j % 2, 0] = -1.0
    return A.sum()


def scatter_views(T, i, j, v):
    T[i, :, j] = v[:, None]  # the index axes first: v per pair, broadcast along the kept axis
    T[1, 1:3, j] = 7.0
    T[:, i, j] *= 2.0
    return T


def test_writes_through_several_arrays(rng):
    A = rng.standard_normal((5, 4))
    i = rng.integers(-5, 5, 6)
    j = rng.integers(-4, 4, 6)
    i[-1], j[-1] = i[0], j[0]  # a repeated pair: the last write wins, as in NumPy
    check(scatter_pairs, A, i, j, rng.standard_normal(6))
    T = rng.standard_normal((4, 3, 5))
    check(scatter_views, T, rng.integers(0, 3, 6) % 3, rng.integers(-5, 5, 6) % 3, rng.standard_normal(6))


def test_an_index_out_of_range_raises_index_error(rng):
    def f(A, i, j):
        return A[i, j]

    A = rng.standard_normal((3, 4))
    jf = looptrace.jit(f, backend="interpret")
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        jf(A, np.array([0, 1]), np.array([1, 4]))
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 0 with size 3"):
        jf(A, np.array([-4, 1]), np.array([1, 2]))
    with pytest.raises(IndexError):
        f(A, np.array([0, 1]), np.array([1, 4]))  # NumPy agrees


def nll(P, y):
    return -np.log(P[np.arange(P.shape[0]), y]).sum()


def test_gradient_through_a_two_array_read(rng):
    P = rng.random((6, 4)) + 0.5
    y = rng.integers(0, 4, 6)
    g = looptrace.grad(nll, backend="interpret")(P, y)
    assert_close(g, numerical_grad(nll, [P, y], 0), 1e-6, "d nll / d P")


def picks_per_step(X, rows, cols):
    out = np.empty((X.shape[0], rows.shape[0]))
    for t in range(X.shape[0]):
        out[t] = X[t][rows, cols] * t
    return out


def test_compiled_and_in_a_loop(rng):
    X = rng.standard_normal((7, 5, 4))
    rows, cols = rng.integers(-5, 5, 3), rng.integers(0, 4, 3)
    check(picks_per_step, X, rows, cols)
    check(picks_per_step, X, rows, cols, jitted=looptrace.jit(picks_per_step, backend="cpu"))
    check(nll, rng.random((6, 4)) + 0.5, rng.integers(0, 4, 6), jitted=looptrace.jit(nll, backend="cpu"))
    A = rng.standard_normal((5, 4))
    check(scatter_pairs, A, rng.integers(0, 5, 6), rng.integers(0, 4, 6), rng.standard_normal(6),
          jitted=looptrace.jit(scatter_pairs, backend="cpu"))


# --- np.add.at: repeated indices accumulate ------------------------------------------------------------
def histogram_by_hand(idx, w, out):
    np.add.at(out, idx, w)
    np.subtract.at(out, idx[:2], 1.0)
    return out.sum()


def grid_add(G, i, j, v):
    np.add.at(G, (i, j), v)  # several index arrays: one flat row each
    np.add.at(G, (i[0], j), 2.0)
    np.add.at(G, -1, v[:G.shape[1]])
    return G


def test_add_at_accumulates_repeated_indices(rng):
    idx = rng.integers(-6, 6, 40)  # many repeats, negative ones count from the end
    check(histogram_by_hand, idx, rng.standard_normal(40), rng.standard_normal(6))
    G = rng.standard_normal((4, 5, 3))
    i, j = rng.integers(0, 4, 9), rng.integers(-5, 5, 9)
    check(grid_add, G, i, j, rng.standard_normal((9, 3)))
    check(grid_add, G, i, j, rng.standard_normal((9, 3)), jitted=looptrace.jit(grid_add, backend="cpu"))
    check(lambda x: (np.add.accumulate(x, axis=1), np.multiply.accumulate(x)), rng.standard_normal((3, 4)))


def test_add_at_errors(rng):
    x = rng.standard_normal(5)
    with pytest.raises(IndexError):
        looptrace.jit(histogram_by_hand, backend="interpret")(np.array([0, 9, 1]), x[:3], x.copy())
    with pytest.raises(TypeError, match="same_kind"):
        looptrace.jit(lambda a, i: np.add.at(a, i, 0.5), backend="interpret")(np.zeros(3, np.int64),
                                                                                np.array([0, 1]))
    with pytest.raises(looptrace.UnsupportedError, match="np.maximum.at"):
        looptrace.jit(lambda a, i: np.maximum.at(a, i, 0.5), backend="interpret")(x.copy(), np.array([0, 1]))
    with pytest.raises(looptrace.UnsupportedError, match="leading axes"):
        looptrace.jit(lambda a, i: np.add.at(a, (slice(None), i), 0.5),
                      backend="interpret")(np.zeros((2, 3)), np.array([0, 1]))


def test_compiled_add_at_checks_every_index_before_it_adds(rng):
    """NumPy checks all of np.add.at's indices before it adds anything; so
    does the cpu kernel, in a pass that computes the test where it reads it
    (codegen/cpu/check.py: an or-reduction, then the raising loop only when
    one fails), then a scatter with no check of its own (the
    indices are clipped to where the check put them, ir/ranges.py)."""
    f = looptrace.jit(histogram_by_hand, backend="cpu")
    idx, w, acc = rng.integers(-6, 6, 300), rng.standard_normal(300), rng.standard_normal(6)
    check(histogram_by_hand, idx, w, acc, jitted=f)
    src = f.explain(idx, w, acc.copy()).kernel_source
    assert "check_elem" not in src and "np.bool)" not in src  # no mask array, no second check
    assert "if bad" in src  # an or-reduction over the test first; the raising loop only then
    for bad in (6, -7):
        idx[150] = bad
        kept = acc.copy()
        with pytest.raises(IndexError, match=f"index {bad} is out of bounds for axis 0 with size 6"):
            f(idx, w, acc)
        np.testing.assert_array_equal(acc, kept)  # nothing was added
