"""What a probe of the differentiation API found (session 33): vjp_fn read
its arguments when called (an optimizer step in between changed the
gradient), grad dropped the writes a function makes into its arguments and
skipped the aliasing check, a cotangent of another shape was reshaped, and
the gradient of a nested loop whose inner trip count follows the outer index
stacked a ragged record. Each against the plain function or central
differences in float64."""
import numpy as np
import pytest

import looptrace as lt

BACKENDS = ["interpret", "cpu"]


def _fd(f, args, i, eps=1e-6):
    """Central differences of f in argument i (each evaluation on fresh copies:
    f may write into its arguments)."""
    def at(k, step):
        a = [np.array(v, dtype=float) if isinstance(v, np.ndarray) else v for v in args]
        if k is None:
            a[i] = a[i] + step
        else:
            a[i][k] += step
        return f(*a)

    if np.isscalar(args[i]):
        return (at(None, eps) - at(None, -eps)) / (2 * eps)
    g = np.zeros(np.shape(args[i]))
    for k in np.ndindex(g.shape):
        g[k] = (at(k, eps) - at(k, -eps)) / (2 * eps)
    return g


def test_vjp_fn_differentiates_the_point_of_the_call():
    f = lt.jit(lambda W, x: np.tanh(W @ x), backend="interpret")
    W, x = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([0.3, -0.2])
    _, vjp_fn = lt.vjp(f, W, x)
    before = vjp_fn(np.ones(2))[0]
    W *= 3.0  # an optimizer step in place
    np.testing.assert_array_equal(vjp_fn(np.ones(2))[0], before)


def writes_its_argument(x, w):
    for i in range(x.shape[0]):
        x[i] = x[i] * w + 1.0
    return np.sum(x ** 2)


def test_vjp_of_a_function_that_writes_its_argument():
    x = np.array([1.0, 2.0])
    out, vjp_fn = lt.vjp(lt.jit(writes_its_argument, backend="interpret"), x, 3.0)
    assert out == 65.0 and np.array_equal(x, [4.0, 7.0])  # the call's effect, once
    assert vjp_fn(1.0)[1] == pytest.approx(_fd(writes_its_argument, [np.array([1.0, 2.0]), 3.0], 1))


def counter(state, x, k):
    for i in range(k):
        state[0] += 1
    return np.sum(x * state[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_grad_makes_the_writes_of_the_call(backend):
    """Plain Python: [3 3], then [6 6], and state ends at 6."""
    st, x = np.zeros(1, dtype=np.int64), np.array([1.0, 2.0])
    g = lt.grad(lt.jit(counter, backend=backend), 1)
    np.testing.assert_array_equal(g(st, x, 3), [3.0, 3.0])
    np.testing.assert_array_equal(g(st, x, 3), [6.0, 6.0])
    assert st[0] == 6
    v, gv = lt.value_and_grad(lt.jit(counter, backend=backend), 1)(st, x, 1)
    assert v == 7 * 3.0 and st[0] == 7
    np.testing.assert_array_equal(gv, [7.0, 7.0])


def writes_one_from_the_other(a, b):
    a[0] = b[1] * 3
    return np.sum(a * b)


def test_grad_refuses_aliased_arguments_it_writes():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="share memory"):
        lt.value_and_grad(lt.jit(writes_one_from_the_other, backend="interpret"))(x, x)


def test_the_cotangent_is_checked():
    _, vjp_fn = lt.vjp(lt.jit(lambda W, x: W @ x, backend="interpret"), np.ones((2, 3)), np.ones(3))
    with pytest.raises(TypeError, match="cotangent"):
        vjp_fn(None)
    with pytest.raises(ValueError, match="shape"):
        vjp_fn(np.ones(6))
    assert vjp_fn(np.ones(2))[0].shape == (2, 3)


def triangular(x, w):
    h = 0.1
    for t in range(x.shape[0]):
        for k in range(t):
            h = h + (w * h + x[t]) ** 2 * 0.1
    return h


def inner_while(x, w):
    h = 0.1
    for t in range(x.shape[0]):
        k = 0
        while k < t:
            h = h + (w * h + x[t]) ** 2 * 0.1
            k += 1
    return h


def inner_break(x, w):
    h = 0.1
    for t in range(x.shape[0]):
        for k in range(5):
            if k >= t:
                break
            h = np.sin(h * w + x[t])
    return h


@pytest.mark.filterwarnings("error::UserWarning")  # (the vectorizer skipped such a loop with a warning)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", [triangular, inner_while, inner_break], ids=lambda f: f.__name__)
def test_gradient_through_inner_loops_whose_trips_follow_the_outer_index(fn, backend):
    x = np.array([0.3, 0.5, 0.2, 0.4])
    g = lt.grad(lt.jit(fn, backend=backend), (0, 1))(x, 0.7)
    np.testing.assert_allclose(g[0], _fd(fn, [x, 0.7], 0), rtol=1e-5)
    assert g[1] == pytest.approx(_fd(fn, [x, 0.7], 1), rel=1e-5)


def bumps(k, x):
    for i in range(3):
        k *= x[i]
    k += 1
    return k


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_numpy_scalar_argument_is_rebound_not_written(backend):
    """`k += 1` of a np.float64 argument crashed in the write-back (copyto
    into a NumPy scalar); a 0-d array argument is written in place."""
    x = np.array([1.0, 2.0, 3.0])
    for k in (np.float64(2.0), np.int32(3), np.float32(1.5)):
        got = lt.jit(bumps, backend=backend)(k, x)
        want = bumps(k, x)
        assert type(got) is type(want) and got == want
    a, b = np.array(2.0), np.array(2.0)
    lt.jit(bumps, backend=backend)(a, x)
    bumps(b, x)
    assert a == b


def sized_by(x, n):
    t = np.linspace(0.0, 1.0, int(n))
    return np.sum(np.sin(x * t.sum()))


def test_grad_with_respect_to_a_float_that_decides_a_shape():
    """An IndexError inside the gradient transform on a fresh jit."""
    x = np.array([0.1, 0.2, 0.3])
    with pytest.raises(TypeError, match="it decides a shape"):
        lt.grad(lt.jit(sized_by, backend="interpret"), 1)(x, 5.0)
    g = lt.grad(lt.jit(sized_by, backend="interpret"), 0)(x, 5.0)
    np.testing.assert_allclose(g, _fd(sized_by, [x, 5.0], 0), rtol=1e-6)


class Model:
    def __init__(self, W):
        self.W = W

    def loss(self, x):
        return np.sum(np.tanh(self.W @ x))


def test_grad_of_a_bound_method():
    m = Model(np.array([[0.5, -0.1], [0.3, 0.4]]))
    x = np.array([0.1, -0.2])  # (interpret: how a bound method is taken is the api's, not a backend's; the
    # default backend compiled two cpu kernels, 1.5 s of the suite)
    np.testing.assert_allclose(lt.grad(m.loss, backend="interpret")(x), _fd(m.loss, [x], 0), rtol=1e-6)
    out, vjp_fn = lt.vjp(m.loss, x, backend="interpret")
    assert out == pytest.approx(m.loss(x))
    np.testing.assert_allclose(vjp_fn(1.0)[0], _fd(m.loss, [x], 0), rtol=1e-6)


class _Scaled:
    def __init__(self, s, W):
        self.s, self.W = s, W

    def loss(self, x):
        return np.sum(np.tanh(self.W @ x)) * self.s

    def gated(self, x):
        total = 0.0
        for i in range(x.shape[0]):
            if x[i] > 0:
                total += x[i] * self.s
            else:
                total -= x[i] ** 2
        return total


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("jitted", [False, True])
def test_grad_of_a_bound_method_reads_the_object_at_each_call(backend, jitted, rng):
    """grad of `obj.loss` (or of lt.jit(obj.loss)) saw `obj.s` and `obj.W` as
    they were at the first call: the wrapper grad made of it ran as plain
    Python while tracing, baking them in (probe P W1)."""
    obj = _Scaled(1.0, rng.standard_normal((2, 2)))
    x = rng.standard_normal(2)
    fn = lt.jit(obj.loss, backend=backend) if jitted else obj.loss
    vg = lt.value_and_grad(fn, backend=None if jitted else backend)
    vg(x)
    obj.s, obj.W = 3.0, obj.W * 2.0
    v, g = vg(x)
    t = np.tanh(obj.W @ x)
    assert v == pytest.approx(obj.loss(x))
    np.testing.assert_allclose(g, obj.s * (obj.W.T @ (1 - t ** 2)), rtol=1e-12)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_grad_of_a_bound_method_or_star_args_converts_its_ifs(backend, rng):
    """A traced `if` in a bound method or a *args function under grad was
    'a traced value used as a Python bool' (probe P E4)."""
    obj = _Scaled(2.0, None)
    x = rng.standard_normal(6)
    g = lt.grad(obj.gated, backend=backend)(x)
    np.testing.assert_allclose(g, np.where(x > 0, 2.0, -2 * x), rtol=1e-12)

    def star(*xs):
        return obj.gated(xs[0]) * 1.0

    g = lt.grad(star, backend=backend)(x)
    np.testing.assert_allclose(g, np.where(x > 0, 2.0, -2 * x), rtol=1e-12)
