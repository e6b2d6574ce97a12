"""What probe_s53 (bench/corpus/probe_s53.py) found beyond the corpus judge's
reach. The kernels themselves run through tests/test_corpus.py (interpret):
this file checks what `run.judge` does not look at.

- A copy of a written argument, returned: `x[0] = 5.0; return x.copy()`. The
  cpu kernel writes into x in place and gave x's own memory as the copy, so
  a later write by the caller into x changed the returned array. Checked on
  the first call (api.py `_unshared`) and on warm calls (the direct runner's
  lines, `_after_writing`), beside `return x` (the caller's array itself)
  and `return x[1:]` (a view of it), which must stay as they are.
"""
import numpy as np
import pytest


def copy_of_written(x):
    x[0] = 5.0
    return x.copy()


def copy_beside_views(x, y):
    for i in range(x.shape[0]):
        x[i] += y[i]
    return x.copy(), x, x[1:], y.copy()


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_returned_copy_of_a_written_argument_is_its_own_array(backend, tmp_path, monkeypatch):
    import looptrace

    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    one, four = looptrace.jit(copy_of_written, backend=backend), looptrace.jit(copy_beside_views, backend=backend)
    rng = np.random.default_rng(0)
    for _ in range(3):  # the first call, then the warm ones
        x = rng.standard_normal(7)
        expected = x.copy()
        expected[0] = 5.0
        got = one(x)
        x[:] = -1.0  # the caller reuses its array: the copy must not see it
        np.testing.assert_array_equal(got, expected)

        x, y = rng.standard_normal(7), rng.standard_normal(7)
        total = x + y
        c, same, tail, yc = four(x, y)
        assert same is x and np.shares_memory(tail, x) and tail.shape == (6,)
        assert not np.shares_memory(c, x) and not np.shares_memory(yc, y)
        x[:] = -1.0
        y[:] = -1.0
        np.testing.assert_array_equal(c, total)
        np.testing.assert_array_equal(tail, -np.ones(6))
