"""heapq on a list a traced loop pushes to and pops from (a work list,
carries.LoopList): heappush, heappop, heapreplace, heappushpop and heapify
traced as heapq's own algorithm, its sift loops as while loops of the IR.

The heap holds exactly the items in exactly the places Python's heapq puts
them (CPython's _heapq: `_siftdown` moves a new item up towards the root
while it is smaller than its parent; `_siftup` moves the smaller child up
to a leaf, then the item down again), so the items come out in the plain
function's order, ties included. Items compare as Python compares them:
numbers by value; tuples field by field, the first that differs deciding.

Outside such a loop (a Python list of numbers known while tracing) the call
is heapq's own.
"""
from __future__ import annotations

import heapq
from typing import Any, Callable

import numpy as np

from looptrace.errors import UnsupportedError
from looptrace.ir.core import Op, Value
from looptrace.ops import get as prim

from . import context as ctx
from . import grown
from . import semantics as sem
from .array import Tracer, is_tracer
from .carries import LoopList


# --- the heap's storage -----------------------------------------------------------------------
class _Heap:
    """A work list's rows seen as a heap: items read and written at run-time
    positions, through the carried buffers the list keeps (its columns, or
    its one buffer)."""

    def __init__(self, lst: LoopList | None, spec: Any = None):
        self.lst, self.spec = lst, spec if spec is not None else lst.spec
        if self.spec.head is not None:
            raise UnsupportedError("heapq functions on a list also popped at the front (pop(0)) are not supported",
                                   ctx.current_loc(), "use the list as a heap only")

    def buffers(self) -> list[Tracer]:
        spec = self.spec
        return list(spec.columns) if spec.columns is not None else [spec.buffer]

    def size(self) -> Tracer:
        return sem.wrap(sem.as_value(self.spec.count, np.int64))

    def read(self, bufs: list, pos: Any) -> tuple:
        at = sem.as_value(pos, np.int64)
        out = []
        for b in bufs:
            row = ctx.emit1(prim("dynamic_slice"), [sem.as_value(b), at], sizes=(1,))
            out.append(sem.wrap(ctx.emit1(prim("reshape"), [row], shape=tuple(row.shape[1:]))))
        return tuple(out)

    def write(self, bufs: list, pos: Any, item: tuple) -> list[Value]:
        at = sem.as_value(pos, np.int64)
        out = []
        for b, x in zip(bufs, item):
            b = sem.as_value(b)
            row = ctx.emit1(prim("reshape"), [sem.as_value(x, b.dtype)], shape=(1,) + tuple(b.shape[1:]))
            out.append(ctx.emit1(prim("dynamic_update_slice"), [b, row, at]))
        return out

    def item(self, parts: tuple) -> Any:
        """The Python item of a row's parts (a tuple, or a number)."""
        if self.spec.columns is not None:
            return tuple(Tracer(sem.as_value(p), weak=w) for p, w in zip(parts, self.spec.field_weak))
        v = sem.as_value(parts[0])
        return Tracer(v, weak=bool(self.spec.weak) and v.ndim == 0)

    def parts(self, item: Any) -> tuple:
        if self.spec.columns is not None:
            return tuple(item)
        return (item,)


def less(a: tuple, b: tuple, fields: bool) -> Tracer:
    """a < b as Python compares them: numbers (or equal-shaped arrays of one
    element, a number each) by value; tuples field by field."""
    if not fields:
        return sem.ufunc("less", a[0], b[0])
    out = sem.ufunc("less", a[-1], b[-1])
    for x, y in zip(reversed(a[:-1]), reversed(b[:-1])):
        out = sem.ufunc("logical_or", sem.ufunc("less", x, y), sem.ufunc("logical_and", sem.ufunc("equal", x, y), out))
    return out


# --- a while loop of the IR, built here ----------------------------------------------------------
def while_loop(inits: list[Any], cond: Callable[[list[Tracer]], Any], body: Callable[[list[Tracer]], list]) -> list:
    """Carried values `inits`: while cond(carries), carries = body(carries).
    The blocks read outer values directly; the outputs are the final carries."""
    st = ctx.state()
    loc = ctx.current_loc()
    inits = [sem.as_value(v) for v in inits]
    blocks = []
    for fn in (cond, body):
        frame = st.push("stepped")  # (stepped.py's: neither a loop's frame nor a branch's)
        try:
            args = [Value(v.dtype, v.shape) for v in inits]
            frame.block.args += args
            got = fn([sem.wrap(a) for a in args])
            if fn is cond:
                frame.block.results = [sem.as_value(got, np.bool_)]
            else:
                frame.block.results = [sem.as_value(r, a.dtype) for r, a in zip(got, args)]
        finally:
            st.pop(frame)
        blocks.append(frame.block)
    outs = [Value(v.dtype, v.shape) for v in inits]
    op = Op(prim("while_loop"), tuple(inits), tuple(outs), {}, loc, tuple(blocks))
    st.frame.block.ops.append(op)
    for out in outs:
        st.producers[out.id] = op
        st.value_frames[out.id] = st.frame
    return [sem.wrap(o) for o in outs]


# --- heapq's sift loops -------------------------------------------------------------------------
def _siftdown(h: _Heap, bufs: list, start: Any, pos: Any) -> list:
    """heapq._siftdown: the item at pos moves up while smaller than its parent."""
    fields = h.spec.columns is not None
    new = h.read(bufs, pos)
    k = len(bufs)

    def cond(c):
        p = c[0]
        parent = sem.ufunc("maximum", sem.ufunc("right_shift", sem.ufunc("subtract", p, 1), 1), 0)
        return sem.ufunc("logical_and", sem.ufunc("greater", p, start), less(new, h.read(c[1:], parent), fields))

    def body(c):
        p = c[0]
        parent = sem.ufunc("right_shift", sem.ufunc("subtract", p, 1), 1)
        return [parent, *h.write(c[1:], p, h.read(c[1:], parent))]

    out = while_loop([pos, *bufs], cond, body)
    return h.write(out[1:1 + k], out[0], new)


def _siftup(h: _Heap, bufs: list, pos: Any, end: Any, active: Any = True) -> list:
    """heapq._siftup: the smaller child moves up until pos is a leaf, then the
    item that was at pos moves down there and up again (_siftdown).
    `active`: a traced flag; where false nothing moves."""
    fields = h.spec.columns is not None
    new = h.read(bufs, pos)
    last = sem.ufunc("maximum", sem.ufunc("subtract", end, 1), 0)

    def cond(c):
        child = sem.ufunc("add", sem.ufunc("multiply", c[0], 2), 1)
        go = sem.ufunc("less", child, end)
        return go if active is True else sem.ufunc("logical_and", active, go)

    def body(c):
        p, rows = c[0], c[1:]
        child = sem.ufunc("add", sem.ufunc("multiply", p, 2), 1)
        right = sem.ufunc("add", child, 1)
        right_read = sem.ufunc("minimum", right, last)
        take_right = sem.ufunc("logical_and", sem.ufunc("less", right, end),
                               sem.ufunc("logical_not", less(h.read(rows, child), h.read(rows, right_read), fields)))
        child = sem.select(take_right, right, child)
        return [child, *h.write(rows, p, h.read(rows, child))]

    out = while_loop([pos, *bufs], cond, body)
    bufs = h.write(out[1:], out[0], new)
    return _siftdown(h, bufs, pos, out[0])


# --- the heapq functions ------------------------------------------------------------------------
def _settle(h: _Heap, bufs: list) -> None:
    for b, v in zip(h.buffers(), bufs):
        b.assign(sem.as_value(v))


def _outside(heap: Any, name: str) -> None:
    """heapq on a list a traced loop grew, outside a loop (other than
    heapify): refused; Python's heapq would see the stacked segment as one
    item."""
    if grown.is_grown(heap):
        raise UnsupportedError(f"heapq.{name} of a list grown in a traced loop, outside a loop, is not supported",
                               ctx.current_loc(), "push and pop inside the loop (or a loop of its own)")
    if _holds_traced(heap):  # (Python's heapq would ask a traced comparison for its truth)
        raise UnsupportedError(f"heapq.{name} of a list of traced values, outside a loop, is not supported: "
                               "their order is known only at run time", ctx.current_loc(),
                               "push and pop inside a loop (or heapq.heapify the list first)")


def _holds_traced(x: Any) -> bool:
    """A Python list holding traced numbers (or tuples of them)."""
    return isinstance(x, list) and any(is_tracer(e) or isinstance(e, tuple) and any(map(is_tracer, e)) for e in x)


def heappush(heap: Any, item: Any) -> None:
    _outside(heap, "heappush")
    if not isinstance(heap, LoopList):
        return heapq.heappush(heap, item)
    heap.append(item)
    heap._mark_read()  # (a heap is a work list: its buffer read at run-time positions)
    if not heap.spec.work:
        return None  # (the round that makes it a work list: traced again)
    h = _Heap(heap)
    n = h.size()
    _settle(h, _siftdown(h, h.buffers(), 0, sem.ufunc("subtract", n, 1)))
    return None


def heappop(heap: Any) -> Any:
    _outside(heap, "heappop")
    if not isinstance(heap, LoopList):
        return heapq.heappop(heap)
    last = heap.pop()
    if not heap.spec.work:
        return last
    h = _Heap(heap)
    n = h.size()
    parts = h.parts(last)
    top = h.read(h.buffers(), 0)
    some = sem.ufunc("greater", n, 0)
    out = tuple(sem.select(some, t, x) for t, x in zip(top, parts))
    bufs = h.write(h.buffers(), 0, parts)  # (where the heap is empty, row 0 is past its end: unread)
    _settle(h, _siftup(h, bufs, sem.wrap(sem.as_value(0, np.int64)), n))
    return h.item(out)


def heapreplace(heap: Any, item: Any) -> Any:
    _outside(heap, "heapreplace")
    if not isinstance(heap, LoopList):
        return heapq.heapreplace(heap, item)
    top = heap[0]  # (IndexError where it is empty, as heapq's)
    heap._mark_read()
    if not heap.spec.work:
        return top
    h = _Heap(heap)
    parts = h.parts(top)
    bufs = h.write(h.buffers(), 0, h.parts(_as_item(h, item)))
    _settle(h, _siftup(h, bufs, sem.wrap(sem.as_value(0, np.int64)), h.size()))
    return h.item(parts)


def heappushpop(heap: Any, item: Any) -> Any:
    _outside(heap, "heappushpop")
    if not isinstance(heap, LoopList):
        return heapq.heappushpop(heap, item)
    heap._mark_read()
    if not heap.spec.work:
        return heap._stand_in()
    h = _Heap(heap)
    fields = h.spec.columns is not None
    n = h.size()
    new = h.parts(_as_item(h, item))
    top = h.read(h.buffers(), 0)
    swap = sem.ufunc("logical_and", sem.ufunc("greater", n, 0), less(top, new, fields))
    out = tuple(sem.select(swap, t, x) for t, x in zip(top, new))
    at0 = tuple(sem.select(swap, x, t) for t, x in zip(top, new))
    bufs = h.write(h.buffers(), 0, at0)
    _settle(h, _siftup(h, bufs, sem.wrap(sem.as_value(0, np.int64)), n, swap))
    return h.item(out)


def heapify(x: Any) -> None:
    if grown.is_grown(x) or _holds_traced(x):  # (outside a loop: its items' buffers made a heap)
        return _heapify_grown(x)
    if not isinstance(x, LoopList):
        return heapq.heapify(x)
    x._mark_read()
    if not x.spec.work:
        return None
    _heapify(_Heap(x))
    return None


def _heapify_grown(x: list) -> None:
    """heapify of a list a traced loop grew, after that loop: its items as a
    work list's buffers (carries.ListSpec), made a heap, put back in the list
    as one segment of those buffers."""
    from .carries import ListSpec

    class _Entry:  # (what ListSpec._work_buffer reads of a loop's list: its errors' line)
        loop = type("_At", (), {"loc": ctx.current_loc()})()

    spec = ListSpec(x, True)
    spec.reads = True
    work = spec._work_buffer(_Entry())
    h = _Heap(None, work)
    _heapify(h)
    if grown.is_grown(x):
        work._work_after_loop(None, "the list")
    else:  # (a list of a length known while tracing: its items, in the heap's order)
        x[:] = [h.item(h.read(h.buffers(), k)) for k in range(len(x))]


def _heapify(h: _Heap) -> None:
    n = h.size()
    k = len(h.buffers())
    start = sem.ufunc("subtract", sem.ufunc("floor_divide", n, 2), 1)

    def body(c):  # for i in reversed(range(n // 2)): _siftup(x, i)
        return [sem.ufunc("subtract", c[0], 1), *_siftup(h, list(c[1:]), c[0], n)]

    out = while_loop([start, *h.buffers()], lambda c: sem.ufunc("greater_equal", c[0], 0), body)
    _settle(h, out[1:1 + k])


def _as_item(h: _Heap, item: Any) -> Any:
    """An item given to heapreplace / heappushpop: of the heap's kind, its
    types within the heap's (a wider one retypes the list: the next round)."""
    spec = h.spec
    if spec.columns is not None:
        if not isinstance(item, tuple) or len(item) != spec.fields:
            raise UnsupportedError("an item of another kind than the heap's given to heapq", ctx.current_loc(),
                                   "give heapq items of one kind: numbers, or tuples of one length")
        from . import worklists

        spec.field_seen = worklists.observe(spec.field_seen, item)
        if worklists.widens(spec, item):
            spec.retype = True
        return item
    if isinstance(item, tuple):
        raise UnsupportedError("a tuple given to heapq for a heap of numbers", ctx.current_loc())
    return item


FUNCTIONS = {id(f): impl for f, impl in [
    (heapq.heappush, heappush), (heapq.heappop, heappop), (heapq.heapreplace, heapreplace),
    (heapq.heappushpop, heappushpop), (heapq.heapify, heapify),
]}
