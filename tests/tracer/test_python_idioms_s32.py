"""Python idioms that gave wrong answers or internal errors (found by probing
scalar-loop code as people write it), each against the plain function:

- a function that reaches its end without a `return` on some runs returns
  None there (merge.returned, trace.py's "maybe" output);
- `x or 5.0` and `c and 1 or -1` give an operand's value, not a bool
  (control._short_circuit);
- a Python-int sum of carried values past 64 bits (`a, b = b, a + b`)
  raises OverflowError instead of wrapping (python_numbers._carried_sums);
- a Python bool argument does arithmetic as an int (`b + b` is 2, `-b`,
  `~b`);
- a negative Python float to a fractional power (complex in Python) raises;
- `while err > tol` with `tol` an argument traced the loop's entry test on a
  traced value;
- `global n` with `n += 1`, a recursion on a traced base case, and number
  methods (`.bit_length()`) are clear errors; `.is_integer()` works."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import UnsupportedError

from ._compare import check

BACKENDS = ["interpret", "cpu"]


def find_first(x, t):
    for i in range(len(x)):
        if x[i] > t:
            return i


def maybe_one(x):
    if x[0] > 3.0:
        return 1.0


def first_row(A, t):
    for i in range(A.shape[0]):
        if A[i].sum() > t:
            return A[i] * 2, i


def calls_find_first(x):
    return find_first(x, 0.5)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_reaching_the_end_returns_none(backend):
    x = np.array([0.1, 0.2, 0.3])
    f = lt.jit(find_first, backend=backend)
    assert f(x, 10.0) is None
    assert f(x, 0.15) == find_first(x, 0.15) == 1 and type(f(x, 0.15)) is int
    g = lt.jit(maybe_one, backend=backend)
    assert g(x) is None and g(x + 4) == 1.0
    A = np.random.default_rng(0).standard_normal((5, 3))
    h = lt.jit(first_row, backend=backend)
    assert h(A, 100.0) is None
    got, want = h(A, 0.5), first_row(A, 0.5)
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1] == want[1]


def test_a_called_function_that_may_return_none_is_refused():
    with pytest.raises(UnsupportedError, match="returns None on some paths") as e:
        lt.jit(calls_find_first, backend="interpret")(np.array([0.1, 0.9]))
    assert "test_python_idioms_s32.py" in str(e.value)


def or_default(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] or 5.0
    return s


def and_or_idiom(x):
    s = 0
    for i in range(len(x)):
        s += x[i] > 0 and 1 or -1
    return s


def and_value(x):
    s = 0
    for i in range(len(x)):
        s += x[i] and 7
    return s


def condition_of_values(x, y):
    c = 0
    for i in range(len(x)):
        if x[i] > 0 and y[i] or x[i] < -1:
            c += 1
    return c


def returned_operand(x):
    return x[0] and x[1], x[2] or x[3]


@pytest.mark.parametrize("backend", BACKENDS)
def test_and_or_give_an_operand(backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(12)
    x[::3] = 0.0
    y = rng.integers(0, 2, 12).astype(np.float64)
    check(or_default, x, backend=backend)
    check(and_or_idiom, x, backend=backend)
    check(and_value, (x * 3).astype(np.int64), backend=backend)
    check(condition_of_values, x, y, backend=backend)
    for v in (np.array([0.0, 3.0, 0.0, 2.0]), np.array([2.0, 3.0, 1.5, 2.0])):
        check(returned_operand, v, backend=backend)


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def doubling(n):
    s = 1
    for _ in range(n):
        s = s + s
    return s


def counted(x):
    c = 0
    for i in range(x.shape[0]):
        if x[i] > 0:
            c += 1
    return c


@pytest.mark.parametrize("backend", BACKENDS)
def test_python_int_sums_past_64_bits_raise(backend):
    assert lt.jit(fib, backend=backend)(90) == fib(90)
    assert lt.jit(doubling, backend=backend)(40) == doubling(40)
    with pytest.raises(OverflowError, match="past 64 bits"):
        lt.jit(fib, backend=backend)(100)
    with pytest.raises(OverflowError, match="past 64 bits"):
        lt.jit(doubling, backend=backend)(70)


def test_a_counter_stays_a_reduction():
    x = np.random.default_rng(2).standard_normal(100)
    f = lt.jit(counted, backend="interpret")
    assert f(x) == counted(x)
    assert [r.kind for r in lt.explain(f, x).loops] == ["reduction"]


def bool_arith(x, b):
    return x.sum(), b + b, b * 3, ~b, abs(b), b - b, b & True, b | False, b ^ b, b / 2, b + x[0], -b + x[1]


def bool_negated_in_loop(x, flag):
    c = 0
    for i in range(len(x)):
        c += -flag
    return c


def found_count(x):
    found = False
    n = 0
    for v in x:
        if v > 0:
            found = True
        n += found
    return n, found + found


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("b", [True, False])
def test_python_bools_are_ints_in_arithmetic(backend, b):
    x = np.random.default_rng(3).standard_normal(6)
    check(bool_arith, x, b, backend=backend)
    check(bool_negated_in_loop, x, b, backend=backend)
    check(found_count, x if b else -np.abs(x), backend=backend)


def python_float_root(x):
    s = 0.0
    for i in range(len(x)):
        v = float(x[i])
        s += v ** 0.5
    return s


def numpy_float_root(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 0.5
    return s


@pytest.mark.parametrize("backend", BACKENDS)
def test_negative_python_float_to_a_fractional_power(backend):
    check(python_float_root, np.array([4.0, 9.0, 0.25]), backend=backend)
    with pytest.raises(UnsupportedError, match="complex number"):
        lt.jit(python_float_root, backend=backend)(np.array([4.0, -4.0]))
    with np.errstate(invalid="ignore"):
        check(numpy_float_root, np.array([4.0, -4.0]), backend=backend)  # NumPy's NaN


def newton(x, tol):
    g = 1.0
    err = 1.0
    while err > tol:
        g = g * x[0]
        err = g
    return g


@pytest.mark.parametrize("backend", BACKENDS)
def test_while_condition_on_an_argument(backend):
    for tol in (0.01, 0.3, 2.0):
        check(newton, np.array([0.5]), tol, backend=backend)


_COUNT = 0


def global_counter(x):
    global _COUNT
    for i in range(len(x)):
        if x[i] > 0:
            _COUNT += 1
    return _COUNT


def _fact(n):
    return 1 if n <= 1 else n * _fact(n - 1)


def sum_of_factorials(x):
    s = 0
    for i in range(len(x)):
        s += _fact(x[i])
    return s


def factorial_of_a_constant(x):
    return x * _fact(5)


def bit_lengths(x):
    s = 0
    for i in range(len(x)):
        s += int(x[i]).bit_length()
    return s


def whole_numbers(x):
    c = 0
    for i in range(len(x)):
        if x[i].is_integer():
            c += 1
    return c


def test_clear_errors():
    x = np.array([3, 4, 5])
    with pytest.raises(UnsupportedError, match="module variable `_COUNT`"):
        lt.jit(global_counter, backend="interpret")(np.array([1.0, -1.0]))
    with pytest.raises(UnsupportedError, match="calls itself"):
        lt.jit(sum_of_factorials, backend="interpret")(x)
    check(factorial_of_a_constant, x)
    with pytest.raises(UnsupportedError, match=r"\.bit_length\(\)"):
        lt.jit(bit_lengths, backend="interpret")(x)


def test_is_integer():
    check(whole_numbers, np.array([1.0, 1.5, 2.0, np.inf, np.nan, -3.0, -0.5]))


def swap_pairs(x):
    for i in range(0, x.shape[0] - 1, 2):
        x[[i, i + 1]] = x[[i + 1, i]]
    return x


def last_seen(x):
    i = 0
    while True:
        last = x[i]
        i += 1
        if i >= x.shape[0]:
            break
    return last


@pytest.mark.parametrize("backend", BACKENDS)
def test_list_index_of_traced_ints_and_while_true(backend):
    x = np.random.default_rng(5).standard_normal(9)
    check(swap_pairs, x, backend=backend)
    check(last_seen, x, backend=backend)


def gcd_lcm(x, y):
    import math

    s = 0
    m = 0
    for i in range(x.shape[0]):
        s += math.gcd(int(x[i]), int(y[i]))
        m += math.lcm(int(x[i]), 6)
    return s, m, math.gcd(int(x[0]), int(y[0]), 12)


def mantissas(x):
    import math

    m_sum, e_sum = 0.0, 0
    for i in range(x.shape[0]):
        m, e = math.frexp(x[i])
        m_sum += m
        e_sum += e
    return m_sum, e_sum, math.frexp(x[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_gcd_lcm_frexp(backend):
    rng = np.random.default_rng(6)
    x, y = rng.integers(-50, 50, 20), rng.integers(-50, 50, 20)
    x[4], y[3] = 0, 0
    check(gcd_lcm, x, y, backend=backend)
    f = rng.standard_normal(20) * 1e5
    f[2], f[5], f[6] = 0.0, -0.0, 1e-310
    check(mantissas, f, backend=backend)
    for v in (np.inf, -np.inf, np.nan):
        check(mantissas, np.array([v, 1.0]), backend=backend)


def python_sums(x, A, b):
    return sum(x), sum(A), sum(x > 0), sum(x, 10), sum(x.astype(np.float32)), sum(b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_python_sum_over_arrays(backend):
    rng = np.random.default_rng(7)
    x, A, b = rng.standard_normal(7), rng.standard_normal((3, 4)), rng.integers(0, 9, 5)
    check(python_sums, x, A, b, backend=backend)
    check(python_sums, x[:0], A[:0], b[:0], backend=backend)


def two_updates_in_one_if(x):
    best, where = x[0], 0
    for i in range(x.shape[0]):
        if x[i] * x[i - 1] > best:
            best = x[i] * x[i - 1]
            where = i
    return best, where


def chained_sums(x, y):
    sw = sx = sy = 0.0
    for i in range(x.shape[0]):
        sw += 1.0
        sx += x[i]
        sy += y[i] * sx
    return sw, sx, sy


def test_explain_names_the_carried_variables():
    """The loop reasons name each carried variable as the user wrote it (the
    tracer records the names: LoopInfo.arg_names), once, not the name on the
    source line of the update (two variables updated in one `if` were both
    `where`; chained assignments gave one name to several)."""
    x, y = np.random.default_rng(9).standard_normal((2, 20))
    check(two_updates_in_one_if, x)
    reason = lt.explain(lt.jit(two_updates_in_one_if, backend="interpret"), x).loops[0].reason
    assert reason.count("`best`") == 1 and reason.count("`where`") == 1, reason
    check(chained_sums, x, y)
    reason = lt.explain(lt.jit(chained_sums, backend="interpret"), x, y).loops[0].reason
    for name in ("sx", "sy"):
        assert f"`{name}`" in reason, reason
