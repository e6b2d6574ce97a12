"""Elements of small vectors read as scalars.

An ODE's right-hand side written `return np.array([a * x - b * x * y, ...])`
and read back as `k1[0]`, `k1[1]` builds a 2-element array only to take it
apart; its gradient is worse: the adjoint of each `k[0]` is a zero vector
with one element set (update_slice), the adjoints add up as vectors, and the
adjoint of np.array(...) takes them apart again with masked sums. In a
40-step RK4 the reverse scan made eight one-element arrays a step (the grad
ran 45 us against 1.3 us forward) and its kernel took seconds more to
compile.

Here a read of one static element of an array of at most SMALL elements
(`reshape(slice(x), ())`) and a full `reduce_sum` of such an array are
computed from the elements of what made the array: a constant's element, a
scalar broadcast, a coordinate of an iota, the operands' elements of an
elementwise op (a select on a constant mask takes its branch), the piece of
an update_slice, a slice, a reshape or a concatenation that holds it (at
constant starts). Only vectors made that way from scalars are taken apart:
an array read from memory (a gather, a window `x[i:i + 5]`) stays a vector,
the form the vectorizer knows. The vectors then die where nothing else
reads them.

Values are the same bits: a sum (of fewer than 8 elements, which NumPy adds
in order to +0.0; from 8 on it adds in a tree) is that fold, and only additions that cannot change a value are left
out (x + -0.0, x - 0.0).
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.builder import derived
from looptrace.ir.core import Op, Program, Value, literal
from looptrace.ir.dce import dce
from looptrace.ir.rewrite import rewrite_each_op

SMALL = 8  # elements: a vector up to this size is taken apart; beyond, its loop is cheaper than the scalars
_DEPTH = 24  # producers followed from one read: a bound on the scalar ops one rewrite makes
_MEMO = "small_vectors"  # the per-block cache of elements made, kept in rewrite_each_op's producer map


def scalarize_small_vectors(program: Program) -> Program:
    """The pass: reads of static elements and sums of small vectors computed
    from the elements of what made the vectors (module docstring)."""
    rewrite_each_op(program.body, _rewrite)
    program.body = dce(program.body, keep_raising=True)  # (the elements made for a rewrite that then failed)
    return program


def _static_size(v: Value) -> int | None:
    if not all(type(d) is int for d in v.shape):
        return None
    return int(np.prod(v.shape, dtype=np.int64))


def _small(v: Value) -> bool:
    n = _static_size(v)
    return n is not None and 0 < n <= SMALL and isinstance(v.dtype, np.dtype)


def _rewrite(op: Op, ops: list, producer: dict) -> Value | None:
    name = op.prim.name
    if name == "reshape" and op.out.shape == () and op.inputs[0].shape and _producer(op.inputs[0], producer) and \
            producer[op.inputs[0].id].prim.name == "slice":
        sl = producer[op.inputs[0].id]
        x = sl.inputs[0]
        if not _small(x) or not _made_here(x, producer):
            return None
        coords = tuple(a for a in sl.attrs["starts"])
        if len(coords) != x.ndim or any(len(range(a, b, s)) != 1 for a, b, s in
                                        zip(sl.attrs["starts"], sl.attrs["stops"], sl.attrs["steps"])):
            return None
        return _Elements(op, ops, producer).at(x, int(np.ravel_multi_index(coords, x.shape)))
    if name == "reduce_sum" and op.out.shape == () and _small(op.inputs[0]) and _static_size(op.inputs[0]) < 8 \
            and _made_here(op.inputs[0], producer) \
            and op.inputs[0].dtype in (np.float32, np.float64) and op.out.dtype == op.inputs[0].dtype \
            and not op.attrs.get("ties"):  # (NumPy adds float16 in float32, rounding once)
        x = op.inputs[0]
        el = _Elements(op, ops, producer)
        terms = []
        for i in range(_static_size(x)):
            e = el.at(x, i)
            if e is None:
                return None
            if not _zero(e, negative=True):  # x + -0.0 is x, whatever x
                terms.append(e)
        total = literal(np.zeros((), x.dtype))  # NumPy's sum starts from +0.0 (a sum of -0.0s is +0.0)
        for t in terms:
            total = el.build("add", (total, t), {}, op.out.dtype)
            if total is None:
                return None
        return total
    return None


def _producer(v: Value, producer: dict) -> bool:
    return v.id in producer


def _made_here(x: Value, producer: dict) -> bool:
    """x is made in this block by an op whose elements can be followed (else
    reading its elements one by one gains nothing)."""
    p = producer.get(x.id)
    return x.const is not None or p is not None and _follows(p)


def _follows(p: Op) -> bool:
    if p.prim.name in ("dynamic_slice", "dynamic_update_slice"):  # at constant starts (`w[0] = v`)
        return _constant_starts(p) is not None
    return (p.prim.name in ("broadcast_to", "iota", "update_slice", "slice", "reshape", "concatenate")
            or p.prim.elementwise and not p.prim.effectful and not p.prim.may_raise and not p.blocks)


def _constant_starts(p: Op) -> tuple[int, ...] | None:
    """The starts of a dynamic_slice or dynamic_update_slice given as
    constants, normalized as its run-time check does (a negative start of a
    one-element window counts from the end); None where one is traced or out
    of bounds (the op raises there: it stays, and is not followed)."""
    x = p.inputs[0]
    sizes = p.attrs["sizes"] if p.prim.name == "dynamic_slice" else p.inputs[1].shape
    starts = p.inputs[1:] if p.prim.name == "dynamic_slice" else p.inputs[2:]
    if _static_size(x) is None or not all(type(k) is int for k in sizes):
        return None
    out = []
    for axis, (s, k) in enumerate(zip(starts, sizes)):
        if s.const is None:
            return None
        s = int(s.const)
        n = x.shape[axis]
        if s < 0 and k == 1:
            s += n
        if not 0 <= s <= n - k:
            return None
        out.append(s)
    return tuple(out)


class _Elements:
    """The scalar elements of values of one block, made before the op being
    rewritten (`ops`), each made once per block (the memo)."""

    def __init__(self, op: Op, ops: list, producer: dict):
        self.b = derived(op, ops)
        self.producer = producer
        self.memo = producer.setdefault(_MEMO, {})
        self.budget = _DEPTH * SMALL

    def at(self, v: Value, i: int) -> Value | None:
        """v's element at flat (C-order) index i, a scalar Value, or None."""
        key = (v.id, i)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        self.budget -= 1
        if self.budget < 0:
            return None
        e = self._element(v, i)
        if e is not None:
            if e.dtype != v.dtype or e.shape != ():
                return None
            self.memo[key] = e
        return e

    def _element(self, v: Value, i: int) -> Value | None:
        if v.const is not None:
            return literal(np.asarray(v.const).reshape(-1)[i] if v.ndim else np.asarray(v.const), v.dtype)
        if v.ndim == 0:
            return v
        p = self.producer.get(v.id)
        if p is None or not _follows(p) or _static_size(v) is None:
            # an array read from memory (a gather, a window, an argument): its
            # elements stay reads of it, which the vectorizer knows in vector form
            return None
        coords = np.unravel_index(i, v.shape)
        name = p.prim.name
        if name == "iota":
            return literal(coords[p.attrs["axis"]], v.dtype)
        if name == "reshape":
            src = p.inputs[0]
            return self.at(src, i) if _static_size(src) == _static_size(v) else None
        if name == "broadcast_to":
            return self._from_broadcast(p.inputs[0], v, coords)
        if name in ("dynamic_slice", "dynamic_update_slice"):
            starts = _constant_starts(p)
            sizes = p.attrs["sizes"] if name == "dynamic_slice" else p.inputs[1].shape
            windows = [(a, a + k, 1) for a, k in zip(starts, sizes)]
        else:
            windows = list(zip(p.attrs.get("starts", ()), p.attrs.get("stops", ()), p.attrs.get("steps", ())))
        if name in ("slice", "dynamic_slice"):
            src = p.inputs[0]
            if _static_size(src) is None:
                return None
            full = tuple(range(*w)[coords[k]] for k, w in enumerate(windows)) + tuple(coords[len(windows):])
            return self.at(src, int(np.ravel_multi_index(full, src.shape)))
        if name in ("update_slice", "dynamic_update_slice"):
            base, upd = p.inputs[:2]
            inside = []
            for k, (a, b, s) in enumerate(windows):
                r = range(a, b, s)
                if coords[k] not in r:
                    return self.at(base, i)
                inside.append(r.index(coords[k]))
            inside += list(coords[len(inside):])
            if _static_size(upd) is None:
                return None
            return self.at(upd, int(np.ravel_multi_index(tuple(inside), upd.shape)))
        if name == "concatenate":
            axis = p.attrs["axis"]
            c = coords[axis]
            for piece in p.inputs:
                if _static_size(piece) is None:
                    return None
                if c < piece.shape[axis]:
                    at = tuple(c if k == axis else coords[k] for k in range(len(coords)))
                    return self.at(piece, int(np.ravel_multi_index(at, piece.shape)))
                c -= piece.shape[axis]
            return None
        # an elementwise op: its operands' elements (NumPy broadcasting)
        if p.prim.name == "select":
            cond = self._operand(p.inputs[0], v, coords)
            if cond is not None and cond.const is not None:
                return self._operand(p.inputs[1] if bool(cond.const) else p.inputs[2], v, coords)
        args = []
        for x in p.inputs:
            e = self._operand(x, v, coords)
            if e is None:
                return None
            args.append(e)
        return self.build(name, tuple(args), p.attrs, v.dtype)

    def _operand(self, x: Value, out: Value, coords: tuple) -> Value | None:
        return self._from_broadcast(x, out, coords)

    def _from_broadcast(self, x: Value, out: Value, coords: tuple) -> Value | None:
        """x's element that broadcasting puts at `coords` of `out`."""
        if x.ndim == 0:
            return x
        if _static_size(x) is None or x.ndim > len(coords):
            return None
        lead = len(coords) - x.ndim
        at = tuple(0 if x.shape[k] == 1 else coords[lead + k] for k in range(x.ndim))
        return self.at(x, int(np.ravel_multi_index(at, x.shape)))

    def build(self, name: str, args: tuple, attrs: dict, dtype) -> Value | None:
        """The scalar op `name` of scalar args: folded where all are constants."""
        if all(a.const is not None for a in args):
            prim = _prim(name)
            if prim.impl is not None:
                with np.errstate(all="ignore"):
                    out = prim.impl(*(np.asarray(a.const) for a in args), **attrs)
                return literal(np.asarray(out).reshape(()), dtype)
        if name in ("add", "subtract") and dtype.kind == "f":  # x + -0.0 and x - 0.0 are x, whatever x
            if _zero(args[1], negative=name == "add"):
                return args[0] if args[0].dtype == dtype else None
            if name == "add" and _zero(args[0], negative=True):
                return args[1] if args[1].dtype == dtype else None
        out = self.b.op(name, *args, **attrs)
        return out if out.dtype == dtype and out.shape == () else None


def _zero(v: Value, negative: bool) -> bool:
    """v is the constant -0.0 (negative) or +0.0."""
    if v.const is None or v.shape != ():
        return False
    x = np.asarray(v.const)
    return x.dtype.kind == "f" and float(x) == 0.0 and bool(np.signbit(x)) == negative


def _prim(name: str):
    from looptrace.ir.primitive import PRIMITIVES

    return PRIMITIVES[name]

