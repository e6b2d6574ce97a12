"""What a probe of control flow found (session 33), against the plain
function: a conditional expression of arrays was a copy (writes through it
were lost), a random draw or an array write in a `while` test was evaluated
one iteration late (the result of the first draw was ignored; a write in the
test hung), a walrus in the test raised UnboundLocalError, and len() of a
list grown in the loop raised a bare TypeError."""
import numpy as np
import pytest

import looptrace as lt

BACKENDS = ["interpret", "cpu"]


def counts_through_a_choice(x):
    a = np.zeros(2)
    b = np.zeros(2)
    for i in range(4):
        t = a if x[i] > 0 else b
        t[0] += 1.0
    return a, b


def dtype_by_choice(x):
    return np.ones(2, dtype=np.int64) if x[0] > 0 else np.ones(2)


def drawn_in_a_choice(x, rng):
    s = 0.0
    for i in range(x.shape[0]):
        s += rng.random() if x[i] > 0 else 0.5
    return s


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_conditional_expression_of_arrays_is_the_array(backend):
    x = np.array([1.0, -1.0, 1.0, 1.0])
    got, want = lt.jit(counts_through_a_choice, backend=backend)(x), counts_through_a_choice(x)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(lt.UnsupportedError, match="int64 on one side"):
        lt.jit(dtype_by_choice, backend=backend)(x)
    r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
    y = np.random.default_rng(1).standard_normal(10)
    assert lt.jit(drawn_in_a_choice, backend=backend)(y, r1) == drawn_in_a_choice(y, r2)
    assert r1.bit_generator.state == r2.bit_generator.state


def draws_until(g):
    n = 0
    while abs(g.standard_normal()) < 1.5:
        n += 1
    return n


def step(a):
    a[0] += 1.0
    return a[0] < 3.0


def steps_in_the_test(x):
    n = 0
    while step(x):
        n += 1
    return n


def walrus(x):
    i = 0
    s = 0.0
    while (i := i + 1) < 4:
        s += x[i]
    return s, i


def draws_with_jumps(g):
    n = 0
    while g.random() < 0.9:
        if n > 5:
            break
        n += 1
        if n % 2 == 0:
            continue
        n += 0
    return n


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn, make", [
    (draws_until, lambda s: (np.random.default_rng(s),)),
    (steps_in_the_test, lambda s: (np.array([0.5 - s]),)),
    (walrus, lambda s: (np.arange(6.0) + s,)),
    (draws_with_jumps, lambda s: (np.random.default_rng(s),)),
], ids=lambda x: getattr(x, "__name__", ""))
def test_a_while_test_that_acts(fn, make, backend):
    f = lt.jit(fn, backend=backend)
    for seed in range(4):
        a1, a2 = make(seed), make(seed)
        assert f(*a1) == fn(*a2)
        for x, y in zip(a1, a2):
            if isinstance(x, np.random.Generator):
                assert x.bit_generator.state == y.bit_generator.state
            else:
                np.testing.assert_array_equal(x, y)


def stack_length(x):
    stack = [x[0]]
    n = 0
    while len(stack) > 0 and n < 3:
        stack.append(x[n])
        n += 1
    return n


def test_len_of_a_list_grown_in_the_loop():
    """len() of a list inside the loop that appends to it: its count (a clear
    error before session 38; tests/tracer/test_while_lists.py)."""
    for backend in ("interpret", "cpu"):
        assert lt.jit(stack_length, backend=backend)(np.arange(4.0)) == stack_length(np.arange(4.0))


def jumps_in_try(x):
    s = 0.0
    for i in range(x.shape[0]):
        try:
            if x[i] > 1.0:
                break
            if x[i] < 0:
                continue
            s += x[i]
        except ValueError:
            pass
        finally:
            s += 0.5
        s *= 1.5
    return s


@pytest.mark.parametrize("backend", BACKENDS)
def test_break_and_continue_inside_try(backend):
    """Refused with no file or line; the `finally:` runs on the way out, as Python's."""
    for x in (np.array([0.5, -1.0, 0.3, 2.0, 0.1]), np.array([0.2, 0.4])):
        assert lt.jit(jumps_in_try, backend=backend)(x) == jumps_in_try(x)


def sliced_by_an_int(x, n):
    if n > 3:
        y = x[:n]
    else:
        y = x[n:]
    return y.sum()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_branch_on_an_int_argument_that_chooses_a_shape_specializes(backend):
    """The two sides' shapes differ: where the condition comes from int
    arguments they are made static (it was refused)."""
    f = lt.jit(sliced_by_an_int, backend=backend)
    x = np.arange(8.0)
    for n in (5, 2):
        assert f(x, n) == sliced_by_an_int(x, n)
