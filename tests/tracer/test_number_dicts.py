"""A dict display of constant keys whose items a loop updates (`stats =
{"loss": 0.0, "n": 0}`, then `stats["loss"] += l`, `stats["best"] = v`):
carried through the loop item by item (carries.NumberDict). Before, every
such program raised "escaped through a Python object" (probe L)."""
import numpy as np
import pytest

import looptrace


def running_stats(x):
    stats = {"loss": 0.0, "n": 0, "best": -np.inf}
    for i in range(x.shape[0]):
        stats["loss"] += x[i] ** 2
        stats["n"] += 1
        if x[i] > stats["best"]:
            stats["best"] = x[i]
    return stats["loss"] / stats["n"], stats["best"]


def returned_dict(x):
    stats = {"sum": 0.0, "max": -np.inf}
    for i in range(x.shape[0]):
        stats["sum"] = stats["sum"] + x[i]
        stats["max"] = max(stats["max"], x[i])
    return stats


def vector_items(X):
    acc = {"total": np.zeros(X.shape[1]), "count": 0}
    for i in range(X.shape[0]):
        acc["total"] += X[i]
        acc["count"] += 1
    return acc["total"] / acc["count"]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [running_stats, returned_dict, vector_items], ids=lambda f: f.__name__)
def test_dict_items_updated_in_a_loop(fn, backend, rng):
    x = rng.standard_normal((6, 3)) if fn is vector_items else rng.standard_normal(9)
    got, want = looptrace.jit(fn, backend=backend)(x), fn(x)
    if isinstance(want, dict):
        assert list(got) == list(want) and all(got[k] == pytest.approx(want[k], rel=1e-12) for k in want)
    else:
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-12)


def test_the_gradient_through_dict_items(rng):
    x = rng.standard_normal(7)
    g = looptrace.grad(looptrace.jit(lambda x: running_stats(x)[0], backend="interpret"))(x)
    np.testing.assert_allclose(g, 2 * x / x.shape[0], rtol=1e-12)


def split_sums(x):
    sums = [0.0, 0.0]
    counts = {"pos": 0, "neg": 0}
    for i in range(x.shape[0]):
        if x[i] > 0:
            sums[0] += x[i]
            counts["pos"] += 1
        else:
            sums[1] += x[i]
            counts["neg"] += 1
    return sums, counts


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_items_changed_in_the_branches_of_a_traced_if(backend, rng):
    """Each branch changes its own copy (the branches are traced one after the
    other: an in-place change by the first was seen by the second, and every
    element was added to both sums, a wrong answer since s35)."""
    x = rng.standard_normal(9)
    got, want = looptrace.jit(split_sums, backend=backend)(x), split_sums(x)
    assert got[0] == pytest.approx(want[0], rel=1e-12) and got[1] == want[1]
