"""Lists grown in a traced loop, read afterwards as Python lists.

A loop's `parts.append(v)` leaves one `Segment` in the list (values.py): the
appended values stacked on a new first axis, traced once. np.stack,
np.array, np.concatenate and len() read it as such. Everything else a
Python list does (iteration, slices, `sum`, `max`, `enumerate`, `reverse`,
`pop`, ...) needs its elements one by one: `expand` puts them in the list
in place of the segment (each an element of the stack), so that Python's
own list does the rest with Python's semantics. Before, such a list gave
the segment object itself: `parts[-1]` returned it as the function's
result, and after `parts.reverse()` it was the first element still (a
wrong answer). Iterating a list that is one segment and nothing else is a
traced loop over the stack's rows instead (no unrolling).
"""
from __future__ import annotations

import functools
import operator
import sys
from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError

from . import context as ctx
from . import semantics as sem
from .array import Tracer, is_tracer
from .values import Segment

# elements a grown list is expanded into at most (each is one indexing op of the program)
EXPAND_MAX = 256


def is_grown(x: Any) -> bool:
    """Is x a Python list holding what a traced loop appended to it?"""
    return isinstance(x, list) and any(isinstance(e, Segment) for e in x)


def sizes(x: list, what: str) -> list[int]:
    """Each item's count of elements (a segment's, or 1), all known while tracing."""
    out = []
    for e in x:
        n = 1
        if isinstance(e, Segment):
            n = e.value.shape[0]
            if e.count is None and not isinstance(n, int):
                n = e.static_length(what)  # a loop over range(n): specialized on the int n (specialize.py)
            if e.count is not None:
                raise UnsupportedError(f"{what} a list grown in a loop of a run-time length is not supported",
                                       ctx.current_loc(), "make it an array first: np.array(the_list)")
        out.append(n)
    return out


def expand(x: list, what: str) -> list:
    """x with each segment replaced, in place, by its elements."""
    n = sum(sizes(x, what))
    if n > EXPAND_MAX:
        made = "passed as an argument" if any(getattr(e, "argument", False) is True for e in x) else \
            "grown in a traced loop"  # (a list argument of numbers is held as one: pytree.number_list)
        raise UnsupportedError(f"{what} a list of {n} elements {made} would trace each "
                               f"element on its own (more than {EXPAND_MAX})", ctx.current_loc(),
                               "make it an array first: np.array(the_list), and use NumPy on it")
    items = []
    for e in x:
        if isinstance(e, Segment):
            made = elements(e, what)
            if getattr(e, "argument", False) and e.fields is None:  # (a list argument's items: pytree.Rebuilt)
                e.expanded = tuple(made)
            items.extend(made)
        else:
            items.append(e)
    x[:] = items
    return x


def too_long(args: tuple, kwargs: dict) -> bool:
    """Is a list among a call's arguments held as one array of more than
    EXPAND_MAX elements known while tracing? A user's function gets it as
    it is (runtime._call; its code reads it as the caller's does), where
    expanding it for the function was refused."""
    for a in (*args, *kwargs.values()):
        if is_grown(a) and sum(e.value.shape[0] if isinstance(e, Segment) and e.count is None
                               and isinstance(e.value.shape[0], int) else 1 for e in a) > EXPAND_MAX:
            return True
    return False


def elements(seg: Segment, what: str) -> list:
    """The segment's elements as the list holds them: each row of the stack
    (a tuple again where tuples of numbers were appended)."""
    _readable(seg, what)
    stacked = sem.wrap(seg.value)
    if seg.fields is not None:  # tuples of numbers appended: each row a tuple again
        return [tuple(_from(seg, k, GrownElement(sem.as_value(stacked[k, j]), weak=seg.weak))
                      for j in range(seg.fields)) for k in range(seg.value.shape[0])]
    weak = seg.weak and seg.value.ndim == 1
    return [_from(seg, k, GrownElement(sem.as_value(stacked[k]), weak=weak)) for k in range(seg.value.shape[0])]


def _from(seg: Segment, k: int, e: "GrownElement") -> "GrownElement":
    e.origin = (seg, k)  # (`collapsed` knows the list's expansion from a change to it)
    return e


def collapsed(items: list) -> list:
    """A list's items with each run of the elements `expand` made of a
    segment, whole and in order, put back as that segment: the list as it
    was before it was expanded. (A watched `if` sees a list held as one
    array that a branch only read, which expanded it, as unchanged:
    containers._same.)"""
    out: list = []
    k = 0
    while k < len(items):
        seg = _origin(items[k], 0)
        n = seg.value.shape[0] if seg is not None else 0
        if seg is not None and k + n <= len(items) and all(_origin(items[k + j], j) is seg for j in range(n)):
            out.append(seg)
            k += n
            continue
        out.append(items[k])
        k += 1
    return out


def _origin(e: Any, k: int) -> Any:
    """The segment whose k-th element e is (a row tuple: each of its numbers), else None."""
    parts = e if isinstance(e, tuple) and e else (e,)
    origins = {id(getattr(v, "origin", (None, -1))[0]) if getattr(v, "origin", (None, -1))[1] == k else None
               for v in parts if isinstance(v, GrownElement)}
    if len(parts) != sum(isinstance(v, GrownElement) for v in parts) or len(origins) != 1 or None in origins:
        return None
    return parts[0].origin[0]


def text(seg: Segment, caller) -> str:
    """What repr() of the list shows for the segment (`str(lst)`, `f"{lst}"`,
    `"{}".format(lst)`): its elements' reprs, each a placeholder print() fills
    in at run time (printing.py), joined as list.__repr__ joins them. Before,
    the segment object's own text ('<100 elements appended in a loop>') was
    the answer. A length known only at run time, or past EXPAND_MAX, is
    refused (one placeholder per element)."""
    (n,) = sizes([seg], "turning into text (str(), repr(), an f-string)")
    if n > EXPAND_MAX:
        raise UnsupportedError(f"turning into text a list of {n} elements held as one array (a loop's appends, "
                               f"x.tolist(), a list argument of numbers) is not supported (more than {EXPAND_MAX})",
                               ctx.current_loc(), "print np.array(the_list), or format the list outside the "
                               "jitted function")
    return ", ".join(_item_text(e, caller) for e in elements(seg, "turning into text"))


def _item_text(e: Any, caller) -> str:
    if isinstance(e, tuple):  # (a tuple of numbers appended: its own repr of its items)
        inner = ", ".join(_item_text(v, caller) for v in e)
        return f"({inner},)" if len(e) == 1 else f"({inner})"
    return e._as_text("r", "", caller)


def compared_by_items(a: list | tuple, b: list | tuple) -> bool:
    """Does `a == b` need grown.equal: a segment on either side, or numbers
    only with traced ones among them (Python's own comparison would ask a
    traced item's truth)? Anything else (arrays among the items: compared by
    identity first) is left to Python."""
    items = (*a, *b)
    if any(isinstance(e, Segment) for e in items):
        return True
    return any(is_tracer(e) for e in items) and all(_number(e) for e in items)


def _number(e: Any) -> bool:
    return is_tracer(e) and e.ndim == 0 or isinstance(e, (int, float, complex, np.number, np.bool_))


def equal(a: list | tuple, b: list | tuple, negate: bool = False) -> Any:
    """`a == b` (`a != b` with `negate`) of two lists (or two tuples) of which
    one holds a segment or traced items: Python compares lengths, then items
    in order (an item that is the same object on both sides is equal without
    a comparison, even a NaN). Python's list compared the segment object
    itself (`x.tolist() == x.tolist()` was False, `lst == [v for v in lst]`
    False). Lengths known while tracing; items numbers, traced or not: one
    traced all-equal of the two sides' items in one array each."""
    if type(a) is not type(b):
        return (a != b) if negate else (a == b)  # (a list is never equal to a tuple: Python reads no item)
    (left, lkeys), (right, rkeys) = _flat(a), _flat(b)
    if len(lkeys) != len(rkeys):
        return negate
    same = np.array([u == v for u, v in zip(lkeys, rkeys)], bool)
    if same.all():
        return not negate
    out = np.all(np.logical_or(same, np.equal(left, right)))
    if not is_tracer(out):
        return bool(out) != negate
    if negate:
        out = np.logical_not(out)
    return Tracer(sem.as_value(out, np.bool_), weak=True)


def _flat(x: list | tuple) -> tuple[Any, list]:
    """x's items as one 1-D array (each segment's stack in its place), and a
    key per item naming the object it is (equal keys: the same object);
    anything but numbers, traced or not, is refused clearly."""
    parts, keys = [], []
    for e in x:
        if isinstance(e, Segment):
            (n,) = sizes([e], "comparing with == or !=")
            if e.fields is not None or e.mixed or e.value.ndim != 1:
                _not_numbers()
            parts.append(sem.wrap(e.value))
            keys.extend((id(e), k) for k in range(n))
        elif _number(e):
            parts.append(np.reshape(e, (1,)))
            keys.append(id(e))
        else:
            _not_numbers()
    return (np.concatenate(parts) if parts else np.zeros(0)), keys


def _not_numbers() -> None:
    raise UnsupportedError("comparing with == or != a list holding traced values and other than numbers (arrays, "
                           "tuples, lists, text) is not supported", ctx.current_loc(),
                           "compare the items one by one, or make arrays and use np.array_equal")


def _readable(seg: Segment, what: str) -> None:
    if seg.mixed:
        raise UnsupportedError(f"{what} a list of tuples of numbers of different types appended in a loop: "
                               "looptrace stacks them in one array, so their types would change",
                               ctx.current_loc(), "np.array(the_list) is NumPy's own; or append to one list "
                               "per field")


class ArgumentSegment(Segment):
    """The items of a list argument of numbers passed as one array
    (pytree.number_list): compared and turned into text as any segment is
    (Segment.__eq__, __repr__; runtime.eq)."""

    argument = True


class GrownElement(Tracer):
    """An element of a grown list, expanded: the list's storage is the stack,
    so a write into the element could not reach the list (plain Python's
    list holds the array itself): refused."""

    # origin: the segment and position it was expanded from (`elements`); read_at: the segment
    # and position (an int, or a traced int64) an index read it from (runtime._grown_item):
    # either is the list's item itself, as Python's x[k] is (`_hits`: found by identity).
    __slots__ = ("origin", "read_at")

    def assign(self, value) -> None:
        raise UnsupportedError("an element of a list grown in a traced loop is written in place; looptrace "
                               "holds the appended values stacked in one array, so the write would not reach "
                               "the list", ctx.current_loc(),
                               "append the final values, or make an array first (a = np.array(lst)) and "
                               "write into it")


class WeakItems(GrownElement):
    """The stack of a grown list of Python numbers: a loop over it reads each
    as a Python number (carries._length_and_item)."""

    __slots__ = ()
    weak_items = True

    def __iter__(self):
        """Its items as Python numbers where Python iterates it itself
        (list(enumerate(xs)), next(iter(zip(xs, w))) of a list argument:
        runtime._argument_stack); a traced loop reads them so already."""
        return (sem.wrap(self[i].value, weak=True) for i in range(self.shape[0]))


def iterable(x: list) -> Any:
    """What `for v in x` iterates for a grown list: the stack itself (a traced
    loop over its rows) when x is one segment and nothing else, else x
    expanded. reversed(lst) of a long held list (pybuiltins.HeldReversed): its
    items taken, where the loop's `break` may leave it (a later use refused)."""
    if hasattr(x, "taken"):
        x = x.taken("a `for` over it (a `break` may stop it where the run decides)", whole=False)
    if len(x) == 1 and x[0].count is None:  # (its rows are views: a write into one is refused)
        _readable(x[0], "iterating")
        return (WeakItems if x[0].weak and x[0].value.ndim == 1 else GrownElement)(x[0].value)
    return expand(x, "iterating")


class DataTyped:
    """np.array of a list a traced loop appended to under a condition: NumPy
    makes an empty list a float64 array of shape (0,), so its type is known
    only after the run. Returned, the run gives the appended items' array and
    the call picks (trace.py `build_output`: float64 and shape (0,) where it is
    empty); any other use is refused, with `error`'s words (its type would
    depend on the data there)."""

    __array_priority__ = 1002

    def __init__(self, array: Tracer, error: UnsupportedError, empty_dtype: Any = "float64"):
        self.array, self.error = array, error
        self.empty_dtype = str(empty_dtype)  # (np.array(lst, dtype=...) of an empty list: that dtype)

    def _fail(self, *args, **kwargs):
        raise self.error

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if name in ("sum", "prod", "any", "all") and self.array.dtype == self.empty_dtype:
            return self._whole(name)
        raise self.error

    def _whole(self, name: str):
        """x.sum() (prod, any, all) of all of it: the same for the items' array and for NumPy's empty
        one of the same dtype (a.sum() if lst else 0.0 reads it whatever the run gives)."""
        def method(axis=None, dtype=None, **kwargs):
            if axis is not None or kwargs:
                raise self.error
            return getattr(self.array, name)(dtype=dtype) if name in ("sum", "prod") else getattr(self.array, name)()
        return method

    __call__ = __getitem__ = __setitem__ = __iter__ = __len__ = __bool__ = __array__ = _fail
    __array_ufunc__ = __array_function__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _fail
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = _fail
    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = __float__ = __int__ = __abs__ = _fail
    __and__ = __or__ = __xor__ = __invert__ = __iadd__ = __isub__ = __imul__ = __itruediv__ = _fail
    __hash__ = object.__hash__


def picked_dtype(array: Any, empty_dtype: str = "float64") -> Any:
    """What np.array of the list was, the run's items array in hand: NumPy's
    empty array of shape (0,) where nothing was appended."""
    import numpy as np

    return array if len(array) else np.zeros(0, empty_dtype)


# --- lst.index(v), lst.count(v) ---------------------------------------------------------------------
SEARCHES = ("index", "count", "sort", "reverse", "copy")  # (runtime.attr asks search_method for these)


def search_method(x: list, name: str) -> Any:
    """`x.index` / `x.count` of a list held as one traced array (a segment:
    x.tolist(), a loop's appends, a list argument of numbers) or holding
    traced numbers, as a callable over all its items at once: Python's own
    method compared each item with `==` and asked the traced bool's truth
    (a TraceError), and past EXPAND_MAX the list could not be expanded at
    all. `x.copy`, and `x.sort` / `x.reverse` of one held past EXPAND_MAX
    (`_long_method`): on its stack. None otherwise: the general path, as
    before (x expanded into its elements)."""
    if name in ("sort", "reverse", "copy"):
        return _long_method(x, name)
    if name not in SEARCHES or type(x) is not list or not _searchable(x):
        return None
    return functools.partial(list_index if name == "index" else list_count, x)


def _long_method(x: list, name: str) -> Any:
    """x.copy() of a held list: a list of the same items (its segments);
    x.sort(key=, reverse=) and x.reverse() of one held past EXPAND_MAX: x
    holds the sorted (pybuiltins.sorted_numbers) or reversed stack."""
    if type(x) is not list or not is_grown(x):
        return None
    from . import pybuiltins

    seg = pybuiltins._long_segment(x)
    if seg is None:  # (expanded, as before: a list of rows copied is a list of the same rows, as Python's)
        return None
    if name == "copy":
        def copy():
            return list.copy(x)
        return copy

    def sort(*, key=None, reverse=False):
        _changed(x, ".sort()")
        ordered = pybuiltins.sorted_numbers(x, key, bool(reverse))
        if ordered is None:
            expand(x, "`.sort` of")  # (its refusal)
        _changed(x)[:] = ordered

    def reverse():
        _changed(x, ".reverse()")[:] = pybuiltins._reversed_held(seg)

    return sort if name == "sort" else reverse


def _changed(x: list, reordered: str = "") -> list:
    """x, about to be changed here (containers.note: the line, for a change
    a traced `if` refuses; reordered in a traced loop: refused there)."""
    from . import containers

    return containers.note(x, reordered)


def _searchable(x: list) -> bool:
    """Numbers only (or segments of them), traced or not: a traced value
    searched for in Python numbers (an empty list too) is compared as one
    array as well (Python's method put its text in the ValueError)."""
    for e in x:
        if isinstance(e, Segment):
            if e.count is not None or e.fields is not None or e.mixed or e.value.ndim != 1:
                return False
        elif not _number(e):
            return False
    return True


def _hits(x: list, value: Any) -> Any:
    """Where each item of x equals value, as Python's list compares them: an
    item that is the value object itself is equal without a comparison (a
    NaN too), any other by `==` (1 == 1.0, -0.0 == 0.0)."""
    items, keys = _flat(x)
    same = np.array([k == id(value) for k in keys], bool)
    hits = np.equal(items, value)
    if same.any():
        hits = np.logical_or(hits, same)
    held = np.array([isinstance(k, tuple) for k in keys], bool)  # (a segment's items: `_flat`)
    return found_itself(x, value, items, hits, None if held.all() else held)


def found_itself(x: list, value: Any, items: Any, hits: Any, held: Any = None) -> Any:
    """hits (where each of x's items equals value: a 1-D bool array), and
    where value is the item of x it was read from (`_read_from`). A NaN
    equals no item, so Python finds it only by identity, which the items
    held as one array (`held`: a mask of them; None: all) have lost: a NaN
    searched among NaN items other than the one it was read from is refused
    at run time (`_refuse_unknown_identity`), not answered wrongly."""
    itself = _read_from(x, value, hits.shape[0])
    if itself is True:  # (all True, in hits' own run-time shape: `in` is True whatever the identities)
        return np.logical_or(hits, np.logical_not(hits))
    _refuse_unknown_identity(value, items, itself, held)
    return hits if itself is None else np.logical_or(hits, itself)


def _refuse_unknown_identity(value: Any, items: Any, itself: Any, held: Any) -> None:
    """Python's x.count(v) / x.index(v) / `v in x` of a NaN v finds the items
    that are v's own object: a list argument [nan] * n holds one object n
    times, a loop's `a.append(s)` the same s each time, and `math.nan` is one
    object. One array of the items keeps no identities, so where v is a NaN
    and an item other than the one v was read from is a NaN, the answer is
    unknown: an UnsupportedError at run time, only then (every other search,
    NaN items or a NaN value alone included, is answered)."""
    if np.dtype(items.dtype).kind not in "fc":
        return
    if not is_tracer(value) and (not isinstance(value, (float, complex, np.inexact)) or value == value):
        return
    nan_items = np.not_equal(items, items)
    if held is not None:
        nan_items = np.logical_and(nan_items, held)
    if itself is not None:
        nan_items = np.logical_and(nan_items, np.logical_not(itself))
    unknown = np.logical_and(np.not_equal(value, value), np.any(nan_items))
    if not is_tracer(unknown) and not unknown:
        return
    from .checks import emit_check

    emit_check(unknown, UnsupportedError(
        "searching a list held as one array (a list argument of numbers, x.tolist(), a loop's appends) "
        "for a NaN where other items are NaNs (.count, .index, `in`): Python finds a NaN only by identity "
        "(the same object), which looptrace does not keep for such items", ctx.current_loc(),
        "test for NaNs with math.isnan / np.isnan (np.isnan(np.array(the_list)).sum()), or search "
        "np.array(the_list)"))


def _read_from(x: list, value: Any, n: int) -> Any:
    """Where the value is the item of x's segment it was read from (`x[k]`,
    an expanded element: GrownElement.origin / read_at), as a mask over x's n
    items (traced where the position is); None where it was read from none
    of x's segments. Python's x.count(x[k]) finds that item by identity even
    when it is a NaN, which `==` does not find."""
    found = [p for p in (getattr(value, "origin", None), getattr(value, "read_at", None)) if p is not None]
    if not found or not isinstance(value, GrownElement):
        return None
    seg, at = found[-1]
    if not any(e is seg for e in x):
        return None
    if not isinstance(n, int):  # (`in` of a list appended under a condition: the item its checked read
        return True             # found is there; count and index refuse such a list: `sizes`)
    start = 0
    for e, size in zip(x, [n] if len(x) == 1 else sizes(x, "comparing with == or !=")):
        if e is seg:
            if not is_tracer(at) and isinstance(n, int):
                return np.arange(n) == start + int(at)
            from .np_arrays import iota

            return np.equal(iota(n), sem.astype(at, np.int64) + start)
        start += size
    return None


def _plain(x: list, value: Any) -> bool:
    """Nothing traced: Python's own method answers."""
    return not is_tracer(value) and not any(isinstance(e, Segment) or is_tracer(e) for e in x)


def list_count(x: list, value: Any) -> Any:
    """x.count(value): how many items equal it (a masked sum), a Python int."""
    if _plain(x, value):
        return list.count(x, value)
    if not _number(value):
        return list.count(x, value) if not any(isinstance(e, Segment) for e in x) else 0
    hits = _hits(x, value)
    total = np.sum(hits.astype(np.int64)) if is_tracer(hits) else int(np.sum(hits))
    return Tracer(sem.as_value(total, np.int64), weak=True) if is_tracer(total) else total


def list_index(x: list, value: Any, start: Any = 0, stop: Any = sys.maxsize) -> Any:
    """x.index(value[, start[, stop]]): the first position in start:stop where
    an item equals value, a Python int; Python's ValueError where none does
    (raised at run time: checks.emit_check)."""
    if _plain(x, value):
        return list.index(x, value, start, stop)
    if not _number(value):
        if not any(isinstance(e, Segment) for e in x):
            return list.index(x, value, start, stop)
        raise ValueError(f"{value!r} is not in list")
    hits = _hits(x, value)
    n = hits.shape[0]
    if not is_tracer(start) and not is_tracer(stop):  # (slice bounds as list.index clips them)
        lo, hi, _ = slice(operator.index(start), operator.index(stop)).indices(n)
        hits = hits[lo:hi] if hi > lo else hits[:0]
    else:
        from .np_arrays import iota

        lo, hi = _clipped(start, n), _clipped(stop, n)
        at = iota(n)
        hits = np.logical_and(hits, np.logical_and(at >= lo, at < hi))
        lo = 0
    missing = f"{value!r} is not in list" if not is_tracer(value) else "value is not in list"
    if hits.shape[0] == 0:
        raise ValueError(missing)
    if not is_tracer(hits):
        if not hits.any():
            raise ValueError(missing)
        return lo + int(np.argmax(hits))
    from .checks import emit_check

    emit_check(np.logical_not(np.any(hits)), ValueError(missing))  # (the check names the line)
    where = np.argmax(hits) + lo
    return Tracer(sem.as_value(where, np.int64), weak=True)


def _clipped(bound: Any, n: int) -> Any:
    """A start or stop of list.index at run time: from the end where negative, then within 0..n."""
    b = sem.astype(bound, np.int64) if is_tracer(bound) else operator.index(bound)
    return np.clip(np.where(b < 0, b + n, b), 0, n)

