"""Comprehensions with `if` clauses on traced values: `sum(x[i] for i in
range(n) if x[i] > 0)` is a conditional accumulation (a masked reduction)
and `[v for v in x if v > 0]` a list appended to under a condition, each a
loop traced once (runtime.comp_sum / comp_list). Before, the condition was
a traced value used as a Python bool: a TraceError for every such program."""
import numpy as np
import pytest

import looptrace


def positive_sum(x):
    return sum(x[i] for i in range(x.shape[0]) if x[i] > 0)


def doubled_in_band(x, lo):
    return sum([x[i] * 2 for i in range(x.shape[0]) if x[i] > lo if x[i] < 1.0])


def kept(x):
    return np.array([v for v in x if v > 0])


def counted(x):
    return len([v for v in x if abs(v) > 0.5])


def guarded_division(x):
    """The element is evaluated only where the condition holds: 1 / (i - 3)
    of Python ints raises ZeroDivisionError at i == 3, which the `if` skips."""
    return sum(x[i] / (i - 3) for i in range(x.shape[0]) if i != 3)


def python_condition(x):
    return sum(x[i] for i in range(x.shape[0]) if i % 2 == 0)


def with_start(x):
    return sum((v * v for v in x if v < 0), 10.0)


CASES = [positive_sum, kept, counted, guarded_division, python_condition, with_start]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", CASES, ids=[f.__name__ for f in CASES])
def test_filtered_comprehensions_match_plain(fn, backend, rng):
    f = looptrace.jit(fn, backend=backend)
    for x in (rng.standard_normal(12), rng.standard_normal(12), -np.abs(rng.standard_normal(12))):
        want, got = fn(x), f(x)
        assert type(got) is type(want)
        assert np.shape(got) == np.shape(want) and np.allclose(got, want, rtol=1e-12)


def test_two_conditions_and_an_argument(rng):
    f = looptrace.jit(doubled_in_band, backend="interpret")
    for lo in (-0.5, 0.2):
        x = rng.standard_normal(20)
        assert f(x, lo) == pytest.approx(doubled_in_band(x, lo), rel=1e-12)


@pytest.mark.parametrize("fn,kind", [(positive_sum, "reduction"), (with_start, "reduction")])
def test_a_filtered_sum_is_a_masked_reduction(fn, kind, rng):
    (loop,) = looptrace.explain(looptrace.jit(fn, backend="interpret"), rng.standard_normal(9)).loops
    assert loop.kind == kind


def kept_of_first_n(x, n):
    return np.array([x[i] * 2 for i in range(n) if x[i] > 0])


def test_a_filtered_list_over_range_of_an_int_argument_specializes_on_it(rng):
    """A list appended to under a condition needs a static trip count: range(n)
    of an int argument is specialized on n ("needs a static trip count" before)."""
    x = rng.standard_normal(8)
    f = looptrace.jit(kept_of_first_n, backend="interpret")
    for n in (6, 3):
        np.testing.assert_array_equal(f(x, n), kept_of_first_n(x, n))
    assert any("specialized on `n`" in note for note in f.explain(x, 6).notes)


def any_all(x, t):
    return any(x[i] > 1.5 for i in range(x.shape[0])), all(abs(v) < t for v in x if v > 0)


def short_circuit(x):
    return any(1.0 / float(v) > 0 for v in x)  # a later 0.0 is never divided by: Python stops at the first True


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_any_and_all_of_a_generator(backend, rng):
    """any()/all() of a generator over a range or an array: a loop traced once
    (it was unrolled while tracing, and a traced `if` clause a TraceError),
    computing items only while Python would."""
    f = looptrace.jit(any_all, backend=backend)
    for x in (rng.standard_normal(20), rng.standard_normal(20) * 0.1):
        assert f(x, 1.0) == any_all(x, 1.0) and type(f(x, 1.0)[0]) is bool
    x = np.array([1.0, 0.0, 2.0])
    assert looptrace.jit(short_circuit, backend=backend)(x) is short_circuit(x) is True
    with pytest.raises(ZeroDivisionError):
        looptrace.jit(short_circuit, backend=backend)(np.array([-1.0, 0.0]))


def _tuple_index_items(x, X):
    return sum(X[i, 1] for i in range(x.shape[0]) if x[i] > 0.0), np.array([X[i, 0] * 2 for i in range(3) if X[i, 1] > 0])


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_item_read_at_a_tuple_index(backend, rng):
    """`X[i, 1]` in the item or the condition: its index tuple made the
    comprehension run as Python, a traced `if` then a TraceError (probe P E2)."""
    x, X = rng.standard_normal(6), rng.standard_normal((6, 2))
    f = looptrace.jit(_tuple_index_items, backend=backend)
    want, got = _tuple_index_items(x, X), f(x, X)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    g = looptrace.grad(lambda x, X: f(x, X)[0], argnums=1, backend=backend)(x, X)
    np.testing.assert_array_equal(g, np.stack([np.zeros(6), (x > 0).astype(float)], axis=1))


def _unpacked_items(xs, ys):
    return (sum(a * b for a, b in zip(xs, xs[1:]) if a > 0),
            sum(i * (a - b) for i, (a, b) in enumerate(zip(xs, ys)) if a > b),
            any(a > b for a, b in zip(xs, xs[1:])),
            np.array([a * i for i, a in enumerate(ys) if i % 3]))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_tuple_target_over_zip_and_enumerate(backend, rng):
    """`for a, b in zip(...)` and `for i, (a, b) in enumerate(zip(...))` with
    a traced condition: the tuple target made the comprehension run as
    Python, its `if` then a TraceError."""
    f = looptrace.jit(_unpacked_items, backend=backend)
    for xs, ys in ((rng.standard_normal(40), rng.standard_normal(40)),
                   (np.sort(rng.standard_normal(40)), rng.standard_normal(40)), (rng.standard_normal(2), rng.standard_normal(2))):
        want, got = _unpacked_items(xs, ys), f(xs, ys)
        assert type(got[2]) is bool and got[2] == want[2]
        for w, g in zip(want[:2], got[:2]):
            assert type(g) is type(w) and g == pytest.approx(w, rel=1e-12)
        np.testing.assert_allclose(got[3], want[3], rtol=1e-12)
    assert [r.kind for r in f.explain(xs, ys).loops][:2] == ["reduction", "reduction"]
