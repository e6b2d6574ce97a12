"""Run-time checks: the data-dependent `raise` and `assert` of a user's program.

    check(p_1, ..., p_k, v_1, ..., v_m) {failures=(f_1, ..., f_k)}      no outputs

Every `p_j` is a bool array and all have one shape. The op raises `f_j`'s
exception for the first true element in row-major order (ties within one
element: the lowest j), and does nothing when every element is false. Each
`Failure` holds the user's exception (class and arguments, made when the
function was traced) and the source line of its `raise`/`assert`; the raised
exception is a fresh copy of the user's, with a note naming that line. A
failure with a `message` also takes an integer array `v` (one per such
failure, in order, shaped like the predicates): its exception is made at
run time from the message and the value at the failing element (an index out
of range names the index as the user gave it).

Invariants:
- a check is never dead: it has no outputs, and `Primitive.raises` keeps it
  in every pass that drops unused ops, and out of every rewrite that would
  run it where the plain function does not run it (a hoist out of a loop that
  may run zero times);
- batching keeps the order of failures: a loop's checks batched over its
  iterations become one check over arrays whose leading axis is the
  iteration, so row-major order is iteration order; nested loops batch
  inside out, so it is also the order of the loop nest;
- a check has no derivative (it produces nothing) and is not a random draw:
  autodiff may recompute the ops around it.

Other stages build on this one mechanism: the tracer (tracer/checks.py) emits
it for `raise` and `assert` under traced conditions; any later feature that
must fail at run time on data (a bound, a domain) emits `check` through
`tracer.checks.emit_check(pred, exc)` and gets the same treatment everywhere.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from looptrace.ir.core import SourceLoc

from looptrace.ir.primitive import NOT_DIFFERENTIABLE, Primitive, ShapeMismatch, register

from .shape_arith import fmt


@dataclass(frozen=True, eq=False)
class Failure:
    """The exception one check raises, and where the user wrote it."""

    exc: BaseException
    loc: SourceLoc
    message: str | None = None  # "... {value} ...": made at run time from a value input
    slot: int | None = None  # the user's exception takes the value input as its argument `slot`
    as_bool: bool = False  # ... as a Python bool (else a Python int)
    replay: bool = False  # the exception is the plain function's own: its caller runs it (errors.ReplayNeeded)

    @property
    def valued(self) -> bool:
        """Does this failure take a value input?"""
        return self.message is not None or self.slot is not None

    def make(self, value=None) -> BaseException:
        """A fresh copy of the user's exception, noting the line it comes from."""
        if self.replay:
            from looptrace.errors import ReplayNeeded

            e = ReplayNeeded("the plain function raises here an exception built from run-time values", self.loc)
            e.looptrace_located = True
            return e
        if self.message is not None:  # looptrace's own check (an index): the line is in the message
            from looptrace.errors import format_message

            e = type(self.exc)(format_message(self.message.format(value=value), self.loc))
            e.looptrace_located = True
            return e
        try:
            e = copy.copy(self.exc)
        except Exception:  # an exception class whose copy fails: raise the original
            e = self.exc
        if self.slot is not None:  # `raise ValueError("bad index", i)`: i as the run gave it
            args = list(self.exc.args)
            args[self.slot] = bool(value) if self.as_bool else int(value)
            e.args = tuple(args)
        e.__notes__ = list(getattr(self.exc, "__notes__", ()))
        from looptrace.errors import LooptraceError

        if self.loc.line > 0 and not (isinstance(e, LooptraceError) and e.loc is not None):  # (its message names it)
            where = f'  File "{self.loc.file}", line {self.loc.line}'
            e.add_note(f"raised by looptrace's compiled code at\n{where}\n    {self.loc.text.strip()}")
        e.looptrace_located = True  # the interpreter passes it on unchanged
        return e

    def __deepcopy__(self, memo) -> "Failure":
        return self  # immutable: loop copies share it

    def __repr__(self) -> str:
        return f"{type(self.exc).__name__}@{self.loc}"


def split_inputs(inputs, failures) -> tuple[list, list]:
    """(predicates, value per failure or None) of a check's inputs."""
    k = len(failures)
    preds, rest = list(inputs[:k]), iter(inputs[k:])
    return preds, [next(rest) if f.valued else None for f in failures]


def join_inputs(preds, values, failures) -> tuple:
    return (*preds, *(v for v, f in zip(values, failures) if f.valued))


def _check_abstract(*inputs, failures):
    n_values = sum(f.valued for f in failures)
    if len(inputs) != len(failures) + n_values or not failures:
        raise ShapeMismatch("check needs one predicate per failure and one value per valued failure")
    preds, values = split_inputs(inputs, failures)
    shape = tuple(preds[0].shape)
    for p in preds:
        if p.dtype != np.dtype(np.bool_) or tuple(p.shape) != shape:
            raise ShapeMismatch(f"check predicates must be bool arrays of one shape, got "
                                f"{p.dtype}{fmt(p.shape)} and bool{fmt(shape)}")
    for v in values:
        if v is not None and (v.dtype.kind not in "iu" or tuple(v.shape) != shape):
            raise ShapeMismatch(f"check values must be integer arrays of shape {fmt(shape)}")
    return []


def first_failure(preds: list, failures: tuple) -> tuple[int, int] | None:
    """(failure index, flat element) of the first true element (row-major,
    then predicate order), or None."""
    flat = np.stack([np.asarray(p, dtype=bool).reshape(-1) for p in preds], axis=1).reshape(-1)
    if not flat.any():
        return None
    pos = int(np.argmax(flat))
    return pos % len(preds), pos // len(preds)


def _check_impl(*inputs, failures):
    preds, values = split_inputs(inputs, failures)
    hit = first_failure(preds, failures)
    if hit is not None:
        j, elem = hit
        value = None if values[j] is None else int(np.asarray(values[j]).reshape(-1)[elem])
        raise failures[j].make(value)
    return ()


check = register(Primitive("check", "check", _check_abstract, _check_impl, multiple_results=True,
                           raises=True, may_raise=True, vjp=NOT_DIFFERENTIABLE,
                           doc="raise failures[j] for the first true element of p_j (row-major)"))


# --- batching rules ---
def _check_batch(b, args, dims, *, failures):
    """One check over every batch member: the batch axis in front, so the
    first failing member (in order) is the one that raises."""
    n = b.axis_size if all(d is None for d in dims) else next(
        a.shape[0] for a, d in zip(args, dims) if d is not None)
    batched = [a if d is not None else b.op("broadcast_to", a, shape=(n, *a.shape)) for a, d in zip(args, dims)]
    b.op("check", *batched, failures=failures)
    return [], []


check.batch = _check_batch
