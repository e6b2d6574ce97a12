"""Lists held as one traced array (a Segment: `x.tolist()`, a list a loop grew,
a list argument of 65+ numbers) under Python's own list operations, which saw
the Segment object (session 55, helper V1): `x.tolist() == x.tolist()` was
False and `str(lst)` '[<100 elements appended in a loop>]'. Each operation
gives the plain function's answer or a clear looptrace error. Also: whole
slices of an axis of a run-time length (`R[:, :1]`: a Python TypeError
before) and lambdas converted from the cached file tree (convert._WHOLE)."""
import ast

import numpy as np
import pytest

import looptrace
from looptrace.errors import LooptraceError, TraceError, UnsupportedError

N = 70  # (a list argument of 65 or more numbers is held as one array: pytree.number_list)


def _x(seed=0, n=N):
    x = np.random.default_rng(seed).standard_normal(n)
    x[3] = 0.5
    return x


def _run(f, *args):
    return looptrace.jit(f, backend="interpret")(*args)


def _same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    return a == b or a != a and b != b


def _check(f, *args):
    want = f(*(list(a) if isinstance(a, list) else a.copy() for a in args))
    got = _run(f, *args)
    assert _same(want, got), (want, got)


# --- == and != ----------------------------------------------------------------------------------
def tolists_equal(x, y):
    return x.tolist() == y.tolist(), x.tolist() != y.tolist(), x.tolist() == [float(v) for v in y]


def grown_equal(x, y):
    a = []
    for i in range(x.shape[0]):
        a.append(x[i] * 2.0)
    b = [v * 2.0 for v in y]
    return a == b, a != b, a == a, a == b[:-1], a == tuple(b), a == [], [1.5] + a == [1.5] + b


def argument_equal(xs, ys):
    return xs == ys, xs != ys, xs == list(ys), xs[:5] == ys[:5], xs == ys + [1.0]


def test_equal_lists_held_as_one_array_compare_values():
    x = _x()
    y = x.copy()
    for other in (y, y + (np.arange(N) == 7) * 1e-3):
        _check(tolists_equal, x, other)
        _check(grown_equal, x, other)
        _check(argument_equal, [float(v) for v in x], [float(v) for v in other])


def test_equal_follows_python_identity_and_nan():  # (the same object is equal to itself, even NaN)
    def f(x):
        a = x.tolist()
        return a == a, a == x.tolist(), a == list(a)

    x = _x()
    x[5] = np.nan
    _check(f, x)


def test_equal_is_a_traced_bool_under_a_condition():
    def f(x, y):
        if x.tolist() == y.tolist():
            return 1.0
        return 2.0

    x = _x()
    _check(f, x, x.copy())
    _check(f, x, x[::-1].copy())


def test_tuples_of_traced_numbers_compare_values():  # (a TraceError before: the truth of a traced item)
    def f(x):
        a, b = (x[0], x[1]), (x[0], 2.0)
        return a == b, a != (x[0], x[1]), (x, 1) == (x, 1)

    x = _x(n=4)
    _check(f, x)
    x[1] = 2.0
    _check(f, x)


def test_other_comparisons_are_refused_clearly():  # (a Python TypeError about 'Segment' before)
    def less(x, y):
        return x.tolist() < [0.0]

    def chained(x, y):
        return x.tolist() == y.tolist() == y.tolist()

    for f in (less, chained):
        with pytest.raises(UnsupportedError, match="held as one array"):
            _run(f, _x(), _x())


def test_equal_of_a_run_time_length_is_refused_clearly():
    def f(x):
        a = []
        for v in x:
            if v > 0.0:
                a.append(v)
        return a == [0.5]

    with pytest.raises(UnsupportedError, match="run-time length"):
        _run(f, _x())


# --- text ---------------------------------------------------------------------------------------
def printed_text(x, xs):
    a = []
    for i in range(4):
        a.append(x[i] * 2.0)
    print(str(x[:5].tolist()), x[:2].tolist(), a)
    print(f"{a}!", repr(xs[:3]))
    print("{}".format(x[:2].tolist()))
    return 0


def test_text_of_lists_held_as_one_array_prints_their_items(capsys):
    x = _x()
    printed_text(x, [float(v) for v in x])
    want = capsys.readouterr().out
    _run(printed_text, x, [float(v) for v in x])
    assert capsys.readouterr().out == want


def test_text_of_a_run_time_length_is_refused_clearly():
    def f(x):
        a = []
        for v in x:
            if v > 0.0:
                a.append(v)
        print(a)
        return 0

    with pytest.raises(UnsupportedError, match="run-time length"):
        _run(f, _x())


def test_text_used_other_than_printed_is_refused():
    def f(x):
        return len(str(x.tolist()))

    with pytest.raises(TraceError):
        _run(f, _x())


# --- unpacking and the survey of other operations ------------------------------------------------
def unpacked(x, xs):
    a, b, *rest = x.tolist()
    (c,) = x[:1].tolist()
    g = []
    for i in range(3):
        g.append(x[i] + 1.0)
    d, e, h = g
    p, *q = xs
    return a, b, len(rest), c, d, e, h, p, len(q)


def test_unpacking_gives_the_elements():  # (ValueError 'not enough values to unpack' before)
    x = _x()
    _check(unpacked, x, [float(v) for v in x])


OPERATIONS = [
    lambda a: a + [3.0], lambda a: 2 * a[:3], lambda a: a[3] in a, lambda a: a.index(a[2]), lambda a: list(a)[:4],
    lambda a: tuple(a)[-2:], lambda a: sorted(a, key=lambda v: -v)[:3], lambda a: bool(a), lambda a: len(a),
    lambda a: a[::-3], lambda a: a[-1:2:-5], lambda a: str(a), lambda a: a == list(a), lambda a: a < a,
    lambda a: hash(tuple(a)), lambda a: max(a),
]


@pytest.mark.parametrize("k", range(len(OPERATIONS)))
def test_operation_gives_the_plain_answer_or_a_clear_error(k):
    op = OPERATIONS[k]

    def f(x):
        return op(x.tolist())

    x = _x(n=20)
    try:
        got = _run(f, x)
    except LooptraceError:
        return
    assert _same(f(x), got)


# --- whole slices of an axis of a run-time length ----------------------------------------------
def grown_rows(x, W, j):
    rows = [W * 0.1]
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            rows.append(np.tanh(W * x[i]))
    R = np.array(rows)
    return np.sum(R[:, :1]), R[:].sum(), R[0:, 1:].sum(axis=0), R[::1, ::-1][..., 0].sum(), R[:, j].sum()


def test_whole_slice_of_a_run_time_length_axis():  # (TypeError: slice.indices of a Dim before)
    rng = np.random.default_rng(1)
    x, W = rng.standard_normal(9), rng.standard_normal(3)
    want = grown_rows(x, W, 1)
    for backend in ("interpret", "cpu"):
        got = looptrace.jit(grown_rows, backend=backend)(x, W, 1)
        np.testing.assert_allclose(np.hstack(got), np.hstack(want), rtol=1e-12)


# --- lambdas from the cached file tree ----------------------------------------------------------
outer = lambda a: (lambda b: np.sum(b * a) + max(b[0], a[0]) + (1.0 if a[1] > b[1] else 2.0))  # noqa: E731


def test_nested_lambda_leaves_the_cached_file_tree_unconverted():
    from looptrace.tracer import convert

    def nest(x):
        return outer(x)(x + 1.0)

    x = _x(n=5)
    assert _run(nest, x) == nest(x)
    _, tree = convert._WHOLE[__file__]
    lambdas = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
    assert lambdas and not any("__lt" in t for t in lambdas)
