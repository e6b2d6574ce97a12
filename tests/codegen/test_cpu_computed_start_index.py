"""A loop from a computed start whose index is known >= 0 (ir/ranges.py)
indexes its arrays through `nonneg` (codegen/cpu/emitter.py
`start_in_bounds`): Numba's wraparound select for a signed index LLVM
cannot prove >= 0 kept the sieve's store loop from running tight (2.36 vs
1.46 ms). Each kernel is checked against the plain function on random data."""

from bench.corpus.discrete import sieve

from .kernel_text import checked_kernel


def tail_scale(x, k):
    out = x.copy()
    s = min(max(k, 0), x.shape[0])
    for i in range(s, x.shape[0]):
        out[i] = x[i] * 2.0 + out[i - 1] * 0.5 if i > 0 else x[i]
    return out


def test_sieve_store_is_marked_nonnegative():
    src = checked_kernel(sieve, [10_007])
    stores = [ln.strip() for ln in src.splitlines() if "] = False" in ln and "nonneg(" in ln]
    assert stores, src


def test_clamped_start_loop_matches(rng):
    x = rng.standard_normal(300)
    for k in (-5, 0, 7, 299, 300, 1000):
        src = checked_kernel(tail_scale, [x, k])
    assert "nonneg(" in src
