"""A module whose data globals a test rebinds between calls."""
import numpy as np

SCALE = 2.0
TABLE = np.linspace(0.0, 1.0, 3)


def scaled(x):
    s = 0.0
    for i in range(3):
        s += SCALE * TABLE[i] * x[i]
    return s
