"""Containers of arrays as arguments: tuples, lists, dicts, namedtuples and
dataclass instances.

    @lt.jit
    def predict(params, X):             params = {"W": W, "b": b}, or (W, b)
        return np.tanh(X @ params["W"] + params["b"])

A call whose argument is such a container (at any depth) runs as a call of a
function with one parameter per leaf: `flatten` splits each container into
its leaves (arrays, numbers, generators: what an argument may be) and a
`Tree`, hashable, that records everything else (the container types, dict
keys in order, and the other items as constants: None, strings, functions).
api.py keeps one flat JitFunction per tuple of Trees, whose parameters are
the leaves; it rebuilds each container from its leaves (`unflatten`) and
calls the user's function with them, traced as usual. So each leaf is typed,
specialized and written back exactly as an argument of its own would be: an
array written in place inside a container is seen by the caller, and a
Python int in a container that sizes an array is specialized on. grad of a
container argument returns a container of the same shape with a gradient
at each leaf (autodiff/api.py).

Containers are passed in by value: the function gets containers of its own.
A function that changes a container argument itself (assigns an item,
appends, deletes) would change the caller's in plain Python; `Rebuilt`
checks after tracing that none was changed and raises UnsupportedError if
one was. A tuple holding only constants and Python numbers stays what it
was before: a static argument when its parameter is static (a default not
passed, static_argnames), keyed by value.

Invariant: flatten(x) gives leaves in the order unflatten reads them (dicts
in insertion order, sequences by position), and two values with equal Trees
differ only in their leaves.
"""
from __future__ import annotations

import abc
import dataclasses
import functools
import numbers
from typing import Any, Callable, NamedTuple

import numpy as np


class DataclassInstance(abc.ABC):
    """isinstance(x, DataclassInstance): x is an instance of a dataclass
    (frozen or not, with slots or not). Its fields are its children, as a
    namedtuple's are; the class is part of the Tree."""

    @classmethod
    def __subclasshook__(cls, C: type) -> bool:
        return dataclasses.is_dataclass(C)


CONTAINERS = (tuple, list, dict, DataclassInstance)


def record_names(x: Any) -> tuple[str, ...]:
    """The attributes of a dataclass instance that are its children: its
    fields, then what its __post_init__ stored besides (`self.n = len(w)`)."""
    names = tuple(f.name for f in dataclasses.fields(x))
    extra = tuple(k for k in getattr(x, "__dict__", {}) if k not in names)
    return names + extra


def make_record(cls: type, names: tuple, items: list) -> Any:
    """An instance of the dataclass `cls` holding `items`, made as copy.copy
    makes one (no __init__ or __post_init__ run again; frozen ones too)."""
    obj = object.__new__(cls)
    for name, item in zip(names, items):
        object.__setattr__(obj, name, item)
    return obj


class Tree(NamedTuple):
    """The structure of one argument: kind "leaf", "const" (aux: the value),
    "tuple", "list", "dict" (aux: the keys), "namedtuple" (aux: the class).
    A tuple, so hashing and comparing one (every call's cache key) is C's."""

    kind: str
    children: tuple = ()
    aux: Any = None


_LEAF = Tree("leaf")


def is_leaf(x: Any) -> bool:
    """What may be an argument of its own: an array (NumPy or on the GPU), a
    number, a generator."""
    return isinstance(x, (np.ndarray, np.generic, np.random.Generator, numbers.Number)) or \
        hasattr(x, "__cuda_array_interface__") or type(x).__name__ == "FakeCUDAArray"


# A list argument of more numbers than this, all of one type (Python floats, ints or bools, or one
# NumPy scalar type), is passed as one array (`number_list`): its reads are traced once.
NUMBER_LIST_FROM = 65


def number_list(v: Any) -> tuple | None:
    """(dtype str, weak) of a list argument passed as one array: a plain
    list of more than NUMBER_LIST_FROM - 1 numbers of one type (a Python int
    within int64), else None. Iterating, indexing, len and sum of such a list
    unrolled its items while tracing (10000 numbers: a compile of minutes);
    as an array they are one loop, keyed on the length and the type."""
    if type(v) is not list or len(v) < NUMBER_LIST_FROM:
        return None
    t = type(v[0])
    if t not in (float, int, bool) and not (issubclass(t, np.generic) and t().ndim == 0 and
                                            np.dtype(t).kind in "biuf"):
        return None
    if len(set(map(type, v))) != 1:  # (C's loop: the check runs at every call)
        return None
    if t is int:
        if not (-2**63 <= min(v) and max(v) < 2**63):  # (past int64: items of their own, as before)
            return None
        return ("<i8", True)
    if t in (float, bool):
        return (np.dtype(t).str, True)
    return (np.dtype(t).str, False)


def number_list_leaf(v: list, aux: tuple) -> np.ndarray:
    return np.fromiter(v, dtype=np.dtype(aux[0]), count=len(v))  # (a third of np.array's time)


def number_list_items(leaf: Any, aux: tuple) -> list:
    """The list a number-list leaf stands for: while tracing, one Segment of
    the traced array (read as a list grown in a loop is: traced once, each
    element its Python type); else (a gradient) its items as NumPy scalars,
    as the gradient of a list passed item by item gives them."""
    from looptrace.tracer.array import is_tracer

    if is_tracer(leaf):
        from looptrace.tracer.grown import ArgumentSegment  # (`argument`: grown.expand, Rebuilt)

        return [ArgumentSegment(leaf.value, weak=aux[1])]
    return list(np.asarray(leaf))


def holds_array(x: Any) -> bool:
    """A container with at least one array among its leaves (at any depth)."""
    if isinstance(x, dict):
        return any(holds_array(v) for v in x.values())
    if isinstance(x, DataclassInstance) and not isinstance(x, type):
        return any(holds_array(getattr(x, n)) for n in record_names(x))
    if isinstance(x, (tuple, list)):
        return any(holds_array(v) for v in x)
    return isinstance(x, np.ndarray) or hasattr(x, "__cuda_array_interface__") or \
        type(x).__name__ == "FakeCUDAArray"


def flatten(x: Any, name: str) -> tuple[list, Tree]:
    """(leaves, Tree) of the argument `name` (leaf_names gives the leaves' names)."""
    leaves: list = []

    def walk(v: Any) -> Tree:
        if isinstance(v, dict):
            keys = tuple(v)
            return Tree("dict", tuple([walk(v[k]) for k in keys]), keys)
        if isinstance(v, tuple) and hasattr(type(v), "_fields"):
            return Tree("namedtuple", tuple([walk(e) for e in v]), type(v))
        numbers_ = number_list(v)
        if numbers_ is not None:
            leaves.append(number_list_leaf(v, numbers_))
            return Tree("numbers", aux=numbers_)
        if isinstance(v, (tuple, list)):
            return Tree(type(v).__name__, tuple([walk(e) for e in v]))
        if isinstance(v, DataclassInstance) and not isinstance(v, type):
            names = record_names(v)
            return Tree("dataclass", tuple([walk(getattr(v, n)) for n in names]), (type(v), names))
        if is_leaf(v):
            leaves.append(v)
            return _LEAF
        try:
            hash(v)
        except TypeError:
            path = next(p for p, e in _paths(x, name) if e is v)
            raise TypeError(f"argument `{path}` has unsupported type {type(v).__name__}; a container "
                            "argument may hold arrays, numbers, containers of them, and hashable "
                            "constants (None, strings)") from None
        return Tree("const", aux=v)

    return leaves, walk(x)


def leaf_names(x: Any, name: str) -> list[str]:
    """The leaves' names as the user would write them (`params['W']`, `ws[0]`, `p.b`),
    in flatten's order: only needed when a structure is seen first."""
    return [p for p, e in _paths(x, name) if is_leaf(e) or number_list(e) is not None]


def _paths(v: Any, path: str):
    """(path, item) of every item of v, depth first, in flatten's order."""
    if isinstance(v, dict):
        for k in v:
            yield from _paths(v[k], f"{path}[{k!r}]")
    elif isinstance(v, tuple) and hasattr(type(v), "_fields"):
        for f, e in zip(type(v)._fields, v):
            yield from _paths(e, f"{path}.{f}")
    elif isinstance(v, (tuple, list)) and number_list(v) is None:
        for i, e in enumerate(v):
            yield from _paths(e, f"{path}[{i}]")
    elif isinstance(v, DataclassInstance) and not isinstance(v, type):
        for n in record_names(v):
            yield from _paths(getattr(v, n), f"{path}.{n}")
    else:
        yield path, v


def unflatten(tree: Tree, leaves: list, start: int = 0) -> tuple[Any, int]:
    """The container `tree` describes, with leaves from `leaves[start:]`;
    returns it and the position after the last leaf read."""
    kind = tree.kind
    if kind == "leaf":
        return leaves[start], start + 1
    if kind == "const":
        return tree.aux, start
    if kind == "numbers":
        return number_list_items(leaves[start], tree.aux), start + 1
    items = []
    for child in tree.children:
        item, start = unflatten(child, leaves, start)
        items.append(item)
    if kind == "dict":
        return dict(zip(tree.aux, items)), start
    if kind == "namedtuple":
        return tree.aux(*items), start
    if kind == "dataclass":
        return make_record(*tree.aux, items), start
    return (tuple(items) if kind == "tuple" else items), start


def structure_test(trees: tuple, flat_values: list) -> tuple[str, dict, list[str]] | None:
    """A warm call's flatten, as lines of generated code: lines that return
    `MISS` unless the call's arguments `a` have the structures `trees` (one
    per argument, None for one passed as it is) with leaves of the types of
    `flat_values` (what `flatten` gave for them), the names those lines use,
    and the flat values as expressions (one per leaf or argument passed as
    it is), read from `a` by key and position: a container's values are
    read at every call, only its structure is compared (the dict's keys in
    order, a sequence's type and length, each leaf's type by identity). A
    dict argument took the whole `flatten` and its Tree's hash per call
    (8.3 us against 4.7 for the plain function). None for a structure
    these lines do not test (a dataclass, a subclass of list or dict):
    the call flattens it."""
    lines: list[str] = [f"    if len(a) != {len(trees)}:\n        return MISS\n"]
    env: dict[str, Any] = {}
    exprs: list[str] = []
    names = iter(range(1 << 30))

    def fail(test: str) -> None:
        lines.append(f"    if {test}:\n        return MISS\n")

    def walk(tree: Tree, item: str) -> bool:
        kind = tree.kind
        n = next(names)
        if kind == "leaf":
            env[f"T{n}"] = type(flat_values[len(exprs)])
            fail(f"type({item}) is not T{n}")
            exprs.append(item)
            return True
        if kind == "const":
            env[f"C{n}"], env[f"T{n}"] = tree.aux, type(tree.aux)
            fail(f"type({item}) is not T{n} or {item} != C{n}")
            return True
        if kind == "numbers":  # a list argument of numbers: its array, or MISS for another length or type
            env[f"N{n}"] = _number_list_reader(tree.aux, len(flat_values[len(exprs)]))
            lines.append(f"    a{n} = N{n}({item})\n")
            fail(f"a{n} is None")
            exprs.append(f"a{n}")
            return True
        if kind == "dict":
            env[f"K{n}"] = tree.aux
            fail(f"type({item}) is not dict or tuple({item}) != K{n}")
            env.update({f"K{n}_{j}": k for j, k in enumerate(tree.aux)})
            parts = [f"{item}[K{n}_{j}]" for j in range(len(tree.aux))]
        elif kind in ("tuple", "list", "namedtuple"):
            env[f"T{n}"] = tree.aux if kind == "namedtuple" else (tuple if kind == "tuple" else list)
            fail(f"type({item}) is not T{n} or len({item}) != {len(tree.children)}")
            parts = [f"{item}[{j}]" for j in range(len(tree.children))]
        else:
            return False  # (a dataclass: its fields and its __dict__'s)
        for child, part in zip(tree.children, parts):
            name = f"v{next(names)}"
            lines.append(f"    {name} = {part}\n")
            if not walk(child, name):
                return False
        return True

    for i, tree in enumerate(trees):
        if tree is None:
            exprs.append(f"a[{i}]")
            continue
        lines.append(f"    x{i} = a[{i}]\n")
        if not walk(tree, f"x{i}"):
            return None
    return "".join(lines), env, exprs


def _number_list_reader(aux: tuple, length: int) -> Callable[[Any], np.ndarray | None]:
    """`read(v)`: the array of a list of `length` numbers of the type `aux`
    says (number_list), or None for anything else."""
    def read(v: Any) -> np.ndarray | None:
        if type(v) is not list or len(v) != length or number_list(v) != aux:
            return None
        return number_list_leaf(v, aux)

    return read


def structure_reader(trees: tuple, flat_values: list) -> Callable | None:
    """`read(a)`: the flat values of a call whose arguments `a` have the
    structures `trees` (`structure_test`), as a tuple, or None."""
    test = structure_test(trees, flat_values)
    if test is None:
        return None
    lines, env, exprs = test
    env["MISS"] = None
    exec(f"def read(a):\n{lines}    return ({''.join(e + ', ' for e in exprs)})\n", env)  # noqa: S102
    return env["read"]


@functools.lru_cache(maxsize=256)
def builder(tree: Tree) -> Callable[[list], Any]:
    """`unflatten(tree, leaves)[0]` as one generated expression (a
    gradient's containers are rebuilt at every warm call: the recursion
    took about 1.5 us for a dict of two arrays); one per Tree."""
    env: dict[str, Any] = {"MAKE": make_record}
    count = iter(range(1 << 30))
    taken = iter(range(1 << 30))

    def expr(t: Tree) -> str:
        if t.kind == "leaf":
            return f"leaves[{next(taken)}]"
        n = next(count)
        if t.kind == "const":
            env[f"C{n}"] = t.aux
            return f"C{n}"
        if t.kind == "numbers":
            env["NUMBERS"], env[f"C{n}"] = number_list_items, t.aux
            return f"NUMBERS(leaves[{next(taken)}], C{n})"
        items = [expr(c) for c in t.children]
        listed = "".join(e + ", " for e in items)
        if t.kind == "dict":
            env.update({f"K{n}_{j}": k for j, k in enumerate(t.aux)})
            return "{" + "".join(f"K{n}_{j}: {e}, " for j, e in enumerate(items)) + "}"
        if t.kind == "namedtuple":
            env[f"C{n}"] = t.aux
            return f"C{n}({listed})"
        if t.kind == "dataclass":
            env[f"C{n}"] = t.aux
            return f"MAKE(*C{n}, [{listed}])"
        return f"({listed})" if t.kind == "tuple" else f"[{listed}]"

    exec(f"def build(leaves):\n    return {expr(tree)}\n", env)  # noqa: S102 (names of our own)
    return env["build"]


def count_leaves(tree: Tree) -> int:
    if tree.kind in ("leaf", "numbers"):
        return 1
    return sum(count_leaves(c) for c in tree.children)


class Rebuilt:
    """The containers handed to the function in one trace, and what each held
    (the identity of every item), to tell afterwards whether the function
    changed one of them."""

    def __init__(self):
        self.entries: list[tuple[str, Any, Any]] = []

    def add(self, name: str, value: Any) -> Any:
        self.entries.append((name, value, _shape_of(value), _argument_segments(value)))
        return value

    def changed(self) -> str | None:
        """The name of an argument whose container the function changed, or
        None. A list of numbers passed as one array (`number_list`) that the
        tracer expanded into its items (grown.expand: enumerate, zip) is the
        same list: its items are exactly that expansion."""
        for name, value, before, segments in self.entries:
            canon = {tuple(map(id, s.expanded)): id(s) for s in segments if getattr(s, "expanded", None)}
            if _shape_of(value, canon) != before:
                return name
        return None


def _argument_segments(x: Any) -> list:
    """The Segments standing for list arguments of numbers in x (number_list_items)."""
    if isinstance(x, dict):
        return [s for v in x.values() for s in _argument_segments(v)]
    if isinstance(x, (list, tuple)):
        return [s for v in x for s in ([v] if getattr(v, "argument", False) is True else _argument_segments(v))]
    return []


def _shape_of(x: Any, canon: dict | None = None) -> Any:
    if isinstance(x, dict):
        return ("dict", tuple((k, _shape_of(v, canon)) for k, v in x.items()))
    if isinstance(x, list):
        if canon and tuple(map(id, x)) in canon:
            return ("list", (canon[tuple(map(id, x))],))
        return ("list", tuple(_shape_of(v, canon) for v in x))
    if isinstance(x, tuple):
        return ("tuple", tuple(_shape_of(v, canon) for v in x))
    if isinstance(x, DataclassInstance) and not isinstance(x, type):
        names = record_names(x)
        return ("dataclass", names, tuple(_shape_of(getattr(x, n), canon) for n in names))
    return id(x)
