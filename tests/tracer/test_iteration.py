"""Iteration captured once, never unrolled: np.ndindex, np.ndenumerate,
itertools.product, .flat, and enumerate/zip of them and of arrays, traced as
loop nests; a Python-level loop that must be unrolled (over a list) is
reported by explain and warns past a threshold."""

import itertools
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace

from ._loopcheck import check


def ndindex_map(x):
    out = np.zeros_like(x)
    for i, j in np.ndindex(x.shape):
        out[i, j] = x[i, j] * (i + 1) - j
    return out


def ndindex_tuple_index(x):
    s = 0.0
    for idx in np.ndindex(*x.shape):
        s += x[idx] * x[idx]
    return s


def ndenumerate_weighted(x):
    s = 0.0
    for idx, v in np.ndenumerate(x):
        s += v * idx[0] - idx[-1]
    return s


def product_ranges(x):
    acc = np.zeros(x.shape[0])
    for i, j in itertools.product(range(x.shape[0]), range(1, x.shape[1], 2)):
        acc[i] += x[i, j]
    return acc


def product_repeat(v):
    m = np.zeros((v.shape[0], v.shape[0]))
    for i, j in itertools.product(range(v.shape[0]), repeat=2):
        m[i, j] = v[i] * v[j]
    return m


def product_of_arrays(a, b):
    s = 0.0
    for p, q in itertools.product(a, b):
        s += p * q
    return s


def flat_iteration(x):
    t = 0.0
    for k, v in enumerate(x.flat):
        t += v * k
    y = x.copy()
    y.flat[3] = 7.0
    return t, y, x.flat[5], x.flat[-1]


def flat_traced_index(x, k):
    y = np.zeros_like(x)
    y.flat[k] = x.flat[k + 1]
    return y


def zip_flats(x, y):
    s = 0.0
    for a, b in zip(x.flat, y.flat):
        s += a * b
    return s


def enumerate_zip_arrays(x, y):
    out = np.zeros_like(x)
    for i, (a, b) in enumerate(zip(x, y)):
        out[i] = a * b + i
    return out


def count_over(x):
    c = 0
    for idx in np.ndindex(*x.shape):
        if x[idx] > 1.0:
            c += 1
    return c


def first_over(x):
    for i, j in np.ndindex(x.shape):
        if x[i, j] > 1.5:
            return i, j
    return -1, -1


def break_in_nest(x):
    s = 0.0
    for i, j in np.ndindex(x.shape):
        if s > 2:
            break
        s += abs(x[i, j])
    return s


def concrete_uses(x):
    return list(np.ndindex(2, 2)), [idx for idx, _ in np.ndenumerate(x)][:2], sum(1 for _ in np.ndindex(()))


def three_levels(x):
    out = np.zeros(x.shape[0])
    for i, j, k in np.ndindex(x.shape):
        out[i] += x[i, j, k] * (j - k)
    return out


def enumerate_product_steps(x):
    s = 0.0
    for k, (i, j) in enumerate(itertools.product(range(1, x.shape[0], 2), range(x.shape[1] - 1, -1, -1)), 3):
        s += x[i, j] * k
    for k, v in enumerate(x.flat, 1):
        s -= v / k
    return s


CASES = [(ndindex_map, [(4, 5)]), (ndindex_tuple_index, [(3, 4)]), (ndenumerate_weighted, [(3, 4)]),
         (product_ranges, [(4, 6)]), (product_repeat, [(5,)]), (product_of_arrays, [(3,), (4,)]),
         (flat_iteration, [(3, 4)]), (zip_flats, [(3, 4), (3, 4)]), (enumerate_zip_arrays, [(5,), (5,)]),
         (count_over, [(4, 5)]), (first_over, [(4, 5)]), (break_in_nest, [(4, 5)]), (concrete_uses, [(2, 3)]),
         (three_levels, [(2, 3, 4)]), (enumerate_product_steps, [(5, 3)])]


@pytest.mark.parametrize("fn,shapes", CASES, ids=[fn.__name__ for fn, _ in CASES])
def test_iteration_matches_plain(fn, shapes, rng):
    check(fn, *[rng.standard_normal(s) for s in shapes])


def test_flat_with_a_traced_index(rng):
    check(flat_traced_index, rng.standard_normal((3, 4)), 5)
    check(flat_traced_index, rng.standard_normal((3, 4)), np.int64(2))


@pytest.mark.parametrize("fn", [ndindex_map, product_ranges, ndenumerate_weighted, flat_iteration])
def test_nests_are_traced_once(fn, rng):
    """Trace time and program size do not grow with the number of iterations."""
    small, large = rng.standard_normal((3, 4)), rng.standard_normal((120, 120))
    n_small = _n_ops(fn, small)
    t = time.perf_counter()
    n_large = _n_ops(fn, large)
    assert time.perf_counter() - t < 2.0
    assert n_large == n_small


def _n_ops(fn, x) -> int:
    from looptrace.ir.core import walk

    program = looptrace.jit(fn, backend="interpret").trace([x])
    return sum(1 for _ in walk(program.body))


def test_nest_loops_are_reported_once(rng):
    e = looptrace.explain(looptrace.jit(ndindex_map, backend="interpret"), rng.standard_normal((4, 5)))
    assert [l.kind for l in e.loops] == ["vectorized"]
    e = looptrace.explain(looptrace.jit(count_over, backend="interpret"), rng.standard_normal((4, 5)))
    assert len(e.loops) == 1


def test_ndindex_nest_120x120_on_the_cpu_backend(rng):
    x = rng.standard_normal((120, 120))
    f = looptrace.jit(ndindex_map, backend="cpu")
    t = time.perf_counter()
    check(ndindex_map, x, jitted=f)
    assert time.perf_counter() - t < 60  # compiles in seconds (unrolled, it never finished)
    check(count_over, x)


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3), seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from(["map", "sum", "max", "product"]))
def test_generated_nests(shape, seed, kind):
    x = np.random.default_rng(seed).standard_normal(shape)
    check(_generated[kind], x)


def _gen_map(x):
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        out[idx] = x[idx] * 2 + sum(idx)
    return out


def _gen_sum(x):
    s = 0.0
    for idx, v in np.ndenumerate(x):
        s = s + v * (len(idx) + 1)
    return s


def _gen_max(x):
    m = -np.inf
    for v in x.flat:
        m = max(m, v)
    return m


def _gen_product(x):
    s = np.zeros(x.shape[-1])
    for p in itertools.product(*[range(d) for d in x.shape]):
        s[p[-1]] += x[p]
    return s


_generated = {"map": _gen_map, "sum": _gen_sum, "max": _gen_max, "product": _gen_product}


# --- loops that must be unrolled ------------------------------------------------------------------
def over_python_list(x, n):
    weights = [0.5 * k for k in list(range(n))]  # (over a list: Python's comprehension, then a loop over a list)
    s = 0.0
    for w in weights:
        s = s * 0.9 + w * x[0]
    return s


def test_unrolled_loop_is_reported_and_warns_past_a_threshold(rng):
    x = rng.standard_normal(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = check(over_python_list, x, 5)  # short: no warning
    e = looptrace.explain(f, x, 5)
    assert e.loops[0].kind == "vectorized" and "unrolled while tracing" in e.loops[0].reason
    assert "5 iterations" in e.loops[0].reason
    with pytest.warns(looptrace.UnrollWarning, match="unrolled while tracing") as w:
        check(over_python_list, x, 150)
    assert "for w in weights:" in str(w[0].message)


def lu_in_place(A):
    """npbench's lu with its dot products over reversed slices, reversed by
    indexing (`[::-1]`): indexing a slice needs its length, which is a loop
    index, so both loops are unrolled while tracing (n + n*n/2 bodies).
    (np.flip of such a slice no longer needs it: test_varying_slices.py.)"""
    for i in range(A.shape[0]):
        for j in range(i):
            A[i, j] -= A[i, :j][::-1] @ A[:j, j][::-1]
            A[i, j] /= A[j, j]
        for j in range(i, A.shape[0]):
            A[i, j] -= A[i, :i][::-1] @ A[:i, j][::-1]


def test_nested_unrolling_is_bounded(rng):
    """A small triangular nest is unrolled and runs as the plain function; a
    larger one (at n = 60 its Numba compile ran past 300 s) is the clear
    error of the slice whose length the index decides, with a note why."""
    from looptrace.tracer.control import UNROLL_TOTAL

    a = rng.random((6, 6)) + 6 * np.eye(6)
    check(lu_in_place, a)
    big = rng.random((16, 16)) + 16 * np.eye(16)  # 16 + 16 * 17 = 288 bodies
    assert 16 + 16 * 17 > UNROLL_TOTAL
    with pytest.raises(looptrace.TraceError, match="length of this slice") as e:
        looptrace.jit(lu_in_place, backend="interpret")(big)
    assert any(f"more than {UNROLL_TOTAL} copies of loop bodies" in n for n in e.value.__notes__)


def test_product_over_a_python_list_runs_as_python(rng):
    def f(x):
        s = 0.0
        for i, w in itertools.product(range(x.shape[0]), [0.5, 2.0]):
            s += x[i] * w
        return s

    check(f, rng.standard_normal(4))


def doubled(x):
    return x * 2.0


def _sourceless(fn):
    """`fn` made again by exec of its source text: no file, no linecache entry."""
    import inspect

    ns = {"np": np}
    exec(compile(inspect.getsource(fn), "<generated>", "exec"), ns)
    return ns[fn.__name__]


def test_a_function_without_source_warns_that_its_loops_are_unrolled(rng):
    """exec of a string (no file, no linecache entry): looptrace cannot
    convert the function, so its loop runs while tracing. Say so, once, and
    in explain; straight-line code traces the same and is not warned about."""
    from bench.memory_churn import smooth

    smooth, twice = _sourceless(smooth), _sourceless(doubled)
    x = rng.standard_normal(30)
    f = looptrace.jit(smooth, backend="interpret")
    with pytest.warns(looptrace.UnrollWarning, match="cannot read the source of smooth") as w:
        np.testing.assert_allclose(f(x), smooth(x), rtol=1e-12)
    assert "<generated>" in str(w[0].message)
    assert any("loops are unrolled" in n for n in f.explain(x).notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(looptrace.jit(twice, backend="interpret")(x), 2.0 * x)
        f(rng.standard_normal(31))  # once per function


def three_rates(y, a, b):
    out = np.empty((3,))
    out[0] = y[0] * (1.0 - y[0]) - a * y[0] * y[1]
    out[1] = np.exp(-b * y[1]) + y[2]
    out[2] = np.sum(y) * a
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_function_without_source_still_traces_numpy_calls(rng, backend):
    """Unconverted, it runs as Python while tracing, but with NumPy's names
    resolved to looptrace's: np.empty gives a traced array that traced values
    are written into (it was a NumPy array: `setting an array element with a
    sequence`)."""
    fn = _sourceless(three_rates)
    y = rng.uniform(0.1, 0.9, 3)
    f = looptrace.jit(fn, backend=backend)
    for a, b in ((0.3, 1.2), (np.float64(0.7), np.float64(0.1))):
        np.testing.assert_allclose(f(y, a, b), three_rates(y, a, b), rtol=1e-12)
    assert not f.explain(y, 0.3, 1.2).notes or all("unrolled" not in n for n in f.explain(y, 0.3, 1.2).notes)


def _strided_rows(x, n, s):
    out = np.zeros((len(range(3, n, s)),) + x.shape)
    k = 0
    for t in range(3, n, s):
        out[k] = x * t
        k += 1
    return out, len(range(n, 2, -3)), len(range(1, n, s))


@pytest.mark.parametrize("n", [20, 3, 2, -4])
@pytest.mark.parametrize("s", [1, 2, 5])
def test_len_of_a_range_with_traced_bounds(n, s, rng):
    """len(range(...)) of traced ints is Python's count (0 when empty); where
    it sizes an array, the int is specialized (one version per value)."""
    x = rng.normal(size=3)
    got = looptrace.jit(_strided_rows, backend="interpret")(x, n, s)
    want = _strided_rows(x, n, s)
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1:] == want[1:]


def test_len_of_a_range_with_a_traced_step_of_either_sign():
    def f(x, a, b, s):
        return x * len(range(a, b, s))

    g = looptrace.jit(f, backend="interpret")
    for a, b, s in [(0, 10, 3), (10, 0, -3), (10, 0, 3), (0, 10, -1), (-5, 5, 4), (5, -5, -4)]:
        assert g(1.0, a, b, s) == f(1.0, a, b, s)
