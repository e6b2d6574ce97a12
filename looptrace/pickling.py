"""Pickling jitted and differentiated functions by reference (as Numba's
dispatchers are), so they travel to Dask workers and other processes.

Invariant: what is pickled is how to get the function back, never compiled
state: a jitted function is its Python function (by module and qualified
name when it can be imported by that name, else the function object itself,
which cloudpickle, used by Dask, sends by value) plus its `jit` options; a
`grad`/`value_and_grad` function is its inputs to `grad`. The receiving
process compiles on first call, from the shared disk cache when it has one
(each signature compiles once per machine: codegen/cpu/cache.py).

This module holds the references; `JitFunction.__reduce__` (api.py) and
`Transformed.__reduce__` (autodiff/api.py) use them, so it imports neither.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable


def _lookup(module: str, qualname: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def reference(fn: Callable, wrapper: Any) -> Any:
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


def resolve(ref: Any) -> Any:
    if isinstance(ref, tuple) and len(ref) == 3 and ref[0] == "ref":
        return _lookup(ref[1], ref[2])
    return ref
