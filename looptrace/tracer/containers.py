"""Python containers and objects changed under traced control flow.

The two branches of a traced `if` run one after the other, as Python,
against the same objects, and a loop body runs once for all its iterations:
a change made there to a list, dict, set, deque or object of the user's
class was made once and unconditionally (`lst = []; if x[0] > 0.5:
lst.append(1)` gave len(lst) == 1 on every call). A `Watch` copies the
observable state of the objects a region can reach (the variables of the
user's function running it, the globals its code names, and through them
items, attributes and the closures of the user's functions) before the
region runs, and compares after:

- `if`: each object is restored between the branches; where a branch left an
  item or attribute holding another number or array (`lst[0] = 5`,
  `st.count = 7`, a short list sorted), the object takes part in the merge as
  one more variable (a select of each slot); any other change (a length, a
  key, a Python object) is refused, naming the line that made it;
- loop body: any change is refused (`ChangedInLoop`); control.for_/while_
  run the loop as Python instead where its iterations are known while
  tracing (a short range, a while whose test reads no traced value).

Invariant: when a region ends the objects hold their state from before it;
only a merged `if` writes its result back (`merged_setter`).
"""
from __future__ import annotations

import collections
import itertools
import operator
import sys
import threading
import types
from contextlib import contextmanager
from typing import Any, Callable

import numpy as np

from looptrace.errors import ConcreteIndexError, UnsupportedError

from . import context as ctx
from . import grown, merge
from .carries import ShapeChange
from .values import Segment

MAX_OBJECTS = 4000  # objects watched at most per region (deeper structures are not followed)
MAX_DEPTH = 6
MAX_SCAN = 2000  # items of one container looked into for more containers

_MUTABLE = (list, dict, set, collections.deque, bytearray)
_PLAIN = (int, float, bool, str, complex, bytes, type(None))
_ACTIVE = threading.local()  # .stack: the watches whose region is running (innermost last)

_HINT_IF = ("change it outside the `if` (the condition's effect kept in a variable), or use a NumPy array "
            "written at an index and a count in a variable")
_HINT_LOOP = ("change it after the loop, or keep the values in a NumPy array written at an index (a list "
              "made in the function and grown with .append works too)")


class ChangedInLoop(ConcreteIndexError, ShapeChange, UnsupportedError):
    """A loop body traced once changed a Python object made before the loop.
    (A ConcreteIndexError and a ShapeChange so that control.for_/while_ run a
    loop whose iterations are known while tracing as Python instead.)"""


# --- what is watched --------------------------------------------------------------------------------
def caller_roots() -> list[tuple[str, Any]]:
    """(name, value) of the innermost user frame's variables and of the
    globals its code names: what the code running there can reach."""
    frame = sys._getframe(1)
    while frame is not None and id(frame.f_code) not in ctx.USER_CODE:
        frame = frame.f_back
    if frame is None:
        return []
    roots = [(n, v) for n, v in frame.f_locals.items() if not n.startswith("__lt")]
    return roots + _globals_of(frame.f_code, frame.f_globals)


def _globals_of(code: types.CodeType, glb: dict) -> list[tuple[str, Any]]:
    real = getattr(glb, "real", glb)  # (converted code's globals: external.TracedGlobals)
    return [(n, dict.get(real, n)) for n in _global_names(code) if dict.__contains__(real, n)]


_NAMES: dict = {}


def _global_names(code: types.CodeType) -> tuple:
    got = _NAMES.get(code)
    if got is None:
        names = set(code.co_names)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                names.update(_global_names(c))
        got = _NAMES[code] = tuple(sorted(n for n in names if not n.startswith("__")))
    return got


_USER_CLASS: dict = {}


def _user_class(cls: type) -> bool:
    """A class of the user's own modules (its instances' attributes are watched)."""
    got = _USER_CLASS.get(cls)
    if got is None:
        mod = getattr(cls, "__module__", "") or ""
        top = mod.split(".")[0]
        path = getattr(sys.modules.get(mod), "__file__", "") or ""
        got = top not in ("looptrace", "numpy", "builtins") and top not in sys.stdlib_module_names \
            and "site-packages" not in path and "dist-packages" not in path
        _USER_CLASS[cls] = got
    return got


def _user_function(f: types.FunctionType) -> bool:
    if id(f.__code__) in ctx.USER_CODE:
        return True
    from .runtime import _users_code

    return _users_code(f)


def _watched(x: Any, held: bool = False) -> bool:
    """Is x an object whose state is copied (a container, a user's object)?
    A list held as one traced array (grown.py) is, with `held` (an `if`):
    a loop's appends to it are grown.py's own."""
    if isinstance(x, _MUTABLE):
        return held or not (type(x) is list and any(isinstance(e, Segment) for e in x))
    return _user_class(type(x)) and hasattr(x, "__dict__") and not isinstance(x, (type, types.ModuleType))


def _children(label: str, x: Any):
    """(label, value) of what x refers to that may lead to more watched objects."""
    if isinstance(x, (list, tuple, collections.deque)):
        return ((f"{label}[{k}]", e) for k, e in itertools.islice(enumerate(x), MAX_SCAN))
    if isinstance(x, dict):
        return ((f"{label}[{k!r}]", v) for k, v in itertools.islice(dict.items(x), MAX_SCAN))
    if isinstance(x, (set, frozenset)):
        return ((f"an element of {label}", e) for e in itertools.islice(x, MAX_SCAN))
    if isinstance(x, types.FunctionType):
        if not _user_function(x):
            return ()
        cells = [(n, c.cell_contents) for n, c in zip(x.__code__.co_freevars, x.__closure__ or ())
                 if _filled(c)]
        return cells + _globals_of(x.__code__, x.__globals__)
    if isinstance(x, types.MethodType):
        return [(label, x.__self__), (label, x.__func__)]
    if _watched(x):
        methods = [(label, f) for f in vars(type(x)).values() if isinstance(f, types.FunctionType)]
        return [(f"{label}.{k}", v) for k, v in vars(x).items()] + methods
    return ()


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _reach(roots: list[tuple[str, Any]], held: bool = False) -> dict[int, tuple[Any, str]]:
    """id -> (object, label) of the watched objects reachable from roots
    (lists held as one traced array too, with `held`: `_watched`)."""
    out: dict[int, tuple[Any, str]] = {}
    seen: set[int] = set()
    stack = [(label, x, 0) for label, x in reversed(roots)]
    while stack and len(out) < MAX_OBJECTS:
        label, x, depth = stack.pop()
        if isinstance(x, _PLAIN) or isinstance(x, np.ndarray) or id(x) in seen:
            continue
        seen.add(id(x))
        if _watched(x, held):
            out[id(x)] = (x, label)
        if depth < MAX_DEPTH:
            stack.extend((lb, v, depth + 1) for lb, v in reversed(list(_children(label, x))))
    return out


# --- states -----------------------------------------------------------------------------------------
def _state(x: Any) -> Any:
    """A shallow copy of what can be seen of x: its items or attributes."""
    if isinstance(x, (list, collections.deque)):
        return list(x)
    if isinstance(x, dict):
        return dict(dict.items(x))
    if isinstance(x, set):
        return frozenset(x)
    if isinstance(x, bytearray):
        return bytes(x)
    return dict(vars(x))


def _restore(x: Any, state: Any) -> None:
    if isinstance(x, list):
        list.__setitem__(x, slice(None), state)
    elif isinstance(x, collections.deque):
        x.clear()
        x.extend(state)
    elif isinstance(x, dict):
        dict.clear(x)
        dict.update(x, state)
    elif isinstance(x, set):
        set.clear(x)
        set.update(x, state)
    elif isinstance(x, bytearray):
        x[:] = state
    else:
        d = vars(x)
        d.clear()
        d.update(state)


def _same(a: Any, b: Any) -> bool:
    if type(a) is list and type(b) is list and _expanded(a, b):  # (expanded by a read: grown.collapsed)
        a, b = grown.collapsed(a), grown.collapsed(b)
    if type(a) is not type(b) or len(a) != len(b):
        return False
    if isinstance(a, (frozenset, bytes)):
        return a == b
    if isinstance(a, dict):
        if list(a) != list(b):
            return False
        a, b = list(a.values()), list(b.values())
    return all(map(_same_item, a, b))


def _expanded(a: list, b: list) -> bool:
    """Does one state of a list hold a segment where the other holds elements `grown.expand` made?"""
    return any(isinstance(e, Segment) for e in (*a, *b)) and \
        any(isinstance(e, grown.GrownElement) or isinstance(e, tuple) and e and isinstance(e[0], grown.GrownElement)
            for e in (*a, *b))


def _identical(a: list, b: list) -> bool:
    """The same items, the same objects (a list a branch expanded is `_same`, not identical)."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _same_item(x: Any, y: Any) -> bool:
    return x is y or type(x) is type(y) and type(x) in _PLAIN and x == y


def _kind(x: Any) -> str:
    name = type(x).__name__
    return f"a {name}" if isinstance(x, _MUTABLE) else f"an object of class {name}"


def _change(old: Any, new: Any, attrs: bool = False) -> str:
    """What changed between two states (of an object's attributes: attrs), in words."""
    if isinstance(old, list) and isinstance(new, list) and any(isinstance(e, Segment) for e in (*old, *new)):
        return ("its items (a list held as one traced array: x.tolist(), a loop's appends, a list argument of "
                "numbers; a branch may read it, not change it)")
    if isinstance(old, dict) and isinstance(new, dict) and set(old) != set(new):
        added, gone = [k for k in new if k not in old], [k for k in old if k not in new]
        parts = ([f"{', '.join(map(repr, added))} added"] if added else []) + \
            ([f"{', '.join(map(repr, gone))} removed"] if gone else [])
        return f"its keys ({'; '.join(parts)})"
    if len(old) != len(new):
        return f"its length ({len(old)} before, {len(new)} after)"
    if isinstance(old, (frozenset, bytes)):
        return "its contents"
    keys = list(old) if isinstance(old, dict) else range(len(old))
    for k in keys:
        if not _same_item(old[k], new[k]):
            what = f"`.{k}`" if attrs else f"item {k!r}"
            if merge.array_like(old[k]) and merge.array_like(new[k]):
                return f"{what} is set"
            return f"{what} becomes {merge._kind(new[k])}, where it was {merge._kind(old[k])}"
    return "its contents"


# --- watching a region --------------------------------------------------------------------------------
class Watch:
    """The watched objects a region can reach, and their states before it."""

    def __init__(self, objects: dict[int, tuple[Any, str]]):
        self.objects = objects
        self.before = {k: _state(x) for k, (x, _) in objects.items()}
        self.held = [k for k, st in self.before.items() if type(st) is list and any(isinstance(e, Segment) for e in st)]
        self.locs: dict[int, Any] = {}  # id -> the line of the first change seen (note)

    @classmethod
    def of_caller(cls) -> "Watch":
        return cls(_reach(caller_roots(), held=True))

    @contextmanager
    def active(self):
        stack = _stack()
        stack.append(self)
        try:
            yield self
        finally:
            stack.remove(self)

    def changed(self) -> dict[int, Any]:
        """id -> the state now, of each object whose state is not what it was."""
        out = {}
        for k, (x, _) in self.objects.items():
            now = _state(x)
            if not _same(self.before[k], now):
                out[k] = now
        return out

    def restore(self, changed: dict[int, Any] | None = None) -> None:
        """Each changed object as it was; a list held as one traced array
        that a branch expanded (its elements read in the branch's block) too."""
        changed = self.changed() if changed is None else changed
        expanded = [k for k in self.held
                    if k not in changed and not _identical(self.before[k], _state(self.objects[k][0]))]
        for k in (*changed, *expanded):
            _restore(self.objects[k][0], self.before[k])

    def loc_of(self, k: int) -> Any:
        return self.locs.get(k) or ctx.current_loc()


def _stack() -> list:
    if not hasattr(_ACTIVE, "stack"):
        _ACTIVE.stack = []
    return _ACTIVE.stack


def note(x: Any, reordered: str = "") -> Any:
    """`x` is about to be changed here (a store into it, a method that changes
    it): the line, for the error that may follow; a change to an object
    from outside the function is refused (external.refuse_change). Returns x.
    `reordered` (".sort()", ".reverse()", "x[k] = v"): see `_refuse_reordered_in_loop`."""
    from . import external

    external.refuse_change(x)
    _remember_line(x)
    if reordered:
        _refuse_reordered_in_loop(x, reordered)
    return x


def _refuse_reordered_in_loop(x: list, how: str) -> None:
    """x.sort() / x.reverse() / x[k] = v (runtime.mutated_item) in the body of
    a traced loop, of a list held as one traced array (grown.py) made before
    the loop: the loop's own changes
    to such a list are its appends (carried by grown.py), so the new order
    was made once for all iterations (a read of it in the body saw one
    order: WRONG; after the loop the escaped stack: an error at a later
    line). ChangedInLoop here, at the changing line: control.for_/while_ run
    the loop as Python where its iterations are known while tracing, and
    otherwise the error names this line."""
    for w in getattr(_ACTIVE, "stack", None) or ():
        found = getattr(w, "held_lists", {}).get(id(x))
        if found is not None and found[0] is x:
            raise ChangedInLoop(
                f"`{found[1]}` (a list held as one traced array, made before this loop) is reordered or "
                f"written inside the loop ({how}): looptrace traces a loop's body once for all its "
                "iterations, so the change would be made once", ctx.current_loc(),
                "change it before or after the loop, or keep the values in a NumPy array "
                "(a = np.array(lst)) written a[i] = v, or reordered a[:] = np.sort(a) or a[:] = a[::-1]")


def _remember_line(x: Any) -> None:
    """The line of a possible change to x, for the error of a loop body that changes it."""
    stack = getattr(_ACTIVE, "stack", None)
    if stack:
        k = id(x)
        for w in stack:
            if k in w.objects and k not in w.locs:
                w.locs[k] = ctx.current_loc()


_CHANGING = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "popleft",
                       "appendleft", "extendleft", "rotate", "update", "setdefault", "popitem", "add",
                       "discard", "difference_update", "intersection_update", "symmetric_difference_update",
                       "__setitem__", "__delitem__", "__iadd__", "__imul__", "__ior__", "__iand__"})


def note_call(fn: Any, args: tuple) -> None:
    """A call that may change a watched object: a container's changing method
    (`lst.pop()`), or a library function given it (`heapq.heappush(h, v)`).
    Such a change to an object from outside the function is refused."""
    changed = _changed_by(fn, args)
    if changed is not None:
        from . import external

        external.refuse_change(changed)
    if not getattr(_ACTIVE, "stack", None):
        return
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, _MUTABLE) and getattr(fn, "__name__", "") in _CHANGING:
        name = fn.__name__
        note(owner, f".{name}()" if name in ("sort", "reverse") and type(owner) is list else "")
    elif not isinstance(fn, types.FunctionType) or not _user_function(fn):
        for a in args:  # (a library function given a container may change it, or only read it: np.stack(L))
            if isinstance(a, _MUTABLE):
                _remember_line(a)


def outside_given(fn: Any, args: tuple) -> list:
    """The objects from outside the function that a library function is given
    (which it may change, or only read: np.stack(cfg.mats)), with their states,
    for `refuse_if_changed` after the call."""
    from . import external

    ex = external.current()
    if ex is None or not ex.sources or external._runs_users_code(fn) or _changed_by(fn, args) is not None:
        return []
    return [(a, _state(a)) for a in args if isinstance(a, _MUTABLE) and ex.locate(a) is not None]


def refuse_if_changed(given: list) -> None:
    """A change the call made to an object from outside is refused (external.refuse_change)."""
    for a, before in given:
        if not _same(before, _state(a)):
            from . import external

            _restore(a, before)  # (as the caller had it: the error says the change is not made)
            external.refuse_change(a)


_CHANGING_FUNCTIONS = {"heapq": frozenset({"heappush", "heappop", "heapreplace", "heappushpop", "heapify"}),
                       "_heapq": frozenset({"heappush", "heappop", "heapreplace", "heappushpop", "heapify"}),
                       "bisect": frozenset({"insort", "insort_left", "insort_right"}),
                       "_bisect": frozenset({"insort", "insort_left", "insort_right"}),
                       "random": frozenset({"shuffle"}), "builtins": frozenset({"setattr", "delattr"})}


def _changed_by(fn: Any, args: tuple) -> Any:
    """The object a call surely changes: a container's changing method's
    (`lst.append`, `dict.update(d, ...)`), or the first argument of a
    library function that changes it (heapq.heappush, setattr); else None."""
    name = getattr(fn, "__name__", "")
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, _MUTABLE) and name in _CHANGING:
        return owner
    objclass = getattr(fn, "__objclass__", None)
    if objclass is not None and issubclass(objclass, _MUTABLE) and name in _CHANGING and args:
        return args[0]
    if args and name in _CHANGING_FUNCTIONS.get(getattr(fn, "__module__", None) or "", ()):
        return args[0]
    if args and fn is object.__setattr__:
        return args[0]
    return None


# --- if ---------------------------------------------------------------------------------------------
def branch_state(watch: Watch, read: Callable[[Any], Any]) -> dict[int, Any]:
    """The objects a branch changed (their states now, each new item read
    with `read` while the branch's block is current: control._read_now)."""
    out = {}
    for k, now in watch.changed().items():
        old = watch.before[k]
        if isinstance(now, list):
            now = [e if k2 < len(old) and e is old[k2] else read(e) for k2, e in enumerate(now)]
        elif isinstance(now, dict):
            now = {k2: v if k2 in old and old[k2] is v else read(v) for k2, v in now.items()}
        out[k] = now
    return out


def with_objects(watch: Watch, sides: list, names: tuple, entry: tuple, branches: list, set_fn):
    """The objects either branch changed as more variables of the `if`: each
    one's state before it as its entry, each branch's state as its exit;
    set_fn writes the merged states back. (An object both branches changed
    alike is set to that state.)"""
    same, slots = {}, []
    for k in dict.fromkeys(itertools.chain(*sides)):
        a, b = (side.get(k, watch.before[k]) for side in sides)
        if _same(a, b):
            same[k] = a
        else:
            slots.append(k)
    if not slots and not same:
        return names, entry, branches, set_fn, slots
    n = len(names)
    labels = tuple(watch.objects[k][1] for k in slots)
    new_branches = [(frame, tuple(exits) + tuple(side.get(k, watch.before[k]) for k in slots), writes)
                    for (frame, exits, writes), side in zip(branches, sides)]

    def put(values: tuple) -> None:
        set_fn(tuple(values[:n]))
        for k, state in same.items():
            _restore(watch.objects[k][0], state)
        for k, state in zip(slots, values[n:]):
            _restore(watch.objects[k][0], state)

    return (tuple(names) + labels, tuple(entry) + tuple(watch.before[k] for k in slots), new_branches, put,
            slots)


def check_mergeable(watch: Watch, slots: list, branches: list, n: int) -> None:
    """Refuse an object whose two versions cannot be chosen between at run
    time (another length, other keys, a Python object), or one reached from
    outside the function (a merged value would stay in it after the trace)."""
    from . import external

    ex = external.current()
    for j, k in enumerate(slots):
        x, label = watch.objects[k]
        a, b = (exits[n + j] for _, exits, _ in branches)
        if a is b:
            continue
        before = watch.before[k]
        if ex is not None and ex.source_of(x) is not None:
            raise UnsupportedError(
                f"`{label}` ({_kind(x)} from outside the function) is changed in a branch of an `if` on a "
                "traced value: looptrace runs the function once, when it compiles it, so the change would "
                "be made then and never when the compiled function is called", watch.loc_of(k), _HINT_IF)
        try:
            merge.pair_up(a, b)
        except merge.Mismatch:
            what = _change(before, a if not _same(a, before) else b, not isinstance(x, _MUTABLE))
            raise UnsupportedError(
                f"`{label}` ({_kind(x)}) is changed in a branch of an `if` on a traced value, in a way "
                f"looptrace cannot choose at run time: {what}. Both branches are traced, one after the other, "
                "while the function is compiled", watch.loc_of(k), _HINT_IF) from None


# --- loops ------------------------------------------------------------------------------------------
def loop_body(body_fn: Callable) -> Callable:
    """body_fn, refusing a change to an object made before the loop while the
    body is traced as the loop's (not while it runs as Python, unrolled)."""
    if not ctx.tracing():
        return body_fn
    reached = _reach(caller_roots(), held=True)
    objects = {k: v for k, v in reached.items() if _watched(v[0])}
    held = {k: v for k, v in reached.items() if k not in objects}  # (lists held as one traced array)
    if not objects and not held:
        return body_fn
    entry = ctx.state().frame

    def body(*args):
        if not _traced_loop(ctx.state().frame, entry):
            return body_fn(*args)
        watch = Watch(objects)
        watch.held_lists = held
        held_items = {k: list(x) for k, (x, _) in held.items()}  # (a read in the body expands one in place)
        with watch.active():
            try:
                out = body_fn(*args)
            except BaseException:
                watch.restore()
                for k, (x, _) in held.items():
                    _restore(x, held_items[k])
                raise
        changed = watch.changed()
        if changed:
            watch.restore(changed)
            k = next(iter(changed))
            x, label = objects[k]
            what = _change(watch.before[k], changed[k], not isinstance(x, _MUTABLE))
            raise ChangedInLoop(
                f"`{label}` ({_kind(x)} made before this loop) is changed inside the loop ({what}): looptrace "
                "traces a loop's body once for all its iterations, so the change would be made once",
                watch.loc_of(k), _HINT_LOOP)
        return out

    body.__lt_wrapped__ = body_fn
    return body


def _traced_loop(frame, entry) -> bool:
    """Is a loop frame opened since `entry` (the body traced as the loop's)?"""
    while frame is not None and frame is not entry:
        if frame.kind == "loop":
            return True
        frame = frame.parent
    return False
