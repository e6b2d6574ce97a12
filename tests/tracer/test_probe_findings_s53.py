"""Wrong answers and crashes probe R found (bench/corpus/probe_s53.py), each
against the plain function: np.array(lst, dtype=...) and np.stack of a list
grown under a condition that ends up empty (NumPy's (0,) array, and its
ValueError); ufunc.reduce / accumulate with dtype= (the result's dtype,
bool accumulators, NumPy's TypeError for the logical ufuncs); np.vstack /
hstack / column_stack / dstack of a list grown under a condition (they
crashed on its run-time length)."""
import warnings

import numpy as np
import pytest

import looptrace
from looptrace.errors import LooptraceError, UnsupportedError


def _outcome(fn, *args):
    """What fn(*args) gives: its value, or the class and message of what it raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)
    except LooptraceError:
        raise
    except Exception as e:  # (NumPy's errors: the compiled function must raise the same)
        return (type(e), str(e))


def _same(expected, got):
    if isinstance(expected, tuple) and expected and isinstance(expected[0], type):
        # (NumPy's class; a ValueError's message too: a TypeError's names NumPy's loops and casting rules)
        assert isinstance(got, tuple) and got[0] is expected[0], (expected, got)
        assert got[0] is not ValueError or got[1] == expected[1], (expected, got)
        return
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for e, g in zip(expected, got):
            _same(e, g)
        return
    assert type(got) is type(expected) or isinstance(got, np.ndarray) and isinstance(expected, np.ndarray)
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape and got.dtype == expected.dtype, (got, expected)
    np.testing.assert_allclose(got, expected)


def _check(fn, backend, *calls):
    jitted = looptrace.jit(fn, backend=backend)
    for args in calls:
        _same(_outcome(fn, *args), _outcome(jitted, *args))


# --- 1. lists grown under a condition that end up empty ----------------------------------------------
def pairs_as_int_array(X, t):
    pairs = []
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] > t:
                pairs.append((i, j))
    return np.array(pairs, dtype=np.int64)


def rows_as_float32_array(X, t):
    rows = []
    for i in range(X.shape[0]):
        if X[i].sum() > t:
            rows.append(X[i] * 2.0)
    return np.asarray(rows, dtype=np.float32)


def numbers_as_int_array(X, t):
    picked = []
    for i in range(X.shape[0]):
        if X[i, 0] > t:
            picked.append(X[i, 1] * 3.0)
    return np.array(picked, dtype=np.int32)


def rows_stacked(X, t):
    rows = []
    for i in range(X.shape[0]):
        if X[i].sum() > t:
            rows.append(X[i] * 2.0)
    return np.stack(rows), np.stack(rows, axis=1), np.vstack(rows), np.column_stack(rows), np.dstack(rows)


def rows_concatenated_2d(X, t):
    rows = []
    for i in range(X.shape[0]):
        if X[i].sum() > t:
            rows.append(X[i] * 2.0)
    return np.vstack(rows)


@pytest.mark.parametrize("fn", [pairs_as_int_array, rows_as_float32_array, numbers_as_int_array, rows_stacked,
                                rows_concatenated_2d])
def test_an_empty_grown_list_is_numpys(fn):
    """t=0.5 appends some, t=100 none: NumPy's empty array is (0,) of the dtype asked for, and np.stack /
    np.vstack of nothing raise NumPy's ValueError (at run time, from the run's count)."""
    X = np.random.default_rng(3).standard_normal((9, 4))
    _check(fn, "interpret", (X, 0.5), (X, 100.0), (X, -100.0))


# rows_stacked: slow, the grown list's buffer lowering (codegen/cpu/indexing.py `_reserve_lower`) is
# pairs_as_int_array's and tests/codegen/test_cpu_list_growth.py's; np.stack's empty case runs on the interpreter above.
@pytest.mark.parametrize("fn", [pairs_as_int_array, pytest.param(rows_stacked, marks=pytest.mark.slow)],
                         ids=lambda f: f.__name__)
def test_grown_list_consumers_compiled(fn):
    """One cpu kernel per consumer family, filled and empty."""
    X = np.random.default_rng(4).standard_normal((9, 4))
    _check(fn, "cpu", (X, 0.5), (X, -100.0), (X, 100.0))


# --- 2. ufunc.reduce / accumulate with dtype= ----------------------------------------------------------
UFUNCS = ["add", "multiply", "maximum", "minimum", "logical_and", "logical_or", "bitwise_and", "bitwise_or",
          "bitwise_xor"]


def _ufunc_method(name, method, dtype, axis):
    def f(x):
        return getattr(getattr(np, name), method)(x, axis=axis, dtype=dtype)
    return f


@pytest.mark.parametrize("name", UFUNCS)
@pytest.mark.parametrize("method", ["reduce", "accumulate"])
def test_ufunc_method_with_dtype(name, method):
    """The result's dtype is the one asked for (np.add.reduce(x, dtype=np.int8) wraps in int8), a bool
    accumulator is NumPy's `or` / `and` of the values made bool (0.5 and -3 + 3 are True), and the
    logical ufuncs' loops take bool only (NumPy's TypeError)."""
    rng = np.random.default_rng(5)
    xs = [rng.integers(-100, 100, (4, 6)).astype(np.int8), rng.standard_normal((4, 6)) * 0.8,
          rng.random((4, 6)) > 0.5]
    for k, dtype in enumerate((None, np.int8, np.int16, np.float32, np.bool_)):
        f = _ufunc_method(name, method, dtype, k % 2)
        jitted = looptrace.jit(f, backend="interpret")
        for x in xs:
            _same(_outcome(f, x), _outcome(jitted, x))


def narrow_reductions(x, b):
    return (np.add.reduce(x, dtype=np.int8), np.multiply.reduce(x, axis=1, dtype=np.int16),
            np.add.accumulate(b, dtype=np.bool_), np.bitwise_xor.accumulate(x, axis=1),
            np.maximum.reduce(x, dtype=np.int16), np.add.reduce(x, initial=3, where=x > 0, dtype=np.int8))


def test_ufunc_methods_with_dtype_compiled():
    rng = np.random.default_rng(6)
    x = rng.integers(-100, 100, (5, 7)).astype(np.int8)
    _check(narrow_reductions, "cpu", (x, rng.standard_normal(9)))


# --- 3. joins of a list grown under a condition ---------------------------------------------------------
def _joined_rows(join):
    def f(X, t):
        rows = []
        for i in range(X.shape[0]):
            if X[i].sum() > t:
                rows.append(X[i] * 2.0)
        return join(rows)
    return f


def _joined_numbers(join):
    def f(X, t):
        picked = []
        for i in range(X.shape[0]):
            if X[i, 0] > t:
                picked.append(X[i, 1] - 1.0)
        return join(picked)
    return f


def _joined_matrices(join):
    def f(X, t):
        blocks = []
        for i in range(X.shape[0] - 1):
            if X[i].sum() > t:
                blocks.append(X[i:i + 2] * 2.0)
        return join(blocks)
    return f


# (the joins whose lifted items have a length-1 axis at the join: a stack of the items, moved)
JOINS = {"vstack": np.vstack, "column_stack": np.column_stack, "dstack": np.dstack, "hstack_numbers": np.hstack}


@pytest.mark.parametrize("name", sorted(JOINS))
def test_joins_of_a_conditionally_grown_list(name):
    join = JOINS[name]
    X = np.random.default_rng(7).standard_normal((9, 4))
    makers = [_joined_numbers] if name == "hstack_numbers" else [_joined_rows, _joined_numbers]
    if name == "dstack":
        makers.append(_joined_matrices)
    for make in makers:
        _check(make(join), "interpret", (X, 0.5), (X, -100.0), (X, 100.0))


def rows_after_a_row(X, t):
    rows = [X[0] - 1.0]
    for i in range(X.shape[0]):
        if X[i].sum() > t:
            rows.append(X[i] * 2.0)
    return np.vstack(rows), np.column_stack(rows)


def test_joins_of_a_row_and_a_conditionally_grown_list():
    X = np.random.default_rng(7).standard_normal((9, 4))
    _check(rows_after_a_row, "interpret", (X, 0.5), (X, 100.0))


def test_a_join_that_merges_the_run_time_axis_is_refused():
    """np.hstack of rows joins them end to end: a length of count * 4, which looptrace's shapes cannot
    hold; refused with a looptrace error, not a TypeError from inside."""
    X = np.random.default_rng(8).standard_normal((9, 4))
    with pytest.raises(UnsupportedError, match="appended to under a condition"):
        looptrace.jit(_joined_rows(np.hstack), backend="interpret")(X, 0.5)


def summed_rows(X, t):
    rows = []
    for i in range(X.shape[0]):
        if X[i].sum() > t:
            rows.append(X[i] * 2.0)
    return np.array(rows, dtype=np.float64).sum(), np.array(rows).prod(), np.array(rows).any()


def test_whole_reductions_of_a_maybe_empty_array():
    """x.sum() / prod() / any() of np.array(lst) are the same for the items' (0, 4) array and NumPy's (0,)
    one when the dtypes agree: allowed; its shape is not."""
    X = np.random.default_rng(10).standard_normal((9, 4))
    _check(summed_rows, "interpret", (X, 0.5), (X, 100.0))


def shape_of_rows(X, t):
    rows = []
    for i in range(X.shape[0]):
        if X[i].sum() > t:
            rows.append(X[i] * 2.0)
    return np.array(rows, dtype=np.float32).shape[0]


def test_the_shape_of_a_maybe_empty_array_is_refused():
    X = np.random.default_rng(11).standard_normal((9, 4))
    with pytest.raises(UnsupportedError, match="would depend on the data"):
        looptrace.jit(shape_of_rows, backend="interpret")(X, 0.5)


def losses_summary(X, t):
    losses = []
    for i in range(X.shape[0]):
        if X[i, 0] > t:
            losses.append(X[i, 1] ** 2)
    return np.sum(losses), np.mean(losses), np.std(losses), np.var(losses, ddof=1), np.max(losses)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_numpy_reductions_of_a_conditionally_grown_list_of_floats(backend):
    """np.sum / mean / std / var / max of float numbers appended under a condition: over the run's count
    (the array is the same (n,) float64 whether empty or not); empty, np.max raises NumPy's ValueError."""
    X = np.random.default_rng(12).standard_normal((11, 2))
    _check(losses_summary, backend, (X, 0.3), (X, -100.0), (X, 100.0))


def int_sum(X, t):
    picked = []
    for i in range(X.shape[0]):
        if X[i, 0] > t:
            picked.append(i)
    return np.sum(picked)


def test_numpy_sum_of_a_conditionally_grown_list_of_ints_is_refused():
    """Empty, NumPy's array is float64 (np.sum gives 0.0), else int64: the type would depend on the data."""
    X = np.random.default_rng(13).standard_normal((11, 2))
    with pytest.raises(UnsupportedError, match="appended to under a condition"):
        looptrace.jit(int_sum, backend="interpret")(X, 0.3)
