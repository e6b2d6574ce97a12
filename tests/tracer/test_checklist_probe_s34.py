"""Gaps the session-34 checklist probe found: each compared with the plain
function on random data (interpret; cpu where codegen matters)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import looptrace

from ._compare import assert_same, check


@pytest.fixture
def rng():
    return np.random.default_rng(34)


def clip_low(x):
    return x.clip(0.25), x.clip(max=0.5), x.clip(0.1, 0.9)


def test_the_clip_method_takes_one_bound(rng):
    check(clip_low, rng.random(7).astype(np.float32))


@pytest.mark.parametrize("kw", [{"prepend": 0}, {"append": 0.0}, {"prepend": 1, "append": 2}])
def test_diff_with_a_python_number_edge_promotes_as_numpy(rng, kw):
    x = rng.random(6).astype(np.float32)
    assert_same(looptrace.jit(lambda x: np.diff(x, **kw), backend="interpret")(x), np.diff(x, **kw))


def float_formats(x, y, k):
    out = np.empty((4, x.shape[0]))
    for i in range(x.shape[0]):
        out[0, i] = math.ldexp(x[i], int(k[i]))
        out[1, i] = math.nextafter(x[i], y[i]) - x[i]
        out[2, i] = math.ulp(x[i])
        out[3, i] = math.remainder(x[i], y[i])
    return out


# cpu with -m slow (4.7 s of session 55's CI): math.ldexp, nextafter, ulp and remainder trace to
# bit operations, selects and powers of two (tracer/pymath.py, np_breadth.py) that
# tests/tracer/test_np_breadth_s23.py test_float_formats_special_values[cpu] compiles by default
# (np.frexp, spacing, nextafter of subnormals, infinities and NaN, bit-exact), and tests/codegen each
# primitive; this file's representative cpu twin is then the next one (conftest)
@pytest.mark.parametrize("backend", ["interpret", pytest.param("cpu", marks=pytest.mark.slow)])
def test_math_float_format_functions(rng, backend):
    x = np.concatenate([rng.standard_normal(10) * 10, [0.0, -0.0, 2.5, 3.5, -2.5, 5e-324, 1e300]])
    y = np.concatenate([rng.standard_normal(10) * 3, [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, np.inf]])
    k = np.concatenate([rng.integers(-1070, 1000, 10), [3, 4, 5, 6, 7, 8, -9]]).astype(np.float64)
    check(float_formats, x, y, k, backend=backend)


def scalar_formats(a, b):
    return math.remainder(a, b), math.ulp(a), math.ldexp(a, 3), math.nextafter(a, b)


def test_math_float_format_functions_on_scalars():
    check(scalar_formats, 1.3, 0.4)


@pytest.mark.parametrize("x, y, exc", [(np.inf, 1.0, ValueError), (1.0, 0.0, ValueError)])
def test_math_remainder_raises_as_python(x, y, exc):
    with pytest.raises(exc, match="math domain error"):
        looptrace.jit(scalar_formats, backend="interpret")(x, y)


def test_math_ldexp_overflow_raises_as_python():
    def f(x, k):
        return math.ldexp(x[0], k)

    with pytest.raises(OverflowError, match="math range error"):
        looptrace.jit(f, backend="interpret")(np.ones(1), 2000)
    assert looptrace.jit(f, backend="interpret")(np.ones(1), 20) == 2.0 ** 20


def nd_sum(a):
    s = 0.0
    for i, j in np.ndindex(a.shape):
        s += a[i, j] * i
    return s


def product_sum(a):
    s = 0.0
    for i, j, k in itertools.product(range(2), range(3), range(a.shape[0])):
        s += a[k] * i * j
    return s


def test_explain_counts_every_iteration_of_a_one_line_nest(rng):
    a = rng.random((3, 5))
    (loop,) = looptrace.explain(nd_sum, a).loops
    assert "over 15 iterations" in loop.reason
    (loop,) = looptrace.explain(product_sum, rng.random(7)).loops
    assert "over 42 iterations" in loop.reason
    check(nd_sum, a)
    check(product_sum, rng.random(7))


TABLE = (0.5, 1.5, 2.5, 3.5)


def masked_sum(x, mask=(1, 0, 1)):
    s = 0.0
    for i in range(len(x)):
        if mask[i % 3]:
            s += x[i]
    return s


def table_scale(x, table=(0.5, 1.5, 2.5, 3.5)):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = x[i] * table[i % 4]
    return out


def global_table(x):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = x[i] * TABLE[i % 4] + TABLE[-1 - i % 2]
    return out


def int_steps(x, steps=[1, 2, 3]):
    k = 0
    for i in range(len(x)):
        k += steps[i % 3]
    return k


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("n", [9, 500])
@pytest.mark.parametrize("fn", [masked_sum, table_scale, global_table, int_steps])
def test_a_tuple_of_numbers_read_at_a_traced_index_is_a_constant_table(fn, n, backend, rng):
    x = rng.random(n)
    check(fn, x, backend=backend)
    assert all("unrolled" not in loop.reason for loop in looptrace.explain(fn, x).loops)


def test_a_global_table_changed_is_seen_by_the_next_call(rng):
    global TABLE
    x = rng.random(6)
    f = looptrace.jit(global_table, backend="interpret")
    assert_same(f(x), global_table(x))
    saved, TABLE = TABLE, (1.0, 2.0, 3.0, 4.0)
    try:
        assert_same(f(x), global_table(x))
    finally:
        TABLE = saved


def past_the_table(x, t=(1.0, 2.0)):
    s = 0.0
    for i in range(len(x)):
        s += t[i]
    return s


def test_a_table_read_out_of_range_raises_index_error(rng):
    with pytest.raises(IndexError):
        looptrace.jit(past_the_table, backend="interpret")(rng.random(5))


def static_index_in_a_branch(x):
    h = np.zeros(3)
    if x[0] > 100:
        h[3] = 1.0
    return h


def static_index_at_top(x):
    h = np.zeros(3)
    h[3] = 1.0
    return h


def test_an_index_out_of_range_known_while_tracing_raises_where_the_code_runs(rng):
    x = rng.random(2)
    check(static_index_in_a_branch, x)  # never reached: no error, as in Python
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        looptrace.jit(static_index_in_a_branch, backend="interpret")(x + 200)
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        looptrace.jit(static_index_at_top, backend="interpret")(x)


def last_index_in_rows(x, n):
    out = np.empty(3, dtype=np.int64)
    for j in range(3):
        for k in range(n):
            if x[k] > 0.5:
                break
        out[j] = k
    return out


def assigned_in_a_while(x, maxit):
    it = 0
    while it < maxit:
        loss = x[it] * 2
        it += 1
    return loss, it


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_names_a_loop_that_may_not_run_assigns_are_bound_where_it_ran(backend, rng):
    x = rng.uniform(size=5)
    check(last_index_in_rows, x, 4, backend=backend)
    check(assigned_in_a_while, x, 3, backend=backend)
    with pytest.raises(UnboundLocalError, match="'loss'"):
        looptrace.jit(assigned_in_a_while, backend=backend)(x, 0)
    with pytest.raises(UnboundLocalError, match="'k'"):
        looptrace.jit(last_index_in_rows, backend=backend)(x, 0)


def formatted_raise(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] < 0:
            raise ValueError(f"negative value {x[i]:.2f} at {i}")
        s += x[i]
    return s


def formatted_assert(x):
    s = 0.0
    for i in range(len(x)):
        assert x[i] > 0, "bad %g at %d" % (x[i], i)
        s += np.log(x[i])
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn, exc", [(formatted_raise, ValueError), (formatted_assert, AssertionError)])
def test_exceptions_formatting_run_time_values_are_the_plain_functions(fn, exc, backend, rng):
    x = rng.random(300) + 0.5
    f = looptrace.jit(fn, backend=backend)
    assert f(x) == pytest.approx(fn(x), rel=1e-12)
    assert all("unrolled" not in loop.reason for loop in looptrace.explain(fn, x).loops)
    x[123] = -1.25
    with pytest.raises(exc) as plain:
        fn(x)
    with pytest.raises(exc) as compiled:
        f(x)
    assert str(compiled.value) == str(plain.value)


def sorted_small(x):
    return sorted([x[1], x[0]])[0], sorted([x[2], x[0], x[1]], reverse=True), sorted((x[0], 0.5, x[1]))


def median_of_three(x):
    out = np.empty(x.shape[0] - 2)
    for i in range(1, x.shape[0] - 1):
        out[i - 1] = sorted([x[i - 1], x[i], x[i + 1]])[1]
    return out


def sorted_by_magnitude(x):
    return sorted([x[0], x[1], x[2]], key=abs)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [sorted_small, median_of_three, sorted_by_magnitude])
def test_sorted_of_a_few_traced_numbers(fn, backend, rng):
    x = rng.standard_normal(9)
    x[3] = x[4]  # (equal items keep their order)
    check(fn, x, backend=backend)
    if fn is median_of_three:
        assert looptrace.explain(fn, x).loops[0].kind == "vectorized"


def inner_never_runs(x, n):
    tot = 0.0
    for i in range(n):
        for j in range(x.shape[0]):
            inner = x[j] * i
        tot += inner
    return tot


def index_after_empty_loop(x):
    for i in range(x.shape[0]):
        pass
    return i


def checked_counting_loop(x, n):
    c = 0.0
    for i in range(n):
        assert x[0] > 0, "x[0] must be positive"
        c += 1.0
    return c


def test_a_name_a_loop_of_no_iteration_would_assign_raises_unbound_local_error_where_used(rng):
    f = looptrace.jit(inner_never_runs, backend="interpret")
    with pytest.raises(UnboundLocalError, match="'inner'"):
        f(np.zeros(0), 2)
    assert f(np.zeros(0), 0) == 0.0
    check(inner_never_runs, rng.random(2) + 1, 3)
    with pytest.raises(UnboundLocalError, match="'i'"):
        looptrace.jit(index_after_empty_loop, backend="interpret")(np.zeros(0))
    check(index_after_empty_loop, rng.random(3))


def test_a_loop_of_a_run_time_count_keeps_its_checks(rng):
    f = looptrace.jit(checked_counting_loop, backend="interpret")
    assert f(np.ones(2), 4) == 4.0
    with pytest.raises(AssertionError, match="positive"):
        f(-np.ones(2), 4)
    assert f(-np.ones(2), 0) == 0.0
