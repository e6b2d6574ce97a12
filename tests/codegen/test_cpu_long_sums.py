"""Long float sums over one axis: 8 accumulators (codegen/cpu/nest.py
`Fuser._fold_8way`; min and max folds too).

Accumulator j takes the terms at 8r + j in increasing r; the 8 are added
pairwise, then the n % 8 tail in order. The 8 are one tuple and every term,
cheap or with a loop of its own (a fold), is written once in a loop over j
that adds it to item j (templates.py `lane_add`). The kernel must give
exactly the value of that order, which `eight_way` computes in Python from
terms computed the same way.
"""

import warnings

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def eight_way(terms: list[float]) -> float:
    n = len(terms)
    acc = [0.0] * 8
    for r in range(n // 8):
        for j in range(8):
            acc[j] += terms[8 * r + j]
    total = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
    for k in range(n - n % 8, n):
        total += terms[k]
    return total


def column_dot_total(a, b):
    """A sum over columns of a column-wise product sum: the term is a fold."""
    return np.maximum(np.sum(a * b, axis=0), -1e300).sum()


def column_dot_relu_total(a, b, c):
    """The term: a fold, then more elementwise work on it."""
    return np.maximum(np.sum(a * b, axis=0) - c, 0.0).sum()


def _column_terms(a, b):
    """Each column's sum of products, in row order (the kernel's inner loop)."""
    terms = []
    for j in range(a.shape[1]):
        s = 0.0
        for i in range(a.shape[0]):
            s += float(a[i, j]) * float(b[i, j])
        terms.append(s)
    return terms


@pytest.mark.parametrize("n", [96, 101])
def test_costly_term_is_written_once_and_keeps_the_order(n, rng):
    f = looptrace.jit(column_dot_total, backend="cpu")
    g = looptrace.jit(column_dot_relu_total, backend="cpu")
    c = 0.3
    # a wrong assignment of terms to accumulators rounds differently on about
    # half of such data sets: 16 of them miss it with odds of about 1e-5
    for _ in range(16):
        a, b = rng.standard_normal((5, n)), rng.standard_normal((5, n))
        terms = _column_terms(a, b)
        assert float(f(a, b)) == eight_way(terms)
        assert float(g(a, b, c)) == eight_way([max(t - c, 0.0) for t in terms])
    np.testing.assert_allclose(f(a, b), column_dot_total(a, b), rtol=1e-12)
    np.testing.assert_allclose(g(a, b, c), column_dot_relu_total(a, b, c), rtol=1e-12)
    for fn in (f, g):
        src = fn.explain(a, b, *([c] if fn is g else [])).kernel_source
        assert "* 8 + 7" not in src  # not written out 8 times
        assert "lane_add(" in src  # one term, added to its accumulator


def squares_total(x):
    return np.sum(x * x + 1.0)


@pytest.mark.parametrize("n", [64, 203])
def test_cheap_term_is_written_once(n, rng):
    x = rng.standard_normal(n)
    f = looptrace.jit(squares_total, backend="cpu")
    assert float(f(x)) == eight_way([float(v) * float(v) + 1.0 for v in x])
    src = f.explain(x).kernel_source
    assert "* 8 + 7" not in src and src.count("lane_add(") == 1


@pytest.mark.parametrize("n", [64, 131])
def test_float32_terms_accumulate_in_float64(n, rng):
    """`acc += x` with a float64 accumulator widens a float32 term first; the
    lanes do too (the sum rounds to float32 once, at the end)."""
    x = rng.standard_normal(n).astype(np.float32) * np.float32(1e3)
    f = looptrace.jit(squares_total, backend="cpu")
    got = f(x)
    assert got.dtype == np.float32
    assert got == np.float32(eight_way([float(np.float32(v * v) + np.float32(1.0)) for v in x]))


def exp_log_total(x):
    return np.log(np.exp(-(x * x)) + 1.0).sum()


# [1000] with -m slow: full blocks and a partial one, as [203] has (with a tail too)
@pytest.mark.parametrize("n", [64, 203, pytest.param(1000, marks=pytest.mark.slow)])
def test_vectorizable_terms_in_blocks_keep_the_order(n, rng):
    """A term holding exp or log is computed 64 terms at a time into a block
    (`_sum_in_blocks`, where LLVM vectorizes it) and then added to the 8
    lanes: each lane takes the same terms in the same order (partial last
    blocks and the tail included)."""
    from looptrace.codegen.cpu.mathlib import exp_f64, log_f64

    x = rng.standard_normal(n)
    f = looptrace.jit(exp_log_total, backend="cpu")
    terms = [float(log_f64(exp_f64(-(float(v) * float(v))) + 1.0)) for v in x]
    assert float(f(x)) == eight_way(terms)
    np.testing.assert_allclose(f(x), exp_log_total(x), rtol=1e-13)
    src = f.explain(x).kernel_source
    assert "terms" in src and src.count("lane_add(") == 1
    # exp feeds log: its values are computed into a block of their own first, by a loop of
    # their own (`_staged_calls`); the same operations on the same values, the same bits
    assert src.count("stage") == 3  # made, written, read


def exp_log_rows(x):
    return np.log(np.exp(-(x * x)) + 1.0).sum(axis=1)


def test_staged_calls_in_row_sums(rng):
    from looptrace.codegen.cpu.mathlib import exp_f64, log_f64

    x = rng.standard_normal((3, 150))
    f = looptrace.jit(exp_log_rows, backend="cpu")
    want = [eight_way([float(log_f64(exp_f64(-(float(v) * float(v))) + 1.0)) for v in row]) for row in x]
    np.testing.assert_array_equal(f(x), want)
    assert "stage" in f.explain(x).kernel_source


def root_total(x):
    return np.sqrt(np.abs(x) + 1.0).sum()


def chunked_eight_way(terms: np.ndarray, chunks: int) -> float:
    """The order of a sum split over threads: the steps of 8 terms cut into
    `chunks` runs, each run summed as `eight_way` sums (8 sequential
    accumulators, added pairwise), the runs' totals added in run order, then
    the tail."""
    n = len(terms)
    rows = n // 8
    step = -(-rows // chunks)
    total = 0.0
    for c in range(-(-rows // step)):
        block = terms[c * step * 8:min(c * step + step, rows) * 8].reshape(-1, 8)
        acc = [float(a) for a in np.cumsum(block, axis=0)[-1]]  # cumsum adds in order
        total += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
    for k in range(n - n % 8, n):
        total += float(terms[k])
    return total


def test_sum_split_over_threads_has_one_order(rng):
    """A sum large enough for threads is cut into chunks, each with its own 8
    accumulators, written to an array and added in order after the prange: no
    reduction variables (Numba compiles code for each) and a value that does not
    depend on how many threads ran."""
    from looptrace.codegen.cpu.nest import PARALLEL_SUM_CHUNKS

    x = rng.standard_normal(2_000_003)
    f = looptrace.jit(root_total, backend="cpu")
    src = f.explain(x).kernel_source
    assert "numba.prange" in src and "parts" in src
    terms = np.sqrt(np.abs(x) + 1.0)  # correctly rounded: the same terms as the kernel's
    assert float(f(x)) == chunked_eight_way(terms, PARALLEL_SUM_CHUNKS)
    np.testing.assert_allclose(f(x), root_total(x), rtol=1e-12)


# --- a fold inside each term, along a strided axis: computed 64 positions at a time -----------------
def growth_total(z, s):
    """gbm_paths' shape: the mean over paths of a product over steps (column j
    of z is path j: the product runs down a column)."""
    return np.maximum(np.prod(1.0 + s * z, axis=0) - 1.0, 0.0).sum()


def gbm_mean(S0, mu, sigma, dt, z):
    S = np.full(z.shape[1], S0)
    for t in range(z.shape[0]):
        S = S * np.exp((mu - 0.5 * sigma * sigma) * dt + sigma * np.sqrt(dt) * z[t])
    return np.maximum(S - S0, 0.0).mean()


def _column_products(z, s):
    terms = []
    for j in range(z.shape[1]):
        p = 1.0
        for t in range(z.shape[0]):
            p *= 1.0 + s * float(z[t, j])
        terms.append(max(p - 1.0, 0.0))
    return terms


# [100] with -m slow (2.6 s of CPU in 0bc3f38's CI): a full block, a partial one and a tail, as [203] has
@pytest.mark.parametrize("n", [8, 64, pytest.param(100, marks=pytest.mark.slow), 203])
def test_inner_fold_in_blocks_keeps_every_order(n, rng):
    """Each column's product takes its steps in order, each lane of the sum its
    columns in order: bit for bit the value of the column-by-column loop,
    with a block of 64 columns, a partial block and a tail of n % 8."""
    f = looptrace.jit(growth_total, backend="cpu")
    for _ in range(8):
        z = rng.standard_normal((7, n))
        assert float(f(z, 0.1)) == eight_way(_column_products(z, 0.1))
    src = f.explain(z, 0.1).kernel_source
    if n >= 64:
        assert "alloc(64," in src and "nonneg(" in src  # fold values of 64 columns, computed together
        assert "wide_vectors()" not in src  # 256-bit vectors for these blocks (nest.py `_sum_with_inner_fold`)


def test_inner_fold_split_over_threads(rng, monkeypatch):
    """Chunks of rows over threads, each computing its blocks' folds: the
    chunked order, and the plain function's value."""
    from looptrace.codegen.cpu.nest import PARALLEL_SUM_CHUNKS

    monkeypatch.setattr("looptrace.codegen.cpu.emitter.PARALLEL_MIN_WORK", 1)
    z = rng.standard_normal((9, 5003))
    f = looptrace.jit(growth_total, backend="cpu")
    src = f.explain(z, 0.05).kernel_source
    assert "numba.prange" in src and "alloc(64," in src
    terms = np.array(_column_products(z, 0.05))
    assert float(f(z, 0.05)) == chunked_eight_way(terms, PARALLEL_SUM_CHUNKS)
    np.testing.assert_allclose(f(z, 0.05), growth_total(z, 0.05), rtol=1e-12)


@pytest.mark.parametrize("paths", [40, 2000])
def test_gbm_mean_matches_the_plain_function(paths, rng):
    z = rng.standard_normal((30, paths))
    f = looptrace.jit(gbm_mean, backend="cpu")
    np.testing.assert_allclose(f(100.0, 0.05, 0.2, 1 / 252, z), gbm_mean(100.0, 0.05, 0.2, 1 / 252, z), rtol=1e-12)


def test_nonneg_is_the_value():
    import numba

    from looptrace.codegen.cpu.templates import nonneg

    @numba.njit
    def read(x, r, j):
        return x[nonneg(r * 8 + j)]

    x = np.arange(40.0)
    assert read(x, 3, 5) == 29.0 and read(x, 0, 0) == 0.0



def extremes(x, rows):
    return x.min(), np.max(np.abs(x)), np.nanmax(rows, axis=1), rows.min(axis=-1)


# float32 with -m slow (1.8 s of CPU in 0bc3f38's CI): [float64]'s lanes (the same lane_min and lane_max
# templates, NaNs at the same places) in another dtype
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.float32, marks=pytest.mark.slow)])
def test_min_and_max_folds_run_in_lanes(dtype, rng):
    """Min and max over 64 or more terms take 8 lanes (templates.py lane_min,
    lane_max): exact in any order, NaN anywhere (a lane, the tail, the first
    term) propagates as np.minimum's, np.nanmax skips it."""
    f = looptrace.jit(extremes, backend="cpu")
    for n in (64, 203):
        x, rows = rng.standard_normal(n).astype(dtype), rng.standard_normal((5, n)).astype(dtype)
        for nan_at in (None, 0, 9, n - 1):
            xs, rs = x.copy(), rows.copy()
            if nan_at is not None:
                xs[nan_at] = np.nan
                rs[1, nan_at] = np.nan
                rs[3, :] = np.nan  # a row all NaN: nanmax gives NaN (NumPy warns)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = extremes(xs, rs)
                got = f(xs, rs)
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)
    src = f.explain(x, rows).kernel_source
    assert "lane_min(" in src and "lane_max(" in src
