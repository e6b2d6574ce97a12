"""NumPy calls that write into an array the caller holds: the out= (and
where=) of ufuncs, out= of the functions that make a new array (np.sum(a,
axis, out=o), np.matmul, np.cumsum, ...), np.put, np.place, np.putmask,
np.copyto and ndarray.fill / ndarray.put.

Invariant: each computes its value as a composition of primitives first,
then writes it into the destination with one whole-array assignment
(Tracer.assign: a write-back to an argument, a write through a view), so a
loop batches it and a gradient flows through it. The casting, shape and
dtype rules are NumPy's for each kind of call (a ufunc's same_kind, a
reduction's unsafe cast into an out of exactly its shape, np.dot's exact
out); a destination that is not a traced array is refused.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer
from .np_arrays import assigned, converted
from .np_extra import _strong, _tr, _u, _unsupported
from .numpy_errors import output_casting_error, ufunc_of

_any_traced = nx._any_traced


def _destination(out: Any, name: str, not_array: str = "return arrays must be of ArrayType") -> Tracer:
    if type(out) is Tracer and out.ndim == 0 and out.base is None and not out.array0d \
            or isinstance(out, (bool, int, float, complex, np.generic, list)):
        raise TypeError(not_array)  # a number (a Python one or a NumPy scalar), or a list, is no output array
    if not is_tracer(out):
        raise _unsupported(f"{name}(..., out=) into an array that is not traced is not supported",
                           "make the output array inside the function (np.empty), or pass it as an argument")
    return out


def _write(out: Tracer, value: Tracer) -> None:
    out.assign(sem.astype(sem.broadcast_to(value, tuple(out.shape)), out.dtype).value)


# --- ufuncs: out= and where= ---------------------------------------------------------------------
def ufunc_call(call: Callable, name: str, args: tuple, out: Any, where: Any, kwargs: dict) -> Any:
    """np.<ufunc>(*args, out=out, where=where): the ufunc's value, cast same_kind
    into out (broadcast to out's shape), taken only where `where` holds; the
    other elements keep out's. Without out=, where= leaves them uninitialized
    in NumPy: refused."""
    outs = out if isinstance(out, tuple) else (out,)
    if where is None or where is True:
        where = None
    elif all(o is None for o in outs):
        raise _unsupported(f"np.{name}(..., where=) without out= is not supported",
                           "NumPy leaves the elements where the condition is False uninitialized; pass "
                           "out=, e.g. np.zeros_like(x)")
    res = call(*args, **kwargs)
    results = res if isinstance(res, tuple) else (res,)
    if not isinstance(out, tuple) and len(results) > 1 and out is not None:
        raise TypeError("'out' must be a tuple of arrays")
    if len(outs) != len(results):
        raise ValueError("The 'out' tuple must have exactly one entry per ufunc output")
    written = []
    for o, r in zip(outs, results):
        if o is None:
            written.append(r)
            continue
        o = _destination(o, f"np.{name}")
        r = _tr(r)
        _check_ufunc_cast(name, r, o)
        if np.broadcast_shapes(tuple(r.shape), tuple(o.shape)) != tuple(o.shape):
            raise ValueError(f"non-broadcastable output operand with shape {tuple(o.shape)} doesn't match the "
                             f"broadcast shape {np.broadcast_shapes(tuple(r.shape), tuple(o.shape))}")
        value = sem.astype(r, o.dtype)
        if where is not None:
            value = sem.select(sem.astype(_tr(where), np.bool_), value, o)
        _write(o, value)
        written.append(o)
    return tuple(written) if isinstance(res, tuple) else written[0]


def positional_out(outs: tuple, nout: int) -> tuple:
    if len(outs) > nout:
        raise TypeError(f"too many positional arguments: at most {nout} outputs")
    return tuple(outs) + (None,) * (nout - len(outs))


def _check_ufunc_cast(name: str, res: Tracer, out: Tracer) -> None:
    if not np.can_cast(res.dtype, out.dtype, "same_kind"):
        raise output_casting_error(name, res.dtype, out.dtype)


# --- out= of functions that make a new array ---------------------------------------------------------
# reductions and scans: the result cast unsafely into an out of exactly its shape
_REDUCING = ("sum", "prod", "mean", "std", "var", "max", "min", "amax", "amin", "all", "any", "nansum", "nanprod",
             "nanmean", "nanstd", "nanvar", "nanmax", "nanmin", "median", "nanmedian", "percentile", "quantile",
             "nanpercentile", "nanquantile", "ptp", "argmax", "argmin", "nanargmax", "nanargmin", "cumsum",
             "cumprod", "nancumsum", "nancumprod", "trace", "cumulative_sum", "cumulative_prod")
# ufunc-like: same_kind into an out of exactly the result's shape
_SAME_KIND = ("matmul", "clip", "round", "around", "outer", "concatenate", "take", "einsum", "cross", "choose")
# np.dot: an out of exactly the result's dtype and shape
_EXACT = ("dot",)
# NumPy's message for an out= that is a number, by function ("output must be an array" otherwise)
_NOT_ARRAY = {"dot": "'out' must be an array", "matmul": "return arrays must be of ArrayType",
              "clip": "return arrays must be of ArrayType", "outer": "return arrays must be of ArrayType"}
# the array methods that take out= (ndarray.sum, ...)
METHODS_WITH_OUT = ("sum", "prod", "max", "min", "all", "any", "mean", "var", "std", "argmax", "argmin", "cumsum",
                    "cumprod", "round", "clip", "dot", "trace", "take", "choose")


def with_out(namespace: dict) -> dict:
    """The traced functions of `namespace` that NumPy lets write into out=,
    wrapped to do so; and its composed ufuncs (np.frexp, ...) with out=/where=."""
    wrapped = {}
    for name in _REDUCING + _SAME_KIND + _EXACT:
        if name in namespace:
            wrapped[name] = out_form(namespace[name], name)
    for name, fn in namespace.items():
        if isinstance(getattr(np, name, None), np.ufunc) and not isinstance(fn, nx.TracedUfunc) and callable(fn):
            wrapped[name] = _ufunc_out_form(fn, name)
    return wrapped


def out_form(fn: Callable, name: str) -> Callable:
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if not _any_traced(*args, *kwargs.values(), out):
            return getattr(np, name)(*args, out=out, **kwargs)
        res = _tr(fn(*args, **kwargs))
        out = _destination(out, f"np.{name}", _NOT_ARRAY.get(name, "output must be an array"))
        if tuple(res.shape) != tuple(out.shape):
            raise ValueError(f"np.{name}: the output array has shape {tuple(out.shape)}, the result "
                             f"{tuple(res.shape)}")
        if name in _EXACT and res.dtype != out.dtype:
            raise ValueError("output array is not acceptable (must have the right datatype, number of "
                             "dimensions, and be a C-Array)")
        if name in _SAME_KIND and not np.can_cast(res.dtype, out.dtype, "same_kind"):
            if ufunc_of(name) is not None:  # (np.clip, np.matmul: NumPy's ufunc casting error)
                raise output_casting_error(name, res.dtype, out.dtype)
            raise TypeError(f"Cannot cast array data from {res.dtype!r} to {out.dtype!r} according to the rule "
                            "'same_kind'")
        _write(out, res)
        return out

    call.__name__ = getattr(fn, "__name__", name)
    call.__doc__ = fn.__doc__
    return call


def _ufunc_out_form(fn: Callable, name: str) -> "ComposedUfunc":
    return ComposedUfunc(fn, name)


class ComposedUfunc:
    """A ufunc looptrace composes (np.frexp, np.logaddexp2, ...) as traced code
    sees it: calls with out=/where=, .reduce where np_reductions.py folds it, .outer
    by broadcasting; its other methods raise UnsupportedError; attributes
    (nin, nout, identity, ...) are the real ufunc's."""

    def __init__(self, fn: Callable, name: str):
        self.fn, self.real, self.__name__ = fn, getattr(np, name), name

    def __call__(self, *args, out=None, where=True, **kwargs):
        real = self.real
        if len(args) > real.nin:  # outputs given by position, as NumPy allows (the rest None)
            args, out = args[:real.nin], positional_out(args[real.nin:], real.nout)
        if out is None and (where is True or where is None):
            return self.fn(*args, **kwargs)
        if not _any_traced(*args, out, where):
            return real(*args, out=out, where=where, **kwargs)
        return ufunc_call(self.fn, self.__name__, args, out, where, kwargs)

    def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False, **kw):
        from . import np_reductions

        nx._no_out(out)
        if not _any_traced(a):
            return self.real.reduce(a, axis=axis, dtype=dtype, keepdims=keepdims, **kw)
        if self.__name__ not in np_reductions.FOLDED or kw:
            self._unsupported("reduce")
        return np_reductions.ufunc_reduce(self.__name__, a, axis, dtype, keepdims)

    def outer(self, a, b, **kw):
        if not _any_traced(a, b):
            return self.real.outer(a, b, **kw)
        a, b = _tr(a), _tr(b)
        return self(sem.reshape(a, tuple(a.shape) + (1,) * b.ndim), b, **kw)

    def _unsupported(self, method: str):
        raise _unsupported(f"np.{self.__name__}.{method} is not supported on traced arrays",
                           "see looptrace's list of supported NumPy functions")

    def __getattr__(self, attr: str):
        if attr in ("accumulate", "reduceat", "at"):
            def refuse(*args, **kwargs):
                if _any_traced(*args, *kwargs.values()):
                    self._unsupported(attr)
                return getattr(self.real, attr)(*args, **kwargs)

            return refuse
        return getattr(self.real, attr)

    def __repr__(self) -> str:
        return f"<traced ufunc {self.__name__}>"


# --- np.put, np.place, np.putmask, np.copyto, ndarray.fill -------------------------------------------
def _flat_write(a: Tracer, value: Tracer) -> None:
    _write(a, sem.reshape(value, tuple(a.shape)))


def put(a, ind, v, mode="raise"):
    """a.flat[ind] = v, v repeated to ind's length (the last write wins);
    modes raise (out of range raises IndexError at run time), wrap and clip."""
    if not _any_traced(a, ind, v):
        return np.put(a, ind, v, mode)
    if not is_tracer(a):
        raise _unsupported("np.put into an array that is not traced is not supported", "copy it first: a = np.array(a)")
    idx = sem.reshape(sem.astype(_strong(ind), np.int64), (-1,))
    vals = sem.reshape(converted(v, a.dtype), (-1,))
    n = int(idx.shape[0])
    if n == 0 or vals.shape[0] == 0:
        return None
    if a.size == 0:
        raise IndexError("cannot replace elements of an empty array")
    if vals.shape[0] != n:
        vals = _cycle(vals, n)
    flat = _scatter_set(nx.ravel(a), idx, sem.astype(vals, a.dtype), mode)
    _flat_write(a, flat)
    return None


def _cycle(vals: Tracer, n: int) -> Tracer:
    """vals repeated (or cut) to length n, as NumPy repeats the values of put/place."""
    reps = -(-n // int(vals.shape[0]))
    return nx.NAMESPACE["tile"](vals, reps)[:n]


def _scatter_set(flat: Tracer, idx: Tracer, vals: Tracer, mode: str) -> Tracer:
    from looptrace.ops import get as prim

    from . import context as ctx
    from .advanced import _checked

    size = int(flat.shape[0])
    pos = index_by_mode(idx, size, mode, lambda: _checked(idx, size, 0))
    new = ctx.emit1(prim("scatter"), [flat.value, sem.astype(pos, np.int64).value, vals.value], axis=0, mode="set")
    return sem.wrap(new)


def place(arr, mask, vals):
    """arr[mask] = vals, the k-th True element taking vals[k % len(vals)]: a select
    of vals gathered at the running count of the mask, so the shape stays static."""
    if not _any_traced(arr, mask, vals):
        return np.place(arr, mask, vals)
    arr = _destination(arr, "np.place")
    m = sem.reshape(sem.astype(sem.broadcast_to(sem.astype(_tr(mask), np.bool_), tuple(arr.shape)), np.bool_),
                    (-1,))
    _check_safe_values(vals, arr.dtype)
    vals = sem.reshape(converted(vals, arr.dtype), (-1,))
    if vals.shape[0] == 0:
        from .checks import emit_check

        emit_check(sem.reduce("reduce_any", m), ValueError("Cannot insert from an empty array!"))
        return None
    rank = _u("subtract", nx.NAMESPACE["cumsum"](sem.astype(m, np.int64)), 1)
    picked = nx.NAMESPACE["take"](vals, _u("remainder", _u("maximum", rank, 0), int(vals.shape[0])))
    _flat_write(arr, sem.select(m, sem.astype(picked, arr.dtype), nx.ravel(arr)))
    return None


def _check_safe_values(vals: Any, dtype: np.dtype) -> None:
    """np.place / np.putmask take an array of values (a 0-d one too) only where
    its dtype casts safely into the destination's (int64 values into an int8 or
    float32 array: TypeError); Python numbers, NumPy scalars and lists are
    converted as np.array(vals, dtype) converts them (np_arrays.converted)."""
    if isinstance(vals, np.ndarray):
        src, what = vals.dtype, "array data" if vals.ndim else "scalar"
    elif is_tracer(vals) and not vals.weak and (vals.ndim or vals.array0d):
        src, what = np.dtype(vals.dtype), "array data" if vals.ndim else "scalar"
    else:
        return
    if not np.can_cast(src, dtype, "safe"):
        raise TypeError(f"Cannot cast {what} from {src!r} to {np.dtype(dtype)!r} according to the rule 'safe'")


def putmask(a, mask, values):
    """a.flat[i] = values.flat[i % len(values)] where mask.flat[i]."""
    if not _any_traced(a, mask, values):
        return np.putmask(a, mask, values)
    a = _destination(a, "np.putmask")
    m = sem.astype(_tr(mask), np.bool_)
    if tuple(m.shape) != tuple(a.shape):
        raise ValueError("putmask: mask and data must be the same size")
    _check_safe_values(values, a.dtype)
    vals = sem.reshape(converted(values, a.dtype), (-1,))
    if vals.shape[0] == 0:
        return None
    if vals.shape[0] != a.size:
        vals = _cycle(vals, a.size)
    _write(a, sem.select(m, sem.reshape(sem.astype(vals, a.dtype), tuple(a.shape)), a))
    return None


def copyto(dst, src, casting="same_kind", where=True):
    """dst[...] = src (broadcast) where `where` holds, with NumPy's casting check."""
    if not _any_traced(dst, src, where):
        return np.copyto(dst, src, casting=casting, where=where)
    dst = _destination(dst, "np.copyto")
    s = _tr(src)
    if not s.weak and not np.can_cast(s.dtype, dst.dtype, casting):
        raise TypeError(f"Cannot cast array data from {s.dtype!r} to {dst.dtype!r} according to the rule "
                        f"{casting!r}")
    value = sem.astype(sem.broadcast_to(s, tuple(dst.shape)), dst.dtype)
    if not (where is True):
        value = sem.select(sem.astype(_tr(where), np.bool_), value, dst)
    _write(dst, value)
    return None


def fill_method(self, value):
    """ndarray.fill(value): every element set to value as `self[...] = value` stores
    a scalar (np_arrays.assigned: 300 or 300.0 into int8 raises OverflowError, NaN
    into an int array ValueError)."""
    _write(self, assigned(value, self.dtype))


def put_method(self, indices, values, mode="raise"):
    return put(self, indices, values, mode)


TABLE: dict[str, Any] = {"put": put, "place": place, "putmask": putmask, "copyto": copyto}


def index_by_mode(idx: Tracer, n: int, mode: str, raising: Callable[[], Tracer]) -> Tracer:
    """Indices into n positions by NumPy's `mode` (np.put, np.choose, take):
    'wrap' modulo n, 'clip' into [0, n - 1], 'raise' as `raising()` checks
    them."""
    if mode == "raise":
        return raising()
    if mode == "wrap":
        return _u("remainder", idx, n)
    if mode == "clip":
        return _u("minimum", _u("maximum", idx, 0), n - 1)
    raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
