"""Slices whose length is known only at run time: `x[i, a:b]`, `x[:, a:b]`.

Such a slice is a `MaskedSelection` (masked.py) over the whole sliced axis,
masked to the positions a <= p < b, at the axis where NumPy puts it. On top
of what every selection supports (reductions, elementwise arithmetic, dot
products, writes through it), a slice's positions are contiguous and known
(`span`), which gives two more uses that need no length:
  - np.flip(x[a:b]): element p reads position a + b - 1 - p, a gather inside
    the same positions;
  - y[x[a:b]]: a gather at the selected indices, index-checked only where
    the mask holds.
A slice whose bounds are read from an array (CSR row pointers,
`reads_array_data`) splits an axis into pieces, and a whole-axis mask per
iteration would cost the axis times the iterations: such a selection is
`windowed`, and only its uses that end in a sum (sum, mean, var, std, a dot
product, and max/min of floats, composed so) are allowed, because a target
runs those folds over the window alone (codegen/planning/fold_window.py);
the others raise the slice's error with the loop to write instead.
A write through a slice with a step other than 1 (`x[a:b:s] = v`,
`x[a::s] += v`) is no select: stepped.py writes it as a loop over the
selected positions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from looptrace.ops import get as prim

from . import context as ctx
from . import numpy_api as nx
from . import semantics as sem
from .array import Tracer, is_tracer
from .masked import SELECTION_FUNCTIONS, MaskedSelection


@dataclass(frozen=True, slots=True)
class VaryingSlice:
    """`x[key]` read as x[whole], masked on `axis` (of the result) to `mask`."""
    whole: tuple
    mask: Tracer
    bounds: tuple  # the slice's traced bounds, for the ConcreteIndexError of a use needing the length
    axis: int
    span: tuple  # (lo, hi): the bounds as NumPy reads them
    windowed: bool = False  # the bounds are read from an array (`reads_array_data`)
    stepped: slice | None = None  # a step other than 1: the slice itself (a fold loops over its positions)
    most: int | None = None  # a static bound on the length (`_most`), else None
    length_sources: frozenset | None = None  # the int arguments such a bound would come from (`_most`)
    wraps: str = ""  # why no bound holds where a negative stop may lengthen the slice (`_wraps`)

    def read(self, data: Tracer) -> MaskedSelection:
        sel = MaskedSelection(data, self.mask, ctx.current_loc(), self.bounds, self.axis, self.span,
                              self.windowed)
        sel.stepped, sel.most, sel.length_sources = self.stepped, self.most, self.length_sources
        sel.wraps = self.wraps  # (selected_order.narrowed's error; a selection made from this one has none)
        return sel


def varying_slice(shape: tuple, key: Any) -> VaryingSlice | None:
    """For `x[..., a:b, ...]` with one slice of traced bounds and a length that
    is not static, the others integers and static slices: that slice made
    whole, and the mask of the positions a <= p < b on its axis. None for
    anything else. Bounds count from the end when negative and are clipped
    to the axis, as NumPy's."""
    at = find_varying(shape, key)
    if at is None:
        return None
    found, axis = at
    parts = key if isinstance(key, tuple) else (key,)
    n, k = shape[found], parts[found]
    whole = parts[:found] + (slice(None),) + parts[found + 1:]
    bounds = tuple(b for b in (k.start, k.stop, k.step) if is_tracer(b))
    if not _unit_step(k.step):
        return VaryingSlice(whole, _stepped_mask(k, n), bounds, axis, (), reads_array_data(k), k)
    pos = nx.NAMESPACE["arange"](n)
    lo = _bound(0 if k.start is None else k.start, n)
    hi = _bound(n if k.stop is None else k.stop, n)
    mask = sem.ufunc("logical_and", sem.ufunc("greater_equal", pos, lo), sem.ufunc("less", pos, hi))
    most, sources, wraps = _most(k.start, k.stop, n)
    return VaryingSlice(whole, mask, bounds, axis, (lo, hi), reads_array_data(k), most=most,
                        length_sources=sources, wraps=wraps)


def _most(start: Any, stop: Any, n: int) -> tuple[int | None, frozenset | None, str]:
    """A static bound on the length of x[start:stop] over an axis of n, where
    one is seen: stop - start bounded through the minimum that caps stop and
    the maximum that floors start (`x[max(0, i - k):min(n, i + k + 1)]` for
    a static k: at most 2k + 1; a stop that is a maximum, by each of its
    sides: `x[max(0, i - k):max(0, i - 3)]`, at most k - 3). It bounds the
    slice NumPy reads only where the stop is never negative, or the start
    always is (`_wraps`): a negative stop counts from the end, and with a
    start that does not, x[0:i - 3] at i = 0 is all but the last 3. Else
    (None, the int arguments such a bound would come from: k above, for
    specialization, and why there is none where the stop may wrap)."""
    from .static import difference_sources

    start, stop = (b if b is None or is_tracer(b) else _bound(b, n) for b in (start, stop))  # (x[i:-1]: n - 1)
    lows = _sides(0 if start is None else start, "maximum")
    top = _end_value(n if stop is None else stop)
    best = None if top is None else _bound_over(top, lows)
    sources = None
    if best is None:
        for u in _sides(n if stop is None else stop, "minimum"):
            for lo in lows:
                sources = sources or difference_sources(u, lo)
        ends = [_end_value(b) for b in (start, stop) if b is not None]
        return None, sources or _int_arguments(ends), ""  # (x[max(0, i - k):max(0, i - 3)]: k)
    if best >= n:
        return n, None, ""  # (no slice is longer than the axis, wrapped or not)
    why = _wraps(start, stop)
    if why:
        return None, _int_arguments([_end_value(b) for b in (start, stop) if b is not None]), why
    return max(1, best), None, ""


def _end_value(b: Any):
    if is_tracer(b):
        return b.value
    return ctx.const_value(int(b), np.int64) if _scalar_int(b) else None


def _bound_over(b, lows: list, depth: int = 3) -> int | None:
    """A static bound on b - lo for every lo in `lows` (lower bounds of the
    start): the least static difference b - lo, or through b's sides where b
    is np.minimum (the least of theirs) or np.maximum (the largest, where
    each has one)."""
    from .static import static_difference

    found = [d for lo in lows if (d := static_difference(b, lo)) is not None]
    op = ctx.state().producers.get(b.id) if not b.is_const else None
    if depth and op is not None and op.prim.name in ("minimum", "maximum") and b.dtype.kind in "iu":
        parts = [_bound_over(v, lows, depth - 1) for v in op.inputs]
        if op.prim.name == "minimum":
            found += [d for d in parts if d is not None]
        elif all(d is not None for d in parts):
            found.append(max(parts))
    return min(found, default=None)


def _sides(b: Any, name: str, depth: int = 3) -> list:
    """b's value, and where b is np.minimum/maximum (`name`) of others, theirs:
    each an upper (minimum) or lower (maximum) bound of b."""
    if not is_tracer(b):
        return [ctx.const_value(int(b), np.int64)] if _scalar_int(b) else []
    out = [b.value]
    op = ctx.state().producers.get(b.value.id)
    if depth and op is not None and op.prim.name == name:
        for v in op.inputs:
            out += _sides(sem.wrap(v), name, depth - 1)
    return out


def _wraps(start: Any, stop: Any) -> str:
    """Why NumPy may read x[start:stop] as longer than stop - start ('' where
    it never does): only a stop that counts from the end (negative) with a
    start that does not lengthens it (a negative start moves to n + start,
    which only shortens it), so the bound holds where the stop is never
    negative or the start always is, by the ranges of loop indices and
    constants (`_interval`)."""
    if stop is None:
        return ""
    low = _interval(_end_value(stop))
    if low is not None and low[0] >= 0:
        return ""
    high = None if start is None else _interval(_end_value(start))
    if high is not None and high[1] < 0:
        return ""
    return ("its stop may be negative, and NumPy counts a negative stop from the end (x[0:i - 3] at i = 0 "
            "is all but the last 3 elements), so no bound on its length holds")


def _int_arguments(values: list) -> frozenset | None:
    """The positions of the traced function's scalar int arguments that
    `values` are computed from (through the bounds of a loop's index), for
    specialization: `i + 1 - k`, whose sign k decides; None where there are none."""
    from .static import _captured_entries

    st = ctx.state()
    root = {v.id: k for k, v in enumerate(st.root.block.args)}
    entry_of = _captured_entries(st.frame)
    found, seen, todo = set(), set(), [v for v in values if v is not None]
    while todo and len(seen) < 64:
        v = todo.pop()
        if v.is_const or v.id in seen:
            continue
        seen.add(v.id)
        if v.id in root:
            if v.shape == () and v.dtype.kind in "iu":
                found.add(root[v.id])
        elif v.id in entry_of:
            todo.append(entry_of[v.id])
        elif v.id in st.loop_iters:  # `for i in range(s, n)`: s and n decide i's range
            it = st.loop_iters[v.id]
            todo.extend(b.value for b in (it.start, it.stop) if is_tracer(b))
        elif (op := st.producers.get(v.id)) is not None and not op.blocks and not op.prim.effectful:
            todo.extend(op.inputs)
    return frozenset(found) or None


_WIDE = 2 ** 62  # an end of a range not known: far from int64's limits, so sums of a few stay inside


def _interval(v, depth: int = 24, memo: dict | None = None) -> tuple[int, int] | None:
    """[lo, hi] of a traced integer scalar, by interval arithmetic
    (ir/ranges.py `op_range`) over constants, the indices of the loops
    around (between their start and stop: `loop_iters`) and the scalars a
    loop reads from outside; None where unknown. Each value is looked at
    once (`memo`)."""
    from looptrace.ir.ranges import op_range

    from .static import _captured_entries

    if v is None or depth == 0 or v.shape != () or v.dtype.kind not in "iu":
        return None
    if v.is_const:
        return int(v.const), int(v.const)
    memo = {} if memo is None else memo
    if v.id in memo:
        return memo[v.id]
    memo[v.id] = None  # (while being looked at)
    st = ctx.state()
    it = st.loop_iters.get(v.id)
    entry = _captured_entries(st.frame).get(v.id)
    op = st.producers.get(v.id)
    if it is not None:
        found = _index_interval(it, depth, memo)
    elif entry is not None:
        found = _interval(entry, depth - 1, memo)
    elif op is None or op.blocks or op.prim.effectful:
        found = None
    else:
        found = op_range(op, lambda u: _interval(u, depth - 1, memo))
    memo[v.id] = found
    return found


def _index_interval(it, depth: int, memo: dict) -> tuple[int, int] | None:
    """A for loop's index lies from its start up to its stop (a step of 1 or
    more), down to it (-1 or less), or between them (a traced step)."""
    start, stop = (_interval(_end_value(b), depth - 1, memo) for b in (it.start, it.stop))
    step = it.step if _scalar_int(it.step) and not is_tracer(it.step) else None
    if step is not None and step > 0 and start is not None:
        return start[0], (_WIDE if stop is None else max(start[0], stop[1] - 1))
    if step is not None and step < 0 and start is not None:
        return (-_WIDE if stop is None else min(start[1], stop[0] + 1)), start[1]
    if start is None or stop is None:
        return None
    return min(start[0], stop[0]), max(start[1], stop[1])


def find_varying(shape: tuple, key: Any) -> tuple[int, int] | None:
    """(its position in key, its axis in the result) of the one slice of
    `varying_slice`'s key, or None where varying_slice gives None. Emits nothing."""
    from .indexing import _static_difference

    parts = key if isinstance(key, tuple) else (key,)
    found, axis = None, 0  # the varying slice's position in key, and in the result
    for p, k in enumerate(parts):
        if isinstance(k, slice):
            if not any(is_tracer(b) for b in (k.start, k.stop, k.step)):
                axis += found is None
                continue
            if found is not None or p >= len(shape):
                return None
            if is_tracer(k.step) and not _scalar_int(k.step):
                return None
            if not is_tracer(k.step) and k.step is not None and not _scalar_int(k.step):
                return None
            if _unit_step(k.step):
                stop = shape[p] if k.stop is None else k.stop
                start = 0 if k.start is None else k.start
                if _static_difference(stop, start) is not None:
                    return None  # a window of static length: windows.py
            elif not is_tracer(k.step) and int(k.step) == 0:
                return None  # NumPy's ValueError, raised where static slices are parsed
            found = p
        elif k is None or k is Ellipsis or not _scalar_int(k):
            return None
    return None if found is None else (found, axis)


def _unit_step(step: Any) -> bool:
    return step is None or (not is_tracer(step) and int(step) == 1)


def _stepped_mask(k: slice, n: int) -> Tracer:
    """The positions x[start:stop:step] selects on an axis of length n, for a
    step other than 1 (traced, or static with traced bounds), as NumPy's
    slice.indices reads them: for a positive step, lo <= p < hi with p - lo
    a multiple of the step; for a negative one, stop < p <= start with
    start - p a multiple of -step (the selection keeps the axis's order: its
    uses are folds, elementwise arithmetic with selections of the same
    positions and writes, which do not see the order; np.flip needs the
    span a stepped slice does not have). A traced step of 0 raises NumPy's
    ValueError at run time."""
    step = k.step
    pos = nx.NAMESPACE["arange"](n)
    if is_tracer(step):
        from .checks import emit_check

        step = sem.astype(step, np.int64)
        emit_check(sem.ufunc("equal", step, 0), ValueError("slice step cannot be zero"))
        step = sem.select(sem.ufunc("equal", step, 0), 1, step)
        positive = sem.ufunc("greater", step, 0)
        up = _up_mask(pos, k.start, k.stop, step, n)
        down = _down_mask(pos, k.start, k.stop, step, n)
        return sem.select(positive, up, down)
    if int(step) > 0:
        return _up_mask(pos, k.start, k.stop, int(step), n)
    return _down_mask(pos, k.start, k.stop, int(step), n)


def _multiple(d: Any, step: Any) -> Tracer:
    return sem.ufunc("equal", sem.ufunc("remainder", d, step), 0)


def _up_mask(pos: Tracer, start: Any, stop: Any, step: Any, n: int) -> Tracer:
    lo = _bound(0 if start is None else start, n)
    hi = _bound(n if stop is None else stop, n)
    inside = sem.ufunc("logical_and", sem.ufunc("greater_equal", pos, lo), sem.ufunc("less", pos, hi))
    return sem.ufunc("logical_and", inside, _multiple(sem.ufunc("subtract", pos, lo), step))


def _down_mask(pos: Tracer, start: Any, stop: Any, step: Any, n: int) -> Tracer:
    hi = n - 1 if start is None else _down_bound(start, n)
    lo = -1 if stop is None else _down_bound(stop, n)
    inside = sem.ufunc("logical_and", sem.ufunc("greater", pos, lo), sem.ufunc("less_equal", pos, hi))
    return sem.ufunc("logical_and", inside,
                     _multiple(sem.ufunc("subtract", hi, pos), sem.ufunc("negative", step)))


def _down_bound(b: Any, n: int) -> Any:
    """A bound of a negative-step slice as NumPy reads it: from the end when negative, clipped to [-1, n - 1]."""
    if not is_tracer(b):
        b = int(b)
        return min(max(b + n if b < 0 else b, -1), n - 1)
    b = sem.astype(b, np.int64)
    b = sem.select(sem.ufunc("less", b, 0), sem.ufunc("add", b, n), b)
    return sem.ufunc("minimum", sem.ufunc("maximum", b, -1), n - 1)


# ops that read an array's elements: a bound computed through one depends on the data
_READS = frozenset({"slice", "dynamic_slice", "gather", "dynamic_prefix"})


def reads_array_data(k: slice, limit: int = 64) -> bool:
    """Is a traced bound of slice k computed from an array's elements (CSR row
    pointers: `v[ptr[i]:ptr[i + 1]]`)? Such slices partition an axis, so a
    mask over the whole axis at every iteration costs the axis times the
    iterations where the plain loop costs the axis once (spmv, 3*10^4 rows of
    3*10^5 nonzeros: 14.9 s against NumPy's 0.12 s, before folds ran over
    their window alone): their selections are `windowed`. Bounds from loop
    indices, shapes and scalar arguments (`L[i, :i]`) cost at most twice the
    plain loop even unnarrowed."""
    producers = ctx.state().producers
    todo = [b.value for b in (k.start, k.stop) if is_tracer(b)]
    seen: set[int] = set()
    while todo and len(seen) < limit:
        v = todo.pop()
        if v.id in seen or v.is_const:
            continue
        seen.add(v.id)
        op = producers.get(v.id)
        if op is None:
            continue  # an argument or a loop's own value
        if op.prim.name in _READS and op.inputs[0].ndim and not op.inputs[0].is_const:
            return True
        todo.extend(op.inputs)
    return False


def _scalar_int(k: Any) -> bool:
    if is_tracer(k):
        return k.ndim == 0 and k.dtype.kind in "iu"
    return isinstance(k, (int, np.integer)) and not isinstance(k, bool)


def _bound(b: Any, n: int) -> Any:
    """A slice bound as NumPy reads it: from the end when negative, clipped to [0, n]."""
    if not is_tracer(b):
        b = int(b)
        return min(max(b + n if b < 0 else b, 0), n)
    b = sem.astype(b, np.int64)
    b = sem.select(sem.ufunc("less", b, 0), sem.ufunc("add", b, n), b)
    return sem.ufunc("minimum", sem.ufunc("maximum", b, 0), n)


def flip(sel: MaskedSelection, axis=None) -> MaskedSelection:
    """np.flip of a slice of varying length: on the sliced axis, position p
    reads lo + hi - 1 - p (clipped, so the positions outside read something
    in range); the other axes flip as any array's."""
    axes = sem.norm_axes(axis, sel.ndim)
    if sel.axis in axes and not sel.span:
        sel.fail("np.flip of a boolean-mask selection")
    data = sel.data
    others = [a if a < sel.axis else a + sel.mask.ndim - 1 for a in axes if a != sel.axis]
    if others:
        data = nx.flip(data, tuple(others))
    n = data.shape[sel.axis]
    if sel.axis in axes and n:
        lo, hi = sel.span
        rows = nx.NAMESPACE["arange"](n)
        rows = sem.ufunc("minimum", sem.ufunc("maximum", sem.ufunc("subtract", lo + hi - 1, rows), 0), n - 1)
        data = sem.wrap(ctx.emit1(prim("gather"), [data.value, sem.as_value(rows, np.int64)], axis=sel.axis))
    return sel.like(data)


def gather(x: Tracer, sel: MaskedSelection) -> MaskedSelection:
    """x[sel] for a selection of integers: x gathered at the selected indices,
    a selection of the same positions (NumPy's shape: sel's, then x's
    trailing axes). Positions outside the mask read x[0], so only the
    selected indices are checked against x's length."""
    if sel.dtype.kind not in "iu":
        sel.fail(f"indexing with it (of dtype {sel.dtype})")
    if x.ndim == 0 or x.shape[0] == 0:
        sel.fail("indexing an empty axis with it")
    rows = sem.select(sel.where(), sel.data, 0)
    return sel.like(x[rows])


def gather_at(x: Tracer, key: tuple) -> MaskedSelection:
    """x[s0, s1, ...] for selections of integers over one mask (np.nonzero's
    positions, one per axis): x gathered at each position's indices, a
    selection of the same positions. Positions outside the mask read
    x[0, 0, ...], so only the selected indices are checked."""
    first = key[0]
    for s in key:
        if s.dtype.kind not in "iu":
            s.fail(f"indexing with it (of dtype {s.dtype})")
        if not first.same_mask(s) or s.axis != first.axis or tuple(s.data.shape) != tuple(first.data.shape) \
                or s.bounds or s.windowed:
            s.fail("indexing with it beside another selection of other positions")
    if len(key) > x.ndim or any(d == 0 for d in x.shape[:len(key)]):
        first.fail("indexing an empty axis with it")
    rows = tuple(sem.select(s.where(), s.data, 0) for s in key)
    return first.like(x[rows])


SELECTION_FUNCTIONS["flip"] = flip
