"""Python's builtins on traced scalars, with Python's semantics.

- `max(a, b, ...)` is a fold that keeps the running value unless the next
  item is strictly greater (`b > a`), so NaNs behave as in plain Python:
  `max(nan, 1.0)` is nan and `max(1.0, nan)` is 1.0 (np.maximum gives nan
  for both). `min` likewise with `<`. Ints and bools, which have no NaN, use
  np.maximum/np.minimum (the same values, and a loop accumulating them stays
  a reduction). `key=` and `default=` work as in Python; over a traced 1-D
  array the fold becomes one reduction. Items that are arrays of more than
  one element raise, as Python does (their truth value is ambiguous).
- `round(x)` of a Python float (a weak traced float) is an int, rounded half
  to even; `round(x, n)` is Python's correctly rounded result (computed
  exactly with an error-free product, not as rint(x * 10**n) / 10**n, which
  NumPy's np.round does and which is right for NumPy scalars).
- `float`, `int`, `bool`, `complex`, `abs`, `divmod`, `pow`, `any`, `all`
  give the Python type (a weak scalar).

Invariant: `BUILTINS` maps `id(builtin)` to an implementation that calls the
real builtin when no argument is traced.
"""
from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from looptrace.errors import BigIntError, ShapeError, TraceError, UnsupportedError
from looptrace.ops import get as prim

from . import context as ctx
from . import kinds
from . import semantics as sem
from .array import Tracer, is_tracer
from .pymath import as_float, int_of_whole, make_complex, scalar

_MISSING = object()
# a Python max/min with key= over a concrete sequence is unrolled up to this many items
KEY_FOLD_LIMIT = 256


def _weak(t: Tracer) -> Tracer:
    """A conversion's result: a Python number whatever type its operand had
    (`bool(v)` of a float or an int chosen at run time has one type, no tag)."""
    t.weak = True
    t.kinds = t.pyflag = None
    return t


def _traced_any(xs) -> bool:
    return any(is_tracer(x) for x in xs)


# --- max / min -------------------------------------------------------------------------------------
def _minmax(name: str):
    real = getattr(builtins, name)
    better = "greater" if name == "max" else "less"
    monoid = "maximum" if name == "max" else "minimum"

    def fn(*args, key=None, default=_MISSING):
        key = _as_called(key)
        extra = {} if default is _MISSING else {"default": default}
        if len(args) == 1 and is_tracer(args[0]) and key is None:
            return _over_array(args[0], name, monoid, default)
        items = args[0] if len(args) == 1 else args
        if len(args) == 1 and key is not None and _long_loopable(items):
            return _key_loop(name, better, items, key, default)
        if len(args) == 1 and not isinstance(items, (list, tuple)):
            if not hasattr(items, "__iter__"):
                return real(*args, key=key, **extra)
            items = list(items)
        keys = None
        if key is not None and len(items) <= KEY_FOLD_LIMIT:
            keys = [key(x) for x in items]
        if not _traced_in(items) and not (keys and _traced_in(keys)):
            return real(items, key=key, **extra) if len(args) == 1 else real(*args, key=key)
        if key is not None and keys is None:
            raise UnsupportedError(f"{name}() with key= over {len(items)} items is unrolled while tracing; "
                                   f"more than {KEY_FOLD_LIMIT} is not supported", ctx.current_loc(),
                                   f"use np.arg{name}")
        if not items:
            if default is _MISSING:
                raise ValueError(f"{name}() iterable argument is empty")
            return default
        items = list(items)
        return _fold(items, keys if keys is not None else items, better, monoid, name)

    fn.__name__ = name
    return fn


def _as_called(key: Any) -> Any:
    """A key function called as the user's code calls it (runtime.call): a
    lambda's `int(x[i])` is then traced, where called from here directly it
    was Python's int() of a traced value (a ConcreteIndexError)."""
    if key is None:
        return None
    from .runtime import call  # (runtime imports this module)

    return lambda item: call(key, item)


def _long_loopable(items: Any) -> bool:
    """A range or an array too long to unroll max()/min()'s key over."""
    if isinstance(items, range):  # (a range of a traced length may be empty: Python's max raises, not here)
        return len(items) > KEY_FOLD_LIMIT
    return is_tracer(items) and items.ndim > 0 and isinstance(items.shape[0], int) and \
        items.shape[0] > KEY_FOLD_LIMIT


def _key_loop(name: str, better: str, items: Any, key: Any, default: Any) -> Any:
    """max(items, key=f) / min() over a long range or array: a loop traced
    once (not one trace of f per item), the first item whose key is the
    extreme, as Python's (`max(range(n), key=lambda i: score[i])`)."""
    from .control import for_, if_

    if isinstance(items, range) and len(items) == 0:
        if default is _MISSING:
            raise ValueError(f"{name}() iterable argument is empty")
        return default
    first, rest = items[0], items[1:]
    state = {"best": first, "best_key": key(first)}
    _check_item(state["best_key"], name)
    names = ("best", "best_key")
    get = lambda: (state["best"], state["best_key"])  # noqa: E731
    put = lambda vals: state.update(zip(names, vals))  # noqa: E731

    def step(item: Any) -> None:
        k = key(item)

        def take() -> None:
            state["best"], state["best_key"] = item, k

        if_(sem.ufunc(better, k, state["best_key"]), take, lambda: None, get, put, names)

    for_(rest, step, get, put, names, live=names, live_out=names, loc=None)
    return state["best"]


def _check_item(x: Any, name: str) -> None:
    if isinstance(x, tuple):  # compared as Python compares tuples (`_ordered`)
        for v in x:
            if isinstance(v, tuple) or is_tracer(v):
                _check_item(v, name)
        return
    shape = x.shape if is_tracer(x) else np.shape(x)
    if shape != ():
        raise TraceError(f"{name}() compares its items with `>`/`<`; an array of shape {shape} has no "
                         "single truth value", ctx.current_loc(), f"use np.{name}imum(a, b) elementwise, "
                         f"or np.{name}(a) over an array")
    if sem.dtype_of(x).kind == "c":
        raise TraceError(f"{name}(): complex numbers cannot be ordered", ctx.current_loc())


def _fold(items: list, keys: list, better: str, monoid: str, name: str) -> Any:
    for x in keys:
        _check_item(x, name)
    if any(isinstance(v, tuple) for v in (*items, *keys)):
        return _fold_tuples(items, keys, better, name)
    plain = keys is items and all(sem.dtype_of(x).kind in "biu" for x in items)
    acc, acc_key = items[0], keys[0]
    for x, k in zip(items[1:], keys[1:]):
        held = kinds.held(x, acc, True)  # a Python number against a float32 / uint8 is kept exact (kinds.holding)
        one_type = (kx := kinds.keys_of(x)) is not None and len(kx) == 1 and kx == kinds.keys_of(acc)
        if plain and (one_type or np.ndim(x) == 0 and np.ndim(acc) == 0 and _traced_any((x, acc))) \
                and not (_unheld_int(x, held) or _unheld_int(acc, held)):
            # the extreme in the dtype that holds both exactly, not under NumPy's promotion (np.minimum
            # of a 10**18 sentinel and an int32 converts the sentinel), its type the one taken's
            new = sem.ufunc(monoid, acc, x) if one_type else sem.wrap(ctx.emit1(
                prim(monoid), [sem.as_value(acc, held), sem.as_value(x, held)]))
            if kinds.keys_of(x) != kinds.keys_of(acc) and np.ndim(new) == 0:  # the type of the one taken
                take = sem.ufunc(better, x, acc)
                if _traced_any((take,)):
                    kinds.merged(take, x, acc, new)
            acc = new
            continue
        take = _known(sem.ufunc(better, k, acc_key))
        if _traced_any((take,)) and (kept := _unless_big_taken(take, x, acc, held, name)) is not None:
            acc, acc_key = (x, k) if kept is x else (acc, acc_key)
            continue
        if _traced_any((take,)):
            new = sem.select(take, x, acc) if held == sem.result_type(x, acc) else \
                sem.select(take, sem.astype(x, held), sem.astype(acc, held))
            kinds.merged(take, x, acc, new)
            acc = new
        else:
            acc = x if take else acc
        if keys is not items:
            acc_key = sem.select(take, k, acc_key) if _traced_any((take,)) else (k if take else acc_key)
        else:
            acc_key = acc
    return acc


def _fold_tuples(items: list, keys: list, better: str, name: str) -> Any:
    """max()/min() where the items or their keys are tuples (`max(pairs,
    key=lambda p: p[0])`, `min(pairs)`): the running item is replaced where
    the next one's key is strictly better, Python's tuple order deciding; a
    chosen tuple is chosen element by element, each keeping its type."""
    acc, acc_key = items[0], keys[0]
    for x, k in zip(items[1:], keys[1:]):
        take = _known(_ordered(better, k, acc_key))
        if not _traced_any((take,)):
            acc, acc_key = (x, k) if take else (acc, acc_key)
            continue
        acc = _chosen(take, x, acc, name)
        acc_key = acc if keys is items else _chosen(take, k, acc_key, name)
    return acc


def _known(t: Any) -> Any:
    """A comparison's result as a Python bool where it is a constant (`x_i64[0] < 2**70`)."""
    if is_tracer(t) and t.ndim == 0 and t.value.is_const:
        return bool(t.value.const)
    return t


def _unheld_int(x: Any, dtype: np.dtype) -> bool:
    """A Python int constant that `dtype` (the choice's) cannot hold exactly (kinds.inexact_int,
    the rule of every traced choice): `max(t, 2**53 + 1)`, a float64 would round it."""
    return kinds.inexact_int(x, dtype)


def _unless_big_taken(take: Tracer, x: Any, acc: Any, held: np.dtype, name: str) -> Any:
    """max(acc, x) / min() where x or acc is a Python int the choice's dtype cannot hold
    (`_unheld_int`: `max(x[0], 2**70)` of floats) and the other traced: the traced one, and an
    error at run time where the int is the result (Python returns it exactly); None if neither
    is such an int."""
    from .checks import emit_check

    for big, other, chosen in ((x, acc, take), (acc, x, sem.ufunc("logical_not", take))):
        if _unheld_int(big, held):
            emit_check(chosen, _big_result(big, name, held))
            return other
    return None


def _big_result(big: int, name: str, held: np.dtype) -> UnsupportedError:
    """The error where a min()/max()/sorted() result would be a Python int its traced dtype cannot hold."""
    if not -2**63 <= big < 2**64:
        return BigIntError(f"{name}() returns the Python int {big} here, past 64 bits: no traced dtype holds it "
                           "exactly", ctx.current_loc(), "for a sentinel use float('inf') or sys.maxsize; for "
                           "big-integer results, the function without looptrace")
    return UnsupportedError(f"{name}() returns the Python int {big} here, which the {np.dtype(held).name} it "
                            "is chosen against does not hold exactly", ctx.current_loc(),
                            "convert one side first (float(n), or np.int64(...) beside ints)")


SORT_LIMIT = 16  # sorted() of at most this many traced numbers: a network of compare-exchanges


def _sorted(iterable, /, *, key=None, reverse=False):
    """sorted() of a few numbers some of which are traced: bubble passes of
    compare-exchanges of neighbours, exchanged only where the later one is
    strictly smaller (greater with `reverse`), so that equal items keep
    their order, as Python's stable sort keeps it."""
    given, key = key, _as_called(key)
    if is_tracer(iterable):
        if iterable.ndim != 1:
            return builtins.sorted(iterable, key=key, reverse=reverse)  # (Python's error)
        iterable = [iterable[k] for k in range(iterable.shape[0])] if iterable.shape[0] <= SORT_LIMIT \
            else iterable
    if isinstance(iterable, range) and key is not None and len(iterable) > SORT_LIMIT \
            and _traced_in([key(iterable[0])]):
        order = _range_by_key(iterable, key, reverse)  # sorted(range(n), key=lambda i: x[i])
        if order is not None:
            return order
    ordered = sorted_numbers(iterable, given, reverse)  # sorted(x), sorted(x.tolist(), key=f): an argsort
    if ordered is not None:
        return ordered
    items = list(iterable) if not is_tracer(iterable) else None
    if items is None or not _traced_in(items) and not (key is not None and _traced_in([key(x) for x in items])):
        return builtins.sorted(iterable, key=key, reverse=reverse)
    if len(items) > SORT_LIMIT:
        raise UnsupportedError(f"sorted() of {len(items)} traced items is not supported (at most {SORT_LIMIT})",
                               ctx.current_loc(), "use np.sort on an array" if key is None or _traced_in(items)
                               else "for the items in the order of a traced key (`sorted(range(n), key=lambda i: "
                               "x[i])`), use np.argsort(x, kind=\"stable\")")
    keys = [key(x) for x in items] if key is not None else list(items)
    for k in keys:
        _check_item(k, "sorted")
    _no_nan_keys([e for k in keys for e in _elements(k)])
    n = len(items)
    for end in range(n - 1, 0, -1):
        for j in range(end):
            a, b = keys[j], keys[j + 1]
            swap = _known(_ordered("greater" if reverse else "less", b, a))
            if not _traced_any((swap,)):
                if swap:
                    keys[j], keys[j + 1] = b, a
                    items[j], items[j + 1] = items[j + 1], items[j]
                continue
            lo, hi = _chosen(swap, items[j + 1], items[j], "sorted"), _chosen(swap, items[j], items[j + 1], "sorted")
            if key is not None:
                keys[j], keys[j + 1] = _chosen(swap, b, a, "sorted"), _chosen(swap, a, b, "sorted")
            else:
                keys[j], keys[j + 1] = lo, hi
            items[j], items[j + 1] = lo, hi
    return items


def _number_stack(x: Any) -> tuple[Tracer, bool] | None:
    """x's items as one 1-D traced array of real numbers, and whether they
    are Python numbers: a traced array; a list held as one (a segment:
    x.tolist(), a loop's appends, a list argument of numbers); or a list of
    traced numbers of one type (such a list after max(lst) expanded it).
    None for anything else."""
    from . import grown
    from .numpy_api import _segment_value

    if is_tracer(x):
        arr, weak = x, False
    elif grown.is_grown(x) and len(x) == 1:
        seg = x[0]
        if seg.fields or seg.mixed or seg.count is not None:
            return None
        arr, weak = _segment_value(seg), bool(seg.weak)
    elif type(x) is list and x and all(is_tracer(e) and e.ndim == 0 for e in x) \
            and len({e.dtype for e in x}) == 1 and len({bool(e.weak) for e in x}) == 1:
        arr, weak = np.stack(x), bool(x[0].weak)
    else:
        return None
    if arr.ndim != 1 or not isinstance(arr.shape[0], int) or arr.dtype.kind not in "biuf":
        return None
    return arr, weak


def sorted_numbers(x: Any, key: Any, reverse: bool) -> list | None:
    """sorted() of more than SORT_LIMIT numbers (`_number_stack`), by their
    own values or by a key function traced once over them (a comprehension's
    loop: its keys one array, or one per position of the tuples it gives):
    a stable argsort of the keys (`_key_order`; the largest first with
    reverse, equal keys still in their order, as Python's stable sort leaves
    them: -0.0 and 0.0 too), refused at run time where a float key is NaN; a
    list of the items as they were (Python numbers from a list of them,
    NumPy scalars from an array). None where x is not such numbers."""
    from .runtime import comp_list  # (runtime imports this module)
    from .values import Segment

    got = _number_stack(x)
    if got is None or got[0].shape[0] <= SORT_LIMIT:
        return None
    items, weak = got
    loc = ctx.current_loc()
    columns = [items]
    if key is not None:  # (over the items as the list holds them: Python numbers where they are)
        columns = _key_columns(comp_list(_as_called(key), [Segment(items.value, None, weak)], (loc.file, loc.line)))
    out = items[_key_order(columns, reverse)]
    return comp_list((lambda v: v.item()) if weak else (lambda v: v), out, (loc.file, loc.line))


def _key_columns(keys: list) -> list:
    """The keys a key function gave each item (a list its loop grew), as
    arrays: one of numbers, or one per position of tuples of numbers of one
    type (Python compares them position by position). Any other key is
    refused: the general path sorts at most SORT_LIMIT traced items."""
    from . import grown
    from .numpy_api import _segment_value

    got = _number_stack(keys)
    if got is not None:
        return [got[0]]
    seg = keys[0] if grown.is_grown(keys) and len(keys) == 1 else None
    if seg is not None and seg.fields and not seg.mixed and seg.count is None:
        stack = _segment_value(seg)
        if stack.ndim == 2 and stack.dtype.kind in "biuf":
            return [stack[:, j] for j in range(seg.fields)]
    raise UnsupportedError(
        f"sorted() of more than {SORT_LIMIT} traced items by a key that is not one real number (or a tuple of "
        "real numbers of one type) for each item is not supported: looptrace sorts them by an argsort of the "
        "keys as one array", ctx.current_loc(),
        "make the key one number (or a tuple of floats: float(...) for each position), or sort indices with "
        "np.argsort(keys, kind=\"stable\") / np.lexsort")


def _key_order(columns: list, reverse: bool) -> Tracer:
    """The positions of the items in Python's stable sorted() order of their
    keys (tuples of columns compared position by position): stable argsorts
    by the last column first, then by each earlier one (a lexicographic sort
    whose ties keep the items' order)."""
    from .np_arrays import argsort

    _no_nan_keys([c.max() for c in columns])  # (a NaN key makes the maximum NaN)
    order = None
    for col in reversed(columns):
        col = col if order is None else col[order]
        by = -(col.astype(np.int64) if col.dtype.kind in "bu" else col) if reverse else col
        step = argsort(by, kind="stable")
        order = step if order is None else order[step]
    return order


NOT_HELD = object()  # held_list_call's answer where the general path (the list's elements) applies


def held_list_call(fn: Any, args: tuple, kwargs: dict) -> Any:
    """A builtin given a list held as one traced array (runtime._call, before
    it expands the list into its elements, which it cannot past
    grown.EXPAND_MAX): sorted(lst[, key=f][, reverse=]) by an argsort of its
    stack (`sorted_numbers`); list(lst) a new list of the same items (its
    segments, unexpanded); reversed(lst) and max/min(lst, key=f) of a long one
    over its stack reversed (`_reversed_held`), or a loop traced once
    (`_key_loop`). NOT_HELD where none of these applies."""
    from . import grown

    if fn is builtins.sorted and len(args) == 1 and set(kwargs) <= {"key", "reverse"} \
            and not is_tracer(kwargs.get("reverse")):
        ordered = sorted_numbers(args[0], kwargs.get("key"), bool(kwargs.get("reverse", False)))
        return NOT_HELD if ordered is None else ordered
    if len(args) != 1 or not grown.is_grown(args[0]):
        return NOT_HELD
    if fn is builtins.list and not kwargs:  # (a list of the same objects: Python's copy)
        return list.copy(args[0])
    seg = _long_segment(args[0])
    if seg is None:
        return NOT_HELD
    if fn is builtins.reversed and not kwargs:
        return HeldReversed(_reversed_held(seg))
    if (fn is builtins.max or fn is builtins.min) and kwargs.get("key") is not None \
            and set(kwargs) <= {"key", "default"} and seg.fields is None and seg.value.ndim == 1:
        best = _minmax(fn.__name__)(grown.iterable(args[0]), **kwargs)
        return sem.wrap(best.value, weak=True) if seg.weak and is_tracer(best) else best  # (a Python number)
    return NOT_HELD


def _long_segment(x: list) -> Any:
    """The one segment of x, of a length known while tracing past grown.EXPAND_MAX (else None)."""
    from . import grown

    seg = x[0] if len(x) == 1 else None
    if seg is None or seg.count is not None or seg.mixed or not isinstance(seg.value.shape[0], int) \
            or seg.value.shape[0] <= grown.EXPAND_MAX:
        return None
    return seg


def _reversed_held(seg: Any) -> list:
    """reversed(lst) of a long held list: a list held as its stack reversed
    (as reversed() of a traced array is the array reversed, runtime._reversed),
    which a loop, list(), sum() and the like read as they read any held list."""
    from .values import Segment

    return [Segment(sem.wrap(seg.value)[::-1].value, None, seg.weak, seg.fields, seg.mixed)]


class HeldReversed(list):
    """reversed(lst) of a long held list: an iterator, as Python's, over the
    stack reversed (`_reversed_held`). It is a list to the tracer (its held
    items: a loop over it, sum(), list() read them as they read any held
    list) and an iterator to Python (next(), iteration.py's checks); each
    use takes its items (`taken`): next() the first, a builtin all of them
    (then it is empty), a `for` all of them at a place a `break` may decide
    at run time (then a later use is refused: iteration.taken_at_run_time).
    Python's TypeError for len() and indexing (runtime.py)."""

    __slots__ = ()

    def __next__(self) -> Any:
        from . import iteration
        from .runtime import _grown_item

        iteration.check_taken(self)
        if not list.__len__(self):
            raise StopIteration
        seg = self[0]
        first = _grown_item(list(self), 0)
        rest = sem.wrap(seg.value)[1:]
        self[:] = [type(seg)(rest.value, None, seg.weak, seg.fields, seg.mixed)] if rest.shape[0] else []
        return first

    def taken(self, how: str, whole: bool = True) -> list:
        """Its items as a plain held list, taken from it: by a builtin
        (`whole`: it is empty afterwards) or by `how`, which may stop where
        the run decides (a later use of it refused)."""
        from . import iteration

        iteration.check_taken(self)
        items = list(self)
        if whole:
            self.clear()
        else:
            iteration.taken_at_run_time(self, how)
        return items


def taken_iterators(fn: Any, args: tuple) -> tuple:
    """The arguments of a builtin that iterates (runtime._ITERATING), each
    HeldReversed among them taken (`HeldReversed.taken`): any() and all() stop
    at a decisive item, which the run finds; the others take all."""
    if not any(type(a) is HeldReversed for a in args):
        return args
    whole = fn is not builtins.any and fn is not builtins.all
    return tuple(a.taken(f"{fn.__name__}() of it", whole) if type(a) is HeldReversed else a for a in args)


def _range_by_key(items: range, key: Callable, reverse: bool) -> Any:
    """sorted(range(...), key=f) of more than SORT_LIMIT items whose keys are
    traced numbers: the keys made by a loop traced once (runtime.comp_list,
    as `[f(i) for i in range(n)]`), the order a stable argsort of them
    (Python's sort is stable, with reverse=True too), a list of Python ints;
    None where a key is not one real number (tuples: the general path)."""
    from . import grown
    from .np_arrays import argsort
    from .numpy_api import _segment_value
    from .runtime import comp_list  # (runtime imports this module)

    loc = ctx.current_loc()
    keys = comp_list(key, items, (loc.file, loc.line))
    seg = keys[0] if grown.is_grown(keys) and len(keys) == 1 else None
    if seg is None or seg.fields or seg.mixed or seg.count is not None or seg.value.ndim != 1 \
            or seg.value.dtype.kind not in "biuf":
        return None
    k = _segment_value(seg)
    _no_nan_keys([k.max()])  # (a NaN key makes the maximum NaN)
    if reverse:  # the largest first, equal keys still in their order
        k = -(k.astype(np.int64) if k.dtype.kind in "bu" else k)
    return (argsort(k, kind="stable") * items.step + items.start).tolist()


def _traced_in(xs: list) -> bool:
    """Is any of these items, or an element of a tuple among them, traced?"""
    return any(is_tracer(e) for x in xs for e in _elements(x))


def _elements(x: Any) -> list:
    """The numbers of an item: a tuple's (nested ones too), or the item itself."""
    return [e for v in x for e in _elements(v)] if isinstance(x, tuple) else [x]


def _ordered(op: str, a: Any, b: Any) -> Any:
    """`a < b` (op "less") or `a > b` ("greater") as Python compares them:
    tuples lexicographically (the first position where they differ decides;
    where none does, the shorter is the lesser), each element traced or not."""
    if not (isinstance(a, tuple) and isinstance(b, tuple)):
        return sem.ufunc(op, a, b)
    out: Any = len(a) < len(b) if op == "less" else len(a) > len(b)
    for x, y in reversed(list(zip(a, b))):
        if isinstance(x, tuple) or isinstance(y, tuple):
            decided, same = _ordered(op, x, y), _same(x, y)
        elif not _traced_any((x, y)):  # (Python's own comparison: a label, a number)
            decided, same = (x < y) if op == "less" else (x > y), x == y
        else:
            decided, same = _known(sem.ufunc(op, x, y)), _known(sem.ufunc("equal", x, y))
        if not _traced_any((same,)):
            out = out if same else decided
        else:
            out = sem.ufunc("logical_or", decided, sem.ufunc("logical_and", same, out))
    return out


def _same(a: Any, b: Any) -> Any:
    """`a == b` of tuples, element by element (a traced bool where an element is traced)."""
    if not (isinstance(a, tuple) and isinstance(b, tuple)):
        return _known(sem.ufunc("equal", a, b)) if _traced_any((a, b)) else a == b
    if len(a) != len(b):
        return False
    out: Any = True
    for x, y in zip(a, b):
        eq = _same(x, y)
        if not _traced_any((eq,)):
            if not eq:
                return False
            continue
        out = eq if out is True else sem.ufunc("logical_and", out, eq)
    return out


def _chosen(take: Any, a: Any, b: Any, name: str) -> Any:
    """`a` where the traced bool `take`, else `b`: a tuple element by element,
    so that each element keeps its own type (`(x[i], i)`: the index stays an
    int), as the item Python picks would."""
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(_chosen(take, x, y, name) for x, y in zip(a, b))
    if a is b or not _traced_any((a, b)) and type(a) is type(b) and _plain_equal(a, b):
        return a
    for v in (a, b):
        if isinstance(v, tuple) or not (is_tracer(v) or isinstance(v, (bool, int, float, np.number, np.bool_))):
            raise UnsupportedError(
                f"{name}() of items that differ in shape or hold other things than numbers "
                f"({type(a).__name__} against {type(b).__name__}) is not supported when their order depends on "
                "traced values: the item chosen at run time must be one traced value", ctx.current_loc(),
                "keep the items tuples of numbers of the same length, or sort indices with np.argsort")
    _no_unheld_int(a, b)
    out = sem.select(take, a, b)
    kinds.merged(take, a, b, out)
    return out


def _plain_equal(a: Any, b: Any) -> bool:
    """Are Python values a and b the same (0.0 and -0.0 are not: either may be chosen)?"""
    try:
        same = bool(a == b)
    except Exception:
        return False
    return same and (not isinstance(a, float) or np.signbit(a) == np.signbit(b))


def _no_unheld_int(a: Any, b: Any) -> None:
    """A compare-exchange of sorted() selects between a and b: refused where one is a Python int
    their dtype cannot hold (2**70 beside a float: each position's value is chosen at run time)."""
    held = sem.result_type(a, b)
    for v in (a, b):
        if _unheld_int(v, held):
            raise _big_result(v, "sorted", held)


def _no_nan_keys(keys: list) -> None:
    """Python's order of items among which a NaN is depends on its sort's
    algorithm (NaN is neither less nor greater than anything): refused at run
    time where a traced float key is NaN, not an order of its own."""
    from .checks import emit_check

    nan = None
    for k in keys:
        if is_tracer(k) and k.dtype.kind == "f":
            test = sem.ufunc("isnan", k)
            nan = test if nan is None else sem.ufunc("logical_or", nan, test)
    if nan is not None:
        emit_check(nan, UnsupportedError("sorted() of items one of which is NaN: Python's order then depends on "
                                         "its sort algorithm, looptrace's on its own", ctx.current_loc(),
                                         "drop the NaNs first, or use np.sort (NaNs last)"))


def grown_extreme(name: str, seg: Any, default: Any = _MISSING) -> Any:
    """max(lst) / min(lst) of a list a traced loop appended numbers to under a
    condition (`min([v for v in x if v > t])`), its elements stacked with a
    run-time count (the stack's length known while tracing): the fold over
    the first `count` of them, with Python's rules (a NaN first element is
    kept, later NaNs are skipped, the first of equal items wins:
    `_over_array`); where the count is 0, Python's ValueError, or `default`."""
    from .checks import emit_check
    from .control import ifexp
    from .np_arrays import iota

    stack = sem.wrap(seg.value)
    n = stack.shape[0]
    if n == 0:  # (a loop of no iterations: the list is empty)
        if default is _MISSING:
            raise ValueError(f"{name}() arg is an empty sequence")
        return default
    if stack.dtype.kind == "c":
        raise TraceError(f"{name}(): complex numbers cannot be ordered", ctx.current_loc())
    reducer = "reduce_max" if name == "max" else "reduce_min"
    first = stack[0]
    skipped = sem.ufunc("greater_equal", iota(n), seg.count)  # past the count: not the list's
    if stack.dtype.kind == "f":
        skipped = sem.ufunc("logical_or", skipped, sem.ufunc("isnan", stack))
    kept = sem.select(skipped, first, stack)  # (the first element again changes no extreme)
    best = sem.wrap(ctx.emit1(prim(reducer), [sem.as_value(kept)], axes=(0,), ties="first"))
    out = sem.select(sem.ufunc("isnan", first), first, best) if stack.dtype.kind == "f" else best
    out = sem.wrap(out.value, weak=True) if seg.weak else out
    empty = sem.ufunc("equal", seg.count, 0)
    if default is _MISSING:
        emit_check(empty, ValueError(f"{name}() arg is an empty sequence"))
        return out
    return ifexp(empty, lambda: default, lambda: out)


def fold_array(x: Tracer, name: str, default: Any = _MISSING) -> Any:
    """max(x) / min(x) of a traced array, as Python iterates it (runtime's sum/max/min of a long list)."""
    return _over_array(x, name, "maximum" if name == "max" else "minimum", default)


def _over_array(x: Tracer, name: str, monoid: str, default: Any) -> Any:
    """max(x) of a traced array: Python iterates its first axis."""
    if x.ndim == 0:
        from .methods import iteration_error  # (methods imports this module)

        raise iteration_error(x)
    if x.ndim > 1:
        raise TraceError(f"{name}() over an array of shape {x.shape} compares its rows, whose truth "
                         "value is ambiguous", ctx.current_loc(), f"use np.{name}(x) or x.{name}()")
    if x.shape[0] == 0:
        if default is _MISSING:
            raise ValueError(f"{name}() iterable argument is empty")
        return default
    if x.dtype.kind == "c":
        raise TraceError(f"{name}(): complex numbers cannot be ordered", ctx.current_loc())
    reducer = "reduce_max" if monoid == "maximum" else "reduce_min"
    if x.dtype.kind not in "fc":
        return sem.reduce(reducer, x)
    # the fold keeps x[0] if it is nan (nothing compares greater), else it skips every nan;
    # of equal items (+0.0 and -0.0) it keeps the first, as Python's (ops/reduce.py `ties`)
    first = x[0]
    no_nans = sem.select(sem.ufunc("isnan", x), first, x)
    best = sem.wrap(ctx.emit1(prim(reducer), [sem.as_value(no_nans)], axes=(0,), ties="first"))
    return sem.select(sem.ufunc("isnan", first), first, best)


# --- conversions -----------------------------------------------------------------------------------
def _float(x=0.0, *rest):
    if not is_tracer(x):
        return builtins.float(x, *rest)
    return _weak(as_float(x, "float()"))


def _int(x=0, *rest):
    if not is_tracer(x):
        return builtins.int(x, *rest)
    x = scalar(x, "int()")
    if x.dtype == np.uint64:  # past 2**63 Python makes an int that looptrace's int64 cannot hold
        from .checks import emit_check
        from .python_numbers import MESSAGE

        emit_check(sem.ufunc("greater_equal", x, np.uint64(2 ** 63)), BigIntError(MESSAGE, ctx.current_loc()))
    if x.dtype.kind in "biu":
        return _weak(sem.astype(x, np.int64))
    return int_of_whole(sem.ufunc("trunc", as_float(x, "int()")))


def _bool(x=False):
    from .control import tested

    x = tested(x)  # bool(lst) of a list a traced loop grew
    if not is_tracer(x):
        return builtins.bool(x)
    if x.size != 1:  # NumPy's ValueError (an array of one element, of any ndim, has a truth value)
        raise ShapeError("The truth value of an empty array is ambiguous. Use `array.size > 0` to check that an "
                         "array is not empty." if x.size == 0 else "The truth value of an array with more than "
                         "one element is ambiguous. Use a.any() or a.all()", ctx.current_loc())
    return _weak(sem.ufunc("not_equal", sem.reshape(x, ()), 0))


def _complex(real=0, imag=_MISSING):
    if not is_tracer(real) and not is_tracer(imag):
        return builtins.complex(real) if imag is _MISSING else builtins.complex(real, imag)
    if imag is _MISSING:
        return _weak(sem.astype(scalar(real, "complex()"), np.complex128))
    re, im = (scalar(v, "complex()") if is_tracer(v) else v for v in (real, imag))
    if sem.dtype_of(re).kind != "c" and sem.dtype_of(im).kind != "c":
        return _weak(make_complex(as_float(re, "complex()") if is_tracer(re) else builtins.float(re),
                                  as_float(im, "complex()") if is_tracer(im) else builtins.float(im)))
    # complex(a, b) with complex parts is a + b*1j computed part by part, as Python does
    a, b = sem.astype(sem.wrap(sem.as_value(re)), np.complex128), sem.astype(sem.wrap(sem.as_value(im)), np.complex128)

    part = lambda p, v: sem.wrap(ctx.emit1(prim(p), [v.value]))
    return _weak(make_complex(sem.ufunc("subtract", part("real", a), part("imag", b)),
                              sem.ufunc("add", part("imag", a), part("real", b))))


def _abs(x):
    return sem.ufunc("absolute", x) if is_tracer(x) else builtins.abs(x)


def _divmod(a, b):
    if not (is_tracer(a) or is_tracer(b)):
        return builtins.divmod(a, b)
    return sem.ufunc("floor_divide", a, b), sem.ufunc("remainder", a, b)


def _pow(base, exp, mod=None):
    if not (is_tracer(base) or is_tracer(exp) or is_tracer(mod)):
        return builtins.pow(base, exp, mod)
    if mod is not None:
        return _pow_mod(base, exp, mod)
    return base ** exp if is_tracer(base) else sem.ufunc("power", base, exp)


# |mod| at most this: a product of two residues fits in int64 (the run-time check of _pow_mod)
_POW_MOD_MAX = 3037000499  # floor(sqrt(2**63 - 1))


def _pow_mod(base, exp, mod):
    """Python's pow(base, exp, mod) of ints, some traced: square and multiply
    over the exponent's 63 bits, a loop traced once (the product of two
    residues in int64: |mod| past 2**31.5 is refused at run time, as a big
    int would be). ValueError for mod 0, as Python's; a negative exponent
    (Python's modular inverse) is refused at run time."""
    from .checks import emit_check

    args = (base, exp, mod)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) or
               is_tracer(a) and a.dtype.kind in "iu" for a in args):
        raise TypeError("pow() 3rd argument not allowed unless all arguments are integers")
    if any(is_tracer(a) and (a.ndim != 0 or not sem.is_weak(a)) or isinstance(a, np.integer) for a in args):
        kinds_ = ", ".join("'int'" if is_tracer(a) and sem.is_weak(a) or type(a) is int else "'numpy.int64'"
                           for a in args)
        raise TypeError(f"unsupported operand type(s) for ** or pow(): {kinds_} (NumPy has no pow() with a "
                        "modulus)")
    b, e, m = (sem.wrap(sem.as_value(a, np.int64), weak=True) for a in args)
    emit_check(sem.ufunc("equal", m, 0), ValueError("pow() 3rd argument cannot be 0"))
    emit_check(sem.ufunc("less", e, 0), UnsupportedError(
        "pow() with a negative exponent and a modulus (Python's modular inverse) is not supported on traced "
        "values", ctx.current_loc()))
    emit_check(sem.ufunc("greater", sem.ufunc("absolute", m), _POW_MOD_MAX), BigIntError(
        f"pow() with a modulus past {_POW_MOD_MAX} (2**31.5) on traced values: the products of its square and "
        "multiply pass int64, where Python's ints grow", ctx.current_loc()))
    safe = sem.select(sem.ufunc("equal", m, 0), 1, m)  # (m = 0 has failed its check: no division by it)
    r, b = _mod_steps(sem.ufunc("remainder", 1, safe), sem.ufunc("remainder", b, safe), e, safe)
    return r


def _mod_steps(r: Any, b: Any, e: Any, m: Any) -> tuple:
    """(r * b**e % m, ...): a for_loop of 63 steps, each multiplying r by b
    where the exponent's low bit is set, squaring b and shifting e."""
    from looptrace.ir.core import Op, Value

    st = ctx.state()
    loc = ctx.current_loc()
    i64 = np.dtype(np.int64)
    frame = st.push("stepped")  # (stepped.py's: neither a loop's frame nor a branch's)
    try:
        j, rv, bv, ev = (Value(i64, ()) for _ in range(4))
        frame.block.args += [j, rv, bv, ev]
        tr, tb, te = Tracer(rv), Tracer(bv), Tracer(ev)
        odd = sem.ufunc("equal", sem.ufunc("bitwise_and", te, 1), 1)
        r2 = sem.select(odd, sem.ufunc("remainder", sem.ufunc("multiply", tr, tb), m), tr)
        b2 = sem.ufunc("remainder", sem.ufunc("multiply", tb, tb), m)
        e2 = sem.ufunc("right_shift", te, 1)
        frame.block.results = [sem.as_value(v, i64) for v in (r2, b2, e2)]
    finally:
        st.pop(frame)
    outs = tuple(Value(i64, ()) for _ in range(3))
    bounds = (sem.as_value(0, np.int64), sem.as_value(63, np.int64), sem.as_value(1, np.int64))
    inits = tuple(sem.as_value(v, i64) for v in (r, b, e))
    op = Op(prim("for_loop"), (*bounds, *inits), outs, {}, loc, (frame.block,))
    st.frame.block.ops.append(op)
    for out in outs:
        st.producers[out.id] = op
        st.value_frames[out.id] = st.frame
    return Tracer(outs[0], weak=True), Tracer(outs[1], weak=True)


def _any_all(name: str):
    real = getattr(builtins, name)
    op, reducer = ("logical_or", "reduce_any") if name == "any" else ("logical_and", "reduce_all")

    def fn(iterable):
        if is_tracer(iterable):
            if iterable.ndim == 0:
                from .methods import iteration_error  # (methods imports this module)

                raise iteration_error(iterable)
            if iterable.ndim > 1:  # the truth of each row: NumPy's ValueError unless it has one element
                row = int(np.prod(iterable.shape[1:]))
                if row != 1 and iterable.shape[0] != 0:
                    from .numpy_errors import truth_value_error

                    raise truth_value_error(row, ctx.current_loc())
                iterable = sem.reshape(iterable, (iterable.shape[0], row))[:, 0] if row else \
                    sem.full((0,), False, np.bool_)
            return _weak(sem.reduce(reducer, sem.astype(iterable, np.bool_)))
        items = list(iterable)
        if not _traced_any(items):
            return real(items)
        from . import iteration

        if iteration.is_iterator(iterable):  # (Python stops at the first decisive item: known at run time)
            iteration.taken_at_run_time(iterable, f"{name}() of traced items")
        acc: Any = name == "all"
        for x in items:
            if is_tracer(x):
                x = _bool(x)
            acc = sem.ufunc(op, acc, x) if _traced_any((acc, x)) else (acc or x if name == "any" else acc and x)
        return _weak(sem.astype(sem.wrap(sem.as_value(acc)), np.bool_)) if is_tracer(acc) else builtins.bool(acc)

    return fn


# --- round -----------------------------------------------------------------------------------------
def round_traced(x: Tracer, ndigits: Any = None) -> Tracer:
    """round(x[, ndigits]) of a traced scalar: Python's for Python numbers (weak
    scalars), np.round's for NumPy scalars, as `round` does in plain Python."""
    if is_tracer(ndigits):
        raise TraceError("round()'s ndigits is a traced value; it must be a Python int", ctx.current_loc(),
                         "pass it in static_argnames")
    if ndigits is not None and not isinstance(ndigits, (int, np.integer)):
        raise TypeError(f"'{type(ndigits).__name__}' object cannot be interpreted as an integer")
    if x.ndim:
        raise TypeError("type numpy.ndarray doesn't define __round__ method")
    if x.dtype.kind == "c":
        raise TypeError("type complex doesn't define __round__ method")
    if not x.weak and x.dtype == np.bool_:  # (a Python bool rounds as the int it is; np.True_ does not)
        raise TypeError("type numpy.bool doesn't define __round__ method")
    if not x.weak:
        return _round_numpy(x, ndigits)
    if x.dtype.kind in "biu":
        return _weak(_round_int(sem.astype(x, np.int64), ndigits))
    if ndigits is None:
        return int_of_whole(sem.ufunc("rint", x))
    return _weak(_round_float(sem.astype(x, np.float64), int(ndigits)))


def _round_numpy(x: Tracer, ndigits: Any) -> Tracer:
    from .numpy_api import NAMESPACE

    if ndigits is None:  # a NumPy scalar's __round__() is a Python int
        return int_of_whole(NAMESPACE["round"](x)) if x.dtype.kind in "fc" else _weak(sem.astype(x, np.int64))
    return NAMESPACE["round"](x, int(ndigits))


def _round_int(x: Tracer, ndigits: Any) -> Tracer:
    """A Python int rounded to a multiple of 10**-ndigits, half to even."""
    if ndigits is None or ndigits >= 0:
        return x
    if ndigits < -18:  # beyond int64's range every int64 rounds to 0
        return sem.ufunc("multiply", x, 0)
    m = 10 ** int(-ndigits)
    q = sem.ufunc("floor_divide", x, m)
    twice = sem.ufunc("multiply", sem.ufunc("subtract", x, sem.ufunc("multiply", q, m)), 2)
    odd = sem.ufunc("not_equal", sem.ufunc("remainder", q, 2), 0)
    up = sem.ufunc("logical_or", sem.ufunc("greater", twice, m),
                   sem.ufunc("logical_and", sem.ufunc("equal", twice, m), odd))
    return sem.ufunc("multiply", sem.ufunc("add", q, sem.astype(up, np.int64)), m)


_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitter for float64


def _split(a: Tracer) -> tuple[Tracer, Tracer]:
    c = sem.ufunc("multiply", _SPLIT, a)
    hi = sem.ufunc("subtract", c, sem.ufunc("subtract", c, a))
    return hi, sem.ufunc("subtract", a, hi)


def _product_error(a: Tracer, b: float, p: Tracer) -> Tracer:
    """a*b - p exactly, for p = fl(a*b) (Dekker's TwoProduct, no FMA needed)."""
    (ah, al), (bh, bl) = _split(a), _split(sem.astype(sem.full((), b, np.float64), np.float64))
    mul, add, sub = (lambda u, v: sem.ufunc("multiply", u, v)), (lambda u, v: sem.ufunc("add", u, v)), \
        (lambda u, v: sem.ufunc("subtract", u, v))
    return add(add(add(sub(mul(ah, bh), p), mul(ah, bl)), mul(al, bh)), mul(al, bl))


def _round_float(x: Tracer, n: int) -> Tracer:
    """Python's round(x, n): x's exact value rounded to n decimals (half to even
    only on exact ties), then the nearest float. With y = x * 10**n exactly
    (p + err, p the rounded product), y rounds to rint(p) unless p is a
    half-integer, where err's sign decides; the final division (or product,
    n < 0) of exact values rounds once, as Python's strtod does."""
    if abs(n) > 22:
        raise UnsupportedError(f"round(x, {n}) of a traced float: |ndigits| up to 22 is supported",
                               ctx.current_loc())
    scale = 10.0 ** abs(n)  # exact for |n| <= 22
    # x itself where x * 10**n >= 2**53: rounding y = x * 10**n to an integer moves it by at most
    # 1/2, under a quarter of x's own spacing there, so the nearest float is x again (inf, nan too)
    finite = sem.ufunc("less", sem.ufunc("absolute", x), 2.0 ** 53 / (scale if n >= 0 else 1.0))
    safe = sem.select(finite, x, 0.0)
    if n >= 0:
        p = sem.ufunc("multiply", safe, scale)
        err = _product_error(safe, scale, p)
    else:
        p = sem.ufunc("divide", safe, scale)
        err = sem.ufunc("subtract", sem.ufunc("subtract", safe, sem.ufunc("multiply", p, scale)),
                        _product_error(p, scale, sem.ufunc("multiply", p, scale)))
    low = sem.ufunc("floor", p)
    tie = sem.ufunc("equal", sem.ufunc("subtract", p, low), 0.5)
    r = sem.select(sem.ufunc("logical_and", tie, sem.ufunc("greater", err, 0.0)), sem.ufunc("add", low, 1.0),
                   sem.select(sem.ufunc("logical_and", tie, sem.ufunc("less", err, 0.0)), low,
                              sem.ufunc("rint", p)))
    # 2**52 <= |p| < 2**53: p is an integer and the exact y = p + err with |err| <= 1/2; round
    # half to even on y (a tie err = +-1/2 moves an odd p away from it); r = p + step is exact
    big = sem.ufunc("greater_equal", sem.ufunc("absolute", p), 2.0 ** 52)
    odd = sem.ufunc("equal", sem.ufunc("remainder", p, 2.0), 1.0)
    half = sem.ufunc("equal", sem.ufunc("absolute", err), 0.5)
    step = sem.select(sem.ufunc("logical_and", half, odd), sem.ufunc("sign", err),
                      sem.select(half, 0.0, sem.ufunc("rint", err)))
    r = sem.select(big, sem.ufunc("add", p, step), r)  # exact below 2**53
    res = sem.ufunc("divide", r, scale) if n >= 0 else sem.ufunc("multiply", r, scale)
    return sem.select(finite, sem.ufunc("copysign", res, x), x)


_WEAK_TYPES = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


def _isinstance(obj, classinfo):
    """isinstance with a traced value standing for what the plain function
    holds there: an array for one of at least one dimension, else the Python
    number of a Python-number argument or the NumPy scalar of its dtype."""
    if not is_tracer(obj):
        return builtins.isinstance(obj, classinfo)
    if obj.ndim:
        kind = np.ndarray
    elif getattr(obj, "weak", False):
        kind = _WEAK_TYPES.get(obj.dtype.kind, np.generic)
    else:
        kind = obj.dtype.type
    return builtins.issubclass(kind, classinfo)


def _type_of(obj: Any) -> type:
    """The class the plain function holds: np.ndarray for an array (a 0-d one
    included), the Python number of a Python-number value, else the NumPy
    scalar of its dtype."""
    if not is_tracer(obj):
        return builtins.type(obj)
    if obj.ndim or getattr(obj, "array0d", False):
        return np.ndarray
    if getattr(obj, "kinds", None) is not None or getattr(obj, "pyflag", None) is not None:
        raise TraceError("type() of a value whose type is chosen at run time (a Python number on some "
                         "paths, a NumPy scalar on others)", ctx.current_loc(),
                         "give it one type on every path (np.float64(...) or float(...))")
    if getattr(obj, "weak", False):
        return _WEAK_TYPES.get(obj.dtype.kind, np.generic)
    from .np_arrays import SCALAR_TYPES

    real = obj.dtype.type  # as the traced function's `np` names it (`type(s) is np.float64`)
    return next((t for t in SCALAR_TYPES.values() if t.real is real), real)


def _as_text(fn: Callable) -> Callable:
    def text(*args, **kwargs):
        if any(is_tracer(a) for a in (*args, *kwargs.values())):
            raise TraceError(f"{fn.__name__}() of a traced value: its value is known only at run time",
                             ctx.current_loc(), "return the value and format it outside the jitted function")
        return fn(*args, **kwargs)
    return text


def _type(*args, **kwargs):
    if len(args) == 1 and not kwargs:
        return _type_of(args[0])
    return builtins.type(*args, **kwargs)


BUILTINS: dict[int, Callable] = {id(f): impl for f, impl in [
    (builtins.str, _as_text(builtins.str)), (builtins.repr, _as_text(builtins.repr)),
    (builtins.ascii, _as_text(builtins.ascii)), (builtins.type, _type),
    (builtins.isinstance, _isinstance),
    (builtins.min, _minmax("min")), (builtins.max, _minmax("max")), (builtins.abs, _abs),
    (builtins.float, _float), (builtins.int, _int), (builtins.bool, _bool), (builtins.complex, _complex),
    (builtins.divmod, _divmod), (builtins.pow, _pow), (builtins.any, _any_all("any")),
    (builtins.all, _any_all("all")), (builtins.sorted, _sorted),
]}
