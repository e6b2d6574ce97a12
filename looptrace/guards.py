"""Guards: what a compiled program read from outside its arguments, checked
(or passed in) at every call.

The model is TorchDynamo's guards. While tracing, everything the function
reaches from outside its arguments is reached through a `Source`: a root (a
module global, a closure cell, a static argument) followed by attribute and
item steps (`cfg.layers[2].W`). The tracer (tracer/external.py) decides what
each object found there becomes:

- a NumPy array is an **implicit argument**: a block argument of the program
  after the explicit ones, fetched through its source at every call, so its
  current contents are read (derived values such as `G.sum()` are computed
  from them) and in-place writes into it are written back as for arguments;
- a `np.random.Generator` is an implicit generator argument: draws advance it
  exactly as the plain function's draws do;
- NumPy's legacy global random state (`np.random.seed`, `random`, `normal`,
  ...: the RandomState `np.random.mtrand._rand`), or a RandomState reached
  from the function, is an implicit "legacy" argument: the call copies its
  state in and, after a run that went through, back (api.transactional_run);
- a Python value (number, string, tuple, the shape of a container, a function,
  any other object) gets a cheap guard: equality for data, identity for
  objects, a structural fingerprint for containers.

Invariant: `bind(program, values)` returns the implicit arguments of a call
only when every guard holds and every implicit argument still has the dtype
and shape the program was compiled for; otherwise None, and the caller
retraces. It never compares array contents: a call costs a few dict and
attribute reads per source, not a pass over the data.
"""
from __future__ import annotations

import math
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_FAIL = object()


# --- sources ------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Source:
    """How an outside object is reached: root then steps."""

    kind: str  # "global" (holder=module dict), "cell" (holder=cell), "arg" (holder=index),
    # "made" (holder=a factory: an object the function makes afresh on each call, a seeded generator)
    holder: Any
    name: str = ""
    steps: tuple = ()  # (("attr", name) | ("item", key)), ...

    def attr(self, name: str) -> "Source":
        return Source(self.kind, self.holder, self.name, self.steps + (("attr", name),))

    def item(self, key: Any) -> "Source":
        return Source(self.kind, self.holder, self.name, self.steps + (("item", key),))

    def key(self) -> tuple:
        return (self.kind, id(self.holder), self.name, self.steps)

    def fetch(self, values) -> Any:
        """The object the source reaches now, or _FAIL when it cannot be reached."""
        try:
            if self.kind == "global":
                obj = self.holder[self.name]
            elif self.kind == "cell":
                obj = self.holder.cell_contents
            elif self.kind == "made":
                obj = self.holder()
            else:
                obj = values[self.holder]
            for how, what in self.steps:
                obj = getattr(obj, what) if how == "attr" else obj[what]
            return obj
        except Exception:
            return _FAIL

    def describe(self) -> str:
        text = self.name if self.kind != "arg" else f"argument {self.holder}"
        for how, what in self.steps:
            text += f".{what}" if how == "attr" else f"[{what!r}]"
        return text


# --- what a guard compares ------------------------------------------------------------------------
def same_value(a: Any, b: Any) -> bool:
    """Equality of Python data, type included; NaN equals NaN (so an object
    equals itself)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        if a == b:
            # a zero's sign: 0.0 == -0.0, but 1 / x or np.copysign tells them apart
            return not (isinstance(a, (float, np.floating)) and a == 0 and math.copysign(1.0, a) != math.copysign(1.0, b))
    except Exception:
        return False
    return isinstance(a, (float, complex, np.floating, np.complexfloating)) and a != a and b != b


DATA = (bool, int, float, complex, str, bytes, type(None), type(Ellipsis), slice, range, np.generic, np.dtype)


def fingerprint(x: Any, depth: int = 0) -> Any:
    """What the traced program may have used of a container: its type, length,
    keys, and per item: the value of data, the dtype and shape of an array,
    the identity of anything else."""
    if isinstance(x, DATA):
        if isinstance(x, float) and (math.isnan(x) or x == 0):
            return ("v", type(x), "nan" if math.isnan(x) else ("zero", math.copysign(1.0, x)))
        return ("v", type(x), x)
    if type(x) is np.ndarray:
        return ("a", x.dtype, x.shape)
    if depth < 4 and type(x) in (list, tuple):
        return (type(x), tuple(fingerprint(e, depth + 1) for e in x))
    if depth < 4 and type(x) is dict:
        try:
            return (dict, tuple((k, fingerprint(v, depth + 1)) for k, v in x.items()))
        except Exception:
            return ("id", id(x))
    return ("id", id(x))


def member_ids(x: Any) -> tuple:
    """The identities of the arrays a container holds (nested lists, tuples
    and dicts included), in order: a "members" guard of a container whose
    arrays are baked in (tracer/external.py `baked`) sees one replaced."""
    out: list = []
    _member_ids(x, out, 0)
    return tuple(out)


def _member_ids(x: Any, out: list, depth: int) -> None:
    if isinstance(x, np.ndarray):
        out.append(id(x))
    elif depth <= 4 and type(x) in (list, tuple, dict):
        out.append("[")
        for v in (dict.values(x) if type(x) is dict else x):
            _member_ids(v, out, depth + 1)
        out.append("]")


@dataclass(frozen=True, eq=False)
class Guard:
    source: Source
    kind: str  # "eq", "id", "struct", "members"
    expected: Any

    def holds(self, values) -> bool:
        v = self.source.fetch(values)
        if v is _FAIL:
            return False
        if self.kind == "id":
            return v is self.expected
        if self.kind == "eq":
            return same_value(v, self.expected)
        if self.kind == "members":
            return member_ids(v) == self.expected
        return fingerprint(v) == self.expected


@dataclass(frozen=True, eq=False)
class Implicit:
    """One implicit argument: an array ("array"), a generator ("rng") or a
    RandomState over MT19937 ("legacy")."""

    source: Source
    kind: str
    dtype: Any = None
    shape: tuple = ()

    def fetch(self, values) -> Any:
        v = self.source.fetch(values)
        if self.kind == "rng":
            return v if isinstance(v, np.random.Generator) else _FAIL
        if self.kind == "legacy":
            ok = isinstance(v, np.random.RandomState) and type(v._bit_generator) is np.random.MT19937
            return v if ok else _FAIL
        if not isinstance(v, np.ndarray) or isinstance(v, (np.ma.MaskedArray, np.matrix)) or \
                v.dtype != self.dtype or v.shape != self.shape:
            return _FAIL
        return v if type(v) is np.ndarray else v.view(np.ndarray)  # (a subclass: its memory, as a plain array)


@dataclass(eq=False)
class GuardSet:
    guards: list[Guard] = field(default_factory=list)
    implicit: list[Implicit] = field(default_factory=list)
    aliases: list[tuple[int, Source]] = field(default_factory=list)  # (implicit index, other source)
    written: set[int] = field(default_factory=set)  # implicit indices the program writes
    plain: bool = True  # no 0-d implicit array (the kernel takes them as they come)

    def bind(self, values) -> tuple | None:
        for g in self.guards:
            if not g.holds(values):
                return None
        extra = []
        for imp in self.implicit:
            v = imp.fetch(values)
            if v is _FAIL:
                return None
            extra.append(v)
        for k, src in self.aliases:
            v = src.fetch(values)
            if v is not extra[k] and not (type(v) is not np.ndarray and extra[k].base is v):
                return None
        if self.written:
            _check_written(self, values, extra)
        return tuple(extra)


def _check_written(gs: GuardSet, values, extra: list) -> None:
    """An outside array the program writes must not share memory with another
    array it reads: the program treats them as separate."""
    arrays = [(f"argument {i}", v) for i, v in enumerate(values) if type(v) is np.ndarray]
    arrays += [(gs.implicit[k].source.describe(), v) for k, v in enumerate(extra) if type(v) is np.ndarray]
    for k in gs.written:
        mine = extra[k]
        for name, other in arrays:
            if other is not mine and np.may_share_memory(mine, other):
                raise ValueError(f"`{gs.implicit[k].source.describe()}` is written in place by the jitted "
                                 f"function and shares memory with {name}; pass a copy of one of them")


def bind(program, values) -> tuple | None:
    """The implicit arguments of a call (empty for a program that reads
    nothing from outside), or None when a guard fails: retrace."""
    gs = getattr(program, "guards", None)
    if gs is None:
        return ()
    return gs.bind(values)


def is_library_object(v: Any) -> bool:
    """Functions, classes and modules of NumPy, the standard library and
    looptrace itself are never rebound in practice: no guard for them."""
    mod = getattr(v, "__module__", None) if not isinstance(v, types.ModuleType) else v.__name__
    if not isinstance(mod, str):
        return isinstance(v, (types.BuiltinFunctionType, np.ufunc))
    top = mod.split(".")[0]
    return top in ("numpy", "looptrace", "builtins", "math", "numba", "functools", "itertools", "operator",
                   "typing", "collections", "scipy", "cmath")
