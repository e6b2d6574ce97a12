"""Loops and conditionals: every form issue 2 lists, jitted (interpret
backend) against the plain function on fresh random data, values and effects
on argument arrays."""

import numpy as np
import pytest

import looptrace
from ._loopcheck import check


# --- for over range ---------------------------------------------------------------------
def range1(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * i
    return s


def range2(x):
    s = 0.0
    for i in range(2, x.shape[0]):
        s = s * 0.5 + x[i]
    return s


def range3(x):
    s = 0.0
    for i in range(1, x.shape[0], 3):
        s = s + x[i] * x[i - 1]
    return s


def range_negative_step(x):
    out = np.zeros_like(x)
    acc = 0.0
    for i in range(x.shape[0] - 1, -1, -1):
        acc = acc * 0.9 + x[i]
        out[i] = acc
    return out


def range_negative_step2(x):
    s = 0.0
    for i in range(x.shape[0] - 1, 0, -2):
        s = s * 0.5 + x[i]
    return s


def range_reversed(x):
    out = np.empty_like(x)
    acc = 1.0
    for i in reversed(range(x.shape[0])):
        acc = acc * 0.5 + x[i]
        out[i] = acc
    return out


def range_reversed2(x):
    out = np.zeros(x.shape[0])
    acc = 0.0
    for i in reversed(range(2, x.shape[0])):
        acc = acc + x[i] * i
        out[i] = acc
    return out


@pytest.mark.parametrize("fn", [range1, range2, range3, range_negative_step, range_negative_step2,
                                range_reversed, range_reversed2])
def test_for_range_static_bounds(fn, rng):
    check(fn, rng.standard_normal(11))


def traced_bounds(x, n):
    s = 0.0
    for i in range(n):
        s += x[i]
    return s


def traced_bounds2(x, a, b):
    s = 0.0
    for i in range(a, b):
        s = s * 0.9 + x[i]
    return s


def traced_bounds3(x, a, b, step):
    s = 0.0
    for i in range(a, b, step):
        s = s * 0.9 + x[i]
    return s


def traced_bounds_reversed(x, n):
    out = np.zeros_like(x)
    acc = 0.0
    for i in reversed(range(n)):
        acc = acc * 0.5 + x[i]
        out[i] = acc
    return out


def test_range_traced_int_one_compile(rng):
    x = rng.standard_normal(10)
    f = check(traced_bounds, x, 7)
    check(traced_bounds, x, 3, jitted=f)
    check(traced_bounds, x, 0, jitted=f)
    assert len(f._cache) == 1


@pytest.mark.parametrize("a,b", [(2, 9), (5, 5), (7, 3)])
def test_range_traced_two_args(a, b, rng):
    check(traced_bounds2, rng.standard_normal(10), a, b)


@pytest.mark.parametrize("a,b,step", [(1, 9, 2), (9, 0, -1), (8, 1, -3), (3, 3, 1), (2, 8, -1)])
def test_range_traced_three_args(a, b, step, rng):
    check(traced_bounds3, rng.standard_normal(10), a, b, step)


def test_range_traced_step_one_compile(rng):
    x = rng.standard_normal(10)
    f = check(traced_bounds3, x, 1, 9, 2)
    check(traced_bounds3, x, 9, 0, -2, jitted=f)
    assert len(f._cache) == 1


@pytest.mark.parametrize("n", [0, 1, 6])
def test_reversed_traced_range(n, rng):
    check(traced_bounds_reversed, rng.standard_normal(6), n)


def traced_bound_from_array(x, m):
    s = 0.0
    for i in range(m.shape[0], x.shape[0]):
        s += x[i]
    return s


def test_bound_from_shape(rng):
    check(traced_bound_from_array, rng.standard_normal(9), rng.standard_normal(4))


# --- for over arrays, enumerate, zip -----------------------------------------------------------
def over_rows(X):
    s = np.zeros(X.shape[1:])
    for row in X:
        s = s * 0.5 + row
    return s


def over_enumerate(X):
    out = np.zeros(X.shape[0])
    for i, row in enumerate(X):
        out[i] = row.sum() * i
    return out


def over_enumerate_start(x):
    s = 0.0
    for i, v in enumerate(x, 2):
        s = s + v * i
    return s


def over_enumerate_range(x):
    s = 0.0
    for k, i in enumerate(range(1, x.shape[0], 2)):
        s = s + x[i] * k
    return s


def over_zip(X, Y):
    s = 0.0
    for a, b in zip(X, Y):
        s = s + np.dot(a, b)
    return s


def over_zip_range(x, Y):
    acc = np.zeros(Y.shape[1])
    for i, row in zip(range(x.shape[0]), Y):
        acc = acc + row * x[i]
    return acc


def over_enumerate_zip(X, Y):
    out = np.zeros(X.shape[0])
    for i, (a, b) in enumerate(zip(X, Y)):
        out[i] = (a * b).sum()
    return out


def over_rows_writes(X, out):
    for i, row in enumerate(X):
        out[i] = row * 2.0
    return out.sum()


def test_for_over_rows(rng):
    check(over_rows, rng.standard_normal((5, 3)))


def test_for_over_rows_3d(rng):
    check(over_rows, rng.standard_normal((4, 3, 2)))


def test_enumerate(rng):
    check(over_enumerate, rng.standard_normal((6, 3)))
    check(over_enumerate_start, rng.standard_normal(5))
    check(over_enumerate_range, rng.standard_normal(9))


def test_zip(rng):
    check(over_zip, rng.standard_normal((5, 3)), rng.standard_normal((5, 3)))
    check(over_zip, rng.standard_normal((5, 3)), rng.standard_normal((4, 3)))
    check(over_zip_range, rng.standard_normal(4), rng.standard_normal((6, 2)))
    check(over_enumerate_zip, rng.standard_normal((5, 3)), rng.standard_normal((5, 3)))


def test_rows_write_argument(rng):
    check(over_rows_writes, rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))


# --- while ------------------------------------------------------------------------------------
def while_traced(x, tol):
    s = 0.0
    i = 0
    while s < tol and i < x.shape[0]:
        s = s + np.abs(x[i])
        i += 1
    return s, i


def while_newton(a):
    y = a.copy()
    it = 0
    while np.max(np.abs(y * y - a)) > 1e-12:
        y = 0.5 * (y + a / y)
        it = it + 1
    return y, it


def while_python(x):
    s = 0.0
    k = 0
    while k < 3:
        s = s + x[k]
        k += 1
    return s


def while_writes(x):
    out = np.zeros_like(x)
    i = 0
    while i < x.shape[0] and x[i] < 1.5:
        out[i] = x[i] * 2
        i = i + 1
    return out


def test_while(rng):
    x = rng.standard_normal(20)
    check(while_traced, x, 3.0)
    check(while_traced, x, 1e9)
    check(while_traced, x, -1.0)
    check(while_newton, rng.random(5) + 0.5)
    check(while_python, x)
    check(while_writes, x)


# --- break / continue --------------------------------------------------------------------------
def for_break(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 1.0:
            break
        s += x[i]
    return s


def for_continue(x):
    s = 0.0
    n = 0
    for i in range(x.shape[0]):
        if x[i] < 0:
            continue
        s += x[i]
        n += 1
    return s, n


def for_break_continue(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < -0.5:
            continue
        elif x[i] > 1.2:
            break
        s = s * 0.9 + x[i]
    return s


def for_break_nested_if(x, out):
    for i in range(x.shape[0]):
        if x[i] > 0:
            if x[i] > 1.0:
                break
            out[i] = x[i]
        else:
            out[i] = -x[i]
    return out.sum()


def for_break_python_cond(x):
    s = 0.0
    for i in range(x.shape[0]):
        if i == 4:
            break
        s += x[i]
    return s


def while_break(x):
    i = 0
    s = 0.0
    while i < x.shape[0]:
        if s > 2.0:
            break
        s = s + abs(x[i])
        i = i + 1
    return s, i


def while_continue(x):
    i = 0
    s = 0.0
    while i < x.shape[0]:
        i = i + 1
        if x[i - 1] < 0:
            continue
        s = s + x[i - 1]
    return s


def break_over_rows(X):
    acc = np.zeros(X.shape[1])
    for row in X:
        if row.sum() > 1.0:
            break
        acc += row
    return acc


@pytest.mark.parametrize("fn", [for_break, for_continue, for_break_continue, for_break_python_cond,
                                while_break, while_continue])
def test_break_continue(fn, rng):
    check(fn, rng.standard_normal(15))


def test_break_nested_if_writes_argument(rng):
    check(for_break_nested_if, rng.standard_normal(15), rng.standard_normal(15))


def test_break_over_rows(rng):
    check(break_over_rows, rng.standard_normal((8, 3)))


def test_break_never_taken(rng):
    check(for_break, rng.random(6) * 0.5)


# --- nested loops -----------------------------------------------------------------------------
def nested2(A):
    out = np.zeros(A.shape[0])
    for i in range(A.shape[0]):
        acc = 0.0
        for j in range(A.shape[1]):
            acc = acc * 0.5 + A[i, j]
        out[i] = acc
    return out


def nested2_triangular(A):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(i):
            s = s + A[i, j] * A[j, i]
    return s


def nested3(A):
    out = np.zeros((A.shape[0], A.shape[1]))
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s = 0.0
            for k in range(A.shape[2]):
                s = s + A[i, j, k] * k
            out[i, j] = s
    return out


def nested3_recurrence(A, h0):
    h = h0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            for k in range(A.shape[2]):
                h = np.tanh(h * 0.5 + A[i, j, k])
    return h


def nested_inner_break(A):
    out = np.zeros(A.shape[0])
    for i in range(A.shape[0]):
        s = 0.0
        for j in range(A.shape[1]):
            if A[i, j] > 1.0:
                break
            s += A[i, j]
        out[i] = s
    return out


def nested_while_in_for(x):
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        v = abs(x[i]) + 1.0
        n = 0
        while v > 1.1:
            v = v * 0.5
            n += 1
        out[i] = n
    return out


def test_nested_2(rng):
    check(nested2, rng.standard_normal((4, 5)))
    check(nested2_triangular, rng.standard_normal((5, 5)))


def test_nested_3(rng):
    check(nested3, rng.standard_normal((3, 4, 5)))
    check(nested3_recurrence, rng.standard_normal((2, 3, 4)), rng.standard_normal(3))


def test_nested_break_and_while(rng):
    check(nested_inner_break, rng.standard_normal((5, 6)))
    check(nested_while_in_for, rng.standard_normal(6) * 4)


def escape_counts(re, limit):
    out = np.zeros(re.shape, dtype=np.int64)
    for i in range(re.shape[0]):
        for j in range(re.shape[1]):
            x, n = 0.0, 0
            for k in range(limit):
                if x * x > 4.0:
                    break  # the k loop's: i and j stay counted loops
                x = x * x + re[i, j]
                n += 1
            out[i, j] = n
    return out


def first_row_without_negatives(X):
    found = -1
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] < 0:
                break
        else:
            found = i
            break  # in the inner loop's else clause: the outer loop's break
    return found


def rows_with_negatives(X):
    count = 0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] < 0:
                break
        else:
            continue  # the outer loop's continue
        count += 1
    return count


def test_a_break_belongs_to_its_own_loop(rng):
    re = rng.uniform(-2.0, 1.0, (4, 5))
    check(escape_counts, re, 12)
    kinds = [r.kind for r in looptrace.explain(escape_counts, re, 12).loops]
    assert kinds[:2] != ["while", "while"] and "while" not in kinds[:2], kinds
    assert kinds[2] == "while"


@pytest.mark.parametrize("fn", [first_row_without_negatives, rows_with_negatives])
def test_jumps_in_an_inner_loops_else_clause_are_the_outer_loops(fn, rng):
    X = rng.standard_normal((6, 3))
    X[3] = np.abs(X[3])  # one row without negatives
    check(fn, X)
    check(fn, -np.abs(X))
    check(fn, np.abs(X))


# --- if / elif / else ----------------------------------------------------------------------------
def if_traced(x, a):
    if a > 0:
        y = x * 2
    elif a > -1:
        y = x + 1
    else:
        y = -x
    return y


def if_python(x, flag):
    if flag:
        y = x * 2
    elif x.shape[0] > 100:
        y = x + 1
    else:
        y = -x
    return y


def if_in_loop_writes(x, out):
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            out[i] = x[i]
        elif x[i] < -0.5:
            out[i] = 2 * x[i]
        else:
            out[i] += 1.0
    return out


def if_in_loop_local(x):
    buf = np.zeros((x.shape[0], 2))
    acc = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            buf[i, 0] = x[i]
            acc = acc + x[i]
        else:
            buf[i, 1] = acc
    return buf, acc


def if_python_in_loop(x):
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        if x.ndim == 1:
            out[i] = x[i] + 1
        else:
            out[i] = 0
    return out


def if_only_then(x, a):
    y = x
    if a > 0:
        y = y * 3
    return y


def if_array_reduce_cond(x):
    if x.sum() > 0:
        return x * 2
    return x


@pytest.mark.parametrize("a", [1.5, -0.5, -3.0])
def test_if_traced_value(a, rng):
    check(if_traced, rng.standard_normal(4), a)
    check(if_only_then, rng.standard_normal(4), a)


def test_if_traced_one_compile(rng):
    x = rng.standard_normal(4)
    f = check(if_traced, x, 2.0)
    check(if_traced, x, -2.0, jitted=f)
    assert len(f._cache) == 1


@pytest.mark.parametrize("flag", [True, False])
def test_if_python_value(flag, rng):
    check(if_python, rng.standard_normal(4), flag, static_argnames=("flag",))


def test_if_inside_loops(rng):
    check(if_in_loop_writes, rng.standard_normal(12), rng.standard_normal(12))
    check(if_in_loop_local, rng.standard_normal(10))
    check(if_python_in_loop, rng.standard_normal(5))


def test_if_return_traced_condition(rng):  # tests/tracer/test_early_return.py has the rest
    f = looptrace.jit(if_array_reduce_cond, backend="interpret")
    check(if_array_reduce_cond, np.abs(rng.standard_normal(4)), jitted=f)
    check(if_array_reduce_cond, -np.abs(rng.standard_normal(4)), jitted=f)


def if_return_python(x, k):
    if k > 1:
        return x * k
    return x


def test_if_return_python_condition(rng):
    check(if_return_python, rng.standard_normal(3), 3, static_argnames=("k",))
    check(if_return_python, rng.standard_normal(3), 0, static_argnames=("k",))


# --- zero-trip loops ----------------------------------------------------------------------------
def zero_trip(x, n):
    s = 1.5
    out = x.copy()
    for i in range(n):
        s = s + x[i]
        out[i] = 0.0
    return s, out


def zero_trip_static(x):
    s = 2.0
    for i in range(x.shape[0], 0):
        s = s + x[i]
    return s


def zero_trip_while(x):
    s = 3.0
    i = 0
    while i < 0:
        s = s + x[i]
        i += 1
    return s, i


def test_zero_trip(rng):
    x = rng.standard_normal(5)
    f = check(zero_trip, x, 0)
    check(zero_trip, x, 3, jitted=f)
    check(zero_trip_static, x)
    check(zero_trip_while, x)


def zero_trip_new_name(x, n):
    for i in range(n):
        last = x[i]
    return last


def zero_trip_new_name_static(x):
    for i in range(x.shape[0]):
        last = x[i]
    return last


def test_zero_trip_name_unbound(rng):
    """A name first assigned in a loop that may run zero times may be unbound
    after it, as in Python: bound where the loop ran, UnboundLocalError at run
    time where it did not (values.MaybeBound)."""
    x = rng.standard_normal(3)
    with pytest.raises(UnboundLocalError):
        zero_trip_new_name(x, 0)
    assert looptrace.jit(zero_trip_new_name, backend="interpret")(x, 2) == zero_trip_new_name(x, 2)
    with pytest.raises(UnboundLocalError, match="'last'") as e:
        looptrace.jit(zero_trip_new_name, backend="interpret")(x, 0)
    assert "return last" in str(e.value) or any("return last" in n for n in getattr(e.value, "__notes__", []))
    check(zero_trip_new_name_static, x)  # a static trip count > 0: always assigned
    with pytest.raises(UnboundLocalError, match="'last'"):  # no iteration, known while tracing: Python's error
        looptrace.jit(zero_trip_new_name_static, backend="interpret")(x[:0])


def test_trace_size_independent_of_trip_count(rng):
    """Each loop body is traced once: the IR is the same size for 10 and 10**6 trips."""
    from looptrace.ir.core import walk

    sizes = []
    for T in (10, 10**6):
        f = looptrace.jit(nested2, backend="interpret")
        sizes.append(sum(1 for _ in walk(f.trace([np.ones((T, 3))]).body)))
    assert sizes[0] == sizes[1]


# --- tuples carried through loops, conditional expressions, comprehensions -------------------------
def tuple_state(X):
    state = (np.zeros(X.shape[1]), np.ones(X.shape[1]))
    for t in range(X.shape[0]):
        h, c = state
        c = np.tanh(c + X[t])
        state = (h * 0.5 + c, c)
    return state[0], state


def tuple_nested_state(X):
    s = (0.0, (np.zeros(X.shape[1]), 1))
    for t in range(X.shape[0]):
        a, (b, c) = s
        s = (a + X[t, 0], (b + X[t], c * 2))
    return s


def tuple_first_assigned_in_loop(X):
    for t in range(X.shape[0]):
        last = (X[t] * 2, X[t].sum())
    return last


def tuple_in_while(x):
    st = (0, 0.0)
    while st[0] < x.shape[0] and st[1] < 1.0:
        st = (st[0] + 1, st[1] + abs(x[st[0]]))
    return st


def tuple_changes_length(X):
    s = (0.0, 1.0)
    for t in range(X.shape[0]):
        s = (s[0] + X[t, 0],)
    return s


def test_tuple_carries(rng):
    X = rng.standard_normal((5, 3))
    check(tuple_state, X)
    check(tuple_nested_state, X)
    check(tuple_first_assigned_in_loop, X)
    check(tuple_in_while, rng.standard_normal(8))
    with pytest.raises(looptrace.UnsupportedError, match="tuple of length 2"):
        looptrace.jit(tuple_changes_length, backend="interpret")(X)


def ternary(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + (x[i] if x[i] > 0 else -2 * x[i])
    return s, (s if s > 1 else 1.0), (1 if x.shape[0] > 2 else 2)


def ternary_guarded_index(x, k):
    return x[k] if k < x.shape[0] else 0.0


def test_conditional_expression(rng):
    check(ternary, rng.standard_normal(6))
    x = rng.standard_normal(4)
    f = check(ternary_guarded_index, x, 2)
    check(ternary_guarded_index, x, 7, jitted=f)  # the guarded index is not evaluated


def comprehension(X):
    return np.array([X[i].sum() for i in range(X.shape[0])]), sum(X[i, 0] for i in range(2))


def comprehension_traced_range(X, n):
    return np.array([X[i].sum() for i in range(n)])


def comprehension_data_range(X):
    return np.array([X[i].sum() for i in range(int(X[0, 0] > 0) + 1)])


def test_comprehensions(rng):
    check(comprehension, rng.standard_normal((3, 2)))
    f = check(comprehension_traced_range, rng.standard_normal((3, 2)), 2)  # n is specialized on
    assert "specialized on `n` = 2" in str(looptrace.explain(f, rng.standard_normal((3, 2)), 2))
    with pytest.raises(looptrace.UnsupportedError, match="for loop") as e:
        looptrace.jit(comprehension_data_range, backend="interpret")(rng.standard_normal((3, 2)))
    assert "for i in range(int(X[0, 0] > 0) + 1)" in str(e.value)


def dict_mutated_in_loop(X):
    d = {"a": 0.0}
    for t in range(X.shape[0]):
        d["a"] = d["a"] + X[t, 0]
    return d["a"]


def dict_call_mutated_in_loop(X):
    d = dict(a=0.0)
    for t in range(X.shape[0]):
        d["a"] = d["a"] + X[t, 0]
    return d["a"]


def test_value_escaping_a_loop_is_refused(rng):
    X = rng.standard_normal((3, 2))
    # a dict display of constant keys is carried item by item (tests/tracer/test_number_dicts.py)
    assert looptrace.jit(dict_mutated_in_loop, backend="interpret")(X) == pytest.approx(dict_mutated_in_loop(X))
    # a dict made by a call, changed in a short static loop: the loop runs as Python (tracer/containers.py)
    assert looptrace.jit(dict_call_mutated_in_loop, backend="interpret")(X) == \
        pytest.approx(dict_call_mutated_in_loop(X))
    long = rng.standard_normal((100, 2))  # too long to unroll: refused, naming the line that changes it
    with pytest.raises(looptrace.UnsupportedError, match="changed inside") as e:
        looptrace.jit(dict_call_mutated_in_loop, backend="interpret")(long)
    assert 'd["a"] = d["a"] + X[t, 0]' in str(e.value)


# --- for/while ... else ------------------------------------------------------------------------
def for_else_no_break(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    else:
        s = -s
    return s


def for_else_break(x):
    found = -1
    for i in range(x.shape[0]):
        if x[i] > 1.0:
            found = i
            break
    else:
        found = x.shape[0]
    return found


def while_else_break(x):
    i = 0
    s = 0.0
    while i < x.shape[0]:
        if s > 2.0:
            break
        s = s + abs(x[i])
        i += 1
    else:
        s = s * 10
    return s, i


def test_loop_else(rng):
    x = rng.standard_normal(8)
    check(for_else_no_break, x)
    check(for_else_break, x)
    check(for_else_break, x * 0.1)  # no break: the else runs
    check(while_else_break, x)
    check(while_else_break, x * 0.01)


def break_last_statement(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += abs(x[i])
        if s > 1.5:
            break
    return s


def while_break_last_guards_condition(x):
    i = 0
    while x[i] < 5.0:
        i += 1
        if i == x.shape[0]:
            break  # the condition x[i] is not evaluated again: it would be out of range
    return i


def test_break_as_last_statement(rng):
    x = rng.standard_normal(10)
    check(break_last_statement, x)
    check(while_break_last_guards_condition, x)
    check(while_break_last_guards_condition, x + 10.0)


# --- a static range whose index selects items of a Python list: unrolled ------------------------
def layer_stack(x, W0, W1, W2):
    Ws = [W0, W1, W2]
    h = x
    for k in range(len(Ws)):
        h = np.tanh(Ws[k] @ h)
        if k > 0:
            h = h + 0.5 * x
    return h


def list_index_in_long_loop(x):
    coefs = [0.5] * 100
    s = 0.0
    for k in range(100):
        s = s + coefs[k] * x[k % x.shape[0]]
    return s


def test_python_list_indexed_by_loop_index(rng):
    W = [rng.standard_normal((3, 3)) for _ in range(3)]
    f = check(layer_stack, rng.standard_normal(3), *W)
    e = f.explain(rng.standard_normal(3), *W)
    assert len(e.loops) == 1 and "unrolled" in e.loops[0].reason
    # a list of Python numbers read at the loop index is a constant table: the loop is traced once
    check(list_index_in_long_loop, rng.standard_normal(4))
    assert "unrolled" not in looptrace.explain(list_index_in_long_loop, rng.standard_normal(4)).loops[0].reason
