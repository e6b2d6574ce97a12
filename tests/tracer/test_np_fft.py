"""np.fft under tracing (tracer/np_fft.py, ops/fft.py): values, dtypes and
shapes against the undecorated function on fresh random data, the n-d
compositions, the helpers, NumPy's errors at trace time, a loop over frames
that becomes one batched transform, and a transform inside a recurrence."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt

NORMS = [None, "backward", "ortho", "forward"]


def data(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.kind in "iu":
        return rng.integers(-5, 6, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def same(fn, *args, backend="interpret", rtol=None, **kw):
    got = lt.jit(fn, backend=backend, **kw)(*args)
    want = fn(*args)
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype, got.shape, want.shape)
    single = want.dtype in (np.float32, np.complex64)
    rtol = rtol or (1e-4 if single else 1e-9)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-4 if single else 1e-10)
    return got


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128", "int64"])
def test_one_axis_dtypes(name, dtype, rng):
    if name == "rfft" and dtype.startswith("complex"):
        pytest.skip("rfft of complex input is a TypeError (test_errors)")
    fn = getattr(np.fft, name)
    same(lambda x: fn(x * 2), data(rng, (3, 8), dtype))


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3), n=st.one_of(st.none(), st.integers(1, 12)),
       axis=st.integers(-3, 2), norm=st.sampled_from(NORMS), name=st.sampled_from(["fft", "ifft", "rfft", "irfft"]),
       seed=st.integers(0, 2**31))
def test_one_axis_n_axis_norm(shape, n, axis, norm, name, seed):
    axis = axis % len(shape)
    if name == "irfft" and n is None and shape[axis] == 1:
        n = 3  # the default n = 2 (m - 1) would be 0
    rng = np.random.default_rng(seed)
    x = data(rng, tuple(shape), "float64" if name == "rfft" else "complex128")
    fn = getattr(np.fft, name)
    same(lambda x: fn(x + 1, n=n, axis=axis, norm=norm), x)


@pytest.mark.parametrize("name", ["fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_several_axes(name, dtype, rng):
    if name.startswith("rfft") and dtype.startswith("complex"):
        return
    fn = getattr(np.fft, name)
    x = data(rng, (3, 4, 6), dtype)
    same(lambda x: fn(x), x)
    same(lambda x: fn(x, s=(5, 3), axes=(0, 2), norm="ortho"), x)
    same(lambda x: fn(x, axes=(1,), norm="forward"), x)


def test_helpers(rng):
    def f(x, d):
        return (np.fft.fftshift(x) + np.fft.ifftshift(x, axes=0) + np.fft.fftshift(x, axes=(1,)),
                np.fft.fftfreq(7, d) + np.fft.fftfreq(7), np.fft.fftfreq(6, d), np.fft.rfftfreq(9, d * 2), np.fft.rfftfreq(8, 0.5))

    x, d = data(rng, (5, 6), "float64"), 0.37
    got = lt.jit(f, backend="interpret")(x, d)
    for g, w in zip(got, f(x, d)):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_traced_spacing_and_roundtrip(rng):
    def f(x, d):
        freqs = np.fft.rfftfreq(x.shape[0], d)
        spec = np.fft.rfft(x)
        return np.fft.irfft(spec * np.exp(-freqs), n=x.shape[0]), np.fft.ifft(np.fft.fft(x)).real

    x = data(rng, 11, "float64")
    got = lt.jit(f, backend="interpret")(x, np.float64(0.2))
    for g, w in zip(got, f(x, np.float64(0.2))):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_from_import_and_array_function(rng):
    from numpy.fft import rfft

    def f(x):
        return rfft(x, 6) + 1

    same(f, data(rng, 9, "float64"))


def stft(x, w, hop):
    n = w.shape[0]
    frames = (x.shape[0] - n) // hop + 1
    S = np.empty((frames, n // 2 + 1))
    for t in range(frames):
        S[t] = np.abs(np.fft.rfft(x[t * hop:t * hop + n] * w)) ** 2
    return S


def test_loop_over_frames_is_one_batched_transform(rng):
    x, w = data(rng, 300, "float64"), np.hanning(32)
    same(stft, x, w, 16)
    e = lt.jit(stft, backend="interpret").explain(x, w, 16)
    assert [r.kind for r in e.loops] == ["vectorized"]
    assert "rfft" in str(e)


def test_loop_over_frames_cpu(rng):
    """The cpu kernel's plan and source (explain: no Numba compile, 1.3 s of session 55's CI); the
    values on the interpreter: a float32 rfft of a batch is NumPy's call from the kernel, which
    test_cpu_values_and_dtypes compiles (float32, along an axis)."""
    x, w = data(rng, 500, "float32"), np.hanning(64).astype(np.float32)
    same(stft, x, w, 32, rtol=1e-5)  # float32 spectra stored in a float64 array
    e = lt.jit(stft, backend="cpu").explain(x, w, 32)
    assert [r.kind for r in e.loops] == ["vectorized"]
    assert e.kernel_source.count("numba.objmode") == 1


def filtered_recurrence(x, h):
    y = x
    for _ in range(4):
        y = np.fft.ifft(np.fft.fft(y) * h) * 0.5 + x
    return y


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_transform_inside_a_recurrence(backend, rng):
    x, h = data(rng, 16, "complex128"), data(rng, 16, "float64")
    same(filtered_recurrence, x, h, backend=backend)
    e = lt.jit(filtered_recurrence, backend=backend).explain(x, h)
    assert [r.kind for r in e.loops] == ["scan"]


def test_cpu_values_and_dtypes(rng):
    def f(x, z):
        return (np.fft.rfft(x, n=10, axis=0, norm="ortho"), np.fft.ifft2(z), np.fft.irfft(z, 9),
                np.fft.fftshift(np.fft.fft(x)))

    x, z = data(rng, (7, 3), "float32"), data(rng, (4, 5), "complex128")
    got = lt.jit(f, backend="cpu")(x, z)
    for g, w in zip(got, f(x, z)):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-4 if w.dtype in (np.float32, np.complex64) else 1e-10,
                                   atol=1e-5)


# --- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, exc, match", [
    (lambda x: np.fft.fft(x, n=0), ValueError, r"Invalid number of FFT data points \(0\)"),
    (lambda x: np.fft.rfft(x, n=-2), ValueError, r"Invalid number of FFT data points \(-2\)"),
    (lambda x: np.fft.irfft(x[:1]), ValueError, r"Invalid number of FFT data points \(0\)"),
    (lambda x: np.fft.fft(x, norm="bad"), ValueError, "Invalid norm value bad"),
    (lambda x: np.fft.fft(x, axis=2), IndexError, None),  # NumPy's IndexError; ours is an AxisError
    (lambda x: np.fft.rfft(x + 1j), TypeError, "rfft"),
    (lambda x: np.fft.fft2(x, s=(3,), axes=(0, 1)), ValueError, "Shape and axes have different lengths"),
])
def test_numpy_errors_at_trace_time(call, exc, match, rng):
    x = data(rng, 6, "float64")
    with pytest.raises(exc, match=match):
        call(x)
    with pytest.raises(exc, match=match):
        lt.jit(call, backend="interpret")(x)


def test_out_argument_is_unsupported(rng):
    def f(x):
        return np.fft.fft(x, out=np.empty(6, complex))

    with pytest.raises(lt.UnsupportedError, match=r"np\.fft\.fft"):
        lt.jit(f, backend="interpret")(data(rng, 6, "float64"))


def test_n_from_an_int_argument_is_specialized(rng):
    def f(x, n):
        return np.fft.rfft(x, n)

    x = data(rng, 8, "float64")
    j = lt.jit(f, backend="interpret")
    for n in (5, 12):
        np.testing.assert_allclose(j(x, n), f(x, n), rtol=1e-12)


def test_every_public_fft_function_is_traced():
    """np.fft's whole function surface has a traced version (hfft and ihfft: test_np_hfft.py)."""
    from looptrace.tracer import np_fft

    public = {name for name in dir(np.fft) if not name.startswith("_") and callable(getattr(np.fft, name))} - {"test"}
    assert sorted(public - set(np_fft.TABLE)) == []


def test_a_transform_in_a_parallel_loop_is_a_clear_error():
    """Object mode cannot run in a prange body: the cpu rule refuses it, naming np.fft (a guard:
    the planner puts prange on fused nests only)."""
    from looptrace.codegen.cpu import fft as cpu_fft

    class FakeEmitter:
        depth = 3
        lines = ["    v1 = alloc((4,), np.float64)", "    for i0_ in numba.prange(4):", "        x = 1"]

    assert cpu_fft._enclosed_by_prange(FakeEmitter())
    FakeEmitter.lines = ["    for i0_ in numba.prange(4):", "        x = 1", "    for j in range(3):", "        y = 2"]
    assert not cpu_fft._enclosed_by_prange(FakeEmitter())


def padded_transforms(x, h, z, k):
    size = 64
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[: x.shape[0] + h.shape[0] - 1]
    o = np.fft.irfft(np.fft.rfft(x, size, norm="ortho"), size, norm="ortho")
    f = np.fft.ifft(np.fft.fft(z, 40, norm="forward"), 40, norm="forward")
    return (y, o, f, np.fft.fft(z, 33) * 0.5, np.fft.rfft(x, 51, norm="forward"))[k]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_padding_and_norms_are_numpys_own(backend, rng):
    """A transform zero-padded past its input and scaled by a norm is one
    call of NumPy's with `n` and `norm` on cpu (ops/fft.py), not a padded
    copy and a product; the values are NumPy's either way."""
    z = rng.standard_normal(30) + 1j * rng.standard_normal(30)
    x, h = rng.standard_normal(45), rng.standard_normal(11)
    # cpu: the sources of k = 0, 1 and 2 (explain, no Numba compile); their values on the interpreter. A
    # compile per k was 1-1.5 s: NumPy's calls with n and a norm's scale run from a cpu kernel in
    # test_cpu_values_and_dtypes (n= with norm="ortho") and tests/codegen's fft_float64 sample (n, scale)
    if backend == "interpret":
        for k in range(5):
            same(padded_transforms, x, h, z, k, static_argnames=("k",))
        return
    f = lt.jit(padded_transforms, backend="cpu", static_argnames=("k",))
    src = f.explain(x, h, z, 0).kernel_source
    assert "n=64" in src and "joined" not in src, src
    src = f.explain(x, h, z, 1).kernel_source
    assert "n=64" in src and "norm='ortho'" in src and "joined" not in src, src
    src = f.explain(x, h, z, 2).kernel_source
    assert "n=40" in src and "norm='forward'" in src and "joined" not in src, src
