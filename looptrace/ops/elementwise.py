"""Elementwise primitives: NumPy ufuncs, `select` (np.where) and `convert`.

Invariant: the tracer converts inputs to the ufunc's loop dtypes before it
emits an op, so every elementwise op's inputs already have the dtypes the
computation runs in (NumPy 2 promotion is resolved at trace time, once).
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.primitive import Primitive, register

from .shape_arith import broadcast_shapes

UNARY = [
    "negative", "positive", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
    "sqrt", "cbrt", "square", "reciprocal", "absolute", "sign", "sin", "cos", "tan",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
    "arctanh", "floor", "ceil", "trunc", "rint", "logical_not", "isnan", "isinf",
    "isfinite", "invert", "deg2rad", "rad2deg", "conjugate",
]
BINARY = [
    "add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power",
    "maximum", "minimum", "fmax", "fmin", "arctan2", "hypot", "logaddexp",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
    "bitwise_xor", "left_shift", "right_shift", "copysign", "fmod", "gcd", "lcm",
]
UFUNCS: dict[str, np.ufunc] = {name: getattr(np, name) for name in UNARY + BINARY}
# About one machine instruction per element (the `cheap` trait): a loop nest of
# a few of these is bound by memory bandwidth, not arithmetic. The roundings are
# one instruction too (roundsd): as cheap feeders of a scan they are computed in
# its loop, not stacked (corpus histogram2d_loop 0.61x -> 1.06x numba.njit).
CHEAP = {"add", "subtract", "multiply", "negative", "positive", "absolute", "maximum", "minimum",
         "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
         "logical_or", "logical_not", "square", "floor", "ceil", "trunc", "rint", "isnan"}


def loop_dtypes(ufunc: np.ufunc, in_types: tuple, out_dtype=None) -> tuple[tuple, np.dtype]:
    """(input dtypes the loop runs in, output dtype) for `ufunc` applied to
    `in_types` (np.dtype, or the Python types int/float/complex/bool for weak
    scalars, as NEP 50 treats them); `out_dtype` is a ufunc's `dtype=`
    argument, which fixes the loop as NumPy's `signature` does."""
    try:  # (each key typed: a weak `int` equals dtype int64 but resolves otherwise)
        key = (ufunc, tuple((type(t), t) for t in in_types), type(out_dtype), out_dtype)
        known = _LOOPS.get(key)
    except TypeError:  # an unhashable dtype= argument
        key = known = None
    if known is not None:
        return known
    if all(isinstance(t, type) for t in in_types):
        # all weak: NumPy would pick its object loop for comparisons of Python ints
        in_types = tuple(np.dtype(t) for t in in_types)
    fixed = {} if out_dtype is None else {"signature": (None,) * ufunc.nin + (np.dtype(out_dtype),)}
    try:
        resolved = ufunc.resolve_dtypes(tuple(in_types) + (None,), **fixed)
    except TypeError as e:  # e.g. bitwise ops on floats
        raise TypeError(f"np.{ufunc.__name__} is not defined for {in_types}: {e}") from None
    if key is not None and len(_LOOPS) < 4096:
        _LOOPS[key] = (resolved[:-1], resolved[-1])
    return resolved[:-1], resolved[-1]


# (ufunc, typed input types, typed dtype=) -> loop_dtypes' answer: resolve_dtypes took ~10 us, asked
# for every elementwise op traced and again by its shape rule (emit, the verifier): ~2% of a tracer test file
_LOOPS: dict = {}


def _ufunc_abstract(ufunc: np.ufunc):
    def abstract(*xs, **_):
        _, out = loop_dtypes(ufunc, tuple(x.dtype for x in xs))
        return [(out, broadcast_shapes(*(x.shape for x in xs)))]

    return abstract


def _ufunc_impl(ufunc: np.ufunc):
    def impl(*xs, **_):
        with np.errstate(all="ignore"):
            return np.asarray(ufunc(*xs))

    if ufunc is np.power:
        return _power_impl
    return impl


def _power_impl(*xs, scalar_exponent: bool = False, **_):
    """np.power, but an integer power with a negative exponent gives 0 instead
    of raising: the tracer puts a check on such an exponent
    (tracer/semantics.py), which the vectorizer may move after the power
    when it merges it with another (an overflow check): the check raises
    the user's error, with the user's line, as on the compiled targets."""
    a, b = (np.asarray(x) for x in xs)
    if a.dtype.kind in "iub" and b.dtype.kind in "iu" and np.any(b < 0):
        with np.errstate(all="ignore"):
            return np.asarray(np.where(b < 0, 0, np.power(a, np.maximum(b, 0))))
    if scalar_exponent and a.dtype.kind == "f" and b.dtype == a.dtype:
        return _shortcut_power(a, b)
    if a.ndim and b.ndim == 0 and a.dtype.kind in "fc" and b == 0.5:
        # the op is each element's power: NumPy's array ** 0.5 is np.sqrt (nan at -inf, -0.0 at -0.0),
        # a scalar's is C's pow (inf, 0.0), as the loop the program came from computed it
        b = np.full(a.shape, b)
    with np.errstate(all="ignore"):
        return np.asarray(np.power(a, b))


# NumPy's float power loop, given one exponent p for the whole call (`array ** p`), computes
# x * x at p == 2, 1 / x at -1, sqrt(x) at 0.5 ((-0.0) ** 0.5 is -0.0, (-inf) ** 0.5 nan) and x at 1
# (float32's pow loop is not always exact there); pow at others, as for an exponent array
_SHORTCUTS = ((2.0, np.square), (-1.0, np.reciprocal), (0.5, np.sqrt), (1.0, np.positive))


def _shortcut_power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A power op marked `scalar_exponent` (tracer/methods.py: `x ** p` of an
    array x, or of a row x[i] in a loop the vectorizer batched, each element's
    exponent then one row's p): each element by its own exponent's shortcut,
    as NumPy's loop computes the call that exponent came from."""
    with np.errstate(all="ignore"):
        out = np.asarray(np.power(a, b))
        for value, fn in _SHORTCUTS:
            hit = b == value
            if np.any(hit):
                out = np.asarray(np.where(hit, fn(a), out), dtype=out.dtype)
    return out


def _define_ufunc(name: str) -> Primitive:
    ufunc = UFUNCS[name]
    return register(Primitive(name, "elementwise", _ufunc_abstract(ufunc), _ufunc_impl(ufunc),
                              elementwise=True, cheap=name in CHEAP,
                              extra={"ufunc": ufunc, "arity": ufunc.nin}))


for _name in UNARY + BINARY:
    _define_ufunc(_name)


def _select_abstract(cond, a, b, **_):
    return [(a.dtype, broadcast_shapes(cond.shape, a.shape, b.shape))]


select = register(Primitive(
    "select", "elementwise", _select_abstract, lambda c, a, b: np.asarray(np.where(c, a, b)),
    elementwise=True, cheap=True,
    doc="select(cond, a, b) = np.where(cond, a, b); a and b share a dtype"))


def _convert_abstract(x, *, dtype):
    return [(np.dtype(dtype), x.shape)]


def _convert_impl(x, *, dtype):
    x, dtype = np.asarray(x), np.dtype(dtype)
    with np.errstate(all="ignore"):
        if x.dtype.kind in "fc" and dtype.kind in "iu":
            return float_to_int(x.real, dtype)
        return x.astype(dtype)


# A float to an integer type as NumPy's scalar casts do on x86-64 (C's casts, as
# gcc compiles them): toward zero through int32's conversion for the types that fit
# in it, through int64's for uint32 and int64, then wrapped to the type; either
# conversion gives its "integer indefinite" (-2**31, -2**63) for NaN, the infinities
# and anything out of its range. (NumPy's own astype of an array takes SIMD
# conversions for some elements, which differ out of range: its result there depends
# on the array's length; this rule is its scalar one, `out[i] = x` in a loop.) The
# CPU target's conversions are the same rule (codegen/cpu/nprules.py).
_THROUGH_BITS = {"int8": 32, "uint8": 32, "int16": 32, "uint16": 32, "int32": 32, "uint32": 64, "int64": 64}


def _c_int(x: np.ndarray, bits: int) -> np.ndarray:
    """C's conversion of floats to a signed integer of `bits` on x86, as int64."""
    t = np.trunc(x)
    limit = 2.0 ** (bits - 1)
    return np.where((t >= -limit) & (t < limit), t, -limit).astype(np.int64)


def float_to_int(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if x.dtype.itemsize < 4:
        x = x.astype(np.float64)  # (float16 holds neither 2**31 nor 2**63: the bounds below are exact in float64)
    if dtype == np.uint64:  # at 2**63 and above: through int64 less 2**63, the top bit put back
        high = x >= 2.0 ** 63
        shifted = _c_int(np.where(high, x - 2.0 ** 63, x), 64).astype(np.uint64)
        return np.where(high, shifted ^ np.uint64(2 ** 63), shifted)
    return _c_int(x, _THROUGH_BITS[dtype.name]).astype(dtype)


convert = register(Primitive("convert", "elementwise", _convert_abstract, _convert_impl,
                             elementwise=True, cheap=True,
                             doc="x.astype(dtype)"))


# Python's int() of a float: the compiled targets' cast wraps a NaN, an infinity
# or a float past 2**63 around, where Python raises (or makes a big int).
# `failures` (ops/check.py Failure, made by `pyint_failures`): what NaN, an
# infinity and a finite float past int64 raise, each naming the user's line.
# Elementwise, so it is computed inside its consumer's loop (a gather's, a
# scatter's), the test next to the read; `may_raise`, so no pass moves it out
# of a loop that may not run or into a branch, and one nothing reads keeps its
# test (vectorize/dead_reads.py).
INT64_LIMIT = float(2**63)
BIG_INT_MESSAGE = ("int() of a float past 64 bits: plain Python makes a big integer here, looptrace's compiled "
                   "code holds int64")


def pyint_failures(loc) -> tuple:
    """The failures of a `pyint` at source line `loc`: Python's own messages."""
    from looptrace.errors import BigIntError

    from .check import Failure

    return (Failure(ValueError("cannot convert float NaN to integer"), loc),
            Failure(OverflowError("cannot convert float infinity to integer"), loc),
            Failure(BigIntError(BIG_INT_MESSAGE, loc), loc))


def failed_pyint(x) -> int | None:
    """Which failure (0 NaN, 1 infinity, 2 past int64) the first element of x
    that does not fit raises, in row-major order; None when all fit."""
    x = np.asarray(x)
    fits = (x >= -INT64_LIMIT) & (x < INT64_LIMIT)
    if fits.all():
        return None
    bad = x.reshape(-1)[int(np.argmin(fits.reshape(-1)))]
    return 0 if np.isnan(bad) else 1 if np.isinf(bad) else 2


def _pyint_abstract(x, *, failures):
    return [(np.dtype(np.int64), x.shape)]


def _pyint_impl(x, *, failures):
    j = failed_pyint(x)
    if j is not None:
        raise failures[j].make()
    return np.asarray(x).astype(np.int64)


pyint = register(Primitive("pyint", "elementwise", _pyint_abstract, _pyint_impl, elementwise=True, cheap=True,
                           may_raise=True, doc="int(x) of a whole float x as Python's (NaN, inf, |x| >= 2**63 raise)"))


# --- batching rules ---
def _batch_elementwise(prim: Primitive):
    """Batched operands get size-1 axes so the batch axis stays in front."""

    def rule(b, args, dims, **attrs):
        from looptrace.ops.batching_helpers import expand_to_rank

        rank = max(len(x.shape) - (d is not None) for x, d in zip(args, dims))
        xs = [expand_to_rank(b, x, rank) if d is not None else x for x, d in zip(args, dims)]
        return [b.op(prim, *xs, **attrs)], [0]

    return rule


def _attach_batching_rules() -> None:
    from looptrace.ir.primitive import PRIMITIVES

    for p in PRIMITIVES.values():
        if p.elementwise:
            p.batch = _batch_elementwise(p)


_attach_batching_rules()


# --- VJP rules ---
# Reverse mode, one line per input: `fn(b, g, op)` returns the cotangent of
# that input given the output's cotangent `g`; `unbroadcast` sums it down to
# the input's shape. Piecewise-constant ufuncs (floor, sign, ...) have a zero
# gradient; boolean and integer results are not differentiable. maximum and
# minimum split the cotangent evenly between tied inputs (as JAX does).
def _vjp_unary(deriv):
    """d out / d x as a function of (b, x, out); the rule is g * deriv."""
    return lambda b, g, op: _ct_times(b, g, deriv(b, op.inputs[0], op.out), op)


def _vjp_binary(dx, dy):
    """Partials of a binary ufunc as functions of (b, x, y, out)."""
    def side(deriv, k):
        if deriv is None:
            return None
        return lambda b, g, op: _unb(b, _ct_times(b, g, deriv(b, *op.inputs, op.out), op), op.inputs[k])

    return side(dx, 0), side(dy, 1)


# Partials that are finite wherever the op's inputs are, NaN and inf included (a 0/1/one-half tie mask)
_FINITE_PARTIALS = {"maximum", "minimum", "fmax", "fmin"}


def _ct_times(b, g, d, op):
    """g * d, where a zero cotangent contributes exactly zero: the side of
    np.where(x > 0, x * np.log(x), 0.) not taken, and an element a mask
    (x[x > 0], y[m] = ..., np.compress) leaves out, get one, while their
    partials may be NaN or inf: log's 1/x at 0, sqrt's at a negative x, and
    any partial read from a value that is already NaN (multiply's other
    operand, tanh's 1 - out**2, cos's -sin(x) of a NaN). Central finite
    differences give 0 there, not 0 * NaN.

    A square (x * x, np.square) also gives 0 where its partial 2 x is 0
    against an infinite cotangent: np.linalg.norm, np.std and a hand-written
    np.sqrt(np.sum(d * d)) at d == 0 (a point's distance to itself, the std
    of one element) send sqrt's infinite derivative at 0 to d * d; the term
    is the zero subgradient of |d|, which central differences give. A partial
    that is constant 0 (x * 0.0) gives 0. Elsewhere 0 * inf stays NaN, and a
    lone np.sqrt(x) at x == 0 keeps its infinite derivative (g * inf).

    A constant finite nonzero partial (add, negative, x * 2.0) or cotangent
    needs no guard; every other product gets a compare and a select (a
    square two compares and an or): within the noise of a one-process A/B
    of gradient kernels on cpu (session 49)."""
    prod = b.mul(g, d)
    if _plain_const(d) or op.prim.name in _FINITE_PARTIALS or _plain_const(g):
        return prod
    if d.is_const and not np.any(d.const):  # x * 0.0: no dependence at all
        return b.zeros(prod.shape, prod.dtype)
    zero = _e(b, "equal", g, _c(b, 0.0, g))
    if _squares(op):
        zero = _e(b, "logical_or", zero, _e(b, "equal", d, _c(b, 0.0, d)))
    return b.emit("select", zero, _c(b, 0.0, prod), prod)


def _squares(op) -> bool:
    """x * x or np.square(x): the sums of squares under a sqrt (norms,
    distances, std), whose partial 2 x is 0 where sqrt's derivative is inf."""
    return op.prim.name == "square" or (op.prim.name == "multiply" and op.inputs[0] is op.inputs[1])


def _plain_const(v) -> bool:
    """A constant, finite and nowhere zero: times it, 0 stays 0 and nothing becomes NaN."""
    return v.is_const and bool(np.all(np.isfinite(v.const) & (v.const != 0)))


def _unb(b, g, x):
    from looptrace.ops.vjp_helpers import unbroadcast

    return unbroadcast(b, g, x)


def _c(b, c, like):
    return b.lit(c, like)


def _e(b, name, *xs):
    return b.emit(name, *xs)


def _one_minus_sq(b, v):
    return b.sub(_c(b, 1.0, v), b.mul(v, v))


def _tie_mask(b, x, y, win):
    """1 where x wins against y, 1/2 on ties, else 0 (in x's dtype)."""
    wins = b.convert(_e(b, win, x, y), x.dtype)
    ties = b.convert(_e(b, "equal", x, y), x.dtype)
    return b.add(wins, b.scale(ties, 0.5))


def _safe_log(b, x):
    positive = _e(b, "greater", x, _c(b, 0.0, x))
    return _e(b, "log", b.emit("select", positive, x, _c(b, 1.0, x)))


def _logaddexp_share(b, x, y):
    """d logaddexp(x, y) / dx = 1 / (1 + exp(y - x)), from the operands, not
    the rounded result: exp(x - out) is 1 at a tie of large magnitude (out =
    x + ln 2 rounds to x at |x| ~ 1e30, the finite mask values), where the
    share is 1/2. 0 where y - x is NaN (both -inf: an unreachable state of a
    log-space recursion moves nothing; finite differences agree)."""
    d = b.sub(y, x)
    share = _e(b, "reciprocal", b.add(_c(b, 1.0, d), _e(b, "exp", d)))
    return b.emit("select", _e(b, "isnan", d), _c(b, 0.0, d), share)


def _over_hypot(b, v, x, y):
    """v / hypot(x, y)**2 as (v / r) / r: x*x + y*y overflows past ~1e154 and
    underflows below ~1e-154 (arctan2's derivative was inf at (1e-170, 2e-170)
    and 0 at (1e200, 2e200))."""
    r = _e(b, "hypot", x, y)
    return b.div(b.div(v, r), r)


def _hypot_share(b, x, o):
    """x / hypot: 0 where the hypot is 0 (the zero subgradient np.linalg.norm
    of a zero vector gets, and JAX's), not 0/0."""
    zero = _e(b, "equal", o, _c(b, 0.0, o))
    return b.emit("select", zero, _c(b, 0.0, o), b.div(x, b.emit("select", zero, _c(b, 1.0, o), o)))


def _pow_dx(b, x, y, out):
    zero_y = _e(b, "equal", y, _c(b, 0.0, y))
    safe_y = b.emit("select", zero_y, _c(b, 1.0, y), y)
    d = b.mul(y, _e(b, "power", x, b.sub(safe_y, _c(b, 1.0, y))))
    return b.emit("select", zero_y, _c(b, 0.0, x), d)


_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))
_UNARY_DERIVS = {
    "negative": lambda b, x, o: _c(b, -1.0, x),
    "positive": lambda b, x, o: _c(b, 1.0, x),
    "exp": lambda b, x, o: o,
    "exp2": lambda b, x, o: b.scale(o, _LN2),
    "expm1": lambda b, x, o: b.add(o, _c(b, 1.0, o)),
    "log": lambda b, x, o: _e(b, "reciprocal", x),
    "log2": lambda b, x, o: _e(b, "reciprocal", b.scale(x, _LN2)),
    "log10": lambda b, x, o: _e(b, "reciprocal", b.scale(x, _LN10)),
    "log1p": lambda b, x, o: _e(b, "reciprocal", b.add(x, _c(b, 1.0, x))),
    "sqrt": lambda b, x, o: b.div(_c(b, 0.5, o), o),
    "cbrt": lambda b, x, o: _e(b, "reciprocal", b.scale(b.mul(o, o), 3.0)),
    "square": lambda b, x, o: b.scale(x, 2.0),
    "reciprocal": lambda b, x, o: b.neg(b.mul(o, o)),
    "sin": lambda b, x, o: _e(b, "cos", x),
    "cos": lambda b, x, o: b.neg(_e(b, "sin", x)),
    "tan": lambda b, x, o: b.add(_c(b, 1.0, o), b.mul(o, o)),
    "arcsin": lambda b, x, o: _e(b, "reciprocal", _e(b, "sqrt", _one_minus_sq(b, x))),
    "arccos": lambda b, x, o: b.neg(_e(b, "reciprocal", _e(b, "sqrt", _one_minus_sq(b, x)))),
    "arctan": lambda b, x, o: _e(b, "reciprocal", b.add(_c(b, 1.0, x), b.mul(x, x))),
    "sinh": lambda b, x, o: _e(b, "cosh", x),
    "cosh": lambda b, x, o: _e(b, "sinh", x),
    "tanh": lambda b, x, o: _one_minus_sq(b, o),
    # hypot(x, 1) and sqrt(x - 1) sqrt(x + 1): x * x overflows from ~1e154 and loses x - 1 near 1
    "arcsinh": lambda b, x, o: _e(b, "reciprocal", _e(b, "hypot", x, _c(b, 1.0, x))),
    "arccosh": lambda b, x, o: _e(b, "reciprocal", b.mul(_e(b, "sqrt", b.sub(x, _c(b, 1.0, x))),
                                                        _e(b, "sqrt", b.add(x, _c(b, 1.0, x))))),
    "arctanh": lambda b, x, o: _e(b, "reciprocal", _one_minus_sq(b, x)),
    "deg2rad": lambda b, x, o: _c(b, np.pi / 180, x),
    "rad2deg": lambda b, x, o: _c(b, 180 / np.pi, x),
}
_BINARY_DERIVS = {
    "add": (lambda b, x, y, o: _c(b, 1.0, o), lambda b, x, y, o: _c(b, 1.0, o)),
    "subtract": (lambda b, x, y, o: _c(b, 1.0, o), lambda b, x, y, o: _c(b, -1.0, o)),
    "multiply": (lambda b, x, y, o: y, lambda b, x, y, o: x),
    "divide": (lambda b, x, y, o: _e(b, "reciprocal", y), lambda b, x, y, o: b.neg(b.div(o, y))),
    "remainder": (lambda b, x, y, o: _c(b, 1.0, o),
                  lambda b, x, y, o: b.neg(_e(b, "floor_divide", x, y))),
    "power": (_pow_dx, lambda b, x, y, o: b.mul(o, _safe_log(b, x))),
    "maximum": (lambda b, x, y, o: _tie_mask(b, x, y, "greater"),
                lambda b, x, y, o: _tie_mask(b, y, x, "greater")),
    "minimum": (lambda b, x, y, o: _tie_mask(b, x, y, "less"),
                lambda b, x, y, o: _tie_mask(b, y, x, "less")),
    "arctan2": (lambda b, x, y, o: _over_hypot(b, y, x, y), lambda b, x, y, o: b.neg(_over_hypot(b, x, x, y))),
    "hypot": (lambda b, x, y, o: _hypot_share(b, x, o), lambda b, x, y, o: _hypot_share(b, y, o)),
    "logaddexp": (lambda b, x, y, o: _logaddexp_share(b, x, y), lambda b, x, y, o: _logaddexp_share(b, y, x)),
    "copysign": (lambda b, x, y, o: b.mul(_e(b, "sign", x), _e(b, "sign", o)), None),
    "fmod": (lambda b, x, y, o: _c(b, 1.0, o), lambda b, x, y, o: b.neg(_e(b, "trunc", b.div(x, y)))),
}
_BINARY_DERIVS["fmax"] = _BINARY_DERIVS["maximum"]
_BINARY_DERIVS["fmin"] = _BINARY_DERIVS["minimum"]
_ZERO_GRADIENT = ["sign", "floor", "ceil", "trunc", "rint", "floor_divide"]
_NOT_DIFFERENTIABLE = [
    "gcd", "lcm",  # integers only
    "logical_not", "isnan", "isinf", "isfinite", "invert", "equal", "not_equal", "less",
    "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor",
    "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "pyint",
]


def _select_side(k):
    def rule(b, g, op):
        cond = op.inputs[0]
        zero = b.zeros((), g.dtype)
        picked = b.emit("select", cond, g, zero) if k == 1 else b.emit("select", cond, zero, g)
        return _unb(b, picked, op.inputs[k])

    return rule


def _conjugate_vjp(b, g, op):
    return _e(b, "conjugate", g)


def _absolute_vjp(b, g, op):
    """Real x: g * sign(x). Complex x (JAX's convention): g * conj(x) / |x|, 0 at 0."""
    x, o = op.inputs[0], op.out
    if x.dtype.kind != "c":
        return _ct_times(b, g, _e(b, "sign", x), op)
    safe = b.emit("select", _e(b, "equal", o, _c(b, 0.0, o)), _c(b, 1.0, o), o)
    unit = b.div(_e(b, "conjugate", x), b.convert(safe, x.dtype))
    return b.mul(b.convert(g, x.dtype), unit)


def _convert_vjp(b, g, op):
    x = op.inputs[0]
    if x.dtype.kind not in "fc":
        return None
    if g.dtype.kind == "c" and x.dtype.kind != "c":
        g = _e(b, "real", g)  # the real part of a cotangent: no ComplexWarning cast
    return b.convert(g, x.dtype)


def _attach_vjp_rules() -> None:
    from looptrace.ir.primitive import NOT_DIFFERENTIABLE, PRIMITIVES
    from looptrace.ops.vjp_helpers import defvjp

    for name, deriv in _UNARY_DERIVS.items():
        defvjp(PRIMITIVES[name], _vjp_unary(deriv))
    for name, (dx, dy) in _BINARY_DERIVS.items():
        defvjp(PRIMITIVES[name], *_vjp_binary(dx, dy))
    for name in _ZERO_GRADIENT:
        defvjp(PRIMITIVES[name], *([None] * PRIMITIVES[name].extra["arity"]))
    for name in _NOT_DIFFERENTIABLE:
        PRIMITIVES[name].vjp = NOT_DIFFERENTIABLE
    defvjp(PRIMITIVES["conjugate"], _conjugate_vjp)
    defvjp(PRIMITIVES["absolute"], _absolute_vjp)
    defvjp(select, None, _select_side(1), _select_side(2))
    defvjp(convert, _convert_vjp)


_attach_vjp_rules()
