"""A refused position list names what the user wrote (brief D2, session 42):
numpy-benchmarks' grouping kernel `np.concatenate((np.where(diff)[0], [n]))`
is refused saying np.where(c)[0] of a traced condition has a run-time
length, not "x[mask]", and keeps the hint."""
import numpy as np
import pytest

import looptrace
from looptrace.errors import UnsupportedError


def grouping(values):
    diff = values[1:] != values[:-1]
    return np.concatenate((np.where(diff)[0], [len(values)]))


@pytest.mark.parametrize("fn, said", [
    (grouping, "np.where(c)[0] of a traced condition c"),
    (lambda x: np.concatenate((np.nonzero(x > 0)[0], [1])), "np.nonzero(c)[0] of a traced condition c"),
    (lambda x: np.concatenate((np.flatnonzero(x > 0), [1])), "np.flatnonzero(c) of a traced condition c"),
    (lambda x: np.concatenate((np.argwhere(x > 0), [[1]])), "np.argwhere(c) of a traced condition c"),
    (lambda x: np.concatenate((np.extract(x > 0, x), [1.0])), "np.extract(c, x) with a traced condition c"),
    (lambda x: np.concatenate((np.compress(x > 0, x), [1.0])), "np.compress(c, x) with a traced condition c"),
    (lambda x: np.concatenate((x[x > 0], [1.0])), "x[mask] with a traced boolean mask"),
])
def test_refusal_names_the_call(rng, fn, said):
    x = rng.standard_normal(8).round()
    with pytest.raises(UnsupportedError) as e:
        looptrace.jit(fn, backend="interpret")(x)
    text = str(e.value)
    assert text.startswith(said + " has a length known only at run time"), text
    assert "hint: use it in a reduction" in text


def test_positions_in_a_reduction_still_work(rng):
    def fn(x):
        return np.sum(np.where(x > 0)[0]) + np.nonzero(x < 0)[0].sum()

    x = rng.standard_normal(9)
    assert looptrace.jit(fn, backend="interpret")(x) == fn(x)
    assert looptrace.jit(fn, backend="cpu")(x) == fn(x)
