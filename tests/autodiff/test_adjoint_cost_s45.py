"""Gradients of loops whose body keeps a branch (a `cond`, not a select), and
of nested loops, cost O(T), not O(T * size) (session-45 helper G).

Before: a cond's adjoint yielded each target's cotangent dense, so a branch
reading x[i] made zeros of the whole x plus an update in every step of the
reverse loop (5.4 s at n = 80000); and an inner loop's reverse pass started
from zeros of the whole array at every outer step. Now a cond yields the
sparse parts of its branches (their index and update values, zeros at index
0 where a branch makes none), a cond whose branch runs an inner loop takes
the running cotangent and adds into it, and an inner reverse loop starts
from the enclosing reverse loop's accumulator (loop_adjoint.py)."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.api import _Differentiated
from looptrace.autodiff.check import assert_close, numerical_grad
from looptrace.autodiff.vjp import gradient_program
from looptrace.ir.core import walk

from bench.grad_branches import (  # (the bench's workloads)
    branch_arms,
    branch_in_inner,
    branch_state,
    early_stop,
    loop_in_branch,
    row_recur,
    rows_dot,
)


def elif_chain(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            s += w[i] * x[i]
        elif x[i] > -0.5:
            s += np.cos(x[i]) * w[0]
        else:
            s -= x[i] * x[i]
    return s


def branch_gather(v, idx):
    s = 0.0
    for i in range(idx.shape[0]):
        if v[idx[i]] > 0:
            s += v[idx[i]] ** 2
        else:
            s += v[i]
    return s


def while_branch(x):
    s = 0.0
    i = 0
    while i < x.shape[0] and s < 1e6:
        if x[i] > 0:
            s += x[i] * 2.0
        else:
            s += x[i] ** 2
        i += 1
    return s


def triangle(X):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(i + 1):
            s += X[i, j] * X[j, i]
    return s


def rows_in_branch(X):
    h = np.zeros(X.shape[1])
    for i in range(X.shape[0]):
        if h[0] > 0:
            h = np.tanh(0.5 * h + X[i])
        else:
            h = np.sin(h) - X[i] * 0.3
    return np.sum(h)


def three_deep(X, w):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            for k in range(w.shape[0]):
                if X[i, j] * w[k] > 0:
                    s += X[i, j] * w[k]
    return s


def never_reads(x, c):
    """x may be empty: the branch that reads it never runs."""
    s = 0.0
    for i in range(c.shape[0]):
        if c[i] > 5.0:
            s += x[i] * c[i]
        else:
            s += c[i] ** 2
    return s


def _mat(r, m=5, n=4):
    return r.normal(size=(m, n))


CASES = {  # name -> (function, make args, argnums to check)
    "branch_arms": (branch_arms, lambda r: (r.normal(size=9),), (0,)),
    "branch_state": (branch_state, lambda r: (r.normal(size=9) * 0.5,), (0,)),
    "early_stop": (early_stop, lambda r: (np.r_[r.normal(size=6), 25.0, r.normal(size=3)],), (0,)),
    "rows_dot": (rows_dot, lambda r: (_mat(r), r.normal(size=4)), (0, 1)),
    "row_recur": (row_recur, lambda r: (_mat(r),), (0,)),
    "loop_in_branch": (loop_in_branch, lambda r: (_mat(r), r.normal(size=4)), (0, 1)),
    "branch_in_inner": (branch_in_inner, lambda r: (_mat(r),), (0,)),
    "elif_chain": (elif_chain, lambda r: (r.normal(size=9), r.normal(size=9)), (0, 1)),
    "branch_gather": (branch_gather, lambda r: (r.normal(size=9), r.integers(0, 9, size=9)), (0,)),
    "while_branch": (while_branch, lambda r: (r.normal(size=9),), (0,)),
    "triangle": (triangle, lambda r: (_mat(r, 5, 5),), (0,)),
    "rows_in_branch": (rows_in_branch, lambda r: (_mat(r),), (0,)),
    "three_deep": (three_deep, lambda r: (_mat(r, 3, 4), r.normal(size=3)), (0, 1)),
    "never_reads_empty": (never_reads, lambda r: (np.zeros(0), r.normal(size=4)), (0, 1)),
    "never_reads": (never_reads, lambda r: (r.normal(size=4), r.normal(size=4) * 4), (0, 1)),
}


def _check(fn, args, argnums, backend, checkpoint=None):
    before = [np.copy(a) for a in args]
    value, grads = lt.value_and_grad(fn, argnums=argnums, backend=backend, checkpoint=checkpoint)(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)  # no effect on the arguments
    assert np.isclose(value, fn(*args), rtol=1e-12)
    for k, g in zip(argnums, grads):
        assert g.dtype == np.float64 and g.shape == np.shape(args[k])
        assert_close(g, numerical_grad(fn, list(args), k), 1e-6, f"{fn.__name__} argument {k}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_grad_matches_finite_differences(name, rng):
    fn, make, argnums = CASES[name]
    _check(fn, make(rng), argnums, "interpret")


@pytest.mark.parametrize("name", ["rows_dot", "branch_arms", "loop_in_branch"])
def test_checkpointed_grad(name, rng):
    fn, make, argnums = CASES[name]
    _check(fn, make(rng), argnums, "interpret", checkpoint=2)


def combined(X, w):
    """The patterns in one small kernel: an inner loop in one arm of a
    branch (the cond takes the running cotangent of X and w; the inner
    reverse loop adds into the outer's accumulator), a static read w[0] in
    the other arm, and a branch whose arms read w[k] and X[0, k] (sparse parts)."""
    s = 0.0
    for i in range(X.shape[0]):
        if X[i, 0] > 0:
            for j in range(X.shape[1]):
                s += X[i, j] * w[j]
        else:
            s -= X[i, 1] * X[i, 1] * w[0]
    for k in range(w.shape[0]):
        if w[k] > 0:
            s += w[k] * X[0, k]
        else:
            s += np.sin(w[k])
    return s


# slow: `combined`'s value and gradients run on the interpreter above; cpu gradients keep running in
# test_seed_gradients.py and test_degenerate_grads_s51.py
@pytest.mark.slow
def test_cpu_kernel_matches_finite_differences(rng):
    """One compile: the value, both gradients, no effect on the arguments."""
    X, w = rng.normal(size=(6, 4)), rng.normal(size=4)
    _check(combined, (X, w), (0, 1), "cpu")


# --- structure: no dense cotangent of the whole array per step of a reverse loop ------------------
def _loop_ops(block):
    for op in walk(block):
        if op.prim.name in ("for_loop", "while_loop"):
            for blk in op.blocks:
                yield from walk(blk)


STRUCTURAL = ["branch_arms", "branch_state", "early_stop", "rows_dot", "row_recur", "loop_in_branch",
              "branch_in_inner", "elif_chain", "branch_gather", "while_branch", "triangle", "three_deep"]


@pytest.mark.parametrize("name", STRUCTURAL)
def test_reverse_loops_make_no_full_size_cotangent(name, rng):
    """No loop body of the gradient program makes zeros the size of a
    differentiated argument (the old branch merge and the old inner-loop
    start) or adds two full-size arrays (the old merge's sum)."""
    fn, make, argnums = CASES[name]
    args = list(make(rng))
    if name in ("early_stop", "branch_arms", "branch_state", "while_branch"):
        args[0] = rng.normal(size=40)
    c, _, _ = _Differentiated(fn, None, "interpret").compiled(args, argnums, "grad")
    grad_p = gradient_program(c.traced, list(argnums))
    for k in argnums:
        full = tuple(np.shape(args[k]))
        dense = [op for op in _loop_ops(grad_p.body) if op.prim.name in ("broadcast_to", "add")
                 and tuple(op.outputs[0].shape) == full]
        assert not dense, f"{name}: a full-size {dense[0].prim.name} in a loop body of the gradient program"
