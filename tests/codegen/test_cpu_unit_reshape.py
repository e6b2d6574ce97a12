"""A reshape that only adds or drops unit axes, read only by loop nests, is
never made on the CPU target: the nests read its source (planning/fusion.py
`_skip_unit_reshapes`, cpu/nest.py). A strided source is then not copied by
`contiguous` (np.ascontiguousarray). Values and the effects on arguments follow the plain
function, also when the source is written after the reshape was taken."""

import numpy as np
import pytest

import looptrace
from bench.corpus.grids import grid_fill_like as grid


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def written_after(z, w):
    a = z[:, :, 0:1].reshape(z.shape[0], z.shape[1])  # drops a unit axis of a strided view
    z[:, :, 0] = w  # the source changes after the reshape was taken
    b = w.reshape(1, w.shape[0], 1, w.shape[1])  # adds unit axes
    return a * 2.0 + 1.0, (b + 1.0).sum(axis=(0, 2)), z[:, :, 0:1].reshape(-1) * 3.0


def transposed(x):
    t = x.T.reshape(x.shape[1], 1, x.shape[0])  # unit axis added to a transposed view
    return np.exp(t) - x.T[:, None, :]


# [5] with -m slow (0.3 s in 3d8fb51's CI): [17]'s kernel but for the length (explain's sources equal but for the
# integers; in one process the second of the two compiled the shape-generic kernel); [1] is a lowering of its own
@pytest.mark.parametrize("n", [1, pytest.param(5, marks=pytest.mark.slow), 17])
def test_grid_fill_reads_the_slices_in_place(n):
    xs = np.random.default_rng(n).standard_normal(n)
    f = looptrace.jit(grid, backend="cpu")
    np.testing.assert_array_equal(f(xs), grid(xs))
    src = f.explain(xs).kernel_source
    assert "0:1])" not in src  # the strided slices z[:, :, 0:1] are not copied (contiguous(...))


def test_source_written_after_the_reshape():
    r = np.random.default_rng(2)
    z, w = r.standard_normal((4, 6, 3)), r.standard_normal((4, 6))
    zp, zj = z.copy(), z.copy()
    want = written_after(zp, w)
    got = looptrace.jit(written_after, backend="cpu")(zj, w)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    np.testing.assert_array_equal(zj, zp)


def test_unit_axes_of_a_transposed_view():
    x = np.random.default_rng(3).standard_normal((5, 7))
    np.testing.assert_allclose(looptrace.jit(transposed, backend="cpu")(x), transposed(x), rtol=1e-12)
