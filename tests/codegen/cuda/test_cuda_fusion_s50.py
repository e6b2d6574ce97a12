"""Fewer kernels per program on the cuda target: gathers, unit-axes reshapes
and static slices read inside their readers' kernels (capabilities
fused_gathers, unit_reshape_reads, slice_reads of codegen/cuda/target.py; the
plan is planning/fusion.py's). Values under the simulator against the plain
function, the launches counted in the host function; types and lowering of
a fused gather kernel by compiling it to sm_90 PTX."""
import re

import numpy as np
import pytest

import looptrace as lt
from bench.corpus.stencils import blur_3x3
from tests.codegen.cuda.test_cuda_target_ptx import compile_all

from _cuda_support import assert_like_plain, cuda_backend


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def launches(jitted, args) -> int:
    return len(re.findall(r"rt\.launch\(", jitted.explain(*args).kernel_source))


def window_sums(x, k):
    """Each window of k consecutive elements summed: a gather at i + j inside the fold."""
    n = x.shape[0] - k + 1
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for j in range(k):
            s += x[i + j]
        out[i] = s
    return out


def blur_weighted(img, w):
    """A 3x3 stencil with weights, written into a copy of the image (its border kept)."""
    h, wd = img.shape
    out = img.copy()
    for i in range(1, h - 1):
        for j in range(1, wd - 1):
            s = 0.0
            for di in range(3):
                for dj in range(3):
                    s += w[di, dj] * img[i + di - 1, j + dj - 1]
            out[i, j] = s
    return out


def centered_diff(u):
    """A slice read: (u[2:] - u[:-2]) / 2 of each row."""
    return (u[:, 2:] - u[:, :-2]) * 0.5


def laplacian_roll(u):
    """np.roll's concatenates, never made: each element read from the piece holding it."""
    return np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u


def edge_pad_diff(x):
    y = np.concatenate(([x[0]], x, [x[-1]]))
    return y[2:] - y[:-2]


def strided_rows(u):
    v = u[1:-1, ::2]
    return (v * 2 + u[2:, ::2]).sum(axis=1)


def outer_rows(a, b):
    """Unit-axes reshapes read by one elementwise nest."""
    return a.reshape(-1, 1) * b.reshape(1, -1) + a.reshape(-1, 1)


def test_blur_3x3_is_two_kernels(rng):
    img = rng.random((10, 12))
    jitted = lt.jit(blur_3x3, backend="cuda")
    assert_like_plain(blur_3x3, (img,), jitted)
    assert launches(jitted, (img,)) <= 2  # the zeros, then one kernel for the 3x3 sums (10 before)


@pytest.mark.parametrize("shape", [(7, 9), (5, 4)])
def test_weighted_blur_reads_gathers_in_place(rng, shape):
    img, w = rng.random(shape), rng.random((3, 3))
    jitted = lt.jit(blur_weighted, backend="cuda")
    assert_like_plain(blur_weighted, (img, w), jitted)
    assert launches(jitted, (img, w)) <= 3


def test_window_sums_one_kernel_after_the_allocation(rng):
    x = rng.normal(size=17)
    jitted = lt.jit(window_sums, backend="cuda")
    assert_like_plain(window_sums, (x, 5), jitted)
    assert launches(jitted, (x, 5)) <= 2


def test_views_read_through(rng):
    u = rng.normal(size=(4, 9))
    a, b = rng.normal(size=5), rng.normal(size=6)
    cases = ((centered_diff, (u,)), (outer_rows, (a, b)), (laplacian_roll, (u,)),
             (edge_pad_diff, (a,)), (strided_rows, (rng.normal(size=(6, 8)),)))
    for fn, args in cases:
        jitted = lt.jit(fn, backend="cuda")
        assert_like_plain(fn, args, jitted)
        assert launches(jitted, args) == 1, fn.__name__


def gather_at(x, idx):
    out = np.empty(idx.shape[0])
    for i in range(idx.shape[0]):
        out[i] = x[idx[i]] * 2.0
    return out


def shifted_back(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i - 1] + x[i]  # x[-1] at i = 0, as in Python
    return out


def test_fused_gather_still_checks_its_index(rng):
    x = rng.normal(size=6)
    idx = np.array([0, -1, 5, 2], dtype=np.int64)  # negative counts from the end, as in NumPy
    jitted = lt.jit(gather_at, backend="cuda")
    assert_like_plain(gather_at, (x, idx), jitted)
    assert_like_plain(shifted_back, (x,), lt.jit(shifted_back, backend="cuda"))
    with pytest.raises(IndexError):
        jitted(x, np.array([0, 6], dtype=np.int64))


def test_fused_gather_kernel_compiles_to_ptx(ptx_ok, rng):
    """Types and lowering of the blur's one fused kernel (gather index, check and read in two
    folds), and of a Laplacian's through np.roll's joins."""
    img = rng.random((10, 12))
    program = lt.jit(blur_3x3, backend="interpret").explain(img).program
    ptx = compile_all(program, "blur_3x3")
    assert 1 <= len(ptx) <= 2, sorted(ptx)
    u = rng.normal(size=(5, 7))  # a join read piece by piece (if/elif/else on the index)
    program = lt.jit(laplacian_roll, backend="interpret").explain(u).program
    assert len(compile_all(program, "laplacian_roll")) == 1


def binned_counts(x, nb):
    """A scatter whose index is computed in its own loop."""
    counts = np.zeros(nb, dtype=np.int64)
    for i in range(x.shape[0]):
        counts[int(x[i] * nb)] += 1
    return counts


def shifted_update(x, y, idx):
    """An update computed (through a gather) in the store's loop."""
    out = x.copy()
    out[1:-1] = y[idx] * 2.0 + 1.0
    return out


def checked_roots(x):
    """A check whose predicate is computed in the check's loop."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        if x[i] * 2.0 < -100.0:
            raise ValueError("too small")
        out[i] = np.sqrt(x[i] * 2.0 + 100.0)
    return out


def test_consumers_read_fused_values(rng):
    """Scatter, update and check read what the plan computes in their loops."""
    x = rng.random(40)
    assert_like_plain(binned_counts, (x, 7), lt.jit(binned_counts, backend="cuda"))
    y, w = rng.normal(size=8), rng.normal(size=5)
    idx = rng.integers(-5, 5, 6)
    jitted = lt.jit(shifted_update, backend="cuda")
    assert_like_plain(shifted_update, (y, w, idx), jitted)
    assert launches(jitted, (y, w, idx)) == 2  # the copy, then the store computing the gather
    z = rng.normal(size=9)
    jitted = lt.jit(checked_roots, backend="cuda")
    assert_like_plain(checked_roots, (z,), jitted)
    z[4] = -60.0
    with pytest.raises(ValueError, match="too small"):
        jitted(z)
