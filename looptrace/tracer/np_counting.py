"""Counting under tracing: np.bincount as a scatter-add into an array of a
static length.

NumPy's `np.bincount(x, weights, minlength)` has length
max(x.max() + 1, minlength), which depends on the data; looptrace's shapes
are static. So here the length is `minlength` itself, which must be a
static integer (a Python int, or an int argument, which is specialized on),
or, for constant positions x (traced weights), NumPy's own length:

    np.bincount(x, w, minlength=n)  ->  check(x < 0)          ValueError, NumPy's message
                                        check(x >= n)         ValueError: looptrace's length is n
                                        scatter(zeros(n), x, w or 1, mode='add')

Invariants: the result equals NumPy's whenever every x < minlength; when
one is not, the call raises ValueError at run time (never a shorter or
clipped count). The negative check comes first, as NumPy tests for
negatives before it sizes the output. Dtypes are NumPy's: int64 counts, or
float64 sums of weights cast 'safe' (but int64 zeros for an empty x, whose
weights NumPy does not read). The op is the scatter primitive
(ops/indexing.py), so a bincount inside a loop batches and its VJP with
respect to the weights is the gather of the cotangent at x.

np.gcd and np.lcm need no code here: they are ufuncs (ops/elementwise.py),
traced by numpy_api.TracedUfunc like every other.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.ops import get as prim
from looptrace.ops.check import Failure

from . import context as ctx
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer

_LENGTH_HINT = ("pass minlength=n (a Python int, or an int argument): looptrace's bincount then has length n, "
                "and a value of x >= n raises ValueError at run time")
_TOO_LARGE = ("np.bincount: x holds the value {value}, but looptrace's bincount has the static length "
              "minlength = {n}, which that value reached (NumPy's would grow to value + 1)")


def bincount(x, weights=None, minlength=0):
    if not nx._any_traced(x, weights, minlength):
        return np.bincount(x, weights, minlength)
    n = _minlength(minlength)
    if not is_tracer(x):  # constant positions (weights traced): NumPy's own length, and its errors
        n = np.bincount(np.asarray(x), minlength=n).shape[0]
    idx = _indices(x)
    if idx.shape == (0,) and n:  # NumPy returns int64 zeros before it reads the weights
        return sem.full((n,), 0, np.dtype(np.int64))
    upd = _weights(weights, idx.shape) if weights is not None else sem.full(idx.shape, 1, np.dtype(np.int64))
    if n == 0:
        raise UnsupportedError("np.bincount without minlength= gives one count per value up to the largest one, "
                               "an array whose length depends on the data; looptrace compiles static shapes only",
                               ctx.current_loc(), _LENGTH_HINT)
    idx = _checked(idx, n)
    zeros = sem.full((n,), 0, upd.dtype)
    return sem.wrap(ctx.emit1(prim("scatter"), [zeros.value, idx.value, upd.value], axis=0, mode="add"))


def _minlength(minlength: Any) -> int:
    """The static output length, with NumPy's errors for a bad one."""
    if minlength is None:
        raise TypeError("use 0 instead of None for minlength")
    if is_tracer(minlength):
        from .static import UnsupportedConcrete, concrete_error

        # from int arguments: specialized on (tracer/static.py); from data: the error stands
        raise concrete_error([minlength], "np.bincount with a traced minlength=: looptrace's bincount has length "
                             "minlength, which must be known when the function is compiled", _LENGTH_HINT,
                             cls=UnsupportedConcrete)
    if isinstance(minlength, (bool, np.bool_)):
        raise TypeError("an integer is required")
    n = operator.index(minlength)
    if n < 0:
        raise ValueError("'minlength' must not be negative")
    return n


def _one_dim(t: Tracer) -> None:
    if t.ndim != 1:
        raise ValueError("object too deep for desired array" if t.ndim > 1
                         else "object of too small depth for desired array")


def _indices(x: Any) -> Tracer:
    """x as int64 positions (bool and unsigned as NumPy casts them: a uint64
    past 2**63 becomes negative, and is refused as NumPy refuses it)."""
    t = nx._tr(x)
    _one_dim(t)
    if t.dtype.kind not in "biu":
        raise TypeError(f"Cannot cast array data from {t.dtype!r} to dtype('int64') according to the rule 'safe'")
    return sem.astype(t, np.int64)


def _weights(weights: Any, shape: tuple) -> Tracer:
    w = nx._tr(weights)
    _one_dim(w)
    if tuple(w.shape) != tuple(shape):
        raise ValueError("The weights and list don't have the same length.")
    if not np.can_cast(w.dtype, np.float64, "safe"):
        raise TypeError(f"Cannot cast array data from {w.dtype!r} to dtype('float64') according to the rule 'safe'")
    return sem.astype(w, np.float64)


def _checked(idx: Tracer, n: int) -> Tracer:
    """idx after two run-time checks (negative values, then values >= n), clipped
    to [0, n) so that the range analysis knows the scatter needs no check of its own."""
    loc = ctx.current_loc()
    negative = Failure(ValueError("'list' argument must have no negative elements"), loc)
    ctx.emit(prim("check"), [sem.ufunc("less", idx, 0).value], loc, failures=(negative,))
    too_large = Failure(ValueError(), loc, _TOO_LARGE.replace("{n}", str(n)))
    ctx.emit(prim("check"), [sem.ufunc("greater_equal", idx, n).value, idx.value], loc, failures=(too_large,))
    return sem.ufunc("minimum", sem.ufunc("maximum", idx, 0), n - 1)


TABLE: dict[str, Any] = {"bincount": bincount}  # np.<name>
