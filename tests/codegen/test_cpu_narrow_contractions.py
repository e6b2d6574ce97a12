"""Large products with a tiny contracted size (tracer/narrow_products.py):
`x @ R.T` for points x (n, 3), `(R @ x.T).T`, homogeneous coordinates
`np.concatenate([x, ones], 1) @ M.T`, an image times a colour matrix. They
are traced as the sum of their few elementwise products, one loop nest
with their neighbours on the cpu target (no BLAS call, no ones column
built); products that are wider, smaller or not of floats stay one einsum.
Values against NumPy on the interpreter and the cpu backend, gradients
against the plain product's, and large kernel arrays on huge pages
(codegen/cpu/malloc.py `hugepages`)."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import malloc
from looptrace.ir.core import walk
from looptrace.tracer import narrow_products

N = narrow_products.MIN_RESULTS // 3 + 1  # points: enough results (3 each) for the written-out form


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def rotate(x, R):
    return x @ R.T


def rotate_T(x, th):
    c, s = np.cos(th), np.sin(th)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return (R @ x.T).T


def homogeneous(x, th):
    h = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)
    M = np.eye(4)
    M[:3, 3] = th
    return (h @ M.T)[:, :3]


def weights(x, w):
    return x @ w


def colour(img, m):
    return img @ m.T


def batched(a, b):
    return np.einsum("bij,bjk->bik", a, b)


def left_vector(w, xT):
    return w @ xT


def _compare(fn, *args, backend, rtol=1e-12):
    got, want = looptrace.jit(fn, backend=backend)(*args), fn(*args)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


def _cases(rng):
    x = rng.standard_normal((N, 3))
    return [
        (rotate, x, rng.standard_normal((3, 3))),
        (rotate_T, x, 0.3),
        (homogeneous, x, 0.7),
        (weights, rng.standard_normal((N, 4)), rng.standard_normal(4)),
        (weights, rng.standard_normal((N, 2)), rng.standard_normal((2, 3))),
        (colour, rng.standard_normal((600, 600, 3)), rng.standard_normal((3, 3))),
        (batched, rng.standard_normal((N // 2, 2, 3)), rng.standard_normal((N // 2, 3, 4))),
        (left_vector, rng.standard_normal(3), rng.standard_normal((N, 3)).T),
    ]


@pytest.mark.parametrize("k", range(8))
def test_values_on_the_interpreter(rng, k):
    fn, *args = _cases(rng)[k]
    _compare(fn, *args, backend="interpret")


# products traced as their elementwise terms (the interpreter checks all eight above): on cpu by default the
# homogeneous coordinates (2) and the 3-d image (5); rotate (0: test_float32_on_cpu compiles it in float32),
# rotate_T (1: rotate's nest with a computed matrix) and the batched einsum (6) with -m slow (3.5 s of CPU in
# 0bc3f38's CI)
@pytest.mark.parametrize("k", [pytest.param(0, marks=pytest.mark.slow), pytest.param(1, marks=pytest.mark.slow), 2, 5,
                               pytest.param(6, marks=pytest.mark.slow)])
def test_values_on_cpu(rng, k):
    fn, *args = _cases(rng)[k]
    _compare(fn, *args, backend="cpu")


def test_float32_on_cpu(rng):
    x, R = rng.standard_normal((N, 3)).astype(np.float32), rng.standard_normal((3, 3)).astype(np.float32)
    _compare(rotate, x, R, backend="cpu", rtol=1e-5)


def _einsums(fn, *args) -> list[str]:
    prog = looptrace.jit(fn, backend="interpret").trace(list(args))
    return [op.attrs["spec"] for op in walk(prog.body) if op.prim.name == "einsum"]


def test_narrow_products_are_written_out(rng):
    for fn, *args in _cases(rng):
        vector = fn in (weights, left_vector) and args[-1].ndim == 1 or fn is left_vector
        assert len(_einsums(fn, *args)) == (1 if vector else 0), fn.__name__  # vectors: contract.py's loops


def test_no_blas_call_and_no_ones_column(rng):
    x = rng.standard_normal((N, 3))
    for fn in (rotate_T, homogeneous):
        src = looptrace.explain(looptrace.jit(fn, backend="cpu"), x, 0.3).kernel_source
        assert "dot_into" not in src and "joined" not in src, src


@pytest.mark.parametrize("shapes", [
    ((N, 8), (8, 8)),  # a wider sum: BLAS's
    ((N, 5), (5, 5)),
    ((N // 2, 3), (3, 2)),  # fewer results: BLAS's gemm on the cores
    ((N, 3), (3, 16)),  # neither side small
])
def test_other_products_stay_one_einsum(rng, shapes):
    a, b = (rng.standard_normal(s) for s in shapes)
    assert len(_einsums(lambda p, q: p @ q, a, b)) == 1


def test_integer_products_stay_one_einsum(rng):
    a, b = rng.integers(-5, 5, (N, 3)), rng.integers(-5, 5, (3, 3))
    assert len(_einsums(lambda p, q: p @ q, a, b)) == 1
    _compare(lambda p, q: p @ q, a, b, backend="interpret")


def test_gradients_match_the_product(rng):
    x, R = rng.standard_normal((N, 3)), rng.standard_normal((3, 3))
    gx, gR = looptrace.grad(looptrace.jit(lambda x, R: (np.sin(x @ R.T) ** 2).sum(), backend="interpret"),
                            argnums=(0, 1))(x, R)
    y = x @ R.T
    g = 2 * np.sin(y) * np.cos(y)
    np.testing.assert_allclose(gx, g @ R, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gR, g.T @ x, rtol=1e-10, atol=1e-12)


def test_in_a_vectorized_loop(rng):
    def per_frame(xs, R):
        out = np.empty_like(xs)
        for t in range(xs.shape[0]):
            out[t] = xs[t] @ R.T
        return out

    _compare(per_frame, rng.standard_normal((3, N, 3)), rng.standard_normal((3, 3)), backend="interpret")


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.exists("/sys/kernel/mm/transparent_hugepage"),
                    reason="transparent huge pages are Linux's")
def test_large_kernel_arrays_are_advised_huge_pages(rng):
    """A kernel's large result is on memory advised MADV_HUGEPAGE, as NumPy's
    own large arrays are: its pages fault in 2 MiB at a time ('hg' in the
    mapping's VmFlags)."""
    x = rng.standard_normal(malloc.HUGEPAGE_MIN)  # 8x the threshold in bytes
    out = looptrace.jit(lambda a: a * 2.0 + 1.0, backend="cpu")(x)
    np.testing.assert_array_equal(out, x * 2.0 + 1.0)
    assert "hg" in _vm_flags(out.ctypes.data + out.nbytes // 2)


def _vm_flags(address: int) -> list[str]:
    with open("/proc/self/smaps") as f:
        inside = False
        for line in f:
            head = line.split()[0]
            if "-" in head and ":" not in head:
                lo, hi = (int(p, 16) for p in head.split("-"))
                inside = lo <= address < hi
            elif inside and head == "VmFlags:":
                return line.split()[1:]
    return []
