"""Lists of rows: `[[f(i, j) for j in ...] for i in ...]`, traced once.

A comprehension whose element is itself a list of numbers (an inner
comprehension, a list display `[a, b, c]`, `list(row)`) ran as Python while
tracing: the compiled program held one copy of the element per item (n
copies of the inner loop and a concatenate of n pieces: cold cpu compile
10 s at n = 12, 168 s at n = 40). `comp_rows` traces it once instead, as a
loop that appends each row as one array, so the list is one `RowsSegment`:
the rows stacked (a 2-D array for rows of numbers, 3-D for rows of rows).
np.array / np.stack / len() read the stack as they read any list a loop grew.

Reads give Python's answers: `M[i]`, `for row in M` and a slice of M give
`GrownRow`s, traced arrays that stand for Python lists of numbers: read,
iterated, summed, indexed and measured as the list would be; what a list
does differently from an array (`+` and `*` concatenate and repeat, `==`
compares the whole, `.append`, `.sum`) is refused or raises what Python
raises, never an array's answer. A returned list of rows is rebuilt as
lists (trace.build_output). A row is a view of the stack: `M[i][j] = v`
(and through any name holding the row, a shallow copy M[:k] or M.copy())
writes the stack, as Python's write reaches the one list object; a slice
of a row of numbers is a new list. (A number written reads back as the
stack's type: np.float64 for a Python float written into float64 rows.)

Invariant: where the rows cannot be one stack (lengths that depend on the
item, numbers of mixed types, arrays among them, a run-time length) the
comprehension runs as Python while tracing, as before (unrolled or refused).
"""
from __future__ import annotations

import builtins
from typing import Any, Callable

import numpy as np

from looptrace.errors import UnsupportedError

from . import context as ctx
from . import grown
from . import semantics as sem
from .array import Tracer, is_tracer
from .values import Segment


class NotRows(Exception):
    """An element that is no row of numbers of the length the others have."""


class RowsSegment(Segment):
    """A Segment whose elements are lists (of `depth` levels) of numbers. Its
    stack is an array of the function (`stack`, a Tracer): a row is a view
    of it (row_at), so `M[i][j] = v` writes the stack, as Python's write
    into the list M holds, and every later read (np.array(M), M[i]) sees it."""

    def __init__(self, seg: Segment, depth: int):
        self.stack = sem.wrap(seg.value)
        super().__init__(seg.value, seg.count, seg.weak, seg.fields, seg.mixed)
        self.bounds, self.loc, self.nonempty = seg.bounds, seg.loc, seg.nonempty
        self.depth = depth

    @property
    def value(self) -> Any:
        return self.stack.value

    @value.setter
    def value(self, v: Any) -> None:
        if v is not self.stack.value:
            self.stack = sem.wrap(v)


_LIST_READS = frozenset({"index", "count", "copy"})
_LIST_WRITES = frozenset({"append", "extend", "insert", "pop", "remove", "sort", "reverse", "clear"})


class GrownRow(Tracer):
    """A row of a list of rows (RowsSegment), standing for a Python list."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        item = Tracer.__getitem__(self, key)
        if isinstance(key, slice) and item.ndim > 1:  # rows of rows: a list of the same rows (Python's shallow copy)
            return [self[k] for k in range(*key.indices(self.shape[0]))]
        if isinstance(key, slice):  # a list's slice is a new list of numbers (writes into it refused)
            return GrownRow(item.value, weak=self.weak)
        if is_tracer(item) and item.ndim:  # a row of rows: its row is a list too (a view: written through)
            return _row_view(item, self.weak)
        return item

    # (assign: Tracer's; a row is a view of the stack, written through, or a slice's copy, its own)

    def _list_op(self, *args: Any) -> Any:
        raise UnsupportedError("an operator on a row of a list of rows traced once (a list of lists): Python's "
                               "list concatenates, repeats or compares the whole list, and looptrace holds "
                               "the row as an array", ctx.current_loc(),
                               "make it an array first (np.array(row)) for elementwise arithmetic, or build "
                               "the list you mean with a comprehension")

    __add__ = __radd__ = __iadd__ = __mul__ = __rmul__ = __imul__ = _list_op
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _list_op
    __hash__ = Tracer.__hash__

    def _not_a_list(self, *args: Any) -> Any:
        raise TypeError("bad operand type for a list")

    __sub__ = __rsub__ = __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _not_a_list
    __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __invert__ = _not_a_list
    __matmul__ = __rmatmul__ = __and__ = __or__ = __xor__ = _not_a_list


def attribute(row: GrownRow, name: str) -> Any:
    """`row.name` (runtime.attr): what a Python list has, else Python's AttributeError."""
    if name == "copy":
        return lambda: list(iter(row))
    if name in _LIST_WRITES:
        raise UnsupportedError(f"`.{name}()` of a row of a list of rows traced once (a list of lists): "
                               "looptrace holds the rows stacked in one array, so the change would not reach "
                               "the list", ctx.current_loc(),
                               "build the rows you mean in the comprehension, or make an array first "
                               "(a = np.array(rows)) and work on it")
    if name in _LIST_READS:
        raise UnsupportedError(f"`.{name}()` of a row of a list of rows traced once is not supported",
                               ctx.current_loc(), "make it an array first (np.array(row)) and use NumPy")
    raise AttributeError(f"'list' object has no attribute '{name}'")


def is_rows(x: Any) -> bool:
    """Is x a list of rows traced once (one RowsSegment of a length known while tracing)?"""
    return isinstance(x, list) and len(x) == 1 and isinstance(x[0], RowsSegment) and x[0].count is None \
        and isinstance(x[0].value.shape[0], int)


def row_at(x: list, k: Any) -> GrownRow:
    """Row k (an int, or a traced int inside a loop: Python's negative index)
    of a list of rows: a view of its stack."""
    seg = x[0]
    n = seg.value.shape[0]
    if not is_tracer(k):
        k = int(k)
        if not -n <= k < n:
            raise IndexError("list index out of range")
        k = k + n if k < 0 else k
    return _row_view(seg.stack[k], seg.weak)


def _row_view(view: Tracer, weak: bool) -> GrownRow:
    """`view` (an indexing of a stack) as a GrownRow, a view of the same array."""
    row = GrownRow.__new__(GrownRow)
    for slot in Tracer.__slots__:
        if slot != "__weakref__" and hasattr(view, slot):
            setattr(row, slot, getattr(view, slot))
    row.weak = weak
    return row


def expanded(x: list, what: str) -> list:
    """x's rows, each a GrownRow, in place of the segment (grown.expand's, for a list of rows)."""
    n = x[0].value.shape[0]
    if n > grown.EXPAND_MAX:
        raise UnsupportedError(f"{what} a list of {n} rows traced once would trace each row on its own "
                               f"(more than {grown.EXPAND_MAX})", ctx.current_loc(),
                               "make it an array first: np.array(the_list), and use NumPy on it")
    x[:] = [row_at(x, k) for k in range(n)]
    return x


def comp_rows(fn: Callable, iterable: Any, loc: tuple, conds: tuple, python: Callable[[Any], list]) -> list:
    """`[[g(t, j) for j in ...] for t in iterable if c(t)]` (convert.py): over
    a range or an array of more than COMP_UNROLL items, a loop traced once
    that appends each row (as_row); `python(iterable)` (the comprehension run
    as Python while tracing, as before) for fewer items, or where the rows
    are no stack (NotRows: ragged, mixed, arrays)."""
    from .runtime import COMP_UNROLL, _comp_loop, _loopable, _static_len, append

    if not (_loopable(iterable) and COMP_UNROLL < _static_len(iterable) < float("inf")):
        return python(iterable)
    kinds: list = []  # (levels, Python numbers) of the rows: one kind

    def step(acc: list, item: Any) -> list:
        row, depth = as_row(fn(item))
        if kinds and kinds[0] != (depth, row.weak):
            raise NotRows
        kinds.append((depth, row.weak))
        return append(acc, row)

    try:
        out = _comp_loop("the comprehension's rows", [], iterable, loc, conds, step)
    except NotRows:
        return python(iterable)
    if not (grown.is_grown(out) and len(out) == 1):
        return python(iterable)
    depth, weak = kinds[0] if kinds else (1, False)
    out[0] = RowsSegment(out[0], depth)
    out[0].weak = weak  # (the loop's list marks 0-d Python numbers alone)
    return out


def as_row(v: Any) -> tuple[Tracer, int]:
    """(the row as an array, its levels) for a list of numbers of one type (a
    grown list of one segment of a length known while tracing, or a Python
    list), or of such rows of one shape; else NotRows."""
    if not isinstance(v, list) or not v:
        raise NotRows
    if grown.is_grown(v):
        if len(v) != 1:
            raise NotRows
        seg = v[0]
        if seg.count is not None or seg.fields is not None or seg.mixed or \
                not builtins.all(isinstance(d, int) for d in seg.value.shape):
            raise NotRows
        depth = seg.depth + 1 if isinstance(seg, RowsSegment) else 1
        if seg.value.ndim != depth:  # (a list of arrays: no row of numbers)
            raise NotRows
        return Tracer(seg.value, weak=seg.weak), depth
    if builtins.all(_number(e) for e in v):
        kinds = {_kind(e) for e in v}
        if len(kinds) != 1:  # (`[i, x[i]]`: an int and a float64; stacked, the int would read back a float)
            raise NotRows
        weak = next(iter(kinds))[0]
        return Tracer(_stack(v).value, weak=weak), 1
    rows = [as_row(e) for e in v]
    if len({(r.shape, r.dtype, r.weak, d) for r, d in rows}) != 1:
        raise NotRows
    return Tracer(_stack([r for r, _ in rows]).value, weak=rows[0][0].weak), rows[0][1] + 1


def _number(e: Any) -> bool:
    return isinstance(e, (bool, int, float, complex, np.number, np.bool_)) or is_tracer(e) and e.ndim == 0


def _kind(e: Any) -> tuple:
    """(a Python number, its type) of a row's element: all alike, or the row stays Python's."""
    if is_tracer(e):
        return bool(e.weak), np.dtype(e.dtype).str
    if isinstance(e, (bool, int, float, complex)):
        return True, np.dtype(type(e)).str
    return False, np.dtype(type(e)).str


def _stack(items: list) -> Tracer:
    """The items (numbers or equal-shaped traced arrays) stacked on a new first axis."""
    from . import numpy_api

    return numpy_api.dispatch_function(np.stack, ([sem.wrap(sem.as_value(e)) if not is_tracer(e) else e
                                                   for e in items],), {})
