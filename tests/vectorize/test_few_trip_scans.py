"""A scan of few iterations keeps the per-iteration scalar work that feeds it
in its body (vectorize/loop_rewrite.py `_few_trip_feeders`): batched, each
value would be an array of a few elements, allocated and read back at every
step of a loop around the scan. The neighbours of a grid BFS (`for d in
range(4)` inside `while h < t`) are the case. Values, the IndexError of a
neighbour off the grid, and the fates of the loops are checked."""

import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk
from looptrace.pipeline import run_passes


def grid_bfs(m):
    g = m % 4 != 0
    R, C = g.shape
    dist = np.full((R, C), -1, dtype=np.int64)
    qr = np.empty(R * C, dtype=np.int64)
    qc = np.empty(R * C, dtype=np.int64)
    dist[0, 0] = 0
    qr[0] = 0
    qc[0] = 0
    h = 0
    t = 1
    dr = np.array([1, -1, 0, 0])
    dc = np.array([0, 0, 1, -1])
    while h < t:
        r = qr[h]
        c = qc[h]
        h += 1
        for d in range(4):
            nr = r + dr[d]
            nc = c + dc[d]
            if nr >= 0 and nr < R and nc >= 0 and nc < C and g[nr, nc] and dist[nr, nc] < 0:
                dist[nr, nc] = dist[r, c] + 1
                qr[t] = nr
                qc[t] = nc
                t += 1
    return dist


def unguarded_walk(g, steps):
    """Reads g at a neighbour with no bounds test: an IndexError off the grid."""
    r = 0
    total = 0
    while r < steps:
        for d in range(3):
            total += g[r + d, r]
        r += 1
    return total


def _batched_small_arrays(fn, *args) -> list:
    jf = looptrace.jit(fn, backend="interpret")
    program = run_passes(jf.trace(list(args)))
    return [op for op in walk(program.body) if len(op.outputs) == 1 and not op.blocks
            and op.out.shape in ((4,), (4, 1, 1)) and not op.out.is_const]


def test_bfs_neighbours_stay_scalar_in_their_scan(rng):
    m = rng.integers(0, 1000, (23, 19))
    m[0, 0] = 1
    for backend in ("interpret", "cpu"):
        np.testing.assert_array_equal(looptrace.jit(grid_bfs, backend=backend)(m.copy()), grid_bfs(m.copy()))
    assert _batched_small_arrays(grid_bfs, m) == []
    ex = looptrace.explain(looptrace.jit(grid_bfs, backend="cpu"), m.copy())
    assert "alloc((4, )" not in ex.kernel_source
    kinds = [line.split(":")[1].split("(")[0].strip() for line in str(ex).split("loops:")[1].strip().splitlines()]
    assert kinds == ["while", "scan"], kinds


def test_neighbour_off_the_grid_raises_as_plain(rng):
    g = rng.standard_normal((6, 6))
    for backend in ("interpret", "cpu"):
        jf = looptrace.jit(unguarded_walk, backend=backend)
        np.testing.assert_allclose(jf(g, 4), unguarded_walk(g, 4), rtol=1e-12)
        with pytest.raises(IndexError):
            unguarded_walk(g, 5)
        with pytest.raises(IndexError):
            jf(g, 5)
