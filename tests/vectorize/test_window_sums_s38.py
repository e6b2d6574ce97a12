"""Sums over taps of sliding windows of one array are folds that read the
array in place (vectorize/fused_products.py, vectorize/gathered.py).

`for k in range(taps): y += h[k] * x[k:k + n]` batches to a gather of the
(taps, n) windows `x[k + i]` and a product with h. That product was a BLAS
matrix-vector product of the gathered windows, made whole in memory first
(144 MB for 9 taps over 2M elements: 7x slower than plain NumPy); now it is a
sum over k of `h[k] * x[k + i]` whose elements the fold's nest reads from x.
A causal filter `y[k:] += h[k] * x[:n - k]` gathered from the (taps, n)
products `h[k] * x` made whole; now each product is made at the position
read, with its row and column found without a division.

The plain function is the oracle: values and argument effects on the
interpreter and the CPU backend, on fresh random data, at the array's edges
(one output, none), in float32 and in integers.
"""
import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk
from tests.tracer._loopcheck import check


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def fir(x, h):
    n = x.shape[0] - h.shape[0] + 1
    y = np.zeros(n)
    for k in range(h.shape[0]):
        y += h[k] * x[k:k + n]
    return y


def fir_typed(x, h):
    n = x.shape[0] - h.shape[0] + 1
    y = np.zeros(n, dtype=x.dtype)
    for k in range(h.shape[0]):
        y += h[k] * x[k:k + n]
    return y


def convolution(x, h):
    m = h.shape[0]
    n = x.shape[0] - m + 1
    y = np.zeros(n)
    for k in range(m):
        y += h[k] * x[m - 1 - k:m - 1 - k + n]
    return y


def causal(x, h):
    n = x.shape[0]
    y = np.zeros(n)
    for k in range(h.shape[0]):
        y[k:] += h[k] * x[:n - k]
    return y


def moving_sum(x, w):
    n = x.shape[0] - w + 1
    y = np.zeros(n)
    for k in range(w):
        y += x[k:k + n]
    return y / w


def stencil(img, K):
    H = img.shape[0] - K.shape[0] + 1
    W = img.shape[1] - K.shape[1] + 1
    out = np.zeros((H, W))
    for di in range(K.shape[0]):
        for dj in range(K.shape[1]):
            out += K[di, dj] * img[di:di + H, dj:dj + W]
    return out


def dots(x, h):
    m = h.shape[0]
    n = x.shape[0] - m + 1
    y = np.empty(n)
    for i in range(n):
        y[i] = np.dot(h, x[i:i + m])
    return y


def in_place(y, x, h):
    """The output is an argument: the caller sees the sums."""
    n = y.shape[0]
    for k in range(h.shape[0]):
        y += h[k] * x[k:k + n]


def prims(f, *args):
    return [op.prim.name for op in walk(f.explain(*args).program.body)]


def both(fn, *args, rtol=1e-9, compiled=True):
    """Plain against the interpreter and the CPU backend; the CPU jit (for explain).
    compiled=False: the CPU kernel planned and emitted only (explain, no Numba
    compile: each window length is a kernel of its own, 0.2-2 s of session 55's CI),
    for the lengths whose twin of the same form compiles in the same test."""
    check(fn, *args, rtol=rtol)
    g = looptrace.jit(fn, backend="cpu")
    if not compiled:
        assert g.explain(*args).kernel_source
        return g
    return check(fn, *args, rtol=rtol, jitted=g)


# the lengths whose cpu values run (both(compiled=True)) for each parametrized form below: a long x
# with a few taps, one output (taps == len(x)) and the shortest; the others' on the interpreter
CPU_LENGTHS = {(300, 9), (65, 65), (3, 2), (30, 4), (400,), ((40, 50), (3, 3)), ((9, 30), (2, 5))}


@pytest.mark.parametrize("m,taps", [(300, 9), (64, 65), (65, 65), (40, 1), (7, 7), (3, 2)])
def test_fir_values_at_every_length(rng, m, taps):
    """Windows reaching the last element; one output (taps == len(x)); none."""
    x, h = rng.standard_normal(m), rng.standard_normal(taps)
    f = both(fir, x, h, compiled=(m, taps) in CPU_LENGTHS)
    assert [loop.kind for loop in f.explain(x, h).loops] == ["reduction"]


def test_taps_longer_than_x_raise_as_plain(rng):
    x, h = rng.standard_normal(5), rng.standard_normal(8)
    with pytest.raises(ValueError):
        fir(x, h)
    for backend in ("interpret", "cpu"):
        with pytest.raises(ValueError):
            looptrace.jit(fir, backend=backend)(x, h)


def test_the_windows_are_never_made_whole(rng):
    n, taps = 5000, 9
    x, h = rng.standard_normal(n + taps - 1), rng.standard_normal(taps)
    f = both(fir, x, h)
    assert "einsum" not in prims(f, x, h)
    body = f.explain(x, h).kernel_source.split("def kernel", 1)[1]
    assert f"alloc(({taps}, {n}" not in body
    assert "dot_into" not in body


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32])
def test_float32_and_integers(rng, dtype):
    if np.dtype(dtype).kind == "f":
        x, h = rng.standard_normal(500).astype(dtype), rng.standard_normal(12).astype(dtype)
    else:
        x, h = rng.integers(-100, 100, 500).astype(dtype), rng.integers(-5, 6, 12).astype(dtype)
    for fn in (fir, fir_typed):
        for backend in ("interpret", "cpu"):
            got, want = looptrace.jit(fn, backend=backend)(x, h), fn(x, h)
            assert got.dtype == want.dtype
            if want.dtype.kind == "f":
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
            else:
                np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("fn", [convolution, causal, dots])
@pytest.mark.parametrize("m,taps", [(200, 9), (17, 17), (30, 4)])
def test_other_window_forms(rng, fn, m, taps):
    x, h = rng.standard_normal(m), rng.standard_normal(taps)
    f = both(fn, x, h, compiled=(m, taps) in CPU_LENGTHS)
    if m > taps:  # one window, the whole of x, is a dot product of x in memory
        assert "einsum" not in prims(f, x, h)


@pytest.mark.parametrize("m", [400, 16, 17])
def test_moving_sum(rng, m):
    both(moving_sum, rng.standard_normal(m), 16, compiled=(m,) in CPU_LENGTHS)


@pytest.mark.parametrize("shape,ks", [((40, 50), (3, 3)), ((3, 3), (3, 3)), ((9, 30), (2, 5))])
def test_stencil_over_a_static_kernel(rng, shape, ks):
    img, K = rng.standard_normal(shape), rng.standard_normal(ks)
    f = both(stencil, img, K, compiled=(shape, ks) in CPU_LENGTHS)
    if shape != ks:
        assert "einsum" not in prims(f, img, K)
    assert [loop.kind for loop in f.explain(img, K).loops] == ["reduction", "reduction"]


def test_output_argument_sees_the_sums(rng):
    x, h = rng.standard_normal(120), rng.standard_normal(7)
    y = rng.standard_normal(114)
    both(in_place, y, x, h)


def test_causal_products_are_made_where_read(rng):
    """No (taps, n) products in memory, no division to find their row."""
    x, h = rng.standard_normal(3000), rng.standard_normal(9)
    f = both(causal, x, h)
    names = prims(f, x, h)
    assert "floor_divide" not in names and "remainder" not in names
    body = f.explain(x, h).kernel_source.split("def kernel", 1)[1]
    assert "alloc((9, 3000" not in body
