"""next() of a Python iterator while tracing.

`it = iter(x)` of a traced array, a generator `(v * 2 for v in x)`, or
`iter(range(n))` is a Python iterator: next(it) takes its next item while
tracing. A loop body or a while test is traced once for all its iterations,
so next() of an iterator made before the loop would take one item for all of
them (`while (v := next(it)) > 0` read x[0] and x[1] only; `while next(g) < 3`
over a range was a test that never changed, a loop that never ended). While
a loop is traced (control.LoopTrace), next() of an iterator the function
held when the loop began raises `ChangedInLoop` before it takes an item:
control.for_/while_ then run the loop as Python (unrolled), where its
iterations are known while tracing (a short range, a test of Python values),
and otherwise the error names the line. An iterator made in the body is the
body's own: its next() is traced as any other call. A `for` over such an
iterator in the body is refused as its next() is (control.for_), and so is
any other way to take its items there: a comprehension over it
(runtime.comp_iter), or passing it to a function the tracer does not trace,
which Python's C code iterates (`sum(it)`, `list(it)`, `zip(it, x)`,
`it.__next__()`, `np.fromiter(it)`: runtime._call, `check_passed`); a helper
of the user's is traced, and its own next() is checked.

The two sides of a traced condition are both traced: next() there of an
iterator made before it would take an item where plain Python may not, and
is refused (UnsupportedError). A `for` over an iterator that breaks on a
traced condition leaves it at a place known at run time only, as does
any()/all() of its traced items (Python stops at the first decisive one): a
later next() of it in the same trace is refused.

An iterator from outside the function (a global `COUNTER = itertools.count()`,
a closure's, a static argument) is refused wherever its items are taken
(`refuse_outside`): the trace would take them once, and every compiled call
would see those items while the iterator never advanced.
"""
from __future__ import annotations

import builtins
import collections.abc
import contextvars
from contextlib import contextmanager
from typing import Any, Iterator

from . import context as ctx

# the iterators of each loop, and each side of a condition, being traced (innermost last):
# (id -> (iterator, its name), whether a side of a condition)
_GUARDED: contextvars.ContextVar[tuple] = contextvars.ContextVar("looptrace_guarded_iterators", default=())

_MAX_ITEMS = 64  # the items of a list, tuple or dict variable looked into for iterators
_HINT = ("loop over the items instead (`for v in x:`, with `if not test: break`), or take them by index "
         "(x[k] with k counted in the loop)")


def outer_iterators() -> dict[int, tuple[Any, str]]:
    """The Python iterators among the variables of the user's function
    running now (and the globals its code names): id -> (iterator, name)."""
    from .array import is_tracer
    from .containers import caller_roots

    out = {}
    for n, v in caller_roots():
        for label, item in _with_items(n, v):
            if isinstance(item, collections.abc.Iterator) and not is_tracer(item):
                out[id(item)] = (item, label)
    return out


def _with_items(name: str, v: Any) -> list[tuple[str, Any]]:
    """v, and the items of a short list, tuple or dict (`its = [iter(a), iter(b)]`)."""
    out = [(name, v)]
    if isinstance(v, (list, tuple)) and len(v) <= _MAX_ITEMS:
        out += [(f"{name}[{k}]", e) for k, e in enumerate(v)]
    elif isinstance(v, dict) and len(v) <= _MAX_ITEMS:
        out += [(f"{name}[{k!r}]", e) for k, e in v.items()]
    return out


def check_taken(iterable: Any) -> None:
    """`for v in it` takes the items of `it`: refused as next() is, where it is
    an iterator made before a loop being traced, or one from outside the function."""
    if is_iterator(iterable):
        refuse_outside(iterable, "a `for` loop")
    _check(iterable)


def refuse_outside(it: Any, how: str) -> None:
    """`it` is an iterator from outside the function (a global, a closure's,
    an argument or reached through one: `next(COUNTER)`): taking its items
    while tracing would take them once, and every call of the compiled
    function would see those same items while the iterator never advanced."""
    from . import external

    ex = external.current()
    src = ex.source_of(it) if ex is not None else None
    if src is None:
        return
    from looptrace.errors import UnsupportedError

    raise UnsupportedError(
        f"{how} takes items of `{external._label(src)}`, an iterator from outside the function: looptrace "
        "would take them once, when it traces the function, so every call would get the same items and the "
        "iterator would never advance", ctx.current_loc(),
        "take the items outside the jitted function and pass them in as an array argument "
        "(np.fromiter(it, float, count=n)), or make the iterator inside the function")


@contextmanager
def guarding(iterators: dict[int, tuple[Any, str]], branch: bool = False) -> Iterator[None]:
    """While the block runs, next() of these iterators raises ChangedInLoop
    (a loop body or test), or UnsupportedError (branch: a side of a traced
    condition, which takes an item only where the condition says)."""
    if not iterators:
        yield
        return
    token = _GUARDED.set(_GUARDED.get() + ((iterators, branch),))
    try:
        yield
    finally:
        _GUARDED.reset(token)


# calls that take no item of an iterator passed to them (`iter(it)` is it; next() checks itself)
_HARMLESS = {id(f) for f in (builtins.iter, builtins.next, builtins.isinstance, builtins.issubclass, builtins.type,
                             builtins.id, builtins.callable, builtins.hasattr, builtins.getattr, builtins.repr,
                             builtins.str, builtins.ascii, builtins.hash, builtins.len, builtins.print)}
_HARMLESS_METHODS = ("__iter__", "__length_hint__", "__reduce__", "__repr__", "__sizeof__")


def check_passed(fn: Any, args: tuple, kwargs: dict) -> None:
    """A call of a function the tracer does not trace (a builtin: sum(it),
    list(it), zip(it, x), max(it); a method: it.__next__(); a library's)
    takes items of the iterators passed to it: refused as next() is, where
    one is an iterator made before a loop or a condition being traced
    (runtime._call, before such a call; a comprehension over one,
    `any(v > 0 for v in it)`, is refused as a `for` over it, runtime.comp_iter)."""
    if id(fn) in _HARMLESS:
        return
    _refuse_outside_passed(fn, args, kwargs)
    if not _GUARDED.get() and not (ctx.tracing() and getattr(ctx.state(), "lt_iterators_unknown", None)):
        return
    owner = getattr(fn, "__self__", None)
    held = [*args, *kwargs.values()]
    if is_iterator(owner) and getattr(fn, "__name__", "") not in _HARMLESS_METHODS:
        held.append(owner)  # it.__next__()
    name = getattr(fn, "__name__", None) or type(fn).__name__
    for a in held:
        if is_iterator(a):
            _check(a, f"passed to {name}()" if owner is not a else f"{name}()")


def _refuse_outside_passed(fn: Any, args: tuple, kwargs: dict) -> None:
    """`sum(IT)`, `list(IT)`, `IT.__next__()` of an iterator from outside the function: `refuse_outside`."""
    from . import external

    ex = external.current()
    if ex is None or not ex.sources:
        return
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", None) or type(fn).__name__
    if owner is not None and id(owner) in ex.sources and is_iterator(owner) and name not in _HARMLESS_METHODS:
        refuse_outside(owner, f"{name}()")
    for a in (*args, *kwargs.values()):
        if id(a) in ex.sources and is_iterator(a):
            refuse_outside(a, f"{name}()")


def next_(it: Any, *default: Any) -> Any:
    """`next(it[, default])` in converted code."""
    _refuse_loop_iterable(it)
    refuse_outside(it, "next()")
    _check(it)
    return builtins.next(it, *default)


def is_iterator(x: Any) -> bool:
    from .array import is_tracer

    return isinstance(x, collections.abc.Iterator) and not is_tracer(x)


def taken_at_run_time(it: Any, why: str = "a loop that breaks on a traced condition") -> None:
    """`it`'s items after this depend on traced values (a loop's traced
    `break`, any()/all() of traced items, which Python stops at the first
    true/false one): a later next() of it, or `for` over it, in this trace
    is refused."""
    _unknown(ctx.state())[id(it)] = (it, why)  # (kept: its id is no other object's while the trace runs)


def _unknown(st: Any) -> dict:
    """id -> iterator, of those a `for` left at a place known at run time only."""
    held = getattr(st, "lt_iterators_unknown", None)
    if held is None:
        held = st.lt_iterators_unknown = {}
    return held


def _check(it: Any, how: str = "") -> None:
    held = getattr(ctx.state(), "lt_iterators_unknown", None) if ctx.tracing() else None
    if held is not None and held.get(id(it), (None,))[0] is it:
        from looptrace.errors import UnsupportedError

        raise UnsupportedError(f"this iterator was left by {held[id(it)][1]}: which items it holds is known at run "
                               "time only", ctx.current_loc(),
                               "count the items the loop takes (k) and read the rest by index (x[k:])")
    for guarded, branch in _GUARDED.get():
        held = guarded.get(id(it))
        if held is not None and held[0] is it:
            raise _in_branch(held[1], how) if branch else _advanced(held[1], how)


def _refuse_loop_iterable(it: Any) -> None:
    """zip(), enumerate() and reversed() of traced arrays are loop iterables
    (carries.py), not iterators: Python's would give their first item."""
    from looptrace.errors import UnsupportedError

    from .carries import TracedEnumerate, TracedReversed, TracedZip

    kind = {TracedZip: "zip", TracedEnumerate: "enumerate", TracedReversed: "reversed"}.get(type(it))
    if kind is not None:
        raise UnsupportedError(f"next() of {kind}() of a traced array is not supported: looptrace makes "
                               f"{kind}() a loop's iterable", ctx.current_loc(),
                               f"take an iterator of it first: it = iter({kind}(...)), then next(it)")


def _in_branch(name: str, how: str = "") -> Exception:
    from looptrace.errors import UnsupportedError

    how = f" ({how})" if how else ""
    return UnsupportedError(f"`{name}` (an iterator made before this condition) is advanced{how} under a condition "
                            "on a traced value: how many items it gives is known at run time only", ctx.current_loc(),
                            f"take the item before the condition (v = next({name})) and use it inside")


def _advanced(name: str, how: str = "") -> Exception:
    from .containers import ChangedInLoop

    how = how or f"next({name}), or a `for` over it"
    e = ChangedInLoop(f"`{name}` (an iterator made before this loop) is advanced inside the loop ({how}): "
                      "looptrace traces a loop's body and test once for all its "
                      "iterations, so it would take one item for all of them", ctx.current_loc(), _HINT)
    e.advances_iterator = True  # (control.while_: run as Python where the test is known while tracing)
    return e
