"""dce drops the outputs of a cond that nothing reads, and what its branches
computed only for them: an early `return 0` before `stack = np.empty(big)`
made a zeroed `stack` in the returning branch on every call (the corpus'
flood_fill_stack: 0.94 ms a call where plain takes 10 us)."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.ir.core import walk


def early(grid, new):
    h, w = grid.shape
    if grid[0, 0] == new:
        return 0
    stack = np.empty((h * w * 4 + 1, 2), dtype=np.int64)
    stack[0, 0] = 1
    grid[0, 0] = new
    return stack[0, 0] + h


def two_arms(x, c):
    if c > 0:
        a = x * 2
        b = np.sin(x)  # read only after the second if: dead when it is
    else:
        a = x - 1
        b = np.cos(x)
    if c > 5:
        return a.sum()
    return a.sum() + b.sum() * 0 + a[0]


@pytest.mark.parametrize("hit", [True, False])
def test_early_return_matches_plain_and_keeps_no_dead_array(hit, rng):
    grid = rng.integers(0, 3, (6, 5))
    new = int(grid[0, 0]) if hit else 7
    g1, g2 = grid.copy(), grid.copy()
    jf = lt.jit(early, backend="interpret")
    assert jf(g1, new) == early(g2, new)
    np.testing.assert_array_equal(g1, g2)
    program = jf.explain(grid.copy(), new).program
    big = [v for op in walk(program.body) if op.prim.name == "cond" for v in op.outputs if v.ndim == 2
           and v.shape[0] == 6 * 5 * 4 + 1]
    assert not big, "the early return's cond still yields the unread stack"


@pytest.mark.parametrize("c", [-1.0, 1.0, 6.0])
def test_branch_values_read_on_some_paths(c, rng):
    x = rng.standard_normal(4)
    np.testing.assert_allclose(lt.jit(two_arms, backend="interpret")(x, c), two_arms(x, c))
