"""Short folds of costly terms (codegen/cpu/nest.py `_emit_staged_rows`): a
row's sum of exp terms shorter than the 8 lanes' minimum is computed a block
of rows at a time, the terms first into a small array (a loop LLVM vectorizes),
then each row's fold in its own order. Each kernel is checked against the
plain function on random data, with row counts that leave a partial block."""

import numpy as np
import pytest

import looptrace
from bench.corpus.sparse import label_nll

from .kernel_text import checked_kernel, kernel_body


def row_logsumexp(x):
    m = x.max(axis=1, keepdims=True)
    return np.log(np.exp(x - m).sum(axis=1)) + m[:, 0]


def softmax_denominator(x):
    return np.exp(x).sum(axis=-1)


def batched_tanh_max(x):
    return np.tanh(x * 3.0).max(axis=2)


def float32_rows(x):
    return np.exp(x).sum(axis=1)


def _staged(src: str) -> bool:
    return "terms" in src and "blk" in src


# (333, 7) with -m slow (0.45 s in 3eb5406's CI): (1000, 32)'s kernel but for the sizes (explain's sources equal but
# for the integers)
@pytest.mark.parametrize("fn, shape", [
    (row_logsumexp, (1000, 32)),
    pytest.param(row_logsumexp, (333, 7), marks=pytest.mark.slow),
    (softmax_denominator, (517, 40)),
    (batched_tanh_max, (3, 129, 12)),
])
def test_short_costly_folds_are_staged(fn, shape, rng):
    x = rng.standard_normal(shape) * 3.0
    assert _staged(checked_kernel(fn, [x]))


def test_staged_rows_match_the_sequential_sum(rng):
    """The sum of each row's terms in order (the fold before staging); exp is
    mathlib's, within 1 ulp of NumPy's. (517, 40): the shape test_short_costly_folds_are_staged finds
    staged, so one kernel serves both ((300, 20)'s is the same but for the sizes: 0.5 s in 3d8fb51's CI)."""
    x = rng.standard_normal((517, 40)) * 4.0
    got = looptrace.jit(softmax_denominator)(x)
    e = np.exp(x)
    want = np.zeros(517)
    for r in range(40):
        want += e[:, r]
    np.testing.assert_allclose(got, want, rtol=2e-15)


def test_float32_rows(rng):
    x = rng.standard_normal((200, 16)).astype(np.float32)
    f = looptrace.jit(float32_rows)
    got = f(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, float32_rows(x), rtol=1e-5)
    assert _staged(kernel_body(f.explain(x).kernel_source))


def test_cheap_or_long_folds_are_not_staged(rng):
    x = rng.standard_normal((400, 16))
    assert not _staged(checked_kernel(lambda a: (a * 2.0).sum(axis=1), [x]))
    y = rng.standard_normal((50, 256))
    assert not _staged(checked_kernel(softmax_denominator, [y]))


def test_label_nll_stages_its_rows(rng):
    logits = rng.standard_normal((700, 32))
    y = rng.integers(0, 32, 700)
    src = checked_kernel(label_nll, [logits, y])
    assert _staged(src)
