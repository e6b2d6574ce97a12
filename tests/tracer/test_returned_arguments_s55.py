"""Names bound to arguments by traced conditions, and results that are views of all of an argument
(session 55, helper V3): each compiled call against the plain function on fresh random data, for
values, `is` identity, np.shares_memory and the effects on the arguments."""
import os
import tempfile

import numpy as np
import pytest

import looptrace as lt


def _swaps(k: int):
    """f(x, y): k conditional swaps of two names, each followed by a write through one of them."""
    lines = ["def f(x, y):", "    a, b = x, y"]
    for i in range(k):
        lines += [f"    if x[{i}] > 0:", "        a, b = b, a", f"    a[{i}] += {i + 1}.0"]
    lines += ["    b[-1] -= 1.0", "    return a.sum() - b[0]"]
    path = os.path.join(tempfile.mkdtemp(), f"swaps_{k}.py")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    ns: dict = {}
    exec(compile(open(path).read(), path, "exec"), ns)
    return ns["f"]


def _same_effects(f, jf, *args):
    plain = [a.copy() for a in args]
    want = f(*plain)
    got = jf(*args)
    assert np.allclose(got, want)
    for a, p in zip(args, plain):
        np.testing.assert_array_equal(a, p)


def test_many_conditional_swaps_then_writes():
    """16 swaps (2**15 chains of links: refused past 512 before); each write reaches the argument the
    swaps so far leave the name holding, for data taking different swaps."""
    f = _swaps(16)
    jf = lt.jit(f, backend="interpret")
    r = np.random.default_rng(55)
    for _ in range(3):
        _same_effects(f, jf, r.standard_normal(20), r.standard_normal(20))


def test_conditional_swaps_cpu():
    f = _swaps(3)
    jf = lt.jit(f, backend="cpu")
    r = np.random.default_rng(56)
    for _ in range(4):
        _same_effects(f, jf, r.standard_normal(8), r.standard_normal(8))


def test_crosswise_names_then_write():
    """`a, b = (x, y) if c else (y, x)`: a write through `b` reaches y where c, x where not."""
    def cross(x, y):
        a, b = (x, y) if x[0] > 0 else (y, x)
        b[1] = 7.0
        a[2] += b[1]
        return x.sum() + 10 * y.sum()

    jf = lt.jit(cross, backend="interpret")
    r = np.random.default_rng(57)
    for sign in (1.0, -1.0):
        x = r.standard_normal(4)
        x[0] = sign * abs(x[0])
        _same_effects(cross, jf, x, r.standard_normal(4))


def _all_slice(x):
    return x[:]


def _view(x):
    return x.view()


def _ellipsis(x):
    return x[...]


def _transpose(x):
    return x.T


def _same_shape(x):
    return x.reshape(x.shape)


def _written_then_all(x):
    x[0] = 1.5
    return x[:]


def _written_then_view(x):
    x[1] += 2.0
    return x.view()


def _check_whole_view(f, backend: str) -> None:
    x = np.random.default_rng(58).standard_normal(5)
    px = x.copy()
    jf = lt.jit(f, backend=backend)
    want = f(px)
    for _ in range(2):  # (the second call: a warm runner)
        got = jf(x)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(x, px)
        assert got is not x and want is not px
        assert np.shares_memory(got, x) and np.shares_memory(want, px)
        got[2] = -3.25  # a write through the result reaches the argument, as in NumPy
        want[2] = -3.25
        np.testing.assert_array_equal(x, px)
        x[3] = 4.5  # and one into the argument is seen through the result
        px[3] = 4.5
        np.testing.assert_array_equal(got, want)
        fresh = np.random.default_rng(59).standard_normal(5)
        x[:], px[:] = fresh, fresh
        want = f(px)


@pytest.mark.parametrize("f", [_all_slice, _view, _ellipsis, _transpose, _same_shape, _written_then_all,
                               _written_then_view])
def test_whole_views_of_an_argument(f):
    _check_whole_view(f, "interpret")


@pytest.mark.parametrize("f", [_all_slice, _written_then_all])
def test_whole_views_of_an_argument_cpu(f):
    _check_whole_view(f, "cpu")


_G = np.zeros(4)


def _write_and_return_global(x):
    _G[1:3] = x[:2] * 2.0
    return _G


def _return_global_and_arg(x):
    x[0] += _G[3]
    return _G, x


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_returned_global_is_the_global(backend):
    """`return G` of a module's array gives G itself (was a copy: a write into it missed G)."""
    r = np.random.default_rng(60)
    jf, jg = lt.jit(_write_and_return_global, backend=backend), lt.jit(_return_global_and_arg, backend=backend)
    for _ in range(2):
        _G[:] = r.standard_normal(4)
        x = r.standard_normal(3)
        want_g = _G.copy()
        want_g[1:3] = x[:2] * 2.0
        got = jf(x)
        assert got is _G
        np.testing.assert_array_equal(_G, want_g)
        got[0] = 9.5  # reaches the global, as in the plain function
        assert _G[0] == 9.5
        px = x.copy()
        px[0] += _G[3]
        g, y = jg(x)
        assert g is _G and y is x
        np.testing.assert_array_equal(x, px)


def _rotate_written(a, b, c, n):
    for _ in range(n):
        a[1:] += 0.5 * b[:-1] + 0.1 * c[1:]
        a, b, c = b, c, a
    a[0] = 7.0
    return a, c


def _rotate_names(a, b, c, n):
    for _ in range(n):
        a, b, c = b, c, a
    b[0] = 7.0
    return a


def _check_rotation(f, jf, n: int) -> None:
    r = np.random.default_rng(61 + n)
    args = [r.standard_normal(5) for _ in range(3)]
    plain = [x.copy() for x in args]
    want, got = f(*plain, n), jf(*args, n)
    want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
    for a, p in zip(args, plain):
        np.testing.assert_array_equal(a, p)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
        assert [g is a for a in args] == [w is p for p in plain]


@pytest.mark.parametrize("f", [_rotate_written, _rotate_names])
def test_three_way_rotation_of_arguments(f):
    """`a, b, c = b, c, a` in a loop of a run-time trip count: the trip count mod 3 picks each name's
    array after it (was refused where written; where not, a write through a name afterwards missed
    the argument and the returned name was a copy)."""
    jf = lt.jit(f, backend="interpret")
    for n in range(5):
        _check_rotation(f, jf, n)


def test_three_way_rotation_of_arguments_cpu():
    jf = lt.jit(_rotate_written, backend="cpu")
    for n in (2, 4):
        _check_rotation(_rotate_written, jf, n)


def _pick_nested(x, y, z):
    if x[0] > 0:
        r = y
    elif y[0] > 0:
        r = z
    else:
        r = x
    r[1] = 7.0
    return r


def _one_sided_nested(x, v):
    if x[0] > 0.0:
        if x[1] > 0.0:
            v = v * 3.0
    v += 1.0
    return v


def _check_nested(f, jf, signs) -> None:
    r = np.random.default_rng(62)
    args = [r.standard_normal(4) for _ in range(f.__code__.co_argcount)]
    args[0][0] = signs[0] * abs(args[0][0])
    args[0][1] = signs[1] * abs(args[0][1])
    args[1][0] = signs[1] * abs(args[1][0])
    plain = [a.copy() for a in args]
    want, got = f(*plain), jf(*args)
    np.testing.assert_array_equal(got, want)
    for a, p in zip(args, plain):
        np.testing.assert_array_equal(a, p)
    assert [got is a for a in args] == [want is p for p in plain]


@pytest.mark.parametrize("f", [_pick_nested, _one_sided_nested])
def test_names_bound_by_nested_ifs(f):
    """An inner `if` decides which argument the name is: a write through it reaches that argument and
    the returned name is it (the write was refused, the result a copy, where the inner `if` decided;
    183ecce, off in 24e2bcb, on again in session 56: tests/tracer/test_nested_identities_s56.py)."""
    jf = lt.jit(f, backend="interpret")
    for signs in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        _check_nested(f, jf, signs)


def test_names_bound_by_nested_ifs_cpu():
    jf = lt.jit(_pick_nested, backend="cpu")
    for signs in ((1, 1), (-1, 1), (-1, -1)):
        _check_nested(_pick_nested, jf, signs)


def test_early_return_in_nested_ifs_inside_a_loop():
    """Found by tests/tracer/test_generated_scalar.py in session 55's CI (seed 147230, n=1): an early
    return inside nested ifs inside a loop failed IR verification (a value used where it is not
    defined) while 183ecce's identities were on: links the loop body's first trace made (to its boxes,
    on the outer `if`'s results, which value_frames did not hold) were still followed in the second
    (now dropped: array.live_component, control._merge_branches)."""
    import random

    from . import _generated_scalar
    from .test_generated_scalar import check_scalar_program

    check_scalar_program(_generated_scalar.program(random.Random(147230)), 1, 147230, "interpret")


def _view_of_global(x):
    return _G[1:] * 1.0 + x[0], _G[1:]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_returned_view_of_a_global(backend):
    """`return G[1:]`: a view of the global, as in the plain function (the interpreter gave a copy)."""
    jf = lt.jit(_view_of_global, backend=backend)
    r = np.random.default_rng(63)
    for _ in range(2):
        _G[:] = r.standard_normal(4)
        x = r.standard_normal(2)
        want = _view_of_global(x)
        got = jf(x)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        assert np.shares_memory(got[1], _G) and not np.shares_memory(got[0], _G)
        got[1][0] = 2.5
        assert _G[1] == 2.5
