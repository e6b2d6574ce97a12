"""Running one corpus kernel through looptrace and judging the outcome.

Outcomes:
  ok      the jitted call returns the plain function's values (same
          structure, dtypes and shapes; floats to the kernel's rtol) and
          leaves the arguments as the plain call leaves them;
  error   a clear error: a looptrace error (it names the user's line) or a
          TypeError/ValueError naming an argument;
  crash   any other exception (an unclear error: a bug to fix);
  wrong   a result that differs from the plain function's;
  timeout the run did not finish in time (judged by bench/corpus.py).
Both calls get deep copies of the same arguments (generators included, so
both draw the same numbers).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np

import looptrace

from . import Kernel


@dataclass
class Outcome:
    kind: str  # ok | error | crash | wrong
    detail: str = ""
    loops: list = field(default_factory=list)  # explain kinds, source order
    first_s: float | None = None  # the jitted call alone (its first: trace, passes, compile, one run)


def same(got, expected, rtol: float, atol: float | None = None) -> bool:
    """Structure, dtypes, shapes and values (NaNs equal; atol rtol/1000 unless given)."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and \
            all(same(got[k], expected[k], rtol, atol) for k in expected)
    if isinstance(expected, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(expected) and \
            all(same(g, e, rtol, atol) for g, e in zip(got, expected))
    g, e = np.asarray(got), np.asarray(expected)
    if g.shape != e.shape or g.dtype != e.dtype:
        return False
    if e.dtype.kind in "fc":
        return bool(np.allclose(g, e, rtol=rtol, atol=rtol * 1e-3 if atol is None else atol, equal_nan=True))
    return bool(np.array_equal(g, e))


def first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


def is_clear(e: BaseException) -> bool:
    """A looptrace error that says what the user wrote, or a TypeError/ValueError
    naming an argument. An InternalError is a looptrace bug: a crash."""
    if isinstance(e, looptrace.InternalError):
        return False
    if isinstance(e, looptrace.LooptraceError):
        return True
    return isinstance(e, (TypeError, ValueError)) and "argument `" in str(e)


def judge(kernel: Kernel, args: tuple, backend: str, explain: bool = True) -> tuple[Outcome, object]:
    """Run plain and jitted on copies of `args`; the outcome and the jitted function."""
    plain_args, jit_args = copy.deepcopy(args), copy.deepcopy(args)
    with np.errstate(all="ignore"):
        expected = kernel.fn(*plain_args)
    jitted = looptrace.jit(kernel.fn, backend=backend)
    start = time.perf_counter()
    try:
        with np.errstate(all="ignore"):
            got = jitted(*jit_args)
    except Exception as e:  # noqa: BLE001 - the point is to classify it
        return Outcome("error" if is_clear(e) else "crash", first_line(e)), jitted
    first_s = time.perf_counter() - start
    if not same(got, expected, kernel.rtol, kernel.atol):
        return Outcome("wrong", "the result differs from the plain function's"), jitted
    for p, j in zip(plain_args, jit_args):
        if isinstance(p, np.ndarray) and not same(j, p, kernel.rtol, kernel.atol):
            return Outcome("wrong", "an argument array differs after the call"), jitted
    out = Outcome("ok", first_s=first_s)
    if explain:
        out.loops = [l.kind for l in looptrace.explain(jitted, *copy.deepcopy(args)).loops]
    return out, jitted


def run_one(kernel: Kernel, backend: str, mode: str = "test", seed: int = 0) -> Outcome:
    args = kernel.make(np.random.default_rng(seed), mode)
    return judge(kernel, args, backend)[0]
