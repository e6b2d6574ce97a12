"""Scalars whose Python type depends on what ran.

    acc = 0                      # a Python int
    for i in range(n):
        if x[i] > 0.5:
            acc = acc + x[i]     # a np.float64 from here on
    return acc                   # int 0 where no x[i] > 0.5 (or n == 0), else np.float64

The traced value has one dtype (float64, the join), but the plain function
returns the int where no branch ran. A 0-d value whose type (its key: dtype,
Python number or NumPy scalar, 0-d ndarray) differs between the sides of a
traced `if`, or between a loop's entry and its iterations, carries `kinds`:
(a traced int64 tag, the keys it indexes); the function's result is
converted to the key the tag names at run time (trace.build_output), so the
value is the join's and the type the plain function's. Arithmetic keeps the
tag where the keys' results differ (`acc * 2`: int or np.float64), NumPy
deciding each key's result type (`ufunc`). A use that keeps no tag (an index,
a condition, a reduction) sees the join's type, as before tags were kept.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from . import context as ctx
from .array import Tracer, _visible, is_tracer

Key = tuple  # (dtype str, Python number, 0-d ndarray)


def key_of(x: Any) -> Key | None:
    """The type of a 0-d value, None for anything else."""
    if is_tracer(x):
        if x.ndim != 0 or x.base is not None:
            return None
        return (np.dtype(x.dtype).str, bool(x.weak), bool(x.array0d))
    if isinstance(x, np.generic):
        return (x.dtype.str, False, False)
    if isinstance(x, (bool, int, float, complex)):
        return (np.asarray(x).dtype.str, True, False)
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return (x.dtype.str, False, True)
    return None


def kinds_of(x: Any, check: bool = True) -> tuple | None:
    """(tag, keys) of a value whose type is chosen at run time, visible here
    (`check`; a loop's exits are seen after its body's frame is left)."""
    if isinstance(x, _Tagged):
        return x.kinds
    if not is_tracer(x) or x.kinds is None or x.ndim != 0:
        return None
    tag, keys = x.kinds
    if check and not _visible(tag._box.frame, ctx.state().frame):
        return None
    return x.kinds


def keys_of(x: Any, check: bool = True) -> tuple | None:
    k = kinds_of(x, check)
    if k is not None:
        return k[1]
    key = key_of(x)
    return None if key is None else (key,)


def holding(dtype: np.dtype, keys: tuple | None, values: tuple = (), traced_ints: bool = False) -> np.dtype:
    """The dtype a value whose type is one of `keys` at run time is kept in:
    NEP 50's join (`dtype`), unless it would change one of the types' values.
    A Python float chosen against a float32 (`i * 0.1 if c else y32[i]`)
    joins to float32 under NEP 50, which would store 0.1 rounded: kept in
    float64, each type's values exact, and converted on return. A Python int
    among `values` (the numbers known while tracing) that the join cannot
    hold (a sentinel `best = 10**18` over int32, `v = 1000 if c else
    img[i]` over uint8) is kept in int64 likewise, as is a traced Python int
    (`traced_ints`: a choice or min()/max() returns it unconverted). Ops on such a value run
    each type's loop (semantics._loop_of_kinds)."""
    if keys is None or len(keys) < 2:
        return dtype
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        # a Python int known only at run time may be any int64: min()/max() return it unchanged
        # (`traced_ints`: max(np.int32(5), n) with n = 2**40), where arithmetic would convert it
        traced = traced_ints and any(is_tracer(v) and v.weak and v.dtype.kind in "iu" for v in values)
        if traced or any(isinstance(v, int) and not isinstance(v, bool) and not _fits(v, dtype) for v in values):
            wide = np.result_type(*(np.dtype(k[0]) for k in keys))
            return wide if wide.kind in "iu" and wide.itemsize > dtype.itemsize else dtype
        return dtype
    if dtype.kind not in "fc" or not any(k[1] and np.dtype(k[0]).kind in "fc" for k in keys):
        return dtype  # (a Python float or complex only)
    wide = np.result_type(*(np.dtype(k[0]) for k in keys))
    return wide if wide.kind in "fc" and wide.itemsize > dtype.itemsize else dtype


def _fits(v: int, dtype: np.dtype) -> bool:
    info = np.iinfo(dtype)
    return info.min <= v <= info.max


def held(x: Any, y: Any, traced_ints: bool = True) -> np.dtype:
    """The dtype of a value chosen between x and y (a traced `if`, a
    conditional expression, min/max): NEP 50's join, wider where that would
    change a value of one side's type (`holding`). A choice converts neither
    side: a traced Python int against an int8 (`k8[i] if c else int(n)`)
    is kept in int64, not converted (an OverflowError for 1000, probe Q)."""
    from . import semantics as sem

    dtype = sem.result_type(x, y)
    if np.ndim(x) or np.ndim(y):
        return dtype
    kx, ky = keys_of(x), keys_of(y)
    return holding(dtype, union(kx, ky), (x, y), traced_ints) if kx is not None and ky is not None else dtype


def union(*keysets: tuple) -> tuple:
    out: list = []
    for ks in keysets:
        for k in ks:
            if k not in out:
                out.append(k)
    return tuple(out)


def tag_in(x: Any, keys: tuple) -> Any:
    """The index in `keys` of x's type at run time: an int, or a traced int64."""
    from . import semantics as sem

    k = kinds_of(x)
    if k is None:
        return keys.index(key_of(x))
    tag, own = k
    remap = [keys.index(kk) for kk in own]  # (own may repeat a key: kinds.ufunc's combinations)
    if remap == list(range(len(own))):
        return tag
    if len(set(remap)) == 1:
        return remap[0]
    out: Any = remap[-1]
    for j in range(len(own) - 2, -1, -1):
        out = sem.select(sem.ufunc("equal", tag, j), np.int64(remap[j]), _int(out))
    return out


def apply(out: Tracer, tag: Any, keys: tuple) -> None:
    """Give `out` the type keys[tag]: statically where the tag is known."""
    from . import semantics as sem

    if out.ndim != 0 or out.base is not None:
        return
    if not is_tracer(tag):
        key = keys[int(tag)]
        if np.dtype(key[0]) == out.dtype:
            out.weak, out.array0d, out.kinds = key[1], key[2], None
            return
        tag = sem.wrap(sem.as_value(np.int64(tag)))  # another dtype than the join's: converted on return
    if all(np.dtype(k[0]) == out.dtype and not k[1] and not k[2] for k in keys):
        return  # NumPy scalars of the value's dtype, whichever ran
    out.kinds = (tag if tag.dtype == np.int64 else sem.astype(tag, np.int64), keys)


def merged(pred: Any, a: Any, b: Any, out: Any) -> None:
    """`out` is `a` where `pred`, else `b` (a traced `if`, a conditional
    expression): its type at run time is the chosen side's."""
    from . import semantics as sem

    if is_tracer(out):
        exact_choice(pred, a, b, out.dtype)
    if not is_tracer(out) or out.ndim != 0:
        return
    ka, kb = keys_of(a), keys_of(b)
    if ka is None or kb is None:
        return
    # the other side's keys first: where it is the value from before (a carry the `if` may
    # update), its tag needs no remapping, nor the result's against the loop's (smith_waterman)
    keys = union(kb, ka)
    if len(keys) == 1:  # one type either way: a 0-d array on both sides stays one (`x if c else x.copy()`)
        out.array0d = out.array0d or keys[0][2] and np.dtype(keys[0][0]) == out.dtype
        return
    ta, tb = tag_in(a, keys), tag_in(b, keys)
    if not is_tracer(ta) and not is_tracer(tb) and ta == tb:
        apply(out, ta, keys)
        return
    apply(out, sem.select(pred, _int(ta), _int(tb)), keys)


def _int(t: Any) -> Any:
    return t if is_tracer(t) else np.int64(t)


def inexact_int(v: Any, dtype: np.dtype) -> bool:
    """Is v a Python int (not a bool) that a value of `dtype` does not hold
    exactly? One past 64 bits (no dtype holds it), past an int dtype's range,
    or one a float64 would round (2**53 + 1; not 2**60, a power of two)."""
    if not isinstance(v, int) or isinstance(v, bool):
        return False
    dtype = np.dtype(dtype)
    if not -2**63 <= v < 2**64:
        return True
    if dtype.kind in "iu":
        return not _fits(v, dtype)
    if dtype.kind in "fc":
        try:
            return np.asarray(float(v), dtype).real.item() != v
        except OverflowError:
            return True
    return dtype.kind == "b" and v not in (0, 1)


def exact_choice(pred: Any, a: Any, b: Any, dtype: np.dtype) -> None:
    """A value chosen at run time, `a` where `pred` else `b` (a conditional
    expression, an `if` merging a name or a return, `and`/`or`, a list
    element at a traced index), kept in `dtype`: where a side is a Python
    int that dtype would round (`2**53 + 1 if c else x[i]`, a float64; Python
    returns the int exactly), an error at run time where that side is chosen,
    not a rounded number. The one rule for every such choice."""
    from . import semantics as sem
    from .checks import emit_check

    if not is_tracer(pred):
        return
    for v, where in ((a, True), (b, False)):
        v = _constant_int(v)
        if inexact_int(v, dtype):
            bad = pred if where else sem.ufunc("logical_not", pred)
        elif _traced_int(v) and np.dtype(dtype).kind in "fc" and v.aff is None and _in_scope(v):
            # (aff: `range(n)`'s index; out of scope: a branch's own value, met after the branch closed)
            bad = sem.ufunc("logical_and", pred if where else sem.ufunc("logical_not", pred), _rounded(v, dtype))
        else:
            continue
        emit_check(sem.as_value(bad, np.bool_), _inexact_error(v, dtype))


def exact_exit(out: Tracer, entry: Any) -> None:
    """A loop's 0-d value `out` that entered as `entry` (`r = 2**53 + 1`, then
    `r = x[k]` in a `while`): where it leaves the loop as the entry's int
    (no iteration assigned it), the choice is the entry's (exact_choice)."""
    from . import semantics as sem

    k = kinds_of(out)
    entry = _constant_int(entry)
    if k is None or not inexact_int(entry, out.dtype) or key_of(entry) not in k[1]:
        return
    tag, keys = k
    kept = sem.ufunc("equal", tag, np.int64(keys.index(key_of(entry))))
    if is_tracer(kept):  # (as an int, and holding the entry's rounded value)
        rounded = np.asarray(entry).astype(out.dtype)[()]
        kept = sem.ufunc("logical_and", kept, sem.ufunc("equal", Tracer(out.value), rounded))
        exact_choice(kept, entry, None, out.dtype)


def _in_scope(v: Tracer) -> bool:
    """Can ops read v here (not a value of a loop body or branch already closed)?"""
    st = ctx.state()
    f = st.value_frames.get(v.value.id)
    return f is None or ctx.visible(f, st.frame)


def _constant_int(v: Any) -> Any:
    """A traced Python int whose value is known while tracing, as that int."""
    if _traced_int(v) and v.value.is_const:
        return int(v.value.const)
    return v


def _traced_int(v: Any) -> bool:
    """A traced Python int (its value known at run time only: a return slot, `int(x[i])`)."""
    return is_tracer(v) and v.ndim == 0 and v.weak and v.dtype.kind in "iu" and kinds_of(v) is None


def _rounded(v: Tracer, dtype: np.dtype) -> Any:
    """Where a float of `dtype` rounds the int64 v: v over its lowest set bit
    needs more bits than the float's significand has (2**60 is exact, 2**53 + 1
    is not). In int64 arithmetic (-2**63 is its own lowest bit: a power of two)."""
    from . import semantics as sem

    bits = np.finfo(np.dtype(dtype)).nmant + 1
    w = sem.wrap(sem.as_value(v, np.int64))
    low = sem.ufunc("bitwise_and", w, sem.ufunc("negative", w))
    low = sem.select(sem.ufunc("equal", low, np.int64(0)), np.int64(1), low)
    m = sem.ufunc("floor_divide", w, low)
    return sem.ufunc("logical_or", sem.ufunc("greater", m, np.int64(2**bits)),
                     sem.ufunc("less", m, np.int64(-2**bits)))


def _inexact_error(v: int, dtype: np.dtype) -> Exception:
    from looptrace.errors import BigIntError

    if not isinstance(v, int):
        return BigIntError(f"a Python int chosen here at run time is one the {np.dtype(dtype).name} it is chosen "
                           "against would round (past 2**53 for a float64; the plain function returns the int "
                           "exactly)", ctx.current_loc(), "convert it where it is chosen (float(n) for a float), "
                           "or keep the int out of the traced choice")
    if not -2**63 <= v < 2**64:
        why = "past 64 bits: no traced dtype holds it exactly"
    else:
        why = f"which the {np.dtype(dtype).name} it is chosen against would round"
    return BigIntError(f"the Python int {v} is chosen here at run time, {why} (the "
                       "plain function returns the int exactly)", ctx.current_loc(),
                       f"convert it where it is chosen (float({v}) for a float"
                       + (", np.int64(...) beside ints" if -2**63 <= v < 2**63 else ", float('inf') for a sentinel")
                       + "), or keep the int out of the traced choice")


def _sample(key: Key) -> Any:
    dt, weak, arr0 = key
    one = np.ones((), np.dtype(dt))
    if weak:
        return one.item()
    return one if arr0 else one[()]


def ufunc(name: str, args: tuple, res: Tracer, numpy: bool) -> None:
    """`res = name(*args)` of 0-d values, some of whose types are chosen at
    run time: res's type per combination of their tags, as NumPy (or Python,
    for an operator on Python numbers) gives it on values of those types."""
    from . import semantics as sem

    if res.ndim != 0 or any(np.ndim(a) != 0 for a in args):
        return
    uf = getattr(np, name, None)
    if not isinstance(uf, np.ufunc):
        return
    ks = [kinds_of(a) for a in args]
    tags: list = []  # distinct tags, each with its keys
    for k in ks:
        if k is not None and all(k[0] is not t for t, _ in tags):
            tags.append(k)
    if not tags or np.prod([len(keys) for _, keys in tags]) > 16:
        return
    combos = list(itertools.product(*[range(len(keys)) for _, keys in tags]))
    out_keys = []
    for combo in combos:
        chosen = {id(t): keys[j] for (t, keys), j in zip(tags, combo)}
        samples = [_sample(chosen[id(k[0])] if k is not None else key_of(a)) for a, k in zip(args, ks)]
        weak = all(s.__class__ in (bool, int, float, complex) for s in samples) and not numpy
        try:
            with np.errstate(all="ignore"):
                r = uf(*samples)
        except Exception:
            return
        if isinstance(r, tuple):
            return
        out_keys.append((np.asarray(r).dtype.str, weak, False))
    keys = union(out_keys)
    if len(keys) == 1:
        apply(res, 0, keys)
        return
    if len(tags) == 1:
        apply(res, tag_in(_Tagged(tags[0][0], tuple(out_keys)), keys), keys)
        return
    index: Any = 0  # the combination's position, then its result type's
    for t, tk in tags:
        index = sem.ufunc("add", sem.ufunc("multiply", _int(index), np.int64(len(tk))), t)
    apply(res, tag_in(_Tagged(index, tuple(out_keys)), keys), keys)


class _Tagged:
    """A stand-in for tag_in: a tag over keys that may repeat."""

    def __init__(self, tag: Any, keys: tuple):
        self.kinds = (tag, keys)


# --- a loop's tag as a reduction -------------------------------------------------------------
_FOLDED = {"equal": lambda a, b: a == b, "not_equal": lambda a, b: a != b,
           "logical_and": lambda a, b: a and b, "logical_or": lambda a, b: a or b,
           "logical_not": lambda a: not a, "add": lambda a, b: a + b, "multiply": lambda a, b: a * b}


def as_reduction(block: Any, prev: Any, new: Any) -> Any:
    """A carried tag over two types, `new` computed from `prev` in `block`:
    where every path leaves the second type once it holds (new(1) == 1, the
    type an iteration changes it to stays: `if c: acc = acc + x[i]`), new is
    max(prev, new(0)), a reduction of values that do not read `prev` (the
    vectorizer takes it out of the loop), else `new` as it is. A tag a
    nested `if` chose is a result of the outer one's `cond` (control.py
    `_hidden_tags`): its outcomes are its branches', and new(0) a copy of
    that cond reading 0 for `prev` (a pure one only)."""
    from looptrace.ir.core import free_values, literal, walk

    made = {v.id: op for op in walk(block) for v in op.outputs}
    reading: dict = {}

    def outcomes(v: Any, p: int, memo: dict) -> set | None:
        if v is prev:
            return {p}
        if v.is_const:
            return {np.asarray(v.const).item()}
        if v.id in memo:
            return memo[v.id]
        op = made.get(v.id)
        if op is None or not _reads(op, prev, made, reading) and op.prim.name not in ("select", *_FOLDED):
            # (a select or comparison of values that do not read prev still has outcomes: `select(c, 1, 0)`,
            # a flag made an int, is {0, 1}: nonlocal_counter's tag stayed a scan without them)
            out = {False, True} if v.dtype == np.bool_ and v.shape == () else None
        elif op.prim.name == "select":
            c, a, b = (outcomes(x, p, memo) for x in op.inputs)
            out = None if None in (c, a, b) else (a if c == {True} else b if c == {False} else a | b)
        elif op.prim.name in _FOLDED:
            ins = [outcomes(x, p, memo) for x in op.inputs]
            out = None if None in ins else {_FOLDED[op.prim.name](*c) for c in itertools.product(*ins)}
        elif op.prim.name == "cond" and len(op.blocks) == 2:
            k = op.outputs.index(v)
            c = outcomes(op.inputs[0], p, memo)
            a, b = (outcomes(blk.results[k], p, memo) for blk in op.blocks)
            out = None if None in (c, a, b) else (a if c == {True} else b if c == {False} else a | b)
        else:
            out = None
        memo[v.id] = out
        return out

    if outcomes(new, 1, {}) != {1}:
        return new
    clones: dict = {prev.id: literal(np.int64(0))}
    top = {id(op) for op in block.ops}

    def at_zero(v: Any) -> Any:
        if v.id in clones:
            return clones[v.id]
        op = made.get(v.id)
        if op is None or v.is_const or not _reads(op, prev, made, reading):
            return v
        if id(op) not in top or op.prim.name in ("for_loop", "while_loop"):
            raise _NotCopied  # a loop is not copied (emit1 made it without its blocks: NotImplementedError, probe Q)
        if op.prim.name == "cond":
            for b in op.blocks:  # what the branches read from outside, as it is where prev is 0
                for x in free_values(b):
                    at_zero(x)
            out = _cond_at_zero(op, op.outputs.index(v), [at_zero(x) for x in op.inputs], clones)
        else:
            out = ctx.emit1(op.prim, [at_zero(x) for x in op.inputs], **op.attrs)
        clones[v.id] = out
        return out

    from . import semantics as sem

    try:
        zero = at_zero(new)
    except _NotCopied:
        return new
    return sem.as_value(sem.ufunc("maximum", Tracer(prev), Tracer(zero)), np.int64)


class _NotCopied(Exception):
    """A tag's computation as_reduction does not copy (an effect in a branch)."""


def _cond_at_zero(op: Any, k: int, inputs: list, mapping: dict) -> Any:
    """Result k of a copy of the pure `cond` op, with the values in `mapping`
    (the carried tag as 0) read in place of the originals."""
    from looptrace.ir.builder import rebuilt
    from looptrace.ir.clone import clone_block
    from looptrace.ir.core import Block, Value
    from looptrace.ir.dce import dce, is_pure

    if not all(is_pure(o) or o.prim.raises for b in op.blocks for o in b.ops):
        raise _NotCopied
    blocks = []
    for b in op.blocks:
        copy = clone_block(Block(b.args, b.ops, [b.results[k]]), mapping)
        blocks.append(dce(copy))
    out = Value(op.outputs[k].dtype, tuple(op.outputs[k].shape))
    st = ctx.state()
    st.frame.block.ops.append(rebuilt(op, inputs=tuple(inputs), outputs=(out,), attrs=op.attrs,
                                      blocks=tuple(blocks)))
    st.producers[out.id] = st.frame.block.ops[-1]
    st.value_frames[out.id] = st.frame
    return out


def _reads(op: Any, prev: Any, made: dict, memo: dict) -> bool:
    """Does `op` read `prev`, directly or through ops of its block?"""
    key = id(op)
    if key in memo:
        return memo[key]
    memo[key] = False
    ins = list(op.inputs)
    if op.blocks:  # a cond's branches read what it reads
        from looptrace.ir.core import walk

        ins += [x for b in op.blocks for o in walk(b) for x in o.inputs] + [r for b in op.blocks for r in b.results]
    r = any(x is prev or (x.id in made and _reads(made[x.id], prev, made, memo)) for x in ins)
    memo[key] = r
    return r
