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
            _write_linked(self._box, value, {id(self._box)})

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
    while that Tracer lives."""
    box.links = (box.links or []) + [(cond, when, other, holder)]
    if other is not None:
        other.links = (other.links or []) + [(cond, when, box, None)]


def linked_boxes(box: ctx.Box) -> list:
    """Every box `box` is linked to, directly or through others."""
    seen, todo = {id(box): box}, [box]
    while todo:
        for _, _, other, _ in todo.pop().links or ():
            if other is not None and id(other) not in seen:
                seen[id(other)] = other
                todo.append(other)
    return [b for b in seen.values() if b is not box]


def _write_linked(box: ctx.Box, value: Value, done: set) -> None:
    """After a write into `box` (new contents `value`): every box linked to
    it, directly or through others, takes `value` where it is `box`'s array,
    where the conditions along some chain of links hold together
    (`_same_array_where`). A chain needing one condition both true and false
    is none: `a, b = x, y` where c, `y, x` where not, links a to x where c,
    x to b where not c and b to y where c, and a write into `a` must reach y
    where not c by the direct link, not be stopped at y as a box already
    written through x (a swap's second argument was never written)."""
    from . import semantics as sem

    for other, chains in _same_array_where(box, done).values():
        ctx.touch(other)
        if other.value.dtype != value.dtype or tuple(other.value.shape) != tuple(value.shape):
            raise UnsupportedError(
                "this array is written in place, and a traced condition decided which of two arrays of "
                "different types its name refers to; looptrace cannot follow which array the write reaches",
                ctx.current_loc(), "use separate names, or take a .copy() where the name is rebound")
        where = _any_chain(chains)
        new = value if where is None else sem.select(where, Tracer(value), Tracer(other.value)).value
        note_write(other)
        other.set(new)


_MAX_CHAINS = 512  # chains of links followed from one written box (a few arrays give a handful)


def _same_array_where(box: ctx.Box, done: set) -> dict:
    """id -> (box, chains) for each box linked to `box`, a chain the set of
    (condition, truth) its links need (tracer/array.py `link`): simple
    paths, those needing a condition both ways dropped. Links of a closed
    `if`, or whose holder is gone, are removed on the way."""
    st = ctx.state()
    found: dict = {}
    count = [0]

    def walk(b: ctx.Box, chain: frozenset, on_path: frozenset) -> None:
        for entry in list(b.links or ()):
            cond, when, other, holder = entry
            f = st.value_frames.get(cond.id) if cond is not None else None
            if (f is not None and not ctx.visible(f, st.frame)) or (holder is not None and holder() is None):
                b.links.remove(entry)  # the `if` that linked them is closed, or the name let go of the array
                continue
            if cond is not None and (cond, not when) in chain:
                continue  # (no run takes this chain)
            if other is None:
                raise UnsupportedError(
                    "this array is written in place, and a traced condition decided whether a name refers to "
                    "it or to another array (or a view of one); looptrace cannot follow which array the write "
                    "reaches", ctx.current_loc(), "take a .copy() where the name is rebound, or use separate names")
            if id(other) in on_path or id(other) in done:
                continue
            count[0] += 1
            if count[0] > _MAX_CHAINS:
                raise UnsupportedError("this array is written in place, and traced conditions link it to too many "
                                       "other arrays for looptrace to follow which arrays the write reaches",
                                       ctx.current_loc(), "take a .copy() where a name is rebound under a condition")
            longer = chain | {(cond, when)} if cond is not None else chain
            found.setdefault(id(other), (other, []))[1].append(longer)
            walk(other, longer, on_path | {id(other)})

    walk(box, frozenset(), frozenset({id(box)}))
    return found


def _any_chain(chains: list) -> "Tracer | None":
    """The traced truth that one of the chains' conditions all hold (None:
    always, a chain with no condition); a chain containing another is left
    out (it adds nothing)."""
    from . import semantics as sem

    if any(not c for c in chains):
        return None
    kept = []
    for c in sorted(set(chains), key=len):
        if not any(k <= c for k in kept):
            kept.append(c)
    either = None
    for chain in kept:
        both = None
        for cond, when in sorted(chain, key=lambda cw: cw[0].id):
            t = Tracer(cond) if when else sem.ufunc("logical_not", Tracer(cond))
            both = t if both is None else sem.ufunc("logical_and", both, t)
        either = both if either is None else sem.ufunc("logical_or", either, both)
    return either


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
