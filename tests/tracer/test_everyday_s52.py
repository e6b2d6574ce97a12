"""Everyday styles from the s52 corpus module (bench/corpus/everyday.py): a
generator expression reduced inside a comprehension's element, a loop over
x.tolist(), the cap on comprehensions unrolled while tracing, and the hints
of the errors that stay (a dict keyed by traced values, sorted() by a traced
key, an array grown under a condition). Each against the plain function on
fresh random data."""
import copy
import math
import warnings

import numpy as np
import pytest

import looptrace
from bench.corpus.everyday import nonlocal_counter
from looptrace.errors import UnrollWarning


def _check(f, *args, backend="interpret", rtol=1e-12):
    """f's jitted values and argument effects equal the plain function's; no loop unrolled."""
    expected = f(*copy.deepcopy(args))
    jargs = copy.deepcopy(args)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnrollWarning)
        got = looptrace.jit(f, backend=backend)(*jargs)
    _same(got, expected, rtol)
    for a, b in zip(jargs, args):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
    return got


def _same(got, expected, rtol):
    if isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _same(g, e, rtol)
        return
    assert type(got) is type(expected) or np.asarray(got).dtype == np.asarray(expected).dtype, (got, expected)
    np.testing.assert_allclose(got, expected, rtol=rtol)


# --- sum/any/all of a generator inside a comprehension's element: traced once ------------------

def _row_norms(X):
    return np.array([math.sqrt(sum(v * v for v in row)) for row in X])


def _triangle_sums(X):
    return np.array([sum(X[i, j] for j in range(i + 1)) for i in range(X.shape[0])])


def _rows_any(X, t):
    return np.array([any(v > t for v in row) for row in X])


def _nested_sum(X):
    return sum(sum(v for v in row) for row in X)


def _distinct_so_far(x):
    return np.array([all(x[i] != x[j] for j in range(i)) for i in range(x.shape[0])])


def _filtered(X):
    return np.array([sum(v for v in row if v > 0) for row in X if row[0] > 0])


def _suffix_sums(x):
    return [sum((x[j] for j in range(i, x.shape[0])), 0.5) for i in range(x.shape[0])]


@pytest.mark.parametrize("seed", [0])
def test_reduced_generator_in_a_comprehension_is_traced_once(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((150, 6))
    _check(_row_norms, X)
    _check(_triangle_sums, rng.standard_normal((40, 40)))
    _check(_rows_any, X, 1.2)
    _check(_nested_sum, X)
    _check(_distinct_so_far, rng.integers(0, 60, 130))
    _check(_filtered, X)
    _check(_suffix_sums, rng.standard_normal(120))


def test_reduced_generator_in_a_comprehension_explains_one_loop():
    X = np.random.default_rng(2).standard_normal((300, 4))
    e = looptrace.explain(looptrace.jit(_row_norms, backend="interpret"), X)
    assert all("unrolled" not in l.reason for l in e.loops), e.loops


# --- x.tolist(): the list a loop traced once grows --------------------------------------------

def _tolist_scan(x):
    vals = x.tolist()
    best, total = -math.inf, 0.0
    for v in vals:
        total += v
        if v > best:
            best = v
    return total, best, len(vals), vals[-1], vals[3]


def _tolist_builtins(x):
    vals = x.tolist()
    return sum(vals), max(vals), min(vals)


def _tolist_f32(x32):
    s = 0.0  # the items are Python floats: float64, not float32
    for v in x32.tolist():
        s += v
    return s


def _tolist_ints(xi):
    t = 0
    for v in xi.tolist():
        if v % 3 == 0:
            t += v // 3
    return t


def _tolist_bools(m):
    c = 0
    for v in m.tolist():
        if v:
            c += 1
    return c


def _tolist_then_append(x):
    vals = x.tolist()
    vals.append(1.5)
    return np.array(vals) * 2, [v * 2 for v in x.tolist()], x[:0].tolist()


def _tolist_2d(X):
    return sum(sum(r) for r in X.tolist())


def test_a_loop_over_tolist_is_traced_once():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(300)
    _check(_tolist_scan, x)
    _check(_tolist_builtins, x)
    got = _check(_tolist_f32, x.astype(np.float32), rtol=1e-12)
    assert isinstance(got, float)
    assert isinstance(_check(_tolist_ints, rng.integers(-50, 50, 300)), int)
    assert isinstance(_check(_tolist_bools, x > 0.3), int)
    _check(_tolist_then_append, x)
    _check(_tolist_2d, rng.standard_normal((6, 5)))  # (2-D: small, still one list per row)


# --- a comprehension that must run as Python: refused past COMP_UNROLL_LIMIT items -----------

def _pairs_then_zip(pts):
    pairs = [(pts[i, 0], pts[i, 1]) for i in range(pts.shape[0])]
    xs, ys = zip(*pairs)
    return np.array(xs) - np.array(ys)


def test_a_long_unrolled_comprehension_is_a_clear_error():
    from looptrace.tracer.runtime import COMP_UNROLL_LIMIT

    rng = np.random.default_rng(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnrollWarning)
        _check(_pairs_then_zip, rng.standard_normal((12, 2)))
    _check(_pairs_then_zip, rng.standard_normal((1500, 2)))  # (tuples of numbers: traced once since s53)
    with pytest.raises(looptrace.UnsupportedError, match="would be unrolled over 1500 items") as e:
        looptrace.jit(_rows_and_sums, backend="interpret")(rng.standard_normal((1500, 2)))
    text = str(e.value)
    assert "test_everyday_s52.py" in text and "pairs = [(pts[i], pts[i, 0])" in text and "`for` loop" in text
    assert COMP_UNROLL_LIMIT < 1500


def _rows_and_sums(pts):
    pairs = [(pts[i], pts[i, 0]) for i in range(pts.shape[0])]  # tuples holding an array: run as Python
    return len(pairs)


# --- errors that stay: their hints say what to write --------------------------------------------

def _dict_counts(labels, n):
    counts = {}
    for i in range(labels.shape[0]):
        k = int(labels[i])
        counts[k] = counts.get(k, 0) + 1
    out = np.zeros(n, dtype=np.int64)
    for k, v in counts.items():
        out[k] = v
    return out


def _bisect_values(x, t):
    import bisect

    return bisect.bisect_left(sorted(x.tolist()), t)


def _grow_if(x, t):
    out = np.zeros(0)
    for i in range(x.shape[0]):
        if x[i] > t:
            out = np.append(out, x[i])
    return out


def _grow_list(x, t):
    out = []
    for i in range(x.shape[0]):
        if x[i] > t:
            out.append(x[i])
    return np.array(out)


@pytest.mark.parametrize("f, args, line, hint", [
    (_dict_counts, (np.arange(30) % 7, 7), "counts[k] = counts.get(k, 0) + 1", "np.bincount"),
])
def test_errors_that_stay_name_the_line_and_what_to_write(f, args, line, hint):
    with pytest.raises(looptrace.LooptraceError) as e:
        looptrace.jit(f, backend="interpret")(*args)
    text = str(e.value)
    assert "test_everyday_s52.py" in text and line in text and hint in text, text


def test_bisect_of_traced_values_is_pythons():
    """bisect is CPython's loop traced once since session 53 (tracer/pybisect.py; it was refused)."""
    x = np.linspace(1.0, -1.0, 40)
    assert looptrace.jit(_bisect_values, backend="interpret")(x, 0.1) == _bisect_values(x, 0.1)


def test_what_the_grow_hint_suggests_works():
    """(and np.append under the `if` itself since s54: tracer/grown_arrays.py rewrites it to that)"""
    x = np.random.default_rng(5).standard_normal(200)
    _check(_grow_list, x, 0.2)
    _check(_grow_if, x, 0.2)


def test_the_corpus_judge_compares_dicts_by_value():
    from bench.corpus.run import same

    a = {"mean": np.float64(0.1), "n": 3}
    assert same({"mean": np.float64(0.1 + 1e-17), "n": 3}, a, 1e-9)
    assert not same({"mean": np.float64(0.2), "n": 3}, a, 1e-9)
    assert not same({"mean": np.float64(0.1)}, a, 1e-9)


# --- cpu: one compile for the two conversions ------------------------------------------------

def _both(X, x):
    norms = np.array([math.sqrt(sum(v * v for v in row)) for row in X])
    best = -math.inf
    for v in x.tolist():
        if v > best:
            best = v
    return norms, best


def test_cpu_reduced_generator_and_tolist(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(6)
    _check(_both, rng.standard_normal((500, 5)), rng.standard_normal(400), backend="cpu")


def _return_lists(x, xi):
    return x.tolist(), xi.tolist(), [v * 2 for v in x.tolist()], (x > 0).tolist(), x[:5].tolist()


def test_returned_long_lists_keep_python_items():
    rng = np.random.default_rng(7)
    x, xi = rng.standard_normal(300), rng.integers(-9, 9, 300)
    got, expected = looptrace.jit(_return_lists, backend="interpret")(x, xi), _return_lists(x, xi)
    for g, e in zip(got, expected):
        assert type(g) is list and g == e
        assert [type(v) for v in g] == [type(v) for v in e]


# --- sorted() of many traced numbers, and key functions called as the user's code -----------------

def _order_by_key(x):
    return np.array(sorted(range(x.shape[0]), key=lambda i: x[i]))


def _order_reverse(x):
    return sorted(range(x.shape[0]), key=lambda i: x[i], reverse=True)


def _order_stepped(xi):
    return sorted(range(xi.shape[0] - 1, -1, -2), key=lambda i: -abs(int(xi[i])), reverse=True)


def _key_with_int(xi):
    return max(range(xi.shape[0]), key=lambda i: int(xi[i]) % 5), min(range(6), key=lambda i: int(xi[i]))


def _sorted_values(x, xi):
    vals = sorted(x.tolist(), reverse=True)
    return sorted(x), vals, sorted(xi.tolist()), sorted(x > 0), vals[0] - vals[-1], len(vals)


def _sorted_f32(x32):
    s = sorted(x32)
    return s[0] + 1.0, s


@pytest.mark.parametrize("seed", [0])
def test_sorted_of_many_traced_numbers(seed):
    rng = np.random.default_rng(seed + 10)
    x = np.round(rng.standard_normal(40), 1)  # (ties: the order among equal keys is Python's)
    x[[3, 7]], x[5] = 0.0, -0.0
    xi = rng.integers(-6, 6, 41).astype(np.int32)
    _check(_order_by_key, x)
    _check(_order_reverse, x)
    _check(_order_stepped, xi)
    _check(_key_with_int, xi)
    got = _check(_sorted_values, x, rng.integers(0, 9, 30).astype(np.uint8))
    assert [str(v) for v in got[1]] == [str(v) for v in _sorted_values(x, xi)[1]]  # -0.0 where Python has it
    assert [type(v) for v in got[0]] == [np.float64] * 40 and type(got[1][0]) is float
    got = _check(_sorted_f32, x.astype(np.float32))
    assert type(got[1][0]) is np.float32


def test_sorted_of_a_nan_is_refused_at_run_time():
    x = np.random.default_rng(12).standard_normal(30)
    f = looptrace.jit(_order_by_key, backend="interpret")
    f(x)
    x[4] = np.nan
    with pytest.raises(looptrace.UnsupportedError, match="NaN"):
        f(x)


@pytest.mark.parametrize("t", [0.3, 10.0, -10.0])
def test_a_python_float_or_numpy_tag_is_a_reduction_not_a_scan(t):
    """`s` stays a Python float until a call returns x[i] (np.float64): the tag of that kind,
    `select(flag, 1, 0)` of a flag not read from the loop, was not followed by the kinds' fold
    (tracer/kinds.py as_reduction) and the loop stayed a scan (0.39x numba.njit)."""
    x = np.random.default_rng(1).standard_normal(300)
    jitted = looptrace.jit(nonlocal_counter, backend="interpret")
    got, want = jitted(x, t), nonlocal_counter(x, t)
    assert [type(v) for v in got] == [type(v) for v in want] and got[1] == want[1]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    assert [r.kind for r in looptrace.explain(jitted, x, t).loops] == ["reduction"]
