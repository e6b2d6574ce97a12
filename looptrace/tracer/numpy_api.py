"""The NumPy surface under tracing: the `np` a traced function sees, the
`__array_ufunc__`/`__array_function__` dispatch, and the array methods.

Functions here are compositions of `semantics` operations; none has rules of its
own (mean is sum / n, clip is minimum(maximum), norm is sqrt(sum(x*x)), ...).
"""
from __future__ import annotations

import builtins
import numbers
import operator
import types
from typing import Any

import numpy as np

from looptrace.errors import ShapeError, UnsupportedError
from looptrace.ops.elementwise import UFUNCS
from looptrace.ops.reduce import MONOID

from . import context as ctx
from . import indexing, kinds, layout
from . import semantics as sem
from .array import Tracer, as_array0d, is_tracer
from .values import Segment
from .own_arrays import made

_real_np = np


def _any_traced(*xs: Any) -> bool:
    for x in xs:
        if is_tracer(x) or isinstance(x, Segment):
            return True
        if isinstance(x, (list, tuple)) and _any_traced(*x):
            return True
    return False


# --- ufuncs ---------------------------------------------------------------------------------
ALIASES = {"abs": "absolute", "true_divide": "divide", "mod": "remainder", "conjugate": None,
           "radians": "deg2rad", "degrees": "rad2deg"}


class TracedUfunc:
    """`np.<ufunc>` as a traced function sees it: calls, `.reduce` and `.outer`
    trace, and so do add/subtract `.at` and add/multiply `.accumulate`; its
    other methods raise UnsupportedError when they meet a traced value;
    everything else is the real ufunc's."""

    def __init__(self, name: str):
        self.real = UFUNCS[name]
        self.__name__ = name

    def __repr__(self) -> str:
        return f"<traced ufunc {self.__name__}>"

    def __call__(self, *args, out=None, where=True, **kwargs):
        if len(args) > self.real.nin:  # outputs given by position, as NumPy allows
            from .np_writes import positional_out

            args, out = args[:self.real.nin], positional_out(args[self.real.nin:], self.real.nout)
        if isinstance(out, tuple) and all(o is None for o in out):
            out = None
        if out is not None or where is not True and where is not None:
            from . import np_writes  # out= and where=: the value, then one write into out

            if _any_traced(*args, out, where):
                return np_writes.ufunc_call(self, self.__name__, args, out, where, kwargs)
            return self.real(*args, out=out, where=where, **kwargs)
        if not _any_traced(*args):
            return self.real(*args, **kwargs)
        dtype = kwargs.pop("dtype", None)
        casting = kwargs.pop("casting", "same_kind")
        if kwargs or casting != "same_kind":
            raise UnsupportedError(f"np.{self.__name__} with {sorted(kwargs) or ['casting']} is not supported",
                                   ctx.current_loc())
        if self.__name__ == "power" and dtype is None and is_tracer(args[0]):
            from .methods import SCALAR_EXPONENT, _fast_power, scalar_exponent

            fast = _fast_power(*args)  # np.power(x, 0.5) of a float array is np.sqrt, as `x ** 0.5` is
            if fast == "sqrt":  # (np.power(b, 2) of bools is int64, where `b ** 2` is np.square's int8)
                return sem.ufunc(fast, args[0], numpy=True)
            if len(args) == 2 and scalar_exponent(*args):  # its run-time shortcuts (methods.py)
                return windows.carried(sem.ufunc("power", *args, numpy=True, attrs=SCALAR_EXPONENT), "power", args)
        return windows.carried(sem.ufunc(self.__name__, *args, dtype=dtype, numpy=True), self.__name__, args)

    def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False, **kw):
        _no_out(out)
        if not _any_traced(a):
            return self.real.reduce(a, axis=axis, dtype=dtype, keepdims=keepdims, **kw)
        from . import np_reductions

        if self.__name__ in np_reductions.FOLDED and not kw:  # logaddexp, fmax, bitwise_or, ...: compositions
            return np_reductions.ufunc_reduce(self.__name__, a, axis, dtype, keepdims)
        initial, where = kw.pop("initial", _NO_VALUE), kw.pop("where", True)
        if self.__name__ not in _UFUNC_REDUCE or kw:
            self._unsupported("reduce")
        self._check_logical_dtype(dtype)
        return _reduce(_UFUNC_REDUCE[self.__name__], a, axis, keepdims, dtype, initial, where)

    def _check_logical_dtype(self, dtype):
        """np.logical_and/or have bool loops only: another dtype= is NumPy's TypeError."""
        if self.__name__.startswith("logical_") and dtype is not None and np.dtype(dtype).kind != "b":
            raise TypeError(f"No loop matching the specified signature and casting was found for ufunc "
                            f"{self.__name__}")

    def reduceat(self, array, indices, axis=0, dtype=None, out=None):
        """np.add.reduceat (and the other reducing ufuncs'): segment reductions (np_reductions.py)."""
        _no_out(out)
        if not _any_traced(array, indices):
            return self.real.reduceat(array, indices, axis=axis, dtype=dtype)
        if self.__name__ not in _UFUNC_REDUCE:
            self._unsupported("reduceat")
        from . import np_reductions

        return np_reductions.reduceat(_UFUNC_REDUCE[self.__name__], self.__name__, array, indices, axis, dtype)

    def at(self, a, indices, b=None):
        """np.add.at / np.subtract.at into a traced array: repeated indices
        accumulate (advanced.py `add_at`); the other ufuncs' .at raise."""
        if not _any_traced(a, indices, b):
            return self.real.at(a, indices, b) if b is not None else self.real.at(a, indices)
        if self.__name__ not in ("add", "subtract") or b is None or not is_tracer(a):
            self._unsupported("at" if is_tracer(a) else "at into an array that is not traced")
        from . import advanced

        advanced.add_at(a, indices, b, self.__name__)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        """np.add.accumulate / np.multiply.accumulate: prefix sums and products;
        running maxima, minima, ands and ors (np_scans.py)."""
        _no_out(out)
        if not _any_traced(array):
            return self.real.accumulate(array, axis=axis, dtype=dtype)
        from . import np_scans

        self._check_logical_dtype(dtype)
        if self.__name__ in np_scans.RUNNING:
            return np_scans.accumulate(self.__name__, _tr(array), axis, dtype)
        if self.__name__ not in ("add", "multiply"):
            self._unsupported("accumulate")
        from . import np_arrays

        scan = np_arrays.cumsum if self.__name__ == "add" else np_arrays.cumprod
        return scan(array, axis=axis, dtype=dtype)

    def outer(self, a, b, **kw):
        from .masked import MaskedSelection, ufunc_outer

        if not kw and (isinstance(a, MaskedSelection) or isinstance(b, MaskedSelection)):
            return ufunc_outer(self.__name__, a, b)  # (a slice of run-time length: masked.py)
        if not _any_traced(a, b):
            return self.real.outer(a, b, **kw)
        a, b = _tr(a), _tr(b)
        return self(sem.reshape(a, a.shape + (1,) * b.ndim), b, **kw)

    def _unsupported(self, method: str):
        raise UnsupportedError(f"np.{self.__name__}.{method} is not supported on traced arrays",
                               ctx.current_loc(), "see looptrace's list of supported NumPy functions")

    def __getattr__(self, attr: str):
        value = getattr(self.real, attr)
        if callable(value) and not attr.startswith("_"):
            return _guarded(value, f"np.{self.__name__}.{attr}")
        return value


def ufunc_fn(name: str) -> TracedUfunc:
    return TracedUfunc(name)


def dispatch_ufunc(ufunc, method, inputs, kwargs):
    """`__array_ufunc__`: a NumPy ufunc met a Tracer (e.g. `ndarray @ tracer`)."""
    name = ufunc.__name__
    if name == "matmul" and method == "__call__" and not kwargs:
        return sem.matmul(*inputs)
    special = _scipy_special(ufunc, method, kwargs)
    if special is not None:
        return special(*inputs)
    if name not in UFUNCS or method not in ("__call__", "reduce", "outer"):
        suffix = "" if method == "__call__" else "." + method
        qualname = f"np.{name}" if getattr(np, name, None) is ufunc else f"the ufunc {name}"
        raise UnsupportedError(f"{qualname}{suffix} is not supported on traced arrays", ctx.current_loc(),
                               "see looptrace's list of supported NumPy functions")
    traced = TracedUfunc(name)
    return (traced if method == "__call__" else getattr(traced, method))(*inputs, **kwargs)


def _scipy_special(ufunc, method: str, kwargs: dict):
    """scipy.special.erf/erfc/gamma/gammaln/psi met a tracer: ops/special.py's
    primitives (float32 stays float32, others compute in float64, as scipy)."""
    from .pymath import special_ufunc

    if method != "__call__" or kwargs:
        return None
    return special_ufunc(ufunc)


_UFUNC_REDUCE = {"add": "reduce_sum", "multiply": "reduce_prod", "maximum": "reduce_max",
                 "minimum": "reduce_min", "logical_and": "reduce_all", "logical_or": "reduce_any"}


def dispatch_function(func, args, kwargs):
    name = func.__name__
    mod = getattr(func, "__module__", "") or ""
    table = {"np.": NAMESPACE, "np.linalg.": LINALG, "np.fft.": np_fft.TABLE,
             "np.lib.stride_tricks.": np_more.LIB_TABLE}.get(_public_prefix(mod))
    fn = table.get(name) if table is not None else None
    if fn is None or not callable(fn) or isinstance(fn, type):
        raise UnsupportedError(f"{_public_prefix(mod)}{name} is not supported on traced arrays",
                               ctx.current_loc(), "see looptrace's list of supported NumPy functions")
    return fn(*args, **kwargs)


def _public_prefix(module: str) -> str:
    """'numpy.fft._pocketfft' -> 'np.fft.'; 'numpy._core.fromnumeric' -> 'np.'."""
    parts = [p for p in module.split(".")[1:] if not p.startswith("_")]
    return "np." + "".join(p + "." for p in parts)


# --- reductions -------------------------------------------------------------------------------
_NO_VALUE = np._NoValue
# the fill that a `where=` mask puts in place of masked-out elements
_IDENTITY = {"reduce_sum": 0, "reduce_prod": 1, "reduce_all": True, "reduce_any": False}


def _reducer(prim: str):
    """np.sum/prod (which take dtype), np.max/min, np.all/any: NumPy's
    signatures, including `initial` and `where`."""
    real = getattr(np, prim[7:])

    def with_dtype(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):
        _no_out(out)
        if not _any_traced(a, where, initial):
            return real(a, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial, where=where)
        return _reduce(prim, a, axis, keepdims, dtype, initial, where)

    def without_dtype(a, axis=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):
        _no_out(out)
        if not _any_traced(a, where, initial):
            extra = {} if initial is _NO_VALUE else {"initial": initial}
            return real(a, axis=axis, keepdims=keepdims, where=where, **extra)
        return _reduce(prim, a, axis, keepdims, None, initial, where)

    return with_dtype if prim in ("reduce_sum", "reduce_prod") else without_dtype


def _reduce(prim: str, a, axis, keepdims: bool, dtype, initial, where) -> Tracer:
    a = _tr(a)
    if dtype is not None:
        a = sem.astype(a, dtype)
    has_initial = initial is not _NO_VALUE and initial is not None
    if not (where is True):
        fill = initial if prim in ("reduce_max", "reduce_min") else _IDENTITY[prim]
        if fill is _NO_VALUE or fill is None:
            raise ValueError(f"reduction operation '{prim[7:]}' does not have an identity, "
                             "so to use a where mask one has to specify 'initial'")
        a = sem.select(where, a, sem.astype(sem.broadcast_to(fill, ()), a.dtype))
    axes = sem.norm_axes(axis, a.ndim)
    if has_initial and prim in ("reduce_max", "reduce_min") and any(a.shape[i] == 0 for i in axes):
        a = _initial_slab(a, axes, initial)  # max/min of nothing: `initial` in every lane
    res = sem.reduce(prim, a, axis, keepdims)
    if has_initial:
        res = sem.ufunc(MONOID[prim], res, sem.astype(_tr(initial), res.dtype))
    if dtype is not None and res.dtype != np.dtype(dtype):
        # a narrow accumulator (np.sum(x, dtype=np.uint8)) wraps: the wide sum's low bits are its own;
        # a bool one is a logical or (and)
        res = sem.astype(res, dtype)
    return res


def _initial_slab(a: Tracer, axes: tuple, initial) -> Tracer:
    """In place of an array with an empty reduced axis: one slice of `initial`
    along the reduced axes (max/min of nothing)."""
    shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape))
    return sem.full(shape, initial, a.dtype)


def _no_out(out):
    if out is not None:
        raise UnsupportedError("the out= argument is not supported", ctx.current_loc())


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    _no_out(out)
    if not _any_traced(a, where):
        return np.mean(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    a = _tr(a)
    s = _reduce("reduce_sum", a, axis, keepdims, _mean_dtype(a, dtype), _NO_VALUE, where)
    return _divide_keeping_dtype(s, _count(a, axis, keepdims, where))


def _mean_dtype(a: Tracer, dtype: Any) -> Any:
    """NumPy accumulates the mean (and variance) of integers and bools in float64."""
    return np.float64 if dtype is None and a.dtype.kind in "biu" else dtype


def _count(a: Tracer, axis: Any, keepdims: bool = False, where: Any = True) -> Any:
    """How many elements each mean averages: a Python int, or a traced count under a mask."""
    if where is True:
        sizes = [a.shape[i] for i in sem.norm_axes(axis, a.ndim)]
        n = int(np.prod([d for d in sizes if isinstance(d, numbers.Integral)]))
        for d in sizes:
            if not isinstance(d, numbers.Integral):  # a run-time length (a list grown under a condition)
                n = sem.ufunc("multiply", _run_time_length(d), n)
        return n
    mask = sem.broadcast_to(sem.astype(where, np.bool_), a.shape)
    return sem.reduce("reduce_sum", sem.astype(mask, np.intp), axis, keepdims)


def _run_time_length(d) -> Tracer:
    """The traced length of an axis known only at run time (`_segment_value` records it)."""
    count = ctx.state().dim_counts.get(d.id)
    if count is None:
        raise UnsupportedError("a mean over an axis whose length is known only at run time", ctx.current_loc(),
                               "divide the sum by a count you keep")
    return sem.wrap(count)


def _divide_keeping_dtype(s: Tracer, n: Any) -> Tracer:
    """`s / n` in s's dtype, as np.mean divides its sum in place."""
    res = sem.ufunc("divide", s, n)
    return sem.astype(res, s.dtype) if res.dtype != s.dtype else res


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, **kw):
    _no_out(out)
    if not _any_traced(a, where, kw.get("mean")):
        return np.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where, **kw)
    ddof = _correction(ddof, kw)
    a = _tr(a)
    m = mean(a, axis, dtype, keepdims=True, where=where) if kw.get("mean") is None else kw["mean"]
    d = sem.ufunc("subtract", a, m)
    # NumPy's (d * conj(d)).real for complex d: real squares
    sq = sem.ufunc("multiply", d, d) if d.dtype.kind != "c" else sem.ufunc("square", sem.ufunc("absolute", d))
    s = _reduce("reduce_sum", sq, axis, keepdims, _mean_dtype(a, dtype), _NO_VALUE, where)
    n = _count(a, axis, keepdims, where)
    n = builtins.max(n - ddof, 0) if isinstance(n, int) else sem.ufunc("maximum", sem.ufunc("subtract", n, ddof), 0)
    return _divide_keeping_dtype(s, n)


def _correction(ddof, kw: dict):
    """np.var's array-API spelling `correction=` of ddof; `mean=` is the caller's
    mean (keepdims-shaped, as NumPy requires); anything else is refused."""
    extra = sorted(set(kw) - {"mean", "correction"})
    if extra:
        raise UnsupportedError(f"np.var with {extra} is not supported", ctx.current_loc())
    if "correction" in kw:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        return kw["correction"]
    return ddof


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, **kw):
    if not _any_traced(a, where, kw.get("mean")):
        return np.std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where, **kw)
    return sem.ufunc("sqrt", var(a, axis, dtype, out, ddof, keepdims, where=where, **kw))


def argmax(a, axis=None, out=None, keepdims=False):
    return _arg_reduce("argmax", a, axis, out, keepdims)


def argmin(a, axis=None, out=None, keepdims=False):
    return _arg_reduce("argmin", a, axis, out, keepdims)


def _arg_reduce(name: str, a, axis, out, keepdims: bool):
    _no_out(out)
    if not _any_traced(a):
        return getattr(np, name)(a, axis=axis, keepdims=keepdims)
    a = _tr(a)
    res = sem.arg_reduce(name, a, axis)
    if not keepdims:
        return res
    kept = sem.norm_axes(axis, a.ndim)
    return sem.reshape(res, tuple(1 if i in kept else d for i, d in enumerate(a.shape)))


def _tr(x: Any) -> Tracer:
    return x if is_tracer(x) else sem.wrap(sem.as_value(x), weak=sem.is_weak(x))


def _as_numpy(x: Any) -> Tracer:
    """x as NumPy's functions take it: a Python number becomes a NumPy scalar
    (np.round(1.5) is np.float64(2.0), not a float)."""
    x = _tr(x)
    return sem.wrap(x.value) if x.weak else x


# --- products -----------------------------------------------------------------------------------
def matmul(a, b, out=None):
    _no_out(out)
    return sem.matmul(a, b) if _any_traced(a, b) else np.matmul(a, b)


def dot(a, b, out=None):
    _no_out(out)
    return sem.dot(a, b) if _any_traced(a, b) else np.dot(a, b)


def vdot(a, b):
    """The dot product of the flattened arrays, the first one conjugated."""
    a = _tr(a)
    return sem.einsum("i,i->", ravel(conjugate(a) if a.dtype.kind == "c" else a), ravel(b))


def inner(a, b):
    if np.ndim(a) == 0 if not is_tracer(a) else a.ndim == 0:
        return sem.ufunc("multiply", a, b)
    na, nb = _tr(a).ndim, _tr(b).ndim
    la, lb = sem.LETTERS[:na - 1], sem.LETTERS[na - 1:na + nb - 2]
    return sem.einsum(f"{la}z,{lb}z->{la}{lb}", a, b)


def outer(a, b, out=None):
    _no_out(out)
    from .masked import MaskedSelection, ufunc_outer

    if isinstance(a, MaskedSelection) or isinstance(b, MaskedSelection):  # (a slice of run-time length)
        return ufunc_outer("multiply", a, b, ravel=True)
    return sem.einsum("i,j->ij", ravel(a), ravel(b))


def einsum(spec, *operands, optimize=False, dtype=None, casting="safe", **kw):
    if not _any_traced(*operands):
        return np.einsum(spec, *operands, optimize=optimize, dtype=dtype, casting=casting, **kw)
    if kw or not isinstance(spec, str):
        raise UnsupportedError(f"np.einsum with {sorted(kw) or 'operand lists'} is not supported",
                               ctx.current_loc())
    operands = [_tr(x) for x in operands]
    if dtype is not None:  # NumPy casts the operands and computes in `dtype`
        operands = [_cast_operand(x, dtype, casting) for x in operands]
    ins, out = _parse_einsum(spec.replace(" ", ""), len(operands))
    if any("..." in term for term in ins + [out or ""]):
        ins, out, operands = _expand_ellipsis(ins, out, operands)
    if out is None:  # implicit mode: the letters used once, in alphabetical order
        letters = "".join(ins)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return sem.einsum(",".join(ins) + "->" + out, *operands)


def _cast_operand(x: Tracer, dtype, casting: str) -> Tracer:
    if not np.can_cast(x.dtype, dtype, casting):
        raise TypeError(f"np.einsum: cannot cast an operand from {x.dtype} to {np.dtype(dtype)} "
                        f"according to the rule {casting!r}")
    return sem.astype(x, dtype)


def _parse_einsum(spec: str, n: int) -> tuple[list[str], str | None]:
    ins, _, out = spec.partition("->")
    terms = ins.split(",")
    if len(terms) != n:
        raise ShapeError(f"np.einsum: {len(terms)} operand subscripts for {n} operands", ctx.current_loc())
    return terms, (out if "->" in spec else None)


def _ellipsis_span(term: str, op: Tracer) -> tuple[int, int]:
    """The axes of `op` that the '...' of `term` stands for."""
    if "..." not in term:
        return 0, 0
    start = term.index("...")
    k = op.ndim - (len(term) - 3)
    if k < 0:
        raise ShapeError(f"np.einsum: subscripts {term!r} have more letters than the operand has axes",
                         ctx.current_loc())
    return start, start + k


def _expand_ellipsis(ins: list[str], out: str | None, ops: list[Tracer]):
    """'...ij,...jk->...ik': the ellipsis becomes fresh letters for the
    broadcast batch axes (right-aligned), each operand broadcast to them."""
    used = set("".join(ins) + (out or "")) - set(".")
    fresh = [c for c in sem.LETTERS + sem.LETTERS.upper() if c not in used]
    spans = [_ellipsis_span(t, op) for t, op in zip(ins, ops)]
    batch_shapes = [op.shape[a:b] for op, (a, b) in zip(ops, spans)]
    try:
        batch = tuple(np.broadcast_shapes(*batch_shapes))
    except ValueError:
        raise ShapeError("np.einsum: the '...' axes of shapes " + ", ".join(str(op.shape) for op in ops)
                         + " cannot be broadcast together", ctx.current_loc()) from None
    ell = "".join(fresh[:len(batch)])
    new_ins, new_ops = [], []
    for term, op, (a, b) in zip(ins, ops, spans):
        k = b - a
        target = batch[len(batch) - k:] if k else ()
        if op.shape[a:b] != target:
            op = sem.broadcast_to(op, op.shape[:a] + target + op.shape[b:])
        new_ins.append(term.replace("...", ell[len(ell) - k:] if k else ""))
        new_ops.append(op)
    if out is None:
        rest = "".join(new_ins)
        out = ell + "".join(sorted(c for c in set(rest) if rest.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new_ins, out, new_ops


def tensordot(a, b, axes=2):
    a, b = _tr(a), _tr(b)
    if isinstance(axes, numbers.Integral):
        ax_a, ax_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        ax_a, ax_b = ([axes[0]] if isinstance(axes[0], numbers.Integral) else list(axes[0]),
                      [axes[1]] if isinstance(axes[1], numbers.Integral) else list(axes[1]))
    ax_a = [x % a.ndim for x in ax_a]
    ax_b = [x % b.ndim for x in ax_b]
    la = list(sem.LETTERS[:a.ndim])
    lb = list(sem.LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in ax_a] + [c for j, c in enumerate(lb) if j not in ax_b]
    return sem.einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


# --- shapes ------------------------------------------------------------------------------------------
def reshape(a, *shape, order="C", newshape=None):
    if newshape is not None:
        shape = (newshape,)
    shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], numbers.Integral) else shape
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if order != "C":
        raise UnsupportedError("only C-order reshape is supported", ctx.current_loc())
    if not _any_traced(a):
        return np.reshape(a, shape)
    base = _tr(a)
    if base.runtime_length():
        from .array import runtime_length_error

        raise runtime_length_error("reshape")
    if _is_numpy_scalar(base):  # a number: NumPy reshapes a new array (a NumPy scalar's `.reshape(())` is itself)
        made = sem.reshape(sem.wrap(base.value), shape)
        return as_ndarray(made) if base.weak else made
    copies, ghost = layout.reshaped(layout.ghost_of(base), shape)
    if copies:  # NumPy copies (X.T.reshape(-1)): later writes to `base` are not seen, nor writes to it
        made = sem.reshape(base, shape)
    else:
        old_shape = base.shape
        made = DerivedView(base, lambda v: sem.reshape(sem.wrap(v), shape).value,
                           lambda v: sem.reshape(sem.wrap(v), old_shape).value, ghost)
    layout.watch(made, base)  # of an argument: its memory order may decide (layout.py)
    return as_ndarray(made)


def as_ndarray(res: Tracer) -> Tracer:
    """res, what NumPy's reshape, transpose, copy or view of an array gives:
    an ndarray, so a 0-d one is a 0-d array (`+=` writes into it, it is
    returned as one), not a NumPy scalar. res is a new Tracer (or view)."""
    if res.ndim == 0:
        res.array0d = True
    return res


class DerivedView(Tracer):
    """A view made by a function of its base's value (reshape, transpose, a
    complex array's part): it sees later writes to `base`, and a write into
    it replaces `base` by `undo` of the view's new value."""

    __slots__ = ("undo",)

    def __init__(self, base: Tracer, derive, undo, ghost, weak: bool = False):
        Tracer.__init__(self, base=base, derive=derive, weak=weak)
        self.undo, self.ghost = undo, ghost

    def assign(self, value) -> None:
        self.base.assign(self.undo(value))


class ReadOnlyView(DerivedView):
    """A view NumPy makes read-only (np.diagonal, np.broadcast_to, .imag of
    a real array): it sees later writes to `base`; a write into it raises
    NumPy's ValueError."""

    __slots__ = ()

    def __init__(self, base: Tracer, derive):
        DerivedView.__init__(self, base, derive, None, None, weak=base.weak)

    def assign(self, value) -> None:
        raise ValueError("assignment destination is read-only")


def read_only(base: Tracer, fn) -> Tracer:
    """fn(base) as a read-only view of base (fn: tracer -> tracer)."""
    return ReadOnlyView(base, lambda v: fn(sem.wrap(v, weak=base.weak)).value)


def ravel(a, order="C"):
    return reshape(a, (-1,), order=order)


def transpose(a, axes=None):
    if not _any_traced(a):
        return np.transpose(a, axes)
    base = _tr(a)
    if _is_numpy_scalar(base) and (axes is None or sem.axis_tuple(axes) == ()):  # a number: as reshape
        made = sem.wrap(base.value)
        return as_ndarray(made) if base.weak else made
    perm = tuple(range(base.ndim))[::-1] if axes is None else \
        tuple(int(k) % base.ndim if -base.ndim <= int(k) < base.ndim else -1 for k in sem.axis_tuple(axes))
    if sorted(perm) != list(range(base.ndim)):
        return sem.transpose(base, axes)  # raises NumPy's error
    back = tuple(int(k) for k in np.argsort(perm))
    return as_ndarray(DerivedView(base, lambda v: sem.transpose(sem.wrap(v), perm).value,
                                  lambda v: sem.transpose(sem.wrap(v), back).value,
                                  layout.transposed(layout.ghost_of(base), perm)))


def swapaxes(a, axis1, axis2):
    n = _tr(a).ndim
    axis1, axis2 = (np._core.multiarray.normalize_axis_index(int(k), n) for k in (axis1, axis2))
    perm = list(range(n))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(a, perm)


def moveaxis(a, source, destination):
    """NumPy's: the source axes (an int or a sequence) moved to the destinations, the rest in order."""
    n = _tr(a).ndim
    src, dst = np._core.numeric.normalize_axis_tuple(source, n, "source"), \
        np._core.numeric.normalize_axis_tuple(destination, n, "destination")
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    perm = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return transpose(a, perm)


def expand_dims(a, axis):
    if not _any_traced(a):
        return np.expand_dims(a, axis)
    a = _tr(a)
    axes = sem.axis_tuple(axis)
    ndim = a.ndim + len(axes)
    new = sorted(sem.norm_axes(axes, ndim))
    if len(new) != len(axes):
        raise ShapeError("repeated axis in np.expand_dims", ctx.current_loc())
    dims = iter(a.shape)
    return reshape(a, tuple(1 if i in new else next(dims) for i in range(ndim)))  # a view, as NumPy's


def squeeze(a, axis=None):
    a = _tr(a)
    axes = tuple(i for i, d in enumerate(a.shape) if d == 1) if axis is None else sem.norm_axes(axis, a.ndim)
    for ax in axes:
        if a.shape[ax] != 1:
            raise ShapeError(f"cannot select an axis to squeeze out which has size not equal to one",
                             ctx.current_loc())
    return reshape(a, tuple(d for i, d in enumerate(a.shape) if i not in axes))  # a view, as NumPy's


def broadcast_to(a, shape):
    shape = (shape,) if isinstance(shape, numbers.Integral) else shape
    if is_tracer(a) and not _is_numpy_scalar(a):  # NumPy's read-only view of the array
        return as_ndarray(read_only(a, lambda b: sem.broadcast_to(b, shape)))
    return as_ndarray(sem.broadcast_to(sem.wrap(sem.as_value(a)), shape))  # (of a number: a new array)


def atleast_1d(a):
    a = _tr(a)
    return reshape(a, (1,)) if a.ndim == 0 else a


def atleast_2d(a):
    a = _tr(a)
    return reshape(a, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a


def flip(a, axis=None):
    if not _any_traced(a):  # a NumPy array, or a selection (np.flip(x[:i]): varying.py)
        return np.flip(a, axis)
    a = _tr(a)
    axes = sem.norm_axes(axis, a.ndim)
    key = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(a.ndim))
    return a[key]  # a view, as NumPy's: a write through it reaches `a`


def _seq(xs):
    out = []
    for x in xs:
        if isinstance(x, Segment):
            out.append(_segment_value(x))
        else:
            out.append(x)
    return out


def _segment_value(seg: Segment) -> Tracer:
    from looptrace.ops import get as prim

    if seg.count is None:
        return sem.wrap(seg.value)
    count = sem.as_value(seg.count, np.int64)
    out = ctx.emit1(prim("dynamic_prefix"), [seg.value, count])
    ctx.state().dim_counts[out.shape[0].id] = count  # (sem.reduce's emptiness check reads it)
    return sem.wrap(out)


def _joined_segment(seg: Segment, axis: int) -> Tracer:
    """The items of a list segment (a loop's appends) concatenated along
    their `axis`: the stacked items with the loop axis merged into it."""
    if seg.count is not None:
        raise UnsupportedError("joining the arrays of a list appended to under a condition: its length is known "
                               "only at run time", ctx.current_loc(),
                               "fill a preallocated array and keep a count beside it")
    seg.static_length("joining the elements")
    t = _segment_value(seg)
    if t.ndim == 1:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    ax = axis % (t.ndim - 1)
    moved = moveaxis(t, 0, ax) if ax else t
    shape = list(moved.shape)
    shape[ax:ax + 2] = [shape[ax] * shape[ax + 1]]
    return sem.reshape(moved, tuple(shape))


def _joined(arrays, axis: int) -> list:
    """The pieces to join: a segment's items, and a list or tuple of traced
    values (`np.concatenate(([x[0]], x))`, the edge-padding idiom) as the
    array np.array makes of it."""
    return [_joined_segment(x, axis) if isinstance(x, Segment) else
            array(x) if isinstance(x, (list, tuple)) and _any_traced(x) else x for x in arrays]


def concatenate(arrays, axis=0, out=None, dtype=None):
    _no_out(out)
    if not _any_traced(*arrays):
        return np.concatenate(arrays, axis=axis, dtype=dtype)
    _check_some_appended(list(arrays), "concatenate")
    res = sem.concatenate(_joined(arrays, axis), axis)
    return sem.astype(res, dtype) if dtype is not None else res


def stack(arrays, axis=0, out=None, dtype=None):
    _no_out(out)
    arrays = list(arrays)
    if not _any_traced(*arrays):
        return np.stack(arrays, axis=axis, dtype=dtype)
    if any(isinstance(x, Segment) for x in arrays):
        _check_some_appended(arrays, "stack")
        res = _list_to_array(arrays)
        if axis != 0:
            res = moveaxis(res, 0, axis)
    else:
        res = sem.stack(arrays, axis)
    return sem.astype(res, dtype) if dtype is not None else res


def vstack(tup):
    return _lifted_join(tup, "vstack")


def column_stack(tup):
    return _lifted_join(tup, "column_stack")


def hstack(tup):
    return _lifted_join(tup, "hstack")


def _as_column(a):
    """np.column_stack's piece: a 0-d or 1-d array as one column, a 2-d one as it is."""
    return reshape(a, (-1, 1)) if np.ndim(a) < 2 else a


def _atleast_3d(a):
    from .np_more import atleast_3d

    return atleast_3d(a)


# np.vstack / hstack / column_stack / dstack: how each piece is lifted (traced, and NumPy's for a
# shape), and the axis the lifted pieces are joined along (from their ndim)
_LIFTS = {"vstack": (atleast_2d, np.atleast_2d, lambda ndim: 0),
          "hstack": (atleast_1d, np.atleast_1d, lambda ndim: 0 if ndim == 1 else 1),
          "column_stack": (_as_column, _as_column, lambda ndim: 1),
          "dstack": (_atleast_3d, np.atleast_3d, lambda ndim: 2)}


def _lifted_join(tup, name: str):
    """Each piece lifted (np.atleast_2d, ...), joined along the join's axis. A list's appended items
    (a Segment) are lifted as one: where the lift puts a length-1 axis at the join, the join is the
    items' stack moved there (of a run-time number of items too, from a list grown under a
    condition); else their stack's loop axis is merged into that one, which needs the number of
    items while tracing."""
    tup = list(tup)
    if not _any_traced(*tup):
        return getattr(np, name)(tup)
    _check_some_appended(tup, "concatenate")
    lift = _LIFTS[name][0]
    pieces = [_lifted_segment(x, name) if isinstance(x, Segment) else lift(_as_numpy(x)) for x in tup]
    if len(pieces) == 1:  # (a new array, as NumPy's)
        return copy(pieces[0])
    return sem.concatenate(pieces, _LIFTS[name][2](_tr(pieces[0]).ndim))


def _lifted_segment(seg: Segment, name: str) -> Tracer:
    t = _segment_value(seg)
    item = tuple(t.shape[1:])
    lifted = _LIFTS[name][1](np.empty(item)).shape  # (one item's: static, as the item's shape is)
    axis = _LIFTS[name][2](len(lifted))
    rest = lifted[:axis] + lifted[axis + 1:]
    extra = len(rest) - len(item)
    if lifted[axis] != 1 or extra < 0 or rest != (1,) * extra + item:
        return _joined_segment(seg, axis)
    if extra:  # (n, *item) as (n, 1, .., *item); n may be a run-time Dim, which the reshape keeps
        from looptrace.ops import get as prim

        t = sem.wrap(ctx.emit1(prim("reshape"), [t.value], shape=(t.shape[0],) + (1,) * extra + item))
    return moveaxis(t, 0, axis) if axis else t


def _check_some_appended(arrays: list, what: str) -> None:
    """np.stack / concatenate / vstack ... of nothing but a list appended to under a condition: NumPy's
    ValueError where no item was appended, raised by the run."""
    if not arrays or not all(isinstance(x, Segment) for x in arrays):
        return
    counts = [x.count for x in arrays]
    if any(c is None for c in counts) or any(x.nonempty for x in arrays):
        return
    from .checks import emit_check

    total = counts[0]
    for c in counts[1:]:
        total = sem.ufunc("add", total, c)
    emit_check(sem.ufunc("equal", total, 0), ValueError(f"need at least one array to {what}"))


def _list_to_array(items: list) -> Tracer:
    """np.array of a list that may hold loop segments."""
    parts, pending = [], []
    for x in items:
        if isinstance(x, Segment):
            if pending:
                parts.append(sem.stack(pending, 0))
                pending = []
            parts.append(_segment_value(x))
        else:
            pending.append(x)
    if pending:
        parts.append(sem.stack(pending, 0))
    return parts[0] if len(parts) == 1 else sem.concatenate(parts, 0)


def where(condition, x=None, y=None):
    if x is None and y is None:
        raise UnsupportedError("np.where(condition) with one argument has a data-dependent shape",
                               ctx.current_loc(), "use np.where(condition, x, y)")
    if not _any_traced(condition, x, y):
        return np.where(condition, x, y)
    out = sem.select(condition, x, y)
    out.weak = False  # np.where gives an array, 0-d too
    out.array0d = out.ndim == 0
    return out


def clip(a, a_min=_NO_VALUE, a_max=_NO_VALUE, out=None, *, min=None, max=None, **kw):
    _no_out(out)
    if kw:
        raise UnsupportedError(f"np.clip with {sorted(kw)} is not supported", ctx.current_loc())
    if a_min is not _NO_VALUE and a_max is _NO_VALUE and max is None:
        raise TypeError("clip() missing 1 required positional argument: 'a_max'")
    a_min, a_max = (None if b is _NO_VALUE else b for b in (a_min, a_max))
    a_min = a_min if min is None else min
    a_max = a_max if max is None else max
    if not _any_traced(a, a_min, a_max):
        return np.clip(a, a_min, a_max)
    a = _as_numpy(a)
    if a.dtype.kind in "iu":  # as NumPy: Python int bounds beyond the dtype's range are no bound
        info = np.iinfo(a.dtype)
        a_min = None if type(a_min) is int and a_min <= info.min else a_min
        a_max = None if type(a_max) is int and a_max >= info.max else a_max
    if a_min is None and a_max is None:
        return sem.ufunc("positive", a)
    keep = a.dtype.kind == "f" and _scalar_bound(a_min) and _scalar_bound(a_max)
    if a_min is not None:
        a = _clip_side("maximum", a, a_min, keep)
    if a_max is not None:
        a = _clip_side("minimum", a, a_max, keep)
    return a


def _scalar_bound(b: Any) -> bool:
    if is_tracer(b):
        return b.ndim == 0
    return b is not None and not isinstance(b, (list, tuple)) and np.ndim(b) == 0


def _clip_side(name: str, a: Tracer, bound: Any, keep_equal: bool) -> Tracer:
    """np.maximum(a, bound) (np.minimum): NumPy's clip of a float array between
    two scalar bounds keeps an element equal to the bound (np.clip(-0.0, 0.0,
    0.0) is -0.0, where np.maximum gives the second zero); a NaN still wins."""
    r = sem.ufunc(name, a, bound)
    if not keep_equal:
        return r
    kept = sem.select(sem.ufunc("equal", a, bound), sem.astype(a, r.dtype), r)
    return sem.wrap(kept.value, weak=r.weak)


# --- constructors -------------------------------------------------------------------------------------
def _static_shape(shape) -> tuple:
    if isinstance(shape, (bool, np.bool_)):
        raise TypeError("an integer is required")  # NumPy's: np.zeros(True)
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    if is_tracer(shape):
        from .static import DATA_SIZE_HINT, concrete_error

        raise concrete_error([shape], "array shapes must be static; this one is a traced value",
                             "compute shapes from .shape, or pass the size in static_argnames",
                             data_hint=DATA_SIZE_HINT)
    if not isinstance(shape, (tuple, list)):
        return (operator.index(shape),)  # NumPy's TypeError for a float: 'float' object cannot be interpreted...
    return tuple(_static_shape(d)[0] if is_tracer(d) or isinstance(d, (bool, np.bool_)) else operator.index(d)
                 for d in shape)


def zeros(shape, dtype=float, order="C", **kw):
    return as_array0d(sem.full(_static_shape(shape), 0, np.dtype(dtype)))


def ones(shape, dtype=float, order="C", **kw):
    return as_array0d(sem.full(_static_shape(shape), 1, np.dtype(dtype)))


def empty(shape, dtype=float, order="C", **kw):
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None, order="C", **kw):
    if dtype is None:
        dtype = sem.dtype_of(fill_value) if not sem.is_weak(fill_value) else np.asarray(
            fill_value if not is_tracer(fill_value) else sem.WEAK_TYPES[fill_value.dtype.kind](0)).dtype
    return as_array0d(sem.full(_static_shape(shape), fill_value, np.dtype(dtype)))


def _like(a, dtype, shape):
    a = sem.array_like(a)  # (np.empty_like(lst) of a list argument)
    dt = np.dtype(dtype) if dtype is not None else sem.dtype_of(a)
    sh = _static_shape(shape) if shape is not None else (a.shape if is_tracer(a) else np.shape(a))
    return dt, sh


def zeros_like(a, dtype=None, order="K", subok=True, shape=None):
    dt, sh = _like(a, dtype, shape)
    return as_array0d(sem.full(sh, 0, dt))


def ones_like(a, dtype=None, order="K", subok=True, shape=None):
    dt, sh = _like(a, dtype, shape)
    return as_array0d(sem.full(sh, 1, dt))


def empty_like(a, dtype=None, order="K", subok=True, shape=None):
    return zeros_like(a, dtype, shape=shape)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    dt, sh = _like(a, dtype, shape)
    return as_array0d(sem.full(sh, fill_value, dt))


def eye(N, M=None, k=0, dtype=float, order="C", **kw):
    return sem.wrap(ctx.own_const(np.eye(N, M, k, dtype=dtype)))


def identity(n, dtype=float, **kw):
    return eye(n, dtype=dtype)


def _traced_leaves(xs) -> list:
    """The tracers among `xs` and inside their lists and tuples."""
    out = []
    for x in xs:
        if is_tracer(x):
            out.append(x)
        elif isinstance(x, (list, tuple)):
            out.extend(_traced_leaves(x))
    return out


def arange(*args, dtype=None, **kw):
    if _any_traced(*args, *kw.values()):
        from .static import concrete_error

        # bounds computed from number arguments only: those are specialized on (tracer/static.py)
        raise concrete_error(_traced_leaves((*args, *kw.values())),
                             "np.arange with traced bounds has a data-dependent length",
                             "use static bounds (from .shape), or a loop")
    arr = np.arange(*args, dtype=dtype, **kw)
    return sem.wrap(ctx.own_const(arr)) if arr.size <= 4096 else _iota(arr)


class _Grid:
    """np.mgrid / np.ogrid: the same arrays as NumPy's (dtype, shape and
    values: `i * step + start` per axis, NumPy's formula); the bounds must be
    static, and int arguments giving them are specialized on."""

    def __init__(self, sparse: bool):
        self.sparse = sparse
        self.name = "ogrid" if sparse else "mgrid"

    def __repr__(self) -> str:
        return f"<traced np.{self.name}>"

    def __getitem__(self, key):
        keys = key if isinstance(key, tuple) else (key,)
        parts = [p for k in keys for p in ((k.start, k.stop, k.step) if isinstance(k, slice) else (k,))]
        traced = _traced_leaves(parts)
        if traced:
            from .static import concrete_error

            raise concrete_error(traced, f"the bounds of np.{self.name}[...] decide the shape of its result; "
                                 "these are traced values", "use static bounds (from .shape), or pass the "
                                 "values in static_argnames")
        if not isinstance(key, tuple):
            return _grid_axis(key, np.mgrid[key]) if isinstance(key, slice) else np.mgrid[key]
        axes = np.ogrid[key]
        if not isinstance(axes, tuple):
            return axes
        axes = tuple(_grid_axis(k, a) for k, a in zip(key, axes))
        if self.sparse:
            return axes
        shape = tuple(a.shape[k] for k, a in enumerate(axes))
        return sem.stack([sem.broadcast_to(a, shape) for a in axes], 0)


def _grid_axis(k: slice, arr: np.ndarray) -> Tracer:
    """One axis of a grid: NumPy's own small arrays as constants; a long one
    as `iota * step + start` (the formula nd_grid uses: the same bits)."""
    if arr.size <= 4096:
        return sem.wrap(ctx.own_const(arr))
    start = 0 if k.start is None else k.start
    step = 1 if k.step is None else k.step
    if isinstance(step, (complex, np.complexfloating)):
        count = int(abs(step))
        step = (k.stop - start) / float(count - 1) if count != 1 else 1
    ramp = sem.astype(sem.reshape(iota_of(arr.size), arr.shape), arr.dtype)
    return sem.astype(sem.ufunc("add", sem.ufunc("multiply", ramp, step), start), arr.dtype)


def iota_of(n: int) -> Tracer:
    from looptrace.ops import get as prim

    return sem.wrap(ctx.emit1(prim("iota"), [], shape=(n,), dtype=np.dtype(np.int64), axis=0))


mgrid, ogrid = _Grid(False), _Grid(True)


def _iota(arr: np.ndarray) -> Tracer:
    from looptrace.ops import get as prim

    ramp = sem.wrap(ctx.emit1(prim("iota"), [], shape=(arr.size,), dtype=np.dtype(np.int64), axis=0))
    start = arr[0]
    step = arr[1] - arr[0] if arr.size > 1 else 0
    res = sem.ufunc("add", start, sem.ufunc("multiply", sem.astype(ramp, arr.dtype), step))
    return sem.astype(res, arr.dtype)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, **kw):
    if is_tracer(obj) and copy is not True and ndmin <= obj.ndim:  # copy=False / None: no copy where none is needed
        res = asarray(obj, dtype, order=order)
        if copy is False and res is not obj and not (obj.weak or obj.ndim == 0 and not obj.array0d):
            raise ValueError("Unable to avoid copy while creating an array as requested.")
        return res
    res = _array(obj, dtype, copy, **kw)
    if not is_tracer(res):  # made from Python values: a write under traced control traces it (own_arrays.py)
        out = made(np.array(res, ndmin=ndmin, copy=False) if ndmin else res)
        return as_array0d(out) if is_tracer(out) and out.ndim == 0 else out
    if res.ndim < ndmin:
        res = sem.reshape(res, (1,) * (ndmin - res.ndim) + tuple(res.shape))
    return as_array0d(res) if res is not obj else res


def _array(obj, dtype=None, copy=True, **kw):
    if is_tracer(obj):
        _one_dtype(obj, dtype)
        v = sem.astype(obj, dtype) if dtype is not None else sem.wrap(obj.value, weak=False)
        return v
    if isinstance(obj, (list, tuple)):
        if any(isinstance(x, Segment) for x in obj):
            if all(isinstance(x, Segment) for x in obj):
                empty = _empty_list_array(obj, dtype)  # (grown.DataTyped: its shape picked after the run)
                if empty is not None:
                    return empty
            res = _list_to_array(list(obj))
        elif _any_traced(*obj):
            res = sem.array_from_sequence(obj)
        else:
            return np.array(obj, dtype=dtype)
        return sem.astype(res, dtype) if dtype is not None else res
    return np.array(obj, dtype=dtype)


def _one_dtype(x: Tracer, dtype) -> None:
    """np.array of a scalar whose type is chosen at run time (`v = x[i] if c
    else 3`: np.float64 or int): refused where the types' arrays differ in dtype."""
    k = kinds.kinds_of(x) if dtype is None else None
    if k is not None and len({key[0] for key in k[1]}) > 1:
        names = sorted({np.dtype(key[0]).name for key in k[1]})
        raise UnsupportedError(f"np.array of a value whose type is chosen at run time: its dtype would be one of "
                               f"{', '.join(names)} depending on the data", ctx.current_loc(),
                               f"give the dtype (np.array(v, dtype=np.{names[-1]})), or make the value one type "
                               "on every path (float(...), np.float64(...))")


def _empty_list_array(segments, dtype=None) -> Tracer | None:
    """np.array of a list holding only what loops appended: NumPy makes an empty list an array of shape
    (0,), float64 unless `dtype` says, whatever the elements would have been. None where the list is
    not empty or its elements are numbers of that dtype (the array is then the same whether empty or
    not); where only the run decides and an empty list would change the shape or dtype, a DataTyped:
    returned, the run's array or the empty one; any other use refused."""
    elem = segments[0].value
    empty_dtype = np.dtype(np.float64 if dtype is None else dtype)
    if any(x.count is not None for x in segments) and not any(x.nonempty for x in segments):
        if len(elem.shape) == 1 and (dtype is not None or elem.dtype == np.float64):
            return None
        from .grown import DataTyped

        items = _list_to_array(list(segments))
        what = (f"{elem.dtype} elements" if dtype is None else "elements") + \
            (f" of shape {tuple(elem.shape[1:])}" if len(elem.shape) > 1 else "")
        return DataTyped(items if dtype is None else sem.astype(items, dtype), UnsupportedError(
            f"np.array of a list appended to under a condition: when no element was appended NumPy makes a "
            f"{empty_dtype} array of shape (0,), not one of {what}, so the array's "
            f"{'type' if len(elem.shape) == 1 else 'shape'} would depend on the data", ctx.current_loc(),
            "give the dtype: np.array(lst, dtype=...)" if len(elem.shape) == 1 else "fill a preallocated "
            "array and keep a count beside it"), empty_dtype)
    if any(x.count is not None for x in segments):  # (one of them never empty)
        return None
    if sum(x.static_length("np.array") for x in segments) == 0:
        return sem.wrap(sem.as_value(np.zeros(0, empty_dtype)))
    return None


def asarray(obj, dtype=None, order=None, **kw):
    if is_tracer(obj) and (dtype is None or np.dtype(dtype) == obj.dtype) and not obj.weak and \
            (obj.ndim or obj.array0d or obj.base is not None):
        if order in ("C", "F") and obj.ndim > 1 and not layout.contiguous(obj, order):
            return copy(obj)  # NumPy copies into that order: writes to it are the copy's
        return obj  # an array already (a NumPy scalar becomes a new 0-d array)
    return array(obj, dtype)


def in_order(a, order: str, dtype=None) -> Any:
    """np.ascontiguousarray / asfortranarray: the array itself where it is
    laid out so already (writes to it are the argument's), else a copy."""
    a = _tr(a)
    if a.ndim == 0:
        a = sem.reshape(a, (1,))
    elif (dtype is None or np.dtype(dtype) == a.dtype) and not a.weak and layout.contiguous(a, order):
        return a
    return copy(a if dtype is None else sem.astype(a, dtype))


def copy(a, **kw):
    """A copy of a's value (a NumPy scalar's is one): np.copy is `copy_function`."""
    if not _any_traced(a):
        return made(np.copy(a))
    return sem.wrap(_tr(a).value)


def copy_function(a, order="K", subok=False):
    """np.copy: an ndarray, of a number too (np.copy(x[0]) is a 0-d array)."""
    res = copy(a)
    return as_ndarray(res) if is_tracer(res) else res


def astype(a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    if np.dtype(dtype).kind not in "biufc":
        raise UnsupportedError(f"astype({np.dtype(dtype)}): looptrace compiles numeric arrays only",
                               ctx.current_loc())
    if not copy and is_tracer(a) and np.dtype(dtype) == a.dtype and not a.weak and not _is_numpy_scalar(a):
        return a  # x.astype(x.dtype, copy=False) is x itself
    res = sem.astype(a, dtype)
    return as_ndarray(res) if is_tracer(a) and not _is_numpy_scalar(a) else res


# --- misc ------------------------------------------------------------------------------------------------
def shape(a):
    a = sem.array_like(a)
    if is_tracer(a):
        from .windows import length_of

        length_of(a)  # (a length NumPy may have shortened: checked)
        return _tr(a).shape
    return np.shape(a)


def ndim(a):
    a = sem.array_like(a)
    return _tr(a).ndim if is_tracer(a) else np.ndim(a)


def size(a, axis=None):
    a = sem.array_like(a)
    if not is_tracer(a):
        return np.size(a, axis)
    from .windows import length_of

    length_of(a)
    return a.size if axis is None else int(np.prod([a.shape[i] for i in sem.norm_axes(axis, a.ndim)]))


def _real_only(a, what: str) -> Tracer:
    a = _tr(a)
    if a.dtype.kind == "c":
        raise UnsupportedError(f"{what} of complex arrays is not supported", ctx.current_loc())
    return a


def real(a):
    if not _any_traced(a):
        return np.real(a)
    a = _tr(a)
    if _is_numpy_scalar(a):
        return _complex_part("real", a) if a.dtype.kind == "c" else a
    return as_ndarray(PartView(a, "real")) if a.dtype.kind == "c" else a  # (NumPy's: `x.real is x`)


def imag(a):
    if not _any_traced(a):
        return np.imag(a)
    a = _tr(a)
    if a.dtype.kind == "c":
        return _complex_part("imag", a) if _is_numpy_scalar(a) else as_ndarray(PartView(a, "imag"))
    if a.weak and a.ndim == 0:  # (a Python int's or float's .imag: a Python 0)
        return sem.wrap(zeros_like(a).value, weak=True)
    if _is_numpy_scalar(a):
        return sem.wrap(zeros_like(a).value)  # a NumPy scalar's: a scalar 0
    return as_ndarray(read_only(a, zeros_like))  # NumPy's .imag of a real array: read-only zeros


def _is_numpy_scalar(a: Tracer) -> bool:
    return a.ndim == 0 and a.base is None and not a.array0d


def conjugate(a, **kw):
    if not _any_traced(a):
        return np.conjugate(a, **kw)
    a = _tr(a)
    if a.dtype == np.bool_:  # NumPy's first loop that takes a bool is int8's
        a = sem.astype(a, np.int8)
    return sem.ufunc("conjugate" if a.dtype.kind == "c" else "positive", a)


# --- complex parts (issue 11: complex scalars and arrays) ---------------------------------------------
def _complex_part(name: str, a: Tracer) -> Tracer:
    from looptrace.ops import get as prim

    return sem.wrap(ctx.emit1(prim(name), [a.value]), weak=a.weak)


def PartView(base: Tracer, part: str) -> DerivedView:
    """`c.real` / `c.imag` of a complex array: a view, as NumPy's is, that
    sees later writes to `c` and writes through to it (`c.real[:] += x`,
    `v = c.imag; v[0] = 1.0`) by remaking `c` from the new part and the
    other one (make_complex: no arithmetic, inf and nan parts stay)."""
    from looptrace.ops import get as prim

    def undo(value):
        other = ctx.emit1(prim("imag" if part == "real" else "real"), [base.value])
        new = sem.as_value(value, other.dtype)
        return ctx.emit1(prim("make_complex"), [new, other] if part == "real" else [other, new])

    return DerivedView(base, lambda v: ctx.emit1(prim(part), [v]), undo, layout.ghost_of(base), weak=base.weak)


def set_part(a: Tracer, part: str, value) -> None:
    """`c.real = v` / `c.imag = v`: an assignment into the part's view."""
    if _is_numpy_scalar(a):
        raise AttributeError(f"attribute '{part}' of 'numpy.generic' objects is not writable")
    if part == "imag" and a.dtype.kind != "c":
        raise TypeError("array does not have imaginary part to set")
    view = real(a) if part == "real" else imag(a)
    indexing.setitem(view, ..., value)


def angle(z, deg=False):
    if not _any_traced(z):
        return np.angle(z, deg)
    z = _tr(z)
    if z.dtype.kind != "c":
        z = sem.astype(z, np.complex128 if z.dtype != np.float32 else np.complex64)
    res = sem.ufunc("arctan2", _complex_part("imag", z), _complex_part("real", z))
    return sem.ufunc("rad2deg", res) if deg else res


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """NumPy's formula: |a - b| <= atol + rtol * |b|, exact equality for infinities."""
    if not _any_traced(a, b, rtol, atol):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    a, b = _tr(a), _tr(b)
    dtype = sem.result_type(b, 1.0)
    a, b = sem.astype(a, sem.result_type(a, 1.0)), sem.astype(b, dtype)
    close = sem.ufunc("less_equal", sem.ufunc("absolute", sem.ufunc("subtract", a, b)),
                      sem.ufunc("add", atol, sem.ufunc("multiply", rtol, sem.ufunc("absolute", b))))
    res = sem.ufunc("logical_or", sem.ufunc("logical_and", close, sem.ufunc("isfinite", b)),
                    sem.ufunc("equal", a, b))
    if equal_nan:
        both_nan = sem.ufunc("logical_and", sem.ufunc("isnan", a), sem.ufunc("isnan", b))
        res = sem.ufunc("logical_or", res, both_nan)
    return res


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    if not _any_traced(a, b, rtol, atol):
        return np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    res = sem.reduce("reduce_all", isclose(a, b, rtol, atol, equal_nan))
    res.weak = True  # NumPy returns a Python bool
    return res


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    if not _any_traced(x, nan, posinf, neginf):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    x = _tr(x)
    if x.dtype.kind not in "fc":
        return globals()["copy"](x)
    if x.dtype.kind == "c":
        raise UnsupportedError("np.nan_to_num of complex arrays is not supported", ctx.current_loc())
    info = np.finfo(x.dtype)
    big = info.max if posinf is None else posinf
    small = info.min if neginf is None else neginf
    res = sem.select(sem.ufunc("isnan", x), sem.astype(sem.broadcast_to(nan, ()), x.dtype), x)
    inf = sem.ufunc("isinf", x)
    res = sem.select(sem.ufunc("logical_and", inf, sem.ufunc("greater", x, 0)),
                     sem.astype(sem.broadcast_to(big, ()), x.dtype), res)
    return sem.select(sem.ufunc("logical_and", inf, sem.ufunc("less", x, 0)),
                      sem.astype(sem.broadcast_to(small, ()), x.dtype), res)


def trace(a):
    a = _tr(a)
    return sem.einsum("ii->", a)


def diag(v, k=0):
    v = _tr(v)
    if v.ndim == 2 and k == 0:
        return sem.einsum("ii->i", v)
    raise UnsupportedError("np.diag is supported only to read the main diagonal", ctx.current_loc())


sum_ = _reducer("reduce_sum")


NAMESPACE: dict[str, Any] = {}


def _build_namespace() -> None:
    for name in UFUNCS:
        NAMESPACE[name] = ufunc_fn(name)
    for alias, target in ALIASES.items():
        if target:
            NAMESPACE[alias] = ufunc_fn(target)
    NAMESPACE["conj"] = conjugate
    NAMESPACE["abs"] = ufunc_fn("absolute")
    NAMESPACE["round"] = NAMESPACE["around"] = _round
    NAMESPACE["sum"] = sum_
    for pub, prim in [("prod", "reduce_prod"), ("max", "reduce_max"), ("amax", "reduce_max"),
                      ("min", "reduce_min"), ("amin", "reduce_min"), ("all", "reduce_all"),
                      ("any", "reduce_any")]:
        NAMESPACE[pub] = _reducer(prim)
    local = globals()
    for name in ["mean", "var", "std", "argmax", "argmin", "matmul", "dot", "vdot", "inner", "outer",
                 "einsum", "tensordot", "reshape", "ravel", "transpose", "swapaxes", "moveaxis",
                 "expand_dims", "squeeze", "broadcast_to", "atleast_1d", "atleast_2d", "flip",
                 "concatenate", "stack", "vstack", "hstack", "column_stack", "where", "clip", "zeros", "ones", "empty",
                 "full", "zeros_like", "ones_like", "empty_like", "full_like", "eye", "identity",
                 "arange", "array", "asarray", "copy", "shape", "ndim", "size",
                 "trace", "diag", "real", "imag", "conjugate", "isclose", "allclose", "nan_to_num", "angle",
                 "mgrid", "ogrid"]:
        NAMESPACE[name] = local[name]
    NAMESPACE["copy"] = copy_function


def _round(a, decimals=0, out=None):
    """np.round as NumPy computes it: rint(a * 10**d) / 10**d (a / 10**-d
    and back for negative d); integers with d >= 0 are returned as they are."""
    _no_out(out)
    if not _any_traced(a):
        return np.round(a, decimals)
    a = _as_numpy(a)
    if a.dtype.kind in "iu" and decimals >= 0:
        return copy(a)
    if a.dtype == np.bool_ and decimals != 0:  # NumPy's error: the scaled values cannot go back into bool
        raise TypeError(f"Cannot cast ufunc '{'multiply' if decimals > 0 else 'divide'}' output from "
                        "dtype('float64') to dtype('bool') with casting rule 'same_kind'")
    if decimals == 0:
        return sem.ufunc("rint", a)
    scale, (scale_by, undo) = 10.0 ** abs(decimals), (("multiply", "divide") if decimals > 0
                                                      else ("divide", "multiply"))
    res = sem.ufunc(undo, sem.ufunc("rint", sem.ufunc(scale_by, a, scale)), scale)
    return sem.astype(res, a.dtype) if a.dtype.kind in "iu" else res


def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm for the vector and the matrix norms (2, -2 and 'nuc'
    from the singular values)."""
    if not _any_traced(x):
        return np.linalg.norm(x, ord, axis, keepdims)
    x = _tr(x)
    if x.dtype.kind == "c":
        raise UnsupportedError("np.linalg.norm of complex arrays is not supported", ctx.current_loc())
    if x.dtype.kind in "biu":
        x = sem.astype(x, np.float64)
    if axis is None and ord is None:
        return _norm_keepdims(sem.ufunc("sqrt", _sum_squares(x, None)), x, None, keepdims)
    if axis is None:
        if x.ndim not in (1, 2):
            raise ShapeError("Improper number of dimensions to norm.", ctx.current_loc())
        axis = tuple(range(x.ndim))
    axes = sem.axis_tuple(axis)
    if any(not -x.ndim <= a < x.ndim for a in axes):  # NumPy's AxisError (the modulo read another axis)
        from .numpy_errors import AxisError

        raise AxisError(next(a for a in axes if not -x.ndim <= a < x.ndim), x.ndim, ctx.current_loc())
    axes = tuple(a % x.ndim for a in axes)
    if len(axes) == 2 and axes[0] == axes[1]:
        raise ValueError("Duplicate axes given.")
    if len(axes) == 1:
        res = _vector_norm(x, ord, axes[0])
    elif len(axes) == 2:
        res = _matrix_norm(x, ord, axes)
    else:
        raise ShapeError("Improper number of dimensions to norm.", ctx.current_loc())
    return _norm_keepdims(res, x, axes, keepdims)


def _sum_squares(x: Tracer, axis) -> Tracer:
    return sem.reduce("reduce_sum", sem.ufunc("multiply", x, x), axis)


def _norm_keepdims(res: Tracer, x: Tracer, axes, keepdims: bool) -> Tracer:
    if not keepdims:
        return res
    kept = sem.norm_axes(axes, x.ndim)
    return sem.reshape(res, tuple(1 if i in kept else d for i, d in enumerate(x.shape)))


def _vector_norm(x: Tracer, ord, axis: int) -> Tracer:
    if ord is None or ord == 2:
        return sem.ufunc("sqrt", _sum_squares(x, axis))
    if isinstance(ord, str):
        raise UnsupportedError(f"np.linalg.norm: invalid norm order {ord!r} for vectors", ctx.current_loc())
    absx = sem.ufunc("absolute", x)
    if ord == np.inf:
        return sem.reduce("reduce_max", absx, axis)
    if ord == -np.inf:
        return sem.reduce("reduce_min", absx, axis)
    if ord == 0:
        return sem.reduce("reduce_sum", sem.astype(sem.ufunc("not_equal", x, 0), x.dtype), axis)
    if ord == 1:
        return sem.reduce("reduce_sum", absx, axis)
    total = sem.reduce("reduce_sum", sem.astype(sem.ufunc("power", absx, ord), x.dtype), axis)
    return sem.ufunc("power", total, sem.astype(sem.ufunc("reciprocal", float(ord)), total.dtype))


def _matrix_norm(x: Tracer, ord, axes: tuple) -> Tracer:
    row, col = axes
    if ord is None or ord == "fro":
        return sem.ufunc("sqrt", _sum_squares(x, axes))
    if ord in (1, -1):
        col = col - 1 if col > row else col
        reducer, sum_axis, pick_axis = ("reduce_max" if ord == 1 else "reduce_min"), row, col
    elif ord in (np.inf, -np.inf):
        row = row - 1 if row > col else row
        reducer, sum_axis, pick_axis = ("reduce_max" if ord == np.inf else "reduce_min"), col, row
    elif ord in (2, -2, "nuc"):  # from the singular values (tracer/np_linalg.py)
        from .np_linalg import singular_values

        s = singular_values(sem.transpose(x, [a for a in range(x.ndim) if a not in (row, col)] + [row, col]))
        return sem.reduce({2: "reduce_max", -2: "reduce_min", "nuc": "reduce_sum"}[ord], s, -1)
    else:
        raise UnsupportedError(f"np.linalg.norm: invalid norm order {ord!r} for matrices", ctx.current_loc())
    sums = sem.reduce("reduce_sum", sem.ufunc("absolute", x), sum_axis)
    return sem.reduce(reducer, sums, pick_axis)


LINALG: dict[str, Any] = {"norm": norm}


class _Namespace(types.SimpleNamespace):
    """A module-like object: supported names map to traced implementations,
    everything else falls through to NumPy (constants, dtypes), and NumPy
    functions without a traced version raise UnsupportedError when they meet
    a traced value."""

    library_module = True  # its numbers (np.pi, np.nan) are constants: no guards (tracer/external.py)

    def __init__(self, table: dict, real: Any, prefix: str):
        super().__init__()
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_real", real)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        if name in self._table:
            return self._table[name]
        attr = getattr(self._real, name)
        if callable(attr) and not isinstance(attr, type) and not isinstance(attr, np.ufunc):
            return _guarded(attr, self._prefix + name)
        return attr


def _guarded(fn, qualname: str):
    def call(*args, **kwargs):
        if _any_traced(*args, *kwargs.values()):
            message = f"{qualname} is not supported on traced values"
            hint = "see looptrace's list of supported NumPy functions"
            traced = _traced_leaves((*args, *kwargs.values()))
            if traced and all(t.ndim == 0 and t.dtype.kind in "iub" for t in traced):
                from .static import UnsupportedConcrete, concrete_error

                # only integer scalars are traced (np.hanning(n), np.indices((n, n))): where they come from
                # int arguments, those are specialized on and the call runs on Python ints
                raise concrete_error(traced, message, hint, cls=UnsupportedConcrete)
            raise UnsupportedError(message, ctx.current_loc(), hint)
        return fn(*args, **kwargs)

    return call


from .external import RandomNamespace as _RandomNamespace  # noqa: E402

_build_namespace()
from . import np_arrays, np_counting, np_extra, np_linalg, np_more, np_partition, np_stats, masked, windows  # noqa: E402  (compositions in their own modules)
from . import np_breadth, np_numeric, np_queries, np_reductions, np_surface, np_writes  # noqa: E402

NAMESPACE.update(np_arrays.TABLE)
NAMESPACE.update(np_stats.TABLE)
NAMESPACE.update(np_extra.TABLE)
NAMESPACE.update(masked.TABLE)
NAMESPACE.update(np_counting.TABLE)
NAMESPACE.update(np_partition.TABLE)
NAMESPACE.update(np_more.TABLE)
NAMESPACE.update(np_breadth.TABLE)
NAMESPACE.update(np_surface.TABLE)
NAMESPACE.update(np_queries.TABLE)
NAMESPACE.update(np_numeric.TABLE)
NAMESPACE.update(np_reductions.TABLE)
NAMESPACE.update(windows.reductions(NAMESPACE))
NAMESPACE.update(np_writes.TABLE)
NAMESPACE.update(np_writes.with_out(NAMESPACE))  # out= of functions and composed ufuncs: last, around the rest
LINALG.update(np_linalg.TABLE)
LINALG.update(np_extra.LINALG_TABLE)
LINALG.update(np_more.LINALG_TABLE)
LINALG.update(np_breadth.LINALG_TABLE)
LINALG.update(np_numeric.LINALG_TABLE)
np_namespace = _Namespace(NAMESPACE, np, "np.")
linalg_namespace = _Namespace(LINALG, np.linalg, "np.linalg.")
object.__setattr__(np_namespace, "linalg", linalg_namespace)
from . import np_fft  # noqa: E402  (np.fft: ops/fft.py's transforms and their compositions)

object.__setattr__(np_namespace, "fft", _Namespace(np_fft.TABLE, np.fft, "np.fft."))
object.__setattr__(np_namespace, "random", _RandomNamespace())
