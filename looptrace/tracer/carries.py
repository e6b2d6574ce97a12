"""What a loop iterates over, how each carried name is carried, and lists
grown with `append`.

Carry specs (one per name assigned in a loop body):
  alias   the name keeps its entry object (an array written in place, or a
          Python object the body does not change)
  temp    assigned before it is read in every iteration and not used after:
          not carried; unbound after the loop
  value   a traced array (or a Python number promoted to a weak scalar)
  list    a Python list appended to: one stacked output per append when the
          append runs once per iteration, else a buffer and a count
"""
from __future__ import annotations

import collections
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from looptrace.errors import ShapeError, TraceError, UnsupportedError
from looptrace.ir.core import Dim, SourceLoc, Value
from looptrace.ops import get as prim

from . import context as ctx
from . import kinds
from . import semantics as sem
from .array import Tracer, is_tracer
from .merge import NO_RETURN
from . import worklists
from .values import UNBOUND, MaybeBound, MaybeNone, Segment, Unbound, Undefined


@dataclass
class LoopInfo:
    file: str
    line: int
    kind: str
    reason: str = ""
    # a carried value that tags another's Python type (tracer/kinds.py): its body argument's id -> the name
    type_tags: dict = field(default_factory=dict)
    # a carried value's body argument id -> the user's name for it (explain's loop reasons)
    arg_names: dict = field(default_factory=dict)
    # a Python-int accumulator's shadow sums (tracer/python_sums.py): their body argument ids -> its
    shadows: dict = field(default_factory=dict)
    # a nest from one source line (np.ndindex, itertools.product, .flat): its total count, where
    # static; explain reports it, not one level's
    nest_count: int | None = None
    # the (file, line) of every op traced inside the loop, before any pass moved them (a backend
    # names the kernels a vectorized loop's batched ops became: codegen/cuda/runner.py)
    body_lines: frozenset = frozenset()


def register_loop(loc: SourceLoc | None, kind: str) -> LoopInfo:
    st = ctx.state()
    key = (loc.file, loc.line) if loc else ("?", len(st.loops))
    if key not in st.loops:
        st.loops[key] = LoopInfo(key[0], key[1], kind)
    return st.loops[key]


# --- iterables ----------------------------------------------------------------------------
class TracedRange:
    """`range(...)` with any traced argument."""

    def __init__(self, *args):
        if len(args) == 1:
            args = (0, args[0], 1)
        elif len(args) == 2:
            args = (args[0], args[1], 1)
        # a Python bool is an int (range(True) runs once); a NumPy bool is not (NumPy's TypeError)
        args = tuple(sem.wrap(sem.as_value(a, np.int64), weak=True) if is_tracer(a) and a.weak and a.ndim == 0
                     and a.dtype == np.bool_ else a for a in args)
        for a in args:
            if not (is_tracer(a) and a.ndim == 0 and a.dtype.kind in "iu") and not isinstance(a, numbers.Integral):
                what = f"a traced {a.dtype} value" if is_tracer(a) else f"{type(a).__name__} {a!r}"
                raise TypeError(f"range() arguments must be integers, not {what}")
        self.start, self.stop, self.step = args
        if isinstance(self.step, numbers.Integral) and self.step == 0:
            raise ValueError("range() arg 3 must not be zero")
        if is_tracer(self.step):  # a step known at run time only: Python's error there, on every backend
            from .checks import emit_check

            emit_check(sem.ufunc("equal", self.step, 0), ValueError("range() arg 3 must not be zero"))

    def __len__(self):
        raise TypeError("len() of a range with traced bounds is traced: looptrace's len() gives it")

    def length(self) -> Any:
        """len(range(start, stop, step)) as a traced integer (Python's rule: 0 when empty)."""
        start, stop, step = self.start, self.stop, self.step
        up = sem.ufunc("floor_divide", sem.ufunc("add", sem.ufunc("subtract", stop, start),
                                                  sem.ufunc("subtract", step, 1)), step)
        down = sem.ufunc("floor_divide", sem.ufunc("subtract", sem.ufunc("subtract", start, stop),
                                                    sem.ufunc("add", step, 1)), sem.ufunc("negative", step))
        if isinstance(step, numbers.Integral):
            n = up if step > 0 else down
        else:
            n = sem.select(sem.ufunc("greater", step, 0), up, down)
        return sem.ufunc("maximum", n, 0)

    def __iter__(self):
        from .static import UnsupportedConcrete, concrete_error

        raise concrete_error([self.start, self.stop, self.step],
                             "iterating over a range with traced bounds outside a `for` statement "
                             "(for example in a comprehension) is not supported: it needs concrete bounds",
                             "write a for loop", UnsupportedConcrete)


class TracedReversed:
    def __init__(self, rng: TracedRange):
        if not (isinstance(rng.step, numbers.Integral) and rng.step in (1, -1)):
            raise UnsupportedError("reversed() of a traced range needs step 1 or -1", ctx.current_loc())
        s = rng.step
        if is_tracer(rng.start) or is_tracer(rng.stop):
            _bounds_fit(rng.start, rng.stop, s)
        self.range = TracedRange(sem.ufunc("subtract", rng.stop, s), sem.ufunc("subtract", rng.start, s), -s)


def _bounds_fit(start: Any, stop: Any, step: int) -> None:
    """reversed(range(a, b)) runs range(b - 1, a - 1, -1): at a or b = -2**63
    (2**63 - 1 for step -1) a bound wraps around and the loop would run the
    wrong count of trips: a run-time error there, never a wrong count."""
    from .checks import emit_check

    end = np.iinfo(np.int64).min if step > 0 else np.iinfo(np.int64).max
    at_end = sem.ufunc("logical_or", sem.ufunc("equal", start, end), sem.ufunc("equal", stop, end))
    emit_check(at_end, UnsupportedError(
        f"reversed() of a range with a bound at {end}: the reversed range's bounds do not fit int64",
        ctx.current_loc(), "keep the range's bounds off the int64 limit, and handle that element on its own"))


class TracedEnumerate:
    def __init__(self, inner: Any, start: int = 0):
        self.inner, self.start = inner, start

    def __iter__(self):  # outside a `for` (`list(enumerate(x))`): Python's, over the rows
        return enumerate(self.inner, self.start)


class TracedZip:
    def __init__(self, *inners: Any):
        self.inners = inners

    def __iter__(self):  # outside a `for` (`list(zip(x, y))`): Python's, over the rows
        return zip(*self.inners)


class LoopIter:
    """A loop's iteration space: `bounds()` are the for_loop's (start, stop,
    step); `item(index)` is what the loop target gets."""

    def __init__(self, start, stop, step, item_fn, static_len):
        self.start, self.stop, self.step = start, stop, step
        self.item_fn = item_fn
        self.static_len = static_len

    def bounds(self) -> tuple[Value, Value, Value]:
        return tuple(sem.as_value(b, np.int64) for b in (self.start, self.stop, self.step))

    def item(self, index: Value) -> Any:
        ctx.state().loop_iters[index.id] = self
        t = Tracer(index, weak=True)  # range() yields Python ints: they promote weakly
        t.aff = (index, 0)
        return self.item_fn(t)

    def trip_dim(self):
        return self.static_len if self.static_len is not None else Dim(None)

    def step_tracer(self):
        return self.step

    def in_range(self, index: Value):
        i = Tracer(index)
        if isinstance(self.step, numbers.Integral):
            return sem.ufunc("less" if self.step > 0 else "greater", i, self.stop)
        up = sem.ufunc("less", i, self.stop)
        down = sem.ufunc("greater", i, self.stop)
        return sem.select(sem.ufunc("greater", self.step, 0), up, down)


def _counter_iter(n, item_fn) -> LoopIter:
    static = n if isinstance(n, numbers.Integral) else None
    return LoopIter(0, n, 1, item_fn, static)


def _length_and_item(obj: Any):
    """(length, index -> item) for something iterated by position."""
    if isinstance(obj, (range, TracedRange, TracedReversed)):
        it = _range_iter(obj)
        if isinstance(it.start, numbers.Integral) and isinstance(it.step, numbers.Integral) and it.start == 0 \
                and it.step == 1:
            return it.stop, lambda i: i
        n = _trip_count(it.start, it.stop, it.step)
        return n, lambda i: _weak(sem.ufunc("add", it.start, sem.ufunc("multiply", i, it.step)))
    if is_tracer(obj) or isinstance(obj, np.ndarray):
        if np.ndim(obj) == 0 if not is_tracer(obj) else obj.ndim == 0:
            from .methods import iteration_error

            raise iteration_error(obj) if is_tracer(obj) else TypeError("iteration over a 0-d array")
        arr = obj if is_tracer(obj) else sem.wrap(sem.as_value(obj))
        if getattr(obj, "weak_items", False):  # a grown list of Python numbers (grown.WeakItems)
            return arr.shape[0], lambda i: _weak(arr[i])
        return arr.shape[0], lambda i: arr[i]
    if isinstance(obj, TracedEnumerate):
        n, inner = _length_and_item(obj.inner)
        return n, lambda i: (sem.ufunc("add", i, obj.start) if obj.start else i, inner(i))
    if isinstance(obj, TracedZip):
        parts = [_length_and_item(x) for x in obj.inners]
        lens = [p[0] for p in parts]
        if not all(isinstance(n, numbers.Integral) for n in lens):
            raise UnsupportedError("zip() over traced-length ranges is not supported", ctx.current_loc())
        return min(lens), lambda i: tuple(f(i) for _, f in parts)
    return None


def _weak(t: Tracer) -> Tracer:
    """A range element: a Python int, so it promotes weakly."""
    t.weak = True
    return t


def _trip_count(start, stop, step):
    if all(isinstance(x, numbers.Integral) for x in (start, stop, step)):
        return len(range(start, stop, step))
    span = sem.ufunc("subtract", stop, start)
    n = sem.ufunc("floor_divide", sem.ufunc("add", span, sem.ufunc("subtract", step, sem.ufunc("sign", step))), step)
    return sem.ufunc("maximum", n, 0)


def _range_iter(obj) -> LoopIter:
    if isinstance(obj, range):
        return LoopIter(obj.start, obj.stop, obj.step, lambda i: i, len(obj))
    if isinstance(obj, TracedReversed):
        obj = obj.range
    static = None
    return LoopIter(obj.start, obj.stop, obj.step, lambda i: i, static)


def loop_iterable(obj: Any) -> LoopIter | None:
    """The LoopIter of a traced loop, or None for a Python container."""
    if isinstance(obj, (range, TracedRange, TracedReversed)):
        return _range_iter(obj)
    if isinstance(obj, (TracedEnumerate, TracedZip)) or is_tracer(obj) or isinstance(obj, np.ndarray):
        n, item = _length_and_item(obj)
        return _counter_iter(n, item)
    return None


# --- carry specs ----------------------------------------------------------------------------------
class Spec:
    kind = "?"
    list_state = None

    def bind(self, loop, name) -> tuple[Any, list[Value]]:
        return loop.entry[name], []

    def init_values(self, loop, name) -> list[Value]:
        return []

    def result_values(self, loop, body, exit_obj) -> list[Value]:
        return []

    def n_values(self) -> int:
        return 0

    def after_loop(self, loop, name, outs) -> Any:
        return loop.entry[name]


class AliasSpec(Spec):
    kind = "alias"


class TempSpec(Spec):
    kind = "temp"

    def bind(self, loop, name):
        e = loop.entry[name]
        return (Undefined(name, loop.loc, peel=True) if e is UNBOUND else e), []

    def after_loop(self, loop, name, outs):
        return Undefined(name, loop.loc)


class ValueSpec(Spec):
    kind = "value"

    def __init__(self, dtype, shape, weak, zero_init=False, placeholder=False, keys=None, carry=False):
        if np.dtype(dtype) == object or weak and np.dtype(dtype) == np.uint64:
            # a Python int past int64 carried around a loop (a sentinel 2**63, 2**64)
            raise ctx.big_int_error()
        self.dtype, self.shape, self.weak, self.zero_init = np.dtype(dtype), tuple(shape), weak, zero_init
        self.placeholder = placeholder  # the return slot: a flag guards it, zeros are fine unset
        # a 0-d value's types (tracer/kinds.py): those it enters with and those iterations leave it
        # with; `carry`: an iteration leaves it with a type chosen at run time, so a tag is carried
        self.keys = keys if self.shape == () else None
        self.carry = carry and self._tagged()
        self.exit_tag = self.bound_tag = None
        self.bound = None  # the body argument of the last trace (control.py _tag_carries_others_read)
        # arrays from outside the loop (their boxes) the name may hold when an iteration ends (`b = y`
        # under a traced `if` in the body, `return y` in the loop's return slot): an int64 carried
        # beside the value says which (-1: none), so the name is that array after the loop
        self.outer: tuple = ()

    def _tagged(self) -> bool:
        return self.keys is not None and len(self.keys) > 1

    def bind(self, loop, name):
        t, args = self._bind_value()
        if self.outer:
            which = Value(np.dtype(np.int64), ())
            _link_outer(t, self.outer, which)
            args = args + [which]
        return t, args

    def _bind_value(self):
        v = self.bound = Value(self.dtype, self.shape)
        t = Tracer(v, weak=self.weak)
        if not self.carry:
            return t, [v]
        tag = Value(np.dtype(np.int64), ())
        kinds.apply(t, Tracer(tag), self.keys)
        self.bound_tag = tag
        return t, [v, tag]

    def n_values(self) -> int:
        return (2 if self.carry else 1) + bool(self.outer)

    def _entry_tag(self, e) -> Any:
        if self.zero_init or e is UNBOUND or isinstance(e, Undefined) or kinds.key_of(e) is None:
            return 0
        return kinds.tag_in(e, self.keys)

    def init_values(self, loop, name):
        values = self._init_value(loop, name)
        if self.outer:
            values.append(_outer_which(loop.entry[name], self.outer))
        return values

    def _init_value(self, loop, name):
        e = loop.entry[name]
        if self.zero_init or e is UNBOUND or isinstance(e, Undefined):
            v = sem.full(self.shape, 0, self.dtype).value
        else:
            v = sem.as_value(e, self.dtype)
            if tuple(v.shape) != self.shape:
                v = sem.broadcast_to(sem.wrap(v), self.shape).value
        if not self.carry:
            return [v]
        return [v, sem.as_value(self._entry_tag(e), np.int64)]

    def result_values(self, loop, body, exit_obj, raw=None):
        """(`raw`: what the name holds at the iteration's end, before
        control.materialize_views read it into an array of its own.)"""
        values = self._result_value(loop, body, exit_obj)
        if self.outer:
            st = ctx.state()
            saved, st.frame = st.frame, body.frame
            try:
                values.append(_outer_which(exit_obj if raw is None else raw, self.outer))
            finally:
                st.frame = saved
        return values

    def _result_value(self, loop, body, exit_obj):
        from .control import _results_in

        if not self._tagged():
            return _results_in(body.frame, [(exit_obj, self.dtype)])
        st = ctx.state()
        saved, st.frame = st.frame, body.frame
        try:
            tag = kinds.tag_in(exit_obj, self.keys)
        finally:
            st.frame = saved
        if not self.carry:
            self.exit_tag = tag
            return _results_in(body.frame, [(exit_obj, self.dtype)])
        values = _results_in(body.frame, [(exit_obj, self.dtype), (tag, np.int64)])
        if len(self.keys) == 2 and self.bound_tag is not None:
            saved, st.frame = st.frame, body.frame
            try:
                values[1] = kinds.as_reduction(body.frame.block, self.bound_tag, values[1])
            finally:
                st.frame = saved
        return values

    def after_loop(self, loop, name, outs):
        after = self._value_after_loop(loop, name, outs)
        if self.outer and is_tracer(after) and after.base is None:
            _link_outer(after, self.outer, outs[-1])
        if is_tracer(after):  # (a list this loop appended the name's last array to holds it: _segment)
            loop.__dict__.setdefault("arrays_after", {})[name] = after
        return after

    def _value_after_loop(self, loop, name, outs):
        if self.zero_init and not self.placeholder and not surely_runs(loop):
            # first assigned in a loop that may run zero times: as in Python, it may be unbound
            runs = loop.runs()
            if is_tracer(runs):  # bound where the loop ran (a read elsewhere raises UnboundLocalError)
                return MaybeBound(name, loop.loc, self._plain_after_loop(loop, name, outs), runs)
            if runs is False:  # no iteration, known while tracing
                return Undefined(name, loop.loc, certain=True)
            it = loop.it
            bounds = tuple(b for b in (it.start, it.stop, it.step) if is_tracer(b)) \
                if it is not None and loop.cond_fn is None else ()
            return Undefined(name, loop.loc, bounds)
        return self._plain_after_loop(loop, name, outs)

    def _plain_after_loop(self, loop, name, outs):
        out = Tracer(outs[0], weak=self.weak)
        if self._tagged():
            if self.carry:
                tag = Tracer(outs[1])
            elif self.zero_init or surely_runs(loop) or is_tracer(self.exit_tag):
                tag = self.exit_tag
            else:
                runs = loop.runs()
                if runs is None:
                    return out
                entry = self._entry_tag(loop.entry[name])
                tag = self.exit_tag if runs is True else entry if runs is False else \
                    sem.select(runs, kinds._int(self.exit_tag), kinds._int(entry))
            kinds.apply(out, tag, self.keys)
            kinds.exact_exit(out, loop.entry[name])  # an entry int the dtype rounds: refused where it is returned
        return out


def _link_outer(t: Tracer, outer: tuple, which: Value) -> None:
    """`t`'s array is the array of `outer[k]` where `which == k` (tracer/array.py
    `link`): writes through either reach the other there, and a returned `t`
    is that array (trace.py `_result_choices`)."""
    from .array import link

    for k, box in enumerate(outer):
        link(t._box, box, sem.ufunc("equal", Tracer(which), k).value, True)


def _outer_which(obj: Any, outer: tuple) -> Value:
    """Which of the boxes `outer` the array of `obj` is at run time (an int64:
    its position, -1 where it is none of them), from the roots its links
    choose (tracer/array.py `identity`)."""
    from .array import identity, live_component, traced_truth

    which: Any = sem.as_value(-1, np.int64)
    if not is_tracer(obj) or obj.base is not None or obj._box is None:
        return which
    live_component(obj._box)  # (drops the links no longer in force)
    at = {id(b): k for k, b in enumerate(outer)}
    for k, where in sorted(((at[r], w) for r, w in identity(obj._box, {}).items() if r in at), key=lambda p: p[0]):
        truth = traced_truth(where)
        if truth is None:
            return sem.as_value(k, np.int64)
        which = sem.select(truth, Tracer(sem.as_value(k, np.int64)), Tracer(which)).value
    return which


def outer_roots(obj: Any, spec: Any, outside: ctx.Frame) -> list:
    """The boxes of arrays defined outside a loop (visible in its frame
    `outside`) that `obj`, a name's array, may be at run time (its links'
    roots), of the dtype and shape `spec` carries; [] for a view or a value
    that is not an array."""
    from .array import identity, live_component

    if not is_tracer(obj) or obj.base is not None or obj._box is None or not (obj.ndim > 0 or obj.array0d):
        return []
    table = identity(obj._box, {}) if obj._box.links else {id(obj._box): None}
    boxes = live_component(obj._box) if obj._box.links else [obj._box]
    return [b for b in boxes if id(b) in table and ctx.visible(b.frame, outside)
            and b.value.dtype == spec.dtype and tuple(b.value.shape) == tuple(spec.shape)]


def surely_runs(loop) -> bool:
    """Does the loop run its body at least once, whatever the data?"""
    it = loop.it
    if loop.cond_fn is not None and it is None:  # a while loop: its condition a Python True at entry
        return loop.runs() is True
    return it is not None and loop.cond_fn is None and isinstance(it.static_len, numbers.Integral) \
        and it.static_len > 0


def carry_spec_for(name: str, entry: Any, live: bool, live_out: bool, loc) -> Spec:
    if isinstance(entry, NumberDict) and (live or live_out):
        return NumberDictSpec(list(entry), [carry_spec_for(f"{name}[{k!r}]", e, True, True, loc)
                                            for k, e in entry.items()])
    if isinstance(entry, NumberList) and (live or live_out):
        return NumberListSpec([carry_spec_for(f"{name}[{k}]", e, True, True, loc) for k, e in enumerate(entry)])
    if isinstance(entry, list) and all(_leafy(e) for e in entry):
        return ListSpec(entry, live_out)
    if isinstance(entry, LoopList) and (entry.spec.work or entry.spec.growable):
        # the work list (or growable buffer) of an enclosing loop: pushed and popped through its
        # buffer and count, which this loop carries as it carries any array it writes
        return AliasSpec()
    if isinstance(entry, LoopList):
        return ListSpec(entry)
    if (isinstance(entry, list) or type(entry) is collections.deque and entry.maxlen is None) and \
            all(_leafy(e) and not isinstance(e, Segment) or _number_tuple(e) for e in entry):
        # a work stack of tuples (`stack = [(0, n - 1)]`), or a deque (a queue): followed as lists are
        return ListSpec(entry, live_out)
    if isinstance(entry, list) and (live or live_out):
        # a list of tuples (a work stack `stack.append((lo, mid))`, popped in a `while stack:`): the
        # loop is traced once, so Python would change the list once, while tracing (a loop that never ended)
        from .containers import ChangedInLoop  # (containers imports this module)

        e = ChangedInLoop(f"list `{name}` holds {type(next(e for e in entry if not _leafy(e))).__name__}s "
                          "and changes in a traced loop; looptrace follows lists of numbers or arrays "
                          "there", loc, "keep a stack in arrays: `lo = np.empty(cap); top = 0`, push "
                          "with `lo[top] = v; top += 1`, pop with `top -= 1; v = lo[top]`")
        e.python_test = True  # (a while loop whose test Python answers runs as Python: control.while_)
        raise e
    if not live and not live_out:
        return TempSpec()
    if entry is NO_RETURN:
        return SlotSpec()
    if isinstance(entry, MaybeBound) and _leafy(entry.value) and not isinstance(entry.value, Segment):
        # bound on some paths before the loop (`if c: v = x[0] else: continue`, then a loop updating v):
        # value and flag carried from the start, the flag's check where the body reads it
        v = entry.value
        return BoundSpec(ValueSpec(sem.dtype_of(v), _shape_of(v), sem.is_weak(v), keys=kinds.keys_of(v),
                                   carry=kinds.kinds_of(v) is not None))
    if isinstance(entry, MaybeNone) and _leafy(entry.value):  # None on some paths before the loop
        return OptionalSpec(_value_spec(entry.value))
    if entry is UNBOUND or isinstance(entry, Undefined):
        return PendingSpec(live) if live_out or live else TempSpec()
    if isinstance(entry, tuple) and _tuple_leafy(entry):
        return TupleSpec([carry_spec_for(f"{name}[{k}]", e, True, True, loc) for k, e in enumerate(entry)])
    if isinstance(entry, (numbers.Number, np.generic)) and not isinstance(entry, bool) or \
            isinstance(entry, (bool, np.bool_)):
        return ValueSpec(sem.dtype_of(entry), np.shape(entry), sem.is_weak(entry), keys=kinds.keys_of(entry))
    return AliasSpec()


def _leafy(e: Any) -> bool:
    return is_tracer(e) or isinstance(e, (numbers.Number, np.ndarray, np.generic, Segment))


def _tuple_leafy(t: tuple) -> bool:
    return all(_tuple_leafy(e) if isinstance(e, tuple) else
               is_tracer(e) or isinstance(e, (numbers.Number, np.ndarray, np.generic)) for e in t)


class _SubLoop:
    """A loop seen from one element of a carried tuple: `entry` holds that
    element under the child's name; everything else is the loop's."""

    def __init__(self, loop, name: str, entry: Any):
        self._loop, self.entry = loop, {name: entry}

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._loop, attr)


class TupleSpec(Spec):
    """A tuple of arrays/numbers carried through a loop (`state = (h, c)`):
    each element carried by its own spec."""

    kind = "tuple"

    def __init__(self, children: list[Spec]):
        self.children = children

    def _parts(self, loop, name, obj=None):
        entry = loop.entry[name]
        for k, child in enumerate(self.children):
            e = entry[k] if isinstance(entry, tuple) else entry
            sub_name = f"{name}[{k}]"
            yield child, _SubLoop(loop, sub_name, e), sub_name, (obj[k] if obj is not None else None)

    def bind(self, loop, name):
        objs, vals = [], []
        for child, sub, sub_name, _ in self._parts(loop, name):
            o, v = child.bind(sub, sub_name)
            objs.append(o)
            vals += v
        return tuple(objs), vals

    def init_values(self, loop, name):
        return [v for child, sub, sub_name, _ in self._parts(loop, name) for v in child.init_values(sub, sub_name)]

    def result_values(self, loop, body, exit_obj):
        out = []
        for k, child in enumerate(self.children):
            out += child.result_values(loop, body, exit_obj[k])
        return out

    def n_values(self) -> int:
        return sum(c.n_values() for c in self.children)

    def after_loop(self, loop, name, outs):
        result, pos = [], 0
        for child, sub, sub_name, _ in self._parts(loop, name):
            k = child.n_values()
            result.append(child.after_loop(sub, sub_name, outs[pos:pos + k]))
            pos += k
        return tuple(result)

    def join(self, entry: Any, exit_obj: Any, name: str, loc) -> Spec:
        if not (isinstance(exit_obj, tuple) and len(exit_obj) == len(self.children)):
            after = f"a tuple of length {len(exit_obj)}" if isinstance(exit_obj, tuple) else \
                f"a {type(exit_obj).__name__}"
            raise UnsupportedError(f"loop variable `{name}` is a tuple of length {len(self.children)} "
                                   f"before the loop and {after} after an iteration; it must stay a "
                                   "tuple of the same length", loc)
        joined = [join_spec(c, entry[k] if isinstance(entry, tuple) else entry, exit_obj[k], f"{name}[{k}]", loc)
                  for k, c in enumerate(self.children)]
        if all(j is c for j, c in zip(joined, self.children)):
            return self
        return TupleSpec(joined)


class NumberList(list):
    """A list display of a few numbers the function writes at an index
    (`sums = [0.0, 0.0, 0.0]`, then `sums[k] += x[i]`; convert.py): carried
    through loops element by element (`NumberListSpec`), where a list a loop
    appends to is a stack."""


NUMBER_LIST_LIMIT = 16


def number_list(x: list) -> list:
    """`x` as a NumberList where it is a short list of numbers."""
    ok = len(x) <= NUMBER_LIST_LIMIT and all(
        (is_tracer(e) and e.ndim == 0) or isinstance(e, (int, float, np.number)) and not isinstance(e, (bool, np.bool_))
        for e in x)
    return NumberList(x) if ok else x


class NumberDict(dict):
    """A dict display of constant keys whose items the function updates
    (`stats = {"loss": 0.0, "n": 0}`, then `stats["loss"] += l`; convert.py):
    carried through loops item by item (`NumberDictSpec`)."""


def number_dict(x: dict) -> dict:
    """`x` as a NumberDict where it is a few numbers or arrays under constant keys."""
    ok = len(x) <= NUMBER_LIST_LIMIT and all(_leafy(e) for e in x.values())
    return NumberDict(x) if ok else x


class NumberDictSpec(TupleSpec):
    """A NumberDict carried through a loop: each item by its own spec."""

    kind = "number-dict"

    def __init__(self, keys: list, children: list[Spec]):
        super().__init__(children)
        self.keys = keys

    def _parts(self, loop, name, obj=None):
        entry = loop.entry[name]
        for key, child in zip(self.keys, self.children):
            sub_name = f"{name}[{key!r}]"
            yield child, _SubLoop(loop, sub_name, entry[key]), sub_name, (obj[key] if obj is not None else None)

    def bind(self, loop, name):
        objs, vals = super().bind(loop, name)
        return NumberDict(zip(self.keys, objs)), vals

    def result_values(self, loop, body, exit_obj):
        return super().result_values(loop, body, [exit_obj[k] for k in self.keys])

    def after_loop(self, loop, name, outs):
        return NumberDict(zip(self.keys, super().after_loop(loop, name, outs)))

    def join(self, entry: Any, exit_obj: Any, name: str, loc) -> Spec:
        if not (isinstance(exit_obj, dict) and list(exit_obj) == self.keys):
            raise UnsupportedError(f"dict `{name}`, whose items this loop changes, must keep its keys "
                                   f"({', '.join(map(repr, self.keys))})", loc)
        joined = [join_spec(c, entry[k], exit_obj[k], f"{name}[{k!r}]", loc) for k, c in zip(self.keys, self.children)]
        if all(j is c for j, c in zip(joined, self.children)):
            return self
        return NumberDictSpec(self.keys, joined)


class NumberListSpec(TupleSpec):
    """A NumberList carried through a loop: each element by its own spec."""

    kind = "number-list"

    def _parts(self, loop, name, obj=None):
        entry = loop.entry[name]
        for k, child in enumerate(self.children):
            sub_name = f"{name}[{k}]"
            yield child, _SubLoop(loop, sub_name, entry[k]), sub_name, (obj[k] if obj is not None else None)

    def bind(self, loop, name):
        objs, vals = super().bind(loop, name)
        return NumberList(objs), vals

    def after_loop(self, loop, name, outs):
        return NumberList(super().after_loop(loop, name, outs))

    def join(self, entry: Any, exit_obj: Any, name: str, loc) -> Spec:
        if not (isinstance(exit_obj, list) and len(exit_obj) == len(self.children)):
            raise UnsupportedError(f"list `{name}` of {len(self.children)} numbers, written at an index in "
                                   "this loop, must keep its length", loc)
        joined = [join_spec(c, entry[k], exit_obj[k], f"{name}[{k}]", loc) for k, c in enumerate(self.children)]
        if all(j is c for j, c in zip(joined, self.children)):
            return self
        return NumberListSpec(joined)


class ListCarrySpec(NumberListSpec):
    """A list of arrays or numbers that each iteration replaces by another of
    the same length (ListSpec._as_carry): carried element by element, a list
    again inside the body and after the loop."""

    kind = "list-carry"

    def bind(self, loop, name):
        objs, vals = TupleSpec.bind(self, loop, name)
        return list(objs), vals

    def after_loop(self, loop, name, outs):
        return list(TupleSpec.after_loop(self, loop, name, outs))

    def join(self, entry: Any, exit_obj: Any, name: str, loc) -> Spec:
        if not (isinstance(exit_obj, list) and not isinstance(exit_obj, LoopList)
                and len(exit_obj) == len(self.children)):
            raise UnsupportedError(f"list `{name}` of {len(self.children)} items, reassigned in this loop, must "
                                   "stay a list of that length (a list display of the same items each "
                                   "iteration)", loc)
        joined = [join_spec(c, entry[k], exit_obj[k], f"{name}[{k}]", loc) for k, c in enumerate(self.children)]
        if all(j is c for j, c in zip(joined, self.children)):
            return self
        return ListCarrySpec(joined)


class PendingSpec(Spec):
    """A name first assigned inside the loop and used after it: its type is
    learned from the first round; it starts as zeros."""

    kind = "pending"

    def __init__(self, live: bool = False):
        # read in the body before it is assigned on some path (`if i == 0: prev = x[0]`, then
        # `d = x[i] - prev; prev = x[i]`): carried with a flag, whether it is assigned (BoundSpec)
        self.live = live

    def bind(self, loop, name):
        return Undefined(name, loop.loc, peel=True), []


class SlotSpec(Spec):
    """The function's return slot before any `return` (tracer/returns.py): its
    type is learned from the `return` in the body; until then, and on paths
    that have not returned, it holds zeros (the return flag guards it)."""

    kind = "slot"

    def bind(self, loop, name):
        return NO_RETURN, []

    def after_loop(self, loop, name, outs):
        return NO_RETURN

    def join(self, exit_obj: Any, loc) -> Spec:
        if exit_obj is NO_RETURN:
            return self
        if exit_obj is None:
            return NoneSpec()
        if isinstance(exit_obj, tuple) and _tuple_leafy(exit_obj):
            return TupleSpec([_slot_value(e) for e in exit_obj])
        for k, e in enumerate(exit_obj if isinstance(exit_obj, tuple) else ()):
            if not isinstance(e, tuple):  # the element that is no array names the problem
                _check_array_like(e, f"the returned value's element {k}", loc)
        _check_array_like(exit_obj, "the returned value", loc)
        return _slot_value(exit_obj)


def _slot_value(x: Any) -> "ValueSpec":
    if isinstance(x, tuple):
        return TupleSpec([_slot_value(e) for e in x])
    return ValueSpec(sem.dtype_of(x), _shape_of(x), sem.is_weak(x), zero_init=True, placeholder=True,
                     keys=kinds.keys_of(x, check=False), carry=kinds.kinds_of(x, check=False) is not None)


class NoneSpec(Spec):
    """The return slot after a bare `return` (the function returns None)."""

    kind = "none"

    def bind(self, loop, name):
        return None, []

    def after_loop(self, loop, name, outs):
        return None

    def join(self, exit_obj: Any, loc) -> Spec:
        if exit_obj is None:
            return self
        raise UnsupportedError("this function returns None on one path and a value on another, chosen "
                               "by a traced condition in this loop; return the same kind of value", loc)


def join_spec(spec: Spec, entry: Any, exit_obj: Any, name: str, loc) -> Spec:
    """The spec for the next round, or `spec` itself if this round fits."""
    if isinstance(spec, (SlotSpec, NoneSpec)):
        return spec.join(exit_obj, loc)
    if isinstance(spec, ListSpec):
        return spec.join(exit_obj, name, loc)
    if isinstance(spec, TempSpec):
        return spec
    if isinstance(spec, TupleSpec):
        return spec.join(entry, exit_obj, name, loc)
    if isinstance(spec, BoundSpec):
        value = spec._parts(exit_obj)[0]
        if isinstance(value, Undefined) or value is UNBOUND:
            return spec
        inner = _join_value(spec.inner, value, name, loc)
        return spec if inner is spec.inner else type(spec)(inner)
    if isinstance(exit_obj, MaybeNone) or exit_obj is None and (is_tracer(entry) or isinstance(spec, ValueSpec)):
        optional = _optional_spec(spec, entry, exit_obj, name, loc)
        if optional is not None:
            return optional
    if isinstance(spec, PendingSpec):
        if isinstance(exit_obj, MaybeBound) and _leafy(exit_obj.value) and not isinstance(exit_obj.value, Segment):
            v = exit_obj.value
            _check_array_like(v, name, loc)
            return BoundSpec(ValueSpec(sem.dtype_of(v), _shape_of(v), sem.is_weak(v), zero_init=True,
                                       placeholder=True, keys=kinds.keys_of(v, check=False),
                                       carry=kinds.kinds_of(v, check=False) is not None))
        if isinstance(exit_obj, Undefined):
            return TempSpec()
        if isinstance(exit_obj, tuple) and _tuple_leafy(exit_obj):
            return TupleSpec([join_spec(PendingSpec(spec.live), UNBOUND, e, f"{name}[{k}]", loc)
                              for k, e in enumerate(exit_obj)])
        _check_array_like(exit_obj, name, loc)
        value = ValueSpec(sem.dtype_of(exit_obj), _shape_of(exit_obj), sem.is_weak(exit_obj), zero_init=True,
                          keys=kinds.keys_of(exit_obj, check=False),
                          carry=kinds.kinds_of(exit_obj, check=False) is not None)
        if spec.live and _leafy(exit_obj) and not isinstance(exit_obj, Segment):
            value.placeholder = True
            return BoundSpec(value)
        return value
    if isinstance(spec, AliasSpec):
        if exit_obj is entry:
            return spec
        if is_tracer(entry) and not isinstance(exit_obj, Undefined):
            _check_array_like(exit_obj, name, loc)
            return join_spec(ValueSpec(entry.dtype, entry.shape, entry.weak, keys=kinds.keys_of(entry),
                                       carry=kinds.kinds_of(entry) is not None), entry, exit_obj, name, loc)
        if isinstance(entry, np.ndarray) and entry.dtype.kind in "biufc" and not isinstance(exit_obj, Undefined):
            # a concrete array (a constant of this trace) that the loop replaces
            _check_array_like(exit_obj, name, loc)
            return join_spec(ValueSpec(entry.dtype, entry.shape, False), entry, exit_obj, name, loc)
        if isinstance(exit_obj, Undefined):
            return spec
        if entry is None and (_leafy(exit_obj) or isinstance(exit_obj, tuple) and _tuple_leafy(exit_obj)):
            raise NoneBeforeLoop(name, loc)
        raise UnsupportedError(f"loop variable `{name}` is set to a new {type(exit_obj).__name__} "
                               "inside a traced loop; only arrays and numbers can change there", loc)
    if isinstance(spec, ValueSpec):
        return _join_value(spec, exit_obj, name, loc, entry)
    return spec


class BoundSpec(Spec):
    """A name the body assigns on some paths only (values.MaybeBound): its
    value (a ValueSpec, zeros until assigned) and a bool flag, whether it is
    assigned, carried together; after the loop a MaybeBound again (the
    for/else search: `r = i; break` in the body, `else: r = -1`)."""

    kind = "bound"

    def __init__(self, inner: "ValueSpec"):
        self.inner = inner

    def _parts(self, x: Any) -> tuple[Any, Any]:
        if isinstance(x, MaybeBound):
            return x.value, x.flag
        if x is UNBOUND or isinstance(x, Undefined):
            return UNBOUND, False
        return x, True

    def bind(self, loop, name):
        value, vals = self.inner.bind(_SubLoop(loop, name, self._parts(loop.entry[name])[0]), name)
        flag = Value(np.dtype(np.bool_), ())
        return MaybeBound(name, loop.loc, value, Tracer(flag, weak=True)), vals + [flag]

    def init_values(self, loop, name):
        value, flag = self._parts(loop.entry[name])
        vals = self.inner.init_values(_SubLoop(loop, name, value), name)
        return vals + [sem.as_value(flag, np.bool_)]

    def result_values(self, loop, body, exit_obj):
        from .control import _results_in

        value, flag = self._parts(exit_obj)
        if value is UNBOUND:  # (unassigned on this path: zeros, the flag says so)
            from .merge import Placeholder

            value = Placeholder(self.inner.dtype, self.inner.shape, self.inner.weak)
        vals = self.inner.result_values(loop, body, value)
        return vals + _results_in(body.frame, [(flag, np.dtype(np.bool_))])

    def n_values(self) -> int:
        return self.inner.n_values() + 1

    def after_loop(self, loop, name, outs):
        value = self.inner.after_loop(_SubLoop(loop, name, UNBOUND), name, outs[:-1])
        return MaybeBound(name, loop.loc, value, Tracer(outs[-1], weak=True))


class OptionalSpec(BoundSpec):
    """A name that may be None (values.MaybeNone): its value (zeros where it
    is None) and a bool flag, whether it is not None, carried together, as a
    BoundSpec carries a name that may be unassigned."""

    kind = "optional"

    def _parts(self, x: Any) -> tuple[Any, Any]:
        if isinstance(x, MaybeNone):
            return x.value, x.flag
        return (UNBOUND, False) if x is None else (x, True)

    def bind(self, loop, name):
        value, vals = self.inner.bind(_SubLoop(loop, name, self._parts(loop.entry[name])[0]), name)
        flag = Value(np.dtype(np.bool_), ())
        return MaybeNone(Tracer(flag, weak=True), value, name), vals + [flag]

    def after_loop(self, loop, name, outs):
        value = self.inner.after_loop(_SubLoop(loop, name, UNBOUND), name, outs[:-1])
        return MaybeNone(Tracer(outs[-1], weak=True), value, name)


def _optional_spec(spec: Spec, entry: Any, exit_obj: Any, name: str, loc) -> OptionalSpec | None:
    """None where the body's traced `if` chose it (`found = None` before the
    loop, `found = i` under a traced condition), or a value the body may set
    to None: value and flag (OptionalSpec); None for any other entry."""
    value = exit_obj.value if isinstance(exit_obj, MaybeNone) else None
    if isinstance(spec, AliasSpec) and is_tracer(entry):
        spec = _value_spec(entry)
    if isinstance(spec, ValueSpec):
        return OptionalSpec(spec if value is None else _join_value(spec, value, name, loc, entry))
    if isinstance(spec, AliasSpec) and entry is None:
        _check_array_like(value, name, loc)
        return OptionalSpec(_value_spec(value, pending=True))
    return None


def _value_spec(v: Any, pending: bool = False) -> "ValueSpec":
    """The ValueSpec of an OptionalSpec's value `v`; `pending`: zeros before the loop (it starts None)."""
    return ValueSpec(sem.dtype_of(v), _shape_of(v), sem.is_weak(v), zero_init=pending, placeholder=pending,
                     keys=kinds.keys_of(v, check=False), carry=kinds.kinds_of(v, check=False) is not None)


class NoneBeforeLoop(UnsupportedError):  # (and UnboundBeforeLoop below)
    """A name that is None before a loop and a number or array after its first
    iteration (`best = None`, then `if best is None or v > best: best = v`).
    control.for_ runs the first iteration on its own where it can (peel)."""

    def __init__(self, name: str, loc):
        super().__init__(
            f"`{name}` is None before this loop and a number or array after an iteration; looptrace runs "
            "the first iteration on its own for that, which it can only do in a `for` loop whose number of "
            "iterations is known while tracing (a range of ints, or an array's rows)", loc,
            f"give `{name}` its type before the loop (`{name} = -np.inf`, `{name} = x[0]`)")
        self.name = name


class LastOverruns(UnsupportedError):
    """The last `count` iterations of a counted loop take a slice past the end
    of its axis that NumPy shortens (windows.check_fits): control._run_peeling
    runs them on their own, with static starts."""

    def __init__(self, loop, count: int, loc):
        super().__init__("a slice of this loop's last iterations runs past the end of its axis", loc)
        self.loop, self.count = loop, count


class UnboundBeforeLoop(NoneBeforeLoop):
    """A name unassigned before a loop that its body reads before assigning
    in some iteration (`if i == 0: acc = x[0] else: acc = 0.5 * acc + x[i]`):
    control.for_ runs the first iteration on its own too, after which it is
    assigned (or that iteration raises, as Python does)."""

    def __init__(self, name: str, loc):
        UnsupportedError.__init__(
            self, f"`{name}` is read in this loop before it is assigned, so it must be assigned in the first "
            "iteration; looptrace runs that iteration on its own for that, which it can only do in a `for` "
            "loop whose number of iterations is known while tracing", loc,
            f"assign `{name}` before the loop")
        self.name = name


class ShapeChange(ShapeError):
    """A loop variable whose shape an iteration changes (`a = a[::2] + a[1::2]`):
    a traced loop has one shape per variable; control.py runs a short loop whose
    length is known while tracing as Python instead (unrolled)."""


def _join_value(spec: ValueSpec, exit_obj: Any, name: str, loc, entry: Any = None) -> ValueSpec:
    """A value carried through one more round: dtypes promote, shapes may grow."""
    if isinstance(exit_obj, Undefined):
        raise TraceError(f"`{name}` may be unassigned at the end of the loop body", loc)
    _check_array_like(exit_obj, name, loc)
    shape = _shape_of(exit_obj)
    if any(isinstance(d, Dim) for d in (*spec.shape, *shape)):  # a list's array, grown under a condition
        from .array import runtime_length_error

        raise runtime_length_error(f"carrying `{name}` through a loop (or returning it from one)")
    try:
        joined_shape = np.broadcast_shapes(spec.shape, shape)
    except ValueError:
        raise ShapeChange(f"`{name}` has shape {spec.shape} before the loop and {shape} after an "
                          "iteration; a loop variable must keep its shape", loc) from None
    if tuple(joined_shape) != tuple(shape):
        # a value that grows (0.0, then a vector) is carried at its larger shape;
        # one that shrinks would leave the loop at a shape Python never gives it
        raise ShapeChange(f"`{name}` has shape {spec.shape} before the loop and {shape} after an "
                          "iteration; a loop variable may grow by broadcasting but not shrink",
                          loc, f"give `{name}` its loop shape before the loop "
                          f"(for example `{name} = np.zeros({shape})`)")
    # NEP 50: a weak (Python) side takes part as a Python value
    a = sem.WEAK_TYPES[spec.dtype.kind](0) if spec.weak else spec.dtype
    b = sem.weak_type(exit_obj)(0) if sem.is_weak(exit_obj) else sem.dtype_of(exit_obj)
    dtype = np.result_type(a, b)
    weak = spec.weak and sem.is_weak(exit_obj)
    exit_keys = kinds.keys_of(exit_obj, check=False)
    keys = kinds.union(spec.keys, exit_keys) if spec.keys is not None and exit_keys is not None else None
    carry = spec.carry or kinds.kinds_of(exit_obj, check=False) is not None
    if tuple(joined_shape) == () and carry:
        dtype = kinds.holding(dtype, keys, (entry,))  # a Python float a float32 add may change: kept exact
    if dtype == spec.dtype and weak == spec.weak and tuple(joined_shape) == spec.shape and keys == spec.keys \
            and carry == spec.carry:
        return spec
    joined = ValueSpec(dtype, joined_shape, weak, spec.zero_init, spec.placeholder, keys, carry)
    joined.outer = spec.outer if tuple(joined_shape) == spec.shape and dtype == spec.dtype else ()
    return joined


def _check_array_like(x: Any, name: str, loc) -> None:
    from .masked import is_selection

    if is_selection(x):  # x[mask], x[:t]: its length is needed past the loop
        x.escaped()
    if isinstance(x, Unbound):  # (`del t` in the body, or t assigned on one side of a traced `if` only)
        raise UnsupportedError(f"loop variable `{name}` is unbound at the end of an iteration on some path "
                               f"(deleted with `del {name}`, or assigned only under a condition on a traced "
                               "value): looptrace carries each variable a traced loop changes from one "
                               "iteration to the next, and cannot carry one that may be unbound", loc,
                               f"assign `{name}` on every path (`{name} = 0.0` before the `if`) instead of "
                               f"deleting it")
    if not (is_tracer(x) or isinstance(x, (numbers.Number, np.ndarray, np.generic))):
        raise UnsupportedError(f"loop variable `{name}` holds {_a(type(x).__name__)}; only arrays and "
                               "numbers can change inside a traced loop", loc)


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _shape_of(x: Any) -> tuple:
    return tuple(x.shape) if is_tracer(x) else np.shape(x)


def spec_leaves(*a):  # kept for the pytree extension
    raise NotImplementedError


spec_rebuild = spec_leaves


# --- lists ------------------------------------------------------------------------------------------
class LoopList:
    """Stands for a Python list inside a loop body; records appends."""

    def __init__(self, spec: "ListSpec", frame: ctx.Frame):
        self.spec = spec
        self.frame = frame
        self.segments: list[Value] = []
        self.in_branch = False
        self.nested = False  # appended to in a loop nested in this one: a growable buffer
        # (array appended, its value then, its value at the iteration's start if a loop variable holds it)
        self.watched: list = []

    def check_aliases(self, name: str) -> None:
        """An appended array that is written in place afterwards (later in the
        iteration, or in the next one: a loop variable's array written in
        place, appended every iteration) is one object the plain list holds
        several times, every entry showing its last contents; the stack holds
        the values at each append."""
        for v, val, start, loc in self.watched:
            if v.base is not None:  # a view (`rows.append(X[i])`): written where its root array is
                # (its own value re-derived here would read the loop's index outside the iteration)
                # (written anywhere in the body, before the append or after: an iteration's write may
                # change a row an earlier one appended, `X[:] *= 2`)
                body = getattr(self.loop, "last_body", None)
                cap = body.frame.captured.get(id(v.base._box)) if body is not None else None
                if cap is not None and body.box_exits.get(id(v.base._box), cap[2]) is cap[2]:
                    self.spec.held.append((v.base, loc))  # (its root, unchanged by the loop)
                if cap is not None and body.box_exits.get(id(v.base._box), cap[2]) is not cap[2]:
                    raise UnsupportedError(
                        f"`{name}.append(...)` appends a view of an array that this loop writes in place: plain "
                        "Python's list holds views that show the array's final contents, looptrace's the values "
                        "at each append", loc, "append a copy (`.copy()`)")
                continue
            body = getattr(self.loop, "last_body", None)
            cap = body.frame.captured.get(id(v._box)) if body is not None and v._box is not None else None
            if cap is not None:  # an array from before the loop (its box holds the entry value again here)
                end, start = body.box_exits.get(id(v._box), cap[2]), cap[2]
                if end is val is start:  # not written in the loop: the list holds it, unchanged
                    self.spec.held.append((v, loc))
            else:  # made in the body, or a loop variable's array (its box the body's)
                end = v._box.value if v._box is not None else v.value
                if body is not None:  # the last iteration's array, still a name's after the loop
                    self.spec.held_names += [(n, loc) for n, raw in zip(self.loop.names, body.raw_exits)
                                             if raw is v]
            if end is not val or start is not None and val is not start:
                raise UnsupportedError(
                    f"`{name}.append(...)` appends an array that is written in place afterwards: plain Python's "
                    "list holds that one array (every entry shows its final contents), looptrace's the values "
                    "at each append", loc,
                    "append a copy (`.copy()`) if the values at each append are meant, or stack the final "
                    "array after the loop")

    def append(self, v: Any) -> "LoopList":
        spec = self.spec
        spec.loc = spec.loc or ctx.current_loc()
        fields = _tuple_fields(v)
        if fields is not None:
            if spec.field_seen is not None and len(spec.field_seen) != fields:
                raise UnsupportedError("a list appended to in a loop gets tuples of different lengths",
                                       ctx.current_loc(), "append one kind of value")
            spec.field_seen = worklists.observe(spec.field_seen, v)
        if spec.columns is not None:
            return self._append_item(v, fields)
        val = sem.as_value(v)
        spec.observe(val, all(sem.is_weak(e) and np.ndim(e) == 0 for e in (v if fields else (v,))), fields)
        spec.mixed = spec.mixed or _mixed(v)
        if is_tracer(v) and v.ndim and v.base is not None:  # a view: its root's value now (check_aliases)
            self.watched.append((v, v.base.value, None, ctx.current_loc()))
        elif is_tracer(v) and v.ndim:
            start = getattr(self.loop, "bound_values", {}).get(id(v))
            self.watched.append((v, val, start[1] if start is not None and start[0] is v else None,
                                 ctx.current_loc()))
        if ctx.state().frame is self.frame:
            spec.every_iteration = True  # (an append no branch holds: every iteration makes it)
        else:
            spec.conditional = True
        self.nested = self.nested or _in_nested_loop(self.frame)
        if spec.mode == "stack":
            if ctx.state().frame is not self.frame:
                self.in_branch = True
            self.segments.append(sem.expand_dims(sem.wrap(val), 0).value)
        else:
            from .indexing import setitem

            if spec.growable:
                spec.write_rows(ctx.emit1(prim("reshape"), [sem.as_value(val, spec.elem[0])],
                                          shape=(1,) + tuple(val.shape)))
            else:
                setitem(spec.buffer, spec.count, sem.wrap(val))
            spec.count.assign(sem.ufunc("add", spec.count, 1).value)
        spec.appends_this_round += 1
        return self

    def _append_item(self, v: Any, fields: int | None) -> "LoopList":
        """An append to a work list of tuples: each field into its column
        (worklists.py), room made first; a wider type retypes the columns
        (the next round)."""
        spec = self.spec
        if fields != spec.fields:
            raise UnsupportedError("a list appended to in a loop gets tuples and other values, or tuples of "
                                   "different lengths", ctx.current_loc(), "append one kind of value")
        if worklists.widens(spec, v):
            spec.retype = True
        if ctx.state().frame is self.frame:
            spec.every_iteration = True
        worklists.reserve(spec, 1)
        worklists.write(spec, spec.count, v)
        spec.count.assign(sem.ufunc("add", spec.count, 1).value)
        spec.appends_this_round += 1
        return self

    def __getitem__(self, k: Any) -> Any:
        """`lst[k]` inside the loop that appends to it: an item it held before
        the loop at a constant index (while nothing pops it), else a read of
        the work buffer at the run-time position (`stack[-1]`), checked."""
        spec = self.spec
        if isinstance(k, slice) or not (isinstance(k, numbers.Integral) or is_tracer(k) and k.ndim == 0
                                        and k.dtype.kind in "biu"):
            raise UnsupportedError("reading a list that a traced loop appends to, inside that loop, is supported "
                                   "at one integer index (`stack[-1]`), not a slice or array", ctx.current_loc(),
                                   "keep the values you need in variables of their own")
        prefix = self._entry_items()
        if not spec.work and not spec.reads and isinstance(k, numbers.Integral) and 0 <= k < len(prefix):
            return prefix[k]  # (appends leave it where it is; a pop in this loop makes the list a buffer)
        self._mark_read()
        if not spec.work:
            return self._stand_in()
        return self._row(self._position(k, f"{self._kind()} index out of range"))

    def _position(self, k: Any, message: str) -> Any:
        """The buffer row of Python index k (negative from the end), behind a
        check that raises IndexError(message) where k is out of range."""
        spec, n = self.spec, self.length()
        if isinstance(k, numbers.Integral):
            pos = sem.ufunc("add", spec.count, k) if k < 0 else self._at_head(k)
            if self._surely_holds(k):
                return pos
        else:
            pos = sem.select(sem.ufunc("less", k, 0), sem.ufunc("add", spec.count, k), self._at_head(k))
        bad = sem.ufunc("logical_or", sem.ufunc("less", k, sem.ufunc("negative", n)),
                        sem.ufunc("greater_equal", k, n))
        self._check(bad, IndexError(message))
        return pos

    def _surely_holds(self, k: int) -> bool:
        """Does the list hold item k (a Python int) here in every iteration? A
        list that every iteration appends to alike holds, in the first, its
        items from before the loop and this iteration's appends so far, and
        more in later ones: hs[-1] after an append, or of a list that held
        one item, needs no run-time check."""
        spec = self.spec
        if not (isinstance(spec.fixed, tuple) and spec.fixed[3]) or spec.head is not None:
            return False
        least = spec.fixed[0] + spec.appends_this_round
        return -least <= k < least

    def __setitem__(self, k: Any, v: Any) -> None:
        """`lst[k] = v` (and `lst[-1] += v`) inside the loop that appends to
        it: the list is a work buffer (as for a read at a run-time position),
        row k written at run time, IndexError out of range as Python's. A
        value of a wider type than the buffer's widens it (the next round)."""
        spec = self.spec
        if isinstance(k, slice) or not (isinstance(k, numbers.Integral) or is_tracer(k) and k.ndim == 0
                                        and k.dtype.kind in "biu"):
            raise UnsupportedError("assigning into a list that a traced loop appends to, inside that loop, is "
                                   "supported at one integer index (`lst[-1] = v`), not a slice or array",
                                   ctx.current_loc(), "keep the values you change in variables of their own")
        fields = _tuple_fields(v)
        if not (_leafy(v) and not isinstance(v, Segment) or fields is not None):
            raise UnsupportedError("assigning into a list that a traced loop appends to, inside that loop, is "
                                   "supported for numbers, arrays and tuples of numbers", ctx.current_loc())
        self._mark_read()
        if not spec.work:
            if fields is not None:
                spec.field_seen = worklists.observe(spec.field_seen, v)
            return  # (the round that makes it a work list: traced again)
        if spec.columns is not None:
            if fields != spec.fields:
                raise UnsupportedError("a value other than a tuple of the list's length assigned into a list of "
                                       "tuples, in the loop that appends to it", ctx.current_loc())
            spec.field_seen = worklists.observe(spec.field_seen, v)
            if worklists.widens(spec, v):
                spec.retype = True
            worklists.write(spec, self._position(k, "list assignment index out of range"), v)
            return
        val = sem.as_value(v)
        spec.observe(val, all(sem.is_weak(e) and np.ndim(e) == 0 for e in (v if fields else (v,))), fields)
        if is_tracer(v) and v.ndim:
            self.watched.append((v, val, None, ctx.current_loc()))
        pos = self._position(k, "list assignment index out of range")
        dtype, shape = spec.buffer.dtype, tuple(spec.buffer.shape[1:])
        if tuple(val.shape) != shape:
            raise UnsupportedError(f"a value of shape {tuple(val.shape)} assigned into a list of items of shape "
                                   f"{shape}, in the loop that appends to it", ctx.current_loc())
        row = ctx.emit1(prim("reshape"), [sem.as_value(sem.wrap(val), dtype)], shape=(1,) + shape)
        spec.buffer.assign(ctx.emit1(prim("dynamic_update_slice"), [spec.buffer.value, row,
                                                                     sem.as_value(pos, np.int64)]))

    def length(self) -> Any:
        """len() of the list inside the loop that appends to it: the items it
        held before the loop plus the buffer's count (a traced int), or a work
        list's count less its head. The first round of the loop, before the
        list is a buffer, makes it one (`in_branch`) and gives a stand-in of
        the count's type."""
        spec = self.spec
        if spec.work:
            n = sem.ufunc("subtract", spec.count, spec.head) if spec.head is not None else spec.count
            return Tracer(sem.as_value(n, np.int64), weak=True)
        before = sum(1 for e in spec.entry if not isinstance(e, Segment)) if isinstance(spec.entry, list) else 0
        if isinstance(spec.entry, list) and any(isinstance(e, Segment) for e in spec.entry):
            # what an earlier loop appended, and this loop's count: a work list from the next round on
            self._mark_read()
            return Tracer(ctx.emit1(prim("add"), [sem.as_value(0, np.int64), sem.as_value(0, np.int64)]),
                          weak=True)
        if any(isinstance(e, Segment) for e in (spec.entry if isinstance(spec.entry, list) else ())):
            raise UnsupportedError("len() of a list inside a loop that appends to it, where an earlier loop "
                                   "appended to it too", ctx.current_loc(), "count the appends in a variable")
        if spec.mode != "buffer":
            self.in_branch = True  # (join makes it a buffer, whose count the next round reads)
            return Tracer(ctx.emit1(prim("add"), [sem.as_value(0, np.int64), sem.as_value(before, np.int64)]),
                          weak=True)
        n = sem.ufunc("add", spec.count, before) if before else spec.count
        return Tracer(sem.as_value(n, np.int64), weak=True)

    def pop(self, *index) -> Any:
        """`stack.pop()` (the last item) or `q.pop(0)` (the first: a queue)
        inside the loop that appends: IndexError where it is empty, as Python's."""
        if self._is_deque():
            if index:
                raise TypeError(f"pop() takes no arguments ({len(index)} given)")
            return self._take(front=False)
        if len(index) > 1:
            raise TypeError(f"pop expected at most 1 argument, got {len(index)}")
        k = index[0] if index else -1
        if is_tracer(k) or not isinstance(k, numbers.Integral) or k not in (0, -1):
            raise UnsupportedError("pop(i) of a list that a traced loop appends to, inside that loop, is supported "
                                   "for pop() (a stack) and pop(0) (a queue) only", ctx.current_loc(),
                                   "read the item with lst[i] and keep a mark of the items removed")
        return self._take(front=k == 0)

    def popleft(self) -> Any:
        if not self._is_deque():
            raise AttributeError("'list' object has no attribute 'popleft'")
        return self._take(front=True)

    def __iadd__(self, items: Any) -> "LoopList":
        """`lst += items`: each item appended in order, as Python's list
        extends itself by any iterable (a display, a generator, an array's rows)."""
        try:
            items = list(items)
        except TypeError:
            raise TypeError(f"'{type(items).__name__}' object is not iterable") from None
        for v in items:
            self.append(v)
        return self

    _REFUSED = frozenset(("extend", "insert", "remove", "clear", "reverse", "sort", "appendleft", "extendleft",
                          "rotate"))

    def __getattr__(self, name: str) -> Any:
        if name in LoopList._REFUSED:
            raise UnsupportedError(f"`.{name}()` of a list that a traced loop appends to, inside that loop, is not "
                                   "supported", ctx.current_loc(), "append, pop(), pop(0) and lst[i] are")
        raise AttributeError(name)

    # --- a work stack or queue --------------------------------------------------------------
    def _is_deque(self) -> bool:
        return isinstance(self.spec.entry, collections.deque)

    def _kind(self) -> str:
        return "deque" if self._is_deque() else "list"

    def _entry_items(self) -> list:
        entry = self.spec.entry
        if not isinstance(entry, (list, collections.deque)):
            return []
        items = []
        for e in entry:
            if isinstance(e, Segment):
                break
            items.append(e)
        return items

    def _mark_read(self) -> None:
        """A pop or a read at a run-time position: the list is a work list from
        the next round on. A loop nested in the one that appends reaches that
        loop's list (its entry): that list is marked."""
        if isinstance(self.spec.entry, LoopList):
            outer = self.spec.entry
            outer._mark_read()
            outer.nested = True
            return
        if not isinstance(self.spec.entry, (list, collections.deque)):
            raise UnsupportedError("pop() or a read of a list inside a loop that appends to it is supported for "
                                   "a list (or deque) of numbers, arrays or tuples of numbers",
                                   ctx.current_loc())
        self.spec.reads = True  # (the spec's: a read in a while loop's test counts too)
        self.spec.read_loc = self.spec.read_loc or ctx.current_loc()

    def _take(self, front: bool) -> Any:
        spec = self.spec
        spec.uneven = True
        self._mark_read()
        if front and not isinstance(spec.entry, LoopList):
            spec.front = True
        if not spec.work:
            return self._stand_in()
        if front and spec.head is None:  # (a round saw no pop at the front: join makes a queue of it)
            return self._stand_in()
        n = self.length()
        empty = "pop from an empty deque" if self._is_deque() else "pop from empty list"  # (Python's words)
        self._check(sem.ufunc("less_equal", n, 0), IndexError(empty))
        if front:
            pos = sem.wrap(spec.head.value)  # (the box itself would read the new head)
            spec.head.assign(sem.ufunc("add", pos, 1).value)
        else:
            pos = sem.ufunc("subtract", spec.count, 1)
            spec.count.assign(pos.value)
        return self._row(pos)

    def _at_head(self, k: Any) -> Any:
        head = self.spec.head
        return sem.ufunc("add", head, k) if head is not None else k

    @staticmethod
    def _check(bad: Any, exc: BaseException) -> None:
        from .checks import emit_check

        emit_check(bad, exc)

    def _row(self, pos: Any) -> Any:
        """The item at run-time row `pos` of the work buffer (the caller
        checked it is one of the list's)."""
        spec = self.spec
        if spec.columns is not None:
            return worklists.read(spec, pos)
        row = ctx.emit1(prim("dynamic_slice"), [spec.buffer.value, sem.as_value(pos, np.int64)], sizes=(1,))
        return self._row_item(sem.wrap(ctx.emit1(prim("reshape"), [row], shape=tuple(row.shape[1:]))))

    def _row_item(self, item: Tracer) -> Any:
        """A row of the one buffer as the list's item (a Python number where
        Python numbers were appended)."""
        spec = self.spec
        if spec.fields is not None:
            return tuple(Tracer(sem.as_value(item[j]), weak=spec.weak) for j in range(spec.fields))
        return Tracer(item.value, weak=bool(spec.weak) and item.ndim == 0)

    def _stand_in(self) -> Any:
        """An item of the list's type, for the round that makes it a work
        list (its values are never used: the loop is traced again)."""
        items = self._entry_items()
        entry = self.spec.entry
        if self.spec.elem is None and not items and isinstance(entry, list) and entry \
                and isinstance(entry[0], Segment):
            items = [entry[0]]  # (what an earlier loop appended: its items' type)
            seg = entry[0]
            if seg.fields is not None:
                dtypes, weaks = worklists.field_types(items, seg.fields, None)
                return tuple(Tracer(sem.as_value(0, dt), weak=w) for dt, w in zip(dtypes, weaks))
            return Tracer(sem.full(tuple(seg.value.shape[1:]), 0, seg.value.dtype).value,
                          weak=seg.weak and seg.value.ndim == 1)
        dtype, shape, weak, fields = self.spec.item_type(items)
        if self.spec.elem is None and not items:
            return _UnknownItem(sem.full((), 0, dtype).value, weak=True)
        if self.spec.elem is None and (isinstance(items[-1], tuple) or np.ndim(items[-1]) == 0):
            # numbers of their own types (`(0, 0.0)`: an int to index with, then a float)
            last = items[-1] if isinstance(items[-1], tuple) else (items[-1],)
            numbers_ = tuple(Tracer(sem.as_value(x), weak=sem.is_weak(x)) for x in last)
            return numbers_ if isinstance(items[-1], tuple) else numbers_[0]
        if fields is not None:
            dtypes, weaks = worklists.field_types(items, fields, self.spec.field_seen)
            return tuple(Tracer(sem.as_value(0, dt), weak=w) for dt, w in zip(dtypes, weaks))
        return Tracer(sem.full(shape, 0, dtype).value, weak=weak and shape == ())

    def __iter__(self):
        """Iterating the list inside the loop that appends to it (`sum(hs)`,
        `for h in hs`, `max(hs)`): refused. Python's fallback iterated by
        __getitem__ until an IndexError, which a read at a traced position
        never raises while tracing: tracing never ended (s53)."""
        raise UnsupportedError("iterating a list that a traced loop appends to, inside that loop (sum(), max(), "
                               "a for loop or a comprehension over it), is not supported: its length is known "
                               "only at run time", ctx.current_loc(),
                               "keep what you need in a variable of its own (a running sum: `total = total + h` "
                               "beside the append), or read items at an index (`hs[-1]`, `hs[t]`)")

    def __len__(self) -> int:
        raise UnsupportedError("len() of a list that a traced loop appends to, inside that loop: its length "
                               "is known only at run time", ctx.current_loc(),
                               "count the appends in a variable of its own (n += 1 beside the append)")

    def append_segment(self, seg: Segment, loc) -> None:
        """What a loop nested in this one appended to the list (`seg`, its
        elements stacked; `loc`, its append): stacked with this loop's
        appends, or written into the buffer (a `break` in this loop, a
        condition around the nested one) at the count, which grows by its
        length. Its element type is this list's as an append's is: before,
        a list appended to only in the nested loop had none, and turning
        it into a buffer failed on that (`cannot unpack non-iterable
        NoneType`, probe Q)."""
        spec = self.spec
        spec.loc = spec.loc or loc
        spec.uneven = True  # (a nested loop's appends: kept out of a static-size buffer)
        n = seg.value.shape[0]
        for t, _, held_loc in getattr(seg, "held", ()):  # (arrays from before the nested loop: watched here too)
            self.watched.append((t, t._box.value, None, held_loc))
        if seg.count is not None:
            self._append_counted(seg, loc)
            return
        if not isinstance(n, int):
            # each iteration of this loop appends another number of elements (`for j in range(i, n)`
            # nested in `for i in ...`): one traced iteration cannot stack them. A short static range
            # runs as Python instead (control.for_ unrolls it on this error), so `i` is an int
            from .static import UnsupportedConcrete

            raise UnsupportedConcrete(
                "a list appended to in a loop whose number of iterations changes from one iteration of an "
                "enclosing loop to the next (`for j in range(i, n)` inside `for i in ...`) is not supported "
                "in a traced loop", loc or ctx.current_loc(),
                "fill a preallocated array with a running count, or make the enclosing loop a short "
                "static range (it then runs as Python while tracing)")
        spec.observe(Value(seg.value.dtype, tuple(seg.value.shape[1:])), seg.weak, seg.fields)
        spec.mixed = spec.mixed or seg.mixed
        spec.appends_this_round += n
        if spec.mode == "stack":
            if ctx.state().frame is not self.frame:
                self.in_branch = True
            self.segments.append(seg.value)
            return
        from .indexing import setitem

        if n and spec.growable:
            spec.write_rows(sem.as_value(seg.value, spec.elem[0]))
            spec.count.assign(sem.ufunc("add", spec.count, n).value)
        elif n:
            end = sem.ufunc("add", spec.count, n)
            setitem(spec.buffer, slice(spec.count, end), sem.wrap(seg.value))
            spec.count.assign(end.value)

    def _append_counted(self, seg: Segment, loc) -> None:
        """What a nested loop appended under a condition (a buffer of static
        rows and a run-time count): its rows written at this list's count in a
        growable buffer (the rows past its count are never read), the count
        grown by its count. The round before makes this list such a buffer."""
        spec = self.spec
        n = seg.value.shape[0]
        if spec.mode == "buffer" and (not isinstance(n, int) or not spec.growable):
            raise UnsupportedError("a list grown under a condition in a nested loop is not supported",
                                   loc or ctx.current_loc())
        spec.observe(Value(seg.value.dtype, tuple(seg.value.shape[1:])), seg.weak, seg.fields)
        spec.mixed = spec.mixed or seg.mixed
        spec.appends_this_round += n if isinstance(n, int) else 1
        self.in_branch = self.nested = True
        if spec.mode == "buffer":
            spec.write_rows(sem.as_value(seg.value, spec.elem[0]))
            spec.count.assign(sem.ufunc("add", spec.count, seg.count).value)


class _UnknownItem(Tracer):
    """What a pop gives, in the round that makes a list a work list, where
    the list was empty before the loop and nothing was appended yet in the
    body's order: an int stand-in, which cannot stand in for a tuple or an
    array (the next round knows the appended type)."""

    __slots__ = ()

    def _unknown(self, *args) -> Any:
        raise UnsupportedError("an item popped from a list that is empty before the loop, before the loop body's "
                               "first append (in the order of the code): looptrace cannot tell whether it is a "
                               "tuple or an array there", ctx.current_loc(),
                               "append before popping in the body's order, or give the list an item of its type "
                               "before the loop")

    __iter__ = __getitem__ = __len__ = _unknown


def _in_nested_loop(frame) -> bool:
    """Is the code being traced in a loop nested in the one of `frame`?"""
    f = ctx.state().frame
    while f is not None and f is not frame:
        if f.kind == "loop":
            return True
        f = f.parent
    return False


def _number_tuple(t: Any) -> bool:
    """A tuple of numbers (an item of a work stack: `(lo, hi)`)."""
    return isinstance(t, tuple) and bool(t) and all(
        (is_tracer(e) and e.ndim == 0) or isinstance(e, (numbers.Number, np.generic)) for e in t)


def _tuple_fields(v: Any) -> int | None:
    """The length of a tuple of numbers appended (`out.append((i, x[i]))`)."""
    if not isinstance(v, tuple):
        return None
    if not v or any(np.ndim(e) != 0 or isinstance(e, (tuple, list)) for e in v):
        raise UnsupportedError("a tuple of arrays (or an empty one) appended to a list in a loop is not supported",
                               ctx.current_loc(), "append to one list per field")
    return len(v)


def _mixed(v: Any) -> bool:
    """A tuple of numbers of different types (`(i, x[i])`): stacked in one
    array they share its dtype, so its items cannot be read back as the
    numbers appended (np.array of the list is NumPy's own)."""
    return isinstance(v, tuple) and len({(str(sem.dtype_of(e)), sem.is_weak(e)) for e in v}) > 1


_GROWN_ROWS = 16  # a growable list buffer's first rows (carries.ListSpec._buffer)


class ListSpec(Spec):
    kind = "list-stack"

    def __init__(self, entry, live_out: bool = True):
        self.entry = entry
        self.live_out = live_out
        self.mode = "stack"
        self.elem: tuple | None = None  # (dtype, shape): the buffer's
        self.appended: tuple | None = None  # (dtype, shape) of the values appended
        # a work stack or queue (popped or read in the loop): its items from before the loop are
        # in the buffer too; `head` counts the items popped at the front (a queue)
        self.work = False
        self.head = None
        # seen in a round (the loop's test or body): a pop or a read at a run-time position (a work
        # list from the next round on), a pop at the front (a queue)
        self.reads = self.front = False
        self.retype: tuple | None = None  # an append of a wider dtype than the work buffer's: the next round's
        self.weak: bool | None = None  # every element appended a Python number: read back as one
        self.fields: int | None = None  # tuples of this many numbers were appended: read back as tuples
        self.mixed = False  # ... of numbers of different types: not read back (np.array of the list only)
        self.appends_this_round = 0
        self.every_iteration = False  # this round appended outside any branch of the body
        # this round appended inside a branch (`conditional`), or popped or appended in a nested loop
        # (`uneven`): the count is not the same function of the iteration in every run
        self.conditional = self.uneven = False
        # a work list of static rows (_fixed_buffer): _fixed_rows' (rows before the loop, appended per
        # iteration at most, trips, every append made); "refused" once a round contradicted it
        self.fixed: tuple | str | None = None
        self.list_state = None
        self.buffer = self.count = None
        self.growable = False  # a buffer the run grows (`reserve`): appends in a while loop
        self.loc = None  # the first append's line (its errors name it)
        # a work list of tuples: one buffer per field (worklists.py), the types each field was given
        # by the appends, and whether each reads back as a Python number
        self.columns: list | None = None
        self.field_seen: list | None = None
        self.read_loc = None  # the first pop's (or read's) line
        self.field_weak: list | None = None
        self.held: list = []
        self.held_names: list = []

    def observe(self, v: Value, weak: bool = False, fields: int | None = None) -> None:
        if self.elem is not None and fields != self.fields:
            raise UnsupportedError("a list appended to in a loop gets tuples and other values, or tuples of "
                                   "different lengths", ctx.current_loc(), "append one kind of value")
        self.fields = fields
        self.weak = weak if self.weak is None else self.weak and weak
        t = (v.dtype, tuple(v.shape))
        if self.work and self.elem is not None and t[1] == self.elem[1]:
            wide = np.result_type(self.elem[0], t[0])
            if wide != self.elem[0]:  # (a pop gives the buffer's dtype, which an append may widen)
                self.retype = (wide, t[1])
            return
        if self.appended is None:
            self.appended = t
            self.elem = self.elem or t
        elif self.appended != t:
            raise UnsupportedError(f"elements appended to a list in a loop must share shape and dtype; "
                                   f"got {self.appended[1]} {self.appended[0]} and {t[1]} {t[0]}",
                                   ctx.current_loc())

    def bind(self, loop, name):
        self.appends_this_round = 0
        self.every_iteration = False
        self.conditional = self.uneven = False
        self.held = []  # (arrays from before the loop the list holds, unchanged by it: check_aliases)
        self.held_names = []  # (names holding the last appended array after the loop)
        self.list_state = LoopList(self, ctx.state().frame)
        self.list_state.stacked_value = None
        self.list_state.loop = loop
        self.list_state.loop_is_while = loop.is_while
        if isinstance(self.fixed, tuple) and self.fixed[3]:
            self._count_from_index(loop)
        return self.list_state, []

    def join(self, exit_obj, name, loc) -> Spec:
        state = self.list_state
        if exit_obj is state:
            state.check_aliases(name)
        if exit_obj is not state:
            carried = self._as_carry(exit_obj, name, loc)
            if carried is not None:
                return carried
            raise UnsupportedError(f"list `{name}` is reassigned inside the loop; only `append` is "
                                   "supported on a list grown in a loop", loc)
        if isinstance(self.entry, collections.deque) and not self.reads:
            from .containers import _HINT_LOOP, ChangedInLoop  # (containers imports this module)

            # (ChangedInLoop: a loop whose iterations are known while tracing runs as Python instead)
            raise ChangedInLoop(f"deque `{name}` (made before this loop) is appended to inside the loop, which "
                                "does not pop from it: looptrace follows a deque only as a queue that a loop "
                                "pops from", self.loc or loc, _HINT_LOOP)
        if self.reads and not self.work and self.elem is None and not state.nested and self._popped_only():
            from .containers import _HINT_LOOP, ChangedInLoop

            e = ChangedInLoop(f"`{name}` ({self._kind_name()} made before this loop) is changed inside the loop, "
                              "which pops from it and never appends: looptrace traces such a loop only for a list "
                              "a loop appended to", self.read_loc or loc, _HINT_LOOP)
            e.python_test = True  # (runs as Python where its iterations are known: control.while_)
            raise e
        if isinstance(self.fixed, tuple) and self._fixed_rows(state, *self._entry_parts()) != self.fixed:
            self.fixed = "refused"  # (this round appended otherwise than the one before: a growable buffer)
            return self._work_buffer(state)
        if self.reads and (not self.work or self.retype is not None or self.front and self.head is None):
            return self._work_buffer(state)
        if self.mode == "buffer" or not state.segments and not state.nested:
            self._stack_value(state)
            return self
        need_buffer = state.in_branch or state.loop_is_while
        if not need_buffer:
            self._stack_value(state)
            return self
        return self._to_buffer(loc)

    def _as_carry(self, exit_obj: Any, name: str, loc) -> Spec | None:
        """A list of arrays or numbers that each iteration replaces by a list
        display of the same length (`hs = [np.tanh(hs[0] + x), hs[0] * 0.5 +
        hs[1]]`, stacked state) and that this round neither appended to nor
        popped: carried as a tuple is, element by element (ListCarrySpec);
        None for any other reassignment (refused)."""
        entry, state = self.entry, self.list_state
        if type(entry) is not list or not entry or not isinstance(exit_obj, list) or \
                isinstance(exit_obj, LoopList) or len(exit_obj) != len(entry):
            return None
        if self.appends_this_round or self.reads or self.work or state.segments or \
                not all(_leafy(e) and not isinstance(e, Segment) for e in (*entry, *exit_obj)):
            return None
        spec = ListCarrySpec([carry_spec_for(f"{name}[{k}]", e, True, True, loc) for k, e in enumerate(entry)])
        return spec.join(entry, exit_obj, name, loc)

    def _popped_only(self) -> bool:
        """Popped in this loop, never appended to, and a Python list (or
        deque) of items known while tracing: no run-time count from an
        earlier loop's appends; a list, no traced items either (a heap made
        by heapify: heaps.py)."""
        return self.appends_this_round == 0 and self.field_seen is None and \
            isinstance(self.entry, (list, collections.deque)) and \
            not any(isinstance(e, Segment) and e.count is not None for e in self.entry) and \
            (isinstance(self.entry, collections.deque) or not any(
                is_tracer(e) or isinstance(e, tuple) and any(map(is_tracer, e)) for e in self.entry))

    def _kind_name(self) -> str:
        return "deque" if isinstance(self.entry, collections.deque) else "list"

    def _stack_value(self, state) -> None:
        if self.mode != "stack" or not state.segments:
            state.stacked_value = None
            return
        st = ctx.state()
        saved, st.frame = st.frame, state.frame
        try:
            segs = state.segments
            v = segs[0] if len(segs) == 1 else sem.concatenate([sem.wrap(s) for s in segs], 0).value
            if v.shape[0] == 1:
                v = sem.reshape(sem.wrap(v), v.shape[1:]).value
                state.per_iter = 1
            else:
                state.per_iter = v.shape[0]
            state.stacked_value = v
        finally:
            st.frame = saved

    def _to_buffer(self, loc) -> "ListSpec":
        loop = self.list_state.loop
        trips = loop.it.static_len if loop.it is not None else None
        if trips is None and (loop.it is None or isinstance(self.entry, LoopList) and self.entry.spec.reads) \
                or self.list_state.nested:
            # a while loop, appends in a nested loop, or appends to the work list of an enclosing loop
            # (popped there: the next round pushes to it directly): a buffer the run grows
            return self._buffer(_GROWN_ROWS, growable=True)
        if trips is None:
            message = ("a list appended to under a data-dependent condition needs a loop with a static trip "
                       "count (a for loop over a static range)")
            bounds = [b for b in (loop.it.start, loop.it.stop, loop.it.step) if is_tracer(b)] \
                if loop.it is not None else []
            if bounds:  # range(n) of an int argument: specialized on n (specialize.py)
                from .static import UnsupportedConcrete, concrete_error

                e = concrete_error(bounds, message, "pass the count in static_argnames", cls=UnsupportedConcrete)
                e.loc = loc
                raise e
            raise UnsupportedError(message, loc)
        return self._buffer(max(trips * max(self.appends_this_round, 1), 1))  # >= 1 row: the body writes one

    def _buffer(self, rows: int, growable: bool = False) -> "ListSpec":
        """This list as a buffer of `rows` rows and a count of those written;
        `growable`: its rows a run-time length, `reserve` making room before
        each append (a loop whose trip count is not known before it runs)."""
        dtype, shape = self.elem
        new = ListSpec(self.entry, self.live_out)
        new.mode, new.elem, new.weak, new.fields, new.mixed = "buffer", self.elem, self.weak, self.fields, self.mixed
        new.loc, new.appended = self.loc, self.appended
        new.buffer = sem.full((rows,) + shape, 0, dtype)
        new.count = sem.wrap(sem.as_value(0, np.int64))
        new.growable = growable
        if growable:
            with ctx.at(self.loc):  # (the first append's line: the error of a backend without it names it)
                new.buffer = sem.wrap(ctx.emit1(prim("reserve"), [new.buffer.value, new.count.value,
                                                                  sem.as_value(0, np.int64)]))
        new.kind = "list-buffer"
        return new

    def item_type(self, items: list) -> tuple:
        """(dtype, shape, weak, fields) of a work list's items: those it held
        before the loop and those appended, in one dtype (NumPy's promotion, a
        Python number taking part as one)."""
        types, weak, fields = [], self.weak, self.fields
        if self.elem is not None:
            types.append(self.elem[0])
        shape = self.elem[1] if self.elem is not None else None
        for k, e in enumerate(items):
            if isinstance(e, Segment):
                if (self.elem is not None or k) and e.fields != fields:
                    raise UnsupportedError("a list popped in a loop holds items of different kinds or shapes "
                                           "(before the loop and appended in it)", self.loc or ctx.current_loc())
                fields = e.fields
                shape = (fields,) if fields is not None else tuple(e.value.shape[1:])
                types.append(worklists._kind_type(e.value.dtype) if e.weak else e.value.dtype)
                weak = e.weak if weak is None else weak and e.weak
                continue
            f = len(e) if isinstance(e, tuple) else None
            if (self.elem is not None or k) and (f != fields or f is None and _shape_of(e) != shape):
                raise UnsupportedError("a list popped in a loop holds items of different kinds or shapes (before "
                                       "the loop and appended in it)", self.loc or ctx.current_loc(),
                                       "give it items of one kind: numbers, arrays of one shape or tuples of "
                                       "one length")
            fields = f
            shape = (f,) if f is not None else _shape_of(e)
            parts = e if isinstance(e, tuple) else (e,)
            types += [sem.WEAK_TYPES[sem.dtype_of(x).kind](0) if sem.is_weak(x) else sem.dtype_of(x) for x in parts]
            item_weak = all(sem.is_weak(x) and np.ndim(x) == 0 for x in parts)
            weak = item_weak if weak is None else weak and item_weak
        if not types:
            # popped before any append, and empty before the loop: a stand-in type (an int) for the
            # round that learns the appended one
            return np.dtype(np.int64), (), True, None
        if fields is not None:
            shape = ()
        return np.result_type(*types), tuple(shape), bool(weak), fields

    def _work_buffer(self, state) -> "ListSpec":
        """This list as a work stack or queue: a growable buffer holding the
        items from before the loop (what an earlier loop appended first, its
        buffer taken as it is), then those appended; the list is its rows
        from `head` (a queue's pops at the front) to `count`. A list of
        tuples keeps one buffer per field (worklists.py)."""
        seg, items = self._entry_parts()
        if any(isinstance(e, Segment) for e in items):
            raise UnsupportedError("pop() or a read of a list inside a loop that appends to it, where several "
                                   "earlier loops appended to it, is not supported", self.loc or state.loop.loc,
                                   "grow and pop the list in one loop")
        if self.retype is not None and self.columns is None and self.retype is not True:
            self.elem = self.retype
        dtype, shape, weak, fields = self.item_type(([seg] if seg is not None else []) + items)
        spec = ListSpec(self.entry, self.live_out)
        spec.elem, spec.appended, spec.fields, spec.loc = (dtype, (fields,) if fields else shape), \
            self.appended, fields, self.loc
        spec.weak, spec.field_seen = weak, self.field_seen
        rows = self._fixed_rows(state, seg, items)
        if fields is not None:
            new = spec._columns_buffer(seg, items)
        elif rows is not None:
            new = spec._fixed_buffer(seg, items, rows)
        else:
            new = spec._buffer(max(_GROWN_ROWS, len(items)), growable=True)
            if seg is not None:
                new.buffer = worklists.growable(seg.value, dtype)
                new.count = sem.wrap(sem.as_value(worklists.segment_count(seg), np.int64))
            if items:
                rows = sem.stack([sem.wrap(sem.as_value(e, dtype)) for e in items])
                new.write_rows(rows.value)
                new.count.assign(sem.ufunc("add", new.count, len(items)).value)
        new.weak, new.work = weak, True
        if self.front:
            new.head = sem.wrap(sem.as_value(0, np.int64))
        return new

    def _entry_parts(self) -> tuple:
        """(what an earlier loop appended, or None; the items after it) of the list before the loop."""
        entry = list(self.entry)
        seg = entry[0] if entry and isinstance(entry[0], Segment) else None
        return seg, entry[1:] if seg is not None else entry

    def _fixed_rows(self, state, seg: Segment | None, items: list) -> tuple | None:
        """(rows before the loop, rows appended per iteration at most, trips,
        whether every one is appended) of a work list that a for loop of a
        static trip count appends to without popping it, outside any loop
        nested in it: its buffer is then the preallocated array the user
        could have written (static rows; reads and writes at the count, which
        the gradient follows), not a growable one. Appends in a branch or a
        `break` leave rows unwritten: their count is known at run time only,
        as that of a list grown under a condition. None for any other list."""
        loop, nested = state.loop, getattr(state, "nested", True)  # (heaps.py's stand-in state: no loop)
        it = getattr(loop, "it", None)
        trips = it.static_len if it is not None and getattr(loop, "cond_fn", None) is None else None
        if not isinstance(trips, numbers.Integral) or self.uneven or self.front or nested \
                or isinstance(self.entry, LoopList) or self.fixed == "refused":
            return None
        if seg is not None and (seg.count is not None or not isinstance(seg.value.shape[0], int)):
            return None
        before = (seg.value.shape[0] if seg is not None else 0) + len(items)
        return before, self.appends_this_round, int(trips), not (self.conditional or loop.is_while)

    def _fixed_buffer(self, seg: Segment | None, items: list, rows: tuple) -> "ListSpec":
        """This (new) spec as a work list of static rows: those from before
        the loop, then zeros for what the loop may append (`rows`:
        _fixed_rows); its count a carried int as a growable one's."""
        dtype, shape = self.elem
        before, per_iteration, trips, _ = rows
        parts = [sem.as_value(seg.value, dtype)] if seg is not None else []
        if items:
            parts.append(sem.stack([sem.wrap(sem.as_value(e, dtype)) for e in items]).value)
        parts.append(sem.full((trips * per_iteration,) + tuple(shape), 0, dtype).value)
        self.buffer = sem.concatenate([sem.wrap(p) for p in parts], 0) if len(parts) > 1 else sem.wrap(parts[0])
        self.count = sem.wrap(sem.as_value(before, np.int64))
        self.mode, self.kind, self.fixed = "buffer", "list-buffer", rows
        return self

    def _count_from_index(self, loop) -> None:
        """The count at the start of an iteration of a list that every
        iteration appends the same number of items to, computed from the
        loop's index (before + per_iteration * iterations so far) instead of
        carried: reads and writes at it are then the preallocated array's at
        `t + 1`, which the vectorizer and the gradient see as a map (a
        carried count made the reverse loop read it back from a tape and
        update its cotangent row by row: 26x the preallocated one's time).
        A range of traced start or step keeps the carried count."""
        it = loop.it
        if not all(isinstance(b, numbers.Integral) for b in (it.start, it.step)):
            return
        before, per_iteration, _, _ = self.fixed
        index = Tracer(ctx.state().frame.block.args[0])  # (the loop's index: control.py LoopTrace._trace)
        done = sem.ufunc("subtract", index, it.start) if it.start else index
        if it.step != 1:
            done = sem.ufunc("floor_divide", done, it.step)
        self.count = sem.ufunc("add", sem.ufunc("multiply", done, per_iteration) if per_iteration != 1 else done,
                               before) if before else (sem.ufunc("multiply", done, per_iteration)
                                                       if per_iteration != 1 else done)

    def _columns_buffer(self, seg: Segment | None, items: list) -> "ListSpec":
        """This (new) spec as a work list of tuples: one growable buffer per
        field, each of its field's type, holding the items from before."""
        fields = self.fields
        dtypes, weaks = worklists.field_types(([seg] if seg is not None else []) + items, fields, self.field_seen)
        self.mode, self.growable, self.kind, self.field_weak = "buffer", True, "list-buffer", weaks
        if seg is not None:
            self.columns = worklists.columns_of(worklists.segment_parts(seg, fields), dtypes)
            self.count = sem.wrap(sem.as_value(worklists.segment_count(seg), np.int64))
        else:
            self.columns = worklists.make_columns(dtypes, max(_GROWN_ROWS, len(items)))
            self.count = sem.wrap(sem.as_value(0, np.int64))
        for e in items:
            worklists.reserve(self, 1)
            worklists.write(self, self.count, e)
            self.count.assign(sem.ufunc("add", self.count, 1).value)
        return self

    def write_rows(self, rows: Value) -> None:
        """Write `rows` into a growable buffer at the count (the caller counts
        them), room made first (`reserve`: the buffer's length is known only
        at run time, which the tracer's setitem refuses to index)."""
        if self.columns is not None:
            raise UnsupportedError("a list of tuples popped in a loop and appended to in a loop nested in it under "
                                   "a condition is not supported", self.loc or ctx.current_loc())
        with ctx.at(self.loc or ctx.current_loc()):
            room = ctx.emit1(prim("reserve"), [self.buffer.value, self.count.value,
                                               sem.as_value(rows.shape[0], np.int64)])
        self.buffer.assign(ctx.emit1(prim("dynamic_update_slice"), [room, rows, self.count.value]))

    def after_loop(self, loop, name, outs):
        target = self.entry
        if self.work:
            return self._work_after_loop(loop, name)
        if self.mode == "buffer":
            seg = _segment(self, loop, self.buffer.value, self.count, bool(self.weak), self.fields, self.mixed)
            seg.loc = self.loc
            seg.nonempty = self.every_iteration and surely_runs(loop)
            _append_segment(target, seg, self.loc)
        return target

    def _work_after_loop(self, loop, name) -> Any:
        """The list after the loop: the buffer's rows from `head` to `count`
        (a queue's moved to the front first), in place of its items."""
        target = self.entry
        if isinstance(target, collections.deque) and self.live_out:
            raise UnsupportedError(f"deque `{name}` is used outside the traced loop that pops from it (before "
                                   "or after it); looptrace follows a deque inside that loop only", loop.loc,
                                   f"make it with its items (`{name} = deque([s])`), or use a list "
                                   f"(`{name}.pop(0)` pops at the front), which can be read after the loop")
        count = self.count
        if isinstance(self.fixed, tuple) and self.fixed[3]:  # (every row written: its length is the count)
            seg = Segment(self.buffer.value, None, bool(self.weak), self.fields, self.mixed)
            seg.loc, seg.work_rows = self.loc, True  # (read at a traced index as a work list's: runtime.py)
            target.clear()
            target.append(seg)
            return target
        if self.head is not None:
            count = sem.ufunc("subtract", count, self.head)
        if self.columns is not None:
            for c in self.columns:
                if self.head is not None:
                    c.assign(_rows_to_front(c.value, self.head, count))
            buffer, columns, mixed = worklists.stacked(self)
            self.weak = all(self.field_weak)
        else:
            buffer, columns, mixed = self.buffer.value, None, self.mixed
            if self.head is not None:
                buffer = _rows_to_front(buffer, self.head, count)
        seg = Segment(buffer, count, bool(self.weak), self.fields, mixed)
        seg.columns = columns
        seg.loc = self.loc
        target.clear()
        target.append(seg)
        return target

    def finish_stacked(self, stacked: Value, loop) -> None:
        state = self.list_state
        if state.per_iter != 1:
            n = stacked.shape[0]
            if not isinstance(n, int):
                raise UnsupportedError("appending several elements per iteration of a loop with a "
                                       "traced trip count is not supported", loop.loc)
            stacked = sem.reshape(sem.wrap(stacked), (n * state.per_iter,) + tuple(stacked.shape[2:])).value
        seg = _segment(self, loop, stacked, weak=bool(self.weak), fields=self.fields, mixed=self.mixed)
        seg.loc = self.loc
        seg.field_types = self.field_seen if self.mixed else None  # (each field's (dtype, weak): tuple_lists)
        if loop.it is not None and not isinstance(stacked.shape[0], int):  # a trip count known at run time
            seg.bounds = [b for b in (loop.it.start, loop.it.stop, loop.it.step) if is_tracer(b)]
        _append_segment(self.entry, seg, self.loc)


class HeldSegment(Segment):
    """A segment whose list holds arrays that live on after the loop: from
    before it (`hs.append(w)`, `hs.append(w[i % 2])`, w not written in the
    loop), or the last iteration's array a name still holds (`h = ...;
    hs.append(h)`). Plain Python's list holds those arrays themselves, so a
    write into one after the loop shows in its entries; the stack holds the
    values at the appends. Reading the stack after such a write is refused
    (Box.version: every write counts)."""

    def __init__(self, held: list, *args, **kwargs):
        self.held = [(t, t._box.version, loc) for t, loc in held]  # (array, its version at the loop's end, append)
        super().__init__(*args, **kwargs)

    @property
    def value(self) -> Value:
        for t, version, loc in self.held:
            if t._box.version != version:
                at = f" (line {loc.line})" if loc is not None else ""
                raise UnsupportedError(
                    f"a list that a loop appended an array to{at} is read after that array "
                    "was written in place: plain Python's list holds the array itself (its entries show the new "
                    "contents), looptrace's the values at each append", ctx.current_loc() or loc,
                    "append a copy (`.copy()`), or write into a copy of the array")
        return self._value

    @value.setter
    def value(self, v: Value) -> None:
        self._value = v


def _segment(spec: "ListSpec", loop, *args, **kwargs) -> Segment:
    """The loop's appends as a Segment; a HeldSegment where the list holds
    arrays that live on after the loop: from before it, or the array a
    name is left holding (`h = ...; hs.append(h)`, the last iteration's)."""
    after = getattr(loop, "arrays_after", {})
    held = list(spec.held) + [(after[n], loc) for n, loc in spec.held_names if n in after]
    return HeldSegment(held, *args, **kwargs) if held else Segment(*args, **kwargs)


def _rows_to_front(buffer: Value, head: Any, count: Any) -> Value:
    """buffer with its rows head .. head + count moved to the front: a
    for_loop of row copies (each read ahead of the rows written)."""
    from looptrace.ir.core import Op

    st = ctx.state()
    loc = ctx.current_loc()
    frame = st.push("stepped")  # (stepped.py's: neither a loop's frame nor a branch's)
    try:
        j, carry = Value(np.dtype(np.int64), ()), Value(buffer.dtype, buffer.shape)
        frame.block.args += [j, carry]
        src = sem.as_value(sem.ufunc("add", Tracer(j), head), np.int64)
        row = ctx.emit1(prim("dynamic_slice"), [carry, src], sizes=(1,))
        frame.block.results = [ctx.emit1(prim("dynamic_update_slice"), [carry, row, j])]
    finally:
        st.pop(frame)
    out = Value(buffer.dtype, buffer.shape)
    bounds = (sem.as_value(0, np.int64), sem.as_value(count, np.int64), sem.as_value(1, np.int64))
    op = Op(prim("for_loop"), (*bounds, buffer), (out,), {}, loc, (frame.block,))
    st.frame.block.ops.append(op)
    st.producers[out.id] = op
    st.value_frames[out.id] = st.frame
    return out


def _append_segment(target: Any, seg: Segment, loc=None) -> None:
    if isinstance(target, LoopList):
        target.append_segment(seg, loc)
    else:
        target.append(seg)
