"""Double buffering: a loop writes into an array in place and then rebinds
the name (`cur, nxt = nxt, cur`, `prev, cur, nxt = cur, nxt, prev`, or
`y[k] = v; y = new`). Python's arrays swap roles every iteration; looptrace
carries each name's contents as a value, which is exact when nothing else can
see the arrays the names entered the loop with. Where something can (an
argument, a view, another variable, the caller), the loop is refused with a
clear error rather than computing a different answer.

Every case runs the plain function and the jitted one (interpret backend,
and cpu for a representative few) on fresh random data, for trip counts of
both parities and zero, and compares results and arguments."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

from bench.corpus.stencils import heat_1d_loops as heat_1d

from ._loopcheck import check


def heat_2d_slices(u, alpha, steps):
    a = u.copy()
    b = np.zeros_like(u)
    for _ in range(steps):
        b[1:-1, 1:-1] = a[1:-1, 1:-1] + alpha * (a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:]
                                                  - 4.0 * a[1:-1, 1:-1])
        a, b = b, a
    return a, b  # both buffers: the one written last and the stale one


def wave_three_buffers(u0, u1, c, steps):
    prev = u0.copy()
    cur = u1.copy()
    nxt = np.empty_like(u0)
    n = u0.shape[0]
    for _ in range(steps):
        nxt[0] = 0.0
        nxt[n - 1] = 0.0
        for i in range(1, n - 1):
            nxt[i] = 2.0 * cur[i] - prev[i] + c * (cur[i - 1] - 2.0 * cur[i] + cur[i + 1])
        prev, cur, nxt = cur, nxt, prev
    return prev, cur


def jacobi_until(u, tol):
    a = u.copy()
    b = u.copy()
    err = tol + 1.0
    sweeps = 0
    while err > tol and sweeps < 500:
        b[1:-1] = 0.5 * (a[:-2] + a[2:])
        err = np.max(np.abs(b - a))
        a, b = b, a
        sweeps += 1
    return a, sweeps


def written_then_rebound(x, steps):
    y = x * 1.0
    for k in range(steps):
        y[k % y.shape[0]] = 2.0 * y[(k + 1) % y.shape[0]]
        y = np.sin(y) + 0.5 * y
    return y


def swap_inside_outer_loop(xs, steps):
    out = np.empty_like(xs)
    for r in range(xs.shape[0]):
        a = xs[r].copy()
        b = np.zeros_like(a)
        for _ in range(steps):
            b[1:] = a[1:] + 0.25 * a[:-1]
            b[0] = a[0] * 0.9
            a, b = b, a
        out[r] = a
    return out


@pytest.mark.parametrize("steps", [0, 1, 2, 5])
def test_heat_1d_index_loops(rng, steps):
    check(heat_1d, rng.standard_normal(17), 0.21, steps)


@pytest.mark.parametrize("steps", [0, 1, 4, 7])
def test_heat_2d_slices_returns_both_buffers(rng, steps):
    check(heat_2d_slices, rng.standard_normal((9, 11)), 0.2, steps)


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 8])
def test_three_buffers_rotate(rng, steps):
    check(wave_three_buffers, rng.standard_normal(13), rng.standard_normal(13), 0.3, steps)


def test_while_loop_swaps_until_converged(rng):
    check(jacobi_until, rng.standard_normal(12), 1e-3)


@pytest.mark.parametrize("steps", [0, 1, 6])
def test_written_then_rebound_to_a_new_array(rng, steps):
    check(written_then_rebound, rng.standard_normal(5), steps)


@pytest.mark.parametrize("steps", [0, 3])
def test_swap_inside_an_outer_loop(rng, steps):
    check(swap_inside_outer_loop, rng.standard_normal((4, 6)), steps)


def test_explain_notes_the_double_buffer(rng):
    report = looptrace.explain(looptrace.jit(heat_1d, backend="interpret"), rng.standard_normal(8), 0.1, 3)
    assert [l.kind for l in report.loops] == ["scan", "vectorized"]
    assert any("`cur`, `nxt` are written in place and rebound" in n for n in report.notes)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 9), steps=st.integers(0, 7), rotate=st.integers(2, 3), seed=st.integers(0, 2**32 - 1))
def test_generated_rotations(n, steps, rotate, seed):
    """Two or three buffers written through the last name and rotated."""
    rng = np.random.default_rng(seed)

    def two(x, steps):
        p = x.copy()
        q = x[::-1].copy()
        for t in range(steps):
            q[1:] = p[:-1] * 0.5 + q[1:] * 0.25 + t
            p, q = q, p
        return p, q

    def three(x, steps):
        p = x.copy()
        q = x * 2.0
        r = x[::-1].copy()
        for t in range(steps):
            r[:] = p - 0.5 * q + 0.1 * t
            r[0] += q[-1]
            p, q, r = q, r, p
        return p, q, r

    check(two if rotate == 2 else three, rng.standard_normal(n), steps)


@pytest.mark.parametrize("fn, args", [
    (heat_1d, lambda r: (r.standard_normal(300), 0.2, 25)),
    (wave_three_buffers, lambda r: (r.standard_normal(64), r.standard_normal(64), 0.2, 9)),
    (heat_2d_slices, lambda r: (r.standard_normal((20, 30)), 0.2, 5)),
])
def test_cpu_backend(rng, fn, args, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    check(fn, *args(rng), jitted=looptrace.jit(fn, backend="cpu"))


def test_gradient_through_swapped_buffers(rng):
    def loss(u, alpha):
        return np.sum(heat_1d(u, alpha, 5) ** 2)

    u, alpha = rng.standard_normal(9), 0.23
    jitted = looptrace.jit(loss, backend="interpret")
    gu, ga = looptrace.grad(jitted, argnums=(0, 1))(u, alpha)
    assert_close(gu, numerical_grad(loss, [u, alpha], 0), 1e-6, "d/du")
    assert_close(ga, numerical_grad(loss, [u, alpha], 1), 1e-6, "d/dalpha")


# --- what cannot be followed is refused, naming the line ----------------------------------------
def _refused(fn, *args, match):
    with pytest.raises(looptrace.UnsupportedError, match=match) as info:
        looptrace.jit(fn, backend="interpret")(*args)
    assert "cannot follow which array each iteration writes" in str(info.value)
    assert __file__.rstrip("c") in str(info.value) or "test_buffer_swap" in str(info.value)


def _argument_swapped(u, steps):
    cur = u  # the caller's array: Python writes into it on every other iteration
    nxt = u.copy()
    for _ in range(steps):
        nxt[1:] = cur[:-1] + 0.5 * cur[1:]
        cur, nxt = nxt, cur
    cur[0] = -1.0  # through whichever array `cur` holds now
    return cur, nxt.sum()


def _both_arguments(u, v, steps):
    for k in range(steps):
        v[1:-1] = 0.5 * (u[:-2] + u[2:])
        u, v = v, u
    return u


def _rotated_arguments(a, b, c):
    for _ in range(5):  # a static trip count: the rotation is known while tracing
        c[:] = a + 0.5 * b
        a, b, c = b, c, a
    return a, b, c


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("steps", [0, 1, 2, 5])
def test_arguments_swapped_in_are_written_back(backend, steps, rng):
    """An argument among the arrays a loop exchanges (`u, v = v, u`): each
    array ends with the contents of the name that holds it after the loop
    (the trip count's parity chooses at run time), and the names hold those
    arrays again (refused before: "cannot follow which array each iteration
    writes", probe T)."""
    for fn, args in ((_argument_swapped, (rng.standard_normal(6), steps)),
                     (_both_arguments, (rng.standard_normal(8), rng.standard_normal(8), steps)),
                     (_rotated_arguments, (rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)))):
        check(fn, *args, jitted=looptrace.jit(fn, backend=backend))


def test_an_argument_swapped_in_a_while_loop_is_refused(rng):
    def f(u, tol):
        cur = u
        nxt = u.copy()
        while abs(cur[0]) > tol:  # which array each name ends with: the run's number of iterations decides
            nxt[:] = cur * 0.5
            cur, nxt = nxt, cur
        return cur

    _refused(f, rng.standard_normal(5) + 3.0, 0.1, match="`nxt` is written in place inside this loop and `cur` "
                                                           "is rebound while it refers to an argument array")


def test_a_view_swapped_in_is_refused(rng):
    def f(u, steps):
        both = np.zeros((2, u.shape[0]))
        cur = both[0]
        nxt = both[1]
        for _ in range(steps):
            nxt[:] = cur + u
            cur, nxt = nxt, cur
        return cur, both

    _refused(f, rng.standard_normal(4), 3, match="a view of another array")


def test_another_variable_read_after_the_loop_is_refused(rng):
    def f(u, steps):
        cur = u.copy()
        nxt = u.copy()
        first = cur  # still the first buffer after the loop, whichever name holds it
        for _ in range(steps):
            nxt[1:] = cur[:-1] + 1.0
            cur, nxt = nxt, cur
        return cur, first

    _refused(f, rng.standard_normal(4), 3, match="an array that `first` also refers to")


def test_a_container_holding_a_buffer_is_refused(rng):
    def f(u, steps):
        cur = u.copy()
        nxt = u.copy()
        keep = [nxt]
        for _ in range(steps):
            nxt[1:] = cur[:-1] + 1.0
            cur, nxt = nxt, cur
        return cur, keep[0]

    _refused(f, rng.standard_normal(4), 3, match="an array that `keep` also refers to")


def test_reading_a_buffer_through_another_name_inside_the_loop_is_refused(rng):
    def f(u, steps):
        cur = u.copy()
        nxt = u.copy()
        spy = nxt
        total = 0.0
        for _ in range(steps):
            nxt[1:] = cur[:-1] + 1.0
            total += spy[0]  # nxt's first buffer, whichever name holds it now
            cur, nxt = nxt, cur
        return cur, total

    _refused(f, rng.standard_normal(4), 3, match="through another name")


def test_rebinding_to_an_array_from_outside_the_loop_is_refused(rng):
    def f(u, steps):
        outside = u * 3.0
        cur = u.copy()
        nxt = u.copy()
        for _ in range(steps):
            nxt[1:] = cur[:-1]
            cur, nxt = nxt, outside  # the next iteration writes into `outside`
        return cur, outside

    _refused(f, rng.standard_normal(4), 3, match="`nxt` is set to an array from outside this loop")


def _step(cur, nxt, steps):
    for _ in range(steps):
        nxt[1:] = cur[:-1] * 0.5
        cur, nxt = nxt, cur
    return cur


def _passed_in(u, steps):
    a = u.copy()
    b = u.copy()
    last = _step(a, b, steps)
    return last, a, b  # Python's a and b were both written, in turn


def _closure_held(u, steps):
    a = u.copy()
    b = u.copy()

    def run():
        cur, nxt = a, b
        for _ in range(steps):
            nxt[1:] = cur[:-1] * 0.5
            cur, nxt = nxt, cur
        return cur

    return run(), a, b


@pytest.mark.parametrize("steps", [0, 1, 4])
def test_buffers_passed_in_by_the_caller_or_a_closure(steps, rng):
    """The caller's arrays (a helper's arguments, a closure's) swapped in a
    loop are written back as arguments are (refused before)."""
    check(_passed_in, rng.standard_normal(4), steps)
    check(_closure_held, rng.standard_normal(4), steps)


def test_buffers_made_by_a_helper_function_are_fine(rng):
    def fresh(u):
        return u.copy(), np.zeros_like(u)

    def f(u, steps):
        cur, nxt = fresh(u)
        for _ in range(steps):
            nxt[1:] = cur[:-1] * 0.5 + cur[1:]
            nxt[0] = cur[0]
            cur, nxt = nxt, cur
        return cur

    for steps in (0, 1, 4):
        check(f, rng.standard_normal(6), steps)


def test_an_argument_rebound_beside_swapped_buffers_is_fine(rng):
    """`y` starts as the caller's array and is rebound to new arrays, never
    written: nothing flows into it from the swapped buffers."""
    def f(u, x, steps):
        cur = u.copy()
        nxt = u.copy()
        y = x
        for _ in range(steps):
            nxt[1:] = cur[:-1] * 0.5 + y[1:]
            cur, nxt = nxt, cur
            y = y * 0.9
        return cur, y

    for steps in (0, 1, 4):
        check(f, rng.standard_normal(6), rng.standard_normal(6), steps)
