"""Slices whose length is known only at run time, `x[i, :j]`, `x[:, j:]`,
where they feed what does not need that length (varying.py
`varying_slice`): reductions, elementwise arithmetic, products with a vector
(`L[i, :i] @ x[:i]`, `v @ X[:, a:b]`), np.flip, gathers through one
(`x[cols[a:b]]`), and writes through one. The triangular loops of linear
algebra written with NumPy slices (npbench's trisolv, syrk, trmm, cholesky,
lu, correlation, covariance, durbin) are then traced once. Slices bounded
by an array's contents (CSR row pointers: npbench's spmv) are refused with
the loop rewrite, which runs. Anything else needing the length is the
ConcreteIndexError it always was: an int argument deciding the length is
specialized on, and a short loop whose index decides it is unrolled."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.errors import ConcreteIndexError

from ._loopcheck import check

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def trisolv(L, x, b):
    for i in range(x.shape[0]):
        x[i] = (b[i] - L[i, :i] @ x[:i]) / L[i, i]


def syrk(alpha, beta, C, A):
    for i in range(A.shape[0]):
        C[i, :i + 1] *= beta
        for k in range(A.shape[1]):
            C[i, :i + 1] += alpha * A[i, k] * A[:i + 1, k]


def trmm(alpha, A, B):
    for i in range(B.shape[0]):
        for j in range(B.shape[1]):
            B[i, j] += np.dot(A[i + 1:, i], B[i + 1:, j])
    B *= alpha


def cholesky(A):
    A[0, 0] = np.sqrt(A[0, 0])
    for i in range(1, A.shape[0]):
        for j in range(i):
            A[i, j] -= np.dot(A[i, :j], A[j, :j])
            A[i, j] /= A[j, j]
        A[i, i] -= np.dot(A[i, :i], A[i, :i])
        A[i, i] = np.sqrt(A[i, i])


def lu(A):
    for i in range(A.shape[0]):
        for j in range(i):
            A[i, j] -= A[i, :j] @ A[:j, j]
            A[i, j] /= A[j, j]
        for j in range(i, A.shape[0]):
            A[i, j] -= A[i, :i] @ A[:i, j]


def _spd(rng, n):
    m = rng.random((n, n))
    return m @ m.T + n * np.eye(n)


CASES = [
    (trisolv, lambda r, n: (np.tril(_spd(r, n)), r.random(n), r.random(n))),
    (syrk, lambda r, n: (1.5, 1.2, r.random((n, n)), r.random((n, 7)))),
    (trmm, lambda r, n: (1.5, r.random((n, n)), r.random((n, 6)))),
    (cholesky, lambda r, n: (_spd(r, n),)),
    (lu, lambda r, n: (_spd(r, n),)),
]


@pytest.mark.parametrize("fn, make", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_triangular_loops_are_traced_once(fn, make, rng):
    """n = 80: past the unrolling limits, so only the masked slices make these run."""
    f = check(fn, *make(rng, 80))
    e = looptrace.explain(f, *make(rng, 80))
    assert "unrolled" not in str(e)


@pytest.mark.parametrize("fn, make", [CASES[0], CASES[4]], ids=lambda v: getattr(v, "__name__", ""))
def test_triangular_loops_on_the_cpu_backend(fn, make, rng):
    check(fn, *make(rng, 50), jitted=looptrace.jit(fn, backend="cpu"))


def bounds_as_numpy_reads_them(x, k):
    """Negative bounds count from the end, bounds past the axis are clipped."""
    n = x.shape[0]
    out = np.zeros((n, 5))
    for i in range(n):
        out[i, 0] = x[:i - 3].sum()
        out[i, 1] = x[i - 2:].sum()
        out[i, 2] = (x[i:2 * i + k] ** 2).sum()
        out[i, 3] = np.max(x[-i - 1:], initial=-1.0)
        out[i, 4] = x[i // 2:i + 1].mean() if i >= 0 else 0.0
    return out


@SETTINGS
@given(n=st.integers(1, 12), k=st.integers(-4, 4), seed=st.integers(0, 2**32 - 1))
def test_bounds_count_from_the_end_and_clip(n, k, seed):
    check(bounds_as_numpy_reads_them, np.random.default_rng(seed).standard_normal(n), k)


def prefix_total(x, n):
    return x[:n].sum(), (x[n:] * 2.0).max(initial=0.0)


def prefix_itself(x, n):
    return x[:n] * 2.0


def test_an_int_argument_bound_is_traced_where_the_length_is_not_needed(rng):
    x = rng.standard_normal(9)
    f = looptrace.jit(prefix_total, backend="interpret")
    for n in (3, 7, 0):
        check(prefix_total, x, n, jitted=f)
    assert not f._auto_static and len(f._cache) == 1  # one version for every n
    g = looptrace.jit(prefix_itself, backend="interpret")
    for n in (3, 7):
        check(prefix_itself, x, n, jitted=g)
    assert set(g._auto_static) == {"n"}  # its length is the result's: specialized, as before


def running_sums_of_prefixes(x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = (np.cumsum(x[:i]) ** 2).sum()  # np.cumsum needs the length
    return out


def test_a_short_loop_needing_the_length_is_still_unrolled(rng):
    f = check(running_sums_of_prefixes, rng.standard_normal(6))
    assert "unrolled" in str(looptrace.explain(f, rng.standard_normal(6)))


def returns_a_prefix(x):
    acc = np.zeros(3)
    for i in range(x.shape[0]):
        acc = acc + x[:i]
    return acc


def test_a_use_needing_the_length_is_a_clear_error(rng):
    with pytest.raises(looptrace.TraceError, match="length of this slice") as e:
        looptrace.jit(returns_a_prefix, backend="interpret")(rng.standard_normal(100))
    assert "acc = acc + x[:i]" in str(e.value)


def grad_target(L, b):
    x = np.zeros(b.shape[0])
    for i in range(b.shape[0]):
        x[i] = (b[i] - L[i, :i] @ x[:i]) / L[i, i]
    return (x ** 2).sum()


def test_gradient_through_a_triangular_solve(rng):
    from looptrace.autodiff.check import assert_close, numerical_grad

    L = np.tril(_spd(rng, 6))
    b = rng.random(6)
    for argnum in (0, 1):
        got = looptrace.grad(grad_target, argnums=argnum, backend="interpret")(L, b)
        want = numerical_grad(grad_target, [L, b], argnum)
        assert_close(got, want, 1e-6, f"argument {argnum}")


# --- a varying slice on any axis, np.flip of one, gathers through one (varying.py) ----------------------
# polybench/npbench kernels as npbench writes them


def correlation(M, float_n, data):
    mean = np.mean(data, axis=0)
    stddev = np.std(data, axis=0)
    stddev[stddev <= 0.1] = 1.0
    data -= mean
    data /= np.sqrt(float_n) * stddev
    corr = np.eye(M, dtype=data.dtype)
    for i in range(M - 1):
        corr[i + 1:M, i] = corr[i, i + 1:M] = data[:, i] @ data[:, i + 1:M]
    return corr


def covariance(M, float_n, data):
    mean = np.mean(data, axis=0)
    data -= mean
    cov = np.zeros((M, M), dtype=data.dtype)
    for i in range(M):
        cov[i:M, i] = cov[i, i:M] = data[:, i] @ data[:, i:M] / (float_n - 1.0)
    return cov


def durbin(r):
    y = np.empty_like(r)
    alpha = -r[0]
    beta = 1.0
    y[0] = -r[0]
    for k in range(1, r.shape[0]):
        beta *= 1.0 - alpha * alpha
        alpha = -(r[k] + np.dot(np.flip(r[:k]), y[:k])) / beta
        y[:k] += alpha * np.flip(y[:k])
        y[k] = alpha
    return y


def spmv(A_row, A_col, A_val, x):  # npbench's: slices whose bounds are read from an array
    y = np.empty(A_row.size - 1, A_val.dtype)
    for i in range(A_row.size - 1):
        cols = A_col[A_row[i]:A_row[i + 1]]
        vals = A_val[A_row[i]:A_row[i + 1]]
        y[i] = vals @ x[cols]
    return y


def spmv_loops(A_row, A_col, A_val, x):  # the rewrite the error's hint gives
    y = np.empty(A_row.size - 1, A_val.dtype)
    for i in range(A_row.size - 1):
        acc = 0.0
        for j in range(A_row[i], A_row[i + 1]):
            acc += A_val[j] * x[A_col[j]]
        y[i] = acc
    return y


def _csr(rng, n, per_row=4, dtype=np.int64):
    row = np.concatenate([[0], np.cumsum(rng.integers(0, per_row + 1, n))]).astype(dtype)
    return row, rng.integers(0, n, row[-1]).astype(dtype), rng.random(row[-1]), rng.random(n)


KERNELS = [
    (correlation, lambda r, n: (n, float(n + 7), r.random((n + 7, n)))),  # (slow on cpu: covariance's loops and more)
    (covariance, lambda r, n: (n, float(n + 7), r.random((n + 7, n)))),
    (durbin, lambda r, n: (r.random(n) * 0.2 + 0.05,)),
]


def _ir_lines(f, args) -> int:
    return len(str(looptrace.explain(f, *args)).splitlines())


@pytest.mark.parametrize("fn, make", KERNELS, ids=lambda v: getattr(v, "__name__", ""))
def test_npbench_kernels_are_traced_once(fn, make, rng):
    """n = 60: past the unrolling limits; the program is the same size at n = 20."""
    f = check(fn, *make(rng, 60))
    e = looptrace.explain(f, *make(rng, 60))
    assert e.loops and all(loop.kind != "unrolled" for loop in e.loops)
    assert "unrolled" not in str(e)
    assert _ir_lines(looptrace.jit(fn, backend="interpret"), make(rng, 20)) == _ir_lines(f, make(rng, 60))


# correlation: slow, covariance's triangular loops over varying slices plus a std, compiled by covariance's case;
# its values run on the interpreter (test_npbench_kernels_are_traced_once)
@pytest.mark.parametrize("fn, make", [pytest.param(*KERNELS[0], marks=pytest.mark.slow)] + KERNELS[1:],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_npbench_kernels_on_the_cpu_backend(fn, make, rng):
    check(fn, *make(rng, 12), jitted=looptrace.jit(fn, backend="cpu"))


def segment_stats(ptr, vals, x, cols):
    """Per segment (CSR row): the uses of a slice bounded by array contents
    that end in a sum, each run over the segment's window."""
    n = ptr.size - 1
    out = np.empty((n, 6))
    for i in range(n):
        v = vals[ptr[i]:ptr[i + 1]]
        c = cols[ptr[i]:ptr[i + 1]]
        out[i, 0] = v.sum()
        out[i, 1] = (v * x[c] - 1.0).sum()
        out[i, 2] = np.dot(x[c], v)
        out[i, 3] = v.max(initial=-5.0)
        out[i, 4] = np.min(v, initial=0.25)
        out[i, 5] = np.sum(np.flip(v) * v)
    return out


def segment_means(ptr, vals):
    m = np.empty((ptr.size - 1, 2))
    for i in range(ptr.size - 1):
        v = vals[ptr[i]:ptr[i + 1]]
        m[i, 0] = v.mean()
        m[i, 1] = v.var()
    return m


def test_slices_bounded_by_array_contents_in_sums(rng):
    """CSR row pointers split an axis into pieces: a sum, a dot product, a
    mean or a float max/min with initial= over one runs over its piece alone
    on the cpu backend (codegen/planning/fold_window.py), so the whole costs
    the nonzeros once, not rows x nonzeros."""
    row, col, val, x = _csr(rng, 40, per_row=5)
    assert (np.diff(row) == 0).any()  # empty rows
    check(spmv, row, col, val, x)
    check(segment_stats, row, val, x, col)
    f = looptrace.jit(spmv, backend="interpret")
    check(spmv, row, col, val, x, jitted=f)
    row32, col32, val32, x32 = _csr(rng, 30, per_row=2, dtype=np.int32)
    check(spmv, row32, col32, val32, x32, jitted=f)
    # cpu: segment_stats' int64 bounds planned and emitted below (explain: no Numba compile, whose 1.5 s of
    # session 55's CI ran fold_window's folds that tests/codegen/test_cpu_fold_window.py compiles by default:
    # test_sums_maxima_and_means_of_varying_rows, test_a_fold_over_a_window_sums_from_the_window_s_start);
    # spmv's 32-bit bounds run on cpu in test_cpu_fold_window.py
    # test_batched_csr_rows_check_their_indices_inside_the_window (this spmv, csr_matvec there, with uint32 row
    # pointers and columns, against the plain function)
    src = looptrace.explain(looptrace.jit(segment_stats, backend="cpu"), row, val, x, col).kernel_source
    assert src.count("max2(np.int64(0), ") >= 5  # every fold starts at its window
    with np.errstate(all="ignore"):
        check(segment_means, row, val)  # empty rows: nan, as NumPy's mean of nothing


def test_slices_bounded_by_array_contents_elsewhere_say_how_to_rewrite(rng):
    """Uses that need the piece's length, or that no sum takes over the
    window (a product, an int max), raise the slice's error with the loop
    over each piece, which is traced once and costs the nonzeros once. A
    write through the piece is that loop (tracer/stepped.py `_unit_write`)."""
    args = _csr(rng, 300)

    def write(A_row, A_col, A_val, x):
        y = A_val.copy()
        for i in range(A_row.size - 1):
            y[A_row[i]:A_row[i + 1]] = x[i]
        return y

    def product(A_row, A_col, A_val, x):
        y = np.empty(A_row.size - 1)
        for i in range(A_row.size - 1):
            y[i] = np.prod(A_val[A_row[i]:A_row[i + 1]])
        return y

    def int_max(A_row, A_col, A_val, x):
        y = np.empty(A_row.size - 1, np.int64)
        for i in range(A_row.size - 1):
            y[i] = A_col[A_row[i]:A_row[i + 1]].max(initial=0)
        return y

    check(write, *args)
    check(write, *args, jitted=looptrace.jit(write, backend="cpu"))
    for fn in (product, int_max):
        with pytest.raises(ConcreteIndexError, match="read from an array") as e:
            looptrace.jit(fn, backend="interpret")(*args)
        assert "for j in range(ptr[i], ptr[i + 1])" in str(e.value)
    f = check(spmv_loops, *args)
    assert [loop.kind for loop in looptrace.explain(f, *args).loops] == ["scan", "scan"]
    row, col, val, x = _csr(rng, 30, per_row=2, dtype=np.int32)
    check(spmv_loops, row, col, val, x, jitted=looptrace.jit(spmv_loops, backend="cpu"))


def middle_axis(X, w, v):
    a, n, b = X.shape
    out = np.zeros((n, a))
    tot = np.zeros(n)
    for i in range(n):
        out[i] = X[:, i:, :].sum(axis=(1, 2)) + (X[:, :i, :] * w).max(axis=2, initial=0.0).sum(axis=1)
        tot[i] = (v[:, None, None] * X[:, i:, :]).sum() + (X[:, i:, :] * w[None, None, :]).mean()
    return out, tot


def test_the_varying_axis_in_the_middle_of_a_3d_array(rng):
    f = check(middle_axis, rng.standard_normal((3, 40, 4)), rng.standard_normal(4), rng.standard_normal(3))
    assert "unrolled" not in str(looptrace.explain(f, rng.standard_normal((3, 40, 4)), rng.standard_normal(4),
                                                   rng.standard_normal(3)))


def flips(x, y):
    n = x.shape[0]
    out = np.zeros((n, 3))
    for i in range(n):
        out[i, 0] = (np.flip(x[:i]) * x[:i] + 1.0).sum()
        out[i, 1] = np.flip(x[i // 2:i + 1]) @ y[i // 2:i + 1]
        out[i, 2] = np.max(np.flip(np.flip(x[i:]) - y[i:]) * y[i:], initial=-5.0)
    return out


def test_flip_in_elementwise_expressions_and_dot_products(rng):
    f = check(flips, rng.standard_normal(40), rng.standard_normal(40))
    assert "unrolled" not in str(looptrace.explain(f, rng.standard_normal(40), rng.standard_normal(40)))


def writes_across(B, v):
    for i in range(B.shape[1]):
        B[:, i:] = B[:, i:] * 0.5 + v[:, None]
        B[1, :i] -= np.flip(B[0, :i])
        B[:, :i] += 1.0
    return B.sum()


def test_writes_through_a_slice_on_a_later_axis(rng):
    f = check(writes_across, rng.standard_normal((4, 40)), rng.standard_normal(4))
    assert "unrolled" not in str(looptrace.explain(f, rng.standard_normal((4, 40)), rng.standard_normal(4)))


def gathered_norms(cols, x, X):
    out = np.zeros((cols.shape[0], 3))
    for i in range(cols.shape[0]):
        picked = x[cols[i // 2:i + 1]]
        out[i, 0] = np.sum(picked ** 2)
        out[i, 1] = np.max(np.abs(picked), initial=0.0)
        out[i, 2] = X[cols[i // 2:i + 1]].sum(axis=0) @ x[:3]
    return out


def test_a_gather_through_a_varying_slice_inside_reductions(rng):
    col = rng.integers(0, 40, 60)
    col[::3] -= 40  # negative indices count from the end, as NumPy's
    x, X = rng.standard_normal(40), rng.standard_normal((40, 3))
    f = check(gathered_norms, col, x, X)
    assert "unrolled" not in str(looptrace.explain(f, col, x, X))


def band_products(cols, vals, x):
    y = np.empty(cols.shape[0] - 2)
    for i in range(cols.shape[0] - 2):
        y[i] = vals[i:i + i % 3] @ x[cols[i:i + i % 3]]
    return y


def test_a_gathered_index_out_of_range_raises_only_inside_the_slice(rng):
    col, val, x = rng.integers(0, 20, 60), rng.random(60), rng.random(20)
    col[-1] = 999  # never inside a slice: i + i % 3 < 59 for i < 58
    check(band_products, col, val, x)
    col[30] = 20
    with pytest.raises(IndexError):
        band_products(col, val, x)
    with pytest.raises(IndexError):
        looptrace.jit(band_products, backend="interpret")(col, val, x)


def durbin_loss(r):
    return (durbin(r) * np.arange(1.0, r.shape[0] + 1.0)).sum()


def band_loss(cols, vals, x):
    return (band_products(cols, vals, x) ** 2).sum()


def test_gradients_through_flips_and_gathers(rng):
    from looptrace.autodiff.check import assert_close, numerical_grad

    r = rng.random(7) * 0.2 + 0.05
    got = looptrace.grad(durbin_loss, backend="interpret")(r)
    assert_close(got, numerical_grad(durbin_loss, [r], 0), 1e-6, "durbin")
    args = [rng.integers(0, 8, 12), rng.standard_normal(12), rng.standard_normal(8)]
    for argnum in (1, 2):
        got = looptrace.grad(band_loss, argnums=argnum, backend="interpret")(*args)
        assert_close(got, numerical_grad(band_loss, args, argnum), 1e-6, f"band argument {argnum}")


def mixed(X, idx, k):
    m, n = X.shape
    out = np.zeros((n, 3))
    for i in range(n):
        out[i, 0] = (X[:, 0] @ X[:, i - k:]).sum()
        out[i, 1] = np.flip(X[-1, :i + k]) @ X[0, :i + k]
        out[i, 2] = np.sum(X[0][idx[i // 2:i + k]])
    return out


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=st.integers(1, 4), n=st.integers(1, 10), k=st.integers(-3, 3), seed=st.integers(0, 2**32 - 1))
def test_generated_sizes_and_bounds(m, n, k, seed):
    r = np.random.default_rng(seed)
    check(mixed, r.standard_normal((m, n)), r.integers(-n, n, n), k)


def transposed(X):
    acc = 0.0
    for i in range(X.shape[1]):
        acc += X[:, :i].T.sum()
    return acc


def matrix_product(X):
    acc = 0.0
    for i in range(X.shape[0]):
        acc += (X[:i, :] @ X[:, :i]).sum()
    return acc


def whole_vector_times(X, v):
    acc = 0.0
    for i in range(X.shape[0]):
        acc += (v @ X[:i, :]).sum()
    return acc


def two_index_gather(x, idx):
    acc = 0.0
    for i in range(idx.shape[0]):
        acc += x[idx[:i], 0].sum()
    return acc


def other_axes_line_up(X, y):
    acc = 0.0
    for i in range(X.shape[0]):
        acc += (X[i:, :] * y[i:]).sum()  # (count, n) * (count,): the selected axes do not line up
    return acc


@pytest.mark.parametrize("fn, args, what", [
    (transposed, lambda r: (r.random((3, 200)),), ".T"),
    (matrix_product, lambda r: (r.random((200, 200)),), "a matrix product"),
    (whole_vector_times, lambda r: (r.random((200, 3)), r.random(200)), "an array of shape \\(200,\\)"),
    (two_index_gather, lambda r: (r.random((200, 2)), r.integers(0, 200, 200)), "indexing with it"),
    (other_axes_line_up, lambda r: (r.random((200, 200)), r.random(200)), "does not line up"),
], ids=["transposed", "matrix_product", "whole_vector", "two_index_gather", "axes_not_lined_up"])
def test_uses_that_need_the_length_are_the_slice_error(fn, args, what, rng):
    """Past the unrolling limits (a short loop is unrolled instead)."""
    with pytest.raises(looptrace.TraceError, match=f"length of this slice.*{what}"):
        looptrace.jit(fn, backend="interpret")(*args(rng))


def flipped_mask(x):
    return np.flip(x[x > 0]).sum()


def test_flip_of_a_boolean_mask_selection_is_unsupported(rng):
    with pytest.raises(looptrace.UnsupportedError, match="np.flip of a boolean-mask selection"):
        looptrace.jit(flipped_mask, backend="interpret")(rng.standard_normal(10))
