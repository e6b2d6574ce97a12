"""Running one corpus kernel through looptrace and judging the outcome.

Outcomes:
  ok      the jitted call returns the plain function's values (same
          structure, dtypes and shapes; floats to the kernel's rtol) and
          leaves the arguments as the plain call leaves them;
  error   a clear error: a looptrace error (it names the user's line) or a
          TypeError/ValueError naming an argument;
  crash   any other exception (an unclear error: a bug to fix);
  wrong   a result that differs from the plain function's, or that is (or
          shares memory with) an argument array where the plain
          function's is not, or the reverse (`return u` after swapping
          buffers: the caller's array, not a copy);
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


def _arrays(x) -> list:
    """The NumPy arrays in a result or argument list (tuples, lists, dicts), in order."""
    if isinstance(x, dict):
        return [a for v in x.values() for a in _arrays(v)]
    if isinstance(x, (tuple, list)):
        return [a for v in x for a in _arrays(v)]
    return [x] if isinstance(x, np.ndarray) else []


def sharing(result, args) -> list[tuple]:
    """For each array of the result, what it is to each argument array: "is"
    (the caller's array itself), "view" (shares memory with it) or "-". A
    jitted call must give the plain function's (API.md: the same visible
    effects; a later write by the caller shows through a returned argument)."""
    targets = _arrays(list(args))
    return [tuple("is" if r is a else "view" if _shares(r, a) else "-" for a in targets) for r in _arrays(result)]


def _shares(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10**6))
    except np.exceptions.TooHardError:
        return True


def _said(relation: tuple) -> str:
    parts = [f"{'array argument' if r == 'is' else 'a view of array argument'} {k}"
             for k, r in enumerate(relation) if r != "-"]
    return " and ".join(parts) if parts else "no argument's memory"


def first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


def is_clear(e: BaseException) -> bool:
    """A looptrace error that says what the user wrote, or a TypeError/ValueError
    naming an argument or arguments ("arguments `out` and `x` share memory"). An InternalError is a looptrace bug: a crash."""
    if isinstance(e, looptrace.InternalError):
        return False
    if isinstance(e, looptrace.LooptraceError):
        return True
    return isinstance(e, (TypeError, ValueError)) and ("argument `" in str(e) or "arguments `" in str(e))


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
    want, have = sharing(expected, plain_args), sharing(got, jit_args)
    if want != have:
        k = next(i for i, (w, h) in enumerate(zip(want, have)) if w != h)
        return Outcome("wrong", f"result {k} is {_said(have[k])} (the plain function's: {_said(want[k])})"), jitted
    out = Outcome("ok", first_s=first_s)
    if explain:
        out.loops = [l.kind for l in looptrace.explain(jitted, *copy.deepcopy(args)).loops]
    return out, jitted


def run_one(kernel: Kernel, backend: str, mode: str = "test", seed: int = 0) -> Outcome:
    args = kernel.make(np.random.default_rng(seed), mode)
    return judge(kernel, args, backend)[0]
