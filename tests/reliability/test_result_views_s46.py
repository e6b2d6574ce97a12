"""Results that share memory as the plain function's do (session 46, helper R).

NumPy returns views: `return y, y[1:]` gives a view of y, `y[..., 1]` of a 1-d
y a 0-d ndarray viewing y, `y.real` / `y.imag` of a complex y views of it,
`y.real` of a real y y itself, and `return y, y` one object twice. A jitted
call gave arrays of their own for some (a later write into one was not seen
in the other) or two arrays sharing one buffer (cpu, `return y, y`), and the
aux results of value_and_grad(has_aux=True) lost all of it (an aux
`x.copy()` was x's memory: a write into it reached the caller's x). Each
test compares the plain function with the jitted one: the results' types,
dtypes, shapes, which are one object, which share memory (with each other
and with the arguments), their values, and again after a write into the
first array result.
"""
import numpy as np
import pytest

import looptrace as lt


def _leaves(out) -> list:
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _leaves(o)]
    if isinstance(out, dict):
        return [leaf for k in sorted(out) for leaf in _leaves(out[k])]
    return [out]


def _shape_of(out, args) -> list:
    """Each leaf's type, dtype and shape, the earlier leaves it is, those it
    shares memory with, and the arguments it is or shares memory with."""
    leaves, desc = _leaves(out), []
    for i, leaf in enumerate(leaves):
        arr = isinstance(leaf, np.ndarray)
        desc.append((type(leaf).__name__, getattr(leaf, "dtype", None), getattr(leaf, "shape", None),
                     [j for j in range(i) if leaves[j] is leaf],
                     [j for j in range(i) if arr and isinstance(leaves[j], np.ndarray)
                      and np.shares_memory(leaf, leaves[j])],
                     [j for j, a in enumerate(args) if a is leaf],
                     [j for j, a in enumerate(args) if arr and isinstance(a, np.ndarray) and np.shares_memory(leaf, a)]))
    return desc


def _same_values(want, got) -> None:
    for w, g in zip(_leaves(want), _leaves(got)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)
        assert np.asarray(g).dtype == np.asarray(w).dtype


def _agree(f, args, backend="interpret", jitted=None):
    """The plain and the jitted function, a first call and a warm one."""
    jitted = jitted or lt.jit(f, backend=backend)
    rng = np.random.default_rng(7)
    for _ in range(2):
        plain = [a.copy() for a in args]
        comp = [a.copy() for a in args]
        want, got = f(*plain), jitted(*comp)
        assert _shape_of(got, comp) == _shape_of(want, plain)
        _same_values(want, got)
        first = next((k for k, leaf in enumerate(_leaves(want))
                      if isinstance(leaf, np.ndarray) and leaf.ndim and leaf.flags.writeable), None)
        if first is not None:  # a write into the first array result: seen where the plain one's is
            new = rng.standard_normal(_leaves(want)[first].shape)
            _leaves(want)[first][...] = new
            _leaves(got)[first][...] = new
            _same_values(want, got)
            _same_values(plain, comp)
    return jitted


def _x2():
    return np.random.default_rng(3).standard_normal((3, 4))


def _x1():
    return np.random.default_rng(4).standard_normal(5)


def _c1():
    r = np.random.default_rng(5)
    return r.standard_normal(5) + 1j * r.standard_normal(5)


def zero_d_view_1d(x):
    y = x * 2
    return y, y[..., 1], y[1, ...], y[..., None, 2]


def zero_d_of_2d(x):
    y = x * 2
    return y, y[..., 1], y[0, 1], y[np.int64(1)], y[1, ...]


def complex_parts(x):
    y = x * 2
    return y, y.real, y.imag, y[1:].real


def real_parts_of_real(x):
    y = x * 2
    r = y.real  # y itself, as NumPy's
    r[0] = 3.0
    return y, r, y.imag, np.real(y)


def real_of_a_real_argument(x):
    r = x.real  # the caller's x: `+=` writes into it, and it is returned as itself
    r += 1.0
    return r, x.real[1:]


def derived_views(x):
    y = x * 2
    return y, y.T, y.reshape(4, 3), y[::-1], y[None], y.view(), y.ravel(), y.swapaxes(0, 1)


def squeezed(x):
    y = x[None] * 2
    return y, np.squeeze(y), y[0, ::2]


def copies_stay_copies(x):
    y = x * 2
    return y, y.T.reshape(-1), y.copy(), y[[0, 2]]


def one_object_twice(x):
    y = x * 2
    z = y[1:]
    return y, z, z, y


def views_after_writes(x):
    y = x * 2
    z = y[1:]
    y[0] = 5.0
    y += 1.0
    return z, y, z.T


def nested(x):
    y = x * 2
    return y, (y[1:], {"a": y[0], "b": y}), [y.T]


def arguments(x):
    v = x[1:]
    return x, x, v, v, x.T


CASES = [(zero_d_view_1d, _x1), (zero_d_of_2d, _x2), (complex_parts, _c1), (real_parts_of_real, _x2), (real_of_a_real_argument, _x2),
         (derived_views, _x2), (squeezed, _x2), (copies_stay_copies, _x2), (one_object_twice, _x2),
         (views_after_writes, _x2), (nested, _x2), (arguments, _x2)]


@pytest.mark.parametrize("f, make", CASES, ids=[f.__name__ for f, _ in CASES])
def test_results_share_as_numpy_does(f, make):
    _agree(f, [make()])


def test_zero_d_view_of_a_1d_result_is_a_0d_array_of_it():
    y, v, *_ = lt.jit(zero_d_view_1d, backend="interpret")(_x1())
    assert type(v) is np.ndarray and v.shape == () and np.shares_memory(v, y)
    v[()] = 7.0
    assert y[1] == 7.0


def aux_views(x):
    y = x * 2
    return (y ** 2).sum(), (y, y[1:], {"t": y.T, "same": y}, x, x.copy(), y[..., 1])


def test_has_aux_results_share_as_numpy_does():
    x = _x2()
    want = aux_views(x.copy())
    plain = [x.copy()]
    (loss, aux), g = lt.value_and_grad(aux_views, has_aux=True, backend="interpret")(x)
    assert _shape_of(aux, [x]) == _shape_of(aux_views(plain[0])[1], plain)
    _same_values(want, (loss, aux))
    np.testing.assert_allclose(g, 8 * x, rtol=1e-12)
    aux[4][...] = 0.0  # the aux copy is not x's memory
    assert np.all(x == plain[0])
    aux[0][...] = 1.0  # y's views see the write
    assert np.all(aux[1] == 1.0) and np.all(aux[2]["t"] == 1.0)
    g2, aux2 = lt.grad(aux_views, has_aux=True, backend="interpret")(x)
    assert _shape_of(aux2, [x]) == _shape_of(aux_views(plain[0])[1], plain)
    # the gradient against central differences (float64)
    h, e = 1e-6, np.zeros_like(x)
    e[1, 2] = h
    fd = (aux_views(x + e)[0] - aux_views(x - e)[0]) / (2 * h)
    np.testing.assert_allclose(g2[1, 2], fd, rtol=1e-6)


def many_views(x, c):
    y = x * 2
    w = c * 3
    z = y[1:]
    return y, z, y.T, y[::-1, None], z, w, w.real, w.imag, w[..., 2], {"d": y[0], "r": y.real}, x, x


def test_many_views_in_one_cpu_kernel():
    """One kernel: the direct runner (a warm call) and the first call build
    the views, the one object twice and the arguments themselves."""
    jitted = lt.jit(many_views, backend="cpu")
    _agree(many_views, [_x2(), _c1()], jitted=jitted)
    _agree(many_views, [_x2(), _c1()], backend="interpret")
