"""Corpus kernels that used to stop with an error (bench/corpus/everyday.py,
session 53), in many call forms, each against the plain function on fresh
random data:

- bisect.bisect_left / bisect_right / bisect (tracer/pybisect.py): CPython's
  loop traced once, so lists and arrays, sorted or not, lo/hi (static or
  traced), key=, NaN targets and the errors (lo < 0, a read past the end)
  all give Python's answer; insort stays a clear error;
- math.fsum (ops/fsum.py, codegen/cpu/exact_sum.py): Python's exactly
  rounded sum of an array, a comprehension, a generator, a literal list, a
  list grown under a condition, per row inside a loop (batched) and inside a
  gradient; its OverflowError and ValueError at run time;
- np.outer / ufunc.outer / [:, None] / reshape(-1, 1) / np.expand_dims of a
  slice whose length is traced (tracer/masked.py `_unit_axes`): the rank-one
  update of a shrinking block (row_swap_pivot) in loops too long to unroll;
- a comprehension of tuples past the 1000 items run as Python, traced once,
  and zip(*pairs) of it as columns (tracer/tuple_lists.py: zip_star_unpack);
- `try: v = a / b` (or `v op= ...`) with one `except ZeroDivisionError:`
  (and its superclasses): the zero divisor picks the handler, a traced `if`
  (checks.try_record: try_except_zero).
Semantics on backend="interpret"; a few representative ones on "cpu".
"""
import bisect
import copy
import math
from bisect import bisect_left as imported_bisect_left

import numpy as np
import pytest

import looptrace
from bench.corpus.everyday import row_swap_pivot, try_except_zero, zip_star_unpack
from looptrace.errors import ConcreteIndexError, LooptraceError


def _same(got, expected):
    if isinstance(expected, (tuple, list)):
        assert type(got) is type(expected) and len(got) == len(expected), (got, expected)
        for g, e in zip(got, expected):
            _same(g, e)
        return
    if isinstance(expected, (int, float)) and not isinstance(expected, np.generic):
        assert isinstance(got, (type(expected), np.generic)), (type(got), type(expected))
    g, e = np.asarray(got), np.asarray(expected)
    assert g.dtype == e.dtype and g.shape == e.shape, (got, expected)
    np.testing.assert_array_equal(g, e)  # exact: bisect's positions, fsum's correctly rounded sums


def _check(f, *args, backend="interpret"):
    """The jitted f returns exactly the plain f's values and leaves the arguments as it does."""
    expected = f(*copy.deepcopy(args))
    jargs = copy.deepcopy(args)
    _same(looptrace.jit(f, backend=backend)(*jargs), expected)
    for a, b in zip(jargs, args):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)


def _raises_like(f, *args, backend="interpret"):
    """The jitted f raises the plain f's exception (class and message)."""
    with pytest.raises(Exception) as plain:
        f(*copy.deepcopy(args))
    with pytest.raises(type(plain.value)) as jitted:
        looptrace.jit(f, backend=backend)(*copy.deepcopy(args))
    assert str(plain.value).splitlines()[0] in str(jitted.value)
    return jitted.value


# --- bisect ----------------------------------------------------------------------------------------------
def _sorted_list(x, t):
    vals = sorted(x.tolist())
    return bisect.bisect_left(vals, t), bisect.bisect_right(vals, t), bisect.bisect(vals, t)


def _on_array(a, t):
    return bisect.bisect_left(a, t), bisect.bisect_right(a, t), imported_bisect_left(a, t)


def _lo_hi(a, t):
    return (bisect.bisect_left(a, t, 3, 20), bisect.bisect_right(a, t, lo=5), bisect.bisect_left(a, t, hi=-1),
            bisect.bisect_right(a, t, 30, 10))


def _per_query(a, q):
    out = np.empty(q.shape[0], dtype=np.int64)
    for i in range(q.shape[0]):
        out[i] = bisect.bisect_right(a, q[i])
    return out


def _traced_hi(a, q):
    out = np.empty(q.shape[0], dtype=np.int64)
    for i in range(q.shape[0]):
        out[i] = imported_bisect_left(a, q[i], 0, i + 1)
    return out


def _key_on_pairs(s, t):
    pairs = [(s[i], i) for i in range(6)]
    return bisect.bisect_left(pairs, t, key=lambda p: p[0]), bisect.bisect_right(pairs, t, 1, key=lambda p: p[0])


def _key_descending(d, t):
    return bisect.bisect_left(d, -t, key=lambda v: -v), bisect.bisect_right(d, -t, key=lambda v: -v)


def _unsorted(x, t):
    return bisect.bisect_left(x.tolist(), t), bisect.bisect_right(list(x), t)


def _nan_target(a):
    return bisect.bisect_left(a, float("nan")), bisect.bisect_right(a, float("nan"))


def _short_lists(x, t):
    return bisect.bisect_left([x[0], x[1] + 1.0, 5.0], t), bisect.bisect_right([0.0, 0.5, 1.0, 1.5], t)


def _count_between(a, lo, hi):
    return bisect.bisect_right(a, hi) - bisect.bisect_left(a, lo)


def _lookup(edges, values, x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        k = bisect.bisect_right(edges, x[i]) - 1
        out[i] = values[min(max(k, 0), values.shape[0] - 1)] * x[i]
    return out


@pytest.mark.parametrize("seed", [0])
def test_bisect_call_forms_give_pythons_positions(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(40)
    s = np.sort(x)
    t = float(rng.standard_normal())
    _check(_sorted_list, x, t)
    _check(_sorted_list, x, float(s[7]))  # a tie: left and right differ
    _check(_on_array, s, t)
    _check(_on_array, s, 10.0)
    _check(_lo_hi, s, t)
    _check(_per_query, s, rng.standard_normal(25))
    _check(_traced_hi, s, rng.standard_normal(25))
    _check(_key_on_pairs, s, t)
    _check(_key_descending, s[::-1].copy(), t)
    _check(_unsorted, x, t)  # not sorted: bisect's own probes, not a searchsorted
    _check(_nan_target, s)
    _check(_short_lists, x, 0.3)
    _check(_count_between, s, -0.5, 0.5)
    _check(_lookup, s[::4].copy(), rng.standard_normal(10), rng.standard_normal(30))


def _lo(a, t, lo):
    return bisect.bisect_left(a, t, lo)


def _past_the_end(a, t):
    return bisect.bisect_left(a, t, 0, a.shape[0] + 5)


def _insort(x, t):
    vals = sorted(x.tolist())
    bisect.insort(vals, t)
    return np.array(vals)


def test_bisect_errors_are_pythons():
    rng = np.random.default_rng(3)
    s = np.sort(rng.standard_normal(20))
    _raises_like(_lo, s, 0.1, -2)  # a traced lo: a run-time check
    _check(_lo, s, 0.1, 2)
    _raises_like(lambda a, t: bisect.bisect_left(a, t, -1), s, 0.1)
    _raises_like(lambda a, t: bisect.bisect_left(a, t, 1.5), s, 0.1)
    err = _raises_like(_past_the_end, s, 10.0)  # bisect reads a[20]: IndexError, at the user's line
    assert "_past_the_end" in str(err) or "a.shape[0] + 5" in str(err)
    _check(_past_the_end, s, -10.0)  # ... unless it never reads there
    with pytest.raises(LooptraceError, match="insort"):
        looptrace.jit(_insort, backend="interpret")(rng.standard_normal(10), 0.1)


def test_bisect_in_a_gradient():
    rng = np.random.default_rng(4)
    edges, w, x = np.sort(rng.standard_normal(8)), rng.standard_normal(8), rng.standard_normal(12)

    def loss(w):
        return np.sum(_lookup(edges, w, x))

    g = looptrace.grad(looptrace.jit(loss, backend="interpret"))(w)
    eps = 1e-6
    fd = np.array([(loss(w + eps * e) - loss(w - eps * e)) / (2 * eps) for e in np.eye(8)])
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)


# --- math.fsum ---------------------------------------------------------------------------------------------
def _hard_terms(rng, n=20):
    """Terms over 30 decades that nearly cancel: a plain sum is far from the rounded exact one."""
    y = rng.standard_normal(n) * 10.0 ** rng.integers(-15, 15, n)
    return rng.permutation(np.r_[y, -y * (1 + 2.0 ** -52), 1e-16, 1.0, 1e16])


def _fsum_array(x):
    return math.fsum(x)


def _fsum_comprehension(x):
    return math.fsum([x[i] / (i + 1.0) for i in range(x.shape[0])])


def _fsum_generator(x, w):
    return math.fsum(x[i] * w[i] for i in range(x.shape[0]))


def _fsum_literal(x):
    return math.fsum([x[0], 1e16, -1e16, 0.5, x[1]])


def _fsum_grown_if(x, t):
    terms = []
    for v in x:
        if v > t:
            terms.append(v)
    return math.fsum(terms)


def _fsum_rows(X, w):
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        out[i] = math.fsum(X[i] * w[i])
    return out


def _fsum_forms(x):
    return math.fsum(x) * 0.5, math.fsum(x.tolist()), math.fsum(x[:0]), math.fsum(-x) + 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_fsum_call_forms_round_as_python(seed):
    rng = np.random.default_rng(seed)
    x = _hard_terms(rng)
    _check(_fsum_array, x)
    _check(_fsum_array, rng.integers(-2**60, 2**60, 30))  # ints: float() of each, as Python
    _check(_fsum_array, rng.standard_normal(30).astype(np.float32))
    _check(_fsum_comprehension, x)
    _check(_fsum_generator, x, rng.standard_normal(x.shape[0]))
    _check(_fsum_literal, x)
    _check(_fsum_grown_if, x, 0.0)
    _check(_fsum_rows, np.stack([rng.permutation(x) for _ in range(5)]), rng.standard_normal(5))
    _check(_fsum_forms, x)
    _check(lambda: math.fsum([]))


def _fsum_long_generator(x):
    return math.fsum(v * v for v in x if v > 0.0)


def test_fsum_of_a_long_generator_is_traced_once():
    """math.fsum(genexpr) past the 1000 items a generator runs as Python: a list comprehension traced once."""
    x = _hard_terms(np.random.default_rng(16), 600)
    assert x.shape[0] > 1000
    _check(_fsum_long_generator, x)


def test_fsum_rounds_half_even_across_partials():
    x = np.array([1e16, 1.0, 1e-16])  # the exact sum is just above a tie: Python rounds it up, a plain sum down
    assert math.fsum(x) == 1e16 + 2 and sum(x) == 1e16
    _check(_fsum_array, x)
    _check(_fsum_array, x[::-1].copy())


@pytest.mark.parametrize("terms", [[1.0, np.inf, 2.0], [np.inf, 1.0, np.nan], [-0.0, -0.0], [2.0 ** -1074, 1e308]])
def test_fsum_special_values(terms):
    _check(_fsum_array, np.array(terms))


@pytest.mark.parametrize("terms", [[1e308, 1e308, -1e308], [np.inf, 1.0, -np.inf], [np.nan, np.inf, -np.inf]])
def test_fsum_raises_pythons_errors_at_run_time(terms):
    _raises_like(_fsum_array, np.array(terms))


def test_fsum_of_rows_is_a_type_error():
    with pytest.raises(TypeError):
        looptrace.jit(_fsum_array, backend="interpret")(np.ones((3, 2)))


def test_fsum_gradient_matches_finite_differences():
    rng = np.random.default_rng(6)
    x = rng.standard_normal(7)

    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += math.fsum(x[i] * x) * np.sin(x[i])
        return s

    g = looptrace.grad(looptrace.jit(f, backend="interpret"))(x)
    eps = 1e-6
    fd = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(7)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


# --- outer products and unit axes of a slice whose length is traced ----------------------------------------
N = 70  # rows: more than the 64 iterations a loop is unrolled, so A[i + 1:] has a run-time length


def _outer_below(A):
    A = A.copy()
    for i in range(A.shape[0]):
        A[i + 1:] -= np.outer(A[i + 1:, i] / A[i, i], A[i])
    return A


def _outer_right(A):
    A = A.copy()
    for i in range(A.shape[0]):
        A[:, i + 1:] -= np.outer(A[:, i], A[i, i + 1:]) * 0.01
    return A


def _column_forms(A):
    A = A.copy()
    for i in range(A.shape[0]):
        u = A[i + 1:, i] * 0.01
        A[i + 1:] += u[:, None] * A[i] - u.reshape(-1, 1) * A[0] + np.expand_dims(u, 1) * 0.5
        A[i + 1:] -= np.reshape(u, (-1, 1)) * A[1] + u[:, np.newaxis, ...] * 0.25
    return A


def _ufunc_outers(x, y):
    s = np.zeros((3, x.shape[0]))
    for i in range(x.shape[0]):
        s[0, i] = np.subtract.outer(x[i:], y).sum()
        s[1, i] = np.add.outer(y, x[:i]).max(initial=-1.0)
        s[2, i] = np.multiply.outer(x[:i], y[:2]).min(initial=1.0)
    return s


def _rows_with_new_axis(X):
    s = np.zeros(X.shape[0])
    for i in range(X.shape[0]):
        s[i] = (X[i:][:, None, :] * X[0]).sum() + (X[i:][:, :, None] * X[0, :1]).max()
    return s


def _write_through_reshaped(A):
    A = A.copy()
    for i in range(A.shape[0]):
        r = A[i + 1:, i][:, None]
        r *= 2.0
    return A


def _close(f, *args, backend="interpret"):
    np.testing.assert_allclose(looptrace.jit(f, backend=backend)(*copy.deepcopy(args)), f(*copy.deepcopy(args)),
                               rtol=1e-10, atol=1e-12)


def test_outer_of_a_slice_of_traced_length():
    rng = np.random.default_rng(8)
    A = rng.standard_normal((N, N)) + N * np.eye(N)
    _close(_outer_below, A)
    _close(row_swap_pivot, rng.standard_normal((N, N)))  # the corpus kernel, past the unrolled size
    _close(_outer_right, A)
    _close(_column_forms, A)
    _close(_ufunc_outers, rng.standard_normal(N), rng.standard_normal(4))
    _close(_rows_with_new_axis, rng.standard_normal((N, 3)))


def test_reshapes_that_need_the_length_stay_clear_errors():
    rng = np.random.default_rng(9)
    with pytest.raises(ConcreteIndexError, match="reshaped view"):  # NumPy writes through the view into A
        looptrace.jit(_write_through_reshaped, backend="interpret")(rng.standard_normal((N, N)))

    def to_row_pairs(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += x[i:].reshape(-1, 2).sum()
        return s

    with pytest.raises(ConcreteIndexError, match="np.reshape"):
        looptrace.jit(to_row_pairs, backend="interpret")(rng.standard_normal(N))


def test_outer_update_in_a_gradient():
    rng = np.random.default_rng(10)
    A = rng.standard_normal((N, 4)) * 0.1

    def loss(v):
        B = A.copy()
        for i in range(B.shape[0]):
            B[i + 1:] -= np.outer(B[i + 1:, 0] * 0.01, v)
        return np.sum(B * B)

    v = rng.standard_normal(4)
    g = looptrace.grad(looptrace.jit(loss, backend="interpret"))(v)
    eps = 1e-6
    fd = np.array([(loss(v + eps * e) - loss(v - eps * e)) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


# --- long comprehensions of tuples, zip(*pairs) -----------------------------------------------------------
M = 1500  # items: past runtime.COMP_UNROLL_LIMIT, where a comprehension of tuples run as Python is refused


def _pairs_columns(p):
    pairs = [(p[i, 0], p[i, 1]) for i in range(p.shape[0])]
    xs, ys = zip(*pairs)
    return xs, np.array(ys) * 2.0, len(xs)


def _triples(p):
    trip = [(p[i, 0], p[i, 1], p[i, 0] * p[i, 1]) for i in range(p.shape[0])]
    a, b, c = zip(*trip)
    return np.array(c) - np.array(a) * np.array(b), max(b), np.stack([a, b])


def _pairs_of_zip(x, y):
    pairs = [(u + 1.0, v) for u, v in zip(x, y)]
    u, v = zip(*pairs)
    return np.dot(np.array(u), np.array(v))


def _pairs_filtered(x):
    kept = [(x[i], x[i] * x[i]) for i in range(x.shape[0]) if x[i] > 0.5]
    return sum(a * b for a, b in kept)


def _pairs_loop_over(p):
    pairs = [(p[i, 0], p[i, 1]) for i in range(p.shape[0])]
    s = 0.0
    for a, b in pairs:
        s += a * b
    return s


def _pairs_of_arrays(X):
    pairs = [(X[i], X[i].sum()) for i in range(X.shape[0])]
    return pairs


def _close_tree(got, expected):
    if isinstance(expected, (tuple, list)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _close_tree(g, e)
        return
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_long_comprehensions_of_tuples_and_their_columns():
    rng = np.random.default_rng(11)
    P, x = rng.standard_normal((M, 2)), rng.standard_normal(M)
    for f, args in [(_pairs_columns, (P,)), (_triples, (P,)), (_pairs_of_zip, (x, P[:, 0].copy())),
                    (_pairs_loop_over, (P,)), (_pairs_columns, (P[:20],)),
                    (zip_star_unpack, (P,))]:
        _close_tree(looptrace.jit(f, backend="interpret")(*copy.deepcopy(args)), f(*copy.deepcopy(args)))


def test_long_comprehensions_of_tuples_of_arrays_keep_their_error():
    with pytest.raises(LooptraceError, match="comprehension runs as Python"):
        looptrace.jit(_pairs_of_arrays, backend="interpret")(np.ones((M, 2)))
    kept = np.linspace(0.0, 1.0, M)  # (tuples kept under a condition, iterated: a loop of their run-time count)
    _close_tree(looptrace.jit(_pairs_filtered, backend="interpret")(kept), _pairs_filtered(kept))
    small = np.random.default_rng(12).standard_normal((30, 2))  # (up to the limit: run as Python, as before)
    _close_tree(looptrace.jit(_pairs_of_arrays, backend="interpret")(small), _pairs_of_arrays(small))


# --- try / except ZeroDivisionError around one assignment --------------------------------------------------
def _ratio_or(x, y):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        try:
            r = float(x[i]) / float(y[i])
        except ZeroDivisionError:
            r = -1.0
        out[i] = r
    return out


def _int_quotients(a, b):
    q, m = 0, 0
    for i in range(a.shape[0]):
        try:
            q += int(a[i]) // int(b[i])
        except ZeroDivisionError:  # (ArithmeticError: also the OverflowError of a Python int past 64 bits: refused)
            q -= 1
        try:
            m += int(a[i]) % int(b[i])
        except (ValueError, ZeroDivisionError):
            pass
    return q, m


def _any_exception(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        u, v = float(x[i]), float(y[i])  # (a read inside the try could raise IndexError: refused under Exception)
        try:
            s += 1.0 / v + u
        except Exception:
            s *= 0.5
            s += u
    return s


def _bare_except_outside_loop(x, y):
    a, b = float(x[0]), float(y[0])
    try:
        v = a / b
    except:  # noqa: E722
        v = 0.0
    return v


def _handler_continues(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        try:
            t = float(x[i]) / float(y[i])
        except ArithmeticError:
            continue
        s += t
    return s


def _other_class_still_raises(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        try:
            s += float(x[i]) / float(y[i])
        except ValueError:
            s = 0.0
    return s


def _named_exception(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        try:
            s += float(x[i]) / float(y[i])
        except ZeroDivisionError as e:
            s += len(str(e))
    return s


def _read_after_division(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        try:
            s += 1.0 / float(y[i]) + x[int(y[i]) + 5]
        except ZeroDivisionError:
            s -= 1.0
    return s


def _check_close(f, *args):
    """As _check, floats to 1e-12 (a sum of the loop's terms may be reassociated)."""
    _close_tree(looptrace.jit(f, backend="interpret")(*copy.deepcopy(args)), f(*copy.deepcopy(args)))


def test_try_except_zero_division_picks_the_handler():
    rng = np.random.default_rng(13)
    x, y = rng.standard_normal(40), rng.integers(-2, 3, 40).astype(np.float64)  # zeros among them
    assert (y == 0).any()
    _check_close(try_except_zero, x, y)
    _check_close(_ratio_or, x, y)
    a, b = rng.integers(-50, 50, 40), rng.integers(-2, 3, 40)
    _check_close(_int_quotients, a, b)
    _check_close(_any_exception, x, y)
    _check_close(_bare_except_outside_loop, x, y)
    _check_close(_bare_except_outside_loop, x, np.zeros(3))
    _check_close(_handler_continues, x, y)
    _check_close(_ratio_or, x, y + 10.0)  # no zero: the assignment every time
    _raises_like(_other_class_still_raises, x, y)  # not caught: Python's ZeroDivisionError at run time
    _check_close(_other_class_still_raises, x, y + 10.0)


def _half(v):
    return float(v) * 0.5


def _user_call_in_the_body(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        try:
            s += float(y[i]) / _half(x[i] * 0.0)  # (a function of the user's could change state midway)
        except ZeroDivisionError:
            s -= 1.0
    return s


def test_try_except_forms_that_stay_refused():
    rng = np.random.default_rng(14)
    x, y = rng.standard_normal(40), rng.integers(-2, 3, 40).astype(np.float64)
    for f in (_named_exception, _read_after_division, _user_call_in_the_body):
        with pytest.raises(LooptraceError, match="at run time"):
            looptrace.jit(f, backend="interpret")(x, y)


def test_try_except_in_a_gradient():
    rng = np.random.default_rng(15)
    y = rng.integers(-2, 3, 12).astype(np.float64)

    def loss(x):
        s = 0.0
        for i in range(x.shape[0]):
            try:
                s += float(x[i]) * float(x[i]) / float(y[i])
            except ZeroDivisionError:
                s += 3.0 * float(x[i])
        return s

    x = rng.standard_normal(12)
    g = looptrace.grad(looptrace.jit(loss, backend="interpret"))(x)
    np.testing.assert_allclose(g, np.where(y == 0, 3.0, 2 * x / np.where(y == 0, 1.0, y)), rtol=1e-12)


# --- a list of lists [[0.0] * m for _ in range(n)] past the unrolled size: one stack (s54 L, row_lists.py) ----
def test_a_list_of_lists_at_a_traced_index_is_its_stack():
    from bench.corpus.everyday import list_of_lists_grid

    np.testing.assert_array_equal(looptrace.jit(list_of_lists_grid, backend="interpret")(N, 3),
                                  list_of_lists_grid(N, 3))


def _bisect_and_fsum_kernel():
    """bisect in a loop and on a sorted list, fsum of a comprehension, per row
    (batched) and of a grown list, the corpus's row_swap_pivot past the
    unrolled size, zip_star_unpack past the comprehension limit, and a
    try/except ZeroDivisionError: one function and its arguments."""
    rng = np.random.default_rng(7)
    x = _hard_terms(rng, 100)
    s = np.sort(rng.standard_normal(300))

    def both(a, q, x, X, w, P, pts, d):
        return _sorted_list(x, q[0]), _per_query(a, q), _fsum_comprehension(x), _fsum_rows(X, w), \
            _fsum_grown_if(x, 0.1), row_swap_pivot(P), zip_star_unpack(pts), _ratio_or(q, d)

    args = (s, rng.standard_normal(200), x, np.stack([rng.permutation(x) for _ in range(4)]), rng.standard_normal(4),
            rng.standard_normal((N, N)), rng.standard_normal((M, 2)), rng.integers(-2, 3, 200).astype(np.float64))
    return both, args


def test_bisect_and_fsum_kernel_source():
    """The cpu backend plans and emits the whole kernel (explain: no Numba
    compile): three fsum_row calls (the comprehension's, each row's in a loop,
    the grown list's) and the sort the sorted-list bisect makes. Each part's
    values run on the interpreter above; its cpu values with -m slow
    (test_bisect_and_fsum_on_cpu, 8.6 s of session 55's CI), the fsum helper's
    in test_fsum_error_on_cpu and tests/codegen's exact_sums sample."""
    both, args = _bisect_and_fsum_kernel()
    src = looptrace.explain(looptrace.jit(both, backend="cpu"), *args).kernel_source
    assert src.count("fsum_row(") == 3
    assert "argsort_lane(" in src


@pytest.mark.slow
def test_bisect_and_fsum_on_cpu():
    """One compiled kernel (a compile costs seconds) of _bisect_and_fsum_kernel."""
    both, args = _bisect_and_fsum_kernel()
    got, expected = looptrace.jit(both, backend="cpu")(*copy.deepcopy(args)), both(*copy.deepcopy(args))
    _same(got[:5], expected[:5])
    np.testing.assert_allclose(got[5], expected[5], rtol=1e-10, atol=1e-12)
    _same(got[6:], expected[6:])


def test_fsum_error_on_cpu():
    _raises_like(_fsum_array, np.array([1e308, 1e308, -1e308, 1.0]), backend="cpu")
