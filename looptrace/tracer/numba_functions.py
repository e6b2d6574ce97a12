"""The user's own Numba-compiled functions, called from a traced function.

Code written for Numba calls its own `@numba.njit` helpers and
`@numba.vectorize` ufuncs. Python code (the plain function) runs them as
Numba compiled them; a trace cannot (Numba would type the traced values, and
fails on them), so it traces the Python function behind them instead, as it
traces any helper of the user's:

- a `@numba.njit` / `@numba.jit` dispatcher: its `py_func`, as written,
  its scalar results Python numbers, as Numba boxes them;
- a `@numba.vectorize` ufunc: its Python function applied element by
  element (np.vectorize's traced loop, np_surface.py), its inputs first cast
  to the types of the first of its signatures they cast to safely, as
  NumPy picks a ufunc's loop, and the result made that signature's output
  type. Without signatures (a lazy one) the Python function's own result
  type is kept; scalars in, scalar out.

What differs is only what Numba's types would change: a Python int
argument of a helper is an int64 in Numba and a Python int in the trace (the
trace's ints are checked for overflow, README.md)."""
from __future__ import annotations

import types
from typing import Any

import numpy as np

from . import context as ctx
from .array import is_tracer


def python_function(fn: Any) -> Any:
    """What a traced call of `fn` should run instead of `fn`, where `fn` is
    a user's Numba-compiled function (module docstring); None otherwise."""
    if not (type(fn).__module__ or "").startswith("numba"):
        return None
    py = getattr(fn, "py_func", None)
    if isinstance(py, types.FunctionType) and hasattr(fn, "overloads"):  # @njit, @jit
        return _Helper(py)
    inner = getattr(getattr(fn, "_dispatcher", None), "py_func", None)
    if isinstance(inner, types.FunctionType) and type(fn).__name__ == "DUFunc":  # @vectorize
        return _Elementwise(inner, list(getattr(fn, "types", [])), getattr(fn, "__name__", inner.__name__))
    return None


def dispatcher_function(fn: Any) -> types.FunctionType | None:
    """The Python function of a @numba.njit / @numba.jit dispatcher; None for anything else."""
    helper = python_function(fn)
    return helper.fn if isinstance(helper, _Helper) else None


class _Helper:
    """A @numba.njit function as a trace calls it: its Python function, whose
    scalar results come back as Python numbers, as Numba boxes them (a
    float64 result is a Python float, so `p * q` of two is a Python float)."""

    def __init__(self, fn: types.FunctionType):
        self.fn, self.__name__ = fn, fn.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .runtime import call

        return _boxed(call(self.fn, *args, **kwargs))


def _boxed(r: Any) -> Any:
    """Numba's boxing of a result: a scalar a Python number of its kind, a tuple item by item."""
    if isinstance(r, tuple):
        return tuple(_boxed(x) for x in r)
    if is_tracer(r) and r.ndim == 0 and not r.array0d and r.dtype.kind in _PYTHON_TYPES:
        from .runtime import call

        return call(_PYTHON_TYPES[r.dtype.kind], r)
    if isinstance(r, np.generic) and r.dtype.kind in _PYTHON_TYPES:
        return r.item()
    return r


_PYTHON_TYPES = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


class _Elementwise:
    """A @numba.vectorize ufunc as a trace calls it (module docstring)."""

    def __init__(self, fn: types.FunctionType, signatures: list[str], name: str):
        self.fn, self.signatures, self.__name__ = fn, signatures, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .np_surface import vectorize

        if kwargs:
            from looptrace.errors import UnsupportedError

            raise UnsupportedError(f"keyword arguments ({', '.join(kwargs)}) of the @numba.vectorize ufunc "
                                   f"{self.__name__} are not supported", ctx.current_loc(),
                                   f"call {self.__name__} with its inputs only")
        out = None
        if self.signatures:
            ins, out = self._resolve(args)
            args = tuple(_cast(a, t) for a, t in zip(args, ins))
        if not any(is_tracer(a) and a.ndim > 0 or isinstance(a, (np.ndarray, list, tuple)) for a in args):
            from .runtime import call

            r = call(self.fn, *args)
            return r if out is None else _cast(r, out)
        return vectorize(self.fn, otypes=None if out is None else [out])(*args)

    def _resolve(self, args: tuple) -> tuple[list[np.dtype], np.dtype]:
        """The first signature all inputs cast to safely (NumPy's choice of a ufunc's loop)."""
        for sig in self.signatures:
            ins, out = sig.split("->")
            want = [np.dtype(c) for c in ins]
            if len(want) == len(args) and all(_casts_to(a, t) for a, t in zip(args, want)):
                return want, np.dtype(out)
        from looptrace.errors import TraceTypeError

        raise TraceTypeError(f"the @numba.vectorize ufunc {self.__name__} has no signature for inputs of "
                             f"types {', '.join(_type_name(a) for a in args)} (its signatures: "
                             f"{', '.join(self.signatures)})", ctx.current_loc())


def _casts_to(a: Any, t: np.dtype) -> bool:
    if isinstance(a, bool):
        return True
    if isinstance(a, int):  # a Python int: to any integer or float loop, as NumPy's weak scalars do
        return t.kind in "iuf"
    if isinstance(a, float):
        return t.kind == "f"
    dtype = a.dtype if is_tracer(a) else np.asarray(a).dtype
    return np.can_cast(dtype, t, "safe")


def _cast(a: Any, t: np.dtype) -> Any:
    if is_tracer(a) or isinstance(a, np.ndarray):
        return a.astype(t) if a.dtype != t else a
    return t.type(a)


def _type_name(a: Any) -> str:
    return str(a.dtype) if is_tracer(a) or isinstance(a, np.ndarray) else type(a).__name__
