"""A read or write nothing uses that an earlier pass kept because it may raise
(the plain function raises there) stays through the generic rewrites
(ir/rewrite.py `rewrite_each_op`, which drops what its own replacements made
dead but keeps what was already unread: ir/dce.py `dead_raising`). Found by
the session-34 nest probe: an inner loop's `s += x[i + 1]` whose sums fed a
local array nothing returned, and `cnt[j + 2] = cnt[j]` beside an argument
write, returned a value where the plain function raises IndexError."""

from __future__ import annotations

import numpy as np
import pytest

import looptrace
from tests.tracer._loopcheck import check

BACKENDS = ["interpret", "cpu"]


def unread_sums(x, last):
    n = x.shape[0]
    out = np.zeros(n)
    p = 1.0
    for i in range(last):
        for j in range(n):
            s = 0.0
            for k in range(n - 1):
                s += x[i + 1]
                p *= 1.0 + 0.1 * x[k]
            out[j] = s
    return p


def unread_shift(x, last):
    n = x.shape[0]
    cnt = np.zeros(n, dtype=np.int64)
    for i in range(last):
        for j in range(0, n, 2):
            cnt[j + 2] = cnt[j]
            x[0] = j
    return x


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", [unread_sums, unread_shift])
def test_an_unread_access_out_of_range_still_raises(fn, backend):
    x = np.random.default_rng(5).random(5) + 0.5
    with pytest.raises(IndexError):
        fn(x.copy(), 5)
    f = looptrace.jit(fn, backend=backend, static_argnames=("last",))
    with pytest.raises(IndexError, match="out of bounds"):
        f(x.copy(), 5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_in_range_the_values_are_the_plain_ones(backend):
    x = np.random.default_rng(6).random(6) + 0.5
    check(unread_sums, x, 4, jitted=looptrace.jit(unread_sums, backend=backend, static_argnames=("last",)))


def through_a_second_loop(x, k):
    n = x.shape[0]
    out = np.zeros(n)
    for i in range(n):
        out[i - 2] += 1.0
    for i in range(1, n):
        if x[0] > 3.0:
            k[0] += 1
        out[i - 1] += 1.0


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_dead_array_passed_through_a_live_loop_keeps_its_checks(backend):
    """The second loop is live (it writes the argument k) and takes `out` as a
    carry it never reads: the first loop counted as live through it, so its
    writes got no checks, then went as dead code (probe Q: a lost IndexError)."""
    f = looptrace.jit(through_a_second_loop, backend=backend)
    with pytest.raises(IndexError, match="index -2 is out of bounds"):
        through_a_second_loop(np.array([0.5]), np.array([1]))
    with pytest.raises(IndexError, match="index -2 is out of bounds"):
        f(np.array([0.5]), np.array([1]))
    k = np.array([1])
    f(np.array([4.0, 5.0, 6.0]), k)
    assert k[0] == 3
