"""Operators and methods of `Tracer`, defined from the NumPy namespace."""
from __future__ import annotations

import numpy as np

from looptrace.errors import ShapeError, UnsupportedError
from looptrace.ops.elementwise import loop_dtypes

from . import context as ctx
from . import indexing, nests, numpy_api as nx
from . import semantics as sem
from . import masked, np_arrays, np_breadth, np_more, np_partition, np_surface, np_writes, windows  # noqa: I001  (after numpy_api, whose namespace they extend)
from .array import Tracer
from .numpy_errors import output_casting_error

BINARY_OPS = {
    "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
    "floordiv": "floor_divide", "mod": "remainder", "pow": "power", "and": "bitwise_and",
    "or": "bitwise_or", "xor": "bitwise_xor", "lshift": "left_shift", "rshift": "right_shift",
}
COMPARE_OPS = {"lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
               "eq": "equal", "ne": "not_equal"}


def _logical_or_bitwise(ufunc: str):
    return ufunc


def _matmul(self, other):
    if masked.is_selection(other):
        return NotImplemented  # v @ x[:, a:b]: the selection decides (masked.py)
    return sem.matmul(self, other)


def _binary(ufunc: str):
    def op(self, other):
        if masked.is_selection(other):
            return NotImplemented  # x[mask] decides (masked.py)
        if _repeats_sequence(ufunc, self, other):
            return NotImplemented  # `n * [x]` of a Python int n: Python repeats the list (n.__index__)
        if ufunc == "power" and _fast_power(self, other):
            return sem.ufunc(_fast_power(self, other), self)
        if ufunc == "power" and scalar_exponent(self, other):
            return sem.ufunc(ufunc, self, other, attrs=SCALAR_EXPONENT)
        if ufunc in _COMPLEX_OPS and _python_complex(self) and _float64_scalar(other):
            other = Tracer(other.value, weak=True)  # complex's own operator takes the float subclass
        return sem.ufunc(_bool_aware(ufunc, self, other), self, other)

    def rop(self, other):
        if _repeats_sequence(ufunc, self, other):
            return NotImplemented  # `[x] * n`, as above
        if ufunc in _COMPLEX_OPS and _python_complex(other) and _float64_scalar(self):
            self = Tracer(self.value, weak=True)
        return sem.ufunc(_bool_aware(ufunc, other, self), other, self)

    def iop(self, other):
        res = op(self, other)
        if self.weak or self.ndim == 0 and self.base is None and not self.array0d:
            return res  # a Python number or a NumPy scalar: `x += y` rebinds, nothing is written
        _inplace(self, res, ufunc)
        return self

    return op, rop, iop


# A Python complex on the left of a NumPy float64 scalar (`0.5j * x[i]`, `z * x[i]` of `z = 0j`):
# np.float64 subclasses Python's float, so complex's own operator takes it, as a Python float, and
# the result is a Python complex (a zero divisor raises ZeroDivisionError); NumPy's, on the right
# (`x[i] * 0.5j`), is a np.complex128. (A Python float or int on the left is NumPy's: np.float64's
# reflected operator runs first, or float's refuses the other.)
_COMPLEX_OPS = ("add", "subtract", "multiply", "divide", "power", "equal", "not_equal")


def _python_complex(x) -> bool:
    return sem.is_weak(x) and sem.dtype_of(x).kind == "c" and np.ndim(x) == 0


def _float64_scalar(x) -> bool:
    return isinstance(x, Tracer) and not x.weak and x.ndim == 0 and not x.array0d and x.base is None \
        and x.dtype == np.float64 and x.pyflag is None


def _clip_method(self, min=None, max=None, out=None, **kw):
    """ndarray.clip: either bound may be left out (`x.clip(0)`), unlike np.clip."""
    return nx.clip(self, min, max, out, **kw)


def _conj_method(self):
    """ndarray.conj(): the array itself unless complex (NumPy returns self, a
    bool array stays bool; np.conjugate makes it int8)."""
    return nx.conjugate(self) if self.dtype.kind == "c" else self


def _repeats_sequence(ufunc: str, self, other) -> bool:
    """A Python int (weak, traced) times a list or tuple: Python's repetition,
    which needs the int's value (an int argument is then specialized on)."""
    return ufunc == "multiply" and isinstance(other, (list, tuple)) and self.weak and self.ndim == 0 \
        and self.dtype.kind in "iu"


def _fast_power(base, exponent) -> str | None:
    """NumPy computes `array ** 2` as np.square (bool ** 2 is int8), and
    `** 0.5`, `** -1` of a float array as np.sqrt, np.reciprocal. Not for a
    NumPy scalar (`z[i] ** 2` of a bool is an int64, `x[i] ** 0.5` of -inf
    is inf): its power is np.power's."""
    if not masked.is_selection(base) and (base.weak or base.ndim == 0 and not base.array0d):
        return None
    if type(exponent) is int and exponent == 2:
        return "square"
    if base.dtype.kind in "fc" and type(exponent) is float and exponent == 0.5:
        return "sqrt"
    if base.dtype.kind in "fc" and type(exponent) is int and exponent == -1:
        return "reciprocal"
    return None


SCALAR_EXPONENT = {"scalar_exponent": True}


def scalar_exponent(base, exponent) -> bool:
    """`x ** p` / np.power(x, p) of an array x (ndim >= 1) and one exponent
    for every element (a traced scalar, a NumPy scalar, a 0-d or size-1
    array that does not widen the result): NumPy's loop then takes its
    shortcuts on p's value at run time (p == 2: np.square, -1: np.reciprocal,
    0.5: np.sqrt; (-0.0) ** 0.5 is -0.0, (-inf) ** 0.5 nan), which the op's
    `scalar_exponent` attribute asks of every backend (ops/elementwise.py
    `_power_impl`, codegen/cpu/scalar.py `element_expr`, cuda rules/scalar.py).
    A NumPy scalar's or Python number's own power is C's pow, as is an
    exponent array's element by element (no attribute)."""
    if not isinstance(base, Tracer) or base.weak or base.ndim == 0:
        return False
    if isinstance(exponent, (bool, int, float, complex, np.ndarray, np.generic)):
        shape = np.shape(exponent)
    elif isinstance(exponent, Tracer):
        shape = exponent.shape
    else:
        return False
    if int(np.prod(shape)) != 1 or len(shape) > base.ndim:
        return False
    if not {base.dtype.kind, sem.dtype_of(exponent).kind} <= set("fiub"):
        return False
    try:  # float32/float64 loops only (float16's has no shortcuts: np.power(x16, 0.5) is pow's)
        _, out = loop_dtypes(np.power, (base.dtype, sem.dtype_for_promotion(exponent)))
    except TypeError:
        return False
    return np.dtype(out) in (np.float32, np.float64)


def _bool_aware(ufunc: str, a, b) -> str:
    """`&`, `|`, `^` on booleans are the logical ufuncs, as in NumPy."""
    if ufunc in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        if sem.dtype_of(a) == np.bool_ and sem.dtype_of(b) == np.bool_:
            return "logical_" + ufunc[8:]
    return ufunc


def _inplace(target: Tracer, res: Tracer, ufunc: str) -> None:
    """`a op= b`: NumPy writes into `a`, casting same_kind, keeping a's shape."""
    if res.shape != target.shape:
        raise ShapeError(f"non-broadcastable output operand with shape {target.shape} doesn't match "
                         f"the broadcast shape {res.shape}", ctx.current_loc())  # NumPy's ValueError
    if res.dtype != target.dtype:
        if not np.can_cast(res.dtype, target.dtype, "same_kind"):
            raise output_casting_error(ufunc, res.dtype, target.dtype,
                                       "write `a = a op b` to get a new array of the promoted type")
        res = sem.astype(res, target.dtype)
    target.assign(res.value)


def _compare(ufunc: str):
    def op(self, other):
        if masked.is_selection(other):
            return NotImplemented
        if ufunc in _COMPLEX_OPS and _python_complex(self) and _float64_scalar(other):
            return sem.ufunc(ufunc, self, Tracer(other.value, weak=True))  # complex.__eq__: a Python bool
        return sem.ufunc(ufunc, self, other)

    return op


def _install() -> None:
    for py, uf in BINARY_OPS.items():
        op, rop, iop = _binary(uf)
        setattr(Tracer, f"__{py}__", op)
        setattr(Tracer, f"__r{py}__", rop)
        setattr(Tracer, f"__i{py}__", iop)
    for py, uf in COMPARE_OPS.items():
        setattr(Tracer, f"__{py}__", _compare(uf))
    Tracer.__neg__ = lambda self: sem.ufunc("negative", self)
    Tracer.__pos__ = lambda self: sem.ufunc("positive", self)
    Tracer.__abs__ = lambda self: sem.ufunc("absolute", self)
    Tracer.__invert__ = lambda self: sem.ufunc("logical_not" if self.dtype == np.bool_ and not self.weak
                                               else "invert", self)  # (~True is -2 in Python)
    Tracer.__matmul__ = _matmul
    Tracer.__rmatmul__ = lambda self, other: sem.matmul(other, self)
    Tracer.__getitem__ = indexing.getitem
    Tracer.__setitem__ = indexing.setitem
    Tracer.T = property(lambda self: nx.transpose(self))
    Tracer.mT = property(lambda self: nx.swapaxes(self, -1, -2))
    Tracer.__round__ = _round_builtin
    Tracer.flat = property(nests.flat)
    Tracer.real = property(nx.real, lambda self, v: nx.set_part(self, "real", v))
    Tracer.imag = property(nx.imag, lambda self, v: nx.set_part(self, "imag", v))
    methods = {
        "sum": nx.sum_, "prod": nx.NAMESPACE["prod"], "max": nx.NAMESPACE["max"],
        "min": nx.NAMESPACE["min"], "all": nx.NAMESPACE["all"], "any": nx.NAMESPACE["any"],
        "mean": nx.mean, "var": nx.var, "std": nx.std, "argmax": nx.argmax, "argmin": nx.argmin,
        "dot": nx.dot, "transpose": _transpose_method, "reshape": nx.reshape, "ravel": nx.ravel,
        "flatten": lambda self: nx.copy(nx.ravel(self)), "squeeze": nx.squeeze, "clip": _clip_method,
        "copy": _copy, "astype": nx.astype, "swapaxes": nx.swapaxes, "cumsum": nx.NAMESPACE["cumsum"],
        "round": nx.NAMESPACE["round"], "conj": _conj_method, "conjugate": _conj_method,
        "trace": nx.trace, "cumprod": nx.NAMESPACE["cumprod"], "argsort": nx.NAMESPACE["argsort"],
        "sort": np_arrays.sort_method, "repeat": nx.NAMESPACE["repeat"], "nonzero": nx.NAMESPACE["nonzero"],
        "item": _item_method, "partition": np_partition.partition_method,
        "argpartition": np_partition.argpartition_method, "diagonal": np_more.diagonal_method,
        "searchsorted": np_breadth.searchsorted_method,
    }
    methods["trace"] = np_more.trace_method  # with offset and axes
    methods.update(np_surface.METHODS)  # reshape/ravel/flatten with order="F", take, compress, choose
    methods.update({"fill": np_writes.fill_method, "put": np_writes.put_method, "view": _view_method,
                    "tolist": _tolist_method, "is_integer": _is_integer_method})
    Tracer.__divmod__ = lambda self, other: nx.NAMESPACE["divmod"](self, other)
    Tracer.__rdivmod__ = lambda self, other: nx.NAMESPACE["divmod"](other, self)
    Tracer.itemsize = property(lambda self: self.dtype.itemsize)
    Tracer.nbytes = property(lambda self: self.size * self.dtype.itemsize)
    for name in np_writes.METHODS_WITH_OUT:  # a.sum(axis, out=o), a.round(1, out=r), ...
        methods[name] = np_writes.out_form(methods[name], name)
    for name, fn in methods.items():
        setattr(Tracer, name, fn)
    Tracer.__getattr__ = _missing_attribute
    Tracer.__copy__ = _copy
    Tracer.__deepcopy__ = lambda self, memo: _copy(self)
    masked.install_operators(BINARY_OPS, COMPARE_OPS, _fast_power)
    windows.install(BINARY_OPS, COMPARE_OPS)


# --- a traced Python number is a Python number ---------------------------------------------
# A weak Tracer stands for a Python bool, int, float or complex (an argument, a range() index,
# `float(v)`, `a.item()`): in the user's code it has only that type's attributes, so `x.sum()`
# and `x.shape` raise Python's AttributeError and `x[0]` its TypeError, as in the plain function
# (runtime.attr, runtime.getitem, ...). NumPy's scalars (np.float64(1.5)) keep ndarray's attributes.
PYTHON_TYPES = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


def python_type_of(x) -> type | None:
    """The Python number type a value stands for in the user's code: its
    own for a Python number, the one a weak 0-d Tracer stands for; None for
    an array, a NumPy scalar or anything else."""
    if isinstance(x, Tracer):
        return PYTHON_TYPES.get(x.dtype.kind, int) if x.weak and not x.value.shape else None
    return type(x) if type(x) in (bool, int, float, complex) else None


def python_error(cls: type, message: str) -> Exception:
    """Python's own exception (`'float' object has no attribute 'sum'`), the user's line as a note."""
    e = cls(message)
    loc = ctx.current_loc() if ctx.tracing() else None
    if loc is not None and loc.line > 0:
        e.add_note(f'  File "{loc.file}", line {loc.line}\n    {loc.text.strip()}')
    return e


def check_number_attribute(x: Tracer, name: str) -> None:
    """`x.name` in the user's code, x a traced Python number: Python's AttributeError where its type lacks it."""
    py = python_type_of(x)
    if py is not None and not hasattr(py, name):
        raise python_error(AttributeError, f"'{py.__name__}' object has no attribute '{name}'")


def number_type_name(x: Tracer) -> str | None:
    """The name of the number type a 0-d Tracer stands for in the user's code
    ('float', 'numpy.float64'), or None for an array (a 0-d one too)."""
    py = python_type_of(x)
    if py is not None:
        return py.__name__
    if type(x) is Tracer and x.ndim == 0 and x.base is None and not x.array0d:  # (not an np.nditer element)
        return f"numpy.{x.dtype.name}"
    return None


def iteration_error(x: Tracer) -> TypeError:
    """Python's TypeError for iterating x, a 0-d Tracer: `'float' object is
    not iterable` for a number, NumPy's `iteration over a 0-d array` for a 0-d array."""
    name = number_type_name(x)
    return python_error(TypeError, f"'{name}' object is not iterable" if name else "iteration over a 0-d array")


def check_number_subscript(x: Tracer, written: bool = False) -> None:
    """`x[k]` (`x[k] = v`) in the user's code, x a traced Python number
    (or, written, a NumPy scalar): Python's TypeError."""
    name = python_type_of(x) and python_type_of(x).__name__ if not written else number_type_name(x)
    if name is not None:
        raise python_error(TypeError, f"'{name}' object " + (
            "does not support item assignment" if written else "is not subscriptable"))


class UnsupportedAttribute(UnsupportedError, AttributeError):
    """An ndarray attribute a Tracer lacks: an AttributeError too, so that
    `hasattr` and duck typing keep working."""


def _copy(self, order="K"):
    """a.copy(), copy.copy, copy.deepcopy: an array's copy (a 0-d one is a 0-d
    array); a NumPy scalar is itself (immutable)."""
    if nx._is_numpy_scalar(self):
        return self
    return nx.as_ndarray(nx.copy(self))


def _missing_attribute(self, name: str):
    """Array methods without a traced version fail with the user's line."""
    if name.startswith("_"):  # (before reading self: an object copy.copy made without __init__ has no _box)
        raise AttributeError(f"'Tracer' object has no attribute {name!r}")
    from .external import MISSING, subclass_attribute

    found = subclass_attribute(self, name)  # a method or attribute of an ndarray subclass of the user's
    if found is not MISSING:
        return found
    if self.ndim == 0 and any(hasattr(t, name) for t in _SCALAR_TYPES):
        raise UnsupportedAttribute(f"the number method .{name}() is not supported on traced numbers",
                                   ctx.current_loc(), "see looptrace's list of supported Python and NumPy "
                                   "functions")
    if not hasattr(np.ndarray, name):
        # NumPy's own message (a traced value stands for an array or a NumPy scalar), at the user's line
        what = "numpy.ndarray" if self.ndim or self.array0d else \
            {"f": "float", "i": "int", "b": "bool", "c": "complex"}.get(self.dtype.kind, "int") \
            if self.weak else f"numpy.{self.dtype.name}"
        raise python_error(AttributeError, f"'{what}' object has no attribute '{name}'")
    raise UnsupportedAttribute(f"the array method or attribute .{name} is not supported on traced arrays",
                           ctx.current_loc(), "see looptrace's list of supported NumPy functions")


_SCALAR_TYPES = (int, float, complex, np.float64, np.int64, np.complex128)


def _is_integer_method(self):
    """float.is_integer() (and NumPy's scalars'): finite and whole."""
    if self.ndim != 0:
        raise AttributeError("'numpy.ndarray' object has no attribute 'is_integer'")
    if self.dtype.kind in "biu":
        if self.weak and not hasattr(int, "is_integer"):  # (Python's int has it from 3.12)
            raise AttributeError("'int' object has no attribute 'is_integer'")
        return Tracer(sem.as_value(True, np.bool_), weak=self.weak)
    if self.dtype.kind == "c":
        raise AttributeError("'complex' object has no attribute 'is_integer'")
    whole = sem.ufunc("equal", sem.ufunc("floor", self, numpy=True), self, numpy=True)
    out = sem.ufunc("logical_and", whole, sem.ufunc("isfinite", self, numpy=True), numpy=True)
    return Tracer(out.value, weak=True)  # a Python bool, NumPy's scalars' method too


# the Python scalar that ndarray.item() makes of each dtype kind, as the dtype it is traced in
_PYTHON_SCALAR = {"b": np.bool_, "i": np.int64, "u": np.int64, "f": np.float64, "c": np.complex128}


def _item_method(self, *args):
    """a.item(), a.item(k), a.item(i, j): one element as a Python scalar,
    traced as a weak value (it promotes as a Python bool, int, float or
    complex does). An unsigned value past 2**63 is held as int64 bits, which
    convert back exactly where it meets an unsigned array."""
    if not args:
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        elem = nx.reshape(self, ())
    elif len(args) == 1 and not isinstance(args[0], tuple):
        elem = nx.reshape(self, (-1,))[args[0]]
    else:
        elem = self[tuple(args[0]) if len(args) == 1 else args]
    return Tracer(sem.astype(elem, _PYTHON_SCALAR[self.dtype.kind]).value, weak=True)


def _view_method(self, dtype=None, type=None):
    """a.view(): the same elements, a view that sees and makes the same writes."""
    if dtype is not None or type is not None:
        raise UnsupportedError("ndarray.view with a dtype or type is not supported on traced arrays",
                               ctx.current_loc(), "reinterpreting the bytes needs a memory layout; use .astype "
                               "to convert the values")
    return self if nx._is_numpy_scalar(self) else self[...]  # (a NumPy scalar's view is itself)


def _tolist_method(self):
    """a.tolist(): nested lists of the elements, each a Python scalar (item());
    a 1-D array's list grown by a loop traced once (runtime.comp_list, as
    `[v.item() for v in a]` is), not by one trace per element."""
    if self.ndim == 0:
        return _item_method(self)
    if self.ndim == 1:
        from .runtime import comp_list  # (runtime imports this module)

        loc = ctx.current_loc()
        return comp_list(_item_method, self, (loc.file, loc.line))
    return [_tolist_method(self[i]) for i in range(self.shape[0])]


def _round_builtin(self, ndigits=None):
    """round(x[, ndigits]) of a traced scalar (tracer/pybuiltins.py)."""
    from .pybuiltins import round_traced

    return round_traced(self, ndigits)


def _transpose_method(self, *axes):
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = tuple(axes[0]) if axes[0] is not None else None
    return nx.transpose(self, axes or None)


_install()
