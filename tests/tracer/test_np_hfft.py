"""np.fft.hfft and np.fft.ihfft under tracing (tracer/np_fft.py: NumPy's own
composition, irfft of the conjugate and the conjugate of rfft with the norm
of the other direction): values, dtypes and shapes against the undecorated
function on fresh random data, every norm, n and axis, NumPy's errors at
trace time, a batched loop, and gradients against central differences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad

from tests.tracer.test_np_fft import NORMS, data, same


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128", "int64"])
@pytest.mark.parametrize("name", ["hfft", "ihfft"])
def test_dtypes(name, dtype, rng):
    if name == "ihfft" and dtype.startswith("complex"):
        pytest.skip("ihfft of complex input is rfft's TypeError (test_errors)")
    fn = getattr(np.fft, name)
    same(lambda x: fn(x * 2), data(rng, (3, 8), dtype))


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3), n=st.one_of(st.none(), st.integers(1, 12)),
       axis=st.integers(-3, 2), norm=st.sampled_from(NORMS), name=st.sampled_from(["hfft", "ihfft"]),
       seed=st.integers(0, 2**31))
def test_n_axis_norm(shape, n, axis, norm, name, seed):
    axis = axis % len(shape)
    if name == "hfft" and n is None and shape[axis] == 1:
        n = 3  # the default n = 2 (m - 1) would be 0
    rng = np.random.default_rng(seed)
    x = data(rng, tuple(shape), "float64" if name == "ihfft" else "complex128")
    fn = getattr(np.fft, name)
    same(lambda x: fn(x + 1, n=n, axis=axis, norm=norm), x)


# ortho, forward: slow, the same hfft/ihfft lowering scaled by another factor; norms on the interpreter: test_n_axis_norm
@pytest.mark.parametrize("norm", [pytest.param(n, marks=pytest.mark.slow) if n in ("ortho", "forward") else n for n in NORMS])
def test_cpu(norm, rng):
    def f(z, x):
        return np.fft.hfft(z, norm=norm), np.fft.ihfft(x, 9, axis=0, norm=norm), np.fft.hfft(z, 11, axis=0)

    z, x = data(rng, (5, 6), "complex128"), data(rng, (7, 4), "float64")
    got = lt.jit(f, backend="cpu")(z, x)
    for g, w in zip(got, f(z, x)):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)


def test_roundtrip_and_a_loop_over_frames(rng):
    """ihfft then hfft gives the signal back; per-frame transforms in a loop batch."""
    def f(frames):
        out = np.empty(frames.shape)
        for t in range(frames.shape[0]):
            out[t] = np.fft.hfft(np.fft.ihfft(frames[t]), frames.shape[1])
        return out

    x = data(rng, (6, 10), "float64")
    for backend in ("interpret", "cpu"):
        same(f, x, backend=backend)
    np.testing.assert_allclose(lt.jit(f, backend="interpret")(x), x, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: np.fft.hfft(x, n=0), ValueError, r"Invalid number of FFT data points \(0\)"),
    (lambda x: np.fft.ihfft(x, n=-1), ValueError, r"Invalid number of FFT data points \(-1\)"),
    (lambda x: np.fft.hfft(x[:1]), ValueError, r"Invalid number of FFT data points \(0\)"),
    (lambda x: np.fft.hfft(x, norm="bad"), ValueError, "Invalid norm value bad"),
    (lambda x: np.fft.ihfft(x, norm="bad"), ValueError, "Invalid norm value bad"),
    (lambda x: np.fft.ihfft(x + 1j), TypeError, "rfft"),
])
def test_errors(call, exc, match, rng):
    x = data(rng, 6, "float64")
    with pytest.raises(exc, match=match):
        call(x)
    with pytest.raises(exc, match=match):
        lt.jit(call, backend="interpret")(x)


def test_traced_n_is_a_clear_error(rng):
    def f(x, m):
        return np.fft.hfft(x, m.shape[0] * m[0])

    with pytest.raises(lt.UnsupportedError, match=r"np\.fft\.hfft needs a static n") as e:
        lt.jit(f, backend="interpret")(data(rng, 6, "complex128"), np.array([3]))
    assert "np.fft.hfft(x, m.shape[0] * m[0])" in str(e.value)


def test_n_from_an_int_argument_is_specialized(rng):
    def f(x, n):
        return np.fft.hfft(x, n) + np.fft.ihfft(np.real(x), n)[0].real

    x = data(rng, 8, "complex128")
    j = lt.jit(f, backend="interpret")
    for n in (5, 12):
        np.testing.assert_allclose(j(x, n), f(x, n), rtol=1e-10)


def _grad_check(fn, args, argnums):
    grads = lt.grad(lt.jit(fn, backend="interpret"), argnums=argnums)(*args)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(fn, list(args), i), 1e-6, f"{fn.__name__} argument {i}")


@pytest.mark.parametrize("n", [None, 7, 10, 3])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_gradients(n, norm, rng):
    def loss(re, im, x, w):
        y = np.fft.hfft(re + 1j * im, n=n, norm=norm)
        z = np.fft.ihfft(x * x, n=n, norm=norm)
        return np.sum(y * w[:y.shape[0]]) + np.sum(np.abs(z) ** 2 * w[:z.shape[0]]) + np.sum(np.imag(z) * w[0])

    m = 5
    args = [rng.standard_normal(m), rng.standard_normal(m), rng.standard_normal(6), rng.uniform(0.5, 2, 12)]
    _grad_check(loss, args, (0, 1, 2))
