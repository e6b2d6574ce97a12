"""What the loop bounds decide (vectorize/bounds.py, ir/ranges.py) and the
positions kept as positions (vectorize/iotas.py): windows whose bounds keep
them inside the axis lose their clamp, mask and check; conditional reads
whose index stays in range are if-converted (nested loops included); checks
that cannot fire are dropped after batching. Every program is checked
against the plain function on random data, and reads that do run out of
range still raise IndexError as the plain function does."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.signal import fir_loops as fir
from looptrace.ir.core import walk

W = 5


def window_means(x):
    n = x.shape[0]
    out = np.empty(n - W + 1)
    for i in range(n - W + 1):
        out[i] = x[i:i + W].mean()
    return out


def window_means_past_end(x):
    n = x.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = x[i:i + W].mean()  # shortened near the end, as NumPy does
    return out


def lagged(x):
    y = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        y[i] = x[i - 3] * 2.0  # counts from the end for i < 3, as NumPy does
    return y


def ahead(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i + 1]  # the last iteration reads past the end
    return s


def _prims(program):
    return [op.prim.name for op in walk(program.body)]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_window_inside_the_axis_has_no_mask_or_check(backend, rng):
    x = rng.standard_normal(37)
    f = looptrace.jit(window_means, backend=backend)
    np.testing.assert_allclose(f(x), window_means(x), rtol=1e-12)
    prims = _prims(f.explain(x).program)
    assert "check" not in prims and "minimum" not in prims and "select" not in prims, prims
    if backend == "cpu":
        src = f.explain(x).kernel_source
        assert "check_elem" not in src and "alloc((33, 5" not in src, src


def test_window_past_the_end_keeps_numpys_shortened_slice(rng):
    x = rng.standard_normal(23)
    for backend in ("interpret", "cpu"):
        np.testing.assert_allclose(looptrace.jit(window_means_past_end, backend=backend)(x),
                                   window_means_past_end(x), rtol=1e-12)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_guarded_read_in_a_nested_loop_is_a_masked_reduction(backend, rng):
    x, h = rng.standard_normal(41), rng.standard_normal(6)
    f = looptrace.jit(fir, backend=backend)
    np.testing.assert_allclose(f(x, h), fir(x, h), rtol=1e-12)
    kinds = [r.kind for r in f.explain(x, h).loops]
    assert kinds == ["vectorized", "reduction"], kinds
    assert "check" not in _prims(f.explain(x, h).program)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_negative_positions_still_count_from_the_end(backend, rng):
    x = rng.standard_normal(11)
    np.testing.assert_array_equal(looptrace.jit(lagged, backend=backend)(x), lagged(x))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_read_past_the_end_still_raises(backend, rng):
    x = rng.standard_normal(9)
    with pytest.raises(IndexError):
        ahead(x)
    with pytest.raises(IndexError):
        looptrace.jit(ahead, backend=backend)(x)


def _offset_program(lo: int, hi: int, off: int, k: int):
    def f(x):
        s = np.zeros(hi - lo)
        for i in range(lo, hi):
            s[i - lo] = x[i + off:i + off + k].sum() + x[i + off] * 0.5
        return s

    return f


@settings(max_examples=25, deadline=None)
@given(n=st.integers(4, 12), lo=st.integers(0, 4), span=st.integers(1, 8), off=st.integers(-3, 4),
       k=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_generated_offsets_match_the_plain_loop(n, lo, span, off, k, seed):
    """Windows and element reads at generated offsets: in range, partly out
    (NumPy shortens the window), negative (counts from the end) or past the
    end (IndexError): the compiled loop does what the plain one does."""
    x = np.random.default_rng(seed).standard_normal(n)
    f = _offset_program(lo, lo + span, off, k)
    try:
        want = f(x)
    except IndexError:
        with pytest.raises(IndexError):
            looptrace.jit(f, backend="interpret")(x)
        return
    try:
        got = looptrace.jit(f, backend="interpret")(x)
    except IndexError:
        # a window whose traced start is negative: looptrace reads windows from
        # a start >= 0 only, and says so (tracer/windows.py)
        assert lo + off < 0
        return
    np.testing.assert_allclose(got, want, rtol=1e-12)


def pair_sums(pos):
    n = pos.shape[0]
    acc = np.zeros_like(pos)
    for i in range(n):
        for j in range(n):
            if i != j:  # in range by the loop bounds, but three writes of a carried array
                d0 = pos[j, 0] - pos[i, 0]
                d1 = pos[j, 1] - pos[i, 1]
                acc[i, 0] += d0
                acc[i, 1] += d1 * d0
    return acc


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_several_guarded_writes_never_select_whole_arrays(backend, rng):
    """A branch writing a carried array in several places stays a branch: a
    select of the whole array per iteration would cost its size each time."""
    pos = rng.standard_normal((40, 2))  # 80 elements: over SELECT_MAX_ELEMENTS
    f = looptrace.jit(pair_sums, backend=backend)
    np.testing.assert_allclose(f(pos), pair_sums(pos), rtol=1e-12)
    program = f.explain(pos).program
    big = [op for op in walk(program.body) if op.prim.name == "select" and op.out.shape == (40, 2)]
    assert not big, big


def column_sums(B, obs):
    out = np.empty(obs.shape[0])
    for t in range(obs.shape[0]):
        out[t] = B[:, obs[t]].sum()  # a whole column: its row start 0 is always in range
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_batched_check_that_cannot_fail_is_dropped_at_any_length(backend, rng):
    """Batched over more rows than a folded constant holds (bounds._FOLD_LIMIT),
    the row start's check is `not True` on a broadcast: still dropped; the
    column index keeps its check."""
    B = rng.standard_normal((4, 6))
    for T in (7, 5000):
        obs = rng.integers(-6, 6, T)
        f = looptrace.jit(column_sums, backend=backend)
        np.testing.assert_allclose(f(B, obs), column_sums(B, obs), rtol=1e-12)
        assert _prims(f.explain(B, obs).program).count("check") == 1
    obs[17] = 6
    with pytest.raises(IndexError, match="index 6 is out of bounds for axis 1 with size 6"):
        f(B, obs)
