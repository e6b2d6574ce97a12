"""Stencils whose boundary guard keeps a read in range (`x[i + 1] if i < n - 1
else 0.0`) if-convert: the read in the branch gets its index clamped and a
check of NumPy's IndexError masked by the branch's predicate
(vectorize/select.py `_clamp_branch_reads`). They stayed scans ("a cond
stays in the loop"), the most common pattern a probe of loop nests found
(session 33). Each against the plain function; a guard that does not keep
the read in range raises IndexError where the plain function does."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt


def forward_difference(x):
    n = x.shape[0]
    y = np.empty_like(x)
    for i in range(n):
        r = x[i + 1] if i < n - 1 else 0.0
        y[i] = r - x[i]
    return y


def in_place_guarded(x, y):
    n = x.shape[0]
    for i in range(n):
        if i < n - 1:
            y[i] -= x[i + 1]
    return y


def laplacian(u):
    h, w = u.shape
    out = np.zeros_like(u)
    for i in range(h):
        for j in range(w):
            s = -4.0 * u[i, j]
            if i > 0:
                s += u[i - 1, j]
            if i < h - 1:
                s += u[i + 1, j]
            if j > 0:
                s += u[i, j - 1]
            if j < w - 1:
                s += u[i, j + 1]
            out[i, j] = s
    return out


def conv_same(img, k):
    H, W = img.shape
    out = np.zeros_like(img)
    for i in range(H):
        for j in range(W):
            s = 0.0
            for a in range(3):
                for b in range(3):
                    ii, jj = i + a - 1, j + b - 1
                    if 0 <= ii < H and 0 <= jj < W:
                        s += img[ii, jj] * k[a, b]
            out[i, j] = s
    return out


def wrapping_back(x):
    """x[i - 2] at i == 1 is x[-1] in NumPy: the guard lets it through."""
    y = np.zeros_like(x)
    for i in range(x.shape[0]):
        if i > 0:
            y[i] = x[i - 2]
    return y


def wrong_guard(x):
    """At i == n - 1 the branch runs and reads past the end: IndexError."""
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        if i < n:
            s += x[i + 1]
    return s


CASES = [(forward_difference, lambda r: (r.standard_normal(9),)),
         (in_place_guarded, lambda r: (r.standard_normal(9), r.standard_normal(9))),
         (laplacian, lambda r: (r.standard_normal((5, 6)),)),
         (conv_same, lambda r: (r.standard_normal((5, 4)), r.standard_normal((3, 3)))),
         (wrapping_back, lambda r: (r.standard_normal(7),))]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn, make", CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_guarded_stencils(fn, make, backend, rng):
    args = make(rng)
    mine = [a.copy() for a in args]
    want, got = fn(*args), lt.jit(fn, backend=backend)(*mine)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    for a, m in zip(args, mine):
        np.testing.assert_array_equal(m, a)


def test_the_guarded_loops_vectorize():
    r = np.random.default_rng(0)
    assert [x.kind for x in lt.explain(lt.jit(forward_difference, backend="interpret"),
                                       r.standard_normal(9)).loops] == ["vectorized"]
    assert [x.kind for x in lt.explain(lt.jit(laplacian, backend="interpret"),
                                       r.standard_normal((5, 6))).loops] == ["vectorized", "vectorized"]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_guard_that_lets_an_out_of_range_read_through_raises(backend):
    x = np.arange(5.0)
    with pytest.raises(IndexError) as plain:
        wrong_guard(x)
    with pytest.raises(IndexError) as got:
        lt.jit(wrong_guard, backend=backend)(x)
    assert str(plain.value) in str(got.value)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 12), st.integers(-3, 3), st.integers(0, 2**31))
def test_generated_offsets_and_guards(n, off, seed):
    """`if lo <= i + off < n: s += x[i + off]` against the plain function,
    for guards that keep the read in range and ones that do not."""
    x = np.random.default_rng(seed).standard_normal(n)

    def guarded(x):
        s = np.zeros(x.shape[0])
        for i in range(x.shape[0]):
            if i + off < x.shape[0]:
                s[i] = x[i + off]
        return s

    try:
        want = guarded(x)
    except IndexError:
        with pytest.raises(IndexError):
            lt.jit(guarded, backend="interpret")(x)
        return
    np.testing.assert_array_equal(lt.jit(guarded, backend="interpret")(x), want)


def histogram_of(idx, w):
    h = np.zeros(4)
    for i in range(idx.shape[0]):
        h[idx[i]] += w[i]
    return h


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_out_of_range_scatter_add_names_the_line_that_writes(backend):
    """It named the loop's `for` line (a probe of the cuda backend, session 33)."""
    with pytest.raises(IndexError, match="out of bounds") as e:
        lt.jit(histogram_of, backend=backend)(np.array([0, 3, 4, 1]), np.ones(4))
    assert "h[idx[i]] += w[i]" in str(e.value)
