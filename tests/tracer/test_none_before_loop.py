"""A name that is None before a loop and a value after its first iteration,
the way people track a best-so-far or a previous item:

    best = None
    for v in x:
        if best is None or v > best:
            best = v

The compiled loop carries one type, so looptrace runs the first iteration on
its own as straight-line code (where `best is None` is a Python True) and
traces the loop over the others (where it is False): tracer/control.py
`_run_peeling`. That needs the number of iterations while tracing; a
`while` loop carries the name as a value that may be None instead
(carries.OptionalSpec)."""
import numpy as np
import pytest

import looptrace as lt

from ._compare import check


def running_best(x):
    best = None
    for v in x:
        if best is None or v > best:
            best = v
    return best


def best_and_where(x):
    best = None
    where = -1
    for i in range(x.shape[0]):
        if best is None or x[i] > best:
            best = x[i]
            where = i
    return best, where


def total_variation(x):
    prev = None
    s = 0.0
    for v in x:
        if prev is not None:
            s += abs(v - prev)
        prev = v
    return s


def best_pair(x):
    best = None
    for i, v in enumerate(x):
        if best is None or v * v > best[0]:
            best = (v * v, i)
    return best


def best_row(A):
    best = None
    for row in A:
        if best is None or row.sum() > best.sum():
            best = row
    return best * 1.0


def first_over(x, t):
    best = None
    for i in range(1, x.shape[0], 2):
        if best is None or x[i] > best:
            best = x[i]
        if x[i] > t:
            break
    return best


def per_row_best(A):
    out = np.empty(A.shape[0])
    for r in range(A.shape[0]):
        best = None
        for c in range(A.shape[1]):
            if best is None or A[r, c] < best:
                best = A[r, c]
        out[r] = best
    return out


@pytest.mark.parametrize("fn", [running_best, best_and_where, total_variation, best_pair])
@pytest.mark.parametrize("n", [1, 2, 7, 40, 100])
def test_first_iteration_runs_on_its_own(fn, n):
    x = np.random.default_rng(n).standard_normal(n)
    check(fn, x)


def test_no_iterations_leave_it_none():
    assert lt.jit(running_best, backend="interpret")(np.empty(0)) is None
    assert lt.jit(total_variation, backend="interpret")(np.empty(0)) == 0.0


def test_rows_and_break_and_nested_loops():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((9, 5))
    check(best_row, A)
    check(per_row_best, A)
    x = rng.standard_normal(30)
    for t in (0.5, 1.5, 9.0):
        check(first_over, x, t)


@pytest.mark.parametrize("fn", [running_best, best_and_where, per_row_best])
def test_cpu(fn):
    x = np.random.default_rng(5).standard_normal((40,) if fn is not per_row_best else (6, 8))
    check(fn, x, backend="cpu")


def test_loop_stays_a_loop():
    x = np.random.default_rng(1).standard_normal(50)
    kinds = [r.kind for r in lt.explain(lt.jit(total_variation, backend="interpret"), x).loops]
    assert kinds == ["reduction"] or kinds == ["scan"], kinds


def traced_length(x, n):
    best = None
    for i in range(n):
        if best is None or x[i] > best:
            best = x[i]
    return best


def in_a_while_loop(x):
    best = None
    i = 0
    while i < x.shape[0]:
        if best is None or x[i] > best:
            best = x[i]
        i += 1
    return best


def test_while_loop_carries_a_value_that_may_be_none():
    # (refused before: a while loop has no first iteration to run on its own; the name is now
    # carried as a value and a flag, tests/tracer/test_optional_values.py)
    x = np.random.default_rng(2).standard_normal(10)
    check(in_a_while_loop, x)
    check(in_a_while_loop, np.empty(0))
