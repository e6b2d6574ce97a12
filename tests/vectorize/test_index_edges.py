"""Edge cases of index arithmetic: reversed and strided ranges, empty loops,
overlapping and contiguous blocks, negative positions, float32."""
import numpy as np
import pytest

import looptrace


def rev(x):
    out = np.zeros_like(x)
    for i in range(x.shape[0] - 1, -1, -1):
        out[i] = x[i] * 2 + x[x.shape[0] - 1 - i]
    return out
def stride(x):
    out = np.zeros(x.shape[0] // 2)
    s = 0.0
    for i in range(0, x.shape[0] // 2, 1):
        out[i] = x[2 * i + 1] - x[2 * i]
    for i in range(1, x.shape[0], 3):
        s = s + x[i]
    return out, s
def empty(x):
    out = np.ones(3)
    m = -1.0
    for i in range(5, 5):
        out[i] = x[i]
        m = max(m, x[i])
    return out, m
def blocks(x):
    out = np.zeros(x.shape[0] + 1)
    for i in range(x.shape[0]):
        out[i:i + 2] += x[i]
    return out
def blocks2(x):
    out = np.zeros(2 * x.shape[0])
    for i in range(x.shape[0]):
        j = 2 * i
        out[j:j + 2] = x[i]
    return out
def even_write(x):
    out = np.zeros(2 * x.shape[0])
    for i in range(x.shape[0]):
        out[2 * i] = x[i]
    return out
def neg_idx(x):
    out = np.zeros(x.shape[0])
    for i in range(1, x.shape[0] + 1):
        out[-i] = x[i - 1]
    return out
def f32(x):
    h = np.zeros(3, dtype=np.float32)
    for t in range(x.shape[0]):
        h = np.tanh(h * np.float32(0.5) + x[t])
    return h


# `empty`: a loop of no iterations is its variables' initial values (loop_rewrite.zero_trips)
CASES = {rev: "vectorized", stride: None, empty: "vectorized", blocks: "scan", blocks2: "vectorized",
         even_write: "vectorized", neg_idx: None, f32: "scan"}


@pytest.mark.parametrize("fn", list(CASES), ids=lambda f: f.__name__)
def test_edge_cases_match_plain(fn, rng):
    x = rng.standard_normal((5, 3)).astype(np.float32) if fn is f32 else rng.standard_normal(8)
    got, want = looptrace.jit(fn, backend="interpret")(x), fn(x)
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    for g, w in zip(got, want, strict=True):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=1e-5 if fn is f32 else 1e-9, atol=1e-12)
    if CASES[fn] is not None:
        assert looptrace.explain(fn, x).loops[0].kind == CASES[fn]
