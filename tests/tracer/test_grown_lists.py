"""Items of a list grown in a traced loop (`parts.append(...)`), read by a
constant index as Python reads them: the loop's elements are stacked
(values.py `Segment`), and `parts[-1]` returned that stack object itself.
Checked on the interpreter and cpu against the plain function."""

import numpy as np
import pytest

import looptrace
from looptrace import UnsupportedError


def items(x):
    parts = [x + 1.0]
    for i in range(4):
        parts.append(x * i)
    parts.append(x - 1.0)
    return parts[0], parts[1], parts[3], parts[-1], parts[-2], parts[-6]


def last_row_sum(X):
    rows = []
    for i in range(X.shape[0]):
        rows.append(X[i] * 2.0)
    return rows[-1].sum() + rows[0][1]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_grown_list_s_items_are_its_elements(rng, backend):
    x = rng.standard_normal(5)
    for g, w in zip(looptrace.jit(items, backend=backend)(x), items(x)):
        assert isinstance(g, np.ndarray) and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12)
    X = rng.standard_normal((6, 3))
    np.testing.assert_allclose(looptrace.jit(last_row_sum, backend=backend)(X), last_row_sum(X), rtol=1e-12)


def out_of_range(x):
    parts = []
    for i in range(3):
        parts.append(x * i)
    return parts[3]


def traced_index(x, k):
    parts = []
    for i in range(3):
        parts.append(x * i)
    return parts[k]


def test_a_grown_list_read_out_of_range_or_at_a_traced_index_fails_clearly(rng):
    x = rng.standard_normal(4)
    with pytest.raises(IndexError, match="list index out of range"):
        looptrace.jit(out_of_range, backend="interpret")(x)
    with pytest.raises(UnsupportedError, match="np.array"):
        looptrace.jit(traced_index, backend="interpret")(x, np.int64(1))


def iterated(x):
    parts = []
    for i in range(3):
        parts.append(x * (i + 1))
    s = x * 0.0
    for p in parts:  # one segment: a traced loop over its rows
        s = s + p
    t = x * 0.0
    for k, p in enumerate(parts):
        t = t + k * p
    return s, t, sum(parts), np.stack(parts[1:]), len(parts)


def scalars(x):
    vals = [x[0]]
    for i in range(1, 4):
        vals.append(x[i] * 2.0)
    return max(vals), min(vals), vals[1:3][0], len(vals[::2])


def reversed_then_read(x):
    parts = []
    for i in range(3):
        parts.append(x * i)
    parts.reverse()  # the list's own order changes: parts[0] is the last appended
    last = parts.pop()
    return parts[0], last, len(parts)


@pytest.mark.parametrize("fn", [iterated, scalars, reversed_then_read])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_grown_list_works_as_a_python_list(fn, backend, rng):
    """Iteration, slices, sum/max/min/sorted/enumerate and list methods see
    the list's elements (grown.py); `parts.reverse()` left the stack first
    (a wrong answer) and the others raised TypeErrors."""
    x = rng.uniform(0.5, 2.0, 4)
    for g, w in zip(looptrace.jit(fn, backend=backend)(x), fn(x)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12)


def long_list_summed(x):
    parts = []
    for i in range(1000):
        parts.append(x * i)
    return sum(parts)


def test_a_long_grown_list_used_as_a_python_list_fails_clearly(rng):
    with pytest.raises(UnsupportedError, match="np.array"):
        looptrace.jit(long_list_summed, backend="interpret")(rng.standard_normal(3))


def replaced_item(x):
    parts = []
    for i in range(3):
        parts.append(x * i)
    parts[0] = x + 100.0  # one item: the others stay
    parts[-1] = parts[-1] * 2.0
    return np.stack(parts)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_item_assigned_into_a_grown_list_replaces_that_item_only(backend, rng):
    """`parts[0] = v` replaced the loop's whole stack by v (one row came back
    where NumPy gives three)."""
    x = rng.standard_normal(4)
    got = looptrace.jit(replaced_item, backend=backend)(x)
    np.testing.assert_allclose(got, replaced_item(x), rtol=1e-12)


# --- Python numbers appended come back as Python numbers (probe K #3) -----------------------------------------
def doubled_ints(a):
    out = []
    for i in range(a.shape[0]):
        out.append(int(a[i]) * 2)
    return out


def shifted_floats(x):
    out = []
    for i in range(x.shape[0]):
        out.append(float(x[i]) + 1)
    return out


def scaled_elements(x):
    out = []
    for i in range(x.shape[0]):
        out.append(x[i] * 2.5)
    return out


def read_back(a):
    out = []
    for i in range(a.shape[0]):
        out.append(int(a[i]) * 2)
    s = 0
    for v in out:
        s += v
    return s, sum(out), max(out), out[1]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [doubled_ints, shifted_floats, scaled_elements, read_back])
def test_appended_python_numbers_keep_their_type(rng, backend, fn):
    """int(a[i]) * 2 appended is a Python int in the plain list (np.int64
    before), float(x[i]) + 1 a Python float; a NumPy scalar stays one. A loop
    over the list reads Python numbers too (`s += v` then stays a Python int)."""
    x = rng.integers(1, 50, 6) if fn in (doubled_ints, read_back) else rng.standard_normal(6)
    want = fn(x)
    got = looptrace.jit(fn, backend=backend)(x)
    assert [type(v) for v in got] == [type(v) for v in want]
    assert list(got) == list(want)


def summed_first(x, n):
    out = []
    for i in range(n):
        out.append(x[i] * 2)
    return sum(out), max(out)


def test_a_grown_list_of_an_int_argument_s_length_is_specialized(rng):
    """sum() of a list appended n times, n an int argument: one version per n
    (probe K #7: an UnsupportedError naming the run-time length before)."""
    x = rng.standard_normal(8)
    f = looptrace.jit(summed_first, backend="interpret")
    for n in (5, 6, 5):
        assert f(x, n) == pytest.approx(summed_first(x, n), rel=1e-12)
    assert any("specialized on `n`" in note for note in f.explain(x, 5).notes)


# --- NumPy functions over a list a loop appended to (probe L) -----------------------------------------------------
def column_sums(X):
    rows = []
    for i in range(X.shape[0]):
        rows.append(X[i] * 2.0)
    return np.sum(rows, axis=0), np.mean(rows, axis=0), np.concatenate(rows)


def loss_stats(X):
    losses = []
    for i in range(X.shape[0]):
        losses.append(X[i].sum())
    return np.mean(losses), np.std(losses), np.max(losses), np.median(losses), np.sum(losses)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [column_sums, loss_stats])
def test_numpy_functions_read_a_grown_list_as_its_array(fn, backend, rng):
    """np.sum(rows, axis=0) returned the internal segment object (interpret),
    np.mean(losses) raised a raw ValueError, np.std an AttributeError, the cpu
    an InternalError."""
    X = rng.standard_normal((5, 3))
    got, want = looptrace.jit(fn, backend=backend)(X), fn(X)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    assert looptrace.eval_shape(looptrace.jit(fn), X)[0].shape == np.shape(want[0])


def test_the_gradient_through_np_mean_of_a_grown_list(rng):
    X = rng.standard_normal((4, 3))

    def loss(X):
        s, m, _ = column_sums(X)
        return s.sum() + loss_stats(X)[0] * 3.0

    g = looptrace.grad(looptrace.jit(loss, backend="interpret"))(X)
    fd = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        d = np.zeros_like(X)
        d[idx] = 1e-6
        fd[idx] = (loss(X + d) - loss(X - d)) / 2e-6
    np.testing.assert_allclose(g, fd, rtol=1e-6)


# --- tuples appended in a loop (probe M) ---------------------------------------------------------------------------
def floor_pairs(a):
    out = []
    for i in range(a.shape[0]):
        out.append((a[i] // -3, a[i] % -3))
    return out


def float_pairs(x):
    out = []
    for i in range(x.shape[0]):
        out.append((x[i], x[i] * 2))
    s = 0.0
    for u, v in out:
        s += u * v
    return s, out[1][0] + out[2][1], list(zip(*out))[1], len(out)


def indexed_values(x):
    out = []
    for i in range(x.shape[0]):
        out.append((i, x[i]))
    return np.array(out)


def indexed_values_back(x):
    out = []
    for i in range(x.shape[0]):
        out.append((i, x[i]))
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_appended_tuples_read_back_as_tuples(rng, backend):
    """A list of tuples came back a list of arrays; zip(*lst) unpacked the
    internal segment ('changed in place' error)."""
    a = rng.integers(-20, 20, 5)
    got, want = looptrace.jit(floor_pairs, backend=backend)(a), floor_pairs(a)
    assert got == want and all(type(g) is tuple and type(g[0]) is type(w[0]) for g, w in zip(got, want))
    x = rng.standard_normal(4)
    got, want = looptrace.jit(float_pairs, backend=backend)(x), float_pairs(x)
    assert got[:2] == pytest.approx(want[:2], rel=1e-12) and got[3] == want[3]
    assert type(got[2]) is tuple and got[2] == pytest.approx(want[2], rel=1e-12)


def test_tuples_of_two_types_stack_as_numpy_does_and_are_not_read_back(rng):
    """(i, x[i]) stacked in one float array: np.array of the list is NumPy's
    own; reading the ints back would give floats, so that is refused."""
    x = rng.standard_normal(4)
    np.testing.assert_array_equal(looptrace.jit(indexed_values, backend="interpret")(x), indexed_values(x))
    with pytest.raises(looptrace.UnsupportedError, match="different types"):
        looptrace.jit(indexed_values_back, backend="interpret")(x)


def indexed_items(x):
    L, P = [], []
    for i in range(x.shape[0]):
        L.append(i)
        P.append((x[i], x[i] * 2))
    return L[-1], L[0], P[1]


def test_items_read_at_a_constant_index_keep_their_type(rng):
    """L.append(i), then L[-1]: a Python int (np.int64 before: probe N W9); a tuple appended reads back a tuple."""
    x = rng.standard_normal(4)
    got, want = looptrace.jit(indexed_items, backend="interpret")(x), indexed_items(x)
    assert got == want and [type(v) for v in got] == [type(v) for v in want]


def conditional_mean(x):
    L = []
    for i in range(x.shape[0]):
        if x[i] > 0:
            L.append(i)  # (ints: NumPy's empty array is float64; of floats it works, test_probe_findings_s53)
    return np.mean(L)


def conditional_join(x):
    L = []
    for i in range(x.shape[0]):
        if i % 2 == 0:
            L.append(np.array([x[i], -x[i]]))
    return np.concatenate(L, axis=0)


@pytest.mark.parametrize("fn", [conditional_mean, conditional_join])
def test_numpy_functions_of_a_list_of_run_time_length_are_refused_clearly(fn, rng):
    """A raw TypeError about an internal 'Dim' before (probe N C2)."""
    with pytest.raises(looptrace.UnsupportedError, match="under a condition"):
        looptrace.jit(fn, backend="interpret")(rng.standard_normal(6))
