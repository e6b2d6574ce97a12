"""Corpus kernels that hand-written numba.njit ran faster (helper K2, s53).

A negative-step loop's stacked output written into the array it ends up in
(codegen/cpu/destinations.py, planning/fusion.py covered_box): the rows go
straight to their positions from the end back, no stacked temporary, no
reversed copy after the loop, and a fill the writes cover is never made
(corpus negative_step_suffix). Values match the plain function on fresh
random data; the kernel source shows the decision.

A running sum whose term is a few cheap ops beside the step's index
(`total += (i + 1) * u * v` over enumerate(zip(a, b)), corpus enumerate_zip)
computes the term in the sum's own loop (planning/fusion.py
`_cheap_per_step`): no temporary of the terms written and read back.

A sum whose term calls libm (`x % 1.5 - x // 0.7`: fmod, corpus
float_modulo_negative) computes its terms into a small block by a loop of
their own, then adds them to its 8 lanes (codegen/cpu/nest.py `_terms_call`):
the lanes no longer live across each call; the same lanes, the same terms.

Masked sums that skip the runs their mask selects nothing of
(codegen/cpu/sparse_folds.py) leave runs untested after runs that all
selected something, and fold the masked sums' lanes in one loop over a run's
rows (corpus continue_filter): the same bits as the loops that skip nothing
(LOOPTRACE_NO_SPARSE_FOLDS=1), on masks dense, sparse and switching between
the two."""
import re

import numpy as np
import pytest

from bench.corpus.everyday import enumerate_zip as enumerate_zip_running, negative_step_suffix as suffix_max

from .kernel_text import checked_kernel as _check, kernel_body


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def inner_backwards_into_border(x):
    n = x.shape[0]
    out = np.full(n, -1.0)
    s = 0.0
    for i in range(n - 3, 1, -1):
        s = 0.5 * s + x[i]
        out[i] = s
    return out


def every_other_backwards(x):
    n = x.shape[0]
    out = np.zeros(n)
    s = 0.0
    for i in range(n - 1, -1, -2):
        s = s * 0.9 + x[i]
        out[i] = s
    return out


def weighted_mean_kept(x, y):
    num = 0.0
    den = 0.0
    for i in range(x.shape[0]):
        if y[i] <= 0.0:
            continue
        num += x[i] * y[i]
        den += y[i]
    return num, den


def _switching_weights(rng, n):
    """Weights kept (> 0) densely, sparsely, not at all and densely again, in stretches of runs."""
    y = -rng.random(n)
    q = n // 4
    y[:q] = rng.normal(size=q)
    y[q:2 * q][rng.random(q) < 0.002] = 1.0 + rng.random()
    y[3 * q:] = rng.normal(size=n - 3 * q)
    return y


def modulo_sum(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] % 1.5 - x[i] // 0.7
    return s


def _stacked_allocs(body: str) -> list[str]:
    return re.findall(r"= alloc\(\(n\d+_, .*", body)


def test_suffix_max_writes_from_the_end():
    x = np.random.default_rng(31).normal(size=3000)
    body = _check(suffix_max, (x,))
    assert not _stacked_allocs(body), _stacked_allocs(body)
    assert re.search(r"p\d+_ = 2999 - k\d+_", body)
    assert "zeros(" not in body  # the fill the loop overwrites entirely is never made


def test_backwards_inside_a_border():
    x = np.random.default_rng(32).normal(size=2000)
    body = _check(inner_backwards_into_border, (x,))
    assert "range(2000)" not in body and "full(" not in body  # -1.0 goes only to the two borders
    assert len(re.findall(r"\] = -1\.0", body)) == 2, body


def test_a_step_of_minus_two_keeps_its_copy():
    x = np.random.default_rng(34).normal(size=1001)
    _check(every_other_backwards, (x,))


def test_running_sum_of_index_terms_in_one_loop():
    rng = np.random.default_rng(36)
    body = _check(enumerate_zip_running, (rng.normal(size=5000), rng.normal(size=5000)))
    assert len(re.findall(r"= alloc\(", body)) == 1, body  # the output only: no array of terms
    assert len(re.findall(r"\bfor ", body)) == 1, body


def test_libm_terms_in_a_block_before_the_lanes():
    x = np.random.default_rng(37).normal(size=3001) * 9.0
    body = _check(modulo_sum, (x,))
    assert re.search(r"terms\d+_\[e\d+_\] = ", body), body
    assert re.search(r"lane_add\(lanes\d+_, j\d+_, terms\d+_\[", body), body


def test_sparse_runs_untested_after_hits_same_bits(monkeypatch):
    import looptrace

    rng = np.random.default_rng(35)
    n = 40_000
    x = rng.normal(size=n)
    datas = [(x, rng.normal(size=n)), (x, _switching_weights(rng, n)),
             (x, np.where(rng.random(n) < 0.001, 1.0, -1.0))]
    now = looptrace.jit(weighted_mean_kept, backend="cpu")
    body = kernel_body(now.explain(*datas[0]).kernel_source)
    assert re.search(r"u\d+_ -= 1", body), body  # runs left untested
    assert len(re.findall(r"for r\d+_ in range\(r\d+_, r\d+_\)", body)) == 1, body  # one loop over the rows
    monkeypatch.setenv("LOOPTRACE_NO_SPARSE_FOLDS", "1")
    every = looptrace.jit(lambda x, y: weighted_mean_kept(x, y), backend="cpu")
    for x, y in datas:
        got, want = now(x, y), weighted_mean_kept(x, y)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        assert np.asarray(got).tobytes() == np.asarray(every(x, y)).tobytes()
