"""Loop nests over small windows (a 3x3 stencil, a k x k correlation, a
nearest-centre search), compiled for the CPU, against the plain function:
window sizes 1, 2, 3 and 5, uint8, int32, float32 and float64 images,
windows as large as the image, integers exact. Each code shape also checks
the kernel it compiled to:
- an all/any fold steps with `&`/`|`, not a short-circuit branch
  (codegen/cpu/nest.py FOLD_UPDATE);
- a correlation by loops reads its windows in place in one fold, not made
  whole for a matrix-vector product (vectorize/fused_products.py);
- a row group keeps the rows only its later members read in buffers of one
  row (codegen/cpu/nest.py `_held_rows`), and a NaN test is recomputed by
  its readers, not stored (isnan is cheap, ops/elementwise.py);
- a nest of short folds counts its elements, not its terms, for the
  decision to start threads (codegen/planning/fusion.py `nest_work`)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import looptrace
from bench.corpus.algorithms import assign_nearest

WINDOWS = [1, 2, 3, 5]


def _windows_of(dtypes, every):
    """(dtype, w) cases: the 3 x 3 window for every dtype and the 1 x 1 one (a lowering of its own) for the
    `every` dtype; the other windows with -m slow (a kernel each, the same nest as the `every` dtype's window:
    session 54's budget). The `every` dtype's 2 x 2 and 5 x 5 windows are its 3 x 3's kernels but for the
    window's size (explain's sources equal but for the integers; 0.3-0.6 s and, as the second size in one
    process, the shape-generic kernel, 0.04-0.16 s, in 3d8fb51's CI): -m slow since session 56."""
    return [(d, w) if w == 3 or (d is every and w == 1) else pytest.param(d, w, marks=pytest.mark.slow)
            for d in dtypes for w in WINDOWS]


def box_sum(img, w):
    n, m = img.shape
    out = np.zeros((n - w + 1, m - w + 1), dtype=np.int64)
    for i in range(n - w + 1):
        for j in range(m - w + 1):
            s = 0
            for di in range(w):
                for dj in range(w):
                    s += int(img[i + di, j + dj])
            out[i, j] = s
    return out


def box_mean(img, w):
    n, m = img.shape
    out = np.zeros((n - w + 1, m - w + 1))
    for i in range(n - w + 1):
        for j in range(m - w + 1):
            s = 0.0
            for di in range(w):
                for dj in range(w):
                    s += img[i + di, j + dj]
            out[i, j] = s / (w * w)
    return out


def erode(mask, w):
    n, m = mask.shape
    out = np.zeros((n - w + 1, m - w + 1), dtype=np.bool_)
    for i in range(n - w + 1):
        for j in range(m - w + 1):
            ok = True
            for di in range(w):
                for dj in range(w):
                    if not mask[i + di, j + dj]:
                        ok = False
            out[i, j] = ok
    return out


def dilate(mask, w):
    n, m = mask.shape
    out = np.zeros((n - w + 1, m - w + 1), dtype=np.bool_)
    for i in range(n - w + 1):
        for j in range(m - w + 1):
            hit = False
            for di in range(w):
                for dj in range(w):
                    if mask[i + di, j + dj]:
                        hit = True
            out[i, j] = hit
    return out


def correlate(img, k):
    H, W = img.shape
    kh, kw = k.shape
    out = np.zeros((H - kh + 1, W - kw + 1), dtype=img.dtype)
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            acc = img[0, 0] * 0
            for u in range(kh):
                for v in range(kw):
                    acc += img[i + u, j + v] * k[u, v]
            out[i, j] = acc
    return out


def _image(rng, dtype, shape):
    if np.dtype(dtype).kind == "u":
        return rng.integers(0, 256, shape).astype(dtype)
    if np.dtype(dtype).kind == "i":
        return rng.integers(-1000, 1000, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _same(got, expected, dtype=np.float64):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if expected.dtype.kind in "iub":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5 if np.dtype(dtype) == np.float32 else 1e-12, atol=1e-6)


def _cpu(fn, **kw):
    return looptrace.jit(fn, backend="cpu", static_argnames=("w",), **kw)


@pytest.mark.parametrize("dtype, w", _windows_of([np.uint8, np.int32], np.uint8))
def test_integer_window_sums_are_exact(w, dtype, rng):
    img = _image(rng, dtype, (9, 12))
    _same(_cpu(box_sum)(img, w=w), box_sum(img, w))
    big = _image(rng, dtype, (5, 5))  # a window as large as the image: one element
    _same(_cpu(box_sum)(big, w=5), box_sum(big, 5))


@pytest.mark.parametrize("dtype, w", _windows_of([np.float32, np.float64], np.float64))
def test_float_window_means(w, dtype, rng):
    img = _image(rng, dtype, (11, 8))
    _same(_cpu(box_mean)(img, w=w), box_mean(img, w), dtype)


# w=2 compiles the same all/any fold nests as w=3 (an even window: box sums and means keep every window;
# 1.2 s in session 54's CI): -m slow; w=5 too (1.0 s in 3eb5406's CI): its four kernels are w=3's but for the
# window's size (explain's sources equal but for the integers)
@pytest.mark.parametrize("w", [pytest.param(w, marks=pytest.mark.slow) if w in (2, 5) else w for w in WINDOWS])
def test_erode_and_dilate_windows(w, rng):
    mask = rng.random((10, 13)) < 0.8
    _same(_cpu(erode)(mask, w=w), erode(mask, w))
    sparse = rng.random((10, 13)) < 0.05
    _same(_cpu(dilate)(sparse, w=w), dilate(sparse, w))
    ones = np.ones((w, w), dtype=np.bool_)  # the whole image one window: set, then not set
    _same(_cpu(erode)(ones, w=w), erode(ones, w))
    ones[w - 1, 0] = False
    _same(_cpu(erode)(ones, w=w), erode(ones, w))
    _same(_cpu(dilate)(~ones, w=w), dilate(~ones, w))


def test_all_and_any_folds_step_without_a_branch(rng):
    mask = rng.random((12, 12)) < 0.7
    for fn in (erode, dilate):
        src = _cpu(fn).explain(mask, w=3).kernel_source
        folds = [line for line in src.splitlines() if "acc" in line and "!= 0" in line]
        assert folds and not any(" and (" in line or " or (" in line for line in folds), src


@pytest.mark.parametrize("dtype, w", _windows_of([np.int32, np.float32, np.float64], np.float64))
def test_correlation_by_loops(w, dtype, rng):
    img, k = _image(rng, dtype, (12, 9)), _image(rng, dtype, (w, w))
    _same(looptrace.jit(correlate, backend="cpu")(img, k), correlate(img, k), dtype)
    tall = _image(rng, dtype, (w + 3, w))  # as wide as the kernel: one column of windows
    _same(looptrace.jit(correlate, backend="cpu")(tall, k), correlate(tall, k), dtype)
    if w == 3 and dtype == np.float64:
        _same(looptrace.jit(correlate, backend="interpret")(img, k), correlate(img, k), dtype)


def test_correlation_reads_its_windows_in_place(rng):
    img, k = rng.standard_normal((40, 40)), rng.standard_normal((5, 5))
    src = looptrace.jit(correlate, backend="cpu").explain(img, k).kernel_source
    assert "dot_into" not in src and "36, 36, 5, 5" not in src, src


# [300] with -m slow (0.8 s in 3eb5406's CI): [255]'s kernel but for the row count (explain's sources equal but
# for the integers; in one process it is the shape-generic kernel of the two, whose sharing test_cpu_generic checks)
@pytest.mark.parametrize("n", [1, 255, pytest.param(300, marks=pytest.mark.slow)])
def test_nearest_rows_held_in_buffers(n, rng):
    X, C = rng.standard_normal((n, 3)), rng.standard_normal((16, 3))
    X[n // 2, 1] = np.nan  # a row whose every distance is NaN: no centre
    C[3, 0] = np.nan  # a centre never nearest
    jf = looptrace.jit(assign_nearest, backend="cpu")
    got, expected = jf(X, C), assign_nearest(X, C)
    for g, e in zip(got, expected):
        _same(g, e)
    src = jf.explain(X, C).kernel_source
    if n > 1:  # (the sizes may be names: a kernel generic in its shapes)
        assert not re.search(r"alloc\(\(\w+, 16,? ?\), np\.float64\)", src), src
        # isnan is one instruction (ops/elementwise.py CHEAP): each reader tests the distance, no mask is stored
        assert not re.search(r"alloc\(\(16,? ?\), np\.bool\)", src), src
        assert len(re.findall(r"alloc\(\(\w+, 16,? ?\), np\.bool\)", src)) == 1, src  # the nearest centres


def test_short_window_nest_stays_on_one_thread(rng):
    img = _image(rng, np.uint8, (800, 800))
    src = _cpu(box_sum).explain(img, w=3).kernel_source
    assert "numba.prange" not in src, src
    img = rng.standard_normal((300, 300))
    k = rng.standard_normal((5, 5))  # 25 terms an element: threads as before
    src = looptrace.jit(correlate, backend="cpu").explain(img, k).kernel_source
    assert "numba.prange" in src, src


def centred_rows(X):
    m = X.max(axis=1)  # one value a row, read by the next root as a local of the row
    d = X - m[:, None]
    return d, (d * d).sum(axis=1), m


@pytest.mark.parametrize("dtype", [np.int32, np.float32, np.float64])
def test_row_values_keep_their_dtype(dtype, rng):
    X = _image(rng, dtype, (300, 7))
    got, expected = looptrace.jit(centred_rows, backend="cpu")(X), centred_rows(X)
    for g, e in zip(got, expected):
        _same(g, e, dtype)
