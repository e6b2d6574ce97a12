"""The IR verifier: SSA (each value defined once, used only where defined),
types and shapes (each op's outputs match its primitive's rule; region ops'
blocks match their inputs and outputs). Runs after every pass in tests; an op that
came through a pass unchanged is not type-checked again (_checked_before)."""
from __future__ import annotations

from looptrace.errors import InternalError

from .core import Block, Dim, Op, Program, Value
from .printer import print_op


class VerifyError(InternalError):
    pass


def verify(p: Program) -> None:
    _Verifier().block(p.body, set())


def verify_scoping(p: Program) -> None:
    """Only that every value is defined before it is used (cheap: the vectorizer
    checks each loop's rewrite with it, and keeps the loop as traced if not)."""
    def block(b: Block, outer: set[int]) -> None:
        scope = set(outer)
        scope.update(v.id for v in b.args)
        for op in b.ops:
            for v in op.inputs:
                if not v.is_const and v.id not in scope:
                    raise VerifyError(f"IR verification failed: value %{v.id} is used where it is not defined\n"
                                      + "\n".join(print_op(op)))
            for sub in op.blocks:
                block(sub, scope)
            scope.update(v.id for v in op.outputs)
        for v in b.results:
            if not v.is_const and v.id not in scope:
                raise VerifyError(f"IR verification failed: result %{v.id} is not defined")

    block(p.body, set())


def _same_type(a: Value, b: Value) -> bool:
    return a.dtype == b.dtype and len(a.shape) == len(b.shape) and all(
        x is y or x == y for x, y in zip(a.shape, b.shape))


def _empty_for(r: Value, o: Value) -> bool:
    """A branch's empty array for an output whose length only the other branch
    knows (a gradient's residual: the tape of a while loop that ran there)."""
    return r.dtype == o.dtype and len(r.shape) == len(o.shape) and any(x == 0 for x in r.shape) and all(
        x is y or x == y or (isinstance(y, Dim) and x == 0) for x, y in zip(r.shape, o.shape))


# Ops whose types checked out, as they were then (the verifier runs after every pass and step,
# and most ops come through a pass unchanged): id(op) -> (op, its inputs, outputs and attrs
# objects, and its values' types). An op whose inputs, outputs and attrs are the same objects
# with the same types since is not checked again: its shape rule would say the same. The
# entries hold the ops, so an id is not reused while cached; the table is emptied when full.
_CHECKED: dict[int, tuple] = {}
_CHECKED_MAX = 50_000  # (they hold their constants: bounded, so a long test run does not keep them all)


def _types(values: tuple[Value, ...]) -> tuple:
    return tuple((v.dtype, v.shape) for v in values)


def _checked_before(op: Op) -> bool:
    seen = _CHECKED.get(id(op))
    return (seen is not None and seen[0] is op and seen[1] is op.inputs and seen[2] is op.outputs
            and seen[3] is op.attrs and _same_types(seen[4], op.inputs) and _same_types(seen[5], op.outputs))


def _same_types(types: tuple, values: tuple[Value, ...]) -> bool:
    """Each value still has the dtype and shape objects it had (a shape is a tuple)."""
    for (dtype, shape), v in zip(types, values):
        if dtype is not v.dtype or shape is not v.shape:
            return False
    return True


def _remember(op: Op) -> None:
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    _CHECKED[id(op)] = (op, op.inputs, op.outputs, op.attrs, _types(op.inputs), _types(op.outputs))


class _Verifier:
    def __init__(self):
        self.defined_ever: set[int] = set()

    def define(self, v: Value, scope: set[int], op: Op | None) -> None:
        if v.id in self.defined_ever:
            self.fail(f"value %{v.id} is defined twice", op)
        self.defined_ever.add(v.id)
        scope.add(v.id)

    def fail(self, msg: str, op: Op | None) -> None:
        where = "\n".join(print_op(op)) if op is not None else ""
        raise VerifyError(f"IR verification failed: {msg}\n{where}")

    def use(self, v: Value, scope: set[int], op: Op | None) -> None:
        if not v.is_const and v.id not in scope:
            self.fail(f"value %{v.id} is used where it is not defined", op)

    def block(self, b: Block, outer: set[int]) -> None:
        scope = set(outer)
        defined_ever = self.defined_ever
        for v in b.args:
            self.define(v, scope, None)
        for op in b.ops:
            for v in op.inputs:
                if v.const is None and v.id not in scope:
                    self.fail(f"value %{v.id} is used where it is not defined", op)
            if op.prim.region:
                self.region(op, scope)
            elif not _checked_before(op):
                self.check_types(op)
                _remember(op)
            for v in op.outputs:  # (`define`, inline: the verifier runs after every pass in tests)
                if v.id in defined_ever:
                    self.fail(f"value %{v.id} is defined twice", op)
                defined_ever.add(v.id)
                scope.add(v.id)
        for v in b.results:
            self.use(v, scope, None)

    def check_types(self, op: Op) -> None:
        try:
            avals = op.prim.abstract(*op.inputs, **op.attrs)
        except Exception as e:  # noqa: BLE001
            self.fail(f"shape rule rejects the op: {e}", op)
        if len(avals) != len(op.outputs):
            self.fail("wrong number of outputs", op)
        for (dtype, shape), v in zip(avals, op.outputs):
            if dtype != v.dtype or len(shape) != len(v.shape) or any(
                    not (a is b or a == b or not isinstance(a, int)) for a, b in zip(shape, v.shape)):
                self.fail(f"output %{v.id} has type {v.dtype}{v.shape}, rule says {dtype}{tuple(shape)}", op)

    def region(self, op: Op, scope: set[int]) -> None:
        name = op.prim.name
        for b in op.blocks:
            self.block(b, scope)
        if name == "for_loop":
            (body,) = op.blocks
            n_carry = len(body.args) - 1
            inits = op.inputs[3:]
            if len(inits) != n_carry:
                self.fail("for_loop: inits and carries differ in number", op)
            for a, i, r, o in zip(body.args[1:], inits, body.results, op.outputs):
                if not (_same_type(a, i) and _same_type(a, r) and _same_type(a, o)):
                    self.fail(f"for_loop: carry %{a.id} changes type", op)
            for y, o in zip(body.results[n_carry:], op.outputs[n_carry:]):
                if y.dtype != o.dtype or tuple(o.shape[1:]) != tuple(y.shape):
                    self.fail("for_loop: stacked output type mismatch", op)
        elif name == "while_loop":
            cond, body = op.blocks
            if len(cond.args) != len(op.inputs) or len(body.args) != len(op.inputs):
                self.fail("while_loop: block arguments differ from inits", op)
            if len(cond.results) != 1 or cond.results[0].shape != () or cond.results[0].dtype.kind != "b":
                self.fail("while_loop: condition must yield one boolean scalar", op)
            for a, c, i, r, o in zip(body.args, cond.args, op.inputs, body.results, op.outputs):
                if not (_same_type(a, i) and _same_type(a, r) and _same_type(a, o) and _same_type(a, c)):
                    self.fail(f"while_loop: carry %{a.id} changes type", op)
        elif name == "cond":
            for b in op.blocks:
                if len(b.results) != len(op.outputs) or not all(
                        _same_type(r, o) or _empty_for(r, o) for r, o in zip(b.results, op.outputs)):
                    self.fail("cond: branch results differ from outputs", op)
