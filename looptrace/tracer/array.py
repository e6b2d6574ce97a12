"""`Tracer`: the array object user code manipulates while it is traced.

A Tracer stands for a NumPy array. It holds a `Box` (its current SSA value),
so in-place writes (`Y[t] = y`, `acc += v`) update the box and every alias of
the array sees them, as with NumPy. Basic indexing returns a view: a Tracer
that re-reads its base when the base changes and writes through to it.
Python scalars passed in are traced as *weak* values: they promote as Python
scalars do under NumPy 2 (a weak float times a float32 array is float32).

A 0-d Tracer is a NumPy scalar (what `x[i]`, `x.sum()` and any ufunc give),
immutable, so `acc += v` rebinds `acc` and `b = acc` keeps the old value,
unless it is a 0-d *array* (`array0d`: a 0-d array argument, np.zeros(()),
np.array(x), ...), which `+=` writes into, as NumPy does.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

import numpy as np

from looptrace.errors import TraceError, TraceTypeError, UnsupportedError
from looptrace.ir.core import Dim, Value

from . import context as ctx


def _from_users_code(frame) -> bool:
    """Is `frame` outside looptrace's own code (the user's converted function)?"""
    return frame is not None and not frame.f_code.co_filename.startswith(_PACKAGE_DIR)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Tracer:
    __slots__ = ("_box", "weak", "base", "derive", "index", "_seen", "aff", "array0d", "ghost", "pyflag", "kinds", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, value: Value | None = None, *, weak: bool = False,
                 base: "Tracer | None" = None, derive: Callable | None = None, index: Any = None):
        self.weak = weak
        self.base = base  # for views: the root array
        self.derive = derive  # base value -> this view's value
        self.index = index  # the basic index a view was taken with (write-through)
        self._seen = -1
        self.aff = None  # integer scalars: (base Value, offset), for static slice sizes
        self.array0d = False  # a 0-d ndarray, not a NumPy scalar (module docstring)
        self.ghost = None  # a view's strides, for what NumPy makes a view (tracer/layout.py)
        # a scalar that is a Python number on some runs only (`x[0] if c else 1.5`): a traced bool,
        # true where it is one (tracer/python_numbers.py `mixed`); None: never (or not tracked)
        self.pyflag = None
        self.kinds = None  # a 0-d value whose type is chosen at run time: (tag, keys) (tracer/kinds.py)
        self._box = ctx.Box(value, ctx.state().frame) if value is not None else None

    # --- the current value -------------------------------------------------
    @property
    def value(self) -> Value:
        if self.base is not None:
            return self._view_value()
        ctx.touch(self._box)
        return self._box.value

    def _view_value(self) -> Value:
        base_val = self.base.value
        frame = ctx.state().frame
        cached = self._seen
        if cached != -1 and cached[0] is base_val and _visible(cached[1], frame):
            return cached[2]
        v = self.derive(base_val)
        self._seen = (base_val, frame, v)
        return v

    def assign(self, value: Value) -> None:
        """Replace this array's contents (an in-place write)."""
        from . import indexing

        if self.base is not None:  # a view by indexing (a derived view has its own assign: numpy_api.py)
            indexing.setitem(self.base, self.index, Tracer(value))
            return
        ctx.touch(self._box)
        note_write(self._box)
        note_sure_write(self._box)
        if id(self._box) in ctx.state().layout_views:
            from . import layout

            layout.written(self._box)
        self._box.set(value)
        if self._box.links:
            _write_linked(self._box, value)

    # --- metadata (static) -------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(self.value.shape)

    @shape.setter
    def shape(self, new) -> None:
        raise UnsupportedError("setting an array's .shape in place is not supported", ctx.current_loc(),
                               "rebind a reshaped array instead: x = x.reshape(...)")

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def ndim(self) -> int:
        return len(self.value.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        if isinstance(self.shape[0], Dim):
            raise runtime_length_error("len()")
        return self.shape[0]

    def runtime_length(self) -> bool:
        """Whether an axis has a length known only at run time (np.array of a list grown under a condition)."""
        return any(isinstance(d, Dim) for d in self.value.shape)

    def __repr__(self) -> str:
        caller = sys._getframe(1)
        if ctx.tracing():
            from .printing import as_text

            text = as_text(self, "r", "", caller)  # f"{x!r}", "{!r}".format(x), a list print() shows
            if text is not None:
                return text
            if _from_users_code(caller):  # `"%r" % x[i]` in the user's unconverted code
                self._as_text("r", "", caller)
        v = self.value
        return f"Tracer({v}, shape={v.shape}, dtype={v.dtype}{', weak' if self.weak else ''})"

    def __str__(self) -> str:  # str(x[i]), "%s" % x[i]: text print() makes at run time (tracer/printing.py)
        return self._as_text("s", "", sys._getframe(1))

    def _as_text(self, conv: str, spec: str, caller) -> str:
        from .printing import as_text

        text = as_text(self, conv, spec, caller)
        if text is not None:
            return text
        raise TraceError("a traced value is turned into text (str(), repr(), % formatting); its value is "
                         "known only at run time", ctx.current_loc(),
                         "return the value and format it outside the jitted function")

    # --- things a traced value cannot do ------------------------------------
    def __bool__(self):
        raise TraceError(
            "a traced value is used as a Python bool; its truth is known only at run time",
            ctx.current_loc(),
            "use it in an `if`/`while` condition directly (looptrace converts those), "
            "or np.where(cond, a, b) for values")

    def __hash__(self):
        raise TraceError("a traced array cannot be hashed (used as a dict key or set member); its value is "
                         "known only at run time", ctx.current_loc(),
                         "key an array by the value instead (counts = np.zeros(n, np.int64); counts[k] += 1), "
                         "or use np.bincount / np.unique(..., return_counts=True)")

    def __index__(self):
        from .static import concrete_error

        if self.ndim != 0 or self.dtype.kind not in "iu" and not (self.dtype.kind == "b" and self.weak):
            # what NumPy raises for a float, complex or np.bool_, or an array of ndim > 0 (even of one element);
            # a Python bool is an int
            raise TraceTypeError("only integer scalar arrays can be converted to a scalar index",
                                 ctx.current_loc(), "compute an integer (int(), //, .astype(np.int64))")

        raise concrete_error([self], "a traced value is used where Python needs a concrete integer "
                             "(a shape, a list index, a Python range outside a loop header)",
                             "pass the value in `static_argnames`, or compute it from .shape")

    def __float__(self):
        raise TraceError("a traced value is converted to a Python float (by string formatting, or a "
                         "library other than NumPy, math and cmath); its value is known only at run time",
                         ctx.current_loc(), "compute with NumPy or math functions on traced values; "
                         "format or hand them to other libraries outside the jitted function")

    def __int__(self):
        from .static import concrete_error

        raise concrete_error([self], "a traced value is converted to a Python int outside looptrace's view; "
                             "its value is known only at run time",
                             "use .astype(np.int64), or pass the value in `static_argnames`")

    def __array__(self, *args, **kwargs):
        raise TraceError("a traced value was passed to a function that needs a concrete NumPy array",
                         ctx.current_loc(),
                         "looptrace traces NumPy calls it knows; this one converts its input instead")

    def __format__(self, spec: str) -> str:  # f"{x:.3f}": text print() makes at run time (tracer/printing.py)
        from .printing import as_text

        text = as_text(self, "", spec, sys._getframe(1))
        if text is not None:
            return text
        raise TraceError("a traced value is formatted into a string (an f-string, format(), or the "
                         "message of a raise/assert); its value is known only at run time",
                         ctx.current_loc(), "build the message from shapes and Python values only")

    def tolist(self):
        raise TraceError(".tolist() needs a concrete value; it is only known at run time", ctx.current_loc())

    def __iter__(self):
        if not self.shape:
            from .methods import iteration_error  # (methods imports this module)

            raise iteration_error(self)
        return (self[i] for i in range(self.shape[0]))

    # --- NumPy protocol dispatch ----------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from . import numpy_api

        return numpy_api.dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from . import numpy_api

        return numpy_api.dispatch_function(func, args, kwargs)


def _visible(defined_in: "ctx.Frame", frame: "ctx.Frame") -> bool:
    f = frame
    while f is not None:
        if f is defined_in:
            return True
        f = f.parent
    return False


def link(box: ctx.Box, other: "ctx.Box | None", cond: "Value | None", when: bool, holder=None) -> None:
    """The array of `box` is the one of `other` where `cond == when`: a name
    a traced `if` left bound to an array from before it on one side only
    (`if c: v = v * 2`, then `v += 1` writes the argument where not c). Writes
    into either reach the other there. `other` None: writes into `box` are
    refused (a view, or a name that a loop may have rebound); `holder`: only
    while that Tracer lives. `other`'s entry has the holder `_BACK`: it says
    the same, but `other` is not defined by it (`identity`)."""
    box.links = (box.links or []) + [(cond, when, other, holder)]
    if other is not None:
        other.links = (other.links or []) + [(cond, when, box, _BACK)]


def _back() -> bool:
    """The holder of a link's entry in the older box (always alive)."""
    return True


_BACK = _back


def linked_boxes(box: ctx.Box) -> list:
    """Every box `box` is linked to, directly or through others."""
    seen, todo = {id(box): box}, [box]
    while todo:
        for _, _, other, _ in todo.pop().links or ():
            if other is not None and id(other) not in seen:
                seen[id(other)] = other
                todo.append(other)
    return [b for b in seen.values() if b is not box]


def _write_linked(box: ctx.Box, value: Value) -> None:
    """After a write into `box` (new contents `value`): every box linked to
    it, directly or through others, takes `value` where it is `box`'s array.
    Each box's array is one of a few roots (arguments, arrays the function
    made), chosen by the conditions of the links that define it
    (`identity`); two boxes are one array where they pick the same root.
    This follows each link once per write, where enumerating the chains of
    links was exponential in repeated conditional swaps (`if c: a, b = b, a`)."""
    from . import semantics as sem

    boxes = live_component(box)
    tables: dict = {}
    mine = identity(box, tables)
    _refuse_untracked(box, boxes, mine, tables)
    for other in boxes:
        if other is box:
            continue
        where = same_where(mine, identity(other, tables))
        if not where:
            continue
        ctx.touch(other)
        if other.value.dtype != value.dtype or tuple(other.value.shape) != tuple(value.shape):
            raise UnsupportedError(
                "this array is written in place, and a traced condition decided which of two arrays of "
                "different types its name refers to; looptrace cannot follow which array the write reaches",
                ctx.current_loc(), "use separate names, or take a .copy() where the name is rebound")
        truth = traced_truth(where)
        new = value if truth is None else sem.select(truth, Tracer(value), Tracer(other.value)).value
        note_write(other)
        other.set(new)


def live_component(box: ctx.Box) -> list:
    """`box` and every box linked to it, directly or through others, by links
    still in force: links of a closed `if`, whose holder is gone, or to a box
    of a closed block (a branch, an earlier trace of a loop body: no name
    holds its array, and its value is out of scope) are removed on the way."""
    st = ctx.state()
    seen, todo = {id(box): box}, [box]
    while todo:
        b = todo.pop()
        for entry in list(b.links or ()):
            cond, _, other, holder = entry
            f = st.value_frames.get(cond.id) if cond is not None else None
            if (f is not None and not ctx.visible(f, st.frame)) or (holder is not None and holder() is None) \
                    or (other is not None and not ctx.visible(other.frame, st.frame)):
                b.links.remove(entry)  # the `if` that linked them is closed, or the name let go of the array
                continue
            if other is not None and id(other) not in seen:
                seen[id(other)] = other
                todo.append(other)
    return list(seen.values())


# A truth is a set of conjunctions, each a frozenset of (condition Value, truth) pairs: set() is never,
# {frozenset()} always. One of more than _MAX_TERMS conjunctions, or of a conjunction of more than
# _MAX_PAIRS pairs, is emitted as a traced bool, a new pair (so each link costs a few ops a write).
_MAX_TERMS = 2
_MAX_PAIRS = 4
_ALWAYS = frozenset({frozenset()})


def identity(box: ctx.Box, tables: dict) -> dict:
    """Which root `box`'s array is at run time: root key -> the truth where
    it is that root. A link `box` holds for itself (not `_BACK`) defines it:
    `other`'s array where its condition holds; where none holds it is an
    array of its own (an argument, one the function made)."""
    key = id(box)
    if key in tables:
        return tables[key]
    tables[key] = {key: _ALWAYS}  # (a cycle of definitions: none is made, but do not recurse forever)
    table = {key: _ALWAYS}
    for cond, when, other, holder in box.links or ():
        if other is None or holder is _BACK:
            continue
        here = _ALWAYS if cond is None else frozenset({frozenset({(cond, when)})})
        elsewhere = set() if cond is None else frozenset({frozenset({(cond, not when)})})
        table = _pick(here, identity(other, tables), elsewhere, table)
    tables[key] = table
    return table


def _pick(here, chosen: dict, elsewhere, kept: dict) -> dict:
    """The table of `chosen` where `here`, of `kept` where `elsewhere`."""
    out: dict = {}
    for table, truth in ((chosen, here), (kept, elsewhere)):
        for root, where in table.items():
            both = _and(truth, where)
            if both:
                out[root] = _or(out.get(root, set()), both)
    return out


def same_where(a: dict, b: dict):
    """The truth where two identity tables pick the same root."""
    where: set = set()
    for root, w in a.items():
        if root in b:
            where = _or(where, _and(w, b[root]))
    return where


def _and(a, b):
    out = set()
    for x in a:
        for y in b:
            both = x | y
            if not any((c, not w) in both for c, w in both):  # (a condition both ways: never)
                out.add(both)
    return _small(out)


def _or(a, b):
    return _small(set(a) | set(b))


def _small(truth: set):
    """`truth` without conjunctions containing another; a traced bool past _MAX_TERMS."""
    kept: list = []
    for c in sorted(truth, key=len):
        if not any(k <= c for k in kept):
            kept.append(c)
    if len(kept) <= _MAX_TERMS and all(len(c) <= _MAX_PAIRS for c in kept):
        return frozenset(kept)
    return frozenset({frozenset({(traced_truth(kept).value, True)})})


def traced_truth(truth) -> "Tracer | None":
    """The traced bool of a truth (None: always)."""
    from . import semantics as sem

    if frozenset() in truth:
        return None
    either = None
    for chain in sorted(truth, key=lambda c: sorted(v.id for v, _ in c)):
        both = None
        for cond, when in sorted(chain, key=lambda cw: cw[0].id):
            t = Tracer(cond) if when else sem.ufunc("logical_not", Tracer(cond))
            both = t if both is None else sem.ufunc("logical_and", both, t)
        either = both if either is None else sem.ufunc("logical_or", either, both)
    return either


def _refuse_untracked(box: ctx.Box, boxes: list, mine: dict, tables: dict) -> None:
    """A write into `box` where it may be the array of a box with a link to
    no box (`link` with `other` None: a view, a name a loop may have rebound)
    is refused, where that link's condition holds."""
    for b in boxes:
        same = _ALWAYS if b is box else None
        for cond, when, other, holder in b.links or ():
            if other is not None:
                continue
            if same is None:
                same = same_where(mine, identity(b, tables))
            where = same if cond is None else _and(same, frozenset({frozenset({(cond, when)})}))
            if where:
                raise UnsupportedError(
                    "this array is written in place, and a traced condition decided whether a name refers to "
                    "it or to another array (or a view of one); looptrace cannot follow which array the write "
                    "reaches", ctx.current_loc(), "take a .copy() where the name is rebound, or use separate names")


def note_write(box: ctx.Box) -> None:
    """Record, in every enclosing branch frame that does not own `box`, the
    value it had before the branch wrote it (so the branch can be undone and
    merged). Inside a loop the box holds the loop body's argument: the value
    at the levels outside the loop is the entry value the loop captured."""
    f = ctx.state().frame
    value = box.value
    while f is not None and not f.owns(box):
        if f.kind == "branch" and id(box) not in f.captured:
            f.captured[id(box)] = (box, value, None)
        elif f.kind == "loop" and id(box) in f.captured:
            value = f.captured[id(box)][1]
        f = f.parent


def note_sure_write(box: ctx.Box) -> None:
    """Record a write into an argument that runs whenever the function gets
    this far: one at the function's own level, outside every traced branch,
    loop and `try` (a `return` under a traced condition puts what follows in
    a branch: returns.py). NumPy refuses it on a read-only array even where
    it changes nothing (`x[x < -1e9] = 0`, `x[2:2] = 0`); the call does too
    (Program.sure_writes, api.py), where the write-back finds no change.
    Not names rebound to arrays (`st.rebinding`: control.py, after a loop
    that swaps them), which writes nothing in the plain function."""
    st = ctx.state()
    if st.frame is st.root and not st.try_stack and not st.rebinding:
        argi = st.arg_boxes.get(id(box))
        if argi is not None and argi not in st.sure_writes:
            st.sure_writes[argi] = ctx.current_loc()


def is_tracer(x: Any) -> bool:
    return isinstance(x, Tracer)


def as_array0d(x: Any) -> Any:
    """x, marked a 0-d ndarray when it is a 0-d Tracer made just now (by an
    array constructor: np.zeros(()), np.array(v)): `+=` then writes into it."""
    if isinstance(x, Tracer) and x.ndim == 0 and x.base is None:
        x.array0d = True
    return x


def runtime_length_error(what: str) -> UnsupportedError:
    """The refusal of `what` (an index, .shape, a NumPy function) on an array of a run-time length: the
    tracer knows only a bound of that length (ir/core.py Dim), not a Python int to slice or shape with."""
    return UnsupportedError(
        f"{what} of an array whose length is known only at run time (np.array of a list grown under a "
        "condition) is not supported", ctx.current_loc(),
        "fill a preallocated array and keep a count instead: out[k] = v; k += 1; then use out[:k] only in "
        "reductions, or return the list's array as it is")
