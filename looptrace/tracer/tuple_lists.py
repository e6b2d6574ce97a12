"""Long lists of tuples of numbers: `[(a(i), b(i)) for i in range(n)]` and
`zip(*pairs)`, past the sizes that run as Python while tracing.

A comprehension whose element is a tuple runs as Python (one trace of the
element per item: runtime.comp_iter), refused past COMP_UNROLL_LIMIT items.
Past that limit, where Python's own would be refused, `comp_tuples` traces
it once as the loop `for t in it: lst.append((a, b))` is traced: the list a
loop grows, one Segment whose rows are the tuples (values.Segment `fields`;
tuples of arrays, or of numbers of mixed types, stay refused there, as that
loop's are). Up to the limit nothing changes.

`zip(*pairs)` of such a list, too long to expand into its elements
(grown.EXPAND_MAX), is its columns: `ZippedColumn`s, each a list holding one
Segment (the column of the stack), which NumPy's functions, len(),
iteration, sum() and the other readers of grown lists take as they take any
list a loop grew. Python's zip gives tuples: a returned column is rebuilt as
a tuple (trace.build_output, "tuple_of").

Invariant: what these give equals Python's values and types wherever they
are used as a sequence of numbers; anything else keeps the error it had.
"""
from __future__ import annotations

import builtins
from typing import Any, Callable

import numpy as np

from looptrace.errors import UnsupportedError

from . import semantics as sem
from .values import Segment


class ZippedColumn(list):
    """One column of `zip(*pairs)` of a long list of tuples a loop grew: a
    grown list (one Segment) that stands for the tuple Python's zip makes."""


def comp_tuples(fn: Callable, iterable: Any, loc: tuple, conds: tuple, python: Callable[[Any], list]) -> list:
    """`[(a, b) for t in iterable if c(t)]` (convert.py): `python(iterable)` (the
    comprehension run as Python on the iterable, as before) unless it is a range or an array
    of more items than COMP_UNROLL_LIMIT, which is a loop traced once that
    appends each tuple (runtime.comp_list's loop)."""
    from .runtime import COMP_UNROLL, COMP_UNROLL_LIMIT, _comp_loop, _loopable, _static_len, append

    # (a condition: traced once at any length, as comp_list's; Python's run would test a traced
    # condition as a Python bool, a TraceError)
    least = COMP_UNROLL if conds else COMP_UNROLL_LIMIT
    if not (_loopable(iterable) and least < _static_len(iterable) < float("inf")):
        return python(iterable)
    try:
        out = _comp_loop("the comprehension's list", [], iterable, loc, conds, lambda acc, item: append(acc, fn(item)))
    except UnsupportedError:  # (tuples of arrays, of mixed types: as Python, or the comprehension's own error)
        return python(iterable)
    if _static_len(iterable) <= COMP_UNROLL_LIMIT and any(getattr(e, "mixed", False) for e in out):
        return python(iterable)  # (`(i, x[i])` under a condition: Python's tuples keep their types)
    return out


def zip_star(fn: Any, x: Any) -> Any:
    """`fn(*x)` (convert.py, for `zip(*x)`): the columns of a long list of
    tuples a loop grew where fn is zip; else the call as written."""
    from .runtime import call, star

    columns = _columns(x) if fn is builtins.zip else None
    if columns is None:
        return call(fn, *star(x))
    return iter(columns)


def _columns(x: Any) -> list | None:
    """ZippedColumns of x, where x is one Segment of tuples of one type, of a
    length known while tracing and too long to expand; else None."""
    from . import grown

    if not (grown.is_grown(x) and len(x) == 1):
        return None
    seg = x[0]
    n = seg.value.shape[0]
    types = _field_types(seg)
    if seg.fields is None or seg.count is not None or not isinstance(n, int) or n <= grown.EXPAND_MAX \
            or seg.mixed and types is None:
        return None
    stack = sem.wrap(seg.value)
    out = []
    for j in range(seg.fields):
        column, weak = stack[:, j], seg.weak
        if types is not None:
            column, weak = _typed_column(column, *types[j], seg.loc), types[j][1]
        col = Segment(sem.as_value(column), weak=weak)
        col.loc, col.bounds = seg.loc, seg.bounds
        out.append(ZippedColumn([col]))
    return out


def _field_types(seg: Segment) -> list | None:
    """Each field's one (dtype, weak) of a segment of tuples of mixed types
    (`(i, x[i])`: carries.finish_stacked), or None (a field seen with two)."""
    seen = getattr(seg, "field_types", None)
    if not seg.mixed or seen is None or any(len(f) != 1 for f in seen):
        return None
    return [f[0] for f in seen]


def _typed_column(column: Any, dtype: Any, weak: bool, loc: Any) -> Any:
    """A column of the shared stack back in its field's dtype. Exact where
    the stack's dtype holds the field's values: an integer field stacked as
    float64 is checked at run time to be within 2**53 (past it the stack
    rounded it: a clear error, not another number)."""
    from .checks import emit_check

    dtype = np.asarray(dtype).dtype if weak else np.dtype(dtype)  # (weak: a Python number of the kind)
    if dtype == column.dtype:
        return column
    if dtype.kind in "iu" and column.dtype.kind == "f":
        big = sem.ufunc("greater", sem.reduce("reduce_max", sem.ufunc("absolute", column)), float(2 ** 53))
        emit_check(big, OverflowError(
            "an integer of a list of tuples of mixed types (ints with floats) is past 2**53: looptrace stacked "
            "it as a float64, which rounds it; append to one list per field"), loc)
    return sem.astype(column, dtype)
