"""The `__lt` object converted code calls: loops, conditionals, calls, and
the builtins that need to understand traced values."""
from __future__ import annotations

import builtins
import collections
import functools
import math
import operator
import sys
import types
from collections.abc import Callable
from typing import Any, Iterable

import numpy as np

from looptrace.errors import TraceError, UnsupportedError
from looptrace.ops import get as prim

from . import context as ctx
from . import containers, control, external, grown, heaps, methods, nests, numba_functions, printing, pybuiltins, pymath, \
    windows
from . import semantics as sem
from .array import Tracer, is_tracer
from .checks import assert_, passthrough, raise_, try_block, try_record  # noqa: F401
from .withs import entered as with_  # noqa: F401  (each `with` item: convert.py)
from .containers import note as mutated  # noqa: F401  (`x[k] = v`, `x.a = v`, `del x[k]`: convert.py)
from .control import and_, compare, contains, if_, ifexp, ld, not_, or_  # noqa: F401
from .values import bound, is_bool, is_none  # noqa: F401  (a read of a name that may be unassigned or None: convert.py)
from .merge import NO_RETURN, MaybeNone, returned  # noqa: F401  (early returns: tracer/returns.py)
from .carries import (LoopList, TracedEnumerate, TracedRange, TracedReversed, TracedZip, number_dict,  # noqa: F401
                      number_list, register_loop)
from .values import Segment
from . import generators, iteration
from . import pybisect

from .tuple_lists import comp_tuples, zip_star  # noqa: F401  (convert.py: long lists of tuples)
from . import row_lists
from .row_lists import comp_rows  # noqa: F401  (convert.py: a comprehension of rows)
from .grown_arrays import grow_end, grow_item  # noqa: F401  (convert.py: an array grown in a loop)

# (copy: copy.copy and copy.deepcopy of a traced array reach Tracer.__copy__ / __deepcopy__)
_SKIP_MODULES = ("numpy", "looptrace", "builtins", "numba", "math", "functools", "itertools", "copy")


def getitem(x: Any, key: Any) -> Any:
    """`x[key]`. An item of a container reached from outside the function is
    read through its source (tracer/external.py): an array in it is an
    implicit argument, a number is guarded. A NumPy array made while tracing
    and indexed with traced values becomes a constant."""
    if isinstance(x, np.ndarray) and _has_tracer(key):
        x = sem.wrap(sem.as_value(x))
    if isinstance(x, Tracer) and x.weak:
        methods.check_number_subscript(x)  # `x[0]` of a Python float
    if type(x) is pybuiltins.HeldReversed:  # (reversed(lst) of a long held list: an iterator)
        raise TypeError("'list_reverseiterator' object is not subscriptable")
    if grown.is_grown(x):
        if isinstance(key, slice) and not _has_tracer(key):
            part = _sliced_segment(x, key)
            return part if part is not None else _expand(x, "slicing")[key]
        if row_lists.is_rows(x) and (is_tracer(key) and key.ndim == 0 and key.dtype.kind in "iu"
                                     or isinstance(key, (int, np.integer)) and not isinstance(key, bool)):
            return row_lists.row_at(x, key)  # (a row of a comprehension of rows: one read of the stack)
        return _grown_item(x, key)
    if isinstance(x, (tuple, list)) and is_tracer(key):
        table = _number_table(x)
        if table is not None:  # `mask[i % 3]` of mask = (1, 0, 1): a constant array read at the traced index
            item = table[key]
            if is_tracer(item) and item.ndim == 0:
                item = sem.wrap(item.value, weak=True)  # a Python number, as the container holds
            return item
        if _short_numbers(x) and key.ndim == 0 and key.dtype.kind in "iu":  # traced numbers among them
            return _item_at_traced(x, key)
        if not isinstance(x, LoopList):
            raise _python_list_index(x, key)
    value = x[key]
    if not _has_tracer(key):
        return external.read_item(x, key, value)
    return value


def comp_iter(iterable: Any, loc: tuple) -> Any:
    """The iterable of a comprehension (convert.py): a range or an array is
    iterated here, item by item (the comprehension is unrolled while tracing):
    a warning past UNROLL_WARN items, and explain's note of the loop. A
    list a traced loop grew gives its elements (grown.expand): Python's own
    iteration would hand out the segment object itself, which `a, b = t` of
    a list of tuples unpacked as if it were written in place (probe P)."""
    from .control import UNROLL_WARN, _loc, _warn_unrolled

    iteration.check_taken(iterable)  # (an iterator made before a traced loop or branch: iteration.py)
    if type(iterable) is pybuiltins.HeldReversed:  # (its items taken: a comprehension takes them all)
        iterable = iterable.taken("a comprehension over it")
    if grown.is_grown(iterable):
        return _expand(iterable, "iterating")
    if not (isinstance(iterable, builtins.range) or is_tracer(iterable) and iterable.ndim > 0):
        return external.items(iterable)  # (an outside container's items: read through its source)
    where = _loc(loc)
    count = len(iterable) if isinstance(iterable, builtins.range) else iterable.shape[0]
    if count > COMP_UNROLL_LIMIT:
        raise UnsupportedError(
            f"this comprehension runs as Python while tracing (its element is a tuple, a list or another "
            f"comprehension, or it has several `for`s) and would be unrolled over {count} items, more than "
            f"{COMP_UNROLL_LIMIT}: trace and compile time grow with each", where,
            "write it as a `for` loop that fills arrays made before it (`xs[i] = ...; ys[i] = ...`), or make "
            "each element one number or array (one comprehension per component)")
    info = register_loop(where, "vectorized")

    def items():
        count = 0
        for item in iterable:
            count += 1
            if count == UNROLL_WARN + 1:
                _warn_unrolled(where, "a comprehension runs as Python while tracing",
                               "write it as a `for` loop (an accumulator, or rows written into an array made "
                               "before it), which is traced once")
            yield item
        info.kind, info.reason = "vectorized", (
            f"unrolled while tracing (a comprehension): {count} iterations, each traced on its own; "
            "a `for` loop is traced once")

    return items()


COMP_UNROLL = 8  # a comprehension over at most this many items (known while tracing) runs as Python
# a comprehension that must run as Python (comp_iter) over more items than this is refused: each is traced
# on its own, and the compiled program holds every one (50,000 of them ran past the corpus's 300 s)
COMP_UNROLL_LIMIT = 1000


def _sliced_segment(x: list, key: slice) -> list | None:
    """`x[a:b:c]` (constant bounds) of a list that is one segment a traced
    loop appended, of a length known while tracing: a list (a ZippedColumn
    for a column of zip(*pairs)) holding one segment, the slice of the
    stack, as the list's slice holds those elements; nothing expanded, so a
    long list (`xs[-5:]` of 3000 appended) is no longer refused. None for
    any other list (its elements, expanded, are sliced)."""
    seg = x[0] if len(x) == 1 else None
    if not isinstance(seg, Segment) or seg.count is not None or not isinstance(seg.value.shape[0], int) \
            or seg.mixed or isinstance(seg, row_lists.RowsSegment):  # (rows: the same rows, views, expanded)
        return None
    from .tuple_lists import ZippedColumn

    kept = len(range(*key.indices(seg.value.shape[0])))
    part = Segment(sem.wrap(seg.value)[key].value, None, seg.weak, seg.fields, seg.mixed)
    part.loc, part.bounds = seg.loc, seg.bounds
    items = [part] if kept else []
    return ZippedColumn(items) if isinstance(x, ZippedColumn) else items  # (a column stands for a tuple)


def _expand(x: list, what: str) -> list:
    """x's elements in place of what a traced loop appended (grown.expand;
    a comprehension's rows: row_lists.expanded)."""
    return row_lists.expanded(x, what) if row_lists.is_rows(x) else grown.expand(x, what)


def _comp_grown(iterable: Any, least: int = 0, stops: bool = False) -> Any:
    """What a comprehension (comp_list, comp_sum, comp_any) iterates for a
    list a traced loop grew: the stack, a loop traced once as `for v in
    parts` is (grown.iterable), where the list is one segment of more than
    `least` elements (not tuples: its rows would be arrays); else its
    elements (comp_iter: grown.expand). (comp_list runs up to COMP_UNROLL
    items as Python, which iterating the stack would read as arrays, not
    the Python numbers appended; any() and all() as Python would need each
    item's truth while tracing.)"""
    if type(iterable) is pybuiltins.HeldReversed:  # (reversed(lst) of a long one: a comprehension takes all;
        iteration.check_taken(iterable)            # any()/all() of one (`stops`) up to a decisive item)
        iterable = iterable.taken("any() or all() of it" if stops else "a comprehension over it", not stops)
    if not grown.is_grown(iterable) or row_lists.is_rows(iterable) or control._counted_list(iterable):
        return iterable  # (rows, a run-time count: control.for_ reads each)
    seg = iterable[0]
    if len(iterable) == 1 and seg.count is None and seg.fields is None and \
            isinstance(seg.value.shape[0], int) and seg.value.shape[0] > least:
        return grown.iterable(iterable)
    return iterable


def _static_len(iterable: Any) -> int | float:
    if row_lists.is_rows(iterable):
        return iterable[0].value.shape[0]
    if isinstance(iterable, builtins.range):
        return len(iterable)
    if is_tracer(iterable) and isinstance(iterable.shape[0], int):
        return iterable.shape[0]
    if isinstance(iterable, TracedEnumerate):
        return _static_len(iterable.inner)
    if isinstance(iterable, TracedZip):
        return builtins.min(_static_len(x) if not isinstance(x, np.ndarray) else len(x) for x in iterable.inners)
    return float("inf")


def _loopable(iterable: Any) -> bool:
    """What a comprehension's loop traced once iterates: a range, an array,
    or zip/enumerate/reversed of those (carries.TracedZip ...)."""
    return isinstance(iterable, (builtins.range, TracedRange, TracedReversed, TracedEnumerate, TracedZip)) \
        or is_tracer(iterable) and iterable.ndim > 0 or row_lists.is_rows(iterable) or control._counted_list(iterable) \
        or isinstance(iterable, generators.GeneratorCall)


def comp_list(fn: Callable, iterable: Any, loc: tuple, conds: tuple = ()) -> Any:
    """`[fn(t) for t in iterable if c(t) ...]` (convert.py): over a range or
    an array, a loop traced once that appends each element (a list the loop
    grows: carries.ListSpec), not one trace of `fn` per item; each condition
    a traced `if` around the append (Python's order: a later one only where
    the earlier hold)."""
    iterable = _comp_grown(iterable, COMP_UNROLL)
    over_generator = isinstance(iterable, generators.GeneratorCall)  # (its loop, whatever its count)
    if not over_generator and (not _loopable(iterable) or not conds and not COMP_UNROLL < _static_len(iterable) < float("inf")):
        # a few items: a Python list, as Python's; a run-time count (range(n) of an int argument):
        # Python's too, the count specialized on (the list's length is known then)
        return [fn(t) for t in comp_iter(iterable, loc) if all(c(t) for c in conds)]
    name = "the comprehension's list"  # (the carried name explain reports)
    return _comp_loop(name, [], iterable, loc, conds, lambda acc, item: append(acc, fn(item)))


def comp_sum(fn: Callable, iterable: Any, start: Any, loc: tuple, conds: tuple = ()) -> Any:
    """`sum(fn(t) for t in iterable if c(t), start)` (convert.py): over a
    range or an array, an accumulation traced once, in Python's order (start
    first); a condition makes it a conditional accumulation (a masked reduction)."""
    iterable = _comp_grown(iterable)
    if not _loopable(iterable):
        return _sum((fn(t) for t in comp_iter(iterable, loc) if all(c(t) for c in conds)), start)
    return _comp_loop("sum()", start, iterable, loc, conds, lambda acc, item: acc + fn(item))


def comp_any(which: str, fn: Callable, iterable: Any, loc: tuple, conds: tuple = ()) -> Any:
    """`any(fn(t) for t in iterable if c(t))` (and all()): over a range or an
    array, a loop traced once; an item is computed only while the answer is
    open, as Python's short-circuit computes it (its errors too)."""
    iterable = _comp_grown(iterable, stops=True)
    if not _loopable(iterable):  # (a list, an outside container: its items one by one)
        out = _any_all_items(which, (fn(t) for t in comp_iter(iterable, loc) if builtins.all(c(t) for c in conds)))
        if is_tracer(out) and iteration.is_iterator(iterable):  # (Python stops at the first decisive item)
            iteration.taken_at_run_time(iterable, f"{which}() of traced items")
        return out
    name = f"{which}()"
    done = which == "any"  # the value that ends it

    def step(acc: Any, item: Any) -> Any:
        v = pybuiltins._bool(fn(item))
        return pybuiltins._bool(sem.ufunc("logical_or" if which == "any" else "logical_and", acc, v)) \
            if is_tracer(acc) or is_tracer(v) else (acc or v if which == "any" else acc and v)

    state: dict = {}  # (filled by _comp_loop; the condition reads it)

    def open_(item: Any) -> Any:  # (the answer not decided yet: Python goes on)
        acc = state[name]
        return sem.ufunc("not_equal", acc, done) if is_tracer(acc) else acc != done

    out = _comp_loop(name, not done, iterable, loc, (open_, *conds), step, state)
    return pybuiltins._bool(out) if is_tracer(out) else builtins.bool(out)


def match_value(subject: Any, value: Any) -> Any:
    """`case 0.5:` (convert.py _MatchAsIf): `subject == value`, traced where
    the subject is; a number never matches a str, bytes or other non-number
    object (`case "double":` of an int: no match, as in plain Python)."""
    if is_tracer(subject) and not (is_tracer(value) or isinstance(value, (int, float, complex, np.generic, np.ndarray))):
        return False
    return subject == value


def is_traced(x: Any) -> bool:
    """Is x a traced value (the subject of a `match` with other patterns: convert.py _MatchAsIf)?"""
    return is_tracer(x)


def match_subject(pattern: str) -> None:
    """A traced subject reached a case whose pattern it cannot be tested
    against while tracing (a class with sub-patterns: convert.py _MatchAsIf)."""
    raise UnsupportedError(
        f"a `match` of a traced value against the pattern `{pattern}` is not supported: a class pattern with "
        "sub-patterns (`case C(x=0):`) is tested while tracing, when the value is not known", ctx.current_loc(),
        "test it with `if` statements (`if x.shape == (3,):`), or use literal and class cases without "
        "sub-patterns (`case 0:`, `case float():`), which looptrace converts")


def match_class(subject: Any, cls: Any) -> bool:
    """`case float():` (convert.py _MatchAsIf): isinstance as plain Python
    sees the subject (np.float64 for an element of a float64 array, a Python
    float for a Python float argument, np.ndarray for an array): decided
    while tracing."""
    if not isinstance(cls, type):
        raise TypeError("called match pattern must be a type")
    if not is_tracer(subject):
        return isinstance(subject, cls)
    own = external.array_class(subject)  # (an ndarray subclass argument's class)
    return builtins.issubclass(own or pybuiltins._type_of(subject), cls)


def _any_all_items(which: str, values: Iterable) -> Any:
    """any()/all() of values some of which may be traced (`all(m[0] < 10 for
    m in mats)`): Python's short-circuit while the answer is known now, a
    traced logical or/and once a traced value is met (the rest combined in)."""
    done = which == "any"  # the value that ends it
    acc: Any = not done
    for v in values:
        if is_tracer(v):
            v = pybuiltins._bool(v)
            acc = sem.ufunc("logical_or" if done else "logical_and", acc, v)
        elif builtins.bool(v) == done:
            return done
    return pybuiltins._bool(acc) if is_tracer(acc) else acc


def _comp_loop(name: str, start: Any, iterable: Any, loc: tuple, conds: tuple, step: Callable,
               state: dict | None = None) -> Any:
    """A comprehension's loop: `name` (the carried name explain reports) holds
    `start`, then step(it, item) for each item where every condition holds
    (`state`: the dict holding it, where a condition reads it)."""
    state = {} if state is None else state
    state[name] = start
    get, put = (lambda: (state[name],)), (lambda vals: state.__setitem__(name, vals[0]))

    def when(item, rest: tuple) -> None:
        if not rest:
            state[name] = step(state[name], item)
            return
        if_(rest[0](item), lambda: when(item, rest[1:]), lambda: None, get, put, (name,))

    for_(iterable, lambda item: when(item, conds), get, put, (name,), live=(name,), live_out=(name,), loc=loc)
    return state[name]


def for_(iterable, body_fn, *args, **kwargs):
    """control.for_, with a body that may not change a Python object made
    before the loop while it is traced once for all iterations (containers.py).
    Over a user's generator: the generator's loop (generators.py)."""
    if isinstance(iterable, generators.GeneratorCall):
        return generators.drive(iterable, body_fn, for_, *args, **kwargs)
    return control.for_(iterable, containers.loop_body(body_fn), *args, **kwargs)


def while_(cond_fn, body_fn, *args, **kwargs):
    """control.while_, the body watched as for_'s is."""
    return control.while_(cond_fn, containers.loop_body(body_fn), *args, **kwargs)


def eq(a: Any, b: Any, negate: bool = False) -> Any:
    """`a == b` (`a != b` with `negate`) in converted code (convert.py): two
    lists or tuples holding a list's segment, or traced numbers, compare
    their items as Python does (grown.equal); anything else as Python does."""
    if type(a) in (list, tuple) and type(b) in (list, tuple) and grown.compared_by_items(a, b):
        return grown.equal(a, b, negate)
    return (a != b) if negate else (a == b)


def star(x: Any) -> Any:
    """What `f(*x)` unpacks: a list a traced loop grew, its elements (grown.expand)."""
    return _expand(list(x), "unpacking") if grown.is_grown(x) else x


def _number_table(x: tuple | list) -> Tracer | None:
    """A tuple or list of Python numbers of one type (ints, floats, bools or
    complex numbers) as a constant array whose elements read as those Python
    numbers; each element read through its source (a global's are guarded:
    external.py). None for anything else (arrays, mixed types, an empty one)."""
    if not x or isinstance(x, LoopList):
        return None
    kinds = {type(e) for e in x}
    if len(kinds) != 1 or kinds.pop() not in (int, float, bool, complex):
        return None
    values = [external.read_item(x, j, e) for j, e in enumerate(x)]
    if any(is_tracer(v) for v in values):
        return None
    return sem.wrap(sem.as_value(np.asarray(values)))


def store(value: Any, x: Any, key: Any) -> None:
    """`x[key] = value` where x may be a list a traced loop grew (convert.py
    `visit_Assign`): its elements first (grown.py)."""
    if grown.is_grown(x):
        _expand(x, "assigning into")
    if isinstance(x, Tracer) and x.weak:
        methods.check_number_subscript(x, written=True)
    containers.note(x)
    if isinstance(x, list) and is_tracer(key):
        _store_at_traced(x, key, value)
        return
    x[key] = value


def set_item(value: Any, x: Any, key: Any) -> Any:
    """`x[key] = value` of a name bound to a list or dict display (convert.py):
    x itself, rebound so a loop carries what changed (a copy under a traced
    `if`: `_own_copy`)."""
    x = _own_copy(x)
    store(value, x, key)
    return x


def _own_copy(x: Any) -> Any:
    """A list or dict display of numbers changed under a traced condition is
    changed in a copy, which the name is rebound to: the branches of the `if`
    are traced one after the other, and a change made in place by one was
    seen by the other (`if x[i] > 0: sums[0] += x[i] else: sums[1] += x[i]`
    added every element to both)."""
    from .carries import NumberDict, NumberList

    if isinstance(x, (NumberList, NumberDict)):
        f = ctx.state().frame
        while f is not None and f.kind != "branch":
            f = f.parent
        if f is not None:
            return type(x)(x)
    return x


def aug_item(x: Any, key: Any, op: str, value: Any) -> Any:
    """`x[key] op= value` (convert.py, for a name bound to a list display):
    Python's getitem, in-place operator and setitem, x and key evaluated once."""
    new = getattr(operator, op)(getitem(x, key), value)
    x = containers.note(_own_copy(x))
    if isinstance(x, list) and is_tracer(key):
        _store_at_traced(x, key, new)
    else:
        x[key] = new
    return x


LIST_SELECT_LIMIT = 16  # a list of numbers written at a traced index: one select per element


def _is_number(e: Any) -> bool:
    return (is_tracer(e) and e.ndim == 0) or isinstance(e, (int, float, np.number)) and \
        not isinstance(e, (bool, np.bool_))


def _short_numbers(x: Any) -> bool:
    return len(x) <= LIST_SELECT_LIMIT and all(_is_number(e) for e in x)


def _traced_position(x: Any, key: Any, what: str) -> Any:
    """key counted from the start, after a check that it is in range (Python's IndexError)."""
    from .checks import emit_check

    n = len(x)
    emit_check(sem.ufunc("logical_or", sem.ufunc("less", key, -n), sem.ufunc("greater_equal", key, n)),
               IndexError(f"{what} index out of range"))
    return sem.select(sem.ufunc("less", key, 0), sem.ufunc("add", key, n), key)


def _chosen(here: Any, a: Any, b: Any) -> Any:
    """a where `here`, else b, each with its type (kinds.merged)."""
    from . import kinds

    held = kinds.held(a, b)
    new = sem.select(here, sem.astype(a, held), sem.astype(b, held)) if held != sem.result_type(a, b) \
        else sem.select(here, a, b)
    kinds.merged(here, a, b, new)
    return new


def _item_at_traced(x: Any, key: Any) -> Any:
    """`sums[k]` of a short list or tuple of numbers, some traced, and a traced k."""
    at = _traced_position(x, key, "list" if isinstance(x, list) else "tuple")
    out = x[-1]
    for j in range(len(x) - 2, -1, -1):
        out = _chosen(sem.ufunc("equal", at, j), x[j], out)
    return out


def _store_at_traced(x: list, key: Any, value: Any) -> None:
    """`sums[k] += x[i]` of a short list of numbers and a traced k: each
    element becomes the value where k names it, else what it was (its type
    too: kinds.merged); an index out of range raises Python's IndexError."""
    if key.ndim != 0 or key.dtype.kind not in "iu" or not _short_numbers(x) or not _is_number(value):
        raise _python_list_index(x, key, written=True)
    at = _traced_position(x, key, "list assignment")
    for j, old in enumerate(x):
        x[j] = _chosen(sem.ufunc("equal", at, j), value, old)


def _python_list_index(x: tuple | list, key: Any, written: bool = False) -> Exception:
    """The error for a Python list (or tuple) read or written at a traced
    index beyond what runtime.getitem and _store_at_traced trace: an index
    Python needs as an int. A ConcreteIndexError, so that a short static loop
    around it runs as Python (unrolled, control.for_); the hint names the
    NumPy array that would hold the values."""
    from .static import UnsupportedConcrete, concrete_error

    kind = type(x).__name__ if isinstance(x, (list, tuple)) else "list"
    if isinstance(x, list) and len(x) == 1 and isinstance(x[0], Segment) and x[0].count is None \
            and x[0].fields is None and x[0].value.ndim == 1 and isinstance(x[0].value.shape[0], int):
        # (a list held as one array: a list argument, pytree.number_list; x.tolist(); a loop's appends)
        x = [np.zeros((), x[0].value.dtype)[()]] * x[0].value.shape[0]
    numbers_ = bool(x) and all(_is_number(e) for e in x)
    what = f"a Python {kind} of {len(x)} {'numbers' if numbers_ else 'items'}"
    dtype = "np.float64" if numbers_ and any(sem.dtype_of(e).kind == "f" for e in x) else "np.int64"
    rows = bool(x) and all(isinstance(e, list) and e and len(e) == len(x[0]) and all(_is_number(v) for v in e)
                           for e in x)
    hint = (f"use a NumPy array, indexed at run time: `a = np.zeros({len(x)}, dtype={dtype})` in place of "
            f"`[0] * {len(x)}` (np.array(lst) of an existing list)") if numbers_ or not x else \
        (f"use a 2-d NumPy array, indexed at run time: `grid = np.zeros(({len(x)}, {len(x[0])}))` in place of "
         f"a list of {len(x)} lists of numbers, written as grid[i, j] (np.array(lst) of an existing one)") if rows else \
        "use a NumPy array, indexed at run time: np.stack(lst) of arrays of one shape"
    return concrete_error([key], f"{what} is {'written' if written else 'read'} at a traced index: Python "
                          "needs a concrete integer to index a list", hint, cls=UnsupportedConcrete)


def ret(x: Any) -> Any:
    """`return x` (convert.py): control.ret, its line kept, so an error about
    the traced function's result names its `return` line (the last one run
    is the traced function's own: trace.py `_refuse_traced_inside`). The
    line, not the frame: a frame kept would hold the function's locals (an
    array made while tracing, then checked on every call as if someone held
    it: tests/codegen/test_cpu_call_path.py)."""
    if ctx.tracing():
        frame = sys._getframe(1)
        ctx.state().return_line = (frame.f_code.co_filename, frame.f_lineno)
    return control.ret(x)


def mutated_item(x: Any) -> Any:
    """`x` in `x[k] = v`, `x[k] += v` or `del x[k]` (convert.py): the line
    noted (containers.note); a Python list as a ListItems, whose traced
    index gets the error of a Python list's (`_python_list_index`)."""
    containers.note(x)
    return ListItems(x) if type(x) is list else x


class ListItems:
    """A Python list as the target of a store: Python's getitem, setitem and
    delitem of the list, but a traced integer index refused with the hint of
    a NumPy array (a plain list would call the tracer's __index__)."""

    __slots__ = ("items",)

    def __init__(self, items: list):
        self.items = items

    def _key(self, key: Any, written: bool) -> Any:
        if is_tracer(key) and key.ndim == 0 and key.dtype.kind in "iu":
            raise _python_list_index(self.items, key, written)
        if written:  # (a list held as one array made before a traced loop, changed in its body: refused)
            containers.note(self.items, "x[k] = v")
        if written and grown.is_grown(self.items) and not isinstance(key, slice):
            _expand(self.items, "assigning into")  # (its elements, as `store`: x[1] = v of [segment] was an IndexError)
        return key

    def __getitem__(self, key: Any) -> Any:
        if grown.is_grown(self.items):  # (x[k] += v of a held list: its item, not the segment)
            return getitem(self.items, key)
        return self.items[self._key(key, False)]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items[self._key(key, True)] = value

    def __delitem__(self, key: Any) -> None:
        del self.items[self._key(key, True)]


def _grown_item(x: list, key: Any) -> Any:
    """Item `key` (a Python int) of a list grown in a traced loop, whose
    elements from that loop are one Segment (values.py): its element, as
    Python's list gives it (`parts[-1]` gave the Segment itself)."""
    if len(x) == 1 and isinstance(x[0], Segment) and is_tracer(key) and key.ndim == 0 and key.dtype.kind in "iu" \
            and (x[0].count is not None or getattr(x[0], "work_rows", False) or getattr(x[0], "argument", False)
                 or isinstance(x[0].value.shape[0], int) and x[0].value.ndim == (1 if x[0].fields is None else 2)):
        return _counted_item(x, key)  # (a work list: its rows at run time; a list held as one: x.tolist(), pytree.py)
    if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
        rows = any(isinstance(e, Segment) and len(e.value.shape) >= 2 for e in x)
        raise UnsupportedError("indexing a list grown in a traced loop other than with a constant "
                               "int is not supported", ctx.current_loc(),
                               "make it an array first: np.array(the_list)[...]" + (
                                   "; a grid of rows written grid[i][j] = v: build it as a comprehension of rows, "
                                   "grid = [[0.0] * m for _ in range(n)] (traced once), or as a 2-d array, "
                                   "np.zeros((n, m)) written grid[i, j] = v" if rows else ""))
    counted = [e for e in x if isinstance(e, Segment) and e.count is not None]
    if counted and x[-1] is counted[0] and not any(isinstance(e, Segment) for e in x[:-1]) \
            and not (0 <= key < len(x) - 1):
        return _counted_item(x, int(key))
    sizes = grown.sizes(x, "indexing")
    n, k = sum(sizes), int(key)
    if not -n <= k < n:
        raise IndexError("list index out of range")
    k = k + n if k < 0 else k
    for e, size in zip(x, sizes):
        if k < size:
            if not isinstance(e, Segment):
                return e
            grown._readable(e, "indexing")
            row = sem.wrap(e.value)[k]
            if e.fields is not None:  # a tuple appended
                return tuple(grown.GrownElement(sem.as_value(row[j]), weak=e.weak) for j in range(e.fields))
            item = grown.GrownElement(sem.as_value(row), weak=e.weak and e.value.ndim == 1)
            item.read_at = (e, k)  # (x.count(x[k]) finds it by identity: grown._hits)
            return item
        k -= size
    raise AssertionError("unreachable")


def _counted_item(x: list, k: Any) -> Any:
    """Item k of a list whose last part is what a loop appended under a
    condition (or a work list: a buffer and a run-time count, values.Segment):
    the row read at run time, IndexError out of range as Python's. Items
    before that part are reached by a non-negative k only (the caller); a
    traced k reads a list that is the segment alone."""
    from .checks import emit_check

    seg = x[-1]
    grown._readable(seg, "indexing")
    before = len(x) - 1
    if before and k < 0:
        raise UnsupportedError("indexing from the end a list grown in a loop of a run-time length, which "
                               "held items before that loop, is not supported", ctx.current_loc(),
                               "make it an array first: np.array(the_list)")
    count = sem.wrap(sem.as_value(seg.count if seg.count is not None else seg.value.shape[0], np.int64))
    if is_tracer(k):  # (the list is the segment alone)
        at = sem.select(sem.ufunc("less", k, 0), sem.ufunc("add", count, k), k)
    else:
        at = k - before if k >= 0 else sem.ufunc("add", count, k)
    emit_check(sem.ufunc("logical_or", sem.ufunc("less", at, 0), sem.ufunc("greater_equal", at, count)),
               IndexError("list index out of range"))
    row = ctx.emit1(prim("dynamic_slice"), [seg.value, sem.as_value(at, np.int64)], sizes=(1,))
    item = sem.wrap(ctx.emit1(prim("reshape"), [row], shape=tuple(row.shape[1:])))
    if seg.fields is not None:  # a tuple appended
        return tuple(grown.GrownElement(sem.as_value(item[j]), weak=seg.weak) for j in range(seg.fields))
    item = grown.GrownElement(item.value, weak=seg.weak and seg.value.ndim == 1)
    item.read_at = (seg, at)  # (x.count(x[i]) finds it by identity: grown._hits)
    return item


def attr(obj: Any, name: str) -> Any:
    """`obj.name`. An attribute of an object reached from outside the function
    (a module, a configuration object, a class) is read through its source:
    an array is an implicit argument, anything else is guarded, so rebinding
    it (`cfg.W = other`, `cfg.scale = 5.0`) is seen by the next call."""
    if isinstance(obj, row_lists.GrownRow):  # a Python list's attribute, or Python's AttributeError
        return row_lists.attribute(obj, name)
    if isinstance(obj, Tracer) and obj.weak:
        methods.check_number_attribute(obj, name)  # `x.sum()` of a Python float: Python's AttributeError
    if name in ("shape", "size") and is_tracer(obj) and obj.runtime_length():
        from .array import runtime_length_error

        raise runtime_length_error(f".{name}")
    searched = grown.search_method(obj, name) if type(obj) is list and name in grown.SEARCHES else None
    if searched is not None:  # lst.index(v), lst.count(v) of traced numbers: all items at once (grown.py)
        return searched
    if grown.is_grown(obj):  # a list method (reverse, pop, ...): on its elements (grown.py)
        _expand(obj, f"`.{name}` of")
    if name in ("shape", "size") and is_tracer(obj):  # a length NumPy may have shortened: checked
        windows.length_of(obj)
    if isinstance(obj, np.random.Generator) and ctx.tracing() and _in_loop():
        raise UnsupportedError(
            f"`.{name}` of a np.random.Generator that looptrace sees as a Python object (made in code it "
            "ran as plain Python while tracing): it would draw once, while tracing, and every iteration of "
            "this loop would reuse those numbers", ctx.current_loc(),
            "pass the generator as an argument of the jitted function, or make it there with "
            "np.random.default_rng(seed)")
    value = getattr(obj, name)
    return external.read_attr(obj, name, value) if ctx.tracing() else value


def _in_loop() -> bool:
    f = ctx.state().frame
    while f is not None:
        if f.kind == "loop":
            return True
        f = f.parent
    return False


def _has_tracer(key: Any) -> bool:
    if is_tracer(key):
        return True
    if isinstance(key, slice):
        return any(is_tracer(p) for p in (key.start, key.stop, key.step))
    return isinstance(key, tuple) and any(_has_tracer(k) for k in key)


def append(lst: Any, value: Any) -> Any:
    if isinstance(lst, LoopList):
        return lst.append(value)
    containers.note(lst)
    lst.append(value)
    return lst


def append_outside(lst: Any, value: Any, name: str) -> None:
    """`name.append(value)` of a list the function does not make (a global, a
    closure's, an attribute's): the function runs once, when it is compiled,
    so the list would grow then and never on a call. A nested `def`'s append
    to the enclosing function's list is refused with its own rewrite: the
    enclosing function does make that list."""
    caller = sys._getframe(1).f_code
    if name in caller.co_freevars:  # (a cell of an enclosing function: a helper def appending to its list)
        fn = caller.co_name
        raise UnsupportedError(
            f"`{name}.append(...)` in `{fn}` changes `{name}` of the function around it; looptrace traces "
            "appends to a list only in the function that makes it (or a loop of it)", ctx.current_loc(),
            hint=f"return the value from `{fn}` and append it where `{name}` is made "
                 f"(`{name}.append({fn}(...))`), or write the append in that loop")
    raise UnsupportedError(
        f"`{name}.append(...)` changes `{name}`, which the function does not make: looptrace runs the "
        "function once, when it compiles it, so it would grow then and never when the compiled "
        "function is called", ctx.current_loc(),
        hint=f"return the values instead, or make the list inside the function ({name} = [])")


# builtins that go through a list's items: a grown list is expanded first (grown.py)
_ITERATING = frozenset(map(id, (builtins.sum, builtins.max, builtins.min, builtins.sorted, builtins.reversed,
                                builtins.enumerate, builtins.zip, builtins.list, builtins.tuple, builtins.map,
                                builtins.filter, builtins.any, builtins.all, builtins.iter, builtins.set,
                                builtins.frozenset, builtins.dict)))


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` in converted code; a library function given
    objects from outside the function reads their arrays through their
    sources, and what it returns of them is followed (external.passed,
    external.returned)."""
    if not ctx.tracing():
        return _call(fn, *args, **kwargs)
    external.refuse_hidden_state(fn, args)  # (random.random(), time.time(): baked in while tracing)
    args, kwargs = external.passed(fn, args, kwargs)
    given = containers.outside_given(fn, args)
    out = _call(fn, *args, **kwargs)
    containers.refuse_if_changed(given)
    return external.returned(fn, args, kwargs, out)


def _sorts_traced_list(fn: Any, args: tuple) -> bool:
    """Is fn a Python list's bound `sort` (no positional arguments, as
    list.sort takes none) of a list holding traced values? Python's sort
    would ask each comparison's truth while tracing; sorted()'s network
    (pybuiltins._sorted) sorts them at run time, with key= and reverse=."""
    owner = getattr(fn, "__self__", None)
    return (type(owner) is list and getattr(fn, "__name__", "") == "sort" and not args
            and any(is_tracer(v) for v in owner))


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    fn = getattr(fn, "__lt_original__", fn) if isinstance(fn, types.FunctionType) else fn
    if fn is not returned and any(isinstance(a, MaybeNone) for a in (*args, *kwargs.values())):
        args, kwargs = _none_arguments(fn, args, kwargs)  # (the return slot goes to `returned` as it is)
    if id(fn) in _ITERATING:  # (reversed(lst) of a long held list: an iterator, its items taken here)
        args = pybuiltins.taken_iterators(fn, args)
    elif fn is builtins.len and args and type(args[0]) is pybuiltins.HeldReversed:
        raise TypeError("object of type 'list_reverseiterator' has no len()")
    held_grown = any(grown.is_grown(a) for a in (*args, *kwargs.values()))
    if held_grown and fn is builtins.sum and args and grown.is_grown(args[0]) and any(isinstance(e, Segment) and e.count is not None
                                                           for e in args[0]):
        held_grown = False  # a segment of run-time length: summed as one (`_grown_sum`)
    if held_grown and (fn is builtins.min or fn is builtins.max) and len(args) == 1 and set(kwargs) <= {"default"} \
            and _counted_numbers(args[0]):  # min([v for v in x if v > t]): over its run-time count
        return pybuiltins.grown_extreme(fn.__name__, args[0][0], *kwargs.values())
    if held_grown and _long_fold(fn, args, kwargs):  # sum(x.tolist()) of many: over the stack, not its elements
        return _grown_fold(fn, args, kwargs)
    held = pybuiltins.held_list_call(fn, args, kwargs) if held_grown else pybuiltins.NOT_HELD
    if held is not pybuiltins.NOT_HELD:  # sorted(lst, key=f), list(lst), reversed(lst) of a held list: its stack
        return held
    if held_grown and fn is math.fsum:  # the list's stack, summed as one (pymath.fsum)
        return pymath.fsum(*args, **kwargs)
    if held_grown and (fn is builtins.enumerate or fn is builtins.zip):
        args = tuple(_argument_stack(a) for a in args)  # (a list argument of numbers: its array, traced once)
        held_grown = any(grown.is_grown(a) for a in (*args, *kwargs.values()))
    if held_grown and (id(fn) in _ITERATING or id(fn) in pymath.FUNCTIONS
                       or isinstance(fn, types.FunctionType) and _user_function(fn) and not grown.too_long(args, kwargs)):
        # sum(parts), max(parts), math.prod(parts), a user's function: on its elements (a long list: held, grown.py)
        _expand_grown(fn, args, kwargs)  # (NumPy's functions read the stack itself: numpy_api.py)
    containers.note_call(fn, args)  # (the line of a change to a watched object: containers.py)
    if _sorts_traced_list(fn, args):  # lst.sort(key=, reverse=) of traced numbers: sorted() in place
        fn.__self__[:] = pybuiltins._sorted(fn.__self__, **kwargs)
        return None
    if getattr(fn, "__module__", None) == "statistics":  # (a generator's items: read once, as it would)
        args = tuple(list(a) if isinstance(a, types.GeneratorType) else a for a in args)
    if getattr(fn, "__module__", None) == "statistics" and _statistics_of_traced(args, kwargs):
        raise UnsupportedError(
            f"statistics.{getattr(fn, '__name__', '?')}() of traced values is not supported: the statistics "
            "module computes in Python with the numbers' exact values (as fractions, or sorting them), which "
            "traced values have only at run time", ctx.current_loc(),
            "use the NumPy function on an array (np.mean, np.median, np.var(a, ddof=1), np.std(a, ddof=1))")
    if pybisect.handles(fn) and _statistics_of_traced(args, kwargs):
        return pybisect.search(fn, *args, **kwargs)  # CPython's loop, traced once (pybisect.py)
    if getattr(fn, "__module__", None) in ("bisect", "_bisect") and _statistics_of_traced(args, kwargs):
        raise UnsupportedError(  # (insort: a list that grows at a position known at run time)
            f"bisect.{getattr(fn, '__name__', '?')}() of traced values is not supported: it inserts into the "
            "list at a position known only at run time", ctx.current_loc(),
            "bisect.bisect_left/bisect_right of traced values work; to keep the values sorted, append them to a "
            "list and sort it once after the loop (sorted(...) or np.sort)")
    if (fn is builtins.list or fn is builtins.tuple) and len(args) == 1 and not kwargs \
            and isinstance(args[0], (tuple, list)):
        # list(ARGS) of a container from outside: each element read through its source (an array
        # an implicit argument, a number guarded), as ARGS[k] reads it
        return fn(external.copied_items(args[0]))
    if printing.takes_text(fn, args):  # sys.stdout.write(text), map(print, ...), "sep".join(...): printing.py
        return printing.text_call(fn, args, kwargs)
    special = BUILTINS.get(id(fn)) if isinstance(fn, types.BuiltinFunctionType) or isinstance(fn, type) else None
    if special is not None:
        iteration.check_passed(fn, args, kwargs)  # (sum(it) of an iterator made before a traced loop: iteration.py)
        return special(*args, **kwargs)
    if getattr(type(fn), "__looptrace_traceable__", False):  # a jitted function: trace its Python function
        return call_converted(fn.py_func, args, kwargs)
    if isinstance(fn, types.FunctionType) and _user_function(fn):
        if ctx.tracing() and generators.steppable(fn):  # run by the `for` over it (generators.py)
            return generators.GeneratorCall(fn, args, kwargs)
        return call_converted(fn, args, kwargs)
    numba_py = numba_functions.python_function(fn)
    if numba_py is not None:  # the user's @numba.njit helper or @numba.vectorize ufunc: its Python code
        return call(numba_py, *args, **kwargs)
    target = _user_callable(fn)
    if target is not None:  # a bound method, classmethod, functools.partial, or object with __call__
        f, lead, kw = target
        _reached_through(fn, lead, kw)
        return call(f, *lead, *args, **{**kw, **kwargs})
    if isinstance(fn, np.vectorize):  # @np.vectorize made outside: one traced loop (np_surface.py)
        from .np_surface import from_numpy_vectorize

        fn = from_numpy_vectorize(fn)
    iteration.check_passed(fn, args, kwargs)  # (list(it), it.__next__() of an iterator made before a traced loop)
    expanded = held_grown and not _reads_segments(fn)
    if expanded:
        _expand_grown(fn, args, kwargs)  # (functools.reduce(op, parts), heapq.nlargest(k, parts), ...)
    try:
        return fn(*args, **kwargs)
    except TypeError as e:  # a shape computed with a run-time length (a Dim) where an int is needed
        held = (getattr(fn, "__self__", None), *args, *kwargs.values())
        if any(is_tracer(a) and a.runtime_length() for a in held):
            from .array import runtime_length_error

            raise runtime_length_error(f"{getattr(fn, '__name__', 'this call')}()") from e
        if expanded:  # a library function that cannot take the traced elements of a grown list
            raise UnsupportedError(
                f"{getattr(fn, '__name__', 'this function')}() of a list grown in a traced loop is not "
                f"supported ({type(e).__name__}: {e})", ctx.current_loc(),
                "make it an array first (np.array(the_list)) and use NumPy on it") from e
        raise


def _none_arguments(fn: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Arguments that may be None at run time (values.MaybeNone): a NumPy or
    builtin function uses them as numbers or arrays, behind the check that
    raises TypeError where one is None; a function of the user's could test
    them for None, which it cannot where its parameter is traced, so that is
    refused."""
    if getattr(type(fn), "__looptrace_traceable__", False) or _user_callable(fn) is not None or \
            isinstance(fn, types.FunctionType) and _user_function(fn):
        name = next(a.name for a in (*args, *kwargs.values()) if isinstance(a, MaybeNone)) or "an argument"
        raise UnsupportedError(
            f"`{name}` may be None at run time (set to None on one path of a traced condition), and is passed "
            f"to {getattr(fn, '__name__', 'a function')}(); looptrace passes such a value only to NumPy and "
            "builtin functions", ctx.current_loc(),
            f"test `{name} is None` here and pass a number in each case")
    unwrap = lambda a: a.resolve() if isinstance(a, MaybeNone) else a  # noqa: E731
    return tuple(unwrap(a) for a in args), {k: unwrap(v) for k, v in kwargs.items()}


def _argument_stack(a: Any) -> Any:
    """A list argument of numbers passed as one array (pytree.number_list) as
    what `for v in a` iterates (grown.iterable: its stack, each item read as
    the Python number it was), for enumerate/zip to loop over once; anything
    else as it is (reversed() of the stack read np.float64 items: expanded)."""
    if type(a) is list and len(a) == 1 and getattr(a[0], "argument", False) is True:
        return grown.iterable(a)
    return a


def _expand_grown(fn: Any, args: tuple, kwargs: dict) -> None:
    """Each list a traced loop grew among the arguments, expanded in place
    into its elements (grown.expand), for a function that reads them one by one."""
    for a in (*args, *kwargs.values()):
        if grown.is_grown(a):
            _expand(a, f"passing to {getattr(fn, '__name__', 'a function')}()")


def _reads_segments(fn: Any) -> bool:
    """Does `fn` take a grown list as it is (its segments' stacks)? NumPy's
    functions do (looptrace's versions of them: numpy_api.py), as do a
    list's methods and `copy` (they store the items without reading them:
    expanded, a list past grown.EXPAND_MAX could not be copied); any other
    library function gets the list's elements, as it would in Python: given
    the segment object it gave a raw TypeError (`math.fsum`: "must be real
    number, not Segment") or a wrong message (probe O)."""
    if isinstance(getattr(fn, "__self__", None), (list, dict)):
        return True  # `out.extend(parts)`, `out.insert(0, parts)`: stored, not read (np.array(out) reads them)
    mod = getattr(fn, "__module__", None) or getattr(type(fn), "__module__", None) or ""
    return mod.split(".")[0] in ("numpy", "looptrace", "copy")


def _statistics_of_traced(args: tuple, kwargs: dict) -> bool:
    """Do a statistics function's arguments hold traced values (or a grown list)?"""
    def traced(x: Any) -> bool:
        return is_tracer(x) or isinstance(x, Segment) or isinstance(x, (list, tuple)) and builtins.any(map(traced, x))

    return builtins.any(map(traced, (*args, *kwargs.values())))


def _reached_through(fn: Any, lead: tuple, kw: dict) -> None:
    """The object a method is bound to (the arguments a partial holds), read
    from outside the function (`fn = model.loss` a global, grad's wrapper of a
    bound method): reached through fn's source, so what the call reads of it
    (`self.w`) is guarded or an implicit argument, not baked in (probe P W1)."""
    from . import external

    ex = external.current()
    src = ex.source_of(fn) if ex is not None else None
    if src is None:
        return
    if isinstance(fn, types.MethodType):
        ex.register(lead[0], src.attr("__self__"))
    elif isinstance(fn, functools.partial):
        for k, a in enumerate(lead):
            ex.register(a, src.attr("args").item(k))
        for name, a in kw.items():
            ex.register(a, src.attr("keywords").item(name))


def _user_callable(fn: Any) -> tuple | None:
    """(function, leading arguments, keywords) for a call that runs a user's
    function through Python's binding (`self.f(x)`, `Cls.f(x)` of a
    classmethod, `partial(f, a)(x)`, `obj(x)` with a `__call__`): traced as
    that function, so what it reads (`self.w`) is read as the function's own
    reads are, at call time or guarded, not baked in while tracing."""
    if isinstance(fn, types.MethodType):
        f = fn.__func__
        if isinstance(f, types.FunctionType) and _users_code(f):
            return f, (fn.__self__,), {}
        return None
    if isinstance(fn, functools.partial):
        f = fn.func
        if isinstance(f, types.FunctionType) and not _users_code(f):
            return None
        return f, tuple(fn.args), dict(fn.keywords)
    if isinstance(fn, (type, types.BuiltinFunctionType, types.FunctionType)) or getattr(
            type(fn), "__looptrace_traceable__", False):
        return None
    call_ = getattr(type(fn), "__call__", None)
    if isinstance(call_, types.FunctionType) and _users_code(call_):
        return call_, (fn,), {}
    return None


def _users_code(f: types.FunctionType) -> bool:
    """A function of the user's own modules: not the standard library's
    (threading.Event.wait) nor an installed package's."""
    if not _user_function(f):
        return False
    mod = sys.modules.get(getattr(f, "__module__", "") or "")
    top = (getattr(f, "__module__", "") or "").split(".")[0]
    path = getattr(mod, "__file__", "") or ""
    return top not in sys.stdlib_module_names and "site-packages" not in path and "dist-packages" not in path


def _user_function(fn: types.FunctionType) -> bool:
    mod = getattr(fn, "__module__", "") or ""
    return mod == "looptrace.examples" or mod.split(".")[0] not in _SKIP_MODULES


# a user's function called inside itself this deep while traced is a recursion the trace cannot end
# (its base case is on a traced condition: both sides are traced); one on Python values ends sooner
RECURSION_LIMIT = 24


def _endless_recursion(fn, args: tuple, kwargs: dict) -> None:
    """A recursion on traced values: where they come from int arguments the
    function is traced again with those static (specialize.py), so that the
    base case is a Python test; else a clear error."""
    from .static import UnsupportedConcrete, concrete_error

    traced = [a for a in (*args, *kwargs.values()) if is_tracer(a) and a.ndim == 0]
    raise concrete_error(
        traced, f"{fn.__name__}() calls itself more than {RECURSION_LIMIT} deep while traced: a recursion "
        "whose base case is chosen by a traced value never ends in a trace, which follows both sides",
        "write it as a loop (a while loop on the traced condition)", cls=UnsupportedConcrete)


def call_converted(fn: types.FunctionType, args: tuple, kwargs: dict) -> Any:
    from .trace import converted

    st = ctx.state()
    depth = st.call_depth.get(fn.__code__, 0)
    if depth >= RECURSION_LIMIT:
        _endless_recursion(fn, args, kwargs)
    if depth:
        st.recursed.add(fn.__code__)
    cells = [c.cell_contents for c in fn.__closure__ or () if _cell_filled(c)]
    boxes = [id(b) for b in _array_boxes((args, kwargs, cells))]
    st.foreign_boxes.update(boxes)
    st.call_depth[fn.__code__] = depth + 1
    try:
        out = converted(fn)(*args, **kwargs)
    except RecursionError:  # (Python's own limit first: many frames per traced call)
        if depth:  # unwind to the outermost call, where there is stack to say why
            raise
        if fn.__code__ not in st.recursed:
            raise
        _endless_recursion(fn, args, kwargs)
    finally:
        if depth:
            st.call_depth[fn.__code__] = depth
        else:
            del st.call_depth[fn.__code__]
        st.foreign_boxes.subtract(boxes)
        st.foreign_boxes += collections.Counter()  # drop the zero counts
    if isinstance(out, MaybeNone):
        raise UnsupportedError(
            f"{fn.__name__}() returns None on some paths (`return None`, a bare `return`, or its end) and a "
            "value on others, chosen by a traced condition; looptrace allows that only for the function "
            "it compiles, not for one it calls", ctx.current_loc(),
            "return a value on every path (a sentinel such as -1 or np.nan) and test for it")
    return out


def _cell_filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _array_boxes(obj: Any, depth: int = 0) -> list:
    """The boxes of the (root) arrays that `obj` refers to, through tuples, lists and dicts."""
    if is_tracer(obj):
        while obj.base is not None:
            obj = obj.base
        return [obj._box] if obj._box is not None else []
    if depth < 4 and isinstance(obj, (tuple, list)):
        return [b for o in obj for b in _array_boxes(o, depth + 1)]
    if depth < 4 and isinstance(obj, dict):
        return [b for o in obj.values() for b in _array_boxes(o, depth + 1)]
    return []


# --- builtins ----------------------------------------------------------------------------------
def _range(*args):
    if any(is_tracer(a) for a in args):
        return TracedRange(*(sem.astype(a, np.int64) if is_tracer(a) and a.dtype.kind in "iu" else a
                             for a in args))
    return builtins.range(*args)


def _reversed(seq):
    if isinstance(seq, TracedRange):
        return TracedReversed(seq)
    if isinstance(seq, builtins.range):
        return seq[::-1]
    if is_tracer(seq):
        return seq[::-1]
    return builtins.reversed(seq)


def _selection(seq: Any) -> bool:
    from .masked import is_selection  # (a loop over x[c] or np.nonzero(c)[0]: control._over_selection)

    return is_selection(seq)


def _enumerate(seq, start=0):
    nest = nests.as_nest(seq)
    if nest is not None:
        return nest.enumerate(start)
    if isinstance(seq, (TracedRange, TracedReversed, builtins.range)) or is_tracer(seq) or \
            isinstance(seq, (np.ndarray, TracedZip, TracedEnumerate)) or _selection(seq):
        return TracedEnumerate(seq, start)
    return builtins.enumerate(external.items(seq), start)


def _zip(*seqs, strict=False):
    found = [nests.as_nest(s) for s in seqs]
    if seqs and all(n is not None for n in found):
        zipped = nests.zip_nests(found)
        if zipped is not None:
            if strict:
                raise UnsupportedError("zip(..., strict=True) of loop nests is not supported", ctx.current_loc(),
                                       "check the lengths before the loop and zip without strict")
            return zipped
    # (a zip or enumerate of these is one too: `zip(zip(a[:-1], b[:-1]), zip(a[1:], b[1:]))`, once unrolled)
    positional = (TracedRange, TracedReversed, builtins.range, np.ndarray, TracedZip, TracedEnumerate)
    if any(isinstance(s, positional) or is_tracer(s) for s in seqs) and \
            all(isinstance(s, positional) or is_tracer(s) for s in seqs):
        if strict:
            _strict_lengths(seqs)
        return TracedZip(*seqs)
    return builtins.zip(*(external.items(s) for s in seqs), strict=strict)


def _strict_lengths(seqs) -> None:
    """zip(..., strict=True) of arrays and ranges: lengths known while tracing
    and equal run as a plain zip; Python raises ValueError where they differ,
    after the loop ran over the shortest, which a traced loop does not
    follow: refused (the strict flag was dropped: the shortest length, no
    error)."""
    import numbers

    from .carries import _length_and_item

    lens = [_length_and_item(s)[0] for s in seqs]
    if not all(isinstance(n, numbers.Integral) for n in lens):
        raise UnsupportedError("zip(..., strict=True) over lengths known only at run time is not supported",
                               ctx.current_loc(), "check the lengths before the loop and zip without strict")
    if len(set(lens)) > 1:
        k = next(i for i, n in enumerate(lens) if n != lens[0])
        raise StrictZipError(f"zip() argument {k + 1} is {'shorter' if lens[k] < lens[0] else 'longer'} than "
                             f"argument 1 (zip(..., strict=True) of lengths {lens}): Python raises this "
                             "ValueError after the loop ran over the shortest, looptrace before the loop runs",
                             ctx.current_loc(), "give the arguments equal lengths, or zip without strict")


class StrictZipError(UnsupportedError, ValueError):
    """zip(..., strict=True) of lengths known unequal while tracing: Python's
    ValueError (so `except ValueError` catches it as it would Python's),
    raised before the loop runs, where Python raises it after the loop ran
    over the shortest: looptrace's limit, so an UnsupportedError too."""


def _len(x):
    if isinstance(x, LoopList):  # inside the loop that appends to it (`while len(out) < n`)
        return x.length()
    if isinstance(x, list) and any(isinstance(e, Segment) for e in x):
        total: Any = 0
        for e in x:
            if isinstance(e, Segment):
                n = e.count if e.count is not None else e.static_length("len()")
                total = sem.ufunc("add", total, n) if is_tracer(n) or is_tracer(total) else total + n
            else:
                total = total + 1 if not is_tracer(total) else sem.ufunc("add", total, 1)
        if is_tracer(total):  # a count appended under a condition: a Python int, as len()'s
            total = sem.wrap(total.value, weak=True)
        return total
    if isinstance(x, TracedRange):
        return x.length()
    if is_tracer(x):
        number = methods.number_type_name(x)
        if number is not None:  # (a 0-d array's is NumPy's "len() of unsized object")
            raise methods.python_error(TypeError, f"object of type '{number}' has no len()")
        windows.length_of(x)
    return builtins.len(x)


def _sum(iterable, start=0):
    if is_tracer(iterable):  # start + x[0] + x[1] + ...: a sum over the first axis (in NumPy's order)
        if iterable.ndim == 0:
            raise methods.iteration_error(iterable)
        if iterable.shape[0] == 0:
            return start
        from .numpy_api import sum_

        # Python adds in the type of start + x[0] (0 + an int8 is an int8, and wraps: NEP 50),
        # where np.sum would widen a narrow integer to 64 bits
        return sem.ufunc("add", start, sum_(iterable, axis=0, dtype=sem.result_type(start, iterable)))
    if grown.is_grown(iterable) and any(isinstance(e, Segment) and e.count is not None for e in iterable):
        return _grown_sum(iterable, start)
    acc = start
    for x in iterable:
        acc = acc + x
    return acc


def _counted_numbers(lst: list) -> bool:
    """Is `lst` one segment of numbers (no tuples) a traced loop appended under a condition?"""
    return len(lst) == 1 and isinstance(lst[0], Segment) and lst[0].count is not None and not lst[0].fields \
        and not lst[0].mixed and lst[0].value.ndim == 1 and isinstance(lst[0].value.shape[0], int)


def _long_fold(fn: Any, args: tuple, kwargs: dict) -> bool:
    """sum(lst[, start]), max(lst), min(lst), any(lst) or all(lst) of one
    segment of numbers a traced loop appended unconditionally (`x.tolist()`,
    `[f(v) for v in x]`, a list argument: pytree.number_list), too long to
    expand (grown.EXPAND_MAX)?"""
    if not (fn is builtins.sum and 1 <= len(args) <= 2 and not kwargs or
            (fn is builtins.max or fn is builtins.min) and len(args) == 1 and set(kwargs) <= {"default"} or
            (fn is builtins.any or fn is builtins.all) and len(args) == 1 and not kwargs):
        return False
    lst = args[0]
    return isinstance(lst, list) and len(lst) == 1 and isinstance(lst[0], Segment) and lst[0].count is None \
        and not lst[0].fields and not lst[0].mixed and lst[0].value.ndim == 1 \
        and isinstance(lst[0].value.shape[0], int) and lst[0].value.shape[0] > grown.EXPAND_MAX


def _grown_fold(fn: Any, args: tuple, kwargs: dict) -> Any:
    """_long_fold's call over the segment's stack, with Python's rules: sum
    in the type of start + an item (`_sum`), max/min as Python's iteration
    (`pybuiltins.fold_array`); a Python number where the items are."""
    seg = args[0][0]
    stack = sem.wrap(seg.value)
    if fn is builtins.any or fn is builtins.all:  # np.any/np.all: a number's truth as bool() (NaN true)
        from .numpy_api import NAMESPACE

        return sem.wrap(NAMESPACE[fn.__name__](stack).value, weak=True)
    if fn is builtins.sum:
        start = args[1] if len(args) == 2 else 0
        out = _sum(stack, start)
        weak = seg.weak and sem.is_weak(start)
    else:
        out = pybuiltins.fold_array(stack, fn.__name__, kwargs.get("default", pybuiltins._MISSING))
        weak = seg.weak
    return sem.wrap(out.value, weak=True) if weak and is_tracer(out) else out


def _grown_sum(lst: list, start: Any) -> Any:
    """sum() of a list a traced loop appended to under a condition: each such
    segment's elements summed over its run-time count (in NumPy's order, as
    a loop's sum is), added where the count is not 0 (an empty segment adds
    nothing: the sum keeps start's type, as Python's; control.ifexp picks
    the type at run time)."""
    from .numpy_api import _segment_value, sum_

    acc = start
    for e in lst:
        if not isinstance(e, Segment):
            acc = acc + e
            continue
        if e.fields and e.count is not None and isinstance(acc, (int, float)) and not isinstance(acc, bool):
            # tuples appended under a condition: Python's 0 + (a, b) is a TypeError where any was
            # appended, and the sum is start where none was: checked at run time (checks.emit_check)
            from .checks import emit_check

            emit_check(sem.ufunc("greater", e.count, 0),
                       TypeError(f"unsupported operand type(s) for +: '{type(acc).__name__}' and 'tuple'"))
            continue
        if e.fields:
            raise TypeError("unsupported operand type(s) for +: 'int' and 'tuple'")
        total = sum_(_segment_value(e), axis=0)
        if e.weak:
            total = sem.wrap(total.value, weak=True)
        if e.count is None:
            acc = acc + total
            continue
        before = acc
        acc = ifexp(sem.ufunc("greater", e.count, 0), lambda: before + total, lambda: before)
    return acc


def _print(*args, sep=" ", end="\n", file=None, flush=False):
    """print() in traced code: an op that prints when the compiled code runs,
    on every call, in the plain function's order (tracer/printing.py)."""
    from .printing import traced_print

    traced_print(args, sep=sep, end=end, file=file, flush=flush)


def _ndarray(shape, dtype=float, buffer=None, offset=0, strides=None, order=None):
    """np.ndarray(shape, dtype) without a buffer: a new array, as np.empty
    (its contents unset; looptrace's are zeros)."""
    if buffer is None and strides is None:
        from .numpy_api import empty

        return empty(shape, dtype)
    return np.ndarray(shape, dtype, buffer, offset, strides, order)


def _getattr(obj, name, *default):
    """getattr(obj, name[, default]): the user's `obj.name` (`attr`), so a
    traced Python number lacks what Python's does."""
    try:
        return attr(obj, name)
    except AttributeError:
        if default:  # (an ndarray attribute looptrace lacks too, as builtins.getattr: methods.UnsupportedAttribute)
            return default[0]
        raise


def _hasattr(obj, name) -> bool:
    try:
        _getattr(obj, name)
    except AttributeError:
        return False
    return True


BUILTINS = {id(f): impl for f, impl in [
    (np.ndarray, _ndarray), (builtins.getattr, _getattr), (builtins.hasattr, _hasattr),
    (builtins.range, _range), (builtins.reversed, _reversed), (builtins.enumerate, _enumerate),
    (builtins.zip, _zip), (builtins.len, _len), (builtins.sum, _sum), (builtins.print, _print),
]}
BUILTINS.update(pybuiltins.BUILTINS)  # min, max, float, int, bool, complex, ... (Python's semantics)
BUILTINS.update(printing.BUILTINS)  # str, repr, ascii: text print() makes at run time
BUILTINS.update(pymath.FUNCTIONS)  # math.* and cmath.*
BUILTINS.update(nests.FACTORIES)  # np.ndindex, np.ndenumerate, itertools.product: loop nests
BUILTINS.update(heaps.FUNCTIONS)  # heapq on a list a traced loop pushes to and pops from
BUILTINS[id(builtins.next)] = iteration.next_  # next() of an iterator made before a traced loop
