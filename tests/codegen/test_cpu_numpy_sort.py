"""Whole-array sorts at a kernel's top level run NumPy's own sort from the
kernel (codegen/cpu/sort.py, `numba.objmode`): the same values as the plain
function and, for argsort, ties in the same order, whatever kind the user
asked for. Shorter sorts and sorts inside loops keep the kernel's own lane
sort (argsort there is stable: one of the orders NumPy allows)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.codegen.cpu import sort as cpu_sort


def _exact(got, want):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def sorts(x):
    return np.sort(x), np.argsort(x), np.argsort(x, kind="stable"), np.argsort(x, stable=True)


def sorts_2d(x):
    return np.sort(x, axis=0), np.argsort(x, axis=0), np.argsort(x, axis=1, kind="mergesort"), np.sort(x, axis=1)


def per_row(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):  # batched: one sort along axis 1, at the top level
        out[i] = np.sort(x[i])
    return out


def sorted_steps(x):
    for _ in range(3):  # a recurrence: the sort stays in the loop
        x = np.sort(x * -1.5 + 0.25)
    return x


LARGE = [
    lambda r: r.uniform(1.0, 100.0, 20000).astype(np.float32),  # float32 ties
    lambda r: r.integers(0, 40, 20000),  # many ties
    lambda r: np.where(r.random(9000) > 0.5, 0.0, -0.0),  # signed zeros: equal keys
    lambda r: np.where(r.random(9000) > 0.9, np.nan, r.standard_normal(9000)),  # NaNs last
    lambda r: r.random(9000) > 0.5,
]


# float32 and bool with -m slow (the same three NumPy calls from the kernel in another dtype, 1.1 and 0.8 s in
# e17f737's CI), and int64 (4.9 s in 0bc3f38's CI: the int64 sorts and argsorts from the kernel, ties
# everywhere, run in test_integers_of_a_narrow_range_are_counted_and_wider_ones_are_numpys_sort[int64]);
# float64 (signed zeros, NaNs) stays. Every dtype's kernel source below.
@pytest.mark.parametrize("make", [pytest.param(m, marks=pytest.mark.slow) if k in (0, 1, 4) else m
                                  for k, m in enumerate(LARGE)])
def test_large_top_level_sorts_are_numpys_own(make, rng):
    x = make(rng)
    f = looptrace.jit(sorts, backend="cpu")
    _exact(f(x.copy()), sorts(x.copy()))


def test_large_top_level_sorts_call_numpy_in_every_dtype(rng):
    """The kernels' sources (explain: no compile): the two stable argsorts are one op."""
    for make in LARGE:
        x = make(rng)
        assert looptrace.explain(looptrace.jit(sorts, backend="cpu"), x).kernel_source.count("numba.objmode") == 3


def test_along_either_axis(rng):
    x = rng.integers(0, 7, (200, 60)).astype(np.float64)
    f = looptrace.jit(sorts_2d, backend="cpu")
    _exact(f(x.copy()), sorts_2d(x.copy()))
    x = rng.standard_normal((60, 200)).T  # a transposed view: the results are C-ordered arrays all the same
    _exact(f(x), sorts_2d(x))


# the three kernels' sources are read without compiling them (explain; the three compiles were 4.1 s of CPU
# in 0bc3f38's CI), their values on the interpreter: the kernel's own lane sort and argsort keep their cpu
# values in test_lowering_completeness.py (the sort sample, on cpu), a top-level sort along rows from the
# kernel in test_along_either_axis
def test_short_sorts_and_sorts_in_loops_stay_in_the_kernel(rng):
    x = rng.standard_normal(100)
    rows = rng.standard_normal((40, 300))
    long_x = rng.standard_normal(6000)
    for fn, arg, from_numpy in ((sorts, x, False), (per_row, rows, True), (sorted_steps, long_x, False)):
        # distinct keys: every argsort agrees
        _exact(looptrace.jit(fn, backend="interpret")(arg.copy()), fn(arg.copy()))
        assert ("objmode" in looptrace.explain(looptrace.jit(fn, backend="cpu"), arg).kernel_source) == from_numpy


def test_kind_and_stable_together_is_numpys_error(rng):
    x = rng.standard_normal(5)
    with pytest.raises(ValueError, match="at the same time"):
        looptrace.jit(lambda a: np.argsort(a, kind="stable", stable=True), backend="interpret")(x)


TIES = dict(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3), levels=st.integers(1, 6),
            seed=st.integers(0, 2**31 - 1), data=st.data())


def _ties_match_plain(backends, shape, levels, seed, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    x = np.random.default_rng(seed).integers(0, levels, shape).astype(np.float64)

    def fn(a):
        return np.sort(a, axis=axis), np.argsort(a, axis=axis), np.argsort(a, axis=axis, kind="stable")

    want = fn(x.copy())
    for backend in backends:
        _exact(looptrace.jit(fn, backend=backend, cache=False)(x.copy()), want)


# a kernel compiled per example (9.1 s of CPU at 8, 5.1 s at 4 in session 54's CI, 2.4 s at 2 in 0bc3f38's):
# the cpu kernels' examples are fewer, the interpreter runs 8 of the same generator below
@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(**TIES)
def test_generated_arrays_with_ties_match_plain(shape, levels, seed, data, monkeypatch):
    """With the threshold lowered, small generated arrays (few distinct
    values: ties everywhere) take NumPy's path; interpret gives the same."""
    monkeypatch.setattr(cpu_sort, "NUMPY_SORT_MIN", 1)
    _ties_match_plain(("interpret", "cpu"), shape, levels, seed, data)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**TIES)
def test_generated_arrays_with_ties_match_plain_interpret(shape, levels, seed, data):
    _ties_match_plain(("interpret",), shape, levels, seed, data)


def order_statistics(x, y):
    return (np.median(x), np.percentile(x, [5.0, 50.0, 97.5]), np.median(y, axis=1), np.sort(x)[:3],
            np.argsort(x)[:3], np.sort(y[0])[::2])


def test_large_top_level_selections_are_numpys_partition(rng):
    """A sort read only at some positions (np.median, np.percentile) of a large
    array is np.partition at those positions, called from the kernel: values
    equal to the plain function's (a NaN in a lane gives its NaN); an
    argsort's prefix keeps the kernel's own stable selection; past 64
    positions, NumPy's full sort."""
    x, y = rng.standard_normal(20001), rng.standard_normal((3, 5000))
    f = looptrace.jit(order_statistics, backend="cpu")
    for g, w in zip(f(x, y), order_statistics(x, y)):
        np.testing.assert_array_equal(g, w)
    src = f.explain(x, y).kernel_source
    # one partition of x for the median, the percentiles and the prefix; one of y along its rows
    assert src.count("np.partition(") == 2 and "select_lane(" not in src and "argtopk_lane(" in src
    # every other position of y[0]: NumPy's full sort (2500 kth values in the source ran Numba out of
    # memory at 10^5 elements)
    assert "np.sort(" in src
    x[77] = np.nan
    y[1, 9] = np.nan
    for g, w in zip(f(x, y), order_statistics(x, y)):
        np.testing.assert_array_equal(g, w)


def sort_in_place(x):
    x.sort()


def sort_axis0_and_sum(x):
    x.sort(axis=0)
    return x[0].sum()


def sort_and_keep_old(x):
    old = x.copy()
    x.sort()
    return old[:3], x[-3:]


def test_in_place_sorts_of_arguments_sort_where_they_are(rng):
    """`x.sort()` of an argument: NumPy's sort on the argument itself (the
    kernel owns it, emitter.emit_program), no copy sorted and copied back."""
    x = rng.uniform(1.0, 100.0, 20_000).astype(np.float32)
    f = looptrace.jit(sort_in_place, backend="cpu")
    a, b = x.copy(), x.copy()
    assert f(a) is None and sort_in_place(b) is None
    np.testing.assert_array_equal(a, b)
    assert ".sort(axis=0)" in f.explain(x.copy()).kernel_source
    view = np.arange(40_000.0)[::-2]  # a strided argument: its own elements, in place
    base = view.base.copy()
    f(view)
    base[::-2].sort()
    np.testing.assert_array_equal(view.base, base)
    ro = x.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        f(ro)
    np.testing.assert_array_equal(ro, x)


def test_in_place_sorts_along_an_axis_and_old_contents(rng):
    X = rng.standard_normal((300, 40))
    for fn in (sort_axis0_and_sum, sort_and_keep_old):
        a, b = X.copy(), X.copy()
        got, want = looptrace.jit(fn, backend="cpu")(a), fn(b)
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(g, w, rtol=1e-12)  # a sum: in another order
        np.testing.assert_array_equal(a, b)


def counted(x, y):
    y.sort()
    vals, counts = np.unique(x, return_counts=True)
    first, inverse = np.unique(y[::-1], return_index=True, return_inverse=True)[1:]
    return (np.sort(x), np.unique(x), y[:3].sum(), vals * counts, first, inverse, np.argsort(x, kind="stable"),
            np.argsort(x))


# int16 compiles the same counting-sort lowering as int64 in another dtype (8.3 s in session 54's CI): -m slow;
# the helpers' own int16 specializations run in test_small_range_sort_is_the_sort_or_declines_untouched
@pytest.mark.parametrize("dtype", [np.int64, pytest.param(np.int16, marks=pytest.mark.slow)])
def test_integers_of_a_narrow_range_are_counted_and_wider_ones_are_numpys_sort(dtype, rng):
    """A 1-D integer sort whose range is narrower than its length is a
    counting sort (selection.py `small_range_sort`), decided at run time:
    one kernel sorts a narrow and a wide range, copied or in place, and
    np.unique on top (with counts, first positions and inverse), and a
    stable argsort (`small_range_argsort`), exactly as NumPy."""
    f = looptrace.jit(counted, backend="cpu")
    info = np.iinfo(dtype)
    for lo, hi in ((-3, 4), (-500, 500), (int(info.min), int(info.max))):  # narrow, narrow, wide
        x = rng.integers(lo, hi, 6000, endpoint=True).astype(dtype)
        y = rng.integers(lo, hi, 5000, endpoint=True).astype(dtype)
        yp, yl = y.copy(), y.copy()
        _exact(f(x.copy(), yl), counted(x.copy(), yp))
        _exact(yl, yp)
    source = looptrace.explain(f, x, y).kernel_source
    assert "small_range_sort" in source and "small_range_argsort" in source


# each dtype is a Numba specialization of the helpers (about 0.6 s each; 9.8 s of CPU for both tests over all
# seven dtypes in session 54's CI, 9.6 s over four in 0bc3f38's): by default three: the narrowest, the widest
# (test_small_range_sort_at_the_int64_extremes compiles its sort too) and one unsigned; all of them, int16
# (test_integers_of_a_narrow_range_are_counted_and_wider_ones_are_numpys_sort's slow twin) included, with -m slow
SOME_COUNTED = [np.dtype(t) for t in (np.int8, np.int64, np.uint32)]
ALL_COUNTED = sorted(cpu_sort.COUNTED_DTYPES, key=str)
SMALL_SORT = dict(n=st.integers(0, 300), span=st.integers(0, 400), at=st.floats(0.0, 1.0), in_place=st.booleans())


@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from(SOME_COUNTED), **SMALL_SORT)
def test_small_range_sort_is_the_sort_or_declines_untouched(dtype, n, span, at, in_place):
    _small_range_sort_is_the_sort_or_declines_untouched(dtype, n, span, at, in_place)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from(ALL_COUNTED), **SMALL_SORT)
def test_small_range_sort_in_every_counted_dtype(dtype, n, span, at, in_place):
    _small_range_sort_is_the_sort_or_declines_untouched(dtype, n, span, at, in_place)


def _small_range_sort_is_the_sort_or_declines_untouched(dtype, n, span, at, in_place):
    from looptrace.codegen.cpu.selection import small_range_sort

    info = np.iinfo(dtype)
    width = int(info.max) - int(info.min)
    span = min(span, width)
    lo = int(info.min) + min(int((width - span) * at), width - span)  # (a float product may round up)
    hi = lo + span
    x = np.random.default_rng(n + span).integers(lo, hi, n, endpoint=True).astype(dtype)
    out = x if in_place else np.full_like(x, 7)
    before = out.copy()
    ok = small_range_sort(x, out)
    assert ok == (n == 0 or int(x.max()) - int(x.min()) < n)
    np.testing.assert_array_equal(out, np.sort(x) if ok else before)


@settings(max_examples=25, deadline=None)
@given(dtype=st.sampled_from(SOME_COUNTED), n=st.integers(0, 300), span=st.integers(0, 400))
def test_small_range_argsort_is_the_stable_argsort_or_declines_untouched(dtype, n, span):
    _small_range_argsort_is_the_stable_argsort_or_declines_untouched(dtype, n, span)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from(ALL_COUNTED), n=st.integers(0, 300), span=st.integers(0, 400))
def test_small_range_argsort_in_every_counted_dtype(dtype, n, span):
    _small_range_argsort_is_the_stable_argsort_or_declines_untouched(dtype, n, span)


def _small_range_argsort_is_the_stable_argsort_or_declines_untouched(dtype, n, span):
    from looptrace.codegen.cpu.selection import small_range_argsort

    x = np.random.default_rng(n * 7 + span).integers(0, min(span, int(np.iinfo(dtype).max)), n,
                                                     endpoint=True).astype(dtype)
    out = np.full(n, -7, np.int64)
    ok = small_range_argsort(x, out)
    assert ok == (n == 0 or int(x.max()) - int(x.min()) < n)
    np.testing.assert_array_equal(out, np.argsort(x, kind="stable") if ok else np.full(n, -7))


def test_small_range_sort_at_the_int64_extremes():
    from looptrace.codegen.cpu.selection import small_range_sort

    top, bottom = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    for x, ok in ((np.array([bottom, top, 0]), False), (np.array([top, top - 1, top]), True),
                  (np.array([bottom + 1, bottom, bottom]), True)):
        out = np.zeros_like(x)
        assert small_range_sort(x, out) is ok
        if ok:
            np.testing.assert_array_equal(out, np.sort(x))
