"""Values read at many more elements than they have (planning/fusion.py
`_spread_costly`): a row's chain of several ops, read at every element of
the row through a broadcast, is stored once per row and read by the nest,
not recomputed at every element; positions and masks computed from the
nest's loop variables alone stay computed there. Each program is checked
against the plain function on random data."""

import numpy as np
import pytest

import looptrace
from bench.corpus.imaging import bilinear_resize
from bench.corpus.stencils import blur_3x3


def _last_nest(source: str) -> str:
    """The text of the loop nest that fills the last float array allocated
    (the kernel of a family of shapes names its sizes: `generic.py`)."""
    lines = source.splitlines()
    at = max(k for k, ln in enumerate(lines) if "alloc(" in ln and "np.float64)" in ln)
    indent = len(lines[at + 1]) - len(lines[at + 1].lstrip())
    nest = [lines[at + 1]]
    for ln in lines[at + 2:]:
        if ln.strip() and len(ln) - len(ln.lstrip()) <= indent:
            break
        nest.append(ln)
    return "\n".join(nest)


@pytest.mark.parametrize("h, w, new_h, new_w", [(9, 11, 13, 17), (30, 20, 24, 40)])
def test_bilinear_rows_and_columns_are_computed_once(h, w, new_h, new_w, rng):
    img = rng.random((h, w))
    f = looptrace.jit(bilinear_resize, backend="cpu")
    np.testing.assert_allclose(f(img, new_h, new_w), bilinear_resize(img, new_h, new_w), rtol=1e-12)
    nest = _last_nest(f.explain(img, new_h, new_w).kernel_source)
    # the row's int(i * sy) (a test per element) and the wraparound of every position are stored per row
    # and per column: the nest reads them, and only gathers and the interpolation are left in it
    assert "check_int" not in nest and "pick(" not in nest and "np.trunc" not in nest, nest


def masked_rows(x):
    b, n, _ = x.shape
    out = np.empty_like(x)
    for k in range(b):
        for i in range(n):
            for j in range(n):
                out[k, i, j] = x[k, i, j] if j <= i else 0.0
    return out


def test_a_mask_of_positions_stays_computed_in_the_nest(rng):
    x = rng.standard_normal((9, 12, 12))
    f = looptrace.jit(masked_rows, backend="cpu")
    np.testing.assert_allclose(f(x), masked_rows(x), rtol=1e-12)
    assert "np.bool)" not in f.explain(x).kernel_source  # never a stored mask read as a branch


def test_affine_positions_stay_computed_in_the_nest(rng):
    # (14, 11), as test_cpu_positions.py's test_stencil_reads_at_computed_positions: the same kernel (shapes
    # are its constants; explain's sources of (16, 14) and (14, 11) equal but for the integers), compiled once
    img = rng.standard_normal((14, 11))
    f = looptrace.jit(blur_3x3, backend="cpu")
    np.testing.assert_allclose(f(img), blur_3x3(img), rtol=1e-12)
    assert "np.int64)" not in f.explain(img).kernel_source  # the window's positions: loop variables


def row_offsets(x, scale):
    n, m = x.shape
    out = np.empty((n, m))
    for i in range(n):
        r = int(i * scale)
        for j in range(m):
            out[i, j] = x[r, j] * (r + 0.5)
    return out


@pytest.mark.parametrize("scale", [0.5, 1.0, 1.5])
def test_a_row_value_read_at_every_element_raises_as_the_loop(scale, rng):
    x = rng.standard_normal((12, 10))
    f = looptrace.jit(row_offsets, backend="cpu")
    try:
        want = row_offsets(x, scale)
    except IndexError as e:
        with pytest.raises(IndexError, match=str(e)):
            f(x, scale)
        return
    np.testing.assert_allclose(f(x, scale), want, rtol=1e-12)
