"""A name assigned on some paths only, chosen at run time (values.MaybeBound):
read where it is assigned it is its value; read where it is not, Python's
UnboundLocalError, at run time. It was a trace-time error for every such
program ("used before it is assigned on some path"): the for/else search,
a temporary assigned and used under the same condition, a name used after
an `if` whose other branch returns. Against the plain function."""
import numpy as np
import pytest

import looptrace as lt

BACKENDS = ["interpret", "cpu"]


def same_condition_twice(x):
    if x[0] > 0:
        t = x[1] * 2
    if x[0] > 0:
        x[2] = t
    return x


def other_branch_returns(x):
    if x[0] > 0:
        y = x * 2
    else:
        return x
    y[1] = 0.0
    return y


def for_else_search(x):
    for i in range(x.shape[0]):
        if x[i] > 1.5:
            r = i
            break
    else:
        r = -1
    return r


def found_value(x):
    for i in range(x.shape[0]):
        if x[i] > 1.5:
            found = x[i] * 2
            break
    else:
        found = 0.0
    return found


def unbound_read(x):
    if x[0] > 0:
        t = x[1] * 2
    return t


def assigned_in_loop(x):
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            last = x[i]
    return last


def augmented(x):
    if x[0] > 0:
        t = x[1]
    if x[0] > 0:
        t += 1.0
        return t
    return 0.0


CASES = [same_condition_twice, other_branch_returns, for_else_search, found_value, unbound_read,
         assigned_in_loop, augmented]


def _outcome(fn, x):
    try:
        return "ok", fn(x)
    except Exception as e:  # noqa: BLE001 - the class and message are compared
        return type(e), str(e).splitlines()[0]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_names_assigned_on_some_paths(fn, backend):
    f = lt.jit(fn, backend=backend)
    for x in (np.array([1.0, 2.0, 3.0]), np.array([-1.0, 2.0, 0.3]), np.array([0.1, 0.2, 0.3]),
              np.array([0.7, -2.0, 1.7])):
        a, b = x.copy(), x.copy()
        want, got = _outcome(fn, a), _outcome(f, b)
        assert got[0] == want[0], (fn.__name__, x, want, got)
        if want[0] == "ok":
            np.testing.assert_array_equal(got[1], want[1])
            assert type(got[1]) is type(want[1]) or isinstance(want[1], np.ndarray)
        else:
            assert got[1] == want[1]
        np.testing.assert_array_equal(b, a)


# --- names first assigned inside a loop and read before that on some path (probe L) ----------------------------
def first_iteration_start(X):
    for i in range(X.shape[0]):
        if i == 0:
            acc = X[0].copy()
        else:
            acc = 0.5 * acc + X[i]
    return acc


def previous_value(x):
    best = 0.0
    for i in range(x.shape[0]):
        if i == 0:
            prev = x[0]
        d = x[i] - prev
        prev = x[i]
        best = max(best, d)
    return best


def read_before_any_write(x):
    for i in range(x.shape[0]):
        acc = acc + x[i]  # noqa: F821 - Python's UnboundLocalError at the first iteration
    return acc


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_name_set_in_the_first_iteration(backend, rng):
    """`if i == 0: acc = ...` then read from the second iteration on: the
    first iteration runs on its own (a TraceError 'used before it is assigned'
    before); a name assigned later in the body is carried with its flag
    (`prev`: a false UnboundLocalError at run time before)."""
    X = rng.standard_normal((5, 3))
    np.testing.assert_allclose(lt.jit(first_iteration_start, backend=backend)(X), first_iteration_start(X))
    x = rng.standard_normal(6)
    assert lt.jit(previous_value, backend=backend)(x) == previous_value(x)
    with pytest.raises(UnboundLocalError, match="'acc'"):
        lt.jit(read_before_any_write, backend=backend)(x)


def test_the_gradient_of_a_first_iteration_start(rng):
    X = rng.standard_normal((4, 3))

    def loss(X):
        return first_iteration_start(X).sum()

    g = lt.grad(lt.jit(loss, backend="interpret"))(X)
    # acc = 0.5**3 X[0] + 0.5**2 X[1] + 0.5 X[2] + X[3]
    np.testing.assert_allclose(g, np.repeat([[0.125], [0.25], [0.5], [1.0]], 3, axis=1), rtol=1e-12)
