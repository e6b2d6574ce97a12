"""NumPy arrays from the enclosing scope (module globals, closures) indexed
with a loop index: they become constants of the traced program."""

import numpy as np

from ._loopcheck import check

WEIGHTS = np.linspace(0.5, 1.5, 5)


def weighted(x):
    s = 0.0
    for i in range(WEIGHTS.shape[0]):
        s += WEIGHTS[i] * x[i] + WEIGHTS[i:i + 1].sum() + WEIGHTS[..., i]
    return s


def test_global_array_indexed_by_the_loop_index(rng):
    check(weighted, rng.standard_normal(5))


def test_closure_array_indexed_by_a_traced_position(rng):
    table = rng.standard_normal((4, 3))

    def pick(x, k):
        out = np.zeros(3)
        for i in range(3):
            out[i] = table[k, i] * x[i]
        return out

    check(pick, rng.standard_normal(3), 2)
