"""NumPy's `array ** p` for one run-time exponent p (a traced Python float, a
NumPy scalar, a 0-d or size-1 array): its float power loop takes shortcuts on
p's value, x * x at 2, 1 / x at -1, sqrt(x) at 0.5 ((-0.0) ** 0.5 is -0.0,
(-inf) ** 0.5 nan, where pow gives 0.0 and inf), pow otherwise; a traced p
gave pow's values (and last bits) on every backend. And a loop's float sum
`s = -0.0; s += x[t]` of terms all -0.0 is -0.0 (init + a sum that started
from +0.0 gave 0.0)."""
import numpy as np
import pytest

import looptrace as lt

SPECIAL = [-0.0, 0.0, -np.inf, np.inf, np.nan, 5e-324, 1e-310, 1e-30, 1e300, -1e300, -1.5, -1.0, 1.0, 3.0]
EXPONENTS = (2.0, -1.0, 0.5, 1.7, 3.0, 0.0, 1.0)
SHORTCUTS = (2.0, -1.0, 0.5, 0.0, 1.0)  # bit for bit on every backend; pow's others within 1 ulp on cpu


def powers(x, x32, xi, X2, p, p0d, p1):
    y = x.copy()
    y **= p
    return (x ** p, np.power(x, p), y, x32 ** p, xi ** p, X2 ** p0d, np.power(X2, p1), x32 ** np.float64(p))


def row_powers(X, P, p):
    """Rows of an array each to its own p, in a loop the vectorizer batches."""
    Y = np.empty_like(X)
    Z = np.empty_like(X)
    for i in range(X.shape[0]):
        Y[i] = X[i] ** P[i]
        Z[i] = np.power(X[i], p)
    return Y, Z


def element_powers(x, p):
    """A NumPy scalar's power is C's pow: no shortcut, (-0.0) ** 0.5 is 0.0."""
    y = np.empty_like(x)
    for i in range(x.shape[0]):
        y[i] = x[i] ** p
    return y


def loop_sum(x, init):
    s = init
    for t in range(x.shape[0]):
        s += x[t]
    return s


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        x = np.concatenate([rng.random(300) * 10, rng.standard_normal(50), SPECIAL])
        x32 = x.astype(np.float32)
    return x, x32, rng.integers(-5, 6, 40), rng.standard_normal((4, 6))


def _call(fn, *args):
    with np.errstate(all="ignore"):
        return fn(*args)


def _check(got, want, p, exact):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (p, got.dtype, want.dtype)
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan, err_msg=f"p={p}")
    g, w = got[~nan], want[~nan]
    np.testing.assert_array_equal(np.signbit(g), np.signbit(w), err_msg=f"p={p}: signs")
    if exact:
        np.testing.assert_array_equal(g, w, err_msg=f"p={p}")
        return
    special = ~np.isfinite(w) | (w == 0)
    np.testing.assert_array_equal(g[special], w[special], err_msg=f"p={p}: special values")
    g, w = g[~special], w[~special]
    assert np.all(np.abs(g - w) <= np.spacing(np.abs(w))), f"p={p}: more than 1 ulp"


def _check_powers(backend):
    x, x32, xi, X2 = _inputs()
    f = lt.jit(powers, backend=backend)
    for p in EXPONENTS:
        args = (x, x32, xi, X2, p, np.array(p), np.array([p]))
        for got, want in zip(_call(f, *args), _call(powers, *args)):
            _check(got, want, p, backend == "interpret" or p in SHORTCUTS)
    assert _call(f, *args)[3].dtype == np.float32  # NEP 50: float32 ** Python float


def test_scalar_exponent_shortcuts_interpret():
    _check_powers("interpret")


def test_shortcuts_match_numpy_where_pow_differs():
    x = np.array([-0.0, -np.inf, 0.0, np.inf, 4.0])
    got = lt.jit(lambda x, p: x ** p, backend="interpret")(x, 0.5)
    np.testing.assert_array_equal(got, [-0.0, np.nan, 0.0, np.inf, 2.0])
    assert np.signbit(got[0])
    y = np.random.default_rng(1).random(2000) * 10
    for p, fn in ((2.0, np.square), (-1.0, np.reciprocal), (0.5, np.sqrt)):
        np.testing.assert_array_equal(lt.jit(lambda x, p: np.power(x, p), backend="interpret")(y, p), fn(y))


def test_rows_to_their_own_exponents_and_scalars_keep_pow():
    rng = np.random.default_rng(3)
    X = rng.random((6, 40)) * 10
    X[:, 0], X[:, 1] = -0.0, -np.inf
    P = np.array([2.0, 0.5, -1.0, 1.7, 0.5, 2.0])
    for got, want in zip(_call(lt.jit(row_powers, backend="interpret"), X, P, 0.5), _call(row_powers, X, P, 0.5)):
        _check(got, want, "rows", True)
    x = np.array([-0.0, -np.inf, 4.0, 2.5])
    got = _call(lt.jit(element_powers, backend="interpret"), x, 0.5)
    _check(got, _call(element_powers, x, 0.5), 0.5, True)
    assert not np.signbit(got[0]) and got[1] == np.inf


@pytest.mark.parametrize("p", [2.0, 0.5, -1.0, 1.7, 3.0])
def test_power_gradients(p):
    def loss(x, p):
        return np.sum(x ** p)

    x = np.random.default_rng(4).random(6) + 0.5
    gx, gp = lt.grad(lt.jit(loss, backend="interpret"), argnums=(0, 1))(x, p)
    h = 1e-6
    fx = [(loss(x + h * e, p) - loss(x - h * e, p)) / (2 * h) for e in np.eye(len(x))]
    np.testing.assert_allclose(gx, fx, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(gp, (loss(x, p + h) - loss(x, p - h)) / (2 * h), rtol=1e-7, atol=1e-8)


def test_cuda_simulator_shortcuts():
    x, x32, _, _ = _inputs(5)
    f = lt.jit(lambda x, x32, p: (x ** p, x32 ** p), backend="cuda")
    for p in (2.0, -1.0, 0.5, 0.0):
        for got, want in zip(_call(f, x[::7], x32[::7], p), _call(lambda a, b, p: (a ** p, b ** p), x[::7], x32[::7], p)):
            _check(got, want, p, True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loop_sum_keeps_negative_zero(dtype):
    f = lt.jit(loop_sum, backend="interpret")
    rng = np.random.default_rng(6)
    cases = [(np.full(n, -0.0, dtype), init) for n in (1, 3, 100) for init in (-0.0, 0.0)]
    cases += [(np.array([-0.0, 0.0, -0.0], dtype), -0.0), (rng.standard_normal(50).astype(dtype), -0.0)]
    for x, init in cases:
        got, want = f(x, init), loop_sum(x, init)
        assert np.asarray(got).dtype == np.asarray(want).dtype
        assert np.signbit(got) == np.signbit(want), (x[:3], init, got, want)
        np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    assert np.signbit(lt.jit(lambda x: np.sum(x), backend="interpret")(np.full(5, -0.0))) == np.signbit(np.sum(np.full(5, -0.0)))


def test_cpu_powers_and_negative_zero_sum():
    """One cpu kernel for the powers (every p: one compile), one for the sum."""
    _check_powers("cpu")
    f = lt.jit(loop_sum, backend="cpu")
    for n in (3, 1000):
        assert np.signbit(f(np.full(n, -0.0), -0.0)) and not np.signbit(f(np.full(n, -0.0), 0.0))
    x = np.random.default_rng(7).standard_normal(1000)
    np.testing.assert_allclose(f(x, -0.0), loop_sum(x, -0.0), rtol=1e-12)
