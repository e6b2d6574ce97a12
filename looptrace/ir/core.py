"""The IR's node types: typed SSA values, ops with source locations, blocks.

Invariants: every `Value` is defined exactly once (as a block argument or an op
output) and has a concrete dtype and shape; every `Op` carries the user's
source location; region ops (loops, conditionals) own their body blocks in
`op.blocks`, and a body may refer to values defined outside it (implicit
capture, as in MLIR). Generic walks reach every nested op via `walk`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

_ids = itertools.count()


class Dim:
    """A dimension whose size is known only at run time (e.g. a list grown in a
    loop with a data-dependent exit). Equal only to itself; `bound` is a static
    upper bound."""

    __slots__ = ("id", "bound")

    def __init__(self, bound: int):
        self.id = next(_ids)
        self.bound = bound

    @property
    def extent(self) -> int:
        """A size for cost and memory estimates: the bound, else a nominal
        UNKNOWN_EXTENT (a list a while loop grew has no bound)."""
        return self.bound if self.bound is not None else UNKNOWN_EXTENT

    def __repr__(self) -> str:
        return f"?{self.id}"


UNKNOWN_EXTENT = 1024  # what estimates take an unbounded Dim's size to be (Dim.extent)

Shape = tuple  # of int | Dim


class OpaqueType:
    """A non-array type (a random generator). Compares by name."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpaqueType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


RNG = OpaqueType("rng")


@dataclass(frozen=True, slots=True)
class SourceLoc:
    """Where in the user's code an op came from."""

    file: str
    line: int
    text: str = ""

    def __str__(self) -> str:
        return f"{_short(self.file)}:{self.line}"


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1]


UNKNOWN_LOC = SourceLoc("<looptrace>", 0, "")


@dataclass(slots=True, eq=False)
class Value:
    """An SSA value. `const` holds the Python/NumPy value of a literal."""

    dtype: Any  # np.dtype or OpaqueType
    shape: Shape
    const: Any = None
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_const(self) -> bool:
        return self.const is not None

    def __repr__(self) -> str:
        return f"%{self.id}"


def literal(x: Any, dtype: Any = None) -> Value:
    """A constant value (a scalar or a NumPy array)."""
    arr = np.asarray(x, dtype=dtype)
    return Value(arr.dtype, arr.shape, const=arr)


@dataclass(slots=True, eq=False)
class Block:
    """A list of ops with arguments and results (a loop or branch body)."""

    args: list[Value]
    ops: list["Op"]
    results: list[Value]


@dataclass(slots=True, eq=False)
class Op:
    """One operation: a primitive applied to inputs, with static attributes."""

    prim: Any  # ir.primitive.Primitive
    inputs: tuple[Value, ...]
    outputs: tuple[Value, ...]
    attrs: dict
    loc: SourceLoc
    blocks: tuple[Block, ...] = ()

    @property
    def out(self) -> Value:
        (v,) = self.outputs
        return v


@dataclass(slots=True, eq=False)
class Program:
    """A traced function: its body block plus how arguments map to inputs."""

    body: Block
    name: str = "f"
    # Filled by the tracer: which body results are written back into which
    # argument arrays (caller-visible in-place writes), and the output tree.
    writebacks: list[tuple[int, int]] = field(default_factory=list)
    out_tree: Any = None
    loops: list = field(default_factory=list)  # LoopInfo records, source order
    arg_specs: list = field(default_factory=list)
    # NumPy arrays from the user's scope baked in as constants, with their
    # contents when traced (a call whose arrays changed since is retraced)
    captured: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what tracing decided, for explain (specializations, unrolling)
    # what the program read from outside its arguments: guards and implicit arguments
    # (looptrace/guards.py); the implicit arguments are the last block arguments
    guards: Any = None
    # result position -> argument position, for a result that is the argument object itself
    # (`s[1] = 7; return s`): the call returns the caller's array, as Python does
    result_args: dict = field(default_factory=dict)
    # result position -> (argument position, view steps), for a result that is a view of an argument
    # the program writes into (`a[i] = ...` in a loop, then `return a[1:]`): the call returns that view
    # of the caller's array, taken after the write-back (api.py `_view_of`), as NumPy would. Each step
    # is (primitive name, attrs) of a slice, reshape or transpose, from the argument outwards.
    result_views: dict = field(default_factory=dict)
    # result position -> (position of another result, view steps as in result_views, their attrs as
    # items), for a result that is a view of an array the function makes and also returns (`y = x * 2;
    # return y, y[1:]`): the call returns that view of the other result (api.py `_with_subviews`), so a
    # write into either shows in the other, as in NumPy. Steps may also be ("real"/"imag", ()) and
    # ("index", the user's basic index: tracer/trace.py `_static_key`); steps None: that result's very
    # object (`return y, y`)
    result_subviews: dict = field(default_factory=dict)
    # result position -> (argument position, view steps as in result_subviews, or None where unknown),
    # for a result that is a view of an argument the program does not write (`return A[0]`): where
    # the caller's array is read-only the call gives that view read-only, as NumPy (api.py)
    result_arg_views: dict = field(default_factory=dict)
    # result position -> (position of a hidden int64 result, a kinds tag: which argument the result is
    # at run time, -1 for none; view steps as in result_subviews, None for the argument itself), for a
    # result a traced condition or a swapping loop's parity binds to one argument or another (tracer/
    # trace.py `_result_choices`): the call returns that caller's array (api.py `plain_results`)
    result_choices: dict = field(default_factory=dict)
    # argument position -> the line of a write into it that runs whenever the function returns (at
    # its own level, outside traced branches and loops: tracer/array.py `note_sure_write`): the call
    # refuses a read-only argument there, as NumPy does even where the write changes nothing
    sure_writes: dict = field(default_factory=dict)
    # result positions of arrays the plain function makes anew (`x.copy()`, `np.array(list)` of an
    # argument's elements) that the kernel may give as an argument's memory (the IR's copy is the
    # value itself): the call copies them where they share memory with an argument (api.py)
    fresh_results: tuple = ()
    # array arguments the program holds for the layout it was traced for only (a reshape of one that
    # another memory order would make NumPy copy, or not, and a write that shows it: tracer/layout.py)
    # -> (the reshape's line, the layout: None for C order, else strides in elements)
    layout_args: dict = field(default_factory=dict)


def walk(block: Block) -> Iterator[Op]:
    """Every op in `block`, nested bodies included, in program order."""
    for op in block.ops:
        yield op
        for sub in op.blocks:
            yield from walk(sub)


def free_values(block: Block) -> list[Value]:
    """Values used in `block` (or nested in it) but defined outside it."""
    defined: set[int] = set()
    free: dict[int, Value] = {}

    def visit(b: Block) -> None:
        defined.update(v.id for v in b.args)
        for op in b.ops:
            for v in op.inputs:
                if v.id not in defined and not v.is_const:
                    free.setdefault(v.id, v)
            for sub in op.blocks:
                visit(sub)
            defined.update(v.id for v in op.outputs)
        for v in b.results:
            if v.id not in defined and not v.is_const:
                free.setdefault(v.id, v)

    visit(block)
    return list(free.values())
