"""Loops whose iterations are independent but hold what cannot be batched
(an inner loop whose trip count is data, a while loop with a break): they
stay loops with no carried value, and on the cpu backend run their
iterations on the threads (codegen/cpu/regions.py `_parallel_map`). A body
that may raise runs guarded: a failed iteration makes the call run the
plain function, which raises Python's own first error."""
import math

import numpy as np
import pytest

import looptrace as lt
from bench.corpus import domains


def sph_like(pos, offsets, neighbors, h):
    n = pos.shape[0]
    rho = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for k in range(offsets[i], offsets[i + 1]):
            j = neighbors[k]
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            q = math.sqrt(dx * dx + dy * dy) / h
            if q < 1.0:
                w = 1.0 - 1.5 * q * q
            elif q < 2.0:
                w = 0.25 * (2.0 - q) ** 3
            else:
                w = 0.0
            acc += w
        rho[i] = acc
    return rho


def march(width, height, max_steps, radius):
    depth = np.zeros((height, width))
    for py in range(height):
        for px in range(width):
            dx = (2.0 * (px + 0.5) / width - 1.0) * 1.2
            dy = (1.0 - 2.0 * (py + 0.5) / height) * 0.9
            nrm = math.sqrt(dx * dx + dy * dy + 1.0)
            dx, dy, dz = dx / nrm, dy / nrm, 1.0 / nrm
            t = 0.0
            steps = 0
            hit = False
            while steps < max_steps and t < 50.0:
                d = math.sqrt((dx * t) ** 2 + (dy * t) ** 2 + (dz * t - 5.0) ** 2) - radius
                if d < 1e-4:
                    hit = True
                    break
                t += d
                steps += 1
            depth[py, px] = t if hit else -1.0
    return depth


def csr(rng, n, k):
    counts = rng.integers(0, k, n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return offsets, rng.integers(0, n, offsets[-1])


def _prange_in(jf, *args) -> bool:
    return "numba.prange" in lt.explain(jf, *args).kernel_source


def _neighbours(n):
    """Positions and neighbour lists of n particles; the same arrays (the same shapes: one cpu kernel)
    at each call with the same n."""
    rng = np.random.default_rng(1)
    pos = rng.uniform(0, 10, (n, 2))
    offsets, nb = csr(rng, n, 40)
    return pos, offsets, nb


# one jit object for both cpu tests of sph_like (one compile: the arguments of _neighbours(3000) each time)
_SPH_CPU = lt.jit(sph_like, backend="cpu")


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_data_dependent_inner_loop_is_a_parallel_map(backend):
    n = 3000 if backend == "cpu" else 40
    pos, offsets, nb = _neighbours(n)
    jf = _SPH_CPU if backend == "cpu" else lt.jit(sph_like, backend=backend)
    np.testing.assert_allclose(jf(pos, offsets, nb, 0.7), sph_like(pos, offsets, nb, 0.7), rtol=1e-12)
    loops = lt.explain(jf, pos, offsets, nb, 0.7).loops
    assert "iterations are independent" in loops[0].reason
    if backend == "cpu":
        assert _prange_in(jf, pos, offsets, nb, 0.7)
        assert "in parallel" in loops[0].reason


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_while_with_break_per_pixel_is_a_parallel_map(backend):
    w, h = (90, 70) if backend == "cpu" else (9, 7)
    jf = lt.jit(march, backend=backend)
    np.testing.assert_allclose(jf(w, h, 64, 1.3), march(w, h, 64, 1.3), rtol=1e-12)
    if backend == "cpu":
        assert _prange_in(jf, w, h, 64, 1.3)


def test_parallel_map_raises_the_first_iterations_error():
    """Two bad neighbor indices: Python's IndexError names the first one."""
    n = 3000
    pos, offsets, nb = _neighbours(n)
    jf = _SPH_CPU  # (test_data_dependent_inner_loop_is_a_parallel_map[cpu]'s kernel)
    jf(pos, offsets, nb, 0.7)
    assert _prange_in(jf, pos, offsets, nb, 0.7)
    bad = nb.copy()
    bad[offsets[-1] // 3] = n + 7
    bad[2 * offsets[-1] // 3] = n + 99
    with pytest.raises(IndexError) as plain:
        sph_like(pos, offsets, bad, 0.7)
    with pytest.raises(IndexError) as compiled:
        jf(pos, offsets, bad, 0.7)
    assert str(compiled.value) == str(plain.value)
    np.testing.assert_allclose(jf(pos, offsets, nb, 0.7), sph_like(pos, offsets, nb, 0.7), rtol=1e-12)


def scaled_rows(x, offsets, scale, out):
    """Writes into an argument; raises at a zero scale."""
    for i in range(offsets.shape[0] - 1):
        acc = 0.0
        for k in range(offsets[i], offsets[i + 1]):
            if scale[i] == 0.0:
                raise ValueError("zero scale")
            acc += math.sin(x[k]) / scale[i]
        out[i] = acc
    return out.sum()


def test_parallel_map_writing_an_argument_and_failing_leaves_what_python_leaves():
    rng = np.random.default_rng(3)
    n = 8000
    offsets, _ = csr(rng, n, 30)
    x = rng.standard_normal(offsets[-1])
    scale = rng.uniform(0.5, 2.0, n)
    jf = lt.jit(scaled_rows, backend="cpu")
    out_p, out_c = rng.standard_normal(n), None
    out_c = out_p.copy()
    assert jf(x, offsets, scale, out_c) == pytest.approx(scaled_rows(x, offsets, scale, out_p), rel=1e-12)
    np.testing.assert_allclose(out_c, out_p, rtol=1e-12)
    assert _prange_in(jf, x, offsets, scale, out_c)
    bad = scale.copy()
    nonempty = np.flatnonzero(np.diff(offsets))
    bad[nonempty[len(nonempty) // 2]] = 0.0
    bad[nonempty[-1]] = 0.0
    out_p, out_c = np.zeros(n), np.zeros(n)
    with pytest.raises(ValueError, match="zero scale"):
        scaled_rows(x, offsets, bad, out_p)
    with pytest.raises(ValueError, match="zero scale"):
        jf(x, offsets, bad, out_c)
    np.testing.assert_array_equal(out_c, out_p)  # the rows before the failing one, as Python wrote them


# --- a bilinear warp: one pass over the pixels -------------------------------------------------
warp = domains.affine_warp_bilinear  # the corpus kernel (bench/corpus/domains.py)


def _ops(jf, *args):
    from looptrace.ir.core import walk

    return list(walk(lt.explain(jf, *args).program.body))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_bilinear_warp_computes_each_index_once_and_checks_no_guarded_read(backend):
    rng = np.random.default_rng(4)
    img = rng.random((13, 17))
    jf = lt.jit(warp, backend=backend)
    for angle, scale in ((0.3, 1.2), (-1.1, 0.7)):
        np.testing.assert_allclose(jf(img, angle, scale), warp(img, angle, scale), rtol=1e-12, atol=1e-15)
    ops = _ops(jf, img, 0.3, 1.2)
    assert sum(o.prim.name == "pyint" for o in ops) == 2  # int(floor(y)), int(floor(x)): once each
    # the reads under `if 0 <= i0 < h - 1 ...` are in bounds there: no IndexError check is left
    failures = [f for o in ops if o.prim.name == "check" for f in o.attrs["failures"]]
    assert not any(issubclass(type(f.exc), IndexError) for f in failures), failures


def covered_reads(x, idx):
    out = np.zeros(idx.shape[0])
    for k in range(idx.shape[0]):
        i = idx[k]
        if i < 0 or i >= x.shape[0] - 1:
            continue
        out[k] = x[i] + x[i + 1]
    return out


def uncovered_reads(x, idx):
    out = np.zeros(idx.shape[0])
    for k in range(idx.shape[0]):
        i = idx[k]
        if i < 0 or i >= x.shape[0]:
            continue
        out[k] = x[i] + x[i + 1]
    return out


def _index_checks(jf, *args):
    ops = _ops(jf, *args)
    return [f for o in ops if o.prim.name == "check" for f in o.attrs["failures"] if isinstance(f.exc, IndexError)]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_guard_that_does_not_cover_the_read_keeps_its_check(backend):
    """`i < n` does not keep x[i + 1] in bounds: the IndexError stays, as
    Python's; `i < n - 1` does: no check is left."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(20)
    idx = rng.integers(-3, 19, 50)
    covered, uncovered = lt.jit(covered_reads, backend=backend), lt.jit(uncovered_reads, backend=backend)
    np.testing.assert_allclose(covered(x, idx), covered_reads(x, idx), rtol=1e-14)
    np.testing.assert_allclose(uncovered(x, idx), uncovered_reads(x, idx), rtol=1e-14)
    assert not _index_checks(covered, x, idx)
    assert _index_checks(uncovered, x, idx)
    bad = idx.copy()
    bad[7] = 19
    np.testing.assert_allclose(covered(x, bad), covered_reads(x, bad), rtol=1e-14)
    with pytest.raises(IndexError) as plain:
        uncovered_reads(x, bad)
    with pytest.raises(IndexError) as compiled:
        uncovered(x, bad)
    assert str(plain.value).split("\n")[0] in str(compiled.value)
