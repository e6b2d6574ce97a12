"""An early `return` before a large allocation (the corpus' flood_fill_stack:
`if grid[0, 0] == new: return 0` before `stack = np.empty((h*w*4 + 1, 2))`).
The call takes the early return; plain Python and numba.njit return at
once, and looptrace must not build the unread array in the returning branch
(ir/dce.py drops unread cond outputs, f574681). Medians of interleaved
calls, one process.

    python bench/early_return.py [--size 500] [--repeats 21]
"""
import argparse
import sys
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import looptrace  # noqa: E402
from bench._timing import compare  # noqa: E402


def early(grid, new):
    h, w = grid.shape
    if grid[0, 0] == new:
        return 0
    stack = np.empty((h * w * 4 + 1, 2), dtype=np.int64)
    stack[0, 0] = 1
    grid[0, 0] = new
    return stack[0, 0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=21)
    a = ap.parse_args()
    grid = np.ones((a.size, a.size), dtype=np.int64)
    grid[0, 0] = 5
    lt, nj = looptrace.jit(early, backend="cpu"), numba.njit(early)
    assert early(grid, 5) == lt(grid, 5) == nj(grid, 5) == 0
    med = compare({"plain": lambda: early(grid, 5), "looptrace": lambda: lt(grid, 5),
                   "numba": lambda: nj(grid, 5)}, repeats=a.repeats)
    for k, v in med.items():
        print(f"{k:10s} {v * 1e6:8.2f} us   plain/{k} {med['plain'] / v:6.3f}")


if __name__ == "__main__":
    main()
