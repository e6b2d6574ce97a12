"""Predicates and dtype queries on traced arrays the s25 survey
(tools/numpy_survey.py) found missing (np.iscomplex, np.isreal,
np.isposinf, np.array_equal, np.result_type, np.isscalar, the
*_indices_from, np.sort_complex), np.emath of complex input, and clear
refusals of the functions whose result's shape or dtype depends on the
data (set operations, np.real_if_close, np.polydiv, np.roots, np.poly1d,
np.emath of real input, np.may_share_memory).

Invariant: compositions only; a dtype query answers from the static dtypes
(a weak Python scalar as its Python type), a predicate that NumPy answers
with a Python bool gives a weak traced bool, and a refusal names the user's
line, says why, and how to keep the shape.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError

from . import context as ctx
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer
from .np_extra import _strong, _u, _unsupported

_any_traced = nx._any_traced


def _np(name: str):
    return nx.NAMESPACE[name]


# --- predicates and dtype queries --------------------------------------------------------------------------
def _imaginary_part_test(x, numpy_fn, real_answer: bool, compare: str):
    """np.iscomplex / np.isreal: `compare` of the imaginary part with 0, or
    `real_answer` everywhere for an array that is not complex."""
    if not _any_traced(x):
        return numpy_fn(x)
    x = _strong(x)
    if x.dtype.kind != "c":
        return sem.full(tuple(x.shape), real_answer, np.bool_)
    return _u(compare, nx.imag(x), 0)


def iscomplex(x):
    return _imaginary_part_test(x, np.iscomplex, False, "not_equal")


def isreal(x):
    return _imaginary_part_test(x, np.isreal, True, "equal")


def iscomplexobj(x):
    return sem.dtype_of(x).kind == "c" if is_tracer(x) else np.iscomplexobj(x)


def isrealobj(x):
    return not iscomplexobj(x)


def isposinf(x, out=None):
    return _signed_inf(x, out, False, "isposinf")


def isneginf(x, out=None):
    return _signed_inf(x, out, True, "isneginf")


def _signed_inf(x, out, negative: bool, name: str):
    nx._no_out(out)
    if not _any_traced(x):
        return getattr(np, name)(x)
    x = _strong(x)
    if x.dtype.kind == "c":
        raise TypeError("This operation is not supported for complex values because it would be ambiguous.")
    sign = _np("signbit")(x)
    return _u("logical_and", _u("isinf", x), sign if negative else _u("logical_not", sign))


def array_equal(a1, a2, equal_nan=False):
    """A Python bool: False for different shapes, else every element equal."""
    if not _any_traced(a1, a2):
        return np.array_equal(a1, a2, equal_nan=equal_nan)
    a1, a2 = _strong(a1), _strong(a2)
    if tuple(a1.shape) != tuple(a2.shape):
        return False
    return _all_equal(a1, a2, equal_nan)


def array_equiv(a1, a2):
    """A Python bool: False for shapes that do not broadcast, else every element equal."""
    if not _any_traced(a1, a2):
        return np.array_equiv(a1, a2)
    a1, a2 = _strong(a1), _strong(a2)
    try:
        np.broadcast_shapes(tuple(a1.shape), tuple(a2.shape))
    except ValueError:
        return False
    return _all_equal(a1, a2, False)


def _all_equal(a1: Tracer, a2: Tracer, equal_nan: bool) -> Tracer:
    eq = _u("equal", a1, a2)
    if equal_nan and (a1.dtype.kind in "fc" or a2.dtype.kind in "fc"):
        eq = _u("logical_or", eq, _u("logical_and", _u("isnan", a1), _u("isnan", a2)))
    res = sem.reduce("reduce_all", eq)
    res.weak = True  # a Python bool, as NumPy returns
    return res


def _dtype_stand_in(x: Any) -> Any:
    """What NumPy's dtype functions see of a traced value: its dtype, or the
    Python number type of a weak scalar."""
    if not is_tracer(x):
        return x
    if x.weak:
        return {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}[x.dtype.kind]
    return x.dtype


def result_type(*arrays_and_dtypes):
    return np.result_type(*map(_dtype_stand_in, arrays_and_dtypes))


def can_cast(from_, to, casting="safe"):
    return np.can_cast(from_.dtype if is_tracer(from_) else from_, to, casting)


def isscalar(element):
    """True for a NumPy scalar or a Python number (weak), not for an array."""
    if is_tracer(element):
        return element.ndim == 0 and not element.array0d
    return np.isscalar(element)


def common_type(*arrays):
    return np.common_type(*[np.empty(0, a.dtype) if is_tracer(a) else a for a in arrays])


def diag_indices_from(arr):
    if not is_tracer(arr):
        return np.diag_indices_from(arr)
    if arr.ndim < 2:
        raise ValueError("input array must be at least 2-d")
    if len(set(arr.shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return np.diag_indices(arr.shape[0], arr.ndim)


def _tri_indices_from(part: str, arr, k):
    """np.tril_indices_from / np.triu_indices_from: only the static shape is read."""
    if not is_tracer(arr):
        return getattr(np, f"{part}_indices_from")(arr, k)
    if arr.ndim != 2:
        raise ValueError("input array must be 2-d")
    return getattr(np, f"{part}_indices")(arr.shape[-2], k=k, m=arr.shape[-1])


def tril_indices_from(arr, k=0):
    return _tri_indices_from("tril", arr, k)


def triu_indices_from(arr, k=0):
    return _tri_indices_from("triu", arr, k)


def sort_complex(a):
    """np.sort, as complex: complex64 for (u)int8/16 input, complex128 otherwise."""
    if not _any_traced(a):
        return np.sort_complex(a)
    a = _strong(a)
    if a.dtype.kind == "c":
        raise _unsupported("np.sort_complex of complex arrays is not supported on traced values",
                           "sort the real parts: a[np.lexsort((a.imag, a.real))]")
    res = _np("sort")(a)
    return sem.astype(res, np.complex64 if a.dtype.char in "bhBH" else np.complex128)


# --- np.emath ---------------------------------------------------------------------------------------
def _emath(name: str, fn):
    real = getattr(np.emath, name)

    def call(*args):
        if not _any_traced(*args):
            return real(*args)
        if all(sem.dtype_of(a).kind == "c" for a in args if is_tracer(a) or not sem.is_py_scalar(a)):
            return fn(*args)
        raise UnsupportedError(f"np.emath.{name} of a real array gives a complex array where an element is out of "
                               "the real domain and a real one elsewhere: a dtype that depends on the data",
                               ctx.current_loc(), f"pass complex input for a complex result "
                               f"(np.emath.{name}(x + 0j)), or call np.{name if name != 'logn' else 'log'} for "
                               "a real one")

    return call


EMATH: dict[str, Any] = {
    "sqrt": _emath("sqrt", lambda x: _u("sqrt", x)), "log": _emath("log", lambda x: _u("log", x)),
    "log2": _emath("log2", lambda x: _u("log2", x)), "log10": _emath("log10", lambda x: _u("log10", x)),
    "logn": _emath("logn", lambda n, x: _u("divide", _u("log", x), _u("log", n))),
    "power": _emath("power", lambda x, p: _u("power", x, p)),
    "arccos": _emath("arccos", lambda x: _u("arccos", x)), "arcsin": _emath("arcsin", lambda x: _u("arcsin", x)),
    "arctanh": _emath("arctanh", lambda x: _u("arctanh", x)),
}


# --- functions whose result's shape or dtype depends on the data ------------------------------------------
_DATA_DEPENDENT = {
    "intersect1d": ("the values in both arrays, an array whose length depends on the data",
                    "keep the shape with a mask: np.isin(a, b) marks a's elements that are in b"),
    "union1d": ("the distinct values of both arrays, an array whose length depends on the data",
                "keep the shape: np.sort(np.concatenate([a, b])) holds the same values with repeats"),
    "setdiff1d": ("the values of one array not in the other, an array whose length depends on the data",
                  "keep the shape with a mask: ~np.isin(a, b)"),
    "setxor1d": ("the values in exactly one of the arrays, an array whose length depends on the data",
                 "keep the shape with masks: np.isin(a, b, invert=True)"),
    "polydiv": ("the remainder with its leading near-zero coefficients trimmed, an array whose length depends "
                "on the data", "for a quotient and remainder of fixed lengths, divide by hand (synthetic "
                               "division in a loop)"),
    "roots": ("the roots of the polynomial with its leading zeros trimmed, as eigenvalues that are complex for "
              "real input: a length and a dtype that depend on the data",
              "compute them outside the jitted function, or use np.linalg.eigvalsh of a symmetric matrix"),
    "poly1d": ("an object that trims the polynomial's leading zeros, a length that depends on the data",
               "use np.polyval(p, x), np.polyder(p), np.polyint(p) on the coefficient array"),
    "real_if_close": ("the real part when every imaginary part is close to zero and the complex array "
                      "otherwise: a dtype that depends on the data",
                      "take the real part yourself: np.real(a)"),
    "may_share_memory": ("whether two arrays share memory, which traced arrays do not have until they run",
                         "compare the arrays you passed in outside the jitted function"),
    "shares_memory": ("whether two arrays share memory, which traced arrays do not have until they run",
                      "compare the arrays you passed in outside the jitted function"),
}


def _data_dependent(name: str):
    real = getattr(np, name)
    what, hint = _DATA_DEPENDENT[name]

    def call(*args, **kwargs):
        if not _any_traced(*args, *kwargs.values()):
            return real(*args, **kwargs)
        if name == "real_if_close" and sem.dtype_of(args[0]).kind != "c":
            return _strong(args[0])  # a real array is returned as it is
        raise UnsupportedError(f"np.{name} of a traced array gives {what}; looptrace compiles static shapes "
                               "and dtypes only", ctx.current_loc(), hint)

    call.__name__ = name
    return call


TABLE: dict[str, Any] = {
    "iscomplex": iscomplex, "isreal": isreal, "iscomplexobj": iscomplexobj, "isrealobj": isrealobj,
    "isposinf": isposinf, "isneginf": isneginf, "array_equal": array_equal, "array_equiv": array_equiv,
    "result_type": result_type, "can_cast": can_cast, "isscalar": isscalar, "common_type": common_type,
    "diag_indices_from": diag_indices_from, "tril_indices_from": tril_indices_from,
    "triu_indices_from": triu_indices_from, "sort_complex": sort_complex,
}
TABLE.update({name: _data_dependent(name) for name in _DATA_DEPENDENT})
TABLE["emath"] = nx._Namespace(EMATH, np.emath, "np.emath.")
