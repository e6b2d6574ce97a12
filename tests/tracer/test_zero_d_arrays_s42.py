"""A reshape, transpose, copy, cast or view of an array is an ndarray, a 0-d
one too (brief D2, session 42): `z.copy()`, `z.astype(...)`, `z.T`,
`z.reshape(())`, `z[...]`, `np.squeeze(x1)` of a 0-d array z (or a
one-element x1) are 0-d arrays as in NumPy, while `z[()]`, `float(z)` and
`z + 1` stay scalars; of a NumPy scalar s, `s.reshape(())`, `s.T`, `s.copy()`
are scalars and `np.copy(s)`, `s[...]` arrays. A reshape of a number is a new
array: writing into it leaves the number alone."""
import numpy as np
import pytest

import looptrace

CASES = {
    "copy": lambda x: x.copy(), "np.copy": lambda x: np.copy(x), "astype": lambda x: x.astype(np.float32),
    "astype same": lambda x: x.astype(x.dtype), "astype no copy": lambda x: x.astype(x.dtype, copy=False),
    "T": lambda x: x.T, "transpose": lambda x: x.transpose(), "np.transpose": lambda x: np.transpose(x),
    "reshape": lambda x: x.reshape(()), "np.reshape": lambda x: np.reshape(x, ()), "reshape list": lambda x: x.reshape([]),
    "squeeze": lambda x: x.squeeze(), "np.squeeze": lambda x: np.squeeze(x), "view": lambda x: x.view(),
    "ellipsis": lambda x: x[...], "real": lambda x: x.real, "imag": lambda x: x.imag, "np.real": lambda x: np.real(x),
    "moveaxis": lambda x: np.moveaxis(x, [], []), "astype complex": lambda x: x.astype(complex),
    "np.broadcast_to": lambda x: np.broadcast_to(x, ()), "expand squeeze": lambda x: np.squeeze(np.expand_dims(x, 0)),
    "T.copy": lambda x: x.T.copy(), "ravel reshape": lambda x: np.ravel(x).reshape(()),
    "index": lambda x: x[()], "x + 1": lambda x: x + 1, "neg": lambda x: -x, "conj": lambda x: x.conj(),
    "reshape index": lambda x: x.reshape(())[()], "sum": lambda x: x.sum(),
}


def _arguments(rng):
    v = rng.standard_normal()
    return [np.array(v), np.float64(v), np.array([v]), np.array(complex(v, -v)), np.complex128(complex(-v, v)),
            np.array(v, np.float32)]


def _same(got, want):
    assert type(got) is type(want) and np.ndim(got) == np.ndim(want), (got, want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("name", list(CASES))
def test_types_as_numpy_interpret(rng, name):
    fn = CASES[name]
    jf = looptrace.jit(lambda x: fn(x), backend="interpret")
    for x in _arguments(rng):
        if name == "np.broadcast_to" and np.ndim(x):
            continue  # (shape (1,) to (): NumPy's ValueError, looptrace's ShapeError)
        _same(jf(x), fn(x))


@pytest.mark.parametrize("name", ["copy", "astype", "T", "reshape", "ellipsis", "index"])
def test_types_as_numpy_cpu(rng, name):
    fn = CASES[name]
    jf = looptrace.jit(lambda x: fn(x), backend="cpu")
    for x in _arguments(rng)[:3]:
        _same(jf(x), fn(x))


def _write_through(x):
    y = x.T
    y += 1.0
    w = x.reshape(())
    w *= 2.0
    return x


def _write_copy(x):
    y = x.copy()
    y += 1.0
    return x + 0.0, y


def _reshape_of_number(x):
    y = np.reshape(x, (1,))
    y[0] = 5.0
    return x


def _reshape_of_scalar(x):
    s = x.sum()
    y = s.reshape((1,))
    y[0] = 5.0
    z = s[...]
    z += 1.0
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_writes_into_views_and_copies(rng, backend):
    x = np.array(rng.standard_normal())
    want_x = x.copy()
    want = _write_through(want_x)
    got_x = x.copy()
    got = looptrace.jit(_write_through, backend=backend)(got_x)
    _same(got, want)
    _same(got_x, want_x)  # the argument is written, as NumPy writes it
    for g, w in zip(looptrace.jit(_write_copy, backend=backend)(x.copy()), _write_copy(x.copy())):
        _same(g, w)


@pytest.mark.parametrize("x", [1.5, np.float64(-2.25)], ids=repr)
def test_reshape_of_a_number_is_a_new_array(x):
    assert looptrace.jit(_reshape_of_number, backend="interpret")(x) == _reshape_of_number(x)
    a = np.arange(1.0, 4.0)
    _same(looptrace.jit(_reshape_of_scalar, backend="interpret")(a), _reshape_of_scalar(a))


def one_matrix_scalars(m):
    sign, logdet = np.linalg.slogdet(m)
    return sign, logdet, np.linalg.cond(m), np.linalg.slogdet(m)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_results_of_one_matrix_stay_numpy_scalars(backend):
    """slogdet and cond of one matrix give NumPy scalars (internally
    `packed[..., 0]`, which is a 0-d array in NumPy's rules; probe X2)."""
    m = np.eye(3) * 2.0 + 0.1
    got, want = looptrace.jit(one_matrix_scalars, backend=backend)(m), one_matrix_scalars(m)
    assert [type(g) for g in got[:3]] == [type(w) for w in want[:3]]
    assert type(got[3]) is type(want[3]) and [type(g) for g in got[3]] == [type(w) for w in want[3]]
    np.testing.assert_allclose(got[:3], want[:3], rtol=1e-12)


def float_of(z):
    return float(z)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_float_of_a_complex_0d_array_raises_as_python(backend):
    """float() of a complex 0-d array is Python's TypeError; of a NumPy
    complex scalar, its real part (with NumPy's ComplexWarning)."""
    f = looptrace.jit(float_of, backend=backend)
    with pytest.raises(TypeError):
        float_of(np.array(1 + 2j))
    with pytest.raises(TypeError, match="not complex"):
        f(np.array(1 + 2j))
    with pytest.warns(np.exceptions.ComplexWarning):
        want = float_of(np.complex128(1 + 2j))
    assert f(np.complex128(1 + 2j)) == want == 1.0
