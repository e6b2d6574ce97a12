"""Writes through a slice with a step other than 1 and bounds known only at
run time: `is_prime[p * p::p] = False`, `y[i::k] *= 0.5`, `x[a:b:s] = v`.

Such a write is a for_loop over exactly the positions the slice selects, in
NumPy's order (slice.indices: from the first selected position by the step),
each iteration writing one element, so it costs the number of elements
written. (As a select over the whole axis, masked to the selected positions,
each write cost the axis's length: a sieve was O(n sqrt n), 500 times slower
than the plain loop.) The value written at position j:
  - a scalar, or an array of length 1 on the slice's axis (or not reaching
    it): the same at every position;
  - an array of length L != 1 on that axis: its element k = (j - first) // step,
    after a run-time check that the slice selects L elements (NumPy's
    ValueError otherwise);
  - a selection through the same slice (`x[a::s] += v` reads x[a::s], adds
    and writes it back; `x[a::s] = y[a::s] * 2`): its elementwise ops taken
    again at position j, on x's element as the loop holds it (each position
    is read before the loop writes it, and written once).
A traced step of 0 raises NumPy's ValueError at run time, before the loop.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from looptrace.ir.core import Op, Value
from looptrace.ops import get as prim

from . import context as ctx
from . import semantics as sem
from .array import Tracer, is_tracer
from .checks import emit_check
from .masked import MaskedSelection, same_value
from .varying import _bound, _down_bound, find_varying, varying_slice

_MAX_RETRACED = 64  # elementwise ops of a selection's value taken again per element, at most

Element = Callable[[Tracer, Tracer, tuple], Any]  # (j, the carried array, its key at j) -> the value there


def write(x: Tracer, key: Any, value: Any) -> bool:
    """x[key] = value as a loop over the selected positions, where key holds a
    slice of traced bounds and a step other than 1; False where it does not
    (or where the value is one this loop cannot take: the caller's select
    then says why)."""
    at = find_varying(tuple(x.shape), key)
    if at is None:
        return False
    p, axis = at
    parts = key if isinstance(key, tuple) else (key,)
    k = parts[p]
    if not isinstance(x.shape[p], int):
        return False
    if k.step is None or (not is_tracer(k.step) and int(k.step) == 1):
        return _unit_write(x, key, parts, p, axis, value)
    whole = parts[:p] + (slice(None),) + parts[p + 1:]
    if isinstance(value, MaskedSelection):
        element = _selection_element(x, key, whole, axis, value)
        checked = True  # varying_slice emitted the step's check
    else:
        element, checked = None, False
    if isinstance(value, MaskedSelection) and element is None:
        return False
    positions = _Positions(k, x.shape[p], checked)
    if element is None:
        element = _array_element(x, whole, axis, value, positions)
    return _written(x, parts, p, positions, element)


def _written(x: Tracer, parts: tuple, p: int, positions: "_Positions", element: Any) -> bool:
    """The loop writing `element` at each position; False where there is no element to write."""
    if element is None:
        return False
    if element is not _NOTHING:
        _emit_loop(x, parts, p, positions.loop, element)
    return True


_NOTHING = object()  # an empty value: after the count check, nothing to write


def _unit_write(x: Tracer, key: Any, parts: tuple, p: int, axis: int, value: Any) -> bool:
    """x[a:b] = value, a unit step and a length known only at run time, as a
    loop over the positions a..b-1 where a select over the whole axis will
    not do: the value is a slice of another run-time window, shifted
    against this one (`shifted[w:] = best[:n - w] + v`, `x[lag:] = x[:-lag]`:
    element j reads position j - a + c of the value's window c:d, after a
    check that both select as many elements, as NumPy requires), or the
    bounds are read from an array (a select would cost the axis at every
    write: the loop costs the window). False for the other writes (a select)."""
    sliced = varying_slice(tuple(x.shape), key)
    whole = parts[:p] + (slice(None),) + parts[p + 1:]
    k = parts[p]
    positions = _Positions(slice(k.start, k.stop, 1), x.shape[p], True)
    element: Any = None
    if isinstance(value, MaskedSelection):
        if value.same_mask(sliced.mask):
            if not sliced.windowed:
                return False
            element = _selection_element(x, key, whole, axis, value)
        else:
            element = _shifted_element(x, whole, axis, value, positions)
    elif sliced.windowed:
        element = _array_element(x, whole, axis, value, positions)
    return _written(x, parts, p, positions, element)


def _shifted_element(x: Tracer, whole: tuple, axis: int, sel: MaskedSelection, positions: "_Positions") -> Any:
    """Position j of the write takes the value's element at lo + j - first,
    lo..hi its window (the same window's arrays at those positions: its
    elementwise ops taken again there, x itself read as it was before the
    write, as NumPy evaluates the value first)."""
    from .indexing import getitem

    current = getitem(x, whole).value
    if not sel.span or sel.axis != axis or len(sel.data.shape) != len(current.shape) or any(
            a != b for k, (a, b) in enumerate(zip(sel.data.shape, current.shape)) if k != axis):
        return None
    lo, hi = (_tracer(b) for b in sel.span)
    count = sem.ufunc("maximum", sem.ufunc("subtract", hi, lo), 0)
    single = sem.ufunc("equal", count, 1)  # one element broadcasts to any number of positions, as in NumPy
    emit_check(sem.ufunc("logical_and", sem.ufunc("not_equal", positions.count(), count), sem.ufunc("logical_not", single)),
               ValueError("could not broadcast input array into the shape of the slice it is assigned to "
                          "(the two slices select different numbers of elements)"))
    data, first = sel.data.value, _tracer(positions.first)
    budget = [_MAX_RETRACED]

    def element(j: Tracer, c: Tracer, at_j: tuple) -> Any:
        r = sem.ufunc("add", lo, sem.select(single, 0, sem.ufunc("subtract", j, first)))
        return _at(data, current, axis, r, None, at_j, budget)

    return element


class _Positions:
    """The positions x[k] selects on an axis of length n: `first`, `end`,
    `step` as NumPy's slice.indices gives them (for the element of an
    assigned array, first + k * step, and the count), and the bounds of an
    ascending for_loop over the same positions (`loop`): each is written
    once, so the order does not matter, and an ascending loop whose start is
    at least 0 and whose stop is at most n tells ir/ranges.py that its index
    lies inside the axis (the write needs no bounds check)."""

    def __init__(self, k: slice, n: int, checked: bool):
        step = k.step
        if not is_tracer(step):
            step = int(step)
            self.first, self.end = _up(k, n) if step > 0 else _down(k, n)
            self.step = step
            self.loop = (self.first, self.end, step) if step > 0 else \
                (*_ascending(self.first, self.end, -step), -step)
        else:
            step = sem.astype(step, np.int64)
            zero = sem.ufunc("equal", step, 0)
            if not checked:
                emit_check(zero, ValueError("slice step cannot be zero"))
            self.step = sem.select(zero, 1, step)
            (lo, hi), (first, end) = _up(k, n), _down(k, n)
            positive = sem.ufunc("greater", self.step, 0)
            self.first, self.end = sem.select(positive, lo, first), sem.select(positive, hi, end)
            magnitude = sem.ufunc("maximum", sem.ufunc("absolute", self.step), 1)
            down = _ascending(first, end, magnitude)
            self.loop = (sem.select(positive, lo, down[0]), sem.select(positive, hi, down[1]), magnitude)
        self.loop = tuple(sem.as_value(b, np.int64) for b in self.loop)

    def count(self) -> Any:
        """len(range(first, end, step)): the number of positions selected."""
        from .carries import TracedRange

        return TracedRange(*(_tracer(b) for b in (self.first, self.end, self.step))).length()

    def index_of(self, j: Tracer) -> Tracer:
        """k with position j == first + k * step."""
        return sem.ufunc("floor_divide", sem.ufunc("subtract", j, _tracer(self.first)), _tracer(self.step))


def _ascending(first: Any, end: Any, magnitude: Any) -> tuple:
    """(start, stop) of range(start, stop, magnitude) over the positions
    first, first - magnitude, ... > end of a negative step: the lowest one is
    end + 1 + (first - end - 1) mod magnitude (above first when there is none,
    so the loop is empty), at least 0 since end >= -1."""
    gap = sem.ufunc("remainder", sem.ufunc("subtract", sem.ufunc("subtract", first, end), 1), magnitude)
    lowest = sem.ufunc("maximum", sem.ufunc("add", sem.ufunc("add", end, 1), gap), 0)
    return lowest, sem.ufunc("add", first, 1)


def _tracer(b: Any) -> Any:
    return sem.wrap(sem.as_value(b, np.int64)) if not is_tracer(b) else b


def _up(k: slice, n: int) -> tuple:
    return _bound(0 if k.start is None else k.start, n), _bound(n if k.stop is None else k.stop, n)


def _down(k: slice, n: int) -> tuple:
    return (n - 1 if k.start is None else _down_bound(k.start, n),
            -1 if k.stop is None else _down_bound(k.stop, n))


def _emit_loop(x: Tracer, parts: tuple, p: int, bounds: tuple, element: Element) -> None:
    """x = for_loop(first, end, step, x): body(j, c) writes c[parts with j at p]."""
    st = ctx.state()
    old = x.value
    loc = ctx.current_loc()
    frame = st.push("stepped")  # neither a loop's frame (no captures) nor a branch's
    try:
        j, carry = Value(np.dtype(np.int64), ()), Value(old.dtype, old.shape)
        frame.block.args += [j, carry]
        c, jt = Tracer(carry), Tracer(j)
        at_j = parts[:p] + (jt,) + parts[p + 1:]
        from .indexing import setitem

        setitem(c, at_j, element(jt, c, at_j))
        frame.block.results = [c.value]
    finally:
        st.pop(frame)
    out = Value(old.dtype, old.shape)
    op = Op(prim("for_loop"), (*bounds, old), (out,), {}, loc, (frame.block,))
    st.frame.block.ops.append(op)
    st.producers[out.id] = op
    st.value_frames[out.id] = st.frame
    x.assign(out)


# --- the value at each position ----------------------------------------------------------------
def _array_element(x: Tracer, whole: tuple, axis: int, value: Any, positions: _Positions) -> Element | None:
    """The element of an assigned array (or scalar) that position j takes."""
    from .indexing import _numpy_shape

    if not is_tracer(value):
        if sem.is_py_scalar(value) or isinstance(value, np.generic):
            return lambda j, c, at_j: value
        sem.check_array_like(value, "value to assign")
        value = sem.wrap(sem.as_value(value))
    else:
        value = Tracer(value.value, weak=value.weak)  # as it is now: the loop reads it, not later writes
    shape = tuple(value.shape)
    if not all(isinstance(d, int) for d in shape):  # a length known only at run time (tracer/array.py)
        return None
    ndim = len(_numpy_shape(tuple(x.shape), whole))
    while len(shape) > ndim and shape[0] == 1:  # NumPy drops leading unit axes of a value
        value, shape = sem.reshape(value, shape[1:]), shape[1:]
    lead = ndim - len(shape)
    if lead < 0:
        return None
    if axis < lead:  # it does not reach the slice's axis
        return lambda j, c, at_j: value
    length = shape[axis - lead]
    if length == 1:
        squeezed = sem.reshape(value, shape[:axis - lead] + shape[axis - lead + 1:])
        return lambda j, c, at_j: squeezed
    emit_check(sem.ufunc("not_equal", positions.count(), length),
               ValueError(f"could not broadcast input array from shape {shape} into the shape of the "
                          "slice it is assigned to (it selects a different number of elements)"))
    if length == 0:
        return _NOTHING
    before = (slice(None),) * (axis - lead)

    def element(j: Tracer, c: Tracer, at_j: tuple) -> Any:
        return value[before + (positions.index_of(j),)]

    return element


def _selection_element(x: Tracer, key: Any, whole: tuple, axis: int, sel: MaskedSelection) -> Element | None:
    """For a value read through the same slice (x[key] += v): its data's
    elementwise ops again at position j, reading x at j from the loop's
    carried array. None where the selection is not x[key]'s positions."""
    from .indexing import getitem

    sliced = varying_slice(tuple(x.shape), key)
    current = getitem(x, whole).value
    if not sel.same_mask(sliced.mask) or sel.axis != axis or tuple(sel.data.shape) != tuple(current.shape):
        return None
    data = sel.data.value
    budget = [_MAX_RETRACED]

    def element(j: Tracer, c: Tracer, at_j: tuple) -> Any:
        return _at(data, current, axis, j, c, at_j, budget)

    return element


def _at(v: Value, current: Value, axis: int, j: Tracer, c: Tracer, at_j: tuple, budget: list) -> Any:
    """v (broadcasting against x[whole], whose axis `axis` the slice runs
    along) at position j of that axis: `current` (x[whole] before the write)
    is read from the carried array; elementwise ops are taken again on their
    inputs at j; anything else is read at j."""
    lead = len(current.shape) - len(v.shape)
    if axis < lead:
        return sem.wrap(v)
    if v.shape[axis - lead] == 1:
        return sem.reshape(sem.wrap(v), v.shape[:axis - lead] + v.shape[axis - lead + 1:])
    if c is not None and same_value(v, current):
        return c[at_j]  # (c None: a shifted read, of x before the write; below)
    shifted = ctx.state().shifted_reads.get(v.id)
    if shifted is not None and shifted[2] == axis - lead and len(shifted[0].shape) == len(v.shape):
        data, position, _ = shifted  # another window realigned onto this one's: read at its own position
        return _at(data, current, axis, position(j), None, at_j, budget)
    op = ctx.state().producers.get(v.id)
    if op is not None and op.prim.elementwise and not op.prim.may_raise and not op.prim.effectful \
            and len(op.outputs) == 1 and budget[0] > 0:
        budget[0] -= 1
        ins = [sem.as_value(_at(u, current, axis, j, c, at_j, budget)) for u in op.inputs]
        return sem.wrap(ctx.emit(op.prim, ins, op.loc, **op.attrs)[0])
    return sem.wrap(v)[(slice(None),) * (axis - lead) + (j,)]


# --- folds over the selected positions -----------------------------------------------------------
_FOLDS = {"sum": ("add", np.sum), "prod": ("multiply", np.prod), "max": ("maximum", np.max),
          "min": ("minimum", np.min)}


def fold(sel: MaskedSelection, name: str, initial: Any) -> Any:
    """x[a:b:s].sum() (prod, max, min) of a 1-d selection with traced bounds
    and a step other than 1, as a loop over exactly the selected positions,
    its elementwise ops taken again at each: it costs the elements selected,
    where the masked fold over the whole axis cost the axis (a sieve-like
    `x[p * p::p].sum()` per p). None for what this does not fold."""
    from .masked import _NO

    if name not in _FOLDS or not isinstance(sel.data.shape[0], int):
        return None
    combine, ref = _FOLDS[name]
    dtype = np.asarray(ref(np.zeros(1, sel.data.dtype))).dtype
    n = sel.data.shape[0]
    positions = _Positions(sel.stepped, n, True)  # (varying_slice emitted the step's check)
    if initial is _NO and name in ("max", "min"):
        from .windows import _extreme

        emit_check(sem.ufunc("equal", positions.count(), 0),
                   ValueError(f"zero-size array to reduction operation {combine} which has no identity"))
        start = _extreme(dtype, lowest=name == "max")
    elif initial is _NO:
        start = 0 if name == "sum" else 1
    else:
        start = initial
    data = sel.data.value
    budget = [_MAX_RETRACED]
    st = ctx.state()
    loc = ctx.current_loc()
    init = sem.as_value(start, dtype)
    frame = st.push("stepped")
    try:
        j, acc = Value(np.dtype(np.int64), ()), Value(dtype, ())
        frame.block.args += [j, acc]
        element = _at(data, data, 0, Tracer(j), None, (), budget)
        frame.block.results = [sem.as_value(sem.ufunc(combine, Tracer(acc), element), dtype)]
    finally:
        st.pop(frame)
    out = Value(dtype, ())
    op = Op(prim("for_loop"), (*positions.loop, init), (out,), {}, loc, (frame.block,))
    st.frame.block.ops.append(op)
    st.producers[out.id] = op
    st.value_frames[out.id] = st.frame
    return Tracer(out)
