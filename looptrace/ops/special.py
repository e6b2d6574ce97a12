"""Special functions and complex parts: elementwise primitives that are not
NumPy ufuncs.

  erf, erfc, gamma, lgamma   Python's `math` functions (and scipy.special's
                             erf, erfc, gamma, gammaln) on float arrays
  digamma, trigamma          their derivatives' building blocks (scipy's psi,
                             polygamma(1, .))
  real, imag                 the parts of a complex array (a float array)
  make_complex               complex(re, im) of two float arrays

Invariant: the tracer converts inputs to the loop dtype first (`float_dtype`:
float32 stays float32, everything else computes in float64; `make_complex`
takes two inputs of one float dtype), so the output dtype is the input's
(`real`/`imag`: the float dtype of the complex input). The NumPy
implementation of erf/erfc/gamma/lgamma calls Python's own `math` functions
element by element, so the reference interpreter gives exactly what plain
Python gives; where Python raises a domain or range error, it gives the IEEE
value (nan or inf), as compiled code does.
"""
from __future__ import annotations

import math

import numpy as np

from looptrace.ir.primitive import NOT_DIFFERENTIABLE, Primitive, register

SPECIAL = ["erf", "erfc", "gamma", "lgamma", "digamma", "trigamma"]
COMPLEX_PARTS = ["real", "imag"]


def float_dtype(dtype) -> np.dtype:
    """The dtype a special function of `dtype` computes in (float32 or float64)."""
    return np.dtype(np.float32) if np.dtype(dtype) == np.float32 else np.dtype(np.float64)


def part_dtype(dtype) -> np.dtype:
    """The float dtype of a complex dtype's parts (a real dtype's own float dtype)."""
    dt = np.dtype(dtype)
    return np.dtype(np.float32) if dt == np.complex64 else float_dtype(dt) if dt.kind != "c" else \
        np.dtype(np.float64)


def complex_of(dtype) -> np.dtype:
    return np.dtype(np.complex64) if np.dtype(dtype) == np.float32 else np.dtype(np.complex128)


# --- NumPy implementations --------------------------------------------------------------------
# scipy.special is imported by the first call that needs it: at `import looptrace` it was 0.14-0.2 s
# of 0.5 s, for programs that mostly never meet a special function.
_SCIPY = {"erf": "erf", "erfc": "erfc", "gamma": "gamma", "lgamma": "gammaln"}


def _scipy(name: str):
    import scipy.special

    return getattr(scipy.special, name)


def _python_math(name: str):
    """`math.<name>` over an array, element by element; a domain or range error
    gives scipy's IEEE value instead (gamma(-1) = nan, lgamma(0) = inf)."""
    fn = getattr(math, name)

    def one(x: float) -> float:
        try:
            return fn(x)
        except (ValueError, OverflowError):
            return float(_scipy(_SCIPY[name])(x))

    vec = np.frompyfunc(one, 1, 1)

    def impl(x):
        x = np.asarray(x)
        return np.asarray(vec(x.astype(np.float64)), dtype=np.float64).astype(float_dtype(x.dtype))

    return impl


def _scipy_impl(fn):
    """`fn(scipy.special, x)` over an array, in float64."""
    def impl(x):
        x = np.asarray(x)
        with np.errstate(all="ignore"):
            return np.asarray(fn(_scipy, x.astype(np.float64))).astype(float_dtype(x.dtype))

    return impl


IMPLS = {name: _python_math(name) for name in ("erf", "erfc", "gamma", "lgamma")}
IMPLS["digamma"] = _scipy_impl(lambda sp, x: sp("psi")(x))
IMPLS["trigamma"] = _scipy_impl(lambda sp, x: sp("polygamma")(1, x))


# --- the records ----------------------------------------------------------------------------------
def _special_abstract(x, **_):
    return [(float_dtype(x.dtype), tuple(x.shape))]


def _part_abstract(x, **_):
    return [(part_dtype(x.dtype), tuple(x.shape))]


def _make_complex_abstract(re, im, **_):
    from .shape_arith import broadcast_shapes

    return [(complex_of(re.dtype), broadcast_shapes(re.shape, im.shape))]


for _name in SPECIAL:
    register(Primitive(_name, "elementwise", _special_abstract, IMPLS[_name], elementwise=True,
                       doc=f"{_name}(x) elementwise (float32 or float64)"))
register(Primitive("real", "elementwise", _part_abstract, lambda x: np.asarray(np.real(x)).copy(),
                   elementwise=True, cheap=True, doc="the real part (np.real)"))
register(Primitive("imag", "elementwise", _part_abstract,
                   lambda x: np.asarray(np.imag(x)).astype(part_dtype(np.asarray(x).dtype)),
                   elementwise=True, cheap=True, doc="the imaginary part (np.imag; zeros for a real array)"))
def _make_complex_impl(re, im):
    re, im = np.asarray(re), np.asarray(im)
    out = np.empty(np.broadcast_shapes(re.shape, im.shape), complex_of(re.dtype))
    out.real, out.imag = re, im
    return out


register(Primitive("make_complex", "elementwise", _make_complex_abstract, _make_complex_impl,
                   elementwise=True, cheap=True, doc="complex(re, im) elementwise (no arithmetic: inf and nan parts stay as they are)"))


# --- batching rules -----------------------------------------------------------------------------
def _attach_batching_rules() -> None:
    from .elementwise import _batch_elementwise
    from looptrace.ir.primitive import PRIMITIVES

    for name in SPECIAL + COMPLEX_PARTS + ["make_complex"]:
        PRIMITIVES[name].batch = _batch_elementwise(PRIMITIVES[name])


_attach_batching_rules()


# --- VJP rules ------------------------------------------------------------------------------------
# Complex cotangents follow JAX's convention (the transpose of the linear map
# on (re, im) pairs): real^T(g) = complex(g, 0), imag^T(g) = complex(0, -g),
# make_complex^T(g) = (real(g), -imag(g)).
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _gauss(b, x):
    """2/sqrt(pi) * exp(-x*x), the derivative of erf."""
    return b.scale(b.emit("exp", b.neg(b.mul(x, x))), _TWO_OVER_SQRT_PI)


_DERIVS = {
    "erf": lambda b, x, o: _gauss(b, x),
    "erfc": lambda b, x, o: b.neg(_gauss(b, x)),
    "gamma": lambda b, x, o: b.mul(o, b.emit("digamma", x)),
    "lgamma": lambda b, x, o: b.emit("digamma", x),
    "digamma": lambda b, x, o: b.emit("trigamma", x),
}


def _real_vjp(b, g, op):
    return b.emit("make_complex", g, b.zeros_like(g))


def _imag_vjp(b, g, op):
    return b.emit("make_complex", b.zeros_like(g), b.neg(g))


def _make_complex_vjp(k: int):
    def rule(b, g, op):
        from looptrace.ops.vjp_helpers import unbroadcast

        part = b.emit("real", g) if k == 0 else b.neg(b.emit("imag", g))
        return unbroadcast(b, part, op.inputs[k])

    return rule


def _attach_vjp_rules() -> None:
    from looptrace.ops.vjp_helpers import defvjp

    from .elementwise import _vjp_unary
    from looptrace.ir.primitive import PRIMITIVES

    for name, deriv in _DERIVS.items():
        defvjp(PRIMITIVES[name], _vjp_unary(deriv))
    # trigamma's own derivative (tetragamma) is not built: a third derivative of lgamma
    PRIMITIVES["trigamma"].vjp = NOT_DIFFERENTIABLE
    defvjp(PRIMITIVES["real"], _real_vjp)
    defvjp(PRIMITIVES["imag"], _imag_vjp)
    defvjp(PRIMITIVES["make_complex"], _make_complex_vjp(0), _make_complex_vjp(1))


_attach_vjp_rules()
