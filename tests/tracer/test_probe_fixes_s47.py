"""Probe fixes (s47, helper Y), each against the plain function under NumPy 2.4:
np.nanvar/np.nanstd keep NaN for an inf - inf deviation (they gave inf or 0.0);
np.put/place/putmask/insert/fill_diagonal/pad and ndarray.fill raise NumPy's
OverflowError (ValueError for NaN) for a Python number an int array does not take,
where they wrapped; np.full/np.full_like cast a Python float fill unsafely, as
NumPy's copyto does, where they raised. Values, dtypes, the argument arrays
afterwards, and the exception class where plain Python raises."""
import warnings

import numpy as np
import pytest

import looptrace as lt


def _outcome(fn, args):
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = fn(*args)
        except Exception as e:  # noqa: BLE001  (the class is what is compared)
            return ("raises", e)
    return ("returns", res, args)


def _check(fn, *args, backend="interpret", jitted=None):
    want = _outcome(fn, args)
    got = _outcome(jitted or lt.jit(fn, backend=backend), args)
    assert got[0] == want[0], (fn.__name__, args, got, want)
    if want[0] == "raises":
        assert isinstance(got[1], type(want[1])), (fn.__name__, args, got[1], want[1])
        return
    for g, w in zip(_flat(got[1:]), _flat(want[1:])):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (fn.__name__, args, g, w)
        np.testing.assert_allclose(g, w, rtol=1e-6 if w.dtype == np.float32 else 1e-12, equal_nan=True)


def _flat(x):
    if isinstance(x, (tuple, list)):
        return [y for e in x for y in _flat(e)]
    return [x]


# --- 1. np.nanvar / np.nanstd with infinities ----------------------------------------------------------
def _nan_stats(a):
    return (np.nanvar(a), np.nanstd(a), np.nanvar(a, axis=0, ddof=1), np.nanstd(a, axis=-1, keepdims=True),
            np.nanmean(a, axis=0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nanvar_nanstd_with_infinities(dtype):
    rng = np.random.default_rng(47)
    f = lt.jit(_nan_stats, backend="interpret")
    for specials in ([np.inf], [-np.inf, np.nan], [np.inf, -np.inf], [np.nan, np.nan, np.nan], []):
        a = rng.standard_normal((3, 4)).astype(dtype)
        pos = rng.choice(a.size, len(specials), replace=False)
        a.flat[pos] = specials
        _check(_nan_stats, a, jitted=f)
    _check(lambda x: (np.nanvar(x), np.nanstd(x)), np.array([1.0, np.inf, 2.0], dtype))
    _check(lambda x: np.nanvar(x), np.array([np.inf], dtype))


def test_nanvar_nanmean_complex():
    rng = np.random.default_rng(1)
    c = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    c[0, 1] = np.nan
    c[2, 2] = complex(np.inf, 0.0)
    _check(lambda x: (np.nanmean(x), np.nanvar(x, axis=1), np.nanstd(x, axis=0, ddof=1), np.nanvar(x[:2])), c)


def test_nanvar_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5))
    x[1, 2] = np.nan  # (skipped: its gradient is 0)

    def loss(v):
        return np.nanvar(v, axis=1, ddof=1).sum() + np.nanstd(v)

    g = lt.grad(lt.jit(loss, backend="interpret"))(x)
    eps, fd = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        if np.isnan(x[i]):
            continue
        up, dn = x.copy(), x.copy()
        up[i] += eps
        dn[i] -= eps
        fd[i] = (loss(up) - loss(dn)) / (2 * eps)
    np.testing.assert_allclose(np.where(np.isnan(x), 0.0, g), fd, rtol=1e-6, atol=1e-8)


# --- 2. out-of-range Python numbers written into int arrays ------------------------------------------
_WRITES = {
    "put": lambda a, v: (np.put(a, [0], v), a)[1],
    "place": lambda a, v: (np.place(a, a > 1, v), a)[1],
    "putmask": lambda a, v: (np.putmask(a, a > 1, v), a)[1],
    "fill": lambda a, v: (a.fill(v), a)[1],
    "fill_diagonal": lambda a, v: (lambda z: (np.fill_diagonal(z, v), z)[1])(np.zeros((2, 2), a.dtype) + a[:2]),
    "pad": lambda a, v: np.pad(a, 1, constant_values=v),
    "pad_pairs": lambda a, v: np.pad(a.reshape(1, 3), ((1, 0), (0, 1)), constant_values=((v, 1), (1, 1))),
    "insert": lambda a, v: np.insert(a, 0, v),
}
_VALUES = [300, 300.0, -1, -1.0, 3.7, 100, np.nan, np.inf, True, [300.0], 1 + 0j,
           np.float64(300.0), np.int64(300), np.float64(np.nan), np.float64(-1.0)]


@pytest.mark.parametrize("name", sorted(_WRITES))
def test_python_numbers_written_into_int_arrays(name):
    op = _WRITES[name]
    for dtype in (np.int8, np.uint8, np.int64):
        for v in _VALUES:
            a = np.array([1, 2, 3], dtype)
            _check(lambda x, op=op, v=v: op(x, v), a)  # a constant
            if not isinstance(v, list):
                _check(lambda x, w, op=op: op(x, w), a, v)  # an argument


def _put_loop(a, k):
    for i in range(k, k + 2):
        np.put(a, [0], i)
    return a


def _place_loop(a, k):
    for i in range(k, k + 2):
        np.place(a, a > 0, i)
        np.putmask(a, a > 0, i)
    return a


def _insert_fill_loop(a, k):
    r = np.zeros(5, a.dtype)
    for i in range(k, k + 2):
        r = np.insert(a, [0, 1], [i, 3])
        a.fill(i)
    return r


def _float_loop(a, x):
    for i in range(2):
        np.put(a, [i], x * (i + 1))  # a Python float: int() first, then the range check
    return a


@pytest.mark.parametrize("fn", [_put_loop, _place_loop, _insert_fill_loop])
def test_traced_python_int_written(fn):
    f = lt.jit(fn, backend="interpret")
    for dtype, k in ((np.int8, 126), (np.int8, 298), (np.uint8, 254), (np.uint8, -1), (np.int8, -129)):
        _check(fn, np.array([1, 2, 3], dtype), k, jitted=f)


def test_traced_python_float_written():
    f = lt.jit(_float_loop, backend="interpret")
    for x in (2.5, 100.0, 150.0, float("nan"), float("inf"), -0.5):
        _check(_float_loop, np.array([1, 2, 3], np.int8), x, jitted=f)


def test_where_and_copyto_keep_numpys_rules():
    a = np.array([1, 2, 3], np.int8)
    _check(lambda x: np.where(x > 1, x, 300), a)  # wraps in NumPy too
    _check(lambda x: (np.copyto(x, 300.0, casting="unsafe"), x)[1], a)
    _check(lambda x: (np.copyto(x, 300), x)[1], a)


# --- 3. np.full / np.full_like with a Python float outside an int dtype ------------------------------
def test_full_casts_a_python_float_unsafely():
    a = np.array([1, 2, 3], np.int16)
    _check(lambda x: (np.full(2, 300.0, np.int8), np.full(2, -1.0, np.uint8), np.full(2, np.nan, np.int64),
                      np.full((2, 2), 1 + 2j, np.int8), np.full(2, 3.7, np.int8)), a)
    _check(lambda x: (np.full_like(x, 1e6), np.full_like(x, -1.0, dtype=np.uint8), np.full_like(x, np.inf)), a)
    _check(lambda x: np.full(2, 300, np.int8), a)  # a Python int: NumPy's OverflowError
    _check(lambda x: np.full_like(x, 2**40), a)
    _check(lambda x, v: (np.full(2, v, np.int8), np.full_like(x, v)), a, 300.0)


# --- the compiled kernel: one compile serving several checks -------------------------------------
def _kernel(x, a8, k):
    for i in range(k, k + 2):
        np.put(a8, [0], i)
    a8.fill(k)
    return np.nanvar(x), np.nanstd(x, axis=0), np.full(2, 300.0, np.int8), np.full_like(a8, -1.0, dtype=np.uint8)


def test_compiled_kernel():
    f = lt.jit(_kernel, backend="cpu")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3))
    x[0, 0], x[1, 1], x[2, 1], x[3, 2] = np.inf, np.nan, -np.inf, np.nan
    _check(_kernel, x, np.array([1, 2, 3], np.int8), 5, jitted=f)  # values
    _check(_kernel, x, np.array([1, 2, 3], np.int8), 126, jitted=f)  # 128: OverflowError at run time
    x32 = np.array([[1.0, np.inf], [2.0, 3.0]], np.float32)
    _check(_kernel, x32, np.array([1, 2, 3], np.uint8), -3, jitted=f)  # -3: OverflowError for uint8
