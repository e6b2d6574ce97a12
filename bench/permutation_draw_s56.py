"""looptrace's permutation draw (codegen/cpu/templates.permutation_draw: NumPy's
shuffle of arange(n) written as its loop) against Numba's own Generator.permutation
that it replaced in session 56 (whose general shuffle of any rank was 11 of the 16.8 s
cold compile of the random sample). Both in one process, alternating rounds, medians;
the two must draw the same permutation and leave the generator in the same state.

    python bench/permutation_draw_s56.py [--rounds 21]
"""
import argparse
import time

import numba
import numpy as np

from looptrace.codegen.cpu.templates import permutation_draw


@numba.njit
def numba_permutation(g, n):
    return g.permutation(n).astype(np.int64)


@numba.njit
def looptrace_permutation(g, n):
    return permutation_draw(g, n)


def same_draws(n: int) -> bool:
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    a, b = numba_permutation(g1, n), looptrace_permutation(g2, n)
    return bool(np.array_equal(a, b)) and g1.bit_generator.state == g2.bit_generator.state


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=21)
    rounds = ap.parse_args().rounds
    for n in (100, 10**6):
        assert same_draws(n), n
        g = np.random.default_rng(0)
        reps = 2000 if n == 100 else 5
        times = {numba_permutation: [], looptrace_permutation: []}
        for _ in range(rounds):
            for f, out in times.items():
                t = time.perf_counter()
                for _ in range(reps):
                    f(g, n)
                out.append((time.perf_counter() - t) / reps)
        old, new = (np.median(v) for v in times.values())
        print(f"n={n:>8}: numba permutation {old * 1e6:10.1f} us   looptrace {new * 1e6:10.1f} us   "
              f"looptrace/numba {new / old:.2f}")


if __name__ == "__main__":
    main()
