"""A read whose value nothing uses still raises IndexError where the plain
function does (vectorize/dead_reads.py): the passes drop unused ops, so the
read's bounds check becomes a check op of its own. Values and messages are
compared with the plain function, on the interpreter and the CPU backend."""

import numpy as np
import pytest

import looptrace


def scalar_read(x, i):
    unused = x[i]
    return x * 2.0


def read_in_loop(x, i):
    s = 0.0
    for t in range(3):
        unused = x[i + t]
        s += x[t]
    return s


def row_and_slice(A, i, j):
    row = A[i]
    window = A[j:j + 2, 1]
    return A.sum()


def fancy(x, idx):
    unused = x[idx]
    return x + 1.0


def dead_loop(x, i):
    for t in range(4):
        unused = x[i - t]
    return x.mean()


CASES = [
    (scalar_read, lambda r: r.standard_normal(5), [0, 4, -5], [5, -6, 70]),
    (read_in_loop, lambda r: r.standard_normal(6), [0, 3], [4, 6]),
    (dead_loop, lambda r: r.standard_normal(6), [3, 5], [2, 10]),
]


def _outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except IndexError as e:
        return "IndexError", str(e).splitlines()[0]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn, make, good, bad", CASES, ids=[c[0].__name__ for c in CASES])
def test_an_unused_read_raises_as_the_plain_function_does(fn, make, good, bad, backend, rng):
    x = make(rng)
    f = looptrace.jit(fn, backend=backend)
    for i in good + bad:
        want, got = _outcome(fn, x, i), _outcome(f, x, i)
        assert want[0] == got[0], (i, want, got)
        if want[0] == "ok":
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        else:
            assert got[1] == want[1]


def test_an_unused_index_array_read_raises(rng):
    x = rng.standard_normal(5)
    g = looptrace.jit(fancy, backend="interpret")
    np.testing.assert_allclose(g(x, np.array([0, -5, 4])), fancy(x, np.array([0, -5, 4])))
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 5"):
        g(x, np.array([0, 5]))
    with pytest.raises(IndexError, match="index -6 is out of bounds for axis 0 with size 5"):
        g(x, np.array([-6, 1]))


def rows_in_loop(A, i):
    s = 0.0
    for t in range(3):
        row = A[i + t]
        part = A[i - t, 1:]
        s += A[t, 0]
    return s


def view_then_write(A, i):
    row = A[i]
    A[0] = 1.0
    return row.sum()


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_unused_row_view_raises(backend, rng):
    A = rng.standard_normal((4, 3))
    f = looptrace.jit(row_and_slice, backend=backend)
    for i, j in [(3, 2), (-4, 3), (4, 0), (-5, 0)]:
        want, got = _outcome(row_and_slice, A, i, j), _outcome(f, A, i, j)
        assert want[0] == got[0] and (want[0] == "ok" or want[1] == got[1]), (i, want, got)
    g = looptrace.jit(rows_in_loop, backend=backend)
    for i in [0, 1, 2, -1, 3, 6, -2]:
        want, got = _outcome(rows_in_loop, A, i), _outcome(g, A, i)
        assert want[0] == got[0] and (want[0] == "ok" or want[1] == got[1]), (i, want, got)
        if want[0] == "ok":
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def test_a_view_read_after_a_write_to_its_base(rng):
    for i in [2, 0, -1]:
        A = rng.standard_normal((4, 3))
        B = A.copy()
        np.testing.assert_allclose(looptrace.jit(view_then_write, backend="interpret")(A, i), view_then_write(B, i))
        np.testing.assert_array_equal(A, B)
    A = rng.standard_normal((4, 3))
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 0 with size 4"):
        looptrace.jit(view_then_write, backend="interpret")(A, 4)


def test_a_used_read_gets_no_second_check(rng):
    def used(x, i):
        return x[i] * 2.0

    program = looptrace.jit(used, backend="interpret").explain(rng.standard_normal(5), 2).program
    assert not any(op.prim.name == "check" for op in program.body.ops)

    def used_row(A, i):
        row = A[i]
        return row * 2.0

    program = looptrace.jit(used_row, backend="interpret").explain(rng.standard_normal((4, 3)), 2).program
    assert not any(op.prim.name == "check" for op in program.body.ops)
