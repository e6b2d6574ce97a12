"""Names a loop binds to arrays from outside it (session 56, helper W2): a name the body rebinds before
any use is not refused because another name writes the array it entered with, and a name (or the
return slot) that leaves an iteration holding one of several arguments, chosen by traced conditions,
is that argument after the loop (control.LoopTrace._held_outside, carries.ValueSpec.outer): writes
through it reach the argument, and a returned one `is` it, as in the plain function. Each compiled
call is checked against the plain function on fresh random data: values, effects, `is`."""
import numpy as np
import pytest

import looptrace as lt

N = 5


def rebound_before_use(x, y, n):
    """`a` entered linked to x or y (a traced `if`); the body rebinds it before any use, so the
    array it entered with is reached through `b` only (was refused: 'written in place and rebound')."""
    a = x
    if x[0] > 0:
        a = y
    for i in range(n):
        a = y
        b = y
        b[i] += 1.0
    a[N - 1] -= 2.0
    return a.sum()


def entry_written_by_another_name(x, y, n):
    a = x
    for i in range(n):
        a = y
        b = x
        b[i] *= 3.0
    a[0] += 1.5
    return a


def returned_from_the_loop(x, y, z, n):
    for i in range(n):
        if x[i] > 0:
            y[i] = 5.0
            return y
    return z


def returned_one_of_two(x, y, z, n):
    for i in range(n):
        if x[i] > 0.5:
            return y
        if x[i] < -0.5:
            z[i] = -1.0
            return z
    return x


def chosen_in_the_body_then_written(x, y, z, n):
    """`b` leaves each iteration as y or z, as x[i] says: the write after the loop reaches that one
    (was refused; with `b` unbound before the loop it was silently lost)."""
    b = x
    for i in range(n):
        a = y
        b = z
        if x[i] > 0.0:
            b = a
        a[i] -= 1.0
    b[0] += 7.0
    return b


def kept_unless_rebound(x, y, n):
    """`a` is x after the loop unless some iteration rebound it to an array of its own."""
    a = x
    for i in range(n):
        if y[i] > 1.0:
            a = a * 2.0
    a[1] += 0.5
    return a


def returned_from_a_while_loop(x, y, n):
    i = 0
    while i < n:
        if x[i] > 0.5:
            return y
        i += 1
    return x


def returned_from_nested_loops(x, y, z, n):
    for i in range(n):
        for j in range(n):
            if x[i] + y[j] > 1.0:
                z[j] += 1.0
                return z
            if x[j] < -1.0:
                return y
    return x


def chosen_in_an_inner_loop(x, y, z, n):
    b = x
    for i in range(n):
        for j in range(2):
            if y[i] > 0.3:
                b = z
    b[0] += 1.0
    return b


def _same(f, jf, args) -> None:
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want, got = f(*plain), jf(*args)
    np.testing.assert_array_equal(got, want)
    for a, p in zip(args, plain):
        np.testing.assert_array_equal(a, p)
    if isinstance(want, np.ndarray):
        assert [got is a for a in args] == [want is p for p in plain]


@pytest.mark.parametrize("f", [rebound_before_use, entry_written_by_another_name, returned_from_the_loop,
                               returned_one_of_two, chosen_in_the_body_then_written, kept_unless_rebound,
                               returned_from_a_while_loop, returned_from_nested_loops, chosen_in_an_inner_loop])
def test_as_the_plain_function(f):
    """Trip counts 0 to N (a run-time n), each on fresh data of both signs."""
    jf = lt.jit(f, backend="interpret")
    r = np.random.default_rng(5602)
    k = f.__code__.co_argcount - 1
    for n in range(N + 1):
        for _ in range(3):
            _same(f, jf, [r.standard_normal(N) for _ in range(k)] + [n])


def test_returned_from_the_loop_is_the_argument_cpu():
    jf = lt.jit(returned_one_of_two, backend="cpu")
    r = np.random.default_rng(5603)
    for n in (0, 2, N):
        for _ in range(3):
            _same(returned_one_of_two, jf, [r.standard_normal(N) for _ in range(3)] + [n])


def used_before_rebinding(x, y, n):
    for i in range(n):
        x[i] += 1.0
        x = y
    return x


def test_a_use_before_the_rebinding_is_still_refused():
    """The body writes the array `x` entered with through `x` before rebinding it: which array each
    iteration writes is not followed, so the loop is refused before anything is written."""
    x, y = np.ones(N), np.zeros(N)
    with pytest.raises(lt.LooptraceError, match="rebound inside this loop"):
        lt.jit(used_before_rebinding, backend="interpret")(x, y, 3)
    assert (x == 1).all() and (y == 0).all()
