"""Numerical functions the s25 survey (tools/numpy_survey.py) found missing
(its reductions are in np_reductions.py): polynomial arithmetic (np.poly of real roots, np.polyadd/polysub/polymul),
histograms with given edges and np.histogram_bin_edges, np.cov with
frequency and analytic weights, np.interp of complex values, the tensor
solvers np.linalg.tensorsolve/tensorinv, np.linalg.tensordot, the gufuncs
np.matvec/np.vecmat, np.einsum's interleaved operand lists and
np.einsum_path, np.bitwise_count.

Invariant: compositions only (no primitives of their own), each NumPy's own
algorithm step for step where the rounding depends on it (histograms by
sorted search, cov's weighted average), so results, dtypes and errors are
NumPy's; counts, degrees and shapes are static, and a number of bins that
depends on the data is refused naming the user's line.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError

from . import context as ctx
from . import np_linalg as nl
from . import np_stats as ns
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer
from .np_extra import _searchsorted, _strong, _tr, _u, _unsupported

_any_traced = nx._any_traced


def _np(name: str):
    return nx.NAMESPACE[name]


# --- polynomials -----------------------------------------------------------------------------------------
def poly(seq_of_zeros):
    """The coefficients of the monic polynomial with these roots: NumPy's
    repeated convolution with [1, -root], in the roots' dtype. A matrix
    (its characteristic polynomial, from complex eigenvalues) and complex
    roots (a real result where they pair up) give data-dependent dtypes."""
    if not _any_traced(seq_of_zeros):
        return np.poly(seq_of_zeros)
    z = _np("atleast_1d")(_strong(seq_of_zeros))
    if z.ndim == 2 and z.shape[0] == z.shape[1] and z.shape[0] != 0:
        raise _unsupported("np.poly of a matrix is not supported on traced values: its eigenvalues are complex "
                           "for real input, a dtype that depends on the data",
                           "pass the roots (np.linalg.eigvalsh of a symmetric matrix gives real ones)")
    if z.ndim != 1:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    if z.dtype.kind == "c":
        raise _unsupported("np.poly of complex roots is not supported on traced values: NumPy returns real "
                           "coefficients where the roots pair up as conjugates, a dtype that depends on the data",
                           "pass real roots, or build the polynomial with np.convolve")
    if z.shape[0] == 0:
        return 1.0
    z = sem.astype(z, np.mintypecode(z.dtype.char))  # NumPy's: ints become float64
    a = sem.full((1,), 1, z.dtype)
    for k in range(z.shape[0]):
        factor = sem.concatenate([sem.full((1,), 1, z.dtype), sem.reshape(_u("negative", z[k]), (1,))], 0)
        a = _np("convolve")(a, factor)
    return a


def _poly_pair(a1, a2) -> tuple[Tracer, Tracer]:
    a1, a2 = _np("atleast_1d")(_strong(a1)), _np("atleast_1d")(_strong(a2))
    if a1.ndim != 1 or a2.ndim != 1:
        raise _unsupported("np.polyadd/polysub of arrays that are not 1-d are not supported on traced values")
    return a1, a2


def _front_pad(a: Tracer, n: int) -> Tracer:
    return a if n == 0 else sem.concatenate([sem.full((n,), 0, a.dtype), a], 0)


def _poly_elementwise(name: str, a1, a2):
    """np.polyadd / np.polysub: the shorter padded with leading zeros."""
    if not _any_traced(a1, a2):
        return getattr(np, "poly" + name[:3])(a1, a2)
    a1, a2 = _poly_pair(a1, a2)
    n = max(a1.shape[0], a2.shape[0])
    return _u(name, _front_pad(a1, n - a1.shape[0]), _front_pad(a2, n - a2.shape[0]))


def polyadd(a1, a2):
    return _poly_elementwise("add", a1, a2)


def polysub(a1, a2):
    return _poly_elementwise("subtract", a1, a2)


def polymul(a1, a2):
    if not _any_traced(a1, a2):
        return np.polymul(a1, a2)
    a1, a2 = _poly_pair(a1, a2)
    return _np("convolve")(a1, a2)


# --- histograms -------------------------------------------------------------------------------------------
def histogram(a, bins=10, range=None, density=None, weights=None):
    """np.histogram; with an array of edges (constant or traced), NumPy's
    algorithm for them: the data sorted, the edges searched in it (the last
    one inclusive), the counts (or the cumulative weights) differenced."""
    if not _any_traced(a, bins, range, weights) or not _is_edges(bins):
        return ns.histogram(a, bins, range, density, weights)
    x = nx.ravel(_strong(a))
    edges = _edges(bins)
    if x.dtype.kind == "c":
        raise UnsupportedError("np.histogram of complex data is not supported", ctx.current_loc())
    if weights is None:
        n = _np("diff")(_inclusive_search(_np("sort")(x), edges))
    else:
        w = nx.ravel(_strong(weights))
        if tuple(w.shape) != tuple(x.shape):
            raise ValueError("weights should have the same shape as a.")
        order = _np("argsort")(x)
        cw = sem.concatenate([sem.full((1,), 0, w.dtype), _np("cumsum")(_np("take")(w, order))], 0)
        n = _np("diff")(_np("take")(cw, _inclusive_search(_np("take")(x, order), edges)))
    if density:
        widths = sem.astype(_np("diff")(edges), np.float64)
        return _u("divide", _u("divide", n, widths), sem.reduce("reduce_sum", n)), edges
    return n, edges


def _is_edges(bins) -> bool:
    return (np.ndim(bins) == 1 if not is_tracer(bins) else bins.ndim == 1) and not isinstance(bins, str)


def _edges(bins) -> Tracer:
    """The edges as an array, checked to increase (at run time where traced)."""
    if is_tracer(bins):
        from .checks import emit_check

        e = _strong(bins)
        emit_check(sem.reduce("reduce_any", _u("less", e[1:], e[:-1])),
                   ValueError("`bins` must increase monotonically, when an array"))
        return e
    e = np.asarray(bins)
    if np.any(e[:-1] > e[1:]):
        raise ValueError("`bins` must increase monotonically, when an array")
    return sem.wrap(ctx.own_const(e))


def _inclusive_search(sorted_x: Tracer, edges: Tracer) -> Tracer:
    """NumPy's _search_sorted_inclusive: left insertion points of all edges but
    the last, which takes its right one (the last bin includes its edge)."""
    left = _searchsorted(sorted_x, edges[:-1], "left")
    right = _searchsorted(sorted_x, edges[-1:], "right")
    return sem.concatenate([left, right], 0)


def histogram_bin_edges(a, bins=10, range=None, weights=None):
    """The edges np.histogram would use: equal bins between the range (or the
    data's min and max), or the given edges. Named estimators ('auto', ...)
    choose the number of bins from the data: refused."""
    if not _any_traced(a, bins, range, weights):
        return np.histogram_bin_edges(a, bins, range, weights)
    if isinstance(bins, str):
        raise _unsupported(f"np.histogram_bin_edges with bins={bins!r} is not supported on traced values: the "
                           "estimator picks the number of bins from the data, a length that depends on the data",
                           "pass an integer number of bins (with range=(lo, hi)) or the edges")
    if _is_edges(bins):
        return _edges(bins)
    from .np_arrays import _static_int

    nb = _static_int(bins, "np.histogram_bin_edges's number of bins") if is_tracer(bins) else int(bins)
    if nb < 1:
        raise ValueError("`bins` must be positive, when an integer")
    x = nx.ravel(_strong(a))
    first, last = ns._outer_edges(x, range)
    return _np("linspace")(first, last, nb + 1, dtype=ns._bin_type(first, last, x))


# --- cov with weights -------------------------------------------------------------------------------------
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    """np.cov; with fweights/aweights, NumPy's weighted algorithm: the weighted
    means, the divisor from the weights' sums, X @ (X * w).T.conj() / fact."""
    if fweights is None and aweights is None or not _any_traced(m, y, ddof, fweights, aweights):
        return ns.cov(m, y, rowvar, bias, ddof, fweights, aweights, dtype=dtype)
    if ddof is not None and not is_tracer(ddof) and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    X = _variables(m, y, rowvar, dtype)
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = _weights(fweights, X.shape[1], "fweights", integral=True)
    if aweights is not None:
        aw = _weights(aweights, X.shape[1], "aweights", integral=False)
        w = aw if w is None else _u("multiply", w, aw)
    avg, w_sum = _np("average")(X, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    if ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = _u("subtract", w_sum, ddof)
    else:
        fact = _u("subtract", w_sum, _u("divide", _u("multiply", ddof, sem.reduce("reduce_sum", _u("multiply", w, aw))),
                                        w_sum))
    fact = sem.select(_u("less_equal", fact, 0), sem.full((), 0.0, np.float64), fact)
    X = sem.astype(_u("subtract", X, sem.reshape(avg, (-1, 1))), X.dtype)  # in place in NumPy: X keeps its dtype
    Xt = sem.transpose(_u("multiply", X, w), [1, 0])
    if X.dtype.kind == "c":
        Xt = _u("conjugate", Xt)
    c = _np("matmul")(X, Xt)
    c = sem.astype(_u("multiply", c, _u("divide", 1, fact)), c.dtype)  # NumPy's in-place c *= 1 / fact
    return _np("squeeze")(c)


def _variables(m, y, rowvar: bool, dtype) -> Tracer:
    """np.cov's variables as rows, in its dtype (float64 at least)."""
    m = _tr(m)
    if m.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(m.dtype, np.float64) if y is None else \
            np.result_type(m.dtype, sem.dtype_of(y), np.float64)
    X = sem.astype(_np("atleast_2d")(m), dtype)
    if not rowvar and m.ndim != 1:
        X = sem.transpose(X, [1, 0])
    if y is not None:
        Y = sem.astype(_np("atleast_2d")(_tr(y)), dtype)
        if not rowvar and Y.shape[0] != 1:
            Y = sem.transpose(Y, [1, 0])
        X = _np("concatenate")((X, Y), axis=0)
    if X.shape[0] == 0:
        raise _unsupported("np.cov of no variables with weights is not supported on traced values")
    return X


def _weights(w, n: int, name: str, integral: bool) -> Tracer:
    """NumPy's checks of cov's weights (shape now, values at run time), as float64."""
    from .checks import emit_check

    w = sem.astype(_strong(w), np.float64)
    if w.ndim > 1:
        raise RuntimeError(f"cannot handle multidimensional {name}")
    if w.shape[0] != n:
        raise RuntimeError(f"incompatible numbers of samples and {name}")
    if integral:
        emit_check(sem.reduce("reduce_any", _u("not_equal", w, _u("rint", w))),
                   TypeError("fweights must be integer"))
    emit_check(sem.reduce("reduce_any", _u("less", w, 0)), ValueError(f"{name} cannot be negative"))
    return w


# --- interp of complex values -------------------------------------------------------------------------------
def interp(x, xp, fp, left=None, right=None, period=None):
    """np.interp; complex fp (and left/right) interpolated part by part as
    NumPy's complex loop does (np_extra.interp_values), the parts joined
    without arithmetic (an infinite part stays, a NaN point is NaN + 0j)."""
    fp = sem.array_like(fp)
    fp_kind = sem.dtype_of(fp).kind if is_tracer(fp) else np.asarray(fp).dtype.kind
    from .np_extra import _interp_periodic, interp_operands, interp_values
    from .np_extra import interp as real_interp
    from .pymath import make_complex

    if fp_kind != "c" or not _any_traced(x, xp, fp, left, right, period):
        return real_interp(x, xp, fp, left, right, period)
    fp = sem.astype(_strong(fp), np.complex128)
    parts = []
    for name, part in (("real", nx.real), ("imag", nx.imag)):
        if period is not None:
            parts.append(_interp_periodic(x, xp, part(fp), period, name))
            continue
        xs, xps, fps = interp_operands(x, xp, part(fp), np.float64)
        n = xps.shape[0]
        lo = fps[0] if left is None else part(sem.astype(_strong(left), np.complex128))
        hi = fps[n - 1] if right is None else part(sem.astype(_strong(right), np.complex128))
        parts.append(interp_values(xs, xps, fps, lo, hi, name))
    return make_complex(parts[0], parts[1])


# --- tensor solvers, tensordot, matvec, vecmat ---------------------------------------------------------------
def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) == b: NumPy's reshape to one square solve."""
    if not _any_traced(a, b):
        return np.linalg.tensorsolve(a, b, axes)
    a, b = _strong(a), _strong(b)
    an = a.ndim
    if axes is not None:
        order = [k for k in range(an) if k not in [ax % an for ax in axes]] + [ax % an for ax in axes]
        a = nx.transpose(a, order)
    oldshape = tuple(a.shape[-(an - b.ndim):]) if an != b.ndim else ()
    prod = int(np.prod(oldshape))
    if a.size != prod ** 2:
        raise np.linalg.LinAlgError("Input arrays must satisfy the requirement "
                                    "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    res = nl.solve(sem.reshape(a, (prod, prod)), nx.ravel(b))
    return sem.reshape(res, oldshape)


def tensorinv(a, ind=2):
    """The inverse of a with respect to tensordot over its first `ind` axes."""
    if not _any_traced(a):
        return np.linalg.tensorinv(a, ind)
    a = _strong(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    invshape = tuple(a.shape[ind:]) + tuple(a.shape[:ind])
    prod = int(np.prod(a.shape[ind:]))
    return sem.reshape(nl.inv(sem.reshape(a, (prod, -1))), invshape)


def linalg_tensordot(x1, x2, /, *, axes=2):
    return nx.tensordot(x1, x2, axes)


def matvec(x1, x2, /, **kwargs):
    """The matrix-vector product over the last axes (a gufunc: broadcasting the rest)."""
    if not _any_traced(x1, x2):
        return np.matvec(x1, x2, **kwargs)
    _no_gufunc_keywords("matvec", kwargs)
    v = _tr(x2)
    return nx.matmul(x1, sem.reshape(v, tuple(v.shape) + (1,)))[..., 0]


def vecmat(x1, x2, /, **kwargs):
    """The vector-matrix product of the conjugated vector over the last axes."""
    if not _any_traced(x1, x2):
        return np.vecmat(x1, x2, **kwargs)
    _no_gufunc_keywords("vecmat", kwargs)
    v = _tr(x1)
    if v.dtype.kind == "c":
        v = _u("conjugate", v)
    return nx.matmul(sem.reshape(v, tuple(v.shape[:-1]) + (1, v.shape[-1])), x2)[..., 0, :]


def _no_gufunc_keywords(name: str, kwargs: dict) -> None:
    if kwargs:
        raise _unsupported(f"np.{name} with {sorted(kwargs)} is not supported on traced values")


# --- einsum forms ---------------------------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(*operands, **kwargs):
    """np.einsum; the interleaved form (op, sublist, op, sublist, ..., [out])
    spelled as its subscripts string."""
    if operands and not isinstance(operands[0], str) and _any_traced(*operands):
        subscripts, operands = _interleaved(operands)
        return nx.einsum(subscripts, *operands, **kwargs)
    return nx.einsum(*operands, **kwargs)


def _interleaved(args: tuple) -> tuple[str, list]:
    ops, subs = list(args[0::2]), list(args[1::2])
    out = None
    if len(args) % 2:
        out = ops.pop()
    if len(subs) != len(ops):
        raise ValueError("einsum: each operand needs a subscript list")

    def letters(sub) -> str:
        return "".join("..." if s is Ellipsis else _LETTERS[int(s)] for s in sub)

    spec = ",".join(letters(s) for s in subs)
    return (spec if out is None else spec + "->" + letters(out)), ops


def einsum_path(*operands, optimize="greedy", einsum_call=False):
    """NumPy's contraction path: it depends on the operands' shapes alone."""
    if not _any_traced(*operands):
        return np.einsum_path(*operands, optimize=optimize, einsum_call=einsum_call)
    stand_ins = [np.empty(o.shape, o.dtype) if is_tracer(o) else o for o in operands]
    return np.einsum_path(*stand_ins, optimize=optimize, einsum_call=einsum_call)


# --- bitwise_count -----------------------------------------------------------------------------------------------
_M1, _M2, _M4, _H01 = 0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x0101010101010101


def bitwise_count(x, /, out=None, **kwargs):
    """The number of 1 bits of |x| (uint8): the classic SWAR popcount in uint64."""
    nx._no_out(out)
    if not _any_traced(x):
        return np.bitwise_count(x, **kwargs)
    x = _strong(x)
    if x.dtype.kind not in "biu":
        raise TypeError("ufunc 'bitwise_count' not supported for the input types, and the inputs could not be "
                        "safely coerced to any supported types according to the casting rule ''safe''")
    if x.dtype.kind == "i":  # |x| in the unsigned type of its width (|-128| of int8 is 128)
        x = sem.astype(_u("absolute", x), np.dtype(f"u{x.dtype.itemsize}"))
    v = sem.astype(x, np.uint64)
    u64 = np.uint64
    v = _u("subtract", v, _u("bitwise_and", _u("right_shift", v, u64(1)), u64(_M1)))
    v = _u("add", _u("bitwise_and", v, u64(_M2)), _u("bitwise_and", _u("right_shift", v, u64(2)), u64(_M2)))
    v = _u("bitwise_and", _u("add", v, _u("right_shift", v, u64(4))), u64(_M4))
    v = _u("right_shift", _u("multiply", v, u64(_H01)), u64(56))
    return sem.astype(v, np.uint8)


TABLE: dict[str, Any] = {
    "poly": poly, "polyadd": polyadd, "polysub": polysub, "polymul": polymul, "histogram": histogram,
    "histogram_bin_edges": histogram_bin_edges, "cov": cov, "interp": interp, "matvec": matvec, "vecmat": vecmat,
    "einsum": einsum, "einsum_path": einsum_path, "bitwise_count": bitwise_count,
}
LINALG_TABLE: dict[str, Any] = {"tensorsolve": tensorsolve, "tensorinv": tensorinv, "tensordot": linalg_tensordot}
