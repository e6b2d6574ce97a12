"""Fixes for what the argument probe of session 48 found
(tests/tracer/test_probe_args_s48.py): a view of a read-only argument
comes back read-only, as NumPy's (the cpu kernel's was writable and wrote
through into a broadcast or protected array; the interpreter's a writable
copy); `x.copy()` of a 0-d argument is a new array (it was x itself); a
choice between an argument and its copy never gives the argument where
the plain function made a copy; NumPy's complex power on cpu (0 ** (1+2j)
was nan, a complex64 power that overflows nan where NumPy gives inf); a
write into a read-only argument that always runs raises NumPy's
ValueError even where it changes nothing. Each check runs the plain
function beside the jitted one; interpret mostly, one cpu kernel."""
import numpy as np
import pytest

import looptrace

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _interp(fn):
    return looptrace.jit(fn, backend="interpret")


def _protected(kind, rng):
    """A read-only argument and the memory it protects."""
    src = rng.standard_normal((3, 4))
    if kind == "broadcast":
        return np.broadcast_to(src[0], (3, 4)), src
    src.flags.writeable = False
    return src, src


def _row(A):
    return A[0]


def _views(A):
    return A[1:], A.T, A[::-1, 1]


def _refused(r, src) -> None:
    before = src.copy()
    with pytest.raises(ValueError, match="read-only"):
        r[...] = -1.0
    np.testing.assert_array_equal(src, before)


@pytest.mark.parametrize("kind", ["broadcast", "flag"])
def test_views_of_read_only_arguments_are_read_only_views(kind, rng):
    for fn in (_row, _views):
        jf = _interp(fn)
        for _ in range(2):  # (a warm call too)
            A, src = _protected(kind, rng)
            got, exp = jf(A), fn(A)
            got, exp = (got, exp) if isinstance(exp, tuple) else ((got,), (exp,))
            for g, e in zip(got, exp):
                assert not e.flags.writeable and not g.flags.writeable
                assert np.shares_memory(g, A) == np.shares_memory(e, A)
                np.testing.assert_array_equal(g, e)
                _refused(g, src)
        W = rng.standard_normal((3, 4))  # a writable argument: writable views of it, as before
        for g in (jf(W),) if fn is _row else jf(W):
            assert g.flags.writeable and np.shares_memory(g, W)


def _copy(x):
    return x.copy()


def _np_copy(x):
    return np.copy(x)


def _copy_beside(x):
    return x.copy(), x


def _either(x, c):
    return x if c else x.copy()


def test_copy_of_a_0d_argument_is_a_new_array(rng):
    for fn in (_copy, _np_copy, _copy_beside):
        x = np.array(rng.standard_normal())
        got, exp = _interp(fn)(x), fn(x.copy())
        r = got[0] if isinstance(got, tuple) else got
        assert type(r) is np.ndarray and r.shape == () and r is not x and not np.shares_memory(r, x)
        before = x.copy()
        r[()] = 7.0
        np.testing.assert_array_equal(x, before)
        if isinstance(got, tuple):
            assert got[1] is x and type(exp[1]) is np.ndarray
    for c in (True, False):  # a 0-d array either way, as plain's
        x = np.array(rng.standard_normal())
        got, exp = _interp(_either)(x, c), _either(x, c)
        assert type(got) is type(exp) is np.ndarray and got.dtype == exp.dtype and got == exp


def _arg_or_copy(x):
    return x if x.sum() > 0 else x.copy()


def _copy_or_arg(x):
    if x.sum() > 0:
        return x.copy()
    return x


def _flagged(x, flag):
    return x if flag else x.copy()


def _maybe_copied(x, flag):
    y = x
    if flag:
        y = x.copy()
    return y


def test_a_choice_of_an_argument_and_its_copy_never_gives_the_argument_for_the_copy(rng):
    """Where plain returns a new array the call never gives the argument (nor
    its memory); where plain returns the argument itself the call gives the
    caller's array too (session 54: tracer/trace.py `_result_choices`; it
    gave a copy before, the SSA value cannot tell them apart: pipeline.py
    `_chosen_values`)."""
    cases = [(_arg_or_copy, ()), (_copy_or_arg, ()), (_flagged, (True,)), (_flagged, (False,)),
             (_maybe_copied, (True,)), (_maybe_copied, (False,))]
    for fn, extra in cases:
        jf = _interp(fn)
        for sign in (1.0, -1.0):
            x = np.abs(rng.standard_normal(5)) * sign
            exp = fn(x, *extra)
            got = jf(x, *extra)
            np.testing.assert_array_equal(got, exp)
            assert got.dtype == exp.dtype and (got is x) == (exp is x)
            if exp is not x:  # the caller's write into a new array leaves x as it was
                assert not np.shares_memory(got, x)
                before = x.copy()
                got[:] = 0.0
                np.testing.assert_array_equal(x, before)


def _mask_none(x):
    x[x < -1e9] = 0.0
    return x.sum()


def _empty_slice(x):
    x[2:2] = 0.0


def _copyto_none(x):
    np.copyto(x, 0.0, where=x < -1e9)


def _putmask_none(x):
    np.putmask(x, x < -1e9, 0.0)


def _bump(x):
    x += 1.0


def _through_view(x):
    v = x.T
    v[v > 1e9] = 0.0


def _in_branch(x, c):
    if c > 0:
        x[x < -1e9] = 0.0
    return c


@pytest.mark.parametrize("fn", [_mask_none, _empty_slice, _copyto_none, _putmask_none, _bump, _through_view])
def test_a_write_that_always_runs_refuses_a_read_only_argument(fn, rng):
    for shape in ((5,), (0,)):
        for _ in range(2):
            x = rng.standard_normal(shape)
            x.flags.writeable = False
            before = x.copy()
            with pytest.raises(ValueError, match="read-only"):
                fn(x)
            with pytest.raises(ValueError, match="read-only") as info:
                _interp(fn)(x)
            assert "test_probe_fixes_s48.py" in str(info.value)  # the user's line
            np.testing.assert_array_equal(x, before)
    if fn is not _bump:  # writable: as plain
        x = rng.standard_normal(5)
        y = x.copy()
        assert _interp(fn)(x) == fn(y)
        np.testing.assert_array_equal(x, y)


def test_a_write_in_a_branch_not_taken_does_not_refuse(rng):
    x = rng.standard_normal(5)
    x.flags.writeable = False
    assert _in_branch(x, -1.0) == _interp(_in_branch)(x, -1.0) == -1.0
    with pytest.raises(ValueError, match="read-only"):
        _in_branch(x, 1.0)


def _cpu_kernel(A, x, p, y, q, b, w):
    w[w < -1e9] = 0.0
    return A[0], x ** p, y ** q, b ** p


def _grid(rng, dtype):
    x = ((rng.standard_normal(40) + 1j * rng.standard_normal(40)) * np.exp(rng.uniform(-3, 3, 40))).astype(dtype)
    x[:4] = [0, complex(-0.0, 0.0), complex(np.inf, 0.0), complex(1.0, np.nan)]
    p = np.array([0, 1, 2, 3, 4, 7, 60, 99, -1, -2, -3, -7, 100, 2.5, 1 + 2j, 2j, -2j, -1 + 2j, 0.5], dtype)
    X, P = np.meshgrid(x, p)
    return X, P


def _bits_equal(got, exp) -> np.ndarray:
    g, e = got.view(got.real.dtype), exp.view(exp.real.dtype)
    return ((g == e) | (np.isnan(g) & np.isnan(e))).reshape(*got.shape, 2).all(-1)


def test_cpu_read_only_views_complex_powers_and_sure_writes(rng):
    """One cpu kernel: a row of a read-only argument (writable before, and
    wrote through; a writable argument's row is checked on interpret above), NumPy's complex power (a zero base, integer exponents
    by NumPy's products bit for bit, others as glibc's cpow), and a write
    that always runs into a read-only argument."""
    jf = looptrace.jit(_cpu_kernel, backend="cpu")
    X, P = _grid(rng, np.complex128)
    Y, Q = _grid(rng, np.complex64)
    Y[0, :2], Q[0, :2] = [1.2 - 0.3j, 3 + 4j], 60  # (3+4j) ** 60 overflows complex64 (NumPy's products)
    B = rng.standard_normal(X.shape) > 0
    B[:, :2] = False  # a False base: 0 ** p

    for _ in range(2):  # the first call, then the warm direct runner (its guard sends a read-only A away)
        A, src = _protected("broadcast", rng)  # a read-only A: its row read-only, nothing written through
        row, xp, yq, bp = jf(A, X, P, Y, Q, B, np.ones(3))
        assert not row.flags.writeable and np.shares_memory(row, A)
        np.testing.assert_array_equal(row, _row(A))
        _refused(row, src)
    ex, ey, eb = X ** P, Y ** Q, B ** P
    assert xp.dtype == ex.dtype and yq.dtype == ey.dtype and bp.dtype == eb.dtype
    for got, exp, p, rtol in ((xp, ex, P, 1e-13), (yq, ey, Q, 2e-5), (bp, eb, P, 1e-13)):
        integer = (p.imag == 0) & (p.real == np.round(p.real)) & (np.abs(p.real) < 100)
        assert _bits_equal(got, exp)[integer].all()
        fin = np.isfinite(exp)
        np.testing.assert_allclose(got[fin], exp[fin], rtol=rtol)
        assert (np.isnan(got) == np.isnan(exp)).all() and (np.isinf(got) == np.isinf(exp)).all()
    zero = np.where(P[:, 0] == 0, 1, np.where(P[:, 0].real > 0, 0, np.nan))  # NumPy's rule for a zero base
    np.testing.assert_array_equal(xp[:, 0], zero)
    np.testing.assert_array_equal(bp[:, 0], zero)
    w = np.ones(3)
    w.flags.writeable = False
    for run in (_cpu_kernel, jf):
        with pytest.raises(ValueError, match="read-only"):
            run(A, X, P, Y, Q, B, w)
