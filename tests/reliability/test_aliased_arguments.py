"""One array passed for two parameters of a function that writes one of
them (`step(x, out=x)`, the in-place idiom of Numba code): traced with both
names one array, so that reads through one name see the writes through the
other, as in the plain function (api.py `_execute_aliased`). Arrays that
share bounds but no element are not aliases; partial overlaps and gradients
of aliased writes stay refused."""
import copy

import numpy as np
import pytest

import looptrace as lt


def axpy(a, x, y):
    for i in range(x.shape[0]):
        y[i] += a * x[i]
    return y


def smooth(u, out):
    for i in range(1, u.shape[0] - 1):
        out[i] = 0.5 * u[i] + 0.25 * (u[i - 1] + u[i + 1])  # reads u[i - 1] written just before


def rows(A, B):
    for i in range(A.shape[0]):
        B[i, :] = A[i, :] * 2 + A[i - 1, :]
    return B.sum()


def add3(a, b, c):
    c[:] = a + b
    return c


def shifted(x, out):
    for i in range(1, x.shape[0]):
        out[i] = x[i - 1] * 0.5 + 1.0
    return out


def _check(fn, args, backend, alias_positions):
    """fn(*args) with the array at alias_positions passed as one object, against the plain function."""
    jf = lt.jit(fn, backend=backend)
    arr = args[alias_positions[0]]
    mine = arr.copy()
    plain_args = tuple(mine if k in alias_positions else copy.deepcopy(a) for k, a in enumerate(args))
    call_args = tuple(arr if k in alias_positions else a for k, a in enumerate(args))
    want = fn(*plain_args)
    got = jf(*call_args)
    np.testing.assert_array_equal(arr, mine)
    if isinstance(want, np.ndarray):
        np.testing.assert_array_equal(got, want)
        assert (got is arr) == (want is mine)
    else:
        assert got == want
    return jf


@pytest.mark.parametrize("fn,make,pos", [
    (axpy, lambda r: (2.5, r.standard_normal(7), None), (1, 2)),
    (smooth, lambda r: (r.standard_normal(9), None), (0, 1)),
    (rows, lambda r: (r.standard_normal((4, 3)), None), (0, 1)),
    (add3, lambda r: (r.standard_normal(5), None, None), (0, 1, 2)),
    (shifted, lambda r: (r.standard_normal(6), None), (0, 1)),
])
def test_one_array_for_two_parameters_matches_the_plain_function(rng, fn, make, pos):
    args = list(make(rng))
    for k in pos:
        args[k] = args[pos[0]]
    jf = _check(fn, tuple(args), "interpret", pos)
    # the same function on separate arrays, then aliased again: each call its own program
    sep = list(make(rng))
    for k in pos:
        sep[k] = rng.standard_normal(args[pos[0]].shape)
    want = copy.deepcopy(sep)
    fn(*want)
    jf(*sep)
    for a, w in zip(sep, want):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, w)
    args = list(make(rng))
    for k in pos:
        args[k] = args[pos[0]]
    _check(fn, tuple(args), "interpret", pos)


def test_on_cpu_warm_calls_alternate_between_aliased_and_separate(rng):
    f = lt.jit(shifted, backend="cpu")
    for _ in range(3):
        x = rng.standard_normal(50)
        plain = x.copy()
        shifted(plain, plain)
        assert f(x, x) is x
        np.testing.assert_array_equal(x, plain)
        x, out = rng.standard_normal(50), rng.standard_normal(50)
        want = shifted(x.copy(), out.copy())
        np.testing.assert_array_equal(f(x, out), want)


def test_by_keyword_and_through_views_of_one_buffer(rng):
    f = lt.jit(smooth, backend="interpret")
    u = rng.standard_normal(12)
    plain = u.copy()
    smooth(plain, out=plain)
    f(u, out=u)
    np.testing.assert_array_equal(u, plain)
    buf = rng.standard_normal(12)
    plain = buf.copy()
    smooth(plain[2:], plain[2:])
    f(buf[2:], buf[2:])  # two view objects over the same memory, shape and strides
    np.testing.assert_array_equal(buf, plain)


def test_interleaved_views_share_no_element_and_run(rng):
    f = lt.jit(shifted, backend="interpret")
    a = rng.standard_normal(12)
    plain = a.copy()
    shifted(plain[::2], plain[1::2])
    f(a[::2], a[1::2])
    np.testing.assert_array_equal(a, plain)


def test_overlapping_views_that_differ_are_still_refused(rng):
    f = lt.jit(shifted, backend="interpret")
    a = rng.standard_normal(12)
    before = a.copy()
    with pytest.raises(ValueError, match="share memory"):
        f(a[:-1], a[1:])
    np.testing.assert_array_equal(a, before)


def test_a_gradient_of_an_aliased_write_is_refused():
    def loss(a, b):
        a[0] = b[1] * 3
        return np.sum(a * b)

    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="share memory.*separate values"):
        lt.value_and_grad(lt.jit(loss, backend="interpret"))(x, x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def reversed_into(x, out):
    n = x.shape[0]
    for i in range(n):
        out[i] = x[n - 1 - i] + 1
    return out


def test_explain_describes_the_program_an_aliased_call_runs(rng):
    """`out[i] = x[n - 1 - i]` is a map on two arrays and a recurrence on one."""
    z = rng.standard_normal(6)
    jf = lt.jit(reversed_into, backend="interpret")
    assert [lp.kind for lp in lt.explain(jf, z, z.copy()).loops] == ["vectorized"]
    assert [lp.kind for lp in lt.explain(jf, z, z).loops] == ["scan"]
    plain = z.copy()
    reversed_into(plain, plain)
    jf(z, z)
    np.testing.assert_array_equal(z, plain)
