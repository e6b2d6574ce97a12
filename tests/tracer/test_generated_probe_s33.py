"""What differential fuzzing with generated loop programs found (session
33), each against the plain function: a loop nothing reads that reads out of
range (the IndexError was dropped with the loop), `min(0.5, x[i])` then a
traced `if` (an internal "used as a Python bool"), and a NumPy value whose
dtype the first iteration widens (the first step was computed in the wider
dtype)."""
import numpy as np
import pytest

import looptrace as lt

BACKENDS = ["interpret", "cpu"]


def unread_sum(x):
    s = 0.0
    for j in range(len(x)):
        s += x[j + 1]
    return 1


def unread_temporary(x):
    for j in range(len(x)):
        t = x[j + 1]
    return 1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", [unread_sum, unread_temporary])
def test_an_unread_loop_still_raises_where_it_reads_out_of_range(fn, backend):
    x = np.array([0.5, 1.0, 2.0])
    with pytest.raises(IndexError) as plain:
        fn(x)
    with pytest.raises(IndexError) as got:
        lt.jit(fn, backend=backend)(x)
    assert str(plain.value) in str(got.value)


def min_then_if(x):
    h = 0.0
    h = h + min(0.5, x[1])
    if x[2] > 0:
        h += 1.0
    return h


def min_in_loop_then_if(x, M):
    h = 0.0
    for i in range(M.shape[1]):
        h += min(0.5, M[0, i])
        if M[0, i] > x[0]:
            h += 1.0
    return h


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_value_python_on_some_runs_then_a_branch(backend):
    """The branch merge asked a traced flag for its truth (`in (True, False)`)."""
    for seed in range(3):
        r = np.random.default_rng(seed)
        x, M = r.standard_normal(6), r.standard_normal((2, 5))
        for fn, args in ((min_then_if, (x,)), (min_in_loop_then_if, (x, M))):
            got, want = lt.jit(fn, backend=backend)(*args), fn(*args)
            assert got == want and type(got) is type(want)


def widened_scalar(x32, y):
    h = x32[0]
    for i in range(len(y)):
        h = h * 0.7 + y[i]
    return h


def widened_array(a32, Y):
    h = a32.copy()
    for i in range(Y.shape[0]):
        h = h * 0.7 + Y[i]
    return h


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_first_iteration_computes_in_the_entry_dtype(backend):
    """`h * 0.7` of a float32 h is float32 in the first iteration, float64
    after (y is float64): the first iteration runs on its own."""
    x32, y = np.array([0.1], dtype=np.float32), np.array([1e-3, 1e-3, 2e-3])
    a32, Y = np.array([0.1, 0.3], dtype=np.float32), np.full((3, 2), 1e-3)
    for fn, args in ((widened_scalar, (x32, y)), (widened_array, (a32, Y))):
        got, want = lt.jit(fn, backend=backend)(*args), fn(*args)
        assert np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_array_equal(got, want)


def updated_after_the_loop(x):
    last = 0.0
    for i in range(len(x)):
        last = x[i]
    last += 1.0
    return x.sum()


def counted_in_a_while(x):
    n = 0
    i = 0
    while i < x.shape[0] and x[i] > 0:
        n = i
        i += 1
    n += 1
    return n


def test_an_augmented_assignment_after_a_loop_reads_its_value():
    """`last += 1.0` after the loop reads `last`: it was not live after the
    loop, and the read failed as 'used before it is assigned'."""
    x = np.arange(1.0, 4.0)
    assert lt.jit(updated_after_the_loop, backend="interpret")(x) == updated_after_the_loop(x)
    assert lt.jit(counted_in_a_while, backend="interpret")(x) == counted_in_a_while(x)
