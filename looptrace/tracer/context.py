"""Trace state: the stack of blocks being built and how ops are emitted.

Invariant: all tracing state (the trace stack, the source-location
overrides) is per thread, so two threads tracing at once never see each
other's frames: another thread's trace is never mistaken for a nested call.

A `Frame` builds one block (the function body, a loop body, a branch). Boxes
(the mutable cells behind traced arrays) created in an outer frame and touched
inside a loop body are captured lazily: the body gets a block argument for
them on first touch, so an in-place write in a loop becomes a carried value
without any annotation from the user.
"""
from __future__ import annotations

import collections
import linecache
import sys
import threading
from typing import Any

import numpy as np

from looptrace.errors import InternalError
from looptrace.ir.core import Block, Op, SourceLoc, UNKNOWN_LOC, Value, literal
from looptrace.ir.primitive import Primitive, ShapeMismatch

# Code objects produced by the AST converter: frames running them are user code.
USER_CODE: dict[int, Any] = {}


def register_user_code(code) -> None:
    USER_CODE[id(code)] = code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            register_user_code(const)


class at:
    """Attribute the ops emitted inside this block to `loc` (a loop header)."""

    def __init__(self, loc: SourceLoc | None):
        self.loc = loc

    def __enter__(self) -> None:
        _LOCAL.override.append(self.loc)

    def __exit__(self, *exc) -> None:
        _LOCAL.override.pop()


class _ThreadState(threading.local):
    """One per thread: the traces in progress (innermost last) and the
    source locations `at` forces."""

    def __init__(self):
        self.stack: list[TraceState] = []
        self.override: list = []


def current_loc() -> SourceLoc:
    """The innermost user source line on the Python stack."""
    override = _LOCAL.override
    if override and override[-1] is not None:
        return override[-1]
    frame = sys._getframe(1)
    while frame is not None:
        if id(frame.f_code) in USER_CODE:
            return _loc_of_line(frame.f_code, frame.f_lineno)
        frame = frame.f_back
    return UNKNOWN_LOC


def _loc_of_line(code, line: int) -> SourceLoc:
    """The SourceLoc of `line` of user code `code`, made once per trace (every
    op emitted on a line shares it: building one reads linecache); a new trace
    reads the line again, as it may have changed on disk since."""
    stack = _LOCAL.stack
    locs = stack[-1].locs if stack else {}
    key = (id(code), line)
    loc = locs.get(key)
    if loc is None:
        file = code.co_filename
        loc = locs[key] = SourceLoc(file, line, linecache.getline(file, line).rstrip("\n"))
    return loc


class Box:
    """A mutable cell holding the current SSA value of one traced array."""

    __slots__ = ("value", "frame", "version", "value_at_exit", "links")

    def __init__(self, value: Value, frame: "Frame"):
        self.value = value
        self.frame = frame
        self.version = 0
        # arrays this one may be, decided by a traced condition (tracer/array.py's `link`):
        # [(condition Value or None, when, other Box or None: writes refused, holder weakref or None)]
        self.links: list | None = None

    def set(self, value: Value) -> None:
        self.value = value
        self.version += 1


class Frame:
    """One block under construction."""

    def __init__(self, parent: "Frame | None", kind: str):
        self.parent = parent
        self.kind = kind  # "function", "loop", "branch"
        self.block = Block([], [], [])
        # boxes captured by this loop frame: id(box) -> (box, entry value, block arg)
        self.captured: dict[int, tuple[Box, Value, Value]] = {}
        self.depth = 0 if parent is None else parent.depth + 1
        self.raised = False  # a `raise` ends this block unconditionally (tracer/checks.py)

    def owns(self, box: Box) -> bool:
        f: Frame | None = box.frame
        while f is not None:
            if f is self:
                return True
            f = f.parent
        return False


class TraceState:
    def __init__(self):
        self.frame = Frame(None, "function")
        self.root = self.frame
        self.loops: dict[tuple, Any] = {}
        self.producers: dict[int, Op] = {}  # value id -> the op that emitted it (via `emit`)
        # value id -> the traced-start slices (start, n, k, axis, loc) it is computed from, whose
        # static length NumPy would shorten where they run past the end (tracer/windows.py)
        self.window_origins: dict[int, tuple] = {}
        self.python_ints: dict[int, str] = {}  # value id -> op name: a Python-int product, power or shift
        self.python_divs: dict[int, str] = {}  # value id -> op name: a division of two Python numbers
        self.python_sums: dict[int, str] = {}  # value id -> op name: a Python-int sum or difference
        self.python_steps: dict[int, str] = {}  # ... of a traced Python int and a constant one
        # the counted loops (static range, no break) whose bodies are being traced, innermost last:
        # (index Value, LoopIter, LoopTrace), for windows.check_fits (a last slice NumPy shortens)
        self.counted: list[tuple] = []
        # a for loop's index value id -> its LoopIter (carries.LoopIter.item): the index lies between the
        # start and the stop, which tells varying.py that a slice bound `i + 1` is never negative
        self.loop_iters: dict[int, Any] = {}
        self.dim_counts: dict = {}  # Dim id -> the traced count it is (np.array of a grown list: numpy_api.py)
        self.python_casts: dict = {}  # value id -> dtype: a Python int converted to a narrower int dtype
        self.call_depth: dict = {}  # a user function's code -> how many of its calls are being traced
        self.recursed: set = set()  # the user functions that called themselves while traced
        self.own_sites = 0  # arrays made from Python values so far (own_arrays.py)
        self.promoted: set = set()  # ... those made traced (written under traced control in an earlier trace)
        # value id -> (data, position, axis): a window realigned onto another's positions (masked.py `_shifted`),
        # read at position(p) of data's axis where a loop reads it element by element (stepped.py)
        self.shifted_reads: dict[int, tuple] = {}
        self.arg_boxes: dict[int, int] = {}  # id of the box of each array argument -> its position
        self.sure_writes: dict[int, Any] = {}  # argument position -> line of a write that always runs (array.py)
        self.rebinding = 0  # > 0 while names are rebound to arrays, not written (control.py, array.py)
        # reshape views of arguments that another memory order would make copies (tracer/layout.py):
        # id of the argument's box, and of each such copy -> (weak reference to the reshape,
        # argument position, line, the layout traced); the arguments such a write showed the
        # program to hold for the layout traced only -> (the reshape's line, that layout)
        self.layout_views: dict[int, list] = {}
        self.layout_args: dict[Any, tuple] = {}
        # ids of the boxes of arrays a converted user function was passed or closes over, while it runs:
        # its caller can still see them (control.LoopTrace._detach)
        self.foreign_boxes: collections.Counter = collections.Counter()
        self.value_frames: dict[int, Frame] = {}  # value id -> the frame whose block defines it
        self.captured: list[tuple[np.ndarray, np.ndarray]] = []  # (array, its contents when traced)
        self.globals_read: list[tuple[dict, str, Any]] = []  # (module dict, name, value when traced)
        self.try_stack: list = []  # the `try` bodies being traced (tracer/checks.py)
        self.externals = None  # what the trace reads from outside its arguments (tracer/external.py)
        self.notes: list[str] = []  # for explain: what tracing could not do as usual (Program.notes)
        self.unrolled = 0  # iterations of range loops unrolled so far, their index a Python int (control.for_)
        self.locs: dict[tuple, SourceLoc] = {}  # (id of user code, line) -> its SourceLoc (current_loc)

    def push(self, kind: str) -> Frame:
        self.frame = Frame(self.frame, kind)
        return self.frame

    def pop(self, frame: Frame) -> None:
        assert self.frame is frame
        for v in frame.block.args:
            self.value_frames.setdefault(v.id, frame)
        self.frame = frame.parent

    def check_visible(self, v: Value) -> None:
        """Refuse a value defined in a loop body or branch that is already
        closed: it escaped through a Python object changed inside (a dict, a
        list, an attribute), which looptrace does not carry."""
        f = self.value_frames.get(v.id)
        if f is None or visible(f, self.frame):
            return
        from looptrace.errors import UnsupportedError

        raise UnsupportedError(
            f"a value computed inside a {'loop' if f.kind == 'loop' else 'conditional'} is used outside "
            "it: it escaped through a Python object changed inside (a dict, a list item, an attribute)",
            current_loc(), "keep values that change in a loop in plain variables (or arrays written "
            "in place), or grow a list with append")


def visible(defined_in: Frame, frame: Frame | None) -> bool:
    """Is a value of `defined_in`'s block in scope in `frame`'s block?"""
    while frame is not None:
        if frame is defined_in:
            return True
        frame = frame.parent
    return False


_LOCAL = _ThreadState()


def state() -> TraceState:
    stack = _LOCAL.stack
    if not stack:
        raise InternalError("no trace in progress")
    return stack[-1]


def tracing() -> bool:
    return bool(_LOCAL.stack)


# traces in progress in all threads: a warm call checks this one number (api.py) and only
# when it is not 0 asks `tracing()`, which is per thread
TRACES = [0]
_TRACES_LOCK = threading.Lock()


class trace_scope:
    def __enter__(self) -> TraceState:
        st = TraceState()
        _LOCAL.stack.append(st)
        with _TRACES_LOCK:
            TRACES[0] += 1
        return st

    def __exit__(self, *exc) -> None:
        _LOCAL.stack.pop()
        with _TRACES_LOCK:
            TRACES[0] -= 1


def touch(box: Box) -> None:
    """Make `box` readable/writable in the current frame: capture it into
    every enclosing loop frame between its owner and here."""
    frame = state().frame
    if box.frame is frame:  # the array's own block (most reads): nothing to capture
        return
    chain = []
    f = frame
    while f is not None and not f.owns(box):
        if f.kind == "loop" and id(box) not in f.captured:
            chain.append(f)
        f = f.parent
    for f in reversed(chain):  # outermost first: inner entry values come from outer args
        entry = box.value
        arg = Value(entry.dtype, entry.shape)
        f.block.args.append(arg)
        f.captured[id(box)] = (box, entry, arg)
        box.value = arg


def emit(prim: Primitive, inputs: list[Value], loc: SourceLoc | None = None, **attrs) -> list[Value]:
    """Append `prim(inputs, attrs)` to the current block; return its outputs."""
    loc = loc or current_loc()
    try:
        avals = prim.abstract(*inputs, **attrs)
    except ShapeMismatch as e:
        from .numpy_errors import shape_error

        raise shape_error(e, loc) from None
    outs = tuple(Value(dtype, tuple(shape)) for dtype, shape in avals)
    op = Op(prim, tuple(inputs), outs, dict(attrs), loc)
    st = state()
    if st.try_stack:
        from .checks import recorded_in_try, refuse_in_try

        if recorded_in_try(prim, list(inputs), attrs):  # (a check the `except` after it handles: try_record)
            return list(outs)
        refuse_in_try(prim, attrs, loc)
    for v in inputs:
        st.check_visible(v)
    st.frame.block.ops.append(op)
    for v in outs:
        st.producers[v.id] = op
        st.value_frames[v.id] = st.frame
    if st.window_origins:
        origins = tuple(o for v in inputs for o in st.window_origins.get(v.id, ()))
        if origins:
            for v in outs:
                st.window_origins[v.id] = unique_slices(origins)
    return list(outs)


def unique_slices(slices: tuple) -> tuple:
    """(start, n, k, axis, loc) slices without repeats (a traced start by identity)."""
    seen, out = set(), []
    for sl in slices:
        key = (id(sl[0]), sl[1], sl[2], sl[3])
        if key not in seen:
            seen.add(key)
            out.append(sl)
    return tuple(out)


def affine(v: Value) -> tuple[Value, int]:
    """(base, offset) with v == base + offset, following the adds and
    subtracts of integer constants that produced `v` (so `X[t - 3:t]` has a
    static length)."""
    op = state().producers.get(v.id)
    if op is None:
        return v, 0
    name = op.prim.name
    if name == "convert" and op.inputs[0].dtype.kind in "iu" and v.dtype.kind in "iu":
        return affine(op.inputs[0])
    if name not in ("add", "subtract") or len(op.inputs) != 2:
        return v, 0
    a, b = op.inputs
    if _int_const(b) is not None:
        base, off = affine(a)
        return base, off + (_int_const(b) if name == "add" else -_int_const(b))
    if name == "add" and _int_const(a) is not None:
        base, off = affine(b)
        return base, off + _int_const(a)
    return v, 0


def _int_const(v: Value) -> int | None:
    if v.is_const and v.shape == () and np.dtype(v.dtype).kind in "iu":
        return int(v.const)
    return None


def emit1(prim: Primitive, inputs: list[Value], **attrs) -> Value:
    (out,) = emit(prim, inputs, **attrs)
    return out


def own_const(x: Any, dtype: Any = None) -> Value:
    """An array looptrace made while tracing (an index table, np.eye, np.arange):
    a constant no one else holds, so no call checks that it is unchanged."""
    arr = np.array(x, dtype=dtype, copy=True)
    arr.flags.writeable = False
    return literal(arr)


def big_int_error(x: int | None = None) -> Exception:
    """A Python int past 64 bits in a traced program (`best = 2**64`, then a
    loop): a BigIntError, an OverflowError too, as plain NumPy's where the int
    meets a NumPy int (`x_i64[i] + 2**63`)."""
    from looptrace.errors import BigIntError

    what = "a Python int" if x is None else f"the Python int {x}"
    return BigIntError(f"{what} past 64 bits: looptrace holds a traced Python int as an int64",
                       current_loc(),
                       "for a sentinel use float('inf') or sys.maxsize; for 64-bit hashing, np.uint64 "
                       "values (NumPy wraps them around); for big-integer arithmetic, the function "
                       "without looptrace")


def _made_by(x: np.ndarray, st: Any) -> bool:
    """Did trace state `st` make x from Python values (own_arrays.made)?"""
    where = getattr(x, "_lt_where", None)
    return where is not None and where[0] is st


def const_value(x: Any, dtype: Any = None) -> Value:
    if isinstance(x, int) and not isinstance(x, bool) and not -2**63 <= x < 2**63:
        kind = None if dtype is None else np.dtype(dtype).kind
        if kind in ("f", "c"):
            # meeting a float (`x[i] * 10**20`), NumPy converts the int with float(), whose
            # OverflowError past float64 is plain's too, then casts (float32: inf past its range)
            with np.errstate(over="ignore"):
                x = np.array(float(x), dtype=dtype)
        elif kind != "u" or not 0 <= x < 2**64:
            # a Python int past int64 (a uint64 array's constant excepted: u64 & 0xFFFF...): looptrace's
            # Python ints are int64s (a comparison with one is exact without it: semantics._beyond_the_ints)
            raise big_int_error(x)
    arr = np.array(x, dtype=dtype, copy=True)
    arr.flags.writeable = False
    if isinstance(x, np.ndarray) and x.flags.writeable and _LOCAL.stack and not _made_by(x, _LOCAL.stack[-1]):
        # a mutable array baked into the program: calls check it is unchanged (not one this trace made
        # from Python values, `dr = np.array([1, -1, 0, 0])`: every plain call makes it anew)
        captured = _LOCAL.stack[-1].captured
        if not any(a is x for a, _ in captured):  # (once, however often the trace reads it)
            captured.append((x, np.array(x, copy=True)))
    return literal(arr)
