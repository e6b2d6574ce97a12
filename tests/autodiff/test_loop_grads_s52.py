"""Gradients through the loops users write (probe G, s52): about 130 programs
(while loops with a convergence test, break and early return, branches on
the data and on the carry, in-place writes into copies and into arguments,
carries swapped or reset to a captured value, checkpoint=k, nested loops
whose inner trip count depends on the outer index, float32, dicts, has_aux)
and 400 generated loop bodies were right on interpret and cpu. The wrong or
refused ones fixed here: a list appended to under a condition
(`if x[t] > 0: ys.append(...)`, then sum(ys), np.array(ys), np.stack(rows))
had no gradient (dynamic_prefix: NoGradient), and a reduction's cotangent
broadcast to such a list's run-time length came out of size 1 (a wrong
gradient, once the rule existed). Each is checked against central finite
differences of the undecorated function in float64, on the interpreter;
the cpu backend's refusals cost no compile."""

import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad
from looptrace.ir.core import Dim, Value
from looptrace.ops.vjp_helpers import Builder


def _fd_check(f, args, argnums, backend="interpret", **opts):
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]  # (f may write into args)
    plain = f(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    value, grads = looptrace.value_and_grad(f, argnums=argnums, backend=backend, **opts)(*args)
    np.testing.assert_allclose(value, plain, rtol=1e-10)
    nums = (argnums,) if isinstance(argnums, int) else argnums
    grads = (grads,) if isinstance(argnums, int) else grads

    def copied(*a):
        return f(*[z.copy() if isinstance(z, np.ndarray) else z for z in a])

    for g, i in zip(grads, nums):
        assert_close(g, numerical_grad(copied, before, i), 1e-6, f"{f.__name__} argument {i}")


# --- lists grown under a condition ----------------------------------------------------------------
def grow(x, w):
    ys = []
    for t in range(x.shape[0]):
        if x[t] > 0:
            ys.append(np.sin(x[t] * w))
    return ys


def cond_sum_builtin(x, w):
    return sum(grow(x, w)) * w  # reduce_sum of the prefix: its cotangent was broadcast to 1 element


def cond_squares(x, w):
    return np.sum(np.array(grow(x, w)) ** 2)


def cond_prod(x, w):
    return np.prod(np.array(grow(x, w)) + 2.0)  # the rule's ones of x's shape: an IndexError


def cond_max_norm(x, w):
    a = np.array(grow(x, w))
    return np.max(a) + np.linalg.norm(a) + a @ a + np.sum(np.exp(a * w))


def cond_mean_by_len(x, w):
    ys = grow(x, w)
    return sum(ys) / len(ys) + ys[-1] * ys[0]


def cond_two_lists(x, w):
    return np.sum(np.array(grow(x, w)) ** 2) * np.sum(np.array(grow(-x, w)))


def grow_rows(X, w):
    rows = []
    for t in range(X.shape[0]):
        if X[t, 0] > 0:
            rows.append(np.tanh(X[t] * w))
    return rows


def rows_reduced(X, w):
    R = np.stack(grow_rows(X, w))
    return np.sum(np.sum(R, axis=0) ** 2) + np.sum(np.max(R, axis=0))


@pytest.mark.parametrize("f", [cond_sum_builtin, cond_squares, cond_prod, cond_max_norm, cond_mean_by_len,
                               cond_two_lists])
def test_list_grown_under_a_condition(f, rng):
    x = rng.standard_normal(9)
    x[:2] = [0.4, 0.9]  # (at least two appended)
    _fd_check(f, [x, 0.7], (0, 1))


def test_rows_grown_under_a_condition(rng):
    X = rng.standard_normal((8, 3))
    X[:2, 0] = [0.5, 1.2]
    _fd_check(rows_reduced, [X, 0.6], (0, 1))


def test_list_grown_under_a_condition_with_nothing_appended(rng):
    x = -np.abs(rng.standard_normal(6))
    value, grads = looptrace.value_and_grad(cond_squares, argnums=(0, 1), backend="interpret")(x, 0.7)
    assert value == 0.0
    np.testing.assert_array_equal(grads[0], np.zeros(6))
    assert grads[1] == 0.0


def test_list_grown_under_a_condition_refused_on_cpu_naming_the_line(rng):
    """cpu lowers no write of a block of run-time length: refused, before any
    compile, with what to write instead (which the test checks works)."""
    with pytest.raises(looptrace.UnsupportedError, match="grown under a condition") as info:
        looptrace.grad(cond_squares, backend="cpu")(rng.standard_normal(6), 0.7)
    text = str(info.value)
    assert "test_loop_grads_s52.py" in text and "np.sum(np.array(grow(x, w)) ** 2)" in text
    assert "zeroed array" in text
    _fd_check(zeroed_instead, [rng.standard_normal(7), 0.7], (0, 1))


def zeroed_instead(x, w):
    out = np.zeros(x.shape[0])
    k = 0
    for t in range(x.shape[0]):
        if x[t] > 0:
            out[k] = np.sin(x[t] * w)
            k += 1
    return np.sum(out ** 2)


def test_no_rule_broadcasts_a_cotangent_to_a_run_time_length():
    """broadcast_to cannot size a Dim its input lacks (it made size 1): the
    gradient builder refuses it; Builder.like sizes one by a value that has it."""
    d = Dim(5)
    x = Value(np.dtype(np.float64), (d,))
    b = Builder()
    with pytest.raises(looptrace.UnsupportedError, match="run time"):
        b.emit("broadcast_to", b.lit(1.0, x), shape=(d,))
    out = b.like(x, b.lit(1.0, x))
    assert out.shape == (d,)
    assert b.zeros_like(x).shape == (d,)


# --- a list read while it grows: the preallocated array ----------------------------------------------------
def list_read_while_growing(W, X):
    hs = [np.zeros(3)]
    for t in range(X.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + X[t]))
    return np.sum(hs[-1])


def preallocated_instead(W, X):
    H = np.zeros((X.shape[0] + 1, 3))
    for t in range(X.shape[0]):
        H[t + 1] = np.tanh(W @ H[t] + X[t])
    return np.sum(H[-1]) + np.sum(H[2] ** 2)


def test_list_read_while_growing_has_the_preallocated_arrays_gradient(rng):
    """It was refused ('appends to while reading it', s52); a for loop over a
    static range grows it as the preallocated array (s53: carries.py
    ListSpec._fixed_rows; more in test_grown_list_grads_s53.py)."""
    def last_row(W, X):  # the same loss, preallocated
        H = np.zeros((X.shape[0] + 1, 3))
        for t in range(X.shape[0]):
            H[t + 1] = np.tanh(W @ H[t] + X[t])
        return np.sum(H[-1])

    W, X = 0.5 * rng.standard_normal((3, 3)), rng.standard_normal((5, 3))
    _fd_check(list_read_while_growing, [W, X], (0, 1))
    _fd_check(preallocated_instead, [W, X], (0, 1))
    got = looptrace.grad(list_read_while_growing, argnums=(0, 1), backend="interpret")(W, X)
    want = looptrace.grad(last_row, argnums=(0, 1), backend="interpret")(W, X)
    for g, h in zip(got, want):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-15)


# --- loops the probe found right (each a structure no earlier test had) ---------------------------
def newton_sqrt(a):
    y = np.ones_like(a)
    err = 1.0
    while err > 1e-13:  # the gradient through the iterations taken
        y = 0.5 * (y + a / y)
        err = np.max(np.abs(y * y - a))
    return np.sum(y * np.arange(1.0, a.shape[0] + 1))


def jacobi(A, b):
    D = np.diag(A)
    R = A - np.diag(D)
    x = np.zeros(b.shape[0])
    res = 1.0
    while res > 1e-13:
        x = (b - R @ x) / D
        res = np.max(np.abs(A @ x - b))
    return np.sum(x * np.arange(1.0, b.shape[0] + 1))


def while_return(x):
    i = 0
    acc = 0.0
    while i < x.shape[0]:
        acc += x[i] ** 2
        if acc > 2.0:
            return acc * x[i]
        i += 1
    return -acc


def nested_early_return(X):
    acc = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            acc += X[i, j] ** 2
            if acc > 4.0:
                return acc * X[i, j]
    return acc


def carry_reset_on_data(x, a):
    y = x[0]
    for t in range(x.shape[0]):
        if x[t] > 0:
            y = a
        else:
            y = y * x[t] + a
    return y


def swap_arrays(x, y):
    a = x
    b = y
    for t in range(5):
        a, b = b * 0.9, np.sin(a) + b
    return np.sum(a * b)


def outer_captured_inner(x, w):
    h = x
    for i in range(3):
        g = h
        for j in range(3):
            g = np.sin(g) * w + h
        h = g * 0.5 + h
    return np.sum(h)


def inner_bound_by_outer(x, w):
    acc = 0.0
    for i in range(x.shape[0]):
        h = 0.0
        for j in range(i + 1):
            h = h * w + x[j]
        acc += h ** 2
    return acc


def read_after_write(x):
    y = x.copy()
    for t in range(1, y.shape[0]):
        y[t] = y[t - 1] * 2.0 - y[t] ** 2
        y[t - 1] = y[t] * 0.5
    return np.sum(y * np.arange(y.shape[0]))


def view_written_in_place(X, w):
    X = X.copy()
    for t in range(X.shape[0]):
        v = X[t]
        v *= w
        v += 0.1 * t
    return np.sum(np.sin(X))


def scatter_overwrite(x, idx):
    out = np.zeros(4)
    for i in range(x.shape[0]):
        out[idx[i]] = x[i] ** 2  # the last write of a slot wins, and alone has a gradient
    return np.sum(out * np.arange(1.0, 5.0))


def while_around_for(x):
    s = x.copy()
    it = 0
    while np.sum(s ** 2) > 0.5 and it < 20:
        for i in range(1, s.shape[0]):
            s[i] = 0.5 * s[i] + 0.2 * s[i - 1]
        s[0] = 0.5 * s[0]
        it += 1
    return np.sum(s * np.arange(1.0, s.shape[0] + 1))


def while_argmin(x):
    y = x.copy()
    it = 0
    while it < 3:
        j = np.argmin(y)
        y[j] = y[j] + 1.0 + 0.5 * y[j] ** 2
        it += 1
    return np.sum(y ** 3)


def min_of_list(x):
    vals = []
    for i in range(x.shape[0]):
        vals.append(np.sum(np.sin(x[i:] * (i + 1))))
    return min(vals)


def writes_argument(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i] ** 2 + out[i]
    return np.sum(out * out)


def rng_reparam(sigma, mu):
    rng = np.random.default_rng(7)
    h = np.zeros(3)
    for t in range(4):
        h = np.tanh(h + mu + sigma * rng.standard_normal(3))
    return np.sum(h)


CASES = [
    (newton_sqrt, lambda r: [r.uniform(0.5, 3.0, 4)], 0, {}),
    (jacobi, lambda r: [np.diag([4.0, 5.0, 6.0]) + 0.5 * r.standard_normal((3, 3)), r.standard_normal(3)], (0, 1), {}),
    (while_return, lambda r: [np.array([0.3, -0.6, 0.9, 1.1, 0.2, -0.4])], 0, {}),
    (nested_early_return, lambda r: [np.array([[0.5, -0.7, 0.9, 1.0], [1.2, 0.4, -0.3, 0.8]])], 0, {}),
    (carry_reset_on_data, lambda r: [np.array([-0.5, 0.8, -0.3, -1.2, 0.4, -0.7]), 0.7], (0, 1), {}),
    (swap_arrays, lambda r: [r.standard_normal(3), r.standard_normal(3)], (0, 1), {"checkpoint": 2}),
    (outer_captured_inner, lambda r: [r.standard_normal(3), 0.7], (0, 1), {"checkpoint": 2}),
    (inner_bound_by_outer, lambda r: [r.standard_normal(5), 0.8], (0, 1), {}),
    (read_after_write, lambda r: [0.5 * r.standard_normal(5)], 0, {}),
    (view_written_in_place, lambda r: [r.standard_normal((4, 3)), r.standard_normal(3)], (0, 1), {}),
    (scatter_overwrite, lambda r: [r.standard_normal(7), np.array([0, 2, 0, 1, 2, 3, 0])], 0, {}),
    (while_around_for, lambda r: [2 * r.standard_normal(4)], 0, {}),
    (while_argmin, lambda r: [np.array([0.3, -1.1, 0.7, -0.2, 1.4])], 0, {}),
    (min_of_list, lambda r: [r.standard_normal(5)], 0, {}),
    (writes_argument, lambda r: [r.standard_normal(4), r.standard_normal(4)], (0, 1), {}),
    (rng_reparam, lambda r: [0.5, r.standard_normal(3)], (0, 1), {}),
]


@pytest.mark.parametrize("f, make, argnums, opts", CASES, ids=[c[0].__name__ for c in CASES])
def test_loop_gradient_matches_finite_differences(f, make, argnums, opts, rng):
    _fd_check(f, make(rng), argnums, **opts)


def test_argument_written_by_the_loop_is_written_once(rng):
    """value_and_grad of a function writing into its argument: the caller
    sees plain's write (once), the gradient is of the values passed."""
    x, out = rng.standard_normal(4), rng.standard_normal(4)
    want = out.copy()
    writes_argument(x, want)
    looptrace.value_and_grad(writes_argument, argnums=(0, 1), backend="interpret")(x, out)
    np.testing.assert_allclose(out, want, rtol=1e-12)
