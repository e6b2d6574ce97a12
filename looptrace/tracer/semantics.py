"""Tracer-level operations: turn NumPy semantics (promotion, broadcasting,
indexing) into primitive ops. Everything the NumPy namespace offers is built
from these few functions.
"""
from __future__ import annotations

import itertools

import numbers
import operator
from typing import Any, Sequence

import numpy as np

from looptrace.errors import ShapeError, TraceTypeError, UnsupportedError
from looptrace.ir.core import Dim, Value
from looptrace.ops import get as prim
from looptrace.ops.elementwise import UFUNCS, loop_dtypes
from looptrace.ops.reduce import reduced_dtype
from looptrace.ops.shape_arith import broadcast_shapes, fmt
from looptrace.ir.primitive import ShapeMismatch

from . import context as ctx
from .array import Tracer, is_tracer
from .numpy_errors import shape_error

PY_SCALARS = (bool, int, float, complex)


# --- inputs --------------------------------------------------------------------
def is_py_scalar(x: Any) -> bool:
    """A Python bool/int/float/complex (np.float64 subclasses float but is strong)."""
    return isinstance(x, PY_SCALARS) and not isinstance(x, np.generic)


def is_weak(x: Any) -> bool:
    return is_py_scalar(x) or (is_tracer(x) and x.weak)


WEAK_TYPES = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


def weak_type(x: Any):
    """The Python type NEP 50 promotion sees for a weak input."""
    if is_py_scalar(x):
        return bool if isinstance(x, bool) else int if isinstance(x, int) else \
            float if isinstance(x, float) else complex
    return WEAK_TYPES[x.dtype.kind]


def result_type(*xs: Any) -> np.dtype:
    """np.result_type of traced or concrete operands under NEP 50: weak
    operands (Python scalars, weak tracers) take part as Python values."""
    return np.result_type(*(weak_type(x)(0) if is_weak(x) else dtype_of(x) for x in xs))


def dtype_for_promotion(x: Any):
    if is_weak(x):
        t = weak_type(x)
        return np.dtype(np.bool_) if t is bool else t
    return dtype_of(x)


def dtype_of(x: Any) -> np.dtype:
    if is_tracer(x):
        return x.dtype
    if isinstance(x, PY_SCALARS):
        return np.asarray(x).dtype
    if isinstance(x, (list, tuple)) and _holds_tracer(x):  # as np.array of it: `x + [a, b]`
        return array_from_sequence(x).dtype
    return np.asarray(x).dtype


def _holds_tracer(seq: Sequence) -> bool:
    from .values import Segment

    return any(is_tracer(e) or isinstance(e, Segment) or isinstance(e, (list, tuple)) and _holds_tracer(e)
               for e in seq)


def check_array_like(x: Any, what: str = "value") -> None:
    if is_tracer(x) or isinstance(x, Value) or isinstance(x, (np.ndarray, np.generic) + PY_SCALARS):
        return
    if isinstance(x, (list, tuple)):
        return
    from .masked import is_selection

    if is_selection(x):  # x[mask], x[:i]: say why its length is needed (masked.py)
        x.fail(f"using it as an array {what}")
    from .values import Undefined

    if isinstance(x, Undefined):  # a name unassigned on this path: what using it raises
        x._fail()
    raise UnsupportedError(f"cannot use a {type(x).__name__} as an array {what}", ctx.current_loc())


def as_value(x: Any, dtype: Any = None) -> Value:
    """The SSA value of `x` (a Tracer, NumPy array or Python scalar), cast to
    `dtype` if given."""
    if isinstance(x, Value):
        x = wrap(x)
    if is_tracer(x):
        v = x.value
        if dtype is not None and np.dtype(dtype) != v.dtype:
            v = ctx.emit1(prim("convert"), [v], dtype=np.dtype(dtype))
            if x.weak and x.dtype.kind in "iu" and np.dtype(dtype).kind in "iu" and np.dtype(dtype) != np.int64:
                # a Python int into a narrower int (u8 + k, u8[i] = k): NumPy 2 raises where it does not
                # fit; checked after the trace where its range may not (tracer/python_numbers.py)
                ctx.state().python_casts[v.id] = np.dtype(dtype)
        return v
    if isinstance(x, (list, tuple)):
        return as_value(array_from_sequence(x), dtype)
    check_array_like(x)
    return ctx.const_value(x, dtype)


def wrap(v: Value, weak: bool = False) -> Tracer:
    return Tracer(v, weak=weak)


def traced_sequence(x: Any) -> bool:
    """A (nested) list or tuple that holds traced values (a list argument's elements, `[a[0], b]`)."""
    from .values import Segment

    return isinstance(x, (list, tuple)) and any(
        is_tracer(e) or isinstance(e, Segment) or traced_sequence(e) for e in x)


def array_like(x: Any) -> Any:
    """x, or the traced array np.asarray makes of a list or tuple holding
    traced values, for code that reads a shape or dtype with NumPy's
    np.shape / np.ndim / np.asarray, which cannot look inside one."""
    return wrap(as_value(x)) if traced_sequence(x) else x


def _float_numbers(seq: Sequence) -> bool:
    """Only float64 numbers that loops appended: their array is the same whether the run appended any
    or none (NumPy's empty list is float64 (0,)), of a run-time length (np.sum(losses))."""
    from .values import Segment

    return all(isinstance(e, Segment) and len(e.value.shape) == 1 and e.value.dtype == np.float64 for e in seq)


def array_from_sequence(seq: Sequence) -> Any:
    """np.array([...]) of a nested list that may hold tracers, or what loops
    appended to it (values.Segment: np.sum(losses) of `losses.append(...)`)."""
    from .values import Segment

    if any(isinstance(e, Segment) for e in seq):
        from .numpy_api import _array

        if any(isinstance(e, Segment) and e.count is not None for e in seq) and not _float_numbers(seq):
            from looptrace.errors import UnsupportedError

            raise UnsupportedError("a NumPy function of a list appended to under a condition: its length is "
                                   "known only at run time", ctx.current_loc(),
                                   "reduce the values under a mask instead (np.mean(x[x > 0]), "
                                   "np.where(c, x, 0).sum()), or keep a count beside the list")
        return _array(list(seq))
    if not any(is_tracer(e) or isinstance(e, (list, tuple)) for e in seq):
        return np.array(seq)
    # np.array gives a Python number its default dtype (np.array([1.0, f32]) is float64):
    # no weak promotion here, unlike in arithmetic
    items = [array_from_sequence(e) if isinstance(e, (list, tuple)) else
             astype(e, np.dtype(weak_type(e))) if is_weak(e) else e for e in seq]
    if 2 <= len(items) <= SCALARS_AS_SELECTS and all(np.ndim(e) == 0 for e in items):
        return _scalars_as_selects(items)
    return stack(items, 0)


# np.array([a, b, c]) of a few scalars: element k is select(i == k, ...) over an iota,
# elementwise ops that a consumer's loop nest computes in place (codegen/planning/fusion.py),
# where stacking them allocates a piece per scalar and the array (corpus rk4_lorenz: four
# such arrays per step of an RK4 integrator, 100,000 steps). Beyond a few elements the
# chain of selects costs more per element than the copies.
SCALARS_AS_SELECTS = 8


def _scalars_as_selects(items: list) -> Tracer:
    dtype = result_type(*items)
    n = len(items)
    at = wrap(ctx.emit1(prim("iota"), [], shape=(n,), dtype=np.dtype(np.int64), axis=0))
    parts = [astype(x, dtype) for x in items]
    out = broadcast_to(parts[-1], (n,))
    for k in range(n - 2, -1, -1):
        out = select(ufunc("equal", at, k), parts[k], out)
    return wrap(as_value(out, dtype), weak=False)


# --- elementwise -----------------------------------------------------------------
def _may_raise_in_try(cls: type) -> None:
    """A check added after the trace (python_numbers.guard) may raise `cls`
    here: refused inside a `try` that catches it, as emitted checks are."""
    if ctx.state().try_stack:
        from .checks import refuse_class_in_try

        refuse_class_in_try(cls, ctx.current_loc())


def _division_recorded(name: str, args: tuple, out: Value) -> bool:
    """A division of Python numbers inside `try: v = ... except ZeroDivisionError:`
    (checks.try_record): its zero divisor picks the handler, instead of the
    check python_numbers.guard would add after the trace."""
    st = ctx.state()
    if name not in _DIVIDING or not st.try_stack:
        return False
    from .checks import try_record

    block = st.try_stack[-1]
    if not (isinstance(block, try_record) and block.catches(ZeroDivisionError) and st.frame is block.frame):
        return False
    block.preds.append(ufunc("equal", args[1], 0))
    del st.python_divs[out.id]
    return True


def ufunc(name: str, *args: Any, dtype: Any = None, numpy: bool = False, attrs: dict | None = None) -> Tracer:
    """np.<name>(*args, dtype=dtype) with NEP 50 promotion resolved here: the
    operator's (`a / b`), where the result of Python numbers is one, unless
    `numpy` (the user called np.<name>: its result is a NumPy scalar, and NumPy's
    rules hold where Python's would raise or leave 64 bits)."""
    uf = UFUNCS[name]
    for a in args:
        check_array_like(a, f"operand of np.{name}")
    if not numpy and name in _INT_OF_BOOLS and all(is_weak(a) and dtype_of(a) == np.bool_ for a in args):
        # Python's bools are ints in arithmetic (True + True is 2, -True is -1, ~True is -2)
        args = tuple(wrap(as_value(a, np.int64), weak=True) if is_tracer(a) else int(a) for a in args)
    if name in _ORDERINGS and not numpy and all(is_weak(a) for a in args) \
            and any(dtype_of(a).kind == "c" for a in args):
        kinds_ = [type(a).__name__ if not is_tracer(a) else WEAK_TYPES[a.dtype.kind].__name__ for a in args]
        raise TypeError(f"'{_ORDERINGS[name]}' not supported between instances of '{kinds_[0]}' and '{kinds_[1]}'")
    if name in _COMPARISONS and len(args) == 2:
        static = _beyond_the_ints(name, args)
        if static is not None:
            return static
        if not numpy and (exact := _python_float_vs_int(name, args)) is not None:
            return exact
    elif not numpy and all(is_weak(a) for a in args) and any(is_tracer(a) for a in args) \
            and not any(dtype_of(a).kind in "fc" for a in args):
        for a in args:  # `h & (2**64 - 1)` of a traced Python int: plain Python's big-int arithmetic
            if isinstance(a, int) and not isinstance(a, bool) and not -2**63 <= a < 2**63:
                raise ctx.big_int_error(a)
    in_types = tuple(dtype_for_promotion(a) for a in args)
    try:
        loop_in, out_dtype = loop_dtypes(uf, in_types, dtype)
    except TypeError as e:
        raise TraceTypeError(str(e), ctx.current_loc()) from None
    per_type = None
    if any(isinstance(a, Tracer) and a.kinds is not None and a.ndim == 0 for a in args):
        (loop_in, out_dtype), per_type = _loop_of_kinds(name, uf, args, dtype, (loop_in, out_dtype))
    if name == "power" and np.dtype(out_dtype).kind in "iu":
        if not numpy and all(is_weak(a) for a in args) and _negative_int(args[1]):
            # `k ** -2` of a traced Python int: Python's float power, a type known from the literal
            return ufunc("power", wrap(as_value(args[0], np.float64), weak=True), float(args[1]))
        _check_exponent_fits(args[1], np.dtype(loop_in[1]))
        _check_int_exponent(args[1], all(is_weak(a) for a in args))
    if name in _COMPARISONS and len(loop_in) == 2 and np.dtype(loop_in[0]).kind in "iu" \
            and np.dtype(loop_in[0]).itemsize < 8 and any(_wide_python_int(a, loop_in[0]) for a in args):
        # NumPy 2 compares a narrow int array with a Python int out of its range exactly
        # (np.uint8(5) > 300 is False): compared in int64, no value wraps
        loop_in = (np.dtype(np.int64), np.dtype(np.int64))
    elif name in _COMPARISONS and len(loop_in) == 2 and np.dtype(loop_in[0]) == np.uint64 \
            and any(is_tracer(a) and _wide_python_int(a, loop_in[0]) or _negative_int(a) for a in args):
        # a uint64 array against a traced Python int (which may be negative), or a negative one (`u[i] >
        # -5`): the int as int64, the mixed comparison exact (codegen/cpu/scalar.py `_exact_unsigned_comparison`)
        loop_in = tuple(np.dtype(np.int64) if is_tracer(a) and a.weak or _negative_int(a) else np.dtype(np.uint64)
                        for a in args)
    if per_type is not None:
        out, out_dtype = _each_type(name, args, per_type, out_dtype)
    else:
        vals = [as_value(a, dt) for a, dt in zip(args, loop_in)]
        out = ctx.emit1(prim(name), vals, **(attrs or {}))  # (power's scalar_exponent: methods.py)
    if numpy:
        res = wrap(out)
        _kinds(name, args, res, True)
        return res
    if name in _GROWING and np.dtype(out_dtype) == np.int64 and all(is_weak(a) for a in args) \
            and any(isinstance(a, Tracer) for a in args):
        ctx.state().python_ints[out.id] = name  # checked after the trace where it may leave 64 bits
        _may_raise_in_try(OverflowError)
    elif name in ("add", "subtract") and np.dtype(out_dtype) == np.int64 and all(is_weak(a) for a in args) \
            and all(isinstance(a, Tracer) for a in args):
        ctx.state().python_sums[out.id] = name  # an accumulator's, or checked (tracer/python_sums.py)
    elif name in ("add", "subtract") and np.dtype(out_dtype) == np.int64 and all(is_weak(a) for a in args) \
            and any(isinstance(a, Tracer) for a in args):
        ctx.state().python_steps[out.id] = name  # `n += 1`: an accumulator's step, never checked alone
    if (name in _DIVIDING or name == "power" and np.dtype(out_dtype).kind == "f"
            or name in ("left_shift", "right_shift")) \
            and all(is_weak(a) for a in args) and any(isinstance(a, Tracer) for a in args):
        # Python raises on a zero divisor, and on 0.0 to a negative power: checked after the trace
        ctx.state().python_divs[out.id] = name
        if not _division_recorded(name, args, out):
            _may_raise_in_try(ValueError if name in ("left_shift", "right_shift") else ZeroDivisionError)
    res = wrap(out, weak=all(is_weak(a) for a in args))
    if not res.weak and any(isinstance(a, Tracer) and (a.pyflag is not None or a.kinds is not None) for a in args):
        from .python_numbers import mixed_ufunc

        mixed_ufunc(name, args, res)  # of values that are Python numbers on some runs
    _kinds(name, args, res, False)
    return res


def _loop_of_kinds(name: str, uf, args: tuple, dtype, joined: tuple) -> tuple:
    """The loop of an operation on values whose type is chosen at run time
    (tracer/kinds.py): where every combination of their types runs the same
    loop, that one, not the loop of the dtypes they are kept in (`s = 0.0`,
    then `s = s + y32[i]`: s is kept in float64 to hold the Python float
    exactly, and each add is float32's, as in Python); (loop, None) then.
    Where the combinations' loops differ (`v = img[i] if c else 100`, then
    `v + 200`: uint8's add, which wraps, or a Python int's), (joined, (tags,
    [(combination, loop)])): each loop runs and the tags choose (`_each_type`).
    A comparison of a narrow int with a Python int is exact (int64), as
    NumPy 2's is."""
    from . import kinds

    tags: list = []
    for a in args:
        k = kinds.kinds_of(a) if isinstance(a, Tracer) else None
        if k is not None and all(k[0] is not t for t, _ in tags):
            tags.append(k)
    if not tags or np.prod([len(keys) for _, keys in tags]) > 16:
        return joined, None
    combos = []
    for combo in itertools.product(*[range(len(keys)) for _, keys in tags]):
        chosen = {id(t): keys[j] for (t, keys), j in zip(tags, combo)}
        types, python_int = [], False
        for a in args:
            k = kinds.kinds_of(a) if isinstance(a, Tracer) else None
            key = chosen[id(k[0])] if k is not None else None
            if key is None:
                types.append(dtype_for_promotion(a))
                python_int |= _wide_python_int(a, np.dtype(np.int8))
            elif key[1]:
                types.append(WEAK_TYPES[np.dtype(key[0]).kind])
                python_int |= np.dtype(key[0]).kind in "iu"
            else:
                types.append(np.dtype(key[0]))
        try:
            loop = loop_dtypes(uf, tuple(types), dtype)
        except TypeError:
            return joined, None
        first = np.dtype(loop[0][0]) if loop[0] else None
        if name in _COMPARISONS and python_int and first is not None and first.kind in "iu" and first.itemsize < 8:
            loop = ((np.dtype(np.int64),) * len(loop[0]), loop[1])
        combos.append((combo, loop))
    loops = {loop for _, loop in combos}
    if len(loops) == 1:
        return loops.pop(), None
    outs = np.result_type(joined[1], *(np.dtype(loop[1]) for loop in loops))
    if outs.kind != np.dtype(joined[1]).kind and not (outs.kind in "iu" and np.dtype(joined[1]).kind in "iu"):
        return joined, None  # (no one dtype holds every loop's results: uint64 and a Python int's)
    return joined, (tags, combos)


def _each_type(name: str, args: tuple, per_type: tuple, joined_out) -> tuple:
    """The op under each loop its operands' run-time types give (`_loop_of_kinds`),
    the one of the types that ran chosen by their tags: uint8's wrapping add
    where the uint8 ran, a Python int's where the int did; float32's tanh
    where the float32 ran. A float operand an int loop takes is 0 where that
    loop's types did not run or it is out of the int's range (converting such
    a float to an int is undefined in LLVM: a kernel crashed), and a Python int an int loop
    narrows raises NumPy 2's OverflowError where it ran and does not fit.
    Returns (value, the dtype it is kept in)."""
    from . import kinds
    from .checks import emit_check

    tags, combos = per_type
    loops = list(dict.fromkeys(loop for _, loop in combos))
    held = np.result_type(joined_out, *(np.dtype(loop[1]) for loop in loops))
    index: Any = np.int64(0)  # the combination's position (kinds.ufunc's order)
    for t, keys in tags:
        index = ufunc("add", ufunc("multiply", index, np.int64(len(keys))), t)
    strides = [int(np.prod([len(k) for _, k in tags[j + 1:]])) for j in range(len(tags))]
    position = lambda combo: int(sum(j * s for j, s in zip(combo, strides)))  # noqa: E731
    results = {}
    for loop in loops:
        loop_in, _ = loop
        ran = [combo for combo, lp in combos if lp == loop]
        hit = ufunc("equal", index, np.int64(position(ran[0])))
        for combo in ran[1:]:
            hit = ufunc("logical_or", hit, ufunc("equal", index, np.int64(position(combo))))
        vals = []
        for k, (a, dt) in enumerate(zip(args, loop_in)):
            dt = np.dtype(dt)
            narrowed = _python_int_keys(a, tags, ran, kinds)
            if is_tracer(a) and a.dtype.kind == "f" and dt.kind in "iu":
                info = np.iinfo(dt)  # (out of range, the check below raises where it ran)
                fits = ufunc("logical_and", ufunc("greater_equal", a, float(info.min)),
                             ufunc("less_equal", a, float(info.max)))
                a = select(ufunc("logical_and", hit, fits), a, np.zeros((), a.dtype))
            vals.append(as_value(a, dt))
            if narrowed is not False and dt.kind in "iu" and dt.itemsize < 8 and is_tracer(a):
                info = np.iinfo(dt)
                a = args[k]
                wide = as_value(a, np.int64) if a.dtype.kind in "iu" else as_value(a, np.float64)
                out_of = ufunc("logical_or", ufunc("less", wrap(wide), info.min), ufunc("greater", wrap(wide), info.max))
                emit_check(ufunc("logical_and", ufunc("logical_and", hit, narrowed), out_of),
                           OverflowError(f"Python integer out of bounds for {dt.name}"))
        results[loop] = (hit, wrap(ctx.emit1(prim(name), vals)))
    out = astype(results[loops[-1]][1], held)
    for loop in reversed(loops[:-1]):
        hit, value = results[loop]
        out = select(hit, astype(value, held), out)
    return as_value(out, held), held


def _python_int_keys(a: Any, tags: list, ran: list, kinds) -> Any:
    """Where operand `a` holds a Python int in one of the combinations `ran`:
    a traced bool, False when it never does."""
    k = kinds.kinds_of(a) if is_tracer(a) else None
    if k is None:
        return False
    j = next(n for n, (t, _) in enumerate(tags) if t is k[0])
    keys = tags[j][1]
    ints = sorted({combo[j] for combo in ran if keys[combo[j]][1] and np.dtype(keys[combo[j]][0]).kind in "iu"})
    if not ints:
        return False
    out = ufunc("equal", k[0], np.int64(ints[0]))
    for i in ints[1:]:
        out = ufunc("logical_or", out, ufunc("equal", k[0], np.int64(i)))
    return out


def _kinds(name: str, args: tuple, res: Tracer, numpy: bool) -> None:
    if any(isinstance(a, Tracer) and a.kinds is not None for a in args):
        from . import kinds

        kinds.ufunc(name, args, res, numpy)  # of values whose type is chosen at run time


# Python-int operations that leave 64 bits soonest: plain Python then makes a big integer where the
# compiled code would wrap (tracer/python_numbers.py). Sums and differences of two traced Python ints
# are recorded apart (`python_sums`): checked only where both sides come from a loop's carried values.
_GROWING = ("multiply", "power", "left_shift", "negative", "absolute",  # (-x, abs(x) of -2**63: 2**63)
            "floor_divide")  # (-2**63 // -1)
_DIVIDING = ("divide", "floor_divide", "remainder")  # of two Python numbers: ZeroDivisionError on 0
# of Python bools only: Python computes these on ints (NumPy's bool add is a logical or)
_INT_OF_BOOLS = frozenset({"add", "subtract", "multiply", "negative", "positive", "absolute", "invert",
                           "floor_divide", "remainder", "power", "left_shift", "right_shift"})


_COMPARISONS = frozenset({"less", "less_equal", "greater", "greater_equal", "equal", "not_equal"})
_ORDERINGS = {"less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">="}


def _wide_python_int(a: Any, dtype: np.dtype) -> bool:
    """A Python int that may not fit `dtype`: a traced one, or a constant out of its range."""
    if is_tracer(a):
        return a.weak and a.dtype.kind in "iu"
    if isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.generic)):
        info = np.iinfo(dtype)
        return not info.min <= a <= info.max
    return False


_PY_COMPARE = {"less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
               "greater_equal": operator.ge, "equal": operator.eq, "not_equal": operator.ne}


def _beyond_the_ints(name: str, args: tuple) -> Tracer | None:
    """A comparison of an int array or number with a Python int past int64
    (`10**20 > a[i]`, `x == 2**70`, `u8[i] < 2**63`, `u64[i] > -2**70`):
    the same answer for every element, as NumPy 2 gives it exactly. A NumPy
    bool raises NumPy's OverflowError there (it converts the int to a C long)."""
    from . import kinds
    from .numpy_errors import NumpyOverflowError

    for k in (0, 1):
        big, other = args[k], args[1 - k]
        if not (isinstance(big, int) and not isinstance(big, bool) and (big >= 2**63 or big < -2**63)):
            continue
        if not is_tracer(other):
            return None
        keys = kinds.keys_of(other) or ((np.dtype(other.dtype).str, bool(other.weak), False),)
        verdicts = {_verdict_beyond(big, np.dtype(key[0]), key[1]) for key in keys}
        if verdicts == {"overflow"}:
            raise NumpyOverflowError("Python int too large to convert to C long", ctx.current_loc())
        if verdicts != {"exact"}:
            return None
        answer = _PY_COMPARE[name](*((big, 0) if k == 0 else (0, big)))  # (every int64/uint64 value alike)
        out = full(tuple(other.shape), answer, np.bool_)
        return wrap(out.value, weak=True) if is_weak(other) else out  # (of a Python int: a Python bool)
    return None


_SWAPPED = {"less": "greater", "less_equal": "greater_equal", "greater": "less",
            "greater_equal": "less_equal", "equal": "equal", "not_equal": "not_equal"}


def _python_float_vs_int(name: str, args: tuple) -> Tracer | None:
    """A Python float against a Python int float64 does not hold (`float(x[i]) < 2**53 + 1`,
    `t > -10**400`): Python compares them exactly, where converting the int would round it
    (or overflow). With lo < c < hi the floats around the int c: x < c is x <= lo, x > c is
    x >= hi, x == c is False (NaN included, as Python's)."""
    k = next((k for k in (0, 1) if isinstance(args[k], int) and not isinstance(args[k], bool)), None)
    if k is None:
        return None
    c, x = args[k], args[1 - k]
    if not (is_tracer(x) and x.weak and x.kinds is None and x.pyflag is None and x.dtype == np.float64):
        return None
    try:
        f = float(c)
    except OverflowError:
        f = np.inf if c > 0 else -np.inf
    if f == c:
        return None  # (exact: the usual comparison)
    lo, hi = (f, np.nextafter(f, np.inf)) if f < c else (np.nextafter(f, -np.inf), f)
    if np.isinf(f):
        lo, hi = (np.finfo(np.float64).max, np.inf) if c > 0 else (-np.inf, np.finfo(np.float64).min)
    op = name if k == 1 else _SWAPPED[name]  # (as `x op c`)
    if op in ("equal", "not_equal"):
        return wrap(full(tuple(x.shape), op == "not_equal", np.bool_).value, weak=True)
    test = ("less_equal", float(lo)) if op in ("less", "less_equal") else ("greater_equal", float(hi))
    return ufunc(test[0], x, test[1])


def _verdict_beyond(big: int, dtype: np.dtype, weak: bool) -> str | None:
    """How a value of `dtype` compares with the Python int `big` past int64: "exact" (the same
    answer for every value), "overflow" (NumPy raises), or None (a uint64 may be on either side)."""
    if dtype.kind == "b":
        return "exact" if weak else "overflow"  # (a Python bool compares as Python's 0 or 1)
    if dtype.kind == "i":
        return "exact"
    if dtype.kind == "u":
        return None if dtype.itemsize == 8 and 0 <= big < 2**64 else "exact"
    return None


def _negative_int(a: Any) -> bool:
    """A negative Python int constant that int64 holds."""
    return isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.generic)) and -2**63 <= a < 0


def _check_exponent_fits(e: Any, dtype: np.dtype) -> None:
    """A Python int exponent the power's int loop does not hold (`u8 ** -2`): NumPy 2 (NEP 50)
    converts it first and raises OverflowError, before any negative-power ValueError."""
    if dtype.kind not in "iu":
        return
    info = np.iinfo(dtype)
    if isinstance(e, numbers.Integral) and not isinstance(e, (bool, np.generic)) and not info.min <= e <= info.max:
        from .numpy_errors import NumpyOverflowError

        raise NumpyOverflowError(f"Python integer {e} out of bounds for {dtype.name}", ctx.current_loc())
    if is_tracer(e) and e.weak and e.dtype.kind == "i" and (dtype.kind == "u" or dtype.itemsize < 8):
        from .checks import emit_check  # (a traced Python int: at run time, before the negative-power check)

        out_of = ufunc("logical_or", ufunc("less", e, max(info.min, -2**63)),
                       ufunc("greater", e, min(info.max, 2**63 - 1)))
        emit_check(out_of, OverflowError(f"a Python integer out of bounds for {dtype.name}"))


def _check_int_exponent(e: Any, python_ints: bool) -> None:
    """An integer power raises on a negative exponent, as NumPy's does (at
    run time for a traced exponent). Of two Python ints (`2 ** (i - 3)`)
    Python gives a float there, a type the trace cannot know in advance:
    that is an error too, which says how to write it."""
    if dtype_of(e).kind != "i":
        return
    if python_ints:  # (looptrace's limit, not the user's error: plain Python computes it)
        from looptrace.errors import UnsupportedError

        exc = UnsupportedError("a negative exponent of an int power: Python gives a float here, which "
                               "looptrace's int result cannot hold", ctx.current_loc(),
                               "write the base as a float (2.0 ** n)")
    else:
        exc = ValueError("Integers to negative integer powers are not allowed.")
    if not isinstance(e, Tracer):
        if np.any(np.asarray(e) < 0):
            raise exc
        return
    from .checks import emit_check

    emit_check(ufunc("less", e, 0), exc)


def select(cond: Any, a: Any, b: Any) -> Tracer:
    dtype = result_type(a, b)
    c = as_value(cond, np.bool_)
    out = ctx.emit1(prim("select"), [c, as_value(a, dtype), as_value(b, dtype)])
    return wrap(out, weak=all(is_weak(x) for x in (a, b)))


def astype(x: Any, dtype: Any) -> Tracer:
    return wrap(as_value(x, np.dtype(dtype)))


# --- shapes ------------------------------------------------------------------------
def reshape(x: Any, shape: Sequence[int]) -> Tracer:
    v = as_value(x)
    shape = _resolve_reshape(v.shape, tuple(shape))
    if shape == v.shape:
        return wrap(v, weak=is_weak(x))
    return wrap(ctx.emit1(prim("reshape"), [v], shape=shape), weak=is_weak(x))


def _resolve_reshape(old: tuple, new: tuple) -> tuple:
    new = tuple(int(d) for d in new)
    if new.count(-1) > 1:
        raise ShapeError("can only specify one unknown dimension in reshape", ctx.current_loc())
    if -1 in new:
        known = int(np.prod([d for d in new if d != -1]))
        total = int(np.prod(old))
        if known == 0 or total % known:
            raise ShapeError(f"cannot reshape an array of shape {fmt(old)} into shape {fmt(new)}",
                             ctx.current_loc())
        new = tuple(total // known if d == -1 else d for d in new)
    return new


def transpose(x: Any, perm: Sequence[int] | None = None) -> Tracer:
    v = as_value(x)
    perm = tuple(range(v.ndim))[::-1] if perm is None else _transpose_perm(tuple(perm), v.ndim)
    if perm == tuple(range(v.ndim)):
        return wrap(v)
    return wrap(ctx.emit1(prim("transpose"), [v], perm=perm))


def _transpose_perm(perm: tuple, ndim: int) -> tuple:
    """`axes` of a transpose, normalized, with NumPy's errors (checked in NumPy's order)."""
    if len(perm) != ndim:
        raise ShapeError("axes don't match array", ctx.current_loc())
    perm = tuple(_axis_at_line(a, ndim) for a in perm)
    if len(set(perm)) != ndim:
        raise ShapeError("repeated axis in transpose", ctx.current_loc())
    return perm


def _axis_at_line(axis: int, ndim: int) -> int:
    """`axis` in range(ndim), or NumPy's AxisError at the user's line (never wrapped modulo ndim)."""
    try:
        return _norm_axis(operator.index(axis), ndim)
    except ShapeMismatch as e:
        raise shape_error(e, ctx.current_loc()) from None


def broadcast_to(x: Any, shape: Sequence[int]) -> Tracer:
    v = as_value(x)
    shape = tuple(shape)
    if v.shape == shape:
        return wrap(v, weak=is_weak(x))
    return wrap(ctx.emit1(prim("broadcast_to"), [v], shape=shape), weak=is_weak(x))


def full(shape: Any, fill: Any, dtype: Any = None) -> Tracer:
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(is_tracer(d) for d in shape):
        from .static import DATA_SIZE_HINT, concrete_error

        raise concrete_error(shape, "array shapes must be static; this one depends on a traced value",
                             "compute shapes from .shape or pass them in static_argnames", data_hint=DATA_SIZE_HINT)
    if any(int(d) < 0 for d in shape):
        raise ValueError("negative dimensions are not allowed")
    if dtype is None:
        dtype = np.float64 if isinstance(fill, (float, int)) and not isinstance(fill, bool) and \
            isinstance(fill, float) else dtype_of(fill)
    return broadcast_to(as_value(fill, dtype), tuple(int(d) for d in shape))


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tracer:
    xs = list(xs)
    if not xs:
        raise ShapeError("need at least one array to concatenate", ctx.current_loc())
    ndim = np.ndim(xs[0]) if not is_tracer(xs[0]) else xs[0].ndim
    if axis is None:
        xs, axis = [reshape(x, (-1,)) for x in xs], 0
    elif ndim == 0:
        raise ShapeError("zero-dimensional arrays cannot be concatenated", ctx.current_loc())
    dtype = result_type(*xs)
    vals = [as_value(x, dtype) for x in xs]
    try:
        axis = _norm_axis(axis, vals[0].ndim)
    except ShapeMismatch as e:
        raise shape_error(e, ctx.current_loc()) from None
    return wrap(ctx.emit1(prim("concatenate"), vals, axis=axis))


def stack(xs: Sequence[Any], axis: int = 0) -> Tracer:
    xs = [array_like(x) for x in xs]
    if not xs:
        raise ShapeError("need at least one array to stack", ctx.current_loc())
    shapes = {tuple(np.shape(x)) if not is_tracer(x) else x.shape for x in xs}
    if len(shapes) > 1:
        raise ShapeError("all input arrays must have the same shape to stack; got "
                         + ", ".join(fmt(s) for s in shapes), ctx.current_loc())
    ndim = len(next(iter(shapes))) + 1
    axis = _axis_at_line(axis, ndim)
    expanded = [expand_dims(x, axis) for x in xs]
    return concatenate(expanded, axis)


def expand_dims(x: Any, axis: int) -> Tracer:
    v = as_value(x)
    axis = _axis_at_line(axis, v.ndim + 1)
    return reshape(x, v.shape[:axis] + (1,) + v.shape[axis:])


def _norm_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        from looptrace.ops.shape_arith import AxisOutOfBounds

        raise AxisOutOfBounds(axis, ndim)
    return axis % ndim


def axis_tuple(axis: Any) -> tuple:
    """An `axis=` argument as a tuple of its axes. A traced axis must be a
    concrete int: one computed from an int argument is specialized on
    (tracer/static.py), as a shape is."""
    if is_tracer(axis):
        axis = operator.index(axis)
    if isinstance(axis, numbers.Integral):
        return (axis,)
    return tuple(operator.index(a) if is_tracer(a) else a for a in axis)


def norm_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis_tuple(axis)
    try:
        normed = [_norm_axis(int(a), ndim) for a in axes]
    except ShapeMismatch as e:
        raise shape_error(e, ctx.current_loc()) from None
    if len(set(normed)) != len(normed):
        raise ValueError("duplicate value in 'axis'")
    return tuple(sorted(normed))


# --- reductions -----------------------------------------------------------------
_NO_IDENTITY = {"reduce_max": "maximum", "reduce_min": "minimum"}
_ARG_EMPTY = {"argmax": "attempt to get argmax of an empty sequence",
              "argmin": "attempt to get argmin of an empty sequence"}


def _check_not_empty(v: Value, axes: tuple, message: str) -> None:
    """A reduction with no identity over an axis whose length is known only at
    run time (np.array of a list grown under a condition): NumPy's
    ValueError where it is empty, checked where the reduction runs (the fold
    from the dtype's extreme gave -inf for an empty list's max)."""
    from .checks import emit_check

    for a in axes:
        d = v.shape[a]
        if not isinstance(d, Dim):
            continue
        count = ctx.state().dim_counts.get(d.id)
        if count is None:
            raise UnsupportedError("a maximum or minimum over an axis whose length is known only at run time "
                                   "(NumPy raises where it is empty)", ctx.current_loc(),
                                   "pass initial= where NumPy takes it")
        emit_check(ufunc("equal", wrap(count), 0), ValueError(message))


def reduce(name: str, x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tracer:
    v = as_value(x, dtype)
    axes = norm_axes(axis, v.ndim)
    if name in _NO_IDENTITY:
        _check_not_empty(v, axes, f"zero-size array to reduction operation {_NO_IDENTITY[name]} which has no "
                                  "identity")
    out = ctx.emit1(prim(name), [v], axes=axes) if axes else \
        as_value(wrap(v), reduced_dtype(name, v.dtype))
    if keepdims:
        out = reshape(wrap(out), tuple(1 if i in axes else d for i, d in enumerate(v.shape))).value
    return wrap(out)


def arg_reduce(name: str, x: Any, axis: Any = None) -> Tracer:
    v = as_value(x)
    if axis is None:  # (a 1-d one as it is: its length may be a run-time one, which reshape refuses)
        v, axis = (v if v.ndim == 1 else reshape(wrap(v), (-1,)).value), 0
    axis = norm_axes(axis, v.ndim)[0]
    if name in _ARG_EMPTY:
        _check_not_empty(v, (axis,), _ARG_EMPTY[name])
    return wrap(ctx.emit1(prim(name), [v], axis=axis))


# --- contractions ---------------------------------------------------------------
def einsum(spec: str, *xs: Any) -> Tracer:
    for x in xs:
        check_array_like(x, "operand of a product")
    dtype = result_type(*xs)
    vals = [as_value(x, dtype) for x in xs]
    if len(vals) == 2:  # a large product of a few terms per result: those terms (narrow_products.py)
        from .narrow_products import written_out

        terms = written_out(spec, wrap(vals[0]), wrap(vals[1]))
        if terms is not None:
            return terms
    return wrap(ctx.emit1(prim("einsum"), vals, spec=spec))


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def matmul(a: Any, b: Any) -> Tracer:
    """np.matmul semantics (batch broadcasting, 1-d promotion) as one einsum."""
    a, b = array_like(a), array_like(b)
    na, nb = np.ndim(a) if not is_tracer(a) else a.ndim, np.ndim(b) if not is_tracer(b) else b.ndim
    if na == 0 or nb == 0:
        raise ShapeError("matmul: input operand does not have enough dimensions", ctx.current_loc())
    sa = a.shape if is_tracer(a) else np.shape(a)
    sb = b.shape if is_tracer(b) else np.shape(b)
    ka, kb = sa[-1], (sb[0] if nb == 1 else sb[-2])
    if ka != kb:
        raise ShapeError(f"matmul: shapes {fmt(tuple(sa))} and {fmt(tuple(sb))} are not aligned "
                         f"({ka} != {kb})", ctx.current_loc())
    if na <= 2 and nb <= 2:
        ia = "ij"[2 - na:] if na == 2 else "j"
        ib = "jk" if nb == 2 else "j"
        out = ("i" if na == 2 else "") + ("k" if nb == 2 else "")
        return einsum(f"{ia},{ib}->{out}", a, b)
    batch = broadcast_shapes(tuple(sa[:-2]) if na > 2 else (), tuple(sb[:-2]) if nb > 2 else ())
    a = broadcast_to(a, batch + tuple(sa[-2:])) if na > 2 else a
    b = broadcast_to(b, batch + tuple(sb[-2:])) if nb > 2 else b
    bl = LETTERS[3:3 + len(batch)]
    ia = (bl + "ij") if na > 2 else ("ij" if na == 2 else "j")
    ib = (bl + "jk") if nb > 2 else ("jk" if nb == 2 else "j")
    out = bl + ("i" if na >= 2 else "") + ("k" if nb >= 2 else "")
    return einsum(f"{ia},{ib}->{out}", a, b)


def dot(a: Any, b: Any) -> Tracer:
    a, b = array_like(a), array_like(b)
    na, nb = np.ndim(a) if not is_tracer(a) else a.ndim, np.ndim(b) if not is_tracer(b) else b.ndim
    if na == 0 or nb == 0:
        return ufunc("multiply", a, b)
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    ia = LETTERS[:na]
    if nb == 1:
        return einsum(f"{ia},{ia[-1]}->{ia[:-1]}", a, b)
    ib = LETTERS[na:na + nb - 2] + ia[-1] + LETTERS[na + nb - 2]
    return einsum(f"{ia},{ib}->{ia[:-1] + ib[:-2] + ib[-1]}", a, b)
