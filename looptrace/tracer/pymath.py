"""Python's `math` and `cmath` modules on traced scalars.

`math.exp(x[i])` in a traced function computes what plain Python computes:
the argument is converted to a Python float (float64), the result is a Python
float, int or bool, which the tracer represents as a *weak* scalar (it
promotes as a Python number does under NumPy 2). `cmath` functions convert
to complex128 and give a weak complex. Calls on concrete values run the real
function.

Invariant: `FUNCTIONS` maps `id(real function)` to its traced version;
`runtime.call` consults it for every call in converted code, so
`math.exp(x)`, `from math import exp` and `m = math; m.exp(x)` all reach it.
Functions of the module with no NumPy equivalent (factorial, isqrt, ...)
raise UnsupportedError when given a traced value, never a different answer;
math.fsum (exactly rounded, which np.sum is not) is its own primitive
(ops/fsum.py), Python's answer bit for bit.

Where Python raises a domain or range error (math.log(-1), math.sqrt(-1),
math.exp(1000), math.cos(inf)), a run-time check (tracer/checks.py) raises
the same exception (`math_errors`): the IEEE value (nan, inf) that NumPy and
Numba give would be a result the plain function never returns.

int(x), round(x) and math.floor/ceil/trunc of a float make the int with the
`pyint` primitive (ops/elementwise.py): a NaN raises ValueError and an
infinity OverflowError, as in Python; a float past 2**63, where Python makes
a big int, raises OverflowError (looptrace's ints are int64). The test is
computed inside the loop that reads the int, as a gather tests its index: a
separate check over the floats cost histogram2d_loop 3.6 -> 11.4 ms (the
floats, read by the check and by the loop, were stored: two passes over 16
MB).
"""
from __future__ import annotations

import cmath
import math
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from looptrace.errors import TraceError, TraceTypeError, UnsupportedError
from looptrace.ops import get as prim
from looptrace.ops.special import float_dtype

from . import context as ctx
from . import semantics as sem
from .array import Tracer, is_tracer


# --- arguments -----------------------------------------------------------------------------------
def _size1_converts() -> bool:
    """Does this NumPy convert a size-1 array of ndim > 0 to a Python float
    (NumPy < 2.4, with a DeprecationWarning)? Traced values do what it does."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            float(np.zeros(1))
            return True
        except TypeError:
            return False


SIZE1_CONVERTS = _size1_converts()


def scalar(x: Tracer, what: str) -> Tracer:
    """`x` as a 0-d tracer, as Python's float()/int() would accept it."""
    if x.ndim == 0:
        return x
    if x.size == 1 and SIZE1_CONVERTS:
        return sem.reshape(x, ())
    # NumPy's TypeError (2.4 ended the deprecation: float(np.array([1.5])) raises)
    raise TraceTypeError(f"{what} needs a scalar, but this traced value is an array of shape {x.shape} "
                         "(only 0-dimensional arrays can be converted to Python scalars)", ctx.current_loc(),
                         "index one element, or use the NumPy function on the whole array")


def as_float(x: Any, what: str) -> Tracer:
    """`float(x)` for a traced `x`: float64 (a NumPy complex gives its real part,
    a Python complex is a TypeError, as in Python)."""
    array0d = getattr(x, "array0d", False)
    x = scalar(x, what)
    if x.dtype.kind == "c":
        if x.weak or array0d:  # (a NumPy complex scalar gives its real part; a 0-d array raises, as Python's)
            raise TraceTypeError(f"{what} must be a real number, not complex", ctx.current_loc(),
                                 "use the cmath function, or take .real first")
        x = sem.wrap(ctx.emit1(prim("real"), [x.value]))
    return sem.astype(x, np.float64)


def as_complex(x: Any, what: str) -> Tracer:
    return sem.astype(scalar(x, what), np.complex128)


def _weak(t: Tracer) -> Tracer:
    t.weak = True
    return t


def _any_traced(*xs: Any) -> bool:
    return any(is_tracer(x) or isinstance(x, (list, tuple)) and _any_traced(*x) for x in xs)


def _traced(real: Callable, fn: Callable) -> Callable:
    """`fn` on traced arguments, the real function otherwise."""
    def call(*args, **kwargs):
        # (a generator's items, `math.fsum(f(i) for i in ...)`: read once, as the real function would)
        args = tuple(list(a) if isinstance(a, types.GeneratorType) else a for a in args)
        if not _any_traced(*args, *kwargs.values()):
            return real(*args, **kwargs)
        return fn(*args, **kwargs)

    call.__name__ = real.__name__
    return call


# --- Python's errors, at run time (tracer/checks.py) ----------------------------------------------------
# CPython's math module raises "math domain error" (ValueError) where the C result is NaN from a
# non-NaN argument or infinite at a pole, and "math range error" (OverflowError) where it overflows.
# The tests read the argument only (the result's test would make the check's loop compute the
# function a second time: black_scholes_scalar 9.4 -> 15 ms): the domain's edges, and for the
# functions that overflow the largest argument with a finite result (found by bisection: the same
# bits as CPython's libm).
_DOMAIN = {
    "sqrt": lambda x: _u("less", x, 0.0),
    "log": lambda x: _u("less_equal", x, 0.0), "log2": lambda x: _u("less_equal", x, 0.0),
    "log10": lambda x: _u("less_equal", x, 0.0), "log1p": lambda x: _u("less_equal", x, -1.0),
    "acos": lambda x: _u("greater", _u("absolute", x), 1.0), "asin": lambda x: _u("greater", _u("absolute", x), 1.0),
    "acosh": lambda x: _u("less", x, 1.0), "atanh": lambda x: _u("greater_equal", _u("absolute", x), 1.0),
    "cos": lambda x: _u("isinf", x), "sin": lambda x: _u("isinf", x), "tan": lambda x: _u("isinf", x),
}
_RANGE = {  # a finite argument past these overflows (math.exp(inf) is inf, no error)
    "exp": lambda x: _finite_above(x, 709.782712893384), "expm1": lambda x: _finite_above(x, 709.782712893384),
    "exp2": lambda x: _finite_above(x, 1023.9999999999999),
    "cosh": lambda x: _finite_above(_u("absolute", x), 710.4758600739439),
    "sinh": lambda x: _finite_above(_u("absolute", x), 710.4758600739439),
}


def _finite_above(x: Any, limit: float) -> Tracer:
    return _u("logical_and", _u("greater", x, limit), _u("isfinite", x))


def _u(name: str, *xs: Any) -> Tracer:
    return sem.ufunc(name, *xs)


def _checks(pairs: list) -> None:
    """One check op for several (predicate, exception): one pass over the values."""
    from looptrace.ops.check import Failure

    loc = ctx.current_loc()
    preds = [sem.as_value(p, np.bool_) for p, _ in pairs]  # of one scalar argument: one shape
    ctx.emit(prim("check"), preds, loc, failures=tuple(Failure(e, loc) for _, e in pairs))


def math_errors(name: str, xs: list, r: Tracer) -> None:
    """The check that raises what math.<name>(*xs) raises in Python (the
    result `r` is read only by gamma, lgamma and pow, whose edges are not
    one number)."""
    x = xs[0] if is_tracer(xs[0]) else sem.wrap(sem.as_value(float(xs[0])))
    if name in _DOMAIN:
        _checks([(_DOMAIN[name](x), ValueError("math domain error"))])
    elif name in _RANGE:
        _checks([(_RANGE[name](x), OverflowError("math range error"))])
    elif name == "fmod":
        y = xs[1] if is_tracer(xs[1]) else sem.wrap(sem.as_value(float(xs[1])))
        bad = _u("logical_or", _u("logical_and", _u("equal", y, 0.0), _u("logical_not", _u("isnan", x))),
                 _u("logical_and", _u("isinf", x), _u("logical_not", _u("isnan", y))))
        _checks([(bad, ValueError("math domain error"))])
    elif name in ("gamma", "lgamma", "pow"):
        ys = [v if is_tracer(v) else sem.wrap(sem.as_value(float(v))) for v in xs]
        given, finite = _u("logical_not", _u("isnan", ys[0])), _u("isfinite", ys[0])
        for v in ys[1:]:
            given = _u("logical_and", given, _u("logical_not", _u("isnan", v)))
            finite = _u("logical_and", finite, _u("isfinite", v))
        infinite = _u("logical_and", _u("isinf", r), finite)
        # a pole (gamma at 0, -1, ...; 0 ** negative) is a domain error, a finite argument's overflow a range error
        pole = _u("logical_and", _u("less_equal", x, 0.0), _u("equal", x, _u("floor", x))) if name != "pow" \
            else _u("equal", x, 0.0)
        _checks([(_u("logical_and", _u("isnan", r), given), ValueError("math domain error")),
                 (_u("logical_and", infinite, pole), ValueError("math domain error")),
                 (_u("logical_and", infinite, _u("logical_not", pole)), OverflowError("math range error"))])


# --- math ------------------------------------------------------------------------------------------
def _float_ufunc(name: str, ufunc: str):
    def fn(*xs):
        xs = [as_float(x, f"math.{name}()") if is_tracer(x) else float(x) for x in xs]
        r = _weak(sem.ufunc(ufunc, *xs))
        math_errors(name, xs, r)
        return r

    return fn


def _special(name: str, primitive: str):
    def fn(x):
        v = as_float(x, f"math.{name}()")
        r = _weak(sem.wrap(ctx.emit1(prim(primitive), [sem.as_value(v, float_dtype(v.dtype))])))
        math_errors(name, [v], r)
        return r

    return fn


def int_of_whole(x: Tracer) -> Tracer:
    """The Python int of a traced float holding a whole number (or NaN or an
    infinity): Python's errors where it does not fit (module docstring)."""
    from looptrace.ops.elementwise import pyint_failures

    loc = ctx.current_loc()
    return _weak(sem.wrap(ctx.emit(prim("pyint"), [sem.as_value(x)], loc, failures=pyint_failures(loc))[0]))


def _to_int(name: str, ufunc: str):
    """math.floor/ceil/trunc: a Python int (an int argument comes back as it is)."""
    def fn(x):
        x = scalar(x, f"math.{name}()")
        if x.dtype.kind in "biu":
            return _weak(sem.astype(x, np.int64))
        return int_of_whole(sem.ufunc(ufunc, as_float(x, f"math.{name}()")))

    return fn


def _predicate(name: str, ufunc: str):
    def fn(x):
        return _weak(sem.ufunc(ufunc, as_float(x, f"math.{name}()")))

    return fn


def _log(x, base=None):
    x = as_float(x, "math.log()")
    res = sem.ufunc("log", x)
    math_errors("log", [x], res)
    if base is not None:
        b = as_float(base, "math.log()") if is_tracer(base) else float(base)
        lb = sem.ufunc("log", b)
        math_errors("log", [b], lb)
        if is_tracer(lb) or lb == 0:
            from .checks import emit_check

            emit_check(_u("equal", lb, 0.0), ZeroDivisionError("float division by zero"))  # base 1
        res = sem.ufunc("divide", res, lb)
    return _weak(res)


def _hypot(*coords):
    if not coords:
        return 0.0
    acc = sem.ufunc("absolute", as_float(coords[0], "math.hypot()") if is_tracer(coords[0]) else float(coords[0]))
    for c in coords[1:]:
        acc = sem.ufunc("hypot", acc, as_float(c, "math.hypot()") if is_tracer(c) else float(c))
    return _weak(sem.astype(acc, np.float64))


def _dist(p, q):
    if is_tracer(p) or is_tracer(q):
        d = sem.ufunc("subtract", sem.astype(_tr(p), np.float64), sem.astype(_tr(q), np.float64))
        if d.ndim != 1:
            raise TraceError(f"math.dist() needs two points (sequences); got shape {d.shape}", ctx.current_loc())
        return _weak(sem.ufunc("sqrt", sem.reduce("reduce_sum", sem.ufunc("multiply", d, d))))
    if len(p) != len(q):
        raise ValueError("both points must have the same number of dimensions")
    return _hypot(*[sem.ufunc("subtract", as_float_any(a), as_float_any(b)) for a, b in zip(p, q)])


def as_float_any(x: Any) -> Any:
    return as_float(x, "math.dist()") if is_tracer(x) else float(x)


def _tr(x: Any) -> Tracer:
    return x if is_tracer(x) else sem.wrap(sem.as_value(x))


def _prod(iterable, *, start=1):
    if is_tracer(iterable):
        if iterable.ndim == 0:
            from .methods import iteration_error  # (methods imports this module)

            raise iteration_error(iterable)
        res = sem.reduce("reduce_prod", iterable, 0)
        return res if start == 1 else sem.ufunc("multiply", start, res)
    acc = start
    for x in iterable:
        acc = sem.ufunc("multiply", acc, x) if _any_traced(acc, x) else acc * x
    return acc


def fsum(iterable):
    """math.fsum: the `fsum` primitive (ops/fsum.py), CPython's exactly rounded
    sum; its OverflowError and ValueError raised at run time (checks.py). The
    terms: a traced vector, or a list (of traced or Python numbers, or grown
    by a traced loop) made one float64 vector, each item a float as Python's
    float() makes it."""
    from looptrace.ops.fsum import MESSAGES

    from .checks import emit_check

    terms = _fsum_terms(iterable)
    if terms.shape[0] == 0:
        return 0.0
    out = sem.wrap(ctx.emit1(prim("fsum"), [terms.value]))
    for code, (cls, message) in MESSAGES.items():
        emit_check(sem.ufunc("equal", out[1], code), cls(message), ctx.current_loc())
    return _weak(out[0])


def _fsum_terms(iterable: Any) -> Tracer:
    """math.fsum's items as one float64 vector."""
    from .numpy_api import NAMESPACE

    if is_tracer(iterable):
        if iterable.ndim == 0:
            from .methods import iteration_error  # (methods imports this module)

            raise iteration_error(iterable)
        if iterable.ndim > 1:
            scalar(iterable[0], "math.fsum()")  # (a row is no float: Python's TypeError)
        return as_float_vector(iterable)
    if not isinstance(iterable, (list, tuple)):
        iterable = list(iterable)
    if any(isinstance(v, (list, tuple)) for v in iterable):
        raise TypeError(f"must be real number, not {type(next(v for v in iterable if isinstance(v, (list, tuple)))).__name__}")
    items = NAMESPACE["array"](iterable)
    if items.ndim != 1:
        scalar(items[0], "math.fsum()")
    return as_float_vector(items)


def as_float_vector(x: Tracer) -> Tracer:
    """A vector's items as Python's float() makes them: float64 (complex: the real part)."""
    if x.dtype.kind == "c":
        x = sem.wrap(ctx.emit1(prim("real"), [x.value]))
    return sem.astype(x, np.float64)


def _isclose(a, b, *, rel_tol=1e-09, abs_tol=0.0):
    """|a - b| <= max(rel_tol * max(|a|, |b|), abs_tol), infinities equal only to themselves."""
    a = as_float(a, "math.isclose()") if is_tracer(a) else float(a)
    b = as_float(b, "math.isclose()") if is_tracer(b) else float(b)
    diff = sem.ufunc("absolute", sem.ufunc("subtract", a, b))
    scale = sem.ufunc("maximum", sem.ufunc("absolute", a), sem.ufunc("absolute", b))
    tol = sem.ufunc("maximum", sem.ufunc("multiply", rel_tol, scale), abs_tol)
    finite = sem.ufunc("logical_and", sem.ufunc("isfinite", a), sem.ufunc("isfinite", b))
    close = sem.ufunc("logical_and", finite, sem.ufunc("less_equal", diff, tol))
    return _weak(sem.ufunc("logical_or", sem.ufunc("equal", a, b), close))


def _modf(x):
    """(fractional part, integer part), both with x's sign; modf(+-inf) = (+-0.0, +-inf)."""
    x = as_float(x, "math.modf()")
    whole = sem.ufunc("trunc", x)
    frac = sem.select(sem.ufunc("isinf", x), 0.0, sem.ufunc("subtract", x, whole))
    return _weak(sem.ufunc("copysign", frac, x)), _weak(whole)


def _frexp(x):
    """(mantissa, exponent): a Python float and int, (0.0, 0) for 0, (x, 0) for inf and NaN."""
    from .np_breadth import _frexp64

    m, e = _frexp64(as_float(x, "math.frexp()"))
    return _weak(m), _weak(sem.astype(e, np.int64))


def _int_pair(name: str, ufunc: str):
    """math.gcd / math.lcm of Python ints (any number of them), as NumPy's on int64."""
    def fn(*xs):
        if not any(is_tracer(x) for x in xs):
            return getattr(math, name)(*xs)
        ints = []
        for x in xs:
            x = scalar(x, f"math.{name}()") if is_tracer(x) else x
            if sem.dtype_of(x).kind not in "biu" or isinstance(x, float):
                raise TypeError(f"'{type(x).__name__ if not is_tracer(x) else 'float'}' object cannot be "
                                "interpreted as an integer")
            ints.append(x)
        acc = ints[0] if ints else 0 if name == "gcd" else 1
        acc = sem.ufunc("absolute", sem.astype(acc, np.int64)) if is_tracer(acc) else abs(int(acc))
        for x in ints[1:]:
            acc = sem.ufunc(ufunc, acc, x, numpy=True)
        return _weak(sem.astype(acc, np.int64)) if is_tracer(acc) else acc

    return fn


def _ldexp(x, i):
    """math.ldexp: a Python float; OverflowError where a finite x leaves the range."""
    from .np_extra import ldexp

    if not is_tracer(x) and not is_tracer(i):
        return math.ldexp(x, i)
    if isinstance(i, float) or is_tracer(i) and i.dtype.kind not in "biu":
        raise TypeError("Expected an int as second argument to ldexp.")
    v = as_float(x, "math.ldexp()") if is_tracer(x) else sem.wrap(sem.as_value(float(x)))
    r = ldexp(sem.astype(v, np.float64), sem.astype(scalar(i, "math.ldexp()") if is_tracer(i) else np.int64(i),
                                                    np.int64))
    _checks([(_u("logical_and", _u("isinf", r), _u("isfinite", v)), OverflowError("math range error"))])
    return _weak(r)


def _nextafter(x, y):
    from .np_breadth import nextafter

    xs = [as_float(v, "math.nextafter()") if is_tracer(v) else sem.wrap(sem.as_value(float(v))) for v in (x, y)]
    return _weak(nextafter(*(sem.astype(v, np.float64) for v in xs)))


def _ulp(x):
    """math.ulp: the spacing at |x|; inf for infinities, NaN for NaN."""
    from .np_breadth import spacing

    v = sem.astype(as_float(x, "math.ulp()"), np.float64)
    a = _u("absolute", v)
    return _weak(sem.select(_u("isinf", v), a, spacing(a)))


def _remainder(x, y):
    """math.remainder (IEEE 754): x - n*y with n the integer nearest x/y, ties to
    even; exact, as CPython computes it through fmod."""
    xs = [as_float(v, "math.remainder()") if is_tracer(v) else sem.wrap(sem.as_value(float(v))) for v in (x, y)]
    x, y = (sem.astype(v, np.float64) for v in xs)
    nan = _u("logical_or", _u("isnan", x), _u("isnan", y))
    _checks([(_u("logical_and", _u("logical_not", nan), _u("logical_or", _u("isinf", x), _u("equal", y, 0.0))),
              ValueError("math domain error"))])
    ax, ay = _u("absolute", x), _u("absolute", y)
    safe_y = sem.select(_u("logical_and", _u("isfinite", ay), _u("not_equal", ay, 0.0)), ay, 1.0)
    safe_x = sem.select(_u("isfinite", ax), ax, 0.0)
    m = _u("fmod", safe_x, safe_y)
    c = safe_y - m
    half = m - 2.0 * _u("fmod", 0.5 * (safe_x - m), safe_y)
    r = sem.select(_u("less", m, c), m, sem.select(_u("greater", m, c), -c, half))
    r = _u("copysign", 1.0, x) * r
    r = sem.select(_u("isinf", y), x, r)
    return _weak(sem.select(nan, _u("add", x, y), r))


def _unsupported(name: str, hint: str):
    def fn(*args, **kwargs):
        raise UnsupportedError(f"math.{name}() of a traced value is not supported", ctx.current_loc(), hint)

    return fn


_INTEGER_HINT = "Python's integer functions have no fixed-width equivalent; compute it outside the function"
MATH: dict[str, Callable] = {
    **{n: _float_ufunc(n, u) for n, u in [
        ("acos", "arccos"), ("acosh", "arccosh"), ("asin", "arcsin"), ("asinh", "arcsinh"), ("atan", "arctan"),
        ("atanh", "arctanh"), ("cos", "cos"), ("cosh", "cosh"), ("sin", "sin"), ("sinh", "sinh"),
        ("tan", "tan"), ("tanh", "tanh"), ("exp", "exp"), ("expm1", "expm1"), ("log10", "log10"),
        ("log1p", "log1p"), ("log2", "log2"), ("sqrt", "sqrt"), ("fabs", "absolute"), ("degrees", "rad2deg"),
        ("radians", "deg2rad"), ("atan2", "arctan2"), ("copysign", "copysign"), ("fmod", "fmod"),
        ("pow", "power"), ("cbrt", "cbrt"), ("exp2", "exp2")]},
    **{n: _special(n, n) for n in ("erf", "erfc", "gamma", "lgamma")},
    **{n: _to_int(n, n) for n in ("floor", "ceil", "trunc")},
    **{n: _predicate(n, n) for n in ("isnan", "isinf", "isfinite")},
    "log": _log, "hypot": _hypot, "dist": _dist, "prod": _prod, "isclose": _isclose, "modf": _modf,
    **{n: _unsupported(n, _INTEGER_HINT) for n in ("factorial", "comb", "perm", "isqrt")},
    "gcd": _int_pair("gcd", "gcd"), "lcm": _int_pair("lcm", "lcm"), "frexp": _frexp,
    "ldexp": _ldexp, "nextafter": _nextafter, "ulp": _ulp, "remainder": _remainder,
    "sumprod": _unsupported("sumprod", "write the sum of products as np.dot(p, q) or sum(a * b for ...)"),
    "fsum": fsum,
}


# --- cmath ------------------------------------------------------------------------------------------
def _complex_ufunc(name: str, ufunc: str):
    def fn(z):
        return _weak(sem.ufunc(ufunc, as_complex(z, f"cmath.{name}()")))

    return fn


def _parts(z: Tracer) -> tuple[Tracer, Tracer]:
    return sem.wrap(ctx.emit1(prim("real"), [z.value])), sem.wrap(ctx.emit1(prim("imag"), [z.value]))


def _phase(z):
    re, im = _parts(as_complex(z, "cmath.phase()"))
    return _weak(sem.ufunc("arctan2", im, re))


def _polar(z):
    z = as_complex(z, "cmath.polar()")
    return _weak(sem.ufunc("absolute", z)), _phase(z)


def _rect(r, phi):
    r = as_float(r, "cmath.rect()") if is_tracer(r) else float(r)
    phi = as_float(phi, "cmath.rect()") if is_tracer(phi) else float(phi)
    re = sem.ufunc("multiply", r, sem.ufunc("cos", phi))
    im = sem.ufunc("multiply", r, sem.ufunc("sin", phi))
    return _weak(make_complex(re, im))


def make_complex(re: Any, im: Any) -> Tracer:
    """complex(re, im) of two real scalars, without arithmetic (inf and nan stay)."""
    re, im = sem.as_value(re, np.float64), sem.as_value(im, np.float64)
    return sem.wrap(ctx.emit1(prim("make_complex"), [re, im]))


def _clog(z, base=None):
    res = sem.ufunc("log", as_complex(z, "cmath.log()"))
    if base is not None:
        b = as_complex(base, "cmath.log()") if is_tracer(base) else complex(base)
        res = sem.ufunc("divide", res, sem.ufunc("log", b))
    return _weak(res)


def _cpredicate(name: str, both: bool):
    """cmath.isnan/isinf: either part; cmath.isfinite: both parts."""
    def fn(z):
        re, im = _parts(as_complex(z, f"cmath.{name}()"))
        test = "isfinite" if both else name
        return _weak(sem.ufunc("logical_and" if both else "logical_or", sem.ufunc(test, re), sem.ufunc(test, im)))

    return fn


def _cisclose(a, b, *, rel_tol=1e-09, abs_tol=0.0):
    a = as_complex(a, "cmath.isclose()") if is_tracer(a) else complex(a)
    b = as_complex(b, "cmath.isclose()") if is_tracer(b) else complex(b)
    diff = sem.ufunc("absolute", sem.ufunc("subtract", a, b))
    scale = sem.ufunc("maximum", sem.ufunc("absolute", a), sem.ufunc("absolute", b))
    tol = sem.ufunc("maximum", sem.ufunc("multiply", rel_tol, scale), abs_tol)
    fin = sem.ufunc("logical_and", _cpredicate("isfinite", True)(a), _cpredicate("isfinite", True)(b))
    close = sem.ufunc("logical_and", fin, sem.ufunc("less_equal", diff, tol))
    return _weak(sem.ufunc("logical_or", sem.ufunc("equal", a, b), close))


CMATH: dict[str, Callable] = {
    **{n: _complex_ufunc(n, u) for n, u in [
        ("acos", "arccos"), ("acosh", "arccosh"), ("asin", "arcsin"), ("asinh", "arcsinh"), ("atan", "arctan"),
        ("atanh", "arctanh"), ("cos", "cos"), ("cosh", "cosh"), ("sin", "sin"), ("sinh", "sinh"),
        ("tan", "tan"), ("tanh", "tanh"), ("exp", "exp"), ("log10", "log10"), ("sqrt", "sqrt")]},
    "log": _clog, "phase": _phase, "polar": _polar, "rect": _rect, "isclose": _cisclose,
    "isnan": _cpredicate("isnan", False), "isinf": _cpredicate("isinf", False),
    "isfinite": _cpredicate("isfinite", True),
}


def _table() -> dict[int, Callable]:
    out = {}
    for module, table in ((math, MATH), (cmath, CMATH)):
        for name, fn in table.items():
            real = getattr(module, name, None)
            if real is not None:
                out[id(real)] = _traced(real, fn)
    return out


FUNCTIONS: dict[int, Callable] = _table()


# --- scipy.special ufuncs on traced arrays (numpy_api.dispatch_ufunc) -----------------------------------
_SCIPY_SPECIAL: dict[int, str] = {}


def _scipy_table() -> dict[int, str]:
    """The scipy.special ufuncs with a primitive, by id, once scipy.special
    is imported: a ufunc of it can only reach the tracer after the user's
    code imported it (importing it here cost 0.14-0.2 s of `import looptrace`)."""
    if not _SCIPY_SPECIAL:
        sp = sys.modules.get("scipy.special")
        if sp is None:
            return _SCIPY_SPECIAL
        _SCIPY_SPECIAL.update({id(sp.erf): "erf", id(sp.erfc): "erfc", id(sp.gamma): "gamma",
                               id(sp.gammaln): "lgamma", id(sp.psi): "digamma", id(sp.digamma): "digamma"})
    return _SCIPY_SPECIAL


def special_ufunc(ufunc) -> Callable | None:
    primitive = _scipy_table().get(id(ufunc))
    if primitive is None:
        return None

    def call(x):
        x = x if is_tracer(x) else sem.wrap(sem.as_value(x))
        if x.dtype.kind == "c":
            raise UnsupportedError(f"scipy.special.{ufunc.__name__} of complex values is not supported",
                                   ctx.current_loc())
        dtype = float_dtype(x.dtype) if x.dtype != np.float16 else np.dtype(np.float32)
        return sem.wrap(ctx.emit1(prim(primitive), [sem.as_value(x, dtype)]))

    return call
