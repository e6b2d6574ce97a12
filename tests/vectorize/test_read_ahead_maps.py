"""A loop that writes x[i] and reads elements of x no earlier iteration
writes (`x[i] = x[i + 1] - x[i]`, a descending shift `x[i] = x[i - 1]`,
another column `A[i, j] += A[i, j - 1]` in the loop over i) reads only
initial values: a map, not a recurrence (vectorize/analysis.py
`_not_yet_written`). They were scans reported as "a recurrence with taps"
(a probe of loop nests, session 33). Generated offsets, steps and directions
against the plain function, including the ones that are true recurrences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt


def read_ahead(x):
    for i in range(x.shape[0] - 1):
        x[i] = x[i + 1] - x[i]
    return x


def descending_shift(x):
    for i in range(x.shape[0] - 1, 0, -1):
        x[i] = x[i - 1]
    return x


def column_sums(A):
    for j in range(1, A.shape[1]):
        for i in range(A.shape[0]):
            A[i, j] += A[i, j - 1]
    return A


def other_row(A):
    for j in range(A.shape[1]):
        A[0, j] = A[1, j] * 2.0 + A[0, j]
    return A


CASES = [(read_ahead, lambda r: (r.standard_normal(9),), ["vectorized"]),
         (descending_shift, lambda r: (r.standard_normal(9),), ["vectorized"]),
         (column_sums, lambda r: (r.standard_normal((5, 6)),), ["scan", "vectorized"]),
         (other_row, lambda r: (r.standard_normal((3, 6)),), ["vectorized"])]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn, make, kinds", CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_reads_of_elements_not_yet_written(fn, make, kinds, backend, rng):
    args = make(rng)
    mine = [a.copy() for a in args]
    want, got = fn(*args), lt.jit(fn, backend=backend)(*mine)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(mine[0], args[0], rtol=1e-12)
    assert [r.kind for r in lt.explain(lt.jit(fn, backend="interpret"), *make(rng)).loops] == kinds


def _program(start, stop, step, w, d):
    """x[i + w] = x[i + w + d] * 0.5 + x[i + w] over range(start, stop, step)."""
    src = (f"def prog(x):\n"
           f"    for i in range({start}, {stop}, {step}):\n"
           f"        x[i + {w}] = x[i + {w} + {d}] * 0.5 + x[i + {w}]\n"
           f"    return x\n")
    return src


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 4), st.integers(5, 12), st.sampled_from([1, 2, 3, -1, -2]), st.integers(-2, 2),
       st.integers(-4, 4), st.integers(0, 2**31))
def test_generated_offsets(tmp_path_factory, start, stop, step, w, d, seed):
    if step < 0:
        start, stop = stop - 1, start - 1
    n = 16
    lo, hi = min(start, stop) + w, max(start, stop) + w
    if lo + min(d, 0) < -n or hi + max(d, 0) >= n:
        return
    path = tmp_path_factory.mktemp("gen") / f"prog_{start}_{stop}_{step}_{w}_{d}.py".replace("-", "m")
    path.write_text(_program(start, stop, step, w, d))
    ns: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    prog = ns["prog"]
    x = np.random.default_rng(seed).standard_normal(n)
    want = prog(x.copy())
    got = lt.jit(prog, backend="interpret")(x.copy())
    np.testing.assert_array_equal(got, want)


def histogram(idx, x):
    h = np.zeros(10)
    for k in range(idx.shape[0]):
        h[idx[k]] += x[k]
    return h


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.uint8, np.uint32, np.int64])
def test_a_scatter_add_with_narrow_index_arrays(dtype, rng):
    """The read and the write converted the int32 index in two ops: the
    scatter-add was not recognised (a scan); with int64 it was."""
    idx, x = rng.integers(0, 10, 40).astype(dtype), rng.standard_normal(40)
    np.testing.assert_array_equal(lt.jit(histogram, backend="interpret")(idx, x), histogram(idx, x))
    assert [r.kind for r in lt.explain(lt.jit(histogram, backend="interpret"), idx, x).loops] == ["reduction"]
