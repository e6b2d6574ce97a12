"""Wrong answers of persistent kernels found by a fuzz round (generated 2-D
programs with double buffering, `a, b = b, a`, under the simulator; right
on interpret and cpu).

A step's carried arrays were copied into their storage one after the
other (codegen/cuda/team_loops.py `next_step`). When one of two swapped
buffers is updated in place (`b[1:] = ...`: no fresh result, so both
carries have a single buffer), the step's results are each in the other
carry's storage: `a` was overwritten with the new `b`, then `b` copied
from the overwritten `a`, and both came out the same. The copies are now
ordered as a parallel assignment (a cycle goes through fresh storage)."""
import numpy as np

import looptrace as lt

from _cuda_support import assert_like_plain, cuda_backend


def partial_swap(X, Y):
    n, m = X.shape
    a = X[0].copy()
    b = np.zeros(m)
    for i in range(1, n):
        b[1:] = a[:-1] + Y[i, 1:]
        a, b = b, a
    return a, b


def both_in_place_swap(X, Y):
    n, m = X.shape
    a = X[0].copy()
    b = Y[0].copy()
    for i in range(1, n):
        b[1:] = a[:-1] * 0.5 + X[i, 1:]
        a[0] = b[m - 1] + Y[i, 0]
        a, b = b, a
    return a, b


def three_way_rotation(X):
    n, m = X.shape
    a = X[0].copy()
    b = np.zeros(m)
    c = np.ones(m)
    for i in range(1, n):
        c[::2] = a[::2] + X[i, ::2]
        a, b, c = b, c, a
    return a + 2.0 * b + 4.0 * c


def swap_then_read(X, oc):
    n, m = X.shape
    a = X[0].copy()
    b = np.zeros(m)
    for i in range(1, n):
        b[1:] = a[:-1] + X[i, 1:]
        a, b = b, a
        oc += a - b * 0.5
    return oc


def _same(f, *args):
    jitted = lt.jit(f, backend="cuda")
    assert_like_plain(f, args, jitted, rtol=1e-12)
    return jitted


def test_swapped_buffers_updated_in_place():
    cuda_backend()
    r = np.random.default_rng(23)
    for n, m in [(2, 3), (3, 5), (4, 4), (5, 3)]:
        X, Y = r.standard_normal((n, m)), r.standard_normal((n, m))
        _same(partial_swap, X, Y)
        _same(both_in_place_swap, X, Y)
        _same(three_way_rotation, X)
        jitted = _same(swap_then_read, X, r.standard_normal(m))
    assert "a persistent single-block kernel" in str(lt.jit(partial_swap, backend="cuda").explain(X, Y))
