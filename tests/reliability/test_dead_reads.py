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


@pytest.mark.xfail(strict=True, reason="a view (a row, a slice) is made only when it is used "
                                       "(tracer/windows.py): one never used is never checked")
def test_an_unused_row_view_raises(rng):
    A = rng.standard_normal((4, 3))
    f = looptrace.jit(row_and_slice, backend="interpret")
    np.testing.assert_allclose(f(A, 3, 2), row_and_slice(A, 3, 2))
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 0 with size 4"):
        f(A, 4, 0)


def test_a_used_read_gets_no_second_check(rng):
    def used(x, i):
        return x[i] * 2.0

    program = looptrace.jit(used, backend="interpret").explain(rng.standard_normal(5), 2).program
    assert not any(op.prim.name == "check" for op in program.body.ops)
