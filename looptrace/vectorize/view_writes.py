"""A write into a view is a write into its base, at the position the view maps to.

The tracer writes `v[i] = x` into a view `v = a[1:]` of `a` as the view with
its element replaced, written back over the whole box of `a` the view covers:

    S  = slice(a) {starts=(1,), stops=(n,), steps=(1,)}     v, from a's current value
    W  = dynamic_update_slice(S, x, i)                      v with v[i] = x
    a1 = dynamic_update_slice(a, W, 1)                      a[1:] = that
        (update_slice(a, W) {S's starts, stops, steps} for a strided view)

In a loop that is a copy of the whole view and a write of it back at every
iteration, for one element (`for i in range(n - 1): v[i] = v[i] * 2 + a[i]`:
quadratic, 38 ms at n = 4000 where plain Python takes 1 ms). Here the write
becomes the element's write into `a`:

    check(i < -len or i >= len)                              W's IndexError, as W raises it
    a1 = dynamic_update_slice(a, x, start + step * (i + len if i < 0 else i))

and the loop carries `a` written in place. Views seen through reshapes that
add or drop unit axes (a row `X[1]`: slice (1, m) -> reshape (m,)) map their
axes to the base's; a unit axis of the view written at position 0 (or -1)
is the base's position of that row.

Exact: the element written is the one of `a` that `v[i]` is (NumPy's view
arithmetic: start + step * i along each axis), W's checks raise where W
raised, with its message, and nothing else of `a` changes (the write-back
stored the view's other elements where they were). Applied only where the
view is a slice of the very value written back (the same version of `a`):
static, or a dynamic slice at a traced row (`r = X[i]`: the row's start is
the write's, with the read's checks); the write-back covers exactly the
view's box; and each traced position writes one element (a constant
position may write a block, checked here).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from looptrace.ir.builder import IRBuilder, derived
from looptrace.ir.core import Block, Op, Value, literal
from looptrace.ir.rewrite import substitute
from looptrace.ir.uses import operands
from looptrace.ops.indexing import check_index

from .dead_reads import checks_of


def writes_through_views(block: Block) -> int:
    """The rewrite above on every block under `block`; the number of writes rewritten."""
    count = 0
    for op in list(block.ops):
        for sub in op.blocks:
            count += writes_through_views(sub)
    count += _elements_through_reshapes(block)
    made = {v.id: op for op in block.ops for v in op.outputs}
    for y in list(block.ops):
        if y.prim.name in ("dynamic_update_slice", "update_slice") and _rewrite(block, y, made):
            count += 1
            made = {v.id: op for op in block.ops for v in op.outputs}
    return count


def _unit_only(op: Op) -> bool:
    """A reshape that only adds or drops axes of length 1."""
    if op.prim.name != "reshape":
        return False
    a, b = op.inputs[0].shape, op.out.shape
    return [d for d in a if d != 1] == [d for d in b if d != 1]


def _through_reshapes(v: Value, made: dict) -> tuple[Value, list[Op]]:
    chain = []
    op = made.get(v.id)
    while op is not None and _unit_only(op):
        chain.append(op)
        v = op.inputs[0]
        op = made.get(v.id)
    return v, chain


def _static(shape) -> bool:
    return all(isinstance(d, (int, np.integer)) for d in shape)


@dataclass
class _ViewWrite:
    """y = write-back(x, W) with W = dynamic_update_slice(view of x, u, *starts)."""

    y: Op
    w: Op
    back: list[Op]  # the reshapes from W to what y stores
    view: Value  # what W writes into: the slice of x, through unit reshapes
    box: Value  # the slice of x itself (x's rank)
    lo: list  # the slice's start along each axis of x (an int, or a traced row)
    steps: tuple


def _rewrite(block: Block, y: Op, made: dict) -> bool:
    """write-back(x, dynamic_update_slice(view(x), u, p)) -> dynamic_update_slice(x, u, start + step * p)."""
    m = _match(y, made)
    if m is None:
        return False
    b = IRBuilder(m.w.loc)
    placed = _placed(b, m)
    if placed is None:
        return False
    x, u = y.inputs[0], m.w.inputs[1]
    q, shape = placed
    upd = u if tuple(u.shape) == shape else b.op("reshape", u, shape=shape)
    derived(y, b.ops).op_into("dynamic_update_slice", (x, upd, *q), y.outputs)
    # W's IndexError, with W's message, where W raised it; the write where y wrote
    # (nothing between reads the old x after the new one is made: codegen writes x in place)
    checks = checks_of(m.w)
    gone = {id(y)} | _unread({id(o) for o in m.back} | {id(m.w)}, block, y)
    ops: list[Op] = []
    for o in block.ops:
        if o is m.w:
            ops.extend(checks)
        if o is y:
            ops.extend(b.ops)
        if id(o) not in gone:
            ops.append(o)
    block.ops = ops
    return True


def _match(y: Op, made: dict) -> _ViewWrite | None:
    x, wb = y.inputs[0], y.inputs[1]
    w_val, back = _through_reshapes(wb, made)
    w = made.get(w_val.id)
    if w is None or w.prim.name != "dynamic_update_slice":
        return None
    view, u = w.inputs[0], w.inputs[1]
    s_val, _ = _through_reshapes(view, made)
    s = made.get(s_val.id)
    if s is None or s.prim.name not in ("slice", "dynamic_slice") or s.inputs[0].id != x.id:
        return None
    if not (_static(x.shape) and _static(view.shape) and _static(u.shape)) or tuple(wb.shape) != tuple(s_val.shape):
        return None
    box = _view_box(s)
    if box is None or not _same_box(y, s, box):
        return None
    return _ViewWrite(y, w, back, view, s_val, *box)


def _placed(b: IRBuilder, m: _ViewWrite) -> tuple[list[Value], tuple] | None:
    """(the position in x of W's block, one start per axis of x; the block's
    shape in x), the arithmetic emitted into b; None where W's block is not
    one box of x or W raises at a constant position."""
    view, u, starts = m.view, m.w.inputs[1], m.w.inputs[2:]
    if any(not p.is_const for p in starts) and any(d != 1 for d in u.shape[:len(starts)]):
        return None  # a block at a traced position: its checks are windows.py's business
    axis_of = dict(zip([k for k, d in enumerate(view.shape) if d != 1],
                       [a for a, d in enumerate(m.box.shape) if d != 1]))  # view axis -> x axis
    pos: list = list(m.lo)
    extent = [int(d) for d in m.box.shape]
    for k in range(view.ndim):
        size, e, a = int(view.shape[k]), int(u.shape[k]), axis_of.get(k)
        p = starts[k] if k < len(starts) else literal(np.int64(0))
        if p.is_const:
            try:
                p = check_index(int(p.const), size, k, e)
            except IndexError:
                return None  # W raises where it runs: left as it is
        if a is None:  # a unit axis of the view: at 0 (checked), nothing of x
            if e != 1:
                return None  # (an empty write: nothing to place)
            continue
        extent[a] = e
        if e != 1 and m.steps[a] != 1:
            return None  # a block of a strided view is not one box of x
        pos[a] = m.lo[a] + m.steps[a] * p if isinstance(p, int) else _mapped(b, p, size, m.lo[a], m.steps[a])
    q = [v if isinstance(v, Value) else literal(np.int64(v)) for v in pos]
    return q, tuple(extent)


def _mapped(b: IRBuilder, p: Value, size: int, lo: int, step: int) -> Value:
    """lo + step * p, p counted from the end of the view's axis when negative (as NumPy's v[p])."""
    p64 = p if p.dtype == np.int64 else b.op("convert", p, dtype=np.dtype(np.int64))
    wrapped = b.op("select", b.op("less", p64, literal(np.int64(0))), b.op("add", p64, literal(np.int64(size))), p64)
    scaled = wrapped if step == 1 else b.op("multiply", wrapped, literal(np.int64(step)))
    return scaled if lo == 0 else b.op("add", scaled, literal(np.int64(lo)))


def _view_box(s: Op) -> tuple[list, tuple] | None:
    """(start along each axis of the base, steps) of the view made by `s`, a
    static slice or a dynamic slice; a traced start only along an axis the
    view takes one element of (a row `X[i]`: its position as the read has it,
    which the write checks alike), a constant one normalized."""
    x = s.inputs[0]
    if s.prim.name == "slice":
        return list(s.attrs["starts"]), tuple(s.attrs["steps"])
    sizes = s.attrs["sizes"]
    lo: list = []
    for a in range(x.ndim):
        p = s.inputs[1 + a] if a < len(sizes) else None
        if p is None:
            lo.append(0)
        elif p.is_const:
            try:
                lo.append(check_index(int(p.const), int(x.shape[a]), a, sizes[a]))
            except IndexError:
                return None
        elif sizes[a] == 1:
            lo.append(p)
        else:
            return None
    return lo, (1,) * x.ndim


def _same_box(y: Op, s: Op, box: tuple[list, tuple]) -> bool:
    """Does write-back y store into exactly the view's box (the caller
    checked that it stores the view's shape)?"""
    lo, steps = box
    if y.prim.name == "update_slice":
        return s.prim.name == "slice" and \
            (tuple(y.attrs["starts"]), tuple(y.attrs["stops"]), tuple(y.attrs["steps"])) == \
            (tuple(s.attrs["starts"]), tuple(s.attrs["stops"]), tuple(s.attrs["steps"]))
    if any(st != 1 for st in steps):
        return False
    x, wb, starts = y.inputs[0], y.inputs[1], y.inputs[2:]
    for a in range(x.ndim):
        p = starts[a] if a < len(starts) else literal(np.int64(0))
        if isinstance(lo[a], Value):
            if p.id != lo[a].id:
                return False
            continue
        if not p.is_const:
            return False
        try:
            if check_index(int(p.const), int(x.shape[a]), a, int(wb.shape[a])) != lo[a]:
                return False
        except IndexError:
            return False
    return True


def _unread(candidates: set[int], block: Block, y: Op) -> set[int]:
    """Of the ops `candidates` (the write-back's chain to W), those whose
    outputs nothing reads but one another and y."""
    gone: set[int] = set()
    results = {v.id for v in block.results}
    chain = [o for o in block.ops if id(o) in candidates]
    for o in reversed(chain):
        outs = {v.id for v in o.outputs}
        readers = [r for r in block.ops if r is not o and any(v.id in outs for v in operands(r))]
        if not outs & results and all(id(r) in gone or r is y for r in readers):
            gone.add(id(o))
    return gone


# --- one element through a reshape or a transpose ----------------------------------------------
# `v = a.reshape(2, -1)` (or `a.T`) is a view of `a` wherever NumPy makes one, and
# the tracer's `v[0, j] = v[1, j]` reads and writes `a` through it: in the IR a
# reshape of a's current value, one element read or replaced there, and (for the
# write) the result reshaped back. In a loop that carried the whole array one
# step at a time. The element of reshape(x) at p is x's element at the same
# position in C order; the element of transpose(x, perm) at p is x's at p
# permuted back. So
#
#     dynamic_slice(R(x), p)            -> reshape(dynamic_slice(x, q))
#     dynamic_update_slice(R(x), u, p)  -> R'(dynamic_update_slice(x, u', q))
#     reshape(R'(x1)) to x1's shape     -> x1
#
# with the checks the read or the write raised (p against R(x)'s axes), left
# where it stood. Exact for every reshape and transpose of an SSA value: the IR
# has no memory layout, and the loop is then analysed on x itself.


def _elements_through_reshapes(block: Block) -> int:
    count = 0
    made = {v.id: op for op in block.ops for v in op.outputs}
    mapping: dict[int, Value] = {}
    ops: list[Op] = []
    for op in block.ops:
        if mapping:
            op.inputs = tuple(mapping.get(v.id, v) for v in op.inputs)
        new = _element_op(op, made)
        if new is None:
            ops.append(op)
            continue
        ops.extend(new)
        for o in new:
            for v in o.outputs:
                made[v.id] = o
        count += 1
    if count:
        substitute(block, _undone_reshapes(ops, made))
        block.ops = ops
    return count


def _element_op(op: Op, made: dict) -> list[Op] | None:
    """The ops replacing `op`, a one-element read or write of a reshape or
    transpose of an array, as the same access of that array; None otherwise."""
    name = op.prim.name
    if name not in ("dynamic_slice", "dynamic_update_slice"):
        return None
    r = made.get(op.inputs[0].id)
    if r is None or not _moves_elements(r):
        return None
    x, view = r.inputs[0], r.out
    starts = list(op.inputs[1:] if name == "dynamic_slice" else op.inputs[2:])
    sizes = tuple(op.attrs["sizes"]) if name == "dynamic_slice" else tuple(op.inputs[1].shape[:len(starts)])
    if not (_static(x.shape) and _static(view.shape)) or any(k != 1 for k in sizes) or \
            any(int(d) != 1 for d in view.shape[len(starts):]) or 0 in x.shape:
        return None
    b = derived(op)
    q = _base_position(b, r, starts)
    if q is None:
        return None
    checks = checks_of(op)
    if not checks and any(not p.is_const for p in starts):
        return None  # what the access raises could not be kept
    ones = (1,) * x.ndim
    if name == "dynamic_slice":
        e = b.op("dynamic_slice", x, *q, sizes=ones)
        b.op_into("reshape", (e,), op.outputs, shape=tuple(op.out.shape))
    else:
        u = op.inputs[1]
        u1 = u if tuple(u.shape) == ones else b.op("reshape", u, shape=ones)
        x1 = b.op("dynamic_update_slice", x, u1, *q)
        _view_of(b, r, x1, op.outputs)
    return checks + b.ops


def _moves_elements(r: Op) -> bool:
    """A reshape or transpose that is not only unit axes coming or going (the
    slice views above see through those)."""
    if r.prim.name == "reshape":
        return not _unit_only(r)
    return r.prim.name == "transpose" and \
        [p for p in r.attrs["perm"] if r.inputs[0].shape[p] != 1] != \
        sorted(p for p in r.attrs["perm"] if r.inputs[0].shape[p] != 1)


def _base_position(b: IRBuilder, r: Op, starts: list[Value]) -> list[Value] | None:
    """The position in r's input of the element of r's output at `starts`
    (negative ones counted from the end of their axis, as the access does);
    None for a constant start out of range (the access raises as it is)."""
    view, x = r.out, r.inputs[0]
    pos: list = []
    for k in range(view.ndim):
        p = starts[k] if k < len(starts) else literal(np.int64(0))
        if p.is_const:
            try:
                pos.append(check_index(int(p.const), int(view.shape[k]), k))
            except IndexError:
                return None
        else:
            pos.append(_mapped(b, p, int(view.shape[k]), 0, 1))
    if r.prim.name == "transpose":
        q: list = [None] * x.ndim
        for k, a in enumerate(r.attrs["perm"]):
            q[a] = pos[k]
        return [v if isinstance(v, Value) else literal(np.int64(v)) for v in q]
    flat = _linear(b, pos, [int(d) for d in view.shape])
    return _unravelled(b, flat, [int(d) for d in x.shape])


def _linear(b: IRBuilder, pos: list, shape: list[int]):
    """The C-order offset of `pos` in `shape` (an int where every part is)."""
    flat = 0
    for p, n in zip(pos, shape):
        if isinstance(flat, int) and flat == 0:
            flat = p
            continue
        flat = _plus(b, _times(b, flat, n), p)
    return flat


def _unravelled(b: IRBuilder, flat, shape: list[int]) -> list[Value]:
    out: list = []
    stride = int(np.prod(shape, dtype=np.int64))
    for n in shape:
        stride //= n
        if isinstance(flat, int):
            out.append(literal(np.int64(flat // stride % n)))
            continue
        q = flat if stride == 1 else b.op("floor_divide", flat, literal(np.int64(stride)))
        if stride * n != int(np.prod(shape, dtype=np.int64)):  # not the first axis: wrap
            q = b.op("remainder", q, literal(np.int64(n)))
        out.append(q)
    return out


def _times(b: IRBuilder, v, n: int):
    if isinstance(v, int):
        return v * n
    return v if n == 1 else b.op("multiply", v, literal(np.int64(n)))


def _plus(b: IRBuilder, v, w):
    if isinstance(v, int) and isinstance(w, int):
        return v + w
    if isinstance(v, int):
        v, w = w, v
    if isinstance(w, int):
        return v if w == 0 else b.op("add", v, literal(np.int64(w)))
    return b.op("add", v, w)


def _view_of(b: IRBuilder, r: Op, x1: Value, outputs: tuple) -> None:
    """r's view of x1 (its reshape or transpose), into `outputs`."""
    b.op_into(r.prim.name, (x1,), outputs, **r.attrs)


def _undone_reshapes(ops: list[Op], made: dict) -> dict[int, Value]:
    """R⁻¹(R(x1)) -> x1 for the view R just made of a write: a reshape back to
    x1's shape, or the inverse transpose."""
    mapping: dict[int, Value] = {}
    for op in ops:
        r = made.get(op.inputs[0].id) if op.inputs else None
        if r is None or r.prim.name != op.prim.name or op.prim.name not in ("reshape", "transpose"):
            continue
        x1 = r.inputs[0]
        if tuple(x1.shape) != tuple(op.out.shape):
            continue
        if op.prim.name == "transpose" and \
                tuple(r.attrs["perm"][p] for p in op.attrs["perm"]) != tuple(range(x1.ndim)):
            continue
        mapping[op.out.id] = mapping.get(x1.id, x1)
    return mapping
