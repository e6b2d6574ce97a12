"""What VJP rules are written with: an op `Builder`, broadcasting handled once
(`unbroadcast`), sparse cotangents, and `defvjp`.

A VJP rule is `prim.vjp(b, op, g, wanted) -> list` with one cotangent per
input of `op` (None means zero), where `g` is the cotangent of `op`'s single
output and `wanted[i]` says whether input i needs one. Rules only emit plain
IR through `b`, reading the primal op's inputs and output directly.

Invariant: a cotangent has its primal value's shape and dtype; it is either a
`Value` or a sparse `SliceCt` / `ScatterCt` / `SparseSum` that knows how to add
itself into a dense accumulator (so a loop that reads `x[t]` adds into one row
per step, and one that reads `x[t]` and `x[t - 1]` into two).
It lives in `ops/` beside the rules written with it and imports only the IR,
so no primitive family depends on the autodiff package.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from looptrace.ir.builder import IRBuilder
from looptrace.ir.core import Dim, Op, Value


# The backend a gradient program is being built for (api.py sets it around the transform), for the
# rare rule whose best IR a backend cannot lower (decomp.py `_cofactors`: cuda has no SVD); None
# where unknown.
_BACKEND: contextvars.ContextVar[str | None] = contextvars.ContextVar("looptrace_vjp_backend", default=None)


@contextlib.contextmanager
def building_for(backend: str) -> Iterator[None]:
    token = _BACKEND.set(backend)
    try:
        yield
    finally:
        _BACKEND.reset(token)


def gradient_backend() -> str | None:
    return _BACKEND.get()


class Builder(IRBuilder):
    """The IR builder with the small arithmetic vocabulary VJP rules use."""

    def emit_multi(self, name: str, *inputs: Value, **attrs: Any) -> tuple[Value, ...]:
        if name == "broadcast_to":
            _check_sized(inputs[0], attrs["shape"], self.loc)
        out = self.op(name, *inputs, **attrs)
        return out if isinstance(out, tuple) else (out,)

    def emit(self, name: str, *inputs: Value, **attrs: Any) -> Value:
        (out,) = self.emit_multi(name, *inputs, **attrs)
        return out

    # small vocabulary ----------------------------------------------------------------------
    def lit(self, x: Any, like: Value) -> Value:
        arr = np.asarray(x, dtype=like.dtype)
        return Value(arr.dtype, arr.shape, const=arr)

    def add(self, x: Value, y: Value) -> Value:
        return self._arith("add", x, y)

    def sub(self, x: Value, y: Value) -> Value:
        return self._arith("subtract", x, y)

    def mul(self, x: Value, y: Value) -> Value:
        for a, c in ((x, y), (y, x)):
            if _is_scalar_const(c, 1) and a.dtype == c.dtype and a.ndim >= c.ndim:
                return a
        return self._arith("multiply", x, y)

    def _arith(self, name: str, x: Value, y: Value) -> Value:
        """x (op) y, folded when both are scalar constants (index arithmetic)."""
        if x.is_const and y.is_const and x.shape == () and y.shape == () and x.dtype == y.dtype:
            folded = np.asarray(getattr(np, name)(x.const, y.const), dtype=x.dtype)
            return Value(folded.dtype, (), const=folded)
        return self.emit(name, x, y)

    def div(self, x: Value, y: Value) -> Value:
        return self.emit("divide", x, y)

    def neg(self, x: Value) -> Value:
        return self.emit("negative", x)

    def scale(self, x: Value, c: float) -> Value:
        return self.mul(x, self.lit(c, x))

    def zeros(self, shape: tuple, dtype: Any) -> Value:
        zero = np.zeros((), dtype=dtype)
        return self.emit("broadcast_to", Value(zero.dtype, (), const=zero), shape=tuple(shape))

    def zeros_like(self, v: Value) -> Value:
        if has_dynamic_shape(v) and not v.is_const:
            return self.like(v, self.lit(0, v))
        return self.zeros(v.shape, v.dtype)

    def like(self, ref: Value, x: Value) -> Value:
        """x broadcast to the shape `ref` has at run time: a run-time length
        (a Dim) is known only from a value that has it, never from the
        shape alone (broadcast_to could not size it): x where ref == ref,
        else x (NaN-safe: both arms are x)."""
        return self.emit("select", self.emit("equal", ref, ref), x, x)

    def reshape(self, x: Value, shape: tuple) -> Value:
        if tuple(x.shape) == tuple(shape):
            return x
        return self.emit("reshape", x, shape=tuple(shape))

    def reduce_sum(self, x: Value, axes: tuple) -> Value:
        return self.emit("reduce_sum", x, axes=tuple(sorted(axes))) if axes else x

    def convert(self, x: Value, dtype: Any) -> Value:
        return x if x.dtype == dtype else self.emit("convert", x, dtype=np.dtype(dtype))

    def index(self, stack: Value, i: Value) -> Value:
        """stack[i] for a traced scalar index (drops the leading axis)."""
        row = self.emit("dynamic_slice", stack, i, sizes=(1,))
        return self.reshape(row, tuple(stack.shape[1:]))


def _check_sized(x: Value, shape: tuple, loc: Any) -> None:
    """Refuse a broadcast to a run-time length (a Dim) that x does not
    carry on that axis: nothing could size it (Builder.like sizes it by a
    value that has it). A rule that would make one gets this error, not a
    wrong-sized cotangent."""
    lead = len(shape) - len(x.shape)
    if any(isinstance(d, Dim) and (i < lead or x.shape[i - lead] is not d) for i, d in enumerate(shape)):
        from looptrace.errors import UnsupportedError

        raise UnsupportedError("cannot differentiate this operation on an array whose length is known only "
                               "at run time (a list grown under a condition)", loc,
                               hint="add the terms where the condition holds to an accumulator, or write them "
                                    "into a zeroed array (out[k] = v; k += 1) and reduce all of it")


def int_scalar(x: int) -> Value:
    """An int64 scalar constant (a static index as a traced start)."""
    arr = np.asarray(x, dtype=np.int64)
    return Value(arr.dtype, (), const=arr)


def _is_scalar_const(v: Value, x: float) -> bool:
    return v.is_const and v.shape == () and bool(v.const == x)


def unbroadcast(b: Builder, g: Value, x: Value) -> Value:
    """Sum `g` (the cotangent of a broadcast result) down to `x`'s shape."""
    lead = g.ndim - x.ndim
    axes = list(range(lead))
    axes += [lead + i for i, d in enumerate(x.shape) if d == 1 and g.shape[lead + i] != 1]
    out = b.reshape(b.reduce_sum(g, tuple(axes)), tuple(x.shape))
    return b.convert(out, x.dtype)


def broadcast_back(b: Builder, g: Value, x: Value, axes: tuple) -> Value:
    """The cotangent of a reduction over `axes`, broadcast back to `x`'s shape."""
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    if any(isinstance(x.shape[i], Dim) for i in axes):  # (a run-time length: sized by x itself)
        return b.like(x, b.reshape(g, kept))
    return b.emit("broadcast_to", b.reshape(g, kept), shape=tuple(x.shape))


# --- cotangents ---------------------------------------------------------------------------------
@dataclass
class SliceCt:
    """Zeros except `upd` at `starts` (the cotangent of a dynamic_slice)."""

    like: Value
    upd: Value
    starts: tuple

    def add_into(self, b: Builder, acc: Value) -> Value:
        sizes = tuple(self.upd.shape[: len(self.starts)])
        old = b.emit("dynamic_slice", acc, *self.starts, sizes=sizes)
        return b.emit("dynamic_update_slice", acc, b.add(old, self.upd), *self.starts)

    def dense(self, b: Builder) -> Value:
        return b.emit("dynamic_update_slice", b.zeros_like(self.like), self.upd, *self.starts)


@dataclass
class ScatterCt:
    """Zeros plus `upd` scatter-added at `idx` (the cotangent of a gather)."""

    like: Value
    idx: Value
    upd: Value
    axis: int

    def add_into(self, b: Builder, acc: Value) -> Value:
        return b.emit("scatter", acc, self.idx, self.upd, axis=self.axis, mode="add")

    def dense(self, b: Builder) -> Value:
        return self.add_into(b, b.zeros_like(self.like))


@dataclass
class SparseSum:
    """The sum of several sparse cotangents of one value (a loop body that
    reads `x[t]` twice, or `x[t]` and `x[t - 1]`): added into an accumulator
    part by part, never made dense unless a consumer needs a dense value."""

    like: Value
    parts: tuple  # SliceCt / ScatterCt, added in this order

    def add_into(self, b: Builder, acc: Value) -> Value:
        for part in self.parts:
            acc = part.add_into(b, acc)
        return acc

    def dense(self, b: Builder) -> Value:
        return self.add_into(b, b.zeros_like(self.like))


Ct = Value | SliceCt | ScatterCt | SparseSum


def is_float(v: Value) -> bool:
    return isinstance(v.dtype, np.dtype) and v.dtype.kind in "fc"


def has_dynamic_shape(v: Value) -> bool:
    return any(isinstance(d, Dim) for d in v.shape)


def dense(b: Builder, ct: Ct | None) -> Value | None:
    return ct if ct is None or isinstance(ct, Value) else ct.dense(b)


def sparse_parts(ct: SliceCt | ScatterCt | SparseSum) -> tuple:
    return ct.parts if isinstance(ct, SparseSum) else (ct,)


def add_cts(b: Builder, old: Ct | None, new: Ct | None) -> Ct | None:
    """old + new: a sparse one is added into a dense one; two sparse ones
    stay sparse (a SparseSum of their parts), so that no step of a reverse
    loop makes a full-size zeros-plus-update."""
    if old is None or new is None:
        return new if old is None else old
    if isinstance(old, Value) and isinstance(new, Value):
        return b.add(old, new)
    if isinstance(old, Value):
        return new.add_into(b, old)
    if isinstance(new, Value):
        return old.add_into(b, new)
    return SparseSum(old.like, sparse_parts(old) + sparse_parts(new))


# --- defining rules ---------------------------------------------------------------------------
PerInput = Callable[[Builder, Value, Op], "Ct | None"]


class InputRules:
    """A VJP rule given as one function per input, `fn(b, g, op) -> cotangent`
    (None for an input whose cotangent is always zero, e.g. an index)."""

    def __init__(self, fns: tuple):
        self.fns = fns

    def __call__(self, b: Builder, op: Op, g: Value, wanted: list[bool]) -> list:
        return [fn(b, g, op) if (fn is not None and w) else None for fn, w in zip(self.fns, wanted)]


def defvjp(prim, *fns: PerInput | None) -> None:
    """Attach a VJP rule to `prim`: one function (or None) per input."""
    prim.vjp = InputRules(fns)


class RegionRule:
    """Marks a region primitive whose adjoint `looptrace.autodiff.vjp` builds
    from its blocks (loops, conditionals)."""

    def __call__(self, *_: Any) -> list:
        raise NotImplementedError("region ops are differentiated by looptrace.autodiff.vjp")


class NoGradient:
    """A rule for a primitive whose input-output map is differentiable but
    is not supported in reverse mode; it raises the user-facing error."""

    def __init__(self, why: str, hint: str = ""):
        self.why, self.hint = why, hint

    def __call__(self, b: Builder, op: Op, g: Value, wanted: list[bool]) -> list:
        from looptrace.errors import UnsupportedError

        raise UnsupportedError(f"cannot differentiate {self.why}", op.loc, hint=self.hint)
