"""A slice read of a buffer that was just written through a slice: the read
takes the written values and the old ones directly (store-to-load
forwarding), so the buffer need not be made.

A delay line (delay.py) leaves, after batching,

    buf1 = update_slice(buf0, s, starts=(k,))      # buf[t + k] = s[t], all t
    r    = slice(buf1, starts=(0,), stops=(n,))    # ... = buf[t], all t

Element p of r is s[p - k] where the write covered p, and buf0[p] elsewhere:

  - read inside the written rows:   r = slice(s, p0 - k .. p1 - k)  (a view);
  - read outside them:               r = slice(buf0, ...);
  - partly inside:                   r = select(k <= p < k + len(s),
                                                 gather(s, clamp(p - k)), buf0[p])
    with p an iota; the clamp keeps the untaken gather in bounds (the ranges
    pass then sees it is), and a buf0 that is one value everywhere (np.zeros)
    is that value.

A write that covers the whole buffer (`y[:] = v`) is the values written.
A static slice of a concatenation inside one piece reads that piece
(`_slice_of_piece`: np.mgrid's and np.stack's rows), and a reshape of a
reshape reshapes the first one's input (`_reshape_of_reshape`: those rows
come out as broadcast -> (1, n, n) -> (n, n), which folds to the broadcast).

With no other use, buf1 (and the copy of buf0 it needs) is dead: `echo`'s
output is one pass over x. Only unit steps; the write and the read may
differ on the first axis only where the read's other axes lie inside the
write's (then whether an element was written depends on its row alone).
Exact: every element equals the buffer's element after the write.
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.builder import derived
from looptrace.ir.core import Op, Program, Value, literal, walk
from looptrace.ir.rewrite import rewrite_each_op


def forward_slice_reads(program: Program) -> Program:
    # ids of dynamic_update_slice ops whose box another write of the same buffer, at the same
    # starts, writes again (a read moved off them can leave them dead without losing their bound
    # check); per program, not module state: functions may compile on several threads at once
    again = _writes_written_again(program)
    rewrite_each_op(program.body, lambda op, ops, producer: _rewrite(op, ops, producer, again))
    return program


def _writes_written_again(program: Program) -> set[int]:
    by_box: dict[tuple, list[Op]] = {}
    for op in walk(program.body):
        if op.prim.name == "dynamic_update_slice":
            key = (op.inputs[0].id, tuple(op.inputs[1].shape), tuple(_start_key(s) for s in op.inputs[2:]))
            by_box.setdefault(key, []).append(op)
    return {id(op) for ops in by_box.values() if len(ops) > 1 for op in ops}


def _start_key(v: Value):
    if v.is_const and v.shape == ():
        return ("const", int(np.asarray(v.const)))
    return ("value", v.id)


def _rewrite(op: Op, ops: list[Op], producer: dict[int, Op], again: set[int]) -> Value | None:
    if op.prim.name in ("dynamic_update_slice", "update_slice"):
        return _whole_write(op)
    if op.prim.name == "dynamic_slice":
        return _read_past(op, ops, producer, again)
    if op.prim.name == "reshape":
        return _reshape_of_reshape(op, ops, producer)
    if op.prim.name != "slice":
        return None
    src = producer.get(op.inputs[0].id)
    if src is not None and src.prim.name == "concatenate":
        return _slice_of_piece(op, src, ops)
    if src is None or src.prim.name != "update_slice":
        return None
    return _forwarded(op, src, ops, producer)


def _slice_of_piece(read: Op, cat: Op, ops: list[Op]) -> Value | None:
    """A static slice of a concatenation that lies inside one of its pieces
    (`i, j = np.mgrid[0:n, 0:m]`, the rows of an np.stack): the same slice
    of that piece, or the piece itself, and the concatenation (the copy of
    every piece) is not made for it."""
    axis = cat.attrs["axis"]
    a = read.attrs
    if axis >= len(a["starts"]):  # the slice keeps the whole concatenated axis (`v[::-1]` of an axis-1 concat)
        return None
    start, stop, step = a["starts"][axis], a["stops"][axis], a["steps"][axis]
    if step <= 0 or stop <= start:
        return None
    offset = 0
    for piece in cat.inputs:
        n = piece.shape[axis]
        if not isinstance(n, int):
            return None
        if offset <= start and stop <= offset + n:
            starts = tuple(s - offset if k == axis else s for k, s in enumerate(a["starts"]))
            stops = tuple(s - offset if k == axis else s for k, s in enumerate(a["stops"]))
            whole = all(b == 0 and e == d and t == 1 for b, e, t, d in zip(starts, stops, a["steps"], piece.shape))
            if whole:
                return piece
            out = Value(read.out.dtype, tuple(read.out.shape))
            ops.append(Op(read.prim, (piece,), (out,), {"starts": starts, "stops": stops, "steps": a["steps"]},
                          read.loc))
            return out
        offset += n
    return None


def _reshape_of_reshape(op: Op, ops: list[Op], producer: dict[int, Op]) -> Value | None:
    """A reshape of a reshape reshapes the first one's input, and to that
    input's own shape is that input: np.mgrid's rows, once `_slice_of_piece`
    takes them from their pieces, were broadcast -> (1, n, n) -> (n, n), a
    chain the nest reading them wrote out as a buffer (two int64 grids of
    18 MB for n = 1500) where the broadcast itself is read in place."""
    src = producer.get(op.inputs[0].id)
    if src is None or src.prim.name != "reshape":
        return None
    x = src.inputs[0]
    if tuple(op.attrs["shape"]) == tuple(x.shape):
        return x
    out = Value(op.out.dtype, tuple(op.out.shape))
    ops.append(Op(op.prim, (x,), (out,), dict(op.attrs), op.loc))
    return out


def _whole_write(op: Op) -> Value | None:
    """A write of the whole buffer (`y[:] = v` into a new array): the values
    written, and the buffer's old contents are never read."""
    base, upd = op.inputs[:2]
    if tuple(upd.shape) != tuple(base.shape) or upd.dtype != base.dtype or not base.ndim:
        return None
    if op.prim.name == "update_slice":
        return upd if _box(op, tuple(base.shape)) == [(0, d) for d in base.shape] else None
    return upd if all(s.is_const and int(s.const) == 0 for s in op.inputs[2:]) else None


def _box(op: Op, shape: tuple) -> list[tuple[int, int]] | None:
    """[start, stop) per axis of a slice or update_slice with unit steps."""
    a = op.attrs
    if any(s != 1 for s in a["steps"]) or any(e < 0 for e in a["stops"]):
        return None
    box = list(zip(a["starts"], a["stops"]))
    return box + [(0, d) for d in shape[len(box):]]


def _forwarded(read: Op, write: Op, ops: list[Op], producer: dict[int, Op]) -> Value | None:
    base, upd = write.inputs
    shape = tuple(base.shape)
    if not all(isinstance(d, int) for d in shape) or upd.dtype != base.dtype or read.out.dtype != base.dtype:
        return None
    rbox, wbox = _box(read, shape), _box(write, shape)
    if rbox is None or wbox is None:
        return None
    if any(not (w0 <= r0 and r1 <= w1) for (r0, r1), (w0, w1) in zip(rbox[1:], wbox[1:])):
        return None  # written or not would depend on more than the row
    b = derived(read, ops)
    (r0, r1), (w0, w1) = rbox[0], wbox[0]
    rest = [(r - w, e - w) for (r, e), (w, _) in zip(rbox[1:], wbox[1:])]  # the other axes, in upd
    if w0 <= r0 and r1 <= w1:  # every row read was written
        return _slice(b, upd, [(r0 - w0, r1 - w0), *rest])
    if r1 <= w0 or w1 <= r0:  # none was
        return _slice(b, base, rbox)
    rows = r1 - r0
    k = len(shape)
    pos = b.op("add", b.op("iota", shape=(rows,) + (1,) * (k - 1), dtype=np.dtype(np.int64), axis=0),
               literal(np.int64(r0)))
    inside = b.op("logical_and", b.op("greater_equal", pos, literal(np.int64(w0))),
                  b.op("less", pos, literal(np.int64(w1))))
    at = b.op("minimum", b.op("maximum", b.op("subtract", pos, literal(np.int64(w0))), literal(np.int64(0))),
              literal(np.int64(w1 - w0 - 1)))
    written = b.op("gather", _slice(b, upd, [(0, w1 - w0), *rest]),
                   b.op("reshape", at, shape=(rows,)), axis=0)
    old = _uniform(base, producer)
    if old is None:
        old = _slice(b, base, rbox)
    return b.op("select", inside, written, old)


def _slice(b, x: Value, box: list[tuple[int, int]]) -> Value:
    if all(s == 0 and e == d for (s, e), d in zip(box, x.shape)):
        return x
    return b.op("slice", x, starts=tuple(s for s, _ in box), stops=tuple(e for _, e in box),
                steps=(1,) * len(box))


def _uniform(v: Value, producer: dict[int, Op]) -> Value | None:
    """v's one value as a scalar, when every element is the same (np.zeros)."""
    if v.is_const:
        c = np.asarray(v.const).reshape(-1)
        same = c.size > 0 and bool((c == c[0]).all())
        if same and c.dtype.kind in "fc":
            same = bool((np.signbit(c.real) == np.signbit(c[0].real)).all())  # -0.0 is not 0.0
        return literal(c[0]) if same else None
    op = producer.get(v.id)
    if op is not None and op.prim.name == "broadcast_to" and op.inputs[0].ndim == 0:
        return op.inputs[0]
    return None


# --- a traced read beside a traced write -------------------------------------------------------------
def _read_past(read: Op, ops: list[Op], producer: dict[int, Op], again: set[int]) -> Value | None:
    """dynamic_slice(dynamic_update_slice(x, u, *w), *r) where, on some axis,
    r and w differ by a constant that keeps the read box clear of the
    written one (`ccol[:, :, k - 1]` after `ccol[:, :, k] = ...`, a Thomas
    sweep): the same read of x. Then the written buffer is not needed for
    the read; when nothing else reads it, the write (and the copy of x a
    write beside a live x costs) is dead. Only for a write whose box is
    written again in the same buffer (`ccol[:, :, k] = ccol[:, :, k] * d`):
    that write checks the same bounds, so none is lost with the dead one."""
    write = producer.get(read.inputs[0].id)
    if write is None or write.prim.name != "dynamic_update_slice" or id(write) not in again:
        return None  # (a write left dead would take its bound check with it)
    x, upd = write.inputs[:2]
    w_starts, r_starts = write.inputs[2:], read.inputs[1:]
    sizes = read.attrs["sizes"]
    for a in range(min(len(w_starts), len(r_starts))):
        d = _difference(r_starts[a], w_starts[a], producer)
        n, rk, wk = x.shape[a], sizes[a], upd.shape[a]
        if d is None or not isinstance(n, int):
            continue
        if rk == wk == 1:
            apart = d != 0 and abs(d) < n  # a negative start counts from the end: r, r + n or r - n apart
        else:
            apart = rk > 1 and wk > 1 and (d >= wk or -d >= rk)  # starts of longer boxes do not wrap
        if apart:
            return _read_of(x, read, ops)
    if len(w_starts) == len(r_starts) and all(k == 1 for k in sizes) and \
            tuple(upd.shape) == tuple(read.out.shape) and upd.dtype == read.out.dtype:
        # one element (row) written and one read, boxes of one shape: either the same box (the
        # starts all equal) or disjoint: `A[i, j] /= A[j, j]` right after `A[i, j] -= ...`
        same = None
        for a, (r, w) in enumerate(zip(r_starts, w_starts)):
            if _difference(r, w, producer) == 0:
                continue
            if not isinstance(x.shape[a], int):
                return None
            eq = _emit(ops, "equal", (_wrapped(r, x.shape[a], ops, read.loc), _wrapped(w, x.shape[a], ops, read.loc)),
                       read.loc)
            same = eq if same is None else _emit(ops, "logical_and", (same, eq), read.loc)
        if same is None:
            return upd  # the very box written
        return _emit(ops, "select", (same, upd, _read_of(x, read, ops)), read.loc)
    return None


def _wrapped(s: Value, n: int, ops: list[Op], loc) -> Value:
    """A one-element start as the position it reads (negative: from the end)."""
    zero, size = literal(np.asarray(0, s.dtype)), literal(np.asarray(n, s.dtype))
    return _emit(ops, "select", (_emit(ops, "less", (s, zero), loc), _emit(ops, "add", (s, size), loc), s), loc)


def _read_of(x: Value, read: Op, ops: list[Op]) -> Value:
    out = Value(read.out.dtype, tuple(read.out.shape))
    ops.append(Op(read.prim, (x, *read.inputs[1:]), (out,), dict(read.attrs), read.loc))
    return out


def _emit(ops: list[Op], name: str, inputs: tuple, loc) -> Value:
    from looptrace.ops import get as prim

    p = prim(name)
    (dtype, shape), = p.abstract(*inputs)
    out = Value(dtype, tuple(shape))
    ops.append(Op(p, tuple(inputs), (out,), {}, loc))
    return out


def _difference(a: Value, b: Value, producer: dict[int, Op]) -> int | None:
    """a - b when both are one integer value plus constants, else None."""
    base_a, off_a = _base_offset(a, producer)
    base_b, off_b = _base_offset(b, producer)
    if base_a is base_b or (base_a is not None and base_b is not None and base_a.id == base_b.id):
        return off_a - off_b
    return None


def _base_offset(v: Value, producer: dict[int, Op], depth: int = 8) -> tuple[Value | None, int]:
    """(base, offset) with v == base + offset (base None: v is the constant offset)."""
    if v.is_const and v.shape == () and np.asarray(v.const).dtype.kind in "iu":
        return None, int(v.const)
    op = producer.get(v.id)
    if op is None or depth == 0 or v.dtype.kind not in "iu":
        return v, 0
    if op.prim.name == "convert" and op.inputs[0].dtype.kind in "iu":
        return _base_offset(op.inputs[0], producer, depth - 1)
    if op.prim.name in ("add", "subtract") and len(op.inputs) == 2:
        (ba, oa), (bb, ob) = (_base_offset(u, producer, depth - 1) for u in op.inputs)
        if op.prim.name == "add" and (ba is None or bb is None):
            return (bb if ba is None else ba), oa + ob
        if op.prim.name == "subtract" and bb is None:
            return ba, oa - ob
    return v, 0
