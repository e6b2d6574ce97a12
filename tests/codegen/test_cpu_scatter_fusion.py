"""CPU scatters read their index and update in place (codegen/cpu/indexing.py,
planning/fusion.py): an update computed from other arrays is computed inside
the scatter's loop, never from the array being written; scatters through the
same index share one loop. Values and effects on arguments are compared with
the plain function."""

import numpy as np

import looptrace
from bench.corpus.grouping import group_mean_into


def reads_its_target(x, idx):
    y = x * 1.0
    for i in range(idx.shape[0]):
        y[idx[i]] += y[i] * 2.0  # reads what earlier iterations wrote
    return y


def scaled_updates(v, labels):
    out = np.zeros(5)
    for i in range(v.shape[0]):
        out[labels[i]] += v[i] * v[i] + 1.0
    return out


def test_sibling_scatters_share_one_loop(rng):
    v, labels = rng.standard_normal(300), rng.integers(0, 6, 300)
    s0, c0 = rng.standard_normal(6), np.zeros(6)
    want_s, want_c, got_s, got_c = s0.copy(), c0.copy(), s0.copy(), c0.copy()
    f = looptrace.jit(group_mean_into, backend="cpu")
    np.testing.assert_allclose(f(v, labels, got_s, got_c), group_mean_into(v, labels, want_s, want_c), rtol=1e-12)
    np.testing.assert_allclose(got_s, want_s, rtol=1e-12)
    np.testing.assert_array_equal(got_c, want_c)
    src = f.explain(v, labels, s0.copy(), c0.copy()).kernel_source
    assert src.count("check_elem(") == 1, src  # one loop reads the labels once
    assert "alloc((300" not in src, src  # the counts' ones are never stored


def test_an_update_read_from_the_target_is_not_fused(rng):
    x, idx = rng.standard_normal(20), rng.integers(0, 20, 20)
    np.testing.assert_allclose(looptrace.jit(reads_its_target, backend="cpu")(x, idx), reads_its_target(x, idx),
                               rtol=1e-12)


def test_computed_updates_are_computed_in_the_loop(rng):
    v, labels = rng.standard_normal(500), rng.integers(0, 5, 500)
    f = looptrace.jit(scaled_updates, backend="cpu")
    np.testing.assert_allclose(f(v, labels), scaled_updates(v, labels), rtol=1e-12)
    assert "alloc((500" not in f.explain(v, labels).kernel_source
