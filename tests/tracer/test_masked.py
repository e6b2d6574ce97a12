"""Boolean masks (tracer/masked.py): x[mask] in reductions and arithmetic,
x[mask] = v as a select, constant masks as gathers; and the clear errors for
everything whose shape depends on the data (a bare x[mask], np.nonzero,
np.unique, ...). Values against NumPy on the interpret backend, gradients
against central finite differences, the batched form in a vectorized loop.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

from ._compare import check

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy: the mean of an empty selection
SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def reductions(x):
    pos = x[x > 0]
    return (pos.sum(), np.sum(x[x < -0.5]), x[x > 0].mean(), np.mean(pos), pos.var(), np.std(pos, ddof=1),
            x[x > 0].prod(), np.any(x[x > 1]), x[x > 0].all(), x[x > 0].max(initial=-np.inf),
            np.min(x[x < 0], initial=0.0))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5), seed=st.integers(0, 2**32 - 1))
def test_reductions_of_a_selection(shape, seed):
    check(reductions, np.random.default_rng(seed).standard_normal(shape))


def test_row_masks_and_axes(rng):
    x = rng.standard_normal((6, 3))

    def f(a):
        rows = a[a[:, 0] > 0]
        return rows.sum(axis=0), rows.mean(axis=0), rows.sum(), rows.sum(axis=1).sum(), a[a[:, 1] > 0, :].max(
            axis=0, initial=-10.0), np.sum(rows, axis=0, keepdims=True)

    check(f, x)


def test_arithmetic_on_selections(rng):
    x, y = rng.standard_normal(9), rng.standard_normal(9)

    def f(a, b):
        m = a > 0
        return ((a[m] * 2 + 1).sum(), (3 - a[m]).mean(), (a[m] * b[m]).sum(), np.exp(a[m]).sum(),
                (a[m] ** 2).sum(), (-a[m]).sum(), abs(b[m]).max(initial=0.0), (a[m] > 1).sum())

    check(f, x, y)


def escape_counts(c, maxiter):
    """numpy-benchmarks' mandelbrot: `Z[I] ** 2` of a complex selection."""
    n = np.zeros(c.shape, dtype=np.int64)
    z = np.zeros(c.shape, np.complex128)
    for k in range(maxiter):
        inside = np.less(np.abs(z), 4.0)
        n[inside] = k
        z[inside] = z[inside] ** 2 + c[inside]
    return z, n


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_selection_squared_is_np_square(rng, backend):
    """A selection is an array in NumPy, so `x[mask] ** 2` is np.square (a
    complex product, not a complex power), as for any array: overflow to inf
    and nan included, and no pow call in the kernel (NumPy's SIMD square may
    fuse a multiply-add: 1 ulp apart from the plain product)."""
    c = (rng.uniform(-2.5, 1.0, (6, 7)) + 1j * rng.uniform(-1.5, 1.5, (6, 7))) * rng.choice([1.0, 1e80], (6, 7))
    f = looptrace.jit(escape_counts, backend=backend)
    with np.errstate(all="ignore"):
        got, want = f(c, 6), escape_counts(c, 6)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10, equal_nan=True)
    np.testing.assert_array_equal(got[1], want[1])
    if backend == "cpu":
        assert "np.power" not in f.explain(c, 6).kernel_source
    x = rng.standard_normal(8)
    check(lambda a: (a[a > 0] ** 2, a[a < 0] ** 0.5, a[a > 0.1] ** -1, a[a > 0] ** 3)[0].sum(), x)
    check(lambda a: ((a[a > 0] ** 0.5).sum(), (a[a > 0.1] ** -1).sum(), (a[a > 0] ** 3).sum()), x)


def test_masked_writes(rng):
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))

    def f(a, b):
        c = a.copy()
        c[c < 0] = 0.0
        d = a.copy()
        d[b > 0] = b[b > 0] * 2  # the same mask, computed twice
        e = a.copy()
        e[a[:, 0] > 0] = b[0]  # rows, a value broadcast over the trailing axis
        a[a > 1] += 1.0  # into an argument: the caller sees it
        return c, d, e

    check(f, x, y)


def test_constant_masks_are_gathers(rng):
    keep = np.array([True, False, True, True, False])
    check(lambda a: (a[keep], a[keep].sum(), a[keep, :] * 2), rng.standard_normal((5, 3)))
    grid = rng.random((3, 4)) > 0.5
    check(lambda a: a[grid], rng.standard_normal((3, 4, 2)))


def test_masked_reduction_inside_a_vectorized_loop(rng):
    def per_row(x, t):
        out = np.zeros(x.shape[0])
        for i in range(x.shape[0]):
            out[i] = x[i][x[i] > t].sum() + np.mean(x[i][x[i] > t])
        return out

    x = rng.standard_normal((5, 8))
    check(per_row, x, 0.1)
    e = looptrace.explain(looptrace.jit(per_row, backend="interpret"), x, 0.1)
    assert [l.kind for l in e.loops] == ["vectorized"]


def test_gradient_through_masks(rng):
    def f(x):
        y = x.copy()
        y[y < -0.5] = 0.0
        return x[x > 0].sum() * 2 + np.mean(x[x > 0.2]) + (y * y).sum()

    x = rng.standard_normal(7)
    x = x + 0.05 * np.sign(x)  # away from the mask edges, where f is not differentiable
    got = looptrace.grad(looptrace.jit(f, backend="interpret"), backend="interpret")(x)
    assert_close(got, numerical_grad(f, [x], 0), 1e-5, "masked")


# --- clear errors --------------------------------------------------------------------------------------------
def bare(x):
    return x[x > 0]


def indexed(x):
    return x[x > 0][1:]  # (one element, [0], is test_masked_elements.py's)


def measured(x):
    return len(x[x > 0])


def other_mask(x, y):
    z = x.copy()
    z[x > 0] = y[y > 0]
    return z


def full_value(x, y):
    z = x.copy()
    z[x > 0] = y
    return z


def mixed(x, y):
    return (x[x > 0] + y).sum()


def test_a_returned_selection_is_picked_after_the_run(rng):
    """`return x[x > 0]` works: the run returns x and the mask, NumPy picks (trace.py `_picked`)."""
    x = rng.standard_normal(6)
    for backend in ("interpret", "cpu"):
        got = looptrace.jit(bare, backend=backend)(x)
        np.testing.assert_array_equal(got, bare(x))


@pytest.mark.parametrize("fn, match", [
    (indexed, "indexing"), (measured, "len"),
    (other_mask, "different masks"), (full_value, "number of selected"),
    (mixed, r"shape \(6,\)"),
], ids=lambda v: getattr(v, "__name__", ""))
def test_data_dependent_selections_are_clear_errors(fn, match, rng):
    import inspect

    args = [rng.standard_normal(6) for _ in inspect.signature(fn).parameters]
    with pytest.raises(looptrace.UnsupportedError, match=match) as info:
        looptrace.jit(fn, backend="interpret")(*args)
    assert info.value.loc.file == __file__
    assert "x[x > 0]" in str(info.value) or "z[x > 0]" in str(info.value)


@pytest.mark.parametrize("name, call", [
    ("np.unique_counts", lambda x: np.unique_counts(x)), ("np.bincount", lambda x: np.bincount((x > 0).astype(np.int64))),
])
def test_data_dependent_functions_say_why(name, call, rng):
    with pytest.raises(looptrace.UnsupportedError, match="depends on the data") as info:
        looptrace.jit(call, backend="interpret")(rng.standard_normal(5))
    assert name in str(info.value) and info.value.hint


POSITIONS = [lambda x: np.nonzero(x > 0), lambda x: (x > 0).nonzero(), lambda x: np.flatnonzero(x > 0),
             lambda x: np.argwhere(x > 0), lambda x: np.extract(x > 0, x), lambda x: np.compress(x[:, 0] > 0, x, 0),
             lambda x: np.where(x > 0), lambda x: x[np.nonzero(x > 0)] * 2.0,
             lambda x: (np.nonzero(x > 0)[1] * 3).sum(), lambda x: np.unique(np.round(x))]


@pytest.mark.parametrize("call", POSITIONS)
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_nonzero_and_kin_are_selections(call, backend, rng):
    """np.nonzero, flatnonzero, argwhere, extract, compress of traced arrays are
    selections: returned (picked after the run), reduced, gathered through, as
    NumPy computes them."""
    x = rng.standard_normal((4, 5))
    want, got = call(x), looptrace.jit(call, backend=backend)(x)
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(g, w)


UNIQUE_INPUTS = [np.array([2.0, np.nan, 1.0, 2.0, np.nan, -0.5]), np.array([[3, 1, 3], [0, 1, 7]]), np.array([5.5])]


@pytest.mark.parametrize("call", [
    lambda x: np.unique(x), lambda x: np.sum(np.unique(x) ** 2), lambda x: np.unique(x).max() - np.unique(x).min(),
    lambda x: np.unique(x, equal_nan=False), lambda x: np.mean(np.unique(x) * 3),
])
@pytest.mark.parametrize("x", UNIQUE_INPUTS, ids=["nan", "int2d", "one"])
def test_unique_values_are_a_selection(call, x):
    """np.unique(x) is the sorted values kept at the first of each run of
    equal ones (NaNs collapsed where equal_nan): returned, reduced and used
    in arithmetic as NumPy computes them."""
    check(call, x)


def test_unique_gradient_and_its_rows_refused(rng):
    check(lambda x: np.unique(x), np.array([True, False, True]))
    x = rng.standard_normal(6)
    g = looptrace.grad(lambda x: np.sum(np.unique(x) ** 3), backend="interpret")(x)
    assert_close(g, numerical_grad(lambda x: np.sum(np.unique(x) ** 3), [x], 0), 1e-5, "unique")
    with pytest.raises(looptrace.UnsupportedError, match="axis") as info:
        looptrace.jit(lambda x: np.unique(x, axis=0), backend="interpret")(x)
    assert info.value.loc.file == __file__ and info.value.hint


def unique_entropy(x):
    vals, counts = np.unique(x, return_counts=True)
    p = counts / counts.sum()
    return -(p * np.log(p)).sum(), (vals * counts).sum(), counts.max()


def unique_all_four(x):
    return np.unique(x, return_index=True, return_inverse=True, return_counts=True)


def unique_labels(x):
    u, inverse = np.unique(x, return_inverse=True)
    return inverse * 10 + 1, u.sum()


def unique_first_positions(x):
    u, first = np.unique(x, return_index=True)
    return first, (u * 2 + first).sum(), first.sum()


@pytest.mark.parametrize("call", [unique_entropy, unique_all_four, unique_labels, unique_first_positions])
@pytest.mark.parametrize("make", [
    lambda r: r.integers(0, 5, 40), lambda r: r.integers(-3, 30, (4, 6)), lambda r: np.array([7]),
    lambda r: np.where(r.random(30) > 0.7, np.nan, r.integers(0, 4, 30).astype(float)),
    lambda r: r.standard_normal(9).astype(np.float32),
], ids=["ints", "ints2d", "one", "nans", "f32"])
def test_unique_positions_inverse_and_counts(call, make, rng):
    """np.unique's extra outputs: first positions (a stable argsort's) and
    counts are selections of the values' positions, so they line up with the
    values in arithmetic; the inverse has x's shape. All as NumPy 2 gives
    them (dtypes, NaNs collapsed into one run)."""
    check(call, make(rng))


def test_the_count_of_nonzero_positions_is_still_needed_for_len(rng):
    def f(x):
        return len(np.nonzero(x > 0)[0])

    with pytest.raises(looptrace.UnsupportedError, match="len"):
        looptrace.jit(f, backend="interpret")(rng.standard_normal(5))


def test_data_dependent_functions_of_constants_still_work(rng):
    check(lambda x: x[np.nonzero(np.array([1, 0, 2]))[0]] + np.unique(np.array([3.0, 1.0, 3.0])).sum(),
          rng.standard_normal(3))


def test_a_mask_read_from_outside_is_baked_in_and_guarded(rng):
    """A mask (or repeat counts) the function reads from a closure decides a
    shape: the program bakes its contents in, and a call after the mask
    changed in place traces again instead of using the old contents."""
    keep = np.array([True, False, True, True, False])
    counts = np.array([1, 0, 2, 1, 3])

    def f(a):
        return a[keep] * 2, np.repeat(a, counts, axis=0)

    jitted = looptrace.jit(f, backend="interpret")
    x = rng.standard_normal((5, 3))
    for _ in range(2):
        got, want = jitted(x), f(x)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        keep[1], counts[1] = True, 4  # changed in place: the next call must see it
