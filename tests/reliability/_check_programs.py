"""Programs with data-dependent `raise` and `assert` (kept out of test
modules, whose asserts pytest rewrites)."""
import numpy as np


def in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0:
            raise ValueError("negative input")
        s += x[i]
    return s


def _double_small(v):
    if v > 5:
        raise KeyError("too big for the helper")
    return v * 2


def in_helper(x):
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        out[i] = _double_small(x[i])
    return out


def after_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    if s > 10:
        raise OverflowError("sum over 10")
    return s


def in_while(x):
    i = 0
    s = 0.0
    while s < 3:
        if i >= x.shape[0]:
            raise IndexError("ran out of input")
        s += x[i]
        i += 1
    return s


def asserts(x):
    s = 0.0
    for i in range(x.shape[0]):
        assert x[i] < 4, "element too large"
        s += 2 * x[i]
    return s


def two_checks(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        if x[i] > 3:
            raise ValueError("above 3")
        if x[i] < -3:
            raise ArithmeticError("below -3")
        out[i] = x[i] * 2
    return out


def raise_in_else(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        if x[i] >= 0:
            y = np.sqrt(x[i])
        else:
            raise ValueError("no square root of a negative")
        out[i] = y
    return out


def on_a_recurrence(x):
    h = 0.0
    for t in range(x.shape[0]):
        h = 0.9 * h + x[t]
        if h > 2.5:
            raise RuntimeError("state diverged")
    return h


PROGRAMS = [in_loop, in_helper, after_loop, in_while, asserts, two_checks, raise_in_else, on_a_recurrence]
