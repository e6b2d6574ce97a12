"""Large products that sum only a handful of elements per result, traced as
that sum written out: `x @ R.T` for points x (n, 3) and a rotation R (3, 3)
is `x[:, 0, None] * R.T[0] + x[:, 1, None] * R.T[1] + x[:, 2, None] * R.T[2]`.

A matrix product with a contracted size of 3 or 4 and a small result side
does a few multiply-adds per result and streams the long side once: no
blocking for BLAS to do, only its call and the operands' layout. Written out
as elementwise ops, it is one loop nest the fusion planner takes together
with what produces and consumes it: the ones column of homogeneous
coordinates (`np.concatenate([x, ones], 1) @ M.T`) is then never built, a
`(R @ x.T).T` is written in the caller's layout directly, and a slice of the
product reads only its columns. Each result sums its terms in the order of
the contracted index, one of the orders NumPy's own products use.

Only large matrix-matrix products (`MIN_RESULTS`) change: a matrix-vector
product stays one einsum, for the cpu target's loops over its rows
(codegen/cpu/contract.py `_narrow`), and small ones inside loops stay one
einsum, which the vectorizer batches as a product, and which the cpu target
lowers to loops or BLAS by its own rules (codegen/cpu/contract.py).
"""
from __future__ import annotations

import itertools
from math import prod
from typing import Any

import numpy as np

from looptrace.ops.linalg import parse_spec

SUMMED_MAX = 4  # contracted elements per result at most
SIDE_MAX = 4  # the small side of the result (rows or columns) at most
# results at least: below, the nest runs on one thread (codegen/cpu/emitter.py `work_is_large`) and
# OpenBLAS's gemm on the cores was faster ((2*10^5, 3) @ (3, 2): 0.47 ms against 0.20 on 2 cores)
MIN_RESULTS = 1 << 20


def written_out(spec: str, a: Any, b: Any) -> Any | None:
    """einsum(spec, a, b) as a sum of elementwise products when it is a large,
    narrow product of floats; None otherwise (then one einsum)."""
    from . import semantics as sem

    plan = _narrow_plan(spec, a, b)
    if plan is None:
        return None
    (ia, ib), out, summed, size = plan
    total = None
    for at in itertools.product(*(range(size[c]) for c in summed)):
        fixed = dict(zip(summed, at))
        term = sem.ufunc("multiply", _aligned(a, ia, out, fixed), _aligned(b, ib, out, fixed))
        total = term if total is None else sem.ufunc("add", total, term)
    return total


def _narrow_plan(spec: str, a: Any, b: Any):
    if a.dtype != b.dtype or a.dtype not in (np.float32, np.float64):
        return None  # (NumPy sums float16 products in float32)
    ins, out = parse_spec(spec)
    ia, ib = ins
    if any(len(set(s)) != len(s) for s in (ia, ib, out)) or not set(out) <= set(ia) | set(ib):
        return None
    if len(ia) != a.ndim or len(ib) != b.ndim:
        return None
    size: dict[str, int] = {}
    for letters, x in ((ia, a), (ib, b)):
        for c, d in zip(letters, x.shape):
            if not isinstance(d, int) or size.setdefault(c, d) != d:
                return None  # a run-time length, or a broadcast letter
    summed = [c for c in ia if c in ib and c not in out]
    if (set(ia) ^ set(ib)) - set(out) or not summed:
        return None  # a letter summed in one operand only, or no sum at all
    row_letters, col_letters = [c for c in out if c not in ib], [c for c in out if c not in ia]
    if not row_letters or not col_letters:
        return None  # a matrix-vector product: the cpu target's loops take it (contract.py `_narrow`)
    rows, cols = prod(size[c] for c in row_letters), prod(size[c] for c in col_letters)
    if not 1 <= prod(size[c] for c in summed) <= SUMMED_MAX or min(rows, cols) > SIDE_MAX:
        return None
    if prod(size[c] for c in out) < MIN_RESULTS:
        return None
    return (ia, ib), out, summed, size


def _aligned(x: Any, letters: str, out: str, fixed: dict) -> Any:
    """x at the summed positions `fixed`, its other axes in the output's
    order, with unit axes for the output letters it lacks (to broadcast)."""
    from . import semantics as sem

    x = x[tuple(fixed.get(c, slice(None)) for c in letters)]
    kept = [c for c in letters if c not in fixed]
    order = [c for c in out if c in kept]
    if order != kept:
        x = sem.transpose(x, [kept.index(c) for c in order])
    return sem.reshape(x, tuple(x.shape[order.index(c)] if c in order else 1 for c in out))
