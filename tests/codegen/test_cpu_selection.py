"""Sorts of which only some positions are read (a median, a percentile,
`np.argsort(d)[:k]`) are computed by selection on the CPU target
(planning/order_stats.py, codegen/cpu/sort.py, codegen/cpu/selection.py).
The positions read must hold exactly what the full sort puts there: values
with NaNs last, and for argsort the stable order (ties by index)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace import pipeline
from looptrace.codegen.cpu.selection import argselect_lane, argsort_range, argtopk_lane, select_lane, topk_lane
from looptrace.codegen.planning.order_stats import sort_positions
from looptrace.ir.uses import use_map


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def lanes(draw_sizes=st.integers(1, 120)):
    """Lanes with ties, NaNs, signed zeros, sorted and reversed runs."""
    @st.composite
    def lane(draw):
        n = draw(draw_sizes)
        seed = draw(st.integers(0, 2**31))
        kind = draw(st.sampled_from(["normal", "ties", "nans", "sorted", "reversed", "zeros"]))
        r = np.random.default_rng(seed)
        x = r.standard_normal(n)
        if kind == "ties":
            x = r.integers(0, 4, n).astype(np.float64)
        elif kind == "nans":
            x[r.random(n) < 0.3] = np.nan
        elif kind == "sorted":
            x.sort()
        elif kind == "reversed":
            x = np.sort(x)[::-1].copy()
        elif kind == "zeros":
            x = r.choice([-0.0, 0.0, 1.0, np.nan], n)
        pos = np.unique(r.integers(0, n, draw(st.integers(1, n)))).astype(np.int64)
        return x, pos
    return lane()


@settings(max_examples=30, deadline=None)
@given(lanes())
def test_selection_helpers_match_the_full_sort(case):
    x, pos = case
    want_vals, want_order = np.sort(x), np.argsort(x, kind="stable")
    a = x.copy()
    select_lane(a, pos)
    np.testing.assert_array_equal(a[pos], want_vals[pos])
    np.testing.assert_array_equal(np.sort(a), want_vals)  # still a permutation of the lane
    out = np.empty(x.size, np.int64)
    argselect_lane(x, out, pos)
    np.testing.assert_array_equal(out[pos], want_order[pos])
    k = min(int(pos[0]) + 1, 32)
    out = np.empty(x.size, np.int64)
    argtopk_lane(x, out, k)
    np.testing.assert_array_equal(out[:k], want_order[:k])
    a = x.copy()
    topk_lane(a, k)
    np.testing.assert_array_equal(a[:k], want_vals[:k])
    idx = np.arange(x.size, dtype=np.int64)
    argsort_range(x, idx, 0, x.size)
    np.testing.assert_array_equal(idx, want_order)


def _select_long_lanes(lanes):
    for x in lanes:
        pos = np.array([0, 1, 2, x.size // 2, x.size - 1], np.int64)
        a = x.copy()
        select_lane(a, pos)
        np.testing.assert_array_equal(a[pos], np.sort(x)[pos])
        out = np.empty(x.size, np.int64)
        argselect_lane(x, out, pos)
        np.testing.assert_array_equal(out[pos], np.argsort(x, kind="stable")[pos])


def test_selection_on_long_lanes():
    """Lanes longer than the generated ones, many ties: the float64 helpers
    test_selection_helpers_match_the_full_sort compiled."""
    r = np.random.default_rng(3)
    _select_long_lanes((r.standard_normal(20000), np.repeat(r.standard_normal(50), 100)))


# an int64 lane compiles both helpers again in another dtype (8.5 s in session 54's CI, the same code as the
# float64 lanes of test_selection_on_long_lanes without NaNs): -m slow
@pytest.mark.slow
def test_selection_on_integers():
    _select_long_lanes((np.random.default_rng(3).integers(-5, 5, 5000),))


def order_statistics(X, d):
    med = np.median(X, axis=0)
    pct = np.percentile(X, [5, 95], axis=0)
    nearest = np.argsort(d, kind="stable")[:5]
    farthest = np.argsort(-d, kind="stable")[::-1][:3]
    s = np.sort(d)
    picks = s[[1, -2]]
    per_row = np.sort(X, axis=1)[:, -2:]  # the two largest of each row
    whole = np.argsort(X[0], kind="stable")  # read whole: a full sort
    return med, pct, nearest, farthest, s[3] + s[-1], picks, per_row, whole


def _data(r, ties: bool):
    X, d = r.standard_normal((41, 37)), r.standard_normal(300)
    if ties:
        X, d = np.round(X), np.round(d * 2)
        X[3, 5] = np.nan
        d[[7, 100]] = np.nan
    return X, d


def test_order_statistics_follow_numpy_and_only_needed_positions_are_found():
    f = looptrace.jit(order_statistics, backend="cpu")
    r = np.random.default_rng(11)
    for ties in (False, True, True):
        X, d = _data(r, ties)
        for got, want in zip(f(X, d), order_statistics(X, d)):
            np.testing.assert_array_equal(got, want)
    src = f.explain(X, d).kernel_source
    assert "argtopk_lane(" in src  # [:5]
    assert "select_lane(" in src  # the median and percentiles
    assert "argselect_lane(" in src  # [::-1][:3]
    assert "argsort_lane(" in src  # the whole order is returned


def _positions(fn, *args):
    program = pipeline.run_passes(looptrace.jit(fn, backend="interpret").trace(list(args)))
    uses = use_map(program.body)
    return [sort_positions(op, uses) for op in program.body.ops if op.prim.name in ("sort", "argsort")]


def test_positions_read_through_slices_gathers_and_other_uses():
    x = np.random.default_rng(0).standard_normal(20)
    assert _positions(lambda a: np.sort(a)[2:9:3], x) == [(2, 5, 8)]
    assert _positions(lambda a: np.argsort(a)[::-1][:3], x) == [(17, 18, 19)]
    assert _positions(lambda a: np.sort(a)[[0, -1, 0]], x) == [(0, 19)]
    assert _positions(lambda a: np.sort(a)[1:4].sum(), x) == [(1, 2, 3)]  # any use of a slice reads only the slice
    assert _positions(lambda a: np.sort(a) * 2.0, x) == [None]  # read whole
    assert _positions(lambda a: np.sort(a)[1:][::-1], x) == [tuple(range(1, 20))]
    X = np.random.default_rng(1).standard_normal((4, 20))
    assert _positions(lambda a: np.sort(a, axis=1)[1:3, 4], X) == [(4,)]  # other axes do not matter
    assert _positions(lambda a: np.sort(a, axis=0)[:, 4], X) == [None]  # not the sorted axis


def in_a_loop(X):
    out = np.zeros(X.shape[0])
    for i in range(X.shape[0]):
        s = np.sort(X[i])
        out[i] = s[0] + s[-1] + np.median(X[i])
    return out


def test_selection_inside_a_loop_body():
    r = np.random.default_rng(5)
    X = np.round(r.standard_normal((9, 31)) * 3)
    X[2, 4] = np.nan
    np.testing.assert_array_equal(looptrace.jit(in_a_loop, backend="cpu")(X), in_a_loop(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_the_fallback_sort_of_a_badly_partitioned_part(dtype):
    """selection._heapsort_vals (what select_lane sorts a part with when the
    partitions go deeper than its limit): NumPy's order, NaNs last, any
    sub-range, the rest untouched."""
    from looptrace.codegen.cpu.selection import _heapsort_vals

    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 17, 200):
        a = (rng.standard_normal(n) * 10).astype(dtype)
        if dtype != np.int64 and n > 2:
            a[rng.integers(0, n, n // 3)] = np.nan
        lo, hi = (0, n - 1) if n < 3 else (1, n - 2)
        want = a.copy()
        want[lo:hi + 1] = np.sort(a[lo:hi + 1])
        got = a.copy()
        _heapsort_vals(got, lo, hi)
        np.testing.assert_array_equal(got, want)
