"""Pickling jitted and differentiated functions by reference (as Numba's
dispatchers are), so they travel to Dask workers and other processes.

Invariant: what is pickled is how to get the function back, never compiled
state: a jitted function is its Python function (by module and qualified
name when it can be imported by that name, else the function object itself,
which cloudpickle, used by Dask, sends by value) plus its `jit` options; a
`grad`/`value_and_grad` function is its inputs to `grad`. The receiving
process compiles on first call, from the shared disk cache when it has one
(each signature compiles once per machine: codegen/cpu/cache.py).
"""
from __future__ import annotations

import importlib
from typing import Any, Callable


def _lookup(module: str, qualname: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _reference(fn: Callable, wrapper: Any) -> Any:
    """("ref", module, qualname) when `module.qualname` is `fn` or `wrapper`
    in this process; else `fn` itself (pickled by value if the pickler can)."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if module and "<" not in qualname:
        try:
            found = _lookup(module, qualname)
        except Exception:
            found = None
        if found is fn or found is wrapper:
            return ("ref", module, qualname)
    return fn


def _resolve(ref: Any) -> Any:
    if isinstance(ref, tuple) and len(ref) == 3 and ref[0] == "ref":
        return _lookup(ref[1], ref[2])
    return ref


def reduce_jit(jf) -> tuple:
    options = dict(static_argnames=jf.static_argnames, backend=jf.backend, cache=jf.cache,
                   parallel=jf.parallel, fastmath=jf.fastmath)
    return rebuild_jit, (_reference(jf.py_func, jf), options)


def rebuild_jit(ref: Any, options: dict):
    from looptrace.api import JitFunction

    obj = _resolve(ref)
    if isinstance(obj, JitFunction) and _same_options(obj, options):
        return obj  # the module's own jitted function: its compiled signatures are shared
    fn = obj.py_func if isinstance(obj, JitFunction) else obj
    return JitFunction(fn, **options)


def _same_options(jf, options: dict) -> bool:
    return all(getattr(jf, k) == v for k, v in options.items())


class Transformed:
    """The function `grad`, `value_and_grad` return: callable, and pickled as
    the call that made it."""

    def __init__(self, kind: str, impl: Callable, fn: Callable, args: tuple):
        self._kind, self._impl, self._fn, self._args = kind, impl, fn, args
        self.__name__ = f"{kind}_{getattr(fn, '__name__', 'function')}"
        self.__wrapped__ = fn

    def __call__(self, *args, **kwargs):
        return self._impl(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<looptrace {self._kind} of {getattr(self._fn, '__qualname__', self._fn)!r}>"

    def __reduce__(self) -> tuple:
        return rebuild_transformed, (self._kind, self._fn, self._args)


def rebuild_transformed(kind: str, fn: Callable, args: tuple):
    from looptrace.autodiff import api

    return getattr(api, kind)(fn, *args)
