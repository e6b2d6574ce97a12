"""`return` inside an `if` on a traced condition, also inside loops (where it
means leaving the function), converted into a flag and selects; traced truth
values where people put them. Plain function against the jitted one (values
and effects on argument arrays) on random data that takes every path."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

from ._loopcheck import check
from .test_generated_loops import compile_source


def normalize(x):
    dist = np.sqrt(np.sum(x * x))
    if dist != 0:
        return x / dist
    return x


def sign_class(x):
    s = x.sum()
    if s > 1:
        return 1, s * 2
    elif s < -1:
        return -1, s * 3
    return 0, s


def first_negative(x):
    for i in range(x.shape[0]):
        if x[i] < 0:
            return i, x[i] * 2
    return -1, 0.5


def first_pair_over(x, out):
    n = x.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            out[i] += x[j]
            if x[i] + x[j] > 2.5:
                out[j] = -1.0
                return i * n + j
        out[i] *= 0.5
    return -1


def newton_sqrt(a, tol):
    x = a
    err = abs(x * x - a)
    k = 0
    while err > tol:
        x = 0.5 * (x + a / x)
        err = abs(x * x - a)
        k += 1
        if k > 3:
            return -x
    return x


def early_exit_writes(x, out):
    out[0] = x[0]
    if x[0] > 0:
        return
    out[1] = x[1]
    for i in range(2, x.shape[0]):
        if x[i] > 1:
            return
        out[i] = x[i] * i


def enumerate_return(x, y):
    for i, (a, b) in enumerate(zip(x, y)):  # noqa: PLW0120  (a loop's else with returns)
        if a * b > 0.5:
            return i + a
    else:
        return -1.0
    return 7.0  # unreachable: the else returns


def python_list_return(x):
    for w in [0.5, 1.0, 2.0, 4.0]:
        if x[0] * w > 1:
            return w * x[1]
        x = x * 0.9
    return -x[1]


def helper_returns(v):
    if v > 0:
        return v * 2
    return -v


def calls_helper_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += helper_returns(x[i])
        if s > 3:
            return s
    return s * 10


def accumulate_until(x, limit):
    total = 0.0
    for v in x:
        if total + v > limit:
            return total, True
        total += v
    return total, False


def bisect_sqrt2(a, b, tol):
    fa = a * a - 2.0
    while True:
        m = 0.5 * (a + b)
        fm = m * m - 2.0
        if abs(fm) < tol or b - a < tol:
            return m
        if fa * fm < 0:
            b = m
        else:
            a, fa = m, fm


def containers(x):
    if x[0] > 0:
        return x[0], [x, x[1]]
    return -x[0], [x * 2, x[2]]


def dict_result(x):
    if x[0] > 0:
        return {"a": x[0], "b": x}
    return {"a": -x[0], "b": x * 2}


def test_dict_result(rng):
    f = looptrace.jit(dict_result, backend="interpret")
    for x in (rng.standard_normal(3), -np.abs(rng.standard_normal(3))):
        got, want = f(x), dict_result(x)
        assert list(got) == list(want)
        for k in want:
            np.testing.assert_allclose(got[k], want[k])


CASES = [
    (normalize, lambda r: [r.standard_normal(3)]), (normalize, lambda r: [np.zeros(3)]),
    (sign_class, lambda r: [r.standard_normal(4) * 2]), (first_negative, lambda r: [r.standard_normal(6)]),
    (first_negative, lambda r: [np.abs(r.standard_normal(6))]),
    (first_pair_over, lambda r: [r.uniform(0, 1.6, 5), np.zeros(5)]),
    (first_pair_over, lambda r: [r.uniform(0, 1.0, 5), np.zeros(5)]),
    (newton_sqrt, lambda r: [float(r.uniform(1, 50)), 1e-12]), (newton_sqrt, lambda r: [2.0, 1e-3]),
    (early_exit_writes, lambda r: [r.standard_normal(6), np.zeros(6)]),
    (early_exit_writes, lambda r: [-np.abs(r.standard_normal(6)), np.zeros(6)]),
    (enumerate_return, lambda r: [r.standard_normal(5), r.standard_normal(5)]),
    (python_list_return, lambda r: [r.uniform(0, 1, 2)]), (calls_helper_in_loop, lambda r: [r.standard_normal(8)]),
    (accumulate_until, lambda r: [r.uniform(0, 1, 7), 2.0]), (accumulate_until, lambda r: [r.uniform(0, 1, 7), 9.0]),
    (bisect_sqrt2, lambda r: [0.0, float(r.uniform(2, 5)), 1e-10]), (containers, lambda r: [r.standard_normal(3)]),
]


@pytest.mark.parametrize("k", range(len(CASES)), ids=[f"{fn.__name__}-{k}" for k, (fn, _) in enumerate(CASES)])
def test_early_return_matches_plain(k, rng):
    fn, make = CASES[k]
    for _ in range(3):  # fresh data each time: different paths
        check(fn, *make(rng))


def test_early_return_loops_are_reported(rng):
    e = looptrace.explain(looptrace.jit(first_negative, backend="interpret"), rng.standard_normal(6))
    assert [l.kind for l in e.loops] == ["while"]  # it may stop early: a data-dependent exit


# one jitted function each, shared by every example: a signature traced once, not once per example
_THRESHOLDS = {fn: looptrace.jit(fn, backend="interpret") for fn in (first_pair_over, accumulate_until, newton_sqrt)}


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), t1=st.floats(-2, 2), t2=st.floats(-2, 2), n=st.integers(0, 6))
def test_generated_thresholds(seed, t1, t2, n):
    x = np.random.default_rng(seed).standard_normal(n)
    check(first_pair_over, x, np.zeros(n), jitted=_THRESHOLDS[first_pair_over])
    check(accumulate_until, x, t1, jitted=_THRESHOLDS[accumulate_until])
    check(newton_sqrt, abs(t2) + 0.5, 1e-9, jitted=_THRESHOLDS[newton_sqrt])


def mixed_kinds(x):
    if x[0] > 0:
        return x[0], x[1]
    return x


def mixed_shapes(x):
    if x[0] > 0:
        return x[:2]
    return x


def test_returning_different_kinds_on_traced_paths_is_refused(rng):
    with pytest.raises(looptrace.UnsupportedError, match="returns .* on one path and a tuple of 2"):
        looptrace.jit(mixed_kinds, backend="interpret")(rng.standard_normal(3))
    with pytest.raises(looptrace.ShapeError, match="the function returns shape"):
        looptrace.jit(mixed_shapes, backend="interpret")(rng.standard_normal(3))


def test_early_return_on_the_cpu_backend(rng):
    for fn, make in [CASES[3], CASES[5], CASES[9]]:
        f = looptrace.jit(fn, backend="cpu")
        for _ in range(2):
            check(fn, *make(rng), jitted=f)


def smooth_exit(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        s += np.tanh(w * x[i]) * x[i]
        if s > 1.5:
            return s * w
    if s < -1:
        return s * s
    return s + w


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_early_return_gradients(backend, rng):
    f = looptrace.jit(smooth_exit, backend=backend)
    grad = looptrace.grad(f, argnums=(0, 1))
    for x in (np.array([0.9, 0.8, 0.7, 0.5]), np.array([-0.9, -0.8, -0.2, 0.1]), np.array([0.1, -0.2, 0.3, 0.2])):
        gx, gw = grad(x, 1.3)
        assert_close(gx, numerical_grad(smooth_exit, [x, 1.3], 0), 1e-5, "x")
        assert_close(gw, numerical_grad(smooth_exit, [x, 1.3], 1), 1e-5, "w")


# --- traced truth values where people put them ----------------------------------------------------
def truthiness(x, y):
    a = 0.0
    if x[0]:
        a += 1
    if not x[1] and y[0] != 0:
        a += 2
    if 0 < x[2] < 1:  # a chained comparison
        a += 4
    if x[3] in (0.0, 1.0) or y[1] not in (2.0,):
        a += 8
    b = 1.0 if y[2] else -1.0
    while a > 0.5 and b < 100:
        b *= 2
        a -= 1
    return a, b, bool(x[4]), x[5] == x[5]


def test_truth_values_of_traced_scalars(rng):
    for _ in range(4):
        x = np.where(rng.random(6) < 0.4, 0.0, rng.uniform(-1, 2, 6))
        x[3] = rng.choice([0.0, 1.0, 0.5])
        y = np.where(rng.random(3) < 0.4, 0.0, 2.0)
        check(truthiness, x, y)


def single_element_truth(x):
    if x[:1] > 0:  # a size-1 array has a truth value, as in NumPy
        return x * 2
    return x


def test_size_one_array_condition(rng):
    check(single_element_truth, rng.standard_normal(3))
    check(single_element_truth, -np.abs(rng.standard_normal(3)))


# --- generated programs with returns at random places -----------------------------------------------
@st.composite
def return_program(draw):
    def maybe(kinds, cond_choices, indent):
        kind = draw(st.sampled_from(kinds))
        if kind == "":
            return ""
        cond = draw(st.sampled_from(cond_choices))
        stmt = {"return": draw(st.sampled_from(["return out * 2, acc", "return out, total - 1.0"])),
                "break": "break", "continue": "continue"}[kind]
        pad = " " * indent
        return f"\n{pad}if {cond}:\n{pad}    {stmt}"

    inner = maybe(["", "return", "break", "continue"], ["A[i, j] > 1.2", "acc > 1.0", "A[i, j] < b[i] - 1"], 12)
    outer = maybe(["", "return", "break"], ["acc < -0.8", "total > 1.5", "b[i] > 1.4"], 8)
    pre = maybe(["", "return"], ["b[0] > 1.8", "A.sum() < -3"], 4)
    post = maybe(["", "return"], ["total > 0", "out[0] < 0"], 4)
    rng_t = draw(st.sampled_from(["range(A.shape[0])", "reversed(range(A.shape[0]))", "range(1, A.shape[0])"]))
    return f"""def f(A, b):
    out = np.zeros(A.shape[0])
    total = 0.0
    acc = 0.0{pre}
    for i in {rng_t}:
        acc = b[i]
        for j in range(A.shape[1]):{inner}
            acc = np.tanh(acc * 0.7 + A[i, j])
            A[i, j] = acc
        out[i] = acc{outer}
        total = total + acc{post}
    return out, total
"""


@settings(max_examples=25, deadline=None)  # (40 were 2.2 s of the suite; CI draws new examples every run)
@given(src=return_program(), shape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       seed=st.integers(0, 2**32 - 1))
def test_generated_programs_with_returns(src, shape, seed):
    f = compile_source(src)
    r = np.random.default_rng(seed)
    check(f, r.standard_normal(shape), r.standard_normal(shape[0]))


def nested_writes_under_condition(A, b):
    out = np.zeros(A.shape[0])
    if b[0] < 0.5:  # a traced condition around loops that write outer arrays (and an argument)
        for i in range(A.shape[0]):
            acc = b[i]
            for j in range(A.shape[1]):
                acc = acc * 0.7 + A[i, j]
                A[i, j] = acc
            out[i] = acc
    return out


def test_loops_writing_outer_arrays_under_a_traced_condition(rng):
    """The value restored on the branch not taken is the one before the `if`,
    not a loop body's argument (this IR used to fail verification)."""
    for b0 in (0.0, 1.0):
        b = rng.standard_normal(3)
        b[0] = b0
        check(nested_writes_under_condition, rng.standard_normal((3, 2)), b)


# --- `return None` beside `return value` on a traced condition (probe J F8 family) ----------------------------
def first_above_or_none(a):
    for i in range(a.shape[0]):
        if a[i] > 0.5:
            return float(a[i])
    return None


def bare_return_in_loop(a):
    for i in range(a.shape[0]):
        if a[i] < -1.5:
            return
        if a[i] > 0.5:
            return i, a[i] * 2
    return None


def none_on_a_branch(x):
    if x.sum() > 0:
        return x * 2
    return None


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [first_above_or_none, bare_return_in_loop, none_on_a_branch])
def test_return_none_beside_a_value(fn, backend, rng):
    """An explicit `return None` (or a bare `return`) leaves the value slot
    empty and its own flag says a value was returned: the result is None at
    run time where plain Python returns None (an UnsupportedError "returns
    None on one path and a number on another" before)."""
    f = looptrace.jit(fn, backend=backend)
    for data in (rng.standard_normal(6) * 0.1, rng.standard_normal(6), -rng.random(6) - 2, rng.random(6) + 1):
        want, got = fn(data), f(data)
        if want is None:
            assert got is None
        elif isinstance(want, tuple):
            assert type(got[0]) is type(want[0]) and got[0] == want[0] and got[1] == want[1]
        else:
            assert type(got) is type(want) and np.array_equal(got, want)
