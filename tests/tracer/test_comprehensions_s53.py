"""A comprehension whose element is a list of numbers (`[[f(i, j) for j in
...] for i in ...]`, `[[a, b, c] for ...]`, `[list(row) for ...]`) is a loop
traced once that stacks the rows (tracer/row_lists.py), not unrolled: before,
the outer one ran as Python and the kernel held one inner loop per row (cold
cpu compile 168 s at 40 rows). Its reads give Python's answers (lists, not
arrays); what a list does differently from an array is refused. Also: a
constant slice of a long grown list, and a jit called inside a traced
function whose lambda shares its parameter names with the caller's."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import looptrace
from looptrace.errors import UnsupportedError


def matrix(x, y):
    return np.array([
        [x[i] * y[j] - i for j in range(y.shape[0])]
        for i in range(x.shape[0])])


def returned_rows(x, y):
    return [
        [x[i] * y[j] - i for j in range(y.shape[0])]
        for i in range(x.shape[0])]


def int_rows(x):
    return [[i * j - 3 for j in range(4)] for i in range(x.shape[0])]


def read_rows(x, y):
    M = [
        [x[i] * y[j] - i for j in range(y.shape[0])]
        for i in range(x.shape[0])]
    s = 0.0
    for row in M:
        s += sum(row)
    t = 0.0
    for i in range(len(M)):
        t += M[i][1] * M[i][-1]
    return s, t, len(M), M[3][2], len(M[0]), M[-1], max(M[2])


def display_rows(x, y):
    M = [[x[i], y[i], x[i] * y[i]] for i in range(x.shape[0]) if x[i] > 0.0]
    return np.asarray(M), len(M)


def list_rows(X):
    M = [list(X[i]) for i in range(X.shape[0])]
    return np.stack(M), M[2]


def three_levels(x, y):
    T = [
        [[x[i] * y[j] + k for k in range(3)] for j in range(y.shape[0])]
        for i in range(x.shape[0])]
    return np.array(T), T[1], T[2][3]


def ragged(x, y):
    return [
        [x[i] * y[j] for j in range(i + 1)]
        for i in range(x.shape[0])]


def mixed_types(x):
    return [[i, x[i]] for i in range(x.shape[0])]


def over_rows(x, y):
    M = [
        [x[i] * y[j] for j in range(y.shape[0])]
        for i in range(x.shape[0])]
    return [sum(r) for r in M], M[:3], M[2][1:3], M[-2:]


CASES = [(matrix, "xy"), (returned_rows, "xy"), (int_rows, "x"), (read_rows, "xy"), (display_rows, "xy"),
         (list_rows, "X"), (three_levels, "xy"), (ragged, "xy"), (mixed_types, "x"), (over_rows, "xy")]


def _args(which, n, rng):
    table = {"x": rng.standard_normal(n), "y": rng.standard_normal(n), "X": rng.standard_normal((n, 5))}
    return [table[c] for c in which]


def _same(a, b):
    """Equal values of the same Python types (lists stay lists, ints ints)."""
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and np.allclose(a, b)
    return type(a) is type(b) and np.allclose(a, b)


@pytest.mark.parametrize("fn,which", CASES, ids=[c[0].__name__ for c in CASES])
def test_rows_as_python(fn, which):
    args = _args(which, 12, np.random.default_rng(3))
    assert _same(fn(*args), looptrace.jit(fn, backend="interpret")(*args))


@pytest.mark.parametrize("fn", [matrix, returned_rows, read_rows, three_levels, over_rows])
def test_rows_traced_once(fn):
    """The outer comprehension (its own line, the first of the body) is a
    loop of the program, not unrolled; so is every other loop."""
    args = _args("xy", 12, np.random.default_rng(4))
    loops = looptrace.explain(looptrace.jit(fn, backend="interpret"), *args).loops
    outer = [loop for loop in loops if loop.line == fn.__code__.co_firstlineno + 1]
    assert outer and not any("unrolled" in (loop.reason or "") for loop in loops)


def test_ragged_and_mixed_stay_python():
    """Rows whose length depends on the item, or numbers of mixed types: as Python (unrolled)."""
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal(10), rng.standard_normal(10)
    loops = looptrace.explain(looptrace.jit(ragged, backend="interpret"), x, y).loops
    line = ragged.__code__.co_firstlineno + 1  # (the outer comprehension's)
    assert [loop.reason for loop in loops if loop.line == line][0].startswith("unrolled while tracing")
    out = looptrace.jit(mixed_types, backend="interpret")(x)
    assert all(type(r[0]) is int for r in out)


def append_row(x, y):
    M = [[x[i] * y[j] for j in range(y.shape[0])] for i in range(x.shape[0])]
    M[0].append(1.0)
    return len(M[0])


def add_rows(x, y):
    M = [[x[i] * y[j] for j in range(y.shape[0])] for i in range(x.shape[0])]
    return M[0] + M[1]


def compare_rows(x, y):
    M = [[x[i] * y[j] for j in range(y.shape[0])] for i in range(x.shape[0])]
    return M[0] == M[1]


@pytest.mark.parametrize("fn,line", [(append_row, "M[0].append(1.0)"), (add_rows, "M[0] + M[1]"),
                                     (compare_rows, "M[0] == M[1]")])
def test_list_behaviour_refused(fn, line):
    """A row's length changed, or an operator where a list and an array
    differ: a clear error quoting the line, never the array's answer."""
    x, y = np.random.default_rng(6).standard_normal((2, 10))
    with pytest.raises(UnsupportedError) as e:
        looptrace.jit(fn, backend="interpret")(x, y)
    assert line in str(e.value) and "test_comprehensions_s53.py" in str(e.value)


def written(x, y):
    M = [[x[i] * y[j] for j in range(y.shape[0])] for i in range(x.shape[0])]
    r = M[0]
    M[0][1] = 5.0
    M[2][1] += 1.0
    S = M[:3]
    S[1][0] = 9.0
    s = M[1][0:2]
    s[0] = 7.0
    return r[1], np.array(M), M[2], S, s


def written_in_loops(x, y):
    G = [[0.0 for j in range(y.shape[0])] for i in range(x.shape[0])]
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            G[i][j] = x[i] * y[j]
    for i in range(1, len(G)):
        G[i][0] = G[i - 1][0] + G[i][1]
    for row in G:
        row[-1] = row[0] * 2
    C = G.copy()
    C[0][0] = 3.0
    C[1] = [1.0] * y.shape[0]
    return np.array(G), C


def written_three_levels(x, y):
    T = [[[x[i] * y[j] + k for k in range(3)] for j in range(y.shape[0])] for i in range(x.shape[0])]
    U = T[1][0:2]
    U[0][1] = 4.0
    T[2][1][0] = -1.0
    return np.array(T)


def _close(a, b):
    """Equal values, a float written (Python's float) read back as np.float64 (the stack's)."""
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_close(p, q) for p, q in zip(a, b))
    return np.shape(a) == np.shape(b) and np.allclose(a, b) and (type(a) is type(b) or isinstance(b, float))


@pytest.mark.parametrize("fn", [written, written_in_loops, written_three_levels])
def test_writes_into_rows_as_python(fn):
    """`M[i][j] = v`, through an alias, a shallow copy (M[:3], M.copy()), in
    loops of traced indices: the one list object Python's write reaches, so
    every later read sees it (was IndexError at HEAD for rows of more than 8)."""
    x, y = np.random.default_rng(12).standard_normal((2, 10))
    assert _close(fn(x, y[:4]), looptrace.jit(fn, backend="interpret")(x, y[:4]))


def array_method(x, y):
    M = [[x[i] * y[j] for j in range(y.shape[0])] for i in range(x.shape[0])]
    return M[0].sum()


def test_array_method_of_a_row_is_pythons_error():
    x, y = np.random.default_rng(7).standard_normal((2, 10))
    with pytest.raises(AttributeError, match="'list' object has no attribute 'sum'"):
        array_method(x, y)
    with pytest.raises(AttributeError, match="'list' object has no attribute 'sum'"):
        looptrace.jit(array_method, backend="interpret")(x, y)


def sliced_columns(p):
    pairs = [(p[i, 0], p[i, 1]) for i in range(p.shape[0])]
    xs, ys = zip(*pairs)
    return xs[:3], ys[-4:], len(ys), ys[-1], xs[5:2]


def sliced_appended(x):
    out = []
    for i in range(x.shape[0]):
        out.append(x[i] * 2 - i)
    return out[-5:], out[:2], sum(out[100:200]), out[::-97]


@pytest.mark.parametrize("fn,shape", [(sliced_columns, (1200, 2)), (sliced_appended, (600,))])
def test_constant_slice_of_a_long_grown_list(fn, shape):
    """`xs[:3]` of a list of 1200 appended: the slice of the stack (was refused past 256 elements)."""
    a = np.random.default_rng(8).standard_normal(shape)
    assert _same(fn(a), looptrace.jit(fn, backend="interpret")(a))


def test_grad_through_a_jit_of_the_same_parameter_name():
    """Both lambdas on one line name their parameter `x`: the inner one is
    found (the innermost holding its code), traced through, differentiated."""
    x = np.random.default_rng(9).standard_normal(5)
    g = looptrace.grad(lambda x: looptrace.jit(lambda x: math.exp(x[0]) * x[1])(x), backend="interpret")(x)
    h = 1e-6
    fd = [(math.exp(x[0] + h * (k == 0)) * (x[1] + h * (k == 1)) - math.exp(x[0] - h * (k == 0))
           * (x[1] - h * (k == 1))) / (2 * h) for k in range(5)]
    assert np.allclose(g, fd, rtol=1e-6, atol=1e-8)


@settings(max_examples=8, deadline=None)
@given(n=st.integers(9, 20), m=st.integers(1, 6), seed=st.integers(0, 1000))
def test_rows_property(n, m, seed):
    """Any item count past the Python threshold, any row length: Python's matrix and reads."""
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(n), rng.standard_normal(m)
    assert _same(matrix(x, y), looptrace.jit(matrix, backend="interpret")(x, y))
    assert _same(returned_rows(x, y), looptrace.jit(returned_rows, backend="interpret")(x, y))


def rows_cpu(x, y):
    M = [[x[i] * y[j] - i for j in range(y.shape[0])] for i in range(x.shape[0])]
    s = 0.0
    for row in M:
        s += max(row)
    return np.array(M), M[-1], s


def test_rows_cpu():
    x, y = np.random.default_rng(10).standard_normal((2, 40))
    assert _same(rows_cpu(x, y), looptrace.jit(rows_cpu, backend="cpu")(x, y))


def iterate_kept(x):
    ks = [v for v in x if v > 0]
    s = 0.0
    for k in ks:
        s += k * k
    return s


def iterate_kept_pairs(p):
    pairs = [(p[i, 0], p[i, 1]) for i in range(p.shape[0]) if p[i, 0] > 0]
    s = 0.0
    for a, b in pairs:
        s += a * b
    return s, sum(a - b for a, b in pairs), len(pairs)


def python_condition_mixed(x):
    return [(i, x[i]) for i in range(x.shape[0]) if i % 3 == 0]


@pytest.mark.parametrize("fn,shape", [(iterate_kept, (50,)), (iterate_kept_pairs, (50, 2)),
                                      (python_condition_mixed, (20,))])
def test_filtered_lists_iterated(fn, shape):
    """A list appended to under a traced condition is iterated by a loop of
    its run-time count (was refused); a filtered comprehension of tuples is
    that loop (was a TraceError: the condition run as Python); tuples of mixed
    types under a Python condition stay Python's (ints stay ints)."""
    a = np.random.default_rng(11).standard_normal(shape)
    assert _same(fn(a), looptrace.jit(fn, backend="interpret")(a))


def squared_row_sums(x, y):
    M = [[x[i] * y[j] - i for j in range(y.shape[0])] for i in range(x.shape[0])]
    s = 0.0
    for row in M:
        s += sum(row) ** 2
    return s + np.sum(np.array(M) ** 2)


def test_rows_gradient():
    """The rows' loop traced once is differentiated as any loop (central differences, float64)."""
    x, y = np.random.default_rng(13).standard_normal((2, 10))
    g = looptrace.grad(squared_row_sums, backend="interpret")(x, y)
    h = 1e-6
    fd = [(squared_row_sums(x + h * e, y) - squared_row_sums(x - h * e, y)) / (2 * h) for e in np.eye(10)]
    assert np.allclose(g, fd, rtol=1e-5, atol=1e-6)
