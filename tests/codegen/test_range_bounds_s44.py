"""Loops over ranges whose bounds are traced values near the ends of int64
on the CPU backend: Numba's range counts trips as (b - a + s - 1) // s, which
overflowed (range(-2**63, 2**63 - 1, 2**62) ran no iteration where Python
runs 4); regions.py now counts them with templates.trip_count / range_span
in unsigned differences. Against the plain function (probe E, session 44)."""
import itertools

import numpy as np

import looptrace as lt

BIG = 2**63


def stepped(x, a, b, st):
    c = 0
    s = 0
    for i in range(a, b, st):
        c += 1
        s = s ^ i
        x[c % 3] += 1.0
    return c, s


def unit(x, a, b):
    c = 0
    for i in range(a, b):
        c += 1
        x[c % 3] += i % 7
    return c


def test_trip_counts_near_the_ends_of_int64():
    f = lt.jit(stepped, backend="cpu")
    g = lt.jit(unit, backend="cpu")
    ends = [-BIG, -BIG + 1, -7, -1, 0, 1, 7, BIG - 2, BIG - 1]
    steps = [-BIG, -2**62, -2**61, -3, 3, 2**61, 2**62, BIG - 1]
    checked = 0
    for a, b, st in itertools.product(ends, ends, steps):
        if len(range(a, b, st)) > 100:
            continue
        x, y = np.zeros(3), np.zeros(3)
        assert f(y, a, b, st) == stepped(x, a, b, st), (a, b, st)
        np.testing.assert_array_equal(y, x)
        checked += 1
    assert checked > 300
    for a, b in [(5, -BIG + 2), (BIG - 1, -BIG), (-3, 4), (4, -3), (BIG - 5, BIG - 1), (-BIG, -BIG + 3)]:
        x, y = np.zeros(3), np.zeros(3)
        assert g(y, a, b) == unit(x, a, b), (a, b)
        np.testing.assert_array_equal(y, x)
