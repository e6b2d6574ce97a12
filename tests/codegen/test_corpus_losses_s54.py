"""Corpus kernels that hand-written numba.njit ran faster (helper K3, s54).

A returned np.nonzero(c)[k] (np.where(c), np.flatnonzero(c)) is picked from
the mask after the run as NumPy's own nonzero of it (tracer/trace.py
`_positions_axis`, `_picked_output`): the kernel no longer stores an int64
index array to be compacted by the mask (corpus where_one_arg). Values,
dtypes and the number of results match the plain function, on both
constant (short) and iota (long) np.arange positions, 1-d to 3-d masks; a
selection of other data (x[mask], np.argwhere) is picked as before.

np.histogram's bin index is computed and stored as int32
(tracer/np_stats.py `_bin_dtype`; corpus histogram_numpy): its conversions
from and to float64 vectorize on AVX2. Counts and edges match NumPy's on
values at and one ulp beside every edge, outside the range, NaN and the
infinities, float32 and int data, weights and density."""
import numpy as np
import pytest

import looptrace
from bench.corpus.everyday import where_one_arg
from bench.corpus.stats import histogram_numpy


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def nonzero_all(c):
    return np.nonzero(c > 0.3)


def flat_positions(c):
    return np.flatnonzero(c > 0.3)


def positions_and_values(x):
    idx = np.where(x > 0.0)[0]
    return idx, x[x > 0.0], np.argwhere(x > 0.5)


def _same(got, want):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w)
        assert np.asarray(g).dtype == np.asarray(w).dtype and np.asarray(g).shape == np.asarray(w).shape
        if np.asarray(w).dtype.kind == "f" and np.ndim(w) == 0:
            np.testing.assert_allclose(g, w, rtol=1e-12)
        else:
            np.testing.assert_array_equal(g, w)


def _picks(jf, *args) -> list:
    """How each returned selection is picked after the run (the output tree's "picked" nodes)."""
    found = []

    def walk(t):
        if isinstance(t, (tuple, list)) and t and t[0] == "picked":
            found.append((t[2], t[4]))
        elif isinstance(t, (tuple, list)):
            for e in t:
                walk(e)
    walk(jf.explain(*args).program.out_tree)
    return found


@pytest.mark.parametrize("shape", [(50,), (5000,), (6, 7), (90, 70), (3, 4, 5), (1, 4, 1)])
def test_nonzero_positions_from_the_mask(shape):
    c = np.random.default_rng(len(shape) * 100 + shape[0]).random(shape)
    jf = looptrace.jit(nonzero_all, backend="interpret")
    _same(jf(c), nonzero_all(c))
    want = [("mask", 0) if n < 2 else ("positions", k) for k, n in enumerate(shape)]
    assert _picks(jf, c) == want  # (an axis of length 1: its iota folds away, picked as before)
    jflat = looptrace.jit(flat_positions, backend="interpret")
    _same(jflat(c), flat_positions(c))
    assert _picks(jflat, c) == [("positions", 0)]


def test_other_selections_as_before():
    x = np.random.default_rng(3).standard_normal(300)
    jf = looptrace.jit(positions_and_values, backend="interpret")
    _same(jf(x), positions_and_values(x))
    assert _picks(jf, x) == [("positions", 0), ("mask", 0), ("mask", 0)]
    _same(jf(-np.abs(x) - 1.0), positions_and_values(-np.abs(x) - 1.0))  # nothing selected


def test_eval_shape_of_positions():
    x = np.random.default_rng(4).standard_normal(40)
    idx, s = looptrace.eval_shape(where_one_arg, x, 0.3)
    assert idx.shape == (None,) and idx.dtype == np.int64


def test_where_one_arg_cpu():
    x = np.random.default_rng(5).standard_normal(9000)
    jf = looptrace.jit(where_one_arg)
    _same(jf(x, 0.4), where_one_arg(x, 0.4))
    _same(jf(x, 10.0), where_one_arg(x, 10.0))  # (nothing selected: s stays Python's 0.0)
    assert "alloc((9000, ), np.int64)" not in jf.explain(x, 0.4).kernel_source  # (no index array stored)


def histogram_of(x, nb, lo, hi):
    return np.histogram(x, bins=nb, range=(lo, hi))


def weighted_density(x, w):
    return np.histogram(x, bins=7, range=(-1.5, 2.0), weights=w), np.histogram(x, bins=5, density=True)


def _edge_data(rng, lo, hi, nb, dtype=np.float64):
    """Random values, every edge and its neighbours one ulp away, the range's ends and beyond, NaN, +-inf."""
    edges = np.linspace(lo, hi, nb + 1).astype(dtype)
    near = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])
    span = hi - lo
    x = np.concatenate([rng.uniform(lo - 0.1 * span, hi + 0.1 * span, 200).astype(dtype), near,
                        np.array([np.nan, np.inf, -np.inf], dtype)])
    return rng.permutation(x)


@pytest.mark.parametrize("nb, lo, hi", [(32, -4.0, 4.0), (7, 0.1, 0.7), (1, -1.0, 3.0), (300, -1e-3, 2e5)])
def test_histogram_bins_at_the_edges(nb, lo, hi):
    rng = np.random.default_rng(nb)
    jf = looptrace.jit(histogram_of, backend="interpret", static_argnames=("nb",))
    for dtype in (np.float64, np.float32):
        x = _edge_data(rng, lo, hi, nb, dtype)
        _same(jf(x, nb, lo, hi), histogram_of(x, nb, lo, hi))
    xi = rng.integers(-5, 40, 300)
    _same(jf(xi, nb, lo, hi), histogram_of(xi, nb, lo, hi))


def test_histogram_weights_density():
    rng = np.random.default_rng(8)
    x = _edge_data(rng, -1.5, 2.0, 7)
    x = x[np.isfinite(x)]  # (density's range is the data's: finite)
    w = rng.standard_normal(x.shape[0])
    got, want = looptrace.jit(weighted_density, backend="interpret")(x, w), weighted_density(x, w)
    for g, ww in zip(got, want):
        for a, b in zip(g, ww):
            np.testing.assert_allclose(a, b, rtol=1e-12)
            assert a.dtype == b.dtype


def test_histogram_numpy_cpu():
    x = _edge_data(np.random.default_rng(9), -4.0, 4.0, 32)
    jf = looptrace.jit(histogram_numpy)
    _same(jf(x), histogram_numpy(x))
    body = jf.explain(x).kernel_source
    assert "np.int32(float_to_int32(" in body and "float_to_int64" not in body
