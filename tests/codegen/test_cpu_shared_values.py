"""A value read by several ops that all end up in one loop nest, each at the
element that nest computes, is computed inside that nest (once per element)
instead of in a pass of its own (planning/fusion.py `_inline_shared`). Only
into a nest root: a scatter's serial loop keeps what vectorizes outside it.
A cheap op of one stored array (a mask `y > 0`) read by several nests is
recomputed in each (`_cheap_read`): a select on a mask loaded from memory
stays branches, on a comparison it vectorizes.
The plain function is the oracle; each case also says how many arrays the
kernel allocates."""
import numpy as np
import pytest

import looptrace
from bench.corpus.stats import histogram_numpy, masked_group_stats


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def lennard_jones_terms(r):
    inv6 = (1.0 / r) ** 6  # read twice by the same nest
    return 4.0 * (inv6 * inv6 - inv6)


def chain(x):
    m = x > 0.0  # read by the select and by the product
    s = np.sqrt(np.abs(x))  # read twice, itself reading m's input
    return np.where(m, s, -s) * (1.0 + m) + s * s


def two_nests(x, y):
    v = np.exp(x)  # read by two different nests: stays an array
    return v + 1.0, (v * y).sum()


def in_place(x):
    y = x.copy()
    v = y * 2.0
    y = v + np.sin(v)  # the nest may write y's memory while reading it at the same element
    return y


def mask_then_write(x, y):
    m = y > 0.0
    s1 = np.where(m, x, 0.0).sum()
    y[:3] = -1.0  # the argument changes between the mask's two readers
    s2 = np.where(m, x, 1.0).sum()
    return s1, s2, m.sum()


CASES = [
    (masked_group_stats, lambda r: (r.standard_normal(3000), r.standard_normal(3000)), 1),
    (mask_then_write, lambda r: (r.standard_normal(400), r.standard_normal(400) + 0.5), 1),
    (lennard_jones_terms, lambda r: (r.uniform(0.8, 2.0, 500),), 1),
    (chain, lambda r: (r.standard_normal((30, 40)),), 1),
    (two_nests, lambda r: (r.standard_normal(300), r.standard_normal(300)), 2),
    (in_place, lambda r: (r.standard_normal(200),), 1),
]


@pytest.mark.parametrize("fn, make, arrays", CASES, ids=[c[0].__name__ for c in CASES])
def test_matches_and_allocates_less(fn, make, arrays):
    rng = np.random.default_rng(11)
    args = make(rng)
    plain_args, jit_args = [a.copy() for a in args], [a.copy() for a in args]
    expected = fn(*plain_args)
    f = looptrace.jit(fn, backend="cpu")
    got = f(*jit_args)
    for e, g in zip(expected if isinstance(expected, tuple) else (expected,),
                    got if isinstance(got, tuple) else (got,), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    for p, j in zip(plain_args, jit_args, strict=True):
        np.testing.assert_array_equal(j, p)
    src = f.explain(*args).kernel_source
    assert src.count("alloc(") + src.count("copied(") <= arrays, src


def test_histogram_keeps_its_vectorized_passes():
    x = np.random.default_rng(12).standard_normal(5000)
    f = looptrace.jit(histogram_numpy, backend="cpu")
    for e, g in zip(histogram_numpy(x), f(x), strict=True):
        np.testing.assert_array_equal(g, e)
    src = f.explain(x).kernel_source
    assert src.count("for ") >= 2  # the mask and the bin index stay nests before the scatter's loop
