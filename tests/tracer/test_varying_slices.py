"""Slices whose length is known only at run time, `x[i, :j]`, where they
feed what does not need that length (masked.py `varying_slice`): reductions,
elementwise arithmetic, the dot product of two such slices over the same
positions, and writes through one. The triangular loops of linear algebra
written with NumPy slices (npbench's trisolv, syrk, trmm, cholesky, lu) are
then traced once. Anything else needing the length is the ConcreteIndexError
it always was: an int argument deciding the length is specialized on, and a
short loop whose index decides it is unrolled."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace

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


def flipped_prefixes(x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = (np.flip(x[:i]) * np.arange(i)).sum()  # np.flip and np.arange(i) need the length
    return out


def test_a_short_loop_needing_the_length_is_still_unrolled(rng):
    f = check(flipped_prefixes, rng.standard_normal(6))
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


def csr_times_vector(rows, cols, vals, x):
    """npbench's spmv: a gather through a slice of varying length needs that length."""
    y = np.empty(rows.shape[0] - 1)
    for i in range(rows.shape[0] - 1):
        y[i] = vals[rows[i]:rows[i + 1]] @ x[cols[rows[i]:rows[i + 1]]]
    return y


def test_indexing_with_a_varying_slice_is_the_slice_error(rng):
    rows = np.array([0, 2, 3, 5])
    cols, vals, x = np.array([0, 2, 1, 0, 1]), rng.random(5), rng.random(3)
    with pytest.raises(looptrace.TraceError, match="length of this slice.*indexing with it"):
        looptrace.jit(csr_times_vector, backend="interpret")(rows, cols, vals, x)
