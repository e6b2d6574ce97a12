"""A name bound on some paths only before a loop that updates it: `if c: v
= x[0] else: return 0.0` (or `continue`), then `for t in ...: v = v * 0.5`.
Its value and its flag are loop carries from the start (carries.BoundSpec),
and a read where it is unbound raises Python's UnboundLocalError. Before
(session-35 probe I: a UTF-8 decoder), the loop saw the name as unassigned:
a false TraceError, or a raw TypeError for `<<` of an `Undefined`."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt

from .test_result_types_loops import check


def guard_return(x):
    if x[0] > 0:
        v = x[0]
    else:
        return 0.0
    for t in range(3):
        v = v * 0.5
    return v


def guard_continue(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            v = x[i]
        else:
            continue
        for t in range(2):
            v = v * 0.5 + t
        s += v
    return s


def utf8_like(buf):
    s = 0
    for i in range(buf.shape[0]):
        c = int(buf[i])
        if c < 128:
            cp = c
        else:
            continue
        for t in range(2):
            cp = (cp << 1) | 1
        s += cp
    return s


def elif_chain(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < -1.0:
            continue
        elif x[i] < 0.0:
            v = -x[i]
        else:
            v = x[i] * 2.0
        k = 0
        while k < 2:
            v = v + 1.0
            k += 1
        s += v
    return s


def maybe_unbound(x):
    if x[0] > 0:
        v = x[0]
    for t in range(x.shape[0] - 1):
        v = v + x[t + 1]
    return v


CASES = [
    (guard_return, lambda r: (r.standard_normal(3),)),
    (guard_continue, lambda r: (r.standard_normal(6),)),
    (utf8_like, lambda r: (r.integers(0, 256, 7).astype(np.uint8),)),
    (elif_chain, lambda r: (r.standard_normal(6),)),
]


@pytest.mark.parametrize("fn,make", CASES, ids=[c[0].__name__ for c in CASES])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_bound_on_the_paths_that_reach_the_loop(fn, make, seed):
    check(fn, make(np.random.default_rng(seed)))


@pytest.mark.parametrize("fn,make", CASES[1:3], ids=[c[0].__name__ for c in CASES[1:3]])
def test_on_cpu(fn, make):
    for seed in range(3):
        check(fn, make(np.random.default_rng(seed)), backend="cpu")


def test_unbound_where_the_loop_reads_it_raises_as_python_does():
    f = lt.jit(maybe_unbound, backend="interpret")
    x = np.array([0.5, 1.0, 2.0])
    assert f(x) == maybe_unbound(x)
    x = np.array([-0.5, 1.0, 2.0])
    with pytest.raises(UnboundLocalError):
        maybe_unbound(x)
    with pytest.raises(UnboundLocalError):
        f(x)
