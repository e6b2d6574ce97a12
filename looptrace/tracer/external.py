"""Reading from outside a traced function's arguments (the tracing side of
looptrace/guards.py).

Every read that leaves the function's own scope goes through `read`: module
globals (the converted function's globals are a `TracedGlobals` view of the
module's dict), closure cells, attributes of and items in objects reached that
way, and the items a Python loop takes from such a container. `read` returns
what the traced code should see: an implicit-argument Tracer for an array, a
traced generator for a `np.random.Generator`, a traced RandomState for NumPy's
legacy random state (tracer/legacy_random.py), the object itself otherwise;
and it records the guard that keeps the compiled program honest.

Invariant: an outside array is never baked into the program as a constant
by these paths; the same array reached twice is the same Tracer (so writes
through one name are seen through the other, as in NumPy).
"""
from __future__ import annotations

import collections
import functools
import itertools
import types
import weakref
from typing import Any, Iterable

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.guards import (DATA, GuardSet, Implicit, Guard, Source, _FAIL, fingerprint, is_library_object,
                              member_ids)
from looptrace.ir.core import RNG, Value

from . import context as ctx


class Externals:
    """What one trace read from outside its arguments."""

    def __init__(self, values: tuple):
        self.values = values
        self.sources: dict[int, Source] = {}  # id(object) -> how it was first reached
        self.keep: list = []  # the objects of `sources`, alive while tracing
        self.guards: dict[tuple, tuple[Source, str]] = {}
        self.implicit: list[tuple[Source, str, Any, Value]] = []  # (source, kind, tracer, block arg)
        self.by_id: dict[int, int] = {}  # id(array or generator) -> implicit index
        self.aliases: list[tuple[int, Source]] = []
        self.views: dict[int, tuple[Any, str]] = {}  # id(a dict's values()/items() view) -> (the dict, which)
        self.reached: dict[int, Source] = {}  # id -> a path to it from an outside object (`locate`)
        self.walked = 0  # the objects of `keep` whose insides `reached` holds
        self.baked_ids: set[int] = set()  # the arrays baked in with a snapshot (`baked`)

    # --- reading ------------------------------------------------------------------------------
    def read(self, value: Any, source: Source) -> Any:
        from .array import Tracer
        from .values import RngTracer

        if isinstance(value, (Tracer, RngTracer)):
            return value
        if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
            _check_subclass(value, source)
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biufc":
                return self._guard(value, source, "id")
            if not value.dtype.isnative or not value.flags.aligned:
                raise UnsupportedError(
                    f"`{source.describe()}` is an array of {'non-native byte order' if not value.dtype.isnative else 'unaligned data'} "
                    f"({value.dtype}) read from outside the function; compiled code reads native arrays only",
                    ctx.current_loc(), "pass it as an argument (looptrace converts arguments), or store "
                    "a native copy: arr.astype(arr.dtype.newbyteorder('='))")
            tracer = self._implicit(value, source, "array")
            if type(value) is not np.ndarray:  # its class's methods are traced (subclass_attribute)
                remember_class(tracer, value)
                self._register(value, source)  # (its attributes are read through it)
                self._guard(type(value), source.attr("__class__"), "id")
            return tracer
        if isinstance(value, np.random.Generator):
            return self._implicit(value, source, "rng")
        legacy = self._legacy_random(value, source)
        if legacy is not None:
            return legacy
        if isinstance(value, DATA):
            return self._guard(value, source, "eq")
        if type(value) in (list, tuple, dict):
            self._register(value, source)
            return self._guard(value, source, "struct")
        if isinstance(value, types.ModuleType) or is_library_object(value) and not _rebindable(value, source):
            self._register(value, source)
            return value
        self._register(value, source)
        return self._guard(value, source, "id")

    def _legacy_random(self, value: Any, source: Source) -> Any:
        """A RandomState (an implicit argument: tracer/legacy_random.py), or
        one of its bound methods (`np.random.normal` reached as a global
        `normal`, `np.random.seed`); None for anything else."""
        if isinstance(value, np.random.RandomState):
            if type(value._bit_generator) is not np.random.MT19937:
                raise UnsupportedError(f"`{source.describe()}` is a RandomState over a "
                                       f"{type(value._bit_generator).__name__}; traced code draws from MT19937's only",
                                       ctx.current_loc(), _LEGACY_HINT)
            return self._implicit(value, source, "legacy")
        owner = getattr(value, "__self__", None)
        name = getattr(value, "__name__", "?")
        if value is np.random.seed:
            owner, name = np.random.mtrand._rand, "seed"
        elif not isinstance(owner, np.random.RandomState):
            return None
        if owner is np.random.mtrand._rand:
            return getattr(self.read(owner, GLOBAL_RANDOM_STATE), name)
        src = self.source_of(owner)
        if src is None:
            return RefusedRandom(f"{name}, a method of a RandomState reached only through it,")
        return getattr(self.read(owner, src), name)

    def source_of(self, obj: Any) -> Source | None:
        return self.sources.get(id(obj))

    def register(self, value: Any, source: Source) -> None:
        self._register(value, source)

    def _register(self, value: Any, source: Source) -> None:
        if id(value) not in self.sources:
            self.sources[id(value)] = source
            self.keep.append(value)

    def _guard(self, value: Any, source: Source, kind: str) -> Any:
        self.guards.setdefault(source.key(), (source, kind))
        return value

    def _implicit(self, value: Any, source: Source, kind: str) -> Any:
        k = self.by_id.get(id(value))
        if k is not None:
            if self.implicit[k][0].key() != source.key():
                self.aliases.append((k, source))
            return self.implicit[k][2]
        tracer, arg = _root_tracer(value, kind)
        if kind == "array":
            from . import layout

            tracer.ghost = layout.arg_ghost(value)  # its layout decides reshapes (layout.py)
        self.by_id[id(value)] = len(self.implicit)
        self.implicit.append((source, kind, tracer, arg))
        self.keep.append(value)
        return tracer

    def contents(self, x: Any) -> np.ndarray | None:
        """The array behind an implicit-argument tracer, as it is now."""
        for k, (_, kind, tracer, _) in enumerate(self.implicit):
            if kind == "array" and tracer is x:
                return next(v for v in self.keep if self.by_id.get(id(v)) == k)
        return None

    def items(self, container: Any) -> Iterable:
        """The items of a container (or of a view of an outside dict's
        values or items), each read through its source."""
        view = self.views.get(id(container))
        if view is not None:
            d, which = view
            src = self.source_of(d)
            if which == "values":
                return (self.read(v, src.item(k)) for k, v in list(dict.items(d)))
            return ((k, self.read(v, src.item(k))) for k, v in list(dict.items(d)))
        src = self.source_of(container)
        if src is None or type(container) not in (list, tuple):
            return container
        return (self.read(x, src.item(k)) for k, x in enumerate(container))

    # --- what calls take and give back -------------------------------------------------------------
    def resolved(self, x: Any, src: Source, depth: int = 0) -> Any:
        """An outside list, tuple or dict holding arrays, for a library
        function to read: a copy whose arrays are read through their sources
        (implicit arguments, so their contents are read at call time, not
        baked in). The copy stands for the original (the same source: a
        change to it is refused as one to the original); x itself where it
        holds no array."""
        if depth > 4 or type(x) not in (list, tuple, dict) or not _holds_arrays(x):
            return x
        self._register(x, src)
        if depth == 0 and _many_arrays(x):
            return self.baked(x, src)
        if type(x) is dict:
            new = {k: self._resolved_item(v, src.item(k), depth) for k, v in dict.items(x)}
        else:
            new = type(x)(self._resolved_item(v, src.item(k), depth) for k, v in enumerate(x))
        self._register(new, src)
        return new

    def baked(self, x: Any, src: Source | None) -> Any:
        """A container holding many arrays (`_many_arrays`), for a library
        function to read: its arrays as they are, baked into the program,
        where one implicit argument each would make the program as wide as
        the container (`sum(L)` of 1000 arrays: 1000 kernel arguments). Each
        is snapshotted (every call checks its contents: api.captured_unchanged)
        and the container's arrays are guarded by identity (`L[7] = new` is
        seen), so a change traces again. An array the trace already reads
        as an implicit argument stays that Tracer (it may have been written)."""
        if src is not None:
            self.guards.setdefault(("members",) + src.key(), (src, "members"))
        snapshots = ctx.state().captured
        mixed = False
        for a in _arrays_in(x):
            if id(a) in self.by_id:
                mixed = True
            elif id(a) not in self.baked_ids:
                self.baked_ids.add(id(a))
                self.keep.append(a)
                snapshots.append((a, np.array(a, copy=True)))
        return self._with_tracers(x) if mixed else x

    def _with_tracers(self, x: Any, depth: int = 0) -> Any:
        """A copy of x with the arrays the trace reads as implicit arguments replaced by their Tracers."""
        if isinstance(x, np.ndarray):
            k = self.by_id.get(id(x))
            return x if k is None else self.implicit[k][2]
        if depth > 4 or type(x) not in (list, tuple, dict) and type(x) not in _VIEWS:
            return x
        if type(x) is dict:
            return {k: self._with_tracers(v, depth + 1) for k, v in dict.items(x)}
        if type(x) is _VIEWS[1]:
            return [(k, self._with_tracers(v, depth + 1)) for k, v in x]
        new = [self._with_tracers(v, depth + 1) for v in x]
        return new if type(x) is not tuple else tuple(new)

    def _resolved_item(self, v: Any, src: Source, depth: int) -> Any:
        if type(v) in (list, tuple, dict):
            return self.resolved(v, src, depth + 1)
        return self.read(v, src) if isinstance(v, np.ndarray) else v

    def owners(self, fn: Any, args: tuple, kwargs: dict) -> list[tuple[Any, Source]]:
        """The outside objects a call is given (its bound object included)."""
        out = []
        for a in (getattr(fn, "__self__", None), *args, *kwargs.values()):
            if a is None or isinstance(a, DATA):
                continue
            view = self.views.get(id(a))
            a = view[0] if view is not None else a
            src = self.sources.get(id(a))
            if src is not None:
                out.append((a, src))
        return out

    def returned(self, fn: Any, owners: list, value: Any) -> Any:
        """What a library call given outside objects returns, as traced code
        should see it: an object inside one of them (`d.get("k")`, `vars(o)`,
        `max(lists, key=len)`) read through its path there, so an array is an
        implicit argument and a change to a container is refused; a dict's
        values() or items() view remembered (its items read through the dict:
        `items`); a new list, tuple or dict holding such objects with each
        read so."""
        if isinstance(value, DATA) or id(value) in self.sources:
            return value
        name = getattr(fn, "__name__", "")
        if type(value) in _VIEWS and type(getattr(fn, "__self__", None)) is dict and name in ("values", "items"):
            self.views[id(value)] = (fn.__self__, name)
            self.keep.append(value)
            return value
        if type(value) in (list, tuple, dict) and _many_arrays(value):
            for owner, src in owners:  # (`list(d.values())`: d's arrays, snapshotted and guarded by identity)
                if type(owner) in (list, tuple, dict):
                    self.guards.setdefault(("members",) + src.key(), (src, "members"))
            return self.baked(value, None)
        path = _find(value, owners)
        if path is not None:
            return self.read(value, path)
        if type(value) in (list, tuple, dict) and len(value) <= MAX_SCAN:
            pairs = dict.items(value) if type(value) is dict else enumerate(value)
            new = {k: self.returned(fn, owners, v) for k, v in pairs}
            if any(new[k] is not v for k, v in (dict.items(value) if type(value) is dict else enumerate(value))):
                return new if type(value) is dict else type(value)(new.values())
        return value

    def locate(self, x: Any) -> Source | None:
        """A path to x from an outside object, or None: x reached through
        something the trace cannot follow (a library function's result, an
        iterator) is still the caller's. (The objects reachable from outside
        stay so while tracing: a change to one is refused.)"""
        src = self.sources.get(id(x))
        if src is not None:
            return src
        while self.walked < len(self.keep) and len(self.reached) < MAX_REACHED:
            root = self.keep[self.walked]
            self.walked += 1
            src = self.sources.get(id(root))
            if src is not None:
                _walk(root, src, self.reached)
        return self.reached.get(id(x))

    # --- the guard set of the finished trace -----------------------------------------------------
    def guard_set(self, written: set[int]) -> GuardSet | None:
        if not self.guards and not self.implicit:
            return None
        guards = []
        for src, kind in self.guards.values():
            v = src.fetch(self.values)
            if v is _FAIL:
                continue
            if kind == "id" and src.fetch(self.values) is not v:
                # each read makes a new object (a bound method, a property): compare by equality,
                # or not at all when even that changes from one read to the next
                if not _stable_equal(v, src.fetch(self.values)):
                    continue
                kind = "eq"
            expected = fingerprint(v) if kind == "struct" else member_ids(v) if kind == "members" else v
            guards.append(Guard(src, kind, expected))
        implicit = [Implicit(src, kind, getattr(arg, "dtype", None) if kind == "array" else None,
                             tuple(arg.shape) if kind == "array" else ())
                    for src, kind, _, arg in self.implicit]
        plain = all(imp.kind == "array" and imp.shape != () for imp in implicit)  # see api.py fast path
        return GuardSet(guards, implicit, list(self.aliases), set(written), plain)


def _check_subclass(value: np.ndarray, source: Source) -> None:
    """An ndarray subclass read from outside is an implicit array argument,
    as a subclass argument is an array argument: refused where NumPy's own
    functions would mean something else for it."""
    if isinstance(value, np.ma.MaskedArray):
        raise UnsupportedError(f"`{source.describe()}` is a masked array; looptrace compiles plain "
                               "NumPy arrays and would ignore its mask", ctx.current_loc(),
                               "use np.ma.filled(...) or its .data and .mask explicitly")
    if isinstance(value, np.matrix):
        raise UnsupportedError(f"`{source.describe()}` is a np.matrix, whose `*` is a matrix product; "
                               "looptrace compiles plain NumPy arrays", ctx.current_loc(),
                               "store np.asarray(...) of it")
    why = subclass_refusal(type(value))
    if why is not None:
        raise UnsupportedError(f"`{source.describe()}` is {why}", ctx.current_loc(),
                               "store np.asarray(...) of it (a plain array), or call the function without looptrace")


# a traced array -> the ndarray subclass (of the user's) it stands for: its methods are traced with
# the traced array as `self` (subclass_attribute), so `self[i] = v` in one writes the caller's array
_ARRAY_CLASS: dict[int, tuple] = {}  # id(tracer) -> (a weak reference to it, the class, the instance)
MISSING = object()


def remember_class(tracer: Any, value: Any) -> None:
    if type(value) is not np.ndarray and isinstance(value, np.ndarray):
        key = id(tracer)
        _ARRAY_CLASS[key] = (weakref.ref(tracer, lambda _, key=key: _ARRAY_CLASS.pop(key, None)), type(value), value)


def _remembered(tracer: Any) -> tuple:
    ref, cls, instance = _ARRAY_CLASS.get(id(tracer), (None, None, None))
    return (cls, instance) if ref is not None and ref() is tracer else (None, None)


def array_class(tracer: Any) -> type | None:
    """The ndarray subclass a traced array stands for (`remember_class`), or None."""
    return _remembered(tracer)[0]


def subclass_attribute(tracer: Any, name: str) -> Any:
    """`a.name` of a traced array standing for an instance of an ndarray
    subclass: a method the subclass defines, bound to the traced array; a
    property of it, computed on the traced array; an attribute of the
    instance (`self.scale`, set in `__array_finalize__`) or a data attribute
    of its class, read as an outside object (guarded: a change retraces).
    MISSING for anything else."""
    import inspect

    cls, instance = _remembered(tracer)
    if cls is None:
        return MISSING
    f = inspect.getattr_static(cls, name, MISSING)
    if isinstance(f, staticmethod):
        return f.__func__
    if isinstance(f, classmethod):
        return types.MethodType(f.__func__, cls)
    if isinstance(f, types.FunctionType):
        return types.MethodType(f, tracer)
    if isinstance(f, property) and isinstance(f.fget, types.FunctionType):
        from .runtime import call

        return call(f.fget, tracer)
    own = getattr(instance, "__dict__", None)
    if type(own) is dict and name in own:
        return _instance_read(instance, name, own[name])
    if f is not MISSING and not callable(f) and not inspect.isdatadescriptor(f) and name not in vars(np.ndarray):
        return _instance_read(instance, name, f)
    return MISSING


def _instance_read(instance: Any, name: str, value: Any) -> Any:
    ex = current()
    if ex is None:
        return value
    src = ex.source_of(instance)
    if src is None:
        k = next((i for i, v in enumerate(ex.values) if v is instance), None)
        src = Source("arg", k) if k is not None else None
    return value if src is None else ex.read(value, src.attr(name))


# what an ndarray subclass may not redefine: NumPy's indexing, operators and functions, which looptrace compiles
_OWN_MEANING = ("__getitem__", "__setitem__", "__array_ufunc__", "__array_function__", "__iter__", "__len__",
                "__bool__", "__float__", "__int__", "__index__", "__neg__", "__pos__", "__abs__", "__invert__") + \
    tuple(f"__{p}{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and",
                                    "or", "xor", "lshift", "rshift") for p in ("", "r", "i")) + \
    ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__")


def subclass_refusal(cls: type) -> str | None:
    """Why an ndarray subclass cannot be compiled as a plain array (what it
    redefines), or None."""
    mro = cls.__mro__
    own = [n for k in mro[:mro.index(np.ndarray) if np.ndarray in mro else 0] for n in _OWN_MEANING if n in vars(k)]
    if not own:
        return None
    names = ", ".join(dict.fromkeys(own))
    return (f"an array of class {cls.__name__}, which defines its own {names}: looptrace compiles NumPy's own "
            "indexing, operators and functions, so the compiled code would compute something else")


def _stable_equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


MAX_SCAN = 2000  # items of one container looked into for an object
MAX_REACHED = 20000  # objects `locate` records per trace
_VIEWS = (type({}.values()), type({}.items()))


# an outside container given to a library function is baked in (`Externals.baked`) past BAKE_OVER arrays
# (each implicit argument costs compile time: np.stack of 16 took 8 s, of 1000 over 120 s), unless its arrays
# are big (a few weight matrices updated in place between calls: as arguments, no retrace), up to ALWAYS_BAKE
BAKE_OVER, ALWAYS_BAKE, BIG_BYTES = 8, 64, 1 << 22


def _arrays_in(x: Any, depth: int = 0) -> Iterable:
    """The arrays an outside container (or a dict's values/items view) holds, nested ones included."""
    if isinstance(x, np.ndarray):
        yield x
        return
    if depth > 4:
        return
    if type(x) is dict:
        x = dict.values(x)
    elif type(x) is _VIEWS[1]:
        x = (v for _, v in x)
    elif type(x) not in (list, tuple, _VIEWS[0]):
        return
    for v in x:
        yield from _arrays_in(v, depth + 1)


def _many_arrays(x: Any) -> bool:
    """Is x a container to bake in rather than give its arrays as implicit arguments?"""
    arrays = list(itertools.islice(_arrays_in(x), ALWAYS_BAKE + 1))
    return len(arrays) > ALWAYS_BAKE or len(arrays) > BAKE_OVER and sum(a.nbytes for a in arrays) <= BIG_BYTES


def _holds_arrays(x: Any, depth: int = 0) -> bool:
    items = dict.values(x) if type(x) is dict else x
    for v in itertools.islice(items, MAX_SCAN):
        if isinstance(v, np.ndarray) or depth < 4 and type(v) in (list, tuple, dict) and _holds_arrays(v, depth + 1):
            return True
    return False


def _steps(x: Any):
    """(how, key, value) of what x holds that may be another outside object:
    items of a list, tuple or dict, attributes of an object of the user's
    class (and its __dict__ itself, as `vars(obj)` gives it)."""
    from .containers import _user_class

    if type(x) in (list, tuple, collections.deque):
        return (("item", k, v) for k, v in itertools.islice(enumerate(x), MAX_SCAN))
    if isinstance(x, dict):
        return (("item", k, v) for k, v in itertools.islice(dict.items(x), MAX_SCAN))
    d = getattr(x, "__dict__", None)
    if type(d) is dict and _user_class(type(x)) and not isinstance(x, (type, types.ModuleType)):
        return itertools.chain((("attr", "__dict__", d),), (("attr", k, v) for k, v in dict.items(d)))
    return ()


def _step(src: Source, how: str, key: Any) -> Source:
    return src.attr(key) if how == "attr" else src.item(key)


def _find(value: Any, owners: list, depth: int = 3) -> Source | None:
    """The path to `value` inside one of the owners (by identity), a few steps deep."""
    level = list(owners)
    for _ in range(depth):
        nxt = []
        for obj, src in level:
            for how, key, v in _steps(obj):
                if v is value:
                    return _step(src, how, key)
                if not isinstance(v, (DATA, np.ndarray)):
                    nxt.append((v, _step(src, how, key)))
        level = nxt[:MAX_SCAN]
    return None


def _walk(root: Any, src: Source, reached: dict, depth: int = 6) -> None:
    """Record a path to each object reachable from root (`Externals.locate`)."""
    stack = [(root, src, 0)]
    while stack and len(reached) < MAX_REACHED:
        obj, path, d = stack.pop()
        if d >= depth:
            continue
        for how, key, v in _steps(obj):
            if isinstance(v, DATA) or id(v) in reached:
                continue
            reached[id(v)] = _step(path, how, key)
            if not isinstance(v, np.ndarray):
                stack.append((v, reached[id(v)], d + 1))


def _root_tracer(value: Any, kind: str) -> tuple[Any, Value]:
    """A tracer whose box lives in the function's own frame, holding a new
    block argument of the program (appended after the explicit ones)."""
    from .array import Tracer
    from .values import RngTracer

    st = ctx.state()
    if kind == "rng":
        arg = Value(RNG, ())
        tracer = RngTracer(arg)
    elif kind == "legacy":
        from .legacy_random import LegacyTracer

        arg = Value(RNG, ())
        tracer = LegacyTracer(arg)
    else:
        arg = Value(value.dtype, tuple(value.shape))
        tracer = Tracer(arg)
    tracer._box.frame = st.root
    return tracer, arg


# --- entry points for the converted code -------------------------------------------------------------
def current() -> Externals | None:
    if not ctx.tracing():
        return None
    return getattr(ctx.state(), "externals", None)


def read(value: Any, source: Source) -> Any:
    ex = current()
    return value if ex is None else ex.read(value, source)


def concrete_if_outside(x: Any) -> Any:
    """An array read from outside the function's arguments, as its contents,
    where a shape or a method depends on them (a boolean mask, repeat counts,
    quantiles): the program bakes the contents in, and every call checks that
    the array still holds them (api.captured_unchanged), else it is traced
    again. Anything else comes back as it was."""
    ex = current()
    arr = ex.contents(x) if ex is not None else None
    if arr is None:
        return x
    ctx.state().captured.append((arr, arr.copy()))
    return arr


def read_attr(obj: Any, name: str, value: Any) -> Any:
    ex = current()
    if ex is None:
        return value
    if isinstance(value, DATA) and (isinstance(obj, types.ModuleType) or getattr(type(obj), "library_module", False)) \
            and is_library_object(obj):
        # np.pi, np.nan, math.inf: constants of a library, never rebound in practice. A guard on
        # each kept every call of a function reading one off the direct runner (api.py
        # `_direct_runner`): nanmean's `return np.nan` cost 115 us a call after other work
        return value
    src = ex.source_of(obj)
    return value if src is None else ex.read(value, src.attr(name))


def read_item(container: Any, key: Any, value: Any) -> Any:
    ex = current()
    if ex is None or type(container) not in (list, tuple, dict):
        return value
    src = ex.source_of(container)
    if src is None:
        return value
    try:
        hash(key)
    except TypeError:
        return value
    return ex.read(value, src.item(key))


def items(container: Any) -> Iterable:
    ex = current()
    return container if ex is None else ex.items(container)


def copied_items(container: Any) -> Iterable:
    """The items of a list or tuple being copied (`list(L)`): read through
    their sources, as `L[k]` reads them; a container of many arrays baked
    in instead (`Externals.baked`: `list(L)[:5]` of 1000 arrays)."""
    ex = current()
    src = ex.source_of(container) if ex is not None else None
    if src is not None and _many_arrays(container):
        return ex.baked(container, src)
    return items(container)


# the calls that iterate over an argument (of a dict: its keys)
_ITERATING = frozenset(map(id, (sorted, list, tuple, set, frozenset, min, max, iter, enumerate, zip, reversed,
                                any, all, sum, map, filter)))
# the calls whose arguments are not read as data (an outside container's arrays stay as they are)
_NOT_READING = frozenset(map(id, (len, isinstance, issubclass, type, id, hasattr, callable, getattr, vars)))


def passed(fn: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The arguments of a library function (not the user's, which reads an
    outside container's items through its source itself): an outside list,
    tuple or dict holding arrays is given with those arrays read through
    their sources (`Externals.resolved`), so `np.stack(cfg.mats)` or
    `sum(self.terms)` reads them at call time instead of baking them in."""
    ex = current()
    if ex is None or not ex.sources or id(fn) in _NOT_READING or _runs_users_code(fn):
        return args, kwargs
    changed = False
    # a key function (max(L, key=...), sorted): it decides which item, so it reads the items' values
    bake = callable(kwargs.get("key"))

    def one(a: Any) -> Any:
        nonlocal changed
        view = ex.views.get(id(a)) if type(a) in _VIEWS else None
        if view is not None and _holds_arrays(view[0]):
            changed = True
            if bake or _many_arrays(view[0]):
                return ex.baked(a, ex.source_of(view[0]))
            return list(ex.items(a))
        if bake and type(a) in (list, tuple, dict) and id(a) in ex.sources and _holds_arrays(a):
            new = ex.baked(a, ex.sources[id(a)])
            changed = changed or new is not a
            return new
        src = ex.sources.get(id(a)) if type(a) in (list, tuple, dict) else None
        if src is None or type(a) is dict and id(fn) in _ITERATING:  # (`sorted(d)`: its keys only)
            return a
        new = ex.resolved(a, src)
        changed = changed or new is not a
        return new

    new_args, new_kwargs = tuple(one(a) for a in args), {k: one(v) for k, v in kwargs.items()}
    return (new_args, new_kwargs) if changed else (args, kwargs)


def returned(fn: Any, args: tuple, kwargs: dict, value: Any) -> Any:
    """What a library function given outside objects returns, followed
    (`Externals.returned`): `self.get_cache()` is followed where it is the
    user's code; `d.get("k")`, `vars(obj)`, `next(iter(lists))` here."""
    ex = current()
    if ex is None or not ex.sources or isinstance(value, DATA) or _runs_users_code(fn):
        return value
    from .array import is_tracer

    if is_tracer(value):
        return value
    owners = ex.owners(fn, args, kwargs)
    return ex.returned(fn, owners, value) if owners else value


def _runs_users_code(fn: Any) -> bool:
    """Is `fn` the user's code, traced (its own reads are followed)?"""
    from . import runtime

    if getattr(type(fn), "__looptrace_traceable__", False):
        return True
    if isinstance(fn, types.FunctionType):
        return runtime._user_function(fn)
    return runtime._user_callable(fn) is not None


def refuse_change(x: Any) -> None:
    """`x` is about to be changed (an attribute or item set or deleted, a
    list grown, a dict updated: containers.note): refused where x was reached
    from outside the function (an argument's object, a global, a closure's,
    anything read through them or reachable from them, however the code got
    it: `self.get_cache()["k"] = v`, `vars(obj)[k] = v`). The function runs
    once, when it is compiled: the change would be made then, holding traced
    placeholders, and never when the compiled function is called. Objects the
    function makes itself are changed as Python changes them."""
    ex = current()
    if ex is None or isinstance(x, DATA) or _is_traced(x):
        return
    src = ex.locate(x)
    if src is None:
        return
    if src.steps and src.steps[-1] == ("attr", "__dict__"):  # vars(obj): the object's own attributes
        src = Source(src.kind, src.holder, src.name, src.steps[:-1])
        x = src.fetch(ex.values)
    raise UnsupportedError(
        f"this line changes `{_label(src)}` ({_what_object(x)} from outside the function): looptrace runs "
        "the function once, when it compiles it, so the change would be made then, holding traced "
        "placeholders, and never when the compiled function is called", ctx.current_loc(),
        "return the value and store it outside the jitted function (`s = f(x); obj.last = s`)")


def _is_traced(x: Any) -> bool:
    from .array import Tracer
    from .values import RngTracer

    return isinstance(x, (Tracer, RngTracer))


def _label(src: Source) -> str:
    """How the user names an outside object: `self.hist`, `cache['s']`."""
    text = src.name or src.describe()
    for how, what in src.steps:
        text += f".{what}" if how == "attr" else f"[{what!r}]"
    return text


def _what_object(x: Any) -> str:
    if isinstance(x, types.ModuleType):
        return f"the module {x.__name__}"
    t = type(x)
    if isinstance(x, np.ndarray):
        return "an array"
    return f"a {t.__name__}" if t in (list, dict, set, tuple) else f"an object of class {t.__name__}"


class TracedGlobals(dict):
    """The globals of converted code: names it defines itself (the `__lt`
    runtime, `global` assignments) live here; every other name is read from
    the module's own dict when the code reads it, through `read`."""

    def __init__(self, real: dict, own: dict, patch):
        super().__init__(own)
        self.real = real
        self.patch = patch

    def __getitem__(self, name: str) -> Any:
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        value = self.real[name]  # a KeyError sends Python on to the builtins
        return read(self.patch(value), Source("global", self.real, name))

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in self.real


# --- NumPy's legacy global random state ------------------------------------------------------------
_LEGACY_HINT = ("pass a generator as an argument (rng = np.random.default_rng(seed)) and draw from it "
                "(rng.random(), rng.normal(...)): looptrace draws from it at run time")


def _rebindable(value: Any, source: Source) -> bool:
    """Is a library object (np.sin, np.float32) reached through a name the
    user may rebind (a global `FN = np.sin`, a closure cell, an attribute of
    a user's object), not through its own module (`np.sin`) or a builtin?"""
    import builtins

    if isinstance(source.fetch(None), types.ModuleType):  # (`np` itself, seen as looptrace's namespace)
        return False
    if not source.steps:
        return source.kind in ("global", "cell") and getattr(builtins, source.name, None) is not value
    parent = Source(source.kind, source.holder, source.name, source.steps[:-1]).fetch(None)
    return not isinstance(parent, (types.ModuleType, type))


class RefusedRandom:
    """Stands for a use of NumPy's legacy random state that traced code does
    not support (a bound method of a RandomState it cannot reach again at
    call time): any use is refused, since a draw would be made once, while
    tracing, and baked into the program."""

    def __init__(self, what: str):
        self._what = what

    def _refuse(self, *args, **kwargs):
        raise UnsupportedError(f"{self._what} uses NumPy's legacy random state, which compiled code cannot "
                               "draw from here: the draw would happen once, while tracing, and every call "
                               "would return the same numbers", ctx.current_loc(), _LEGACY_HINT)

    __call__ = _refuse

    def __getattr__(self, name: str):
        return RefusedRandom(f"{self._what}.{name}")


def _global_random_state() -> np.random.RandomState:
    return np.random.mtrand._rand


# np.random.seed, random, normal, ... draw from this RandomState, fetched at every call
GLOBAL_RANDOM_STATE = Source("made", _global_random_state, "np.random")


# the np.random names traced code may use: the Generator API, which draws at run time
_GENERATOR_API = {"default_rng", "Generator", "BitGenerator", "SeedSequence", "PCG64", "PCG64DXSM", "MT19937",
                  "Philox", "SFC64"}


class RandomNamespace:
    """`np.random` as traced code sees it: the Generator API, and the legacy
    functions as methods of the global RandomState (tracer/legacy_random.py)."""

    def __getattr__(self, name: str) -> Any:
        if name == "default_rng":
            return _default_rng
        if name in _GENERATOR_API or name.startswith("_"):
            return getattr(np.random, name)
        ex = current()
        if ex is None:
            return getattr(np.random, name)
        return getattr(ex.read(np.random.mtrand._rand, GLOBAL_RANDOM_STATE), name)


def _default_rng(seed=None, *args, **kwargs):
    if seed is None and not args and not kwargs:
        raise UnsupportedError("np.random.default_rng() without a seed inside a jitted function would draw "
                               "fresh entropy once, while tracing, and reuse it on every call",
                               ctx.current_loc(), _LEGACY_HINT)
    from .array import is_tracer

    if is_tracer(seed) or any(is_tracer(a) for a in args):
        # a seed from an int argument: the function is specialized on it (one version per seed, looptrace/
        # specialize.py), so the generator is made while tracing; a seed computed from array data cannot be
        from .static import concrete_error

        e = concrete_error([seed, *args], "np.random.default_rng(seed) of a traced seed: the generator's state "
                           "is made while tracing, so the seed must be known then",
                           "pass the seed as an int argument (looptrace specializes on it), or pass the "
                           "generator itself as an argument")
        e.why = "it seeds a generator made while tracing"
        raise e
    gen = np.random.default_rng(seed, *args, **kwargs)
    ex = current()
    if ex is None:
        return gen
    # a generator made afresh on every call of the plain function: an implicit argument the call makes the
    # same way, so draws in a loop traced once are draws at run time (a Generator object used while
    # tracing drew once, and every iteration reused those numbers)
    made = functools.partial(np.random.default_rng, seed, *args, **kwargs)
    return ex.read(gen, Source("made", made, f"np.random.default_rng({seed!r})"))


# --- calls whose value comes from hidden state: evaluated once, while tracing --------------------
_CLOCKS = ("time", "time_ns", "perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "process_time",
           "process_time_ns", "thread_time", "thread_time_ns")
_NOW_WITHOUT_ARGUMENT = {"localtime": 0, "gmtime": 0, "ctime": 0, "asctime": 0, "strftime": 1}  # (time.X(): now)
_TIME_HINT = "measure time outside the jitted function (around the call), or pass the value in as an argument"
_RANDOM_HINT = ("draw from a NumPy generator instead: pass rng = np.random.default_rng(seed) as an argument and "
                "use rng.random(), rng.normal(...), rng.integers(...) (drawn at run time), or draw the value "
                "outside and pass it in as an argument")
_HIDDEN: dict[int, tuple[Any, str, str]] | None = None  # id(function) -> (function, its name, hint)


def _hidden_table() -> dict[int, tuple[Any, str, str]]:
    global _HIDDEN
    if _HIDDEN is None:
        import os
        import secrets
        import time
        import uuid

        table = {}
        for mod, names, hint in ((time, _CLOCKS, _TIME_HINT), (os, ("urandom", "getrandom"), _RANDOM_HINT),
                                 (uuid, ("uuid1", "uuid4"), _RANDOM_HINT),
                                 (secrets, ("token_bytes", "token_hex", "token_urlsafe", "randbelow", "randbits"),
                                  _RANDOM_HINT)):
            for n in names:
                f = getattr(mod, n, None)
                if f is not None:
                    table[id(f)] = (f, f"{mod.__name__}.{n}", hint)
        _HIDDEN = table
    return _HIDDEN


def refuse_hidden_state(fn: Any, args: tuple) -> None:
    """A call whose value comes from state the program cannot see (Python's
    `random` module or a random.Random, a clock, os.urandom, uuid4, secrets,
    datetime.now()) is evaluated once, while tracing, and its value baked
    into the program: every call (every iteration of a traced loop) would
    see the same number. Refused at the call's line (runtime.call)."""
    import random

    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", "?")
    what = hint = None
    if isinstance(owner, random.Random):
        what = f"random.{name}" if owner is getattr(random, "_inst", None) else f"{type(owner).__name__}.{name}"
        hint = _RANDOM_HINT
    elif isinstance(owner, type) and name in ("now", "utcnow", "today") and _is_datetime_class(owner):
        what, hint = f"{owner.__name__}.{name}", _TIME_HINT
    else:
        hit = _hidden_table().get(id(fn))
        if hit is not None and hit[0] is fn:
            _, what, hint = hit
        elif getattr(fn, "__module__", None) == "time" and _NOW_WITHOUT_ARGUMENT.get(name, -1) == len(args):
            what, hint = f"time.{name}", _TIME_HINT
    if what is None:
        return
    raise UnsupportedError(
        f"`{what}()` inside a jitted function is evaluated once, when looptrace traces the function: its value "
        "would be the same on every call (and on every iteration of a traced loop)", ctx.current_loc(), hint)


def _is_datetime_class(cls: type) -> bool:
    import datetime

    return issubclass(cls, datetime.date)
