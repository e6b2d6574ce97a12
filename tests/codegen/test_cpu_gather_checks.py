"""A gather whose index is not known to be in range keeps NumPy's checks: in
a nest large enough for threads, the indices are checked in a loop before
it (a raising check inside a prange would make Numba run it on one thread)
and the nest reads with the wrap alone (codegen/cpu/nest.py
`_validate_first`). Values, negative indices and the IndexError are
compared with the plain function."""

import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu.emitter import PARALLEL_MIN_WORK
from looptrace.codegen.cpu.nest import CHECKED_GATHER_DISCOUNT


def pick(x, idx):
    return np.sqrt(np.abs(x[idx])) * 2.0 + x[idx]


N = 2 * CHECKED_GATHER_DISCOUNT * PARALLEL_MIN_WORK  # the checks run first, serially: threads need more work


def test_large_gathers_are_checked_before_a_threaded_nest(rng):
    x = rng.standard_normal(N)
    idx = rng.integers(-N, N, N)  # negative ones count from the end
    f = looptrace.jit(pick, backend="cpu")
    np.testing.assert_allclose(f(x, idx), pick(x, idx), rtol=1e-12)
    src = f.explain(x, idx).kernel_source
    assert "numba.prange(" in src
    assert "check_elem" not in src[src.index("numba.prange("):], src  # checked before the threaded nests


def test_a_checked_gather_nest_just_above_the_threshold_stays_on_one_thread(rng):
    """Checking first costs a serial pass over the indices: a nest only a
    little above the threshold keeps its checks inside and one thread."""
    n = 2 * PARALLEL_MIN_WORK
    x = rng.standard_normal(n)
    idx = rng.integers(-n, n, n)
    f = looptrace.jit(pick, backend="cpu")
    np.testing.assert_allclose(f(x, idx), pick(x, idx), rtol=1e-12)
    src = f.explain(x, idx).kernel_source
    assert "numba.prange(" not in src and "check_elem" in src


@pytest.mark.parametrize("bad", [N, -N - 1])
def test_a_bad_index_still_raises(rng, bad):
    x = rng.standard_normal(N)
    idx = rng.integers(0, N, N)
    idx[N // 3] = bad
    with pytest.raises(IndexError):
        pick(x, idx)
    with pytest.raises(IndexError, match=f"index {bad} is out of bounds"):
        looptrace.jit(pick, backend="cpu")(x, idx)


def ranks_per_row(X):
    out = np.empty(X.shape)
    for i in range(X.shape[0]):
        p = np.argsort(X[i])
        inv = np.zeros(p.shape[0], np.int64)
        inv[p] = np.arange(p.shape[0])  # a scatter inverting the permutation, then read in a nest
        out[i] = inv * 2.0 + X[i]
    return out


def test_a_gather_of_a_value_computed_in_its_nest(rng):
    """The batched scatter's rows are read by a gather whose array is not a
    stored one (codegen/cpu/indexing.py `_gather_element` marked the last
    read, which was not there: IndexError in codegen)."""
    X = rng.standard_normal((5, 7))
    np.testing.assert_array_equal(looptrace.jit(ranks_per_row, backend="cpu")(X), ranks_per_row(X))


def _start_as_numpy(i, n, size):
    """The start NumPy's x[i:i+size] (size 1: x[i]) reads from, or None where it raises."""
    j = i + n if i < 0 and size == 1 else i
    return None if (j < 0 or j > n - size) else j


def test_the_check_helpers_at_every_edge():
    """check_start and check_elem (one unsigned comparison each) accept and
    normalize exactly the indices NumPy does, and raise with the index as given."""
    import numba

    from looptrace.codegen.cpu.templates import check_elem, check_start

    @numba.njit
    def start(i, n, size):
        return check_start(i, n, size, 7)

    @numba.njit
    def elem(i, n):
        return check_elem(i, n, 7)

    def outcome(f, *args):
        try:
            return f(*args)
        except IndexError as e:
            assert e.args == (7, int(args[0]), args[1])
            return None

    for n in (0, 1, 2, 5, 16):
        for i in [*range(-40, 40), -2**63, 2**63 - 1]:
            for size in (1, 2, 3, 6, 17):
                assert outcome(start, np.int64(i), n, size) == _start_as_numpy(i, n, size), (i, n, size)
            assert outcome(elem, np.int64(i), n) == _start_as_numpy(i, n, 1), (i, n)
