"""The cpu rule of `fsum` (ops/fsum.py): math.fsum of each row, CPython's
own loop compiled by Numba.

`fsum_row` is mathmodule.c's math_fsum step for step: each term is added
into a list of non-overlapping partials by exact two-sums (Shewchuk), a
non-finite term resets the partials and is summed apart (an infinity in
`inf_sum`, any in `special_sum`), a non-finite partial from finite terms is
the intermediate overflow; at the end the partials are added from the top
until the sum is inexact, and the half-even fix-up across partials applied.
The partials live in a scratch array that doubles when full (CPython grows
its list the same way), so no bound on their number is assumed. The answer
is Python's bit for bit, whatever the order of the terms.

Invariant: `fsum_row` is `@njit(cache=True)` with no global state, like the
helpers of templates.py that re-exports it (generated kernels import it).
"""
from __future__ import annotations

import numba
import numpy as np

from looptrace.codegen.target import StatementRule

from .target import TARGET

PARTIALS = 32  # CPython's first allocation (NUM_PARTIALS)


@numba.njit(cache=True, nogil=True)
def _add_term(x, p, n):
    """Add x into the partials p[:n]; (x's partials' count, the top x). The
    partials stay non-overlapping and in increasing magnitude."""
    i = 0
    for j in range(n):
        y = p[j]
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            p[i] = lo
            i += 1
        x = hi
    return i, x


@numba.njit(cache=True, nogil=True)
def _rounded(p, n):
    """The partials p[:n] summed from the top and rounded once (half-even across partials)."""
    if n == 0:
        return 0.0
    n -= 1
    hi = p[n]
    lo = 0.0
    while n > 0:
        x = hi
        n -= 1
        y = p[n]
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            break
    if n > 0 and ((lo < 0.0 and p[n - 1] < 0.0) or (lo > 0.0 and p[n - 1] > 0.0)):
        y = lo * 2.0
        x = hi + y
        if y == x - hi:
            hi = x
    return hi


@numba.njit(cache=True, nogil=True)
def fsum_row(x, out):
    """out[0] = math.fsum(x); out[1] = 0.0, or 1.0 where it raises
    OverflowError, 2.0 where it raises ValueError (ops/fsum.py)."""
    p = np.empty(PARTIALS, np.float64)
    n = 0
    special = 0.0
    inf_sum = 0.0
    for k in range(x.shape[0]):
        xsave = x[k]
        n, top = _add_term(xsave, p, n)
        if top != 0.0:
            if not np.isfinite(top):
                if np.isfinite(xsave):
                    out[0] = np.nan
                    out[1] = 1.0
                    return
                if np.isinf(xsave):
                    inf_sum += xsave
                special += xsave
                n = 0
            else:
                if n == p.shape[0]:
                    grown = np.empty(2 * n, np.float64)
                    for i in range(n):  # (a slice assignment compiled Numba's broadcast error message: ~2.5 s cold)
                        grown[i] = p[i]
                    p = grown
                p[n] = top
                n += 1
    out[1] = 0.0
    if special != 0.0:
        if np.isnan(inf_sum):
            out[0] = np.nan
            out[1] = 2.0
        else:
            out[0] = special
        return
    out[0] = _rounded(p, n)


def _fsum_lower(em, op) -> None:
    """One call of `fsum_row` per row of x (its leading axes in a loop nest)."""
    (x,) = op.inputs
    res = em.fresh_array(op.out)
    xn, lead = em.name(x), [em.size(x, k) for k in range(x.ndim - 1)]
    if not lead:
        em.line(f"fsum_row({xn}, {res})")
        return
    with em.loop_nest(lead, parallel_outer=em.work_is_large(int(np.prod(
            [d if isinstance(d, (int, np.integer)) else 1 for d in x.shape], dtype=np.int64)) * 4)) as idx:
        at = ", ".join(idx)
        em.line(f"fsum_row({xn}[{at}], {res}[{at}])")


TARGET.register("fsum", StatementRule(_fsum_lower))
