"""The gradient checker: reverse-mode results against central finite
differences in float64. `check_rule` tests one primitive's VJP rule alone;
`numerical_grad` differentiates any function of arrays numerically.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from looptrace.codegen.reference import run_program
from looptrace.ir.core import Block, Program, Value
from looptrace.ir.primitive import PRIMITIVES
from looptrace.ops.vjp_helpers import Builder, dense, is_float


def numerical_grad(f: Callable[..., float], args: list, i: int, eps: float = 1e-6) -> np.ndarray:
    """d f(*args) / d args[i] by central differences."""
    x = np.array(args[i], dtype=np.float64, copy=True)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        hi = f(*args[:i], _like(plus, args[i]), *args[i + 1:])
        lo = f(*args[:i], _like(minus, args[i]), *args[i + 1:])
        out[idx] = (hi - lo) / (2 * eps)
    return out


def _like(x: np.ndarray, template: Any) -> Any:
    return float(x) if isinstance(template, float) else x


def assert_close(got: np.ndarray, want: np.ndarray, rtol: float, what: str) -> None:
    scale = max(1.0, float(np.max(np.abs(want))) if np.size(want) else 1.0)
    err = float(np.max(np.abs(np.asarray(got) - want))) if np.size(want) else 0.0
    if not err <= rtol * scale:
        raise AssertionError(f"{what}: gradient differs from finite differences by {err:.3g} "
                             f"(scale {scale:.3g})\nreverse mode:\n{got}\nfinite differences:\n{want}")


def rule_gradients(name: str, args: list, attrs: dict, g: np.ndarray) -> list:
    """Cotangents of every float input of primitive `name` at `args` given
    the output cotangent `g`, computed by its VJP rule on the interpreter."""
    prim = PRIMITIVES[name]
    ins = [Value(np.asarray(a).dtype, np.shape(a)) for a in args]
    b = Builder()
    op_out = b.emit(name, *ins, **attrs)
    op = b.ops[-1]
    gv = Value(op_out.dtype, op_out.shape)
    wanted = [is_float(v) for v in ins]
    cts = prim.vjp(b, op, gv, wanted)
    results = [dense(b, ct) if ct is not None else b.zeros_like(v) for v, ct, w in zip(ins, cts, wanted) if w]
    program = Program(Block(ins + [gv], b.ops, results))
    return run_program(program, [np.asarray(a) for a in args] + [g])


def check_rule(name: str, args: list, attrs: dict, rng: np.random.Generator, rtol: float = 1e-5,
               align: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> None:
    """Raise AssertionError when `name`'s VJP rule disagrees with finite differences.
    `align(out, base)` maps a perturbed output to the unperturbed one's
    convention (the signs of singular vectors, which LAPACK may flip between
    two nearby inputs: a jump the finite differences would see, not the rule)."""
    impl = PRIMITIVES[name].impl
    out = np.asarray(impl(*args, **attrs))
    same = align or (lambda o, base: o)
    g = rng.standard_normal(out.shape)
    got = rule_gradients(name, args, attrs, g)
    floats = [i for i, a in enumerate(args) if np.asarray(a).dtype.kind == "f"]

    def loss(*xs):
        return float(np.sum(g * same(np.asarray(impl(*xs, **attrs)), out)))

    for k, i in zip(range(len(got)), floats):
        want = numerical_grad(loss, list(args), i)
        assert_close(got[k], want, rtol, f"{name} input {i}")

