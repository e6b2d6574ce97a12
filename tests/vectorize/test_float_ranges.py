"""Ranges of float values computed from integers (ir/ranges.py): a grid
position `int(i * scale)` has the range its corners give, so the bound
checks, wraparounds and element checks of the reads it indexes are decided
away (bench/corpus/imaging.py bilinear_resize), while a position that may
leave the array still raises the IndexError the loop raises."""

import traceback

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.imaging import bilinear_resize
from looptrace.ir.builder import IRBuilder
from looptrace.ir.core import walk
from looptrace.ir.ranges import Ranges


def _grid_range(n, scale, rounding, offset):
    """The range Ranges gives rounding(iota(n) * scale + offset) as int64, and the values."""
    b = IRBuilder()
    i = b.op("iota", shape=(n,), dtype=np.dtype(np.int64), axis=0)
    y = b.op("add", b.op("multiply", b.op("convert", i, dtype=np.dtype(np.float64)), b.const(np.float64(scale))),
             b.const(np.float64(offset)))
    k = b.op("convert", b.op(rounding, y), dtype=np.dtype(np.int64))
    ranges = Ranges()
    for op in b.ops:
        ranges.learn(op)
    values = (np.floor if rounding == "floor" else np.ceil if rounding == "ceil" else np.trunc)(
        np.arange(n, dtype=np.float64) * np.float64(scale) + np.float64(offset)).astype(np.int64)
    return ranges.of(k), ranges.of(y), values


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 3000), scale=st.floats(-1e3, 1e3), rounding=st.sampled_from(["trunc", "floor", "ceil"]),
       offset=st.floats(-50, 50))
def test_a_grid_position_lies_in_its_range(n, scale, rounding, offset):
    r, _, values = _grid_range(n, scale, rounding, offset)
    assert r is not None
    assert r[0] <= values.min() and values.max() <= r[1], (r, values.min(), values.max())
    assert r[1] - r[0] <= values.max() - values.min() + 2  # no wider than the rounding asks


def test_a_resampling_grid_ends_on_the_last_pixel():
    for h, n in ((256, 600), (256, 800), (23, 17), (1000, 7)):
        r, _, values = _grid_range(n, (h - 1) / (n - 1), "trunc", 0.0)
        assert r == (0, h - 1) == (values.min(), values.max()), (h, n, r)


def test_no_range_past_the_floats():
    r, y, _ = _grid_range(10, 1e308, "trunc", 0.0)
    assert r is None and y is None  # 9 * 1e308 is infinite


def _resample(x, n, scale):
    out = np.zeros(n)
    for i in range(n):
        k = int(i * scale)
        out[i] = x[k] - x[k // 2]
    return out


def _outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except IndexError as e:
        return str(e).splitlines()[0], traceback.extract_tb(e.__traceback__)[-1].line, str(e)


GRID_READS = dict(size=st.integers(1, 30), n=st.integers(1, 30), scale=st.floats(-3.0, 3.0))


@settings(max_examples=25, deadline=None)
@given(**GRID_READS)
def test_grid_reads_raise_as_the_loop_does(size, n, scale):
    _grid_reads_raise_as_the_loop_does("interpret", size, n, scale)


# the same generator on cpu, fewer examples: each n is a kernel of its own (`np.zeros(n)`), 25 examples
# were 4 s of the suite; one read in range and one past the end always
@settings(max_examples=6, deadline=None)
@given(**GRID_READS)
@example(size=10, n=5, scale=1.5)
@example(size=5, n=10, scale=1.0)
def test_grid_reads_raise_as_the_loop_does_on_cpu(size, n, scale):
    _grid_reads_raise_as_the_loop_does("cpu", size, n, scale)


def _grid_reads_raise_as_the_loop_does(backend, size, n, scale):
    x = np.arange(size, dtype=np.float64) * 1.5
    want = _outcome(_resample, x, n, scale)
    got = _outcome(looptrace.jit(_resample, backend=backend), x, n, scale)
    if want[0] == "ok":
        assert got[0] == "ok", got
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
        return
    assert got[0] == want[0], (got, want)
    assert want[1] in got[2], (got, want)  # looptrace names the user's line in the message


def test_bilinear_resize_keeps_no_check_select_or_element_check(rng):
    img = rng.random((64, 64))  # (the corpus' 256 x 256 onto 600 x 800: the plain loop alone was 0.8 s)
    f = looptrace.jit(bilinear_resize, backend="cpu")
    np.testing.assert_allclose(f(img, 150, 200), bilinear_resize(img, 150, 200), rtol=1e-12)
    e = f.explain(img, 150, 200)
    left = [op.prim.name for op in walk(e.program.body) if op.prim.name in ("check", "select")]
    assert not left, left
    assert "check_elem" not in e.kernel_source
