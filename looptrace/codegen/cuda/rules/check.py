"""cuda rule of `check` (ops/check.py): a data-dependent raise or assert.

A check cannot raise on the device, so it reports into the call's error
flag (`rt.err`, int64[4]: code + 1, value, size, pending) and the runner
raises after the call (runner.py, host.CallRuntime.call_error): the user's
exception class and message with the note naming the line, exactly as
Failure.make gives on the cpu and interpret targets.

Which failure is reported must be the one the cpu target raises: the first
true element in row-major order (ties within an element: the lowest
failure), of the first check in program order. Two phases per check:
  1. one thread per element: for each true predicate j, the key e * k + j
     (e the flat element, k the number of failures) goes into err[3] by
     `cuda.atomic.max(err, 3, BIG - key)` (0 means none, so the zeroed flag
     needs no initialisation): the smallest key wins whatever the threads'
     order;
  2. one thread: if err[3] holds a key, it is cleared and the failure's
     code is set by compare-and-swap on err[0] (as `report` does for a bad
     index), with the failure's value (an index's) in err[1].
Earlier kernels (or phases of a persistent kernel, separated by barriers)
have finished when phase 1 runs, so a failure that happened earlier in
program order already holds err[0] and the CAS leaves it: the first wins.

After a failure the call goes on (a kernel cannot stop the others), but
nothing reaches the caller: results are dropped and arguments are written
back only after a successful call (api.py `_write_back`, transactional as
on the cpu). Loops whose end could depend on what the check guards stop at
the first failure: a persistent `while` tests the flag after every step
(team_loops.py), a host-driven `while` too (rules/regions.py), so a check
that guards an iteration limit cannot leave the GPU spinning.
"""
from __future__ import annotations

from looptrace.codegen.target import StatementRule
from looptrace.ops.check import split_inputs

from ..device import ERR_FLAG
from ..emitter import CudaEmitter
from ..target import TARGET

BIG = 1 << 62  # keys are below it: elements * failures < 2**62


def _check_lower(em: CudaEmitter, op) -> None:
    failures = op.attrs["failures"]
    preds, values = split_inputs(op.inputs, failures)
    k = len(failures)
    codes = [em.check_code(f) for f in failures]  # consecutive: codes[j] == codes[0] + j
    if getattr(em.team, "alone", False):  # a thread running its own iteration (iterations.py)
        _check_alone(em, preds, values, codes)
        return
    shape = tuple(preds[0].shape)
    with em.parallel(em.count(shape) if shape else "1") as (code, e):
        idx = em.index_of(code, e, shape)
        err = code.err()
        code.touch(ERR_FLAG, write=True)
        for j, p in enumerate(preds):
            code.line(f"if {_read(em, code, p, idx)}:")
            code.line(f"    cuda.atomic.max({err}, 3, np.int64({BIG}) - (np.int64({e}) * {k} + {j}))")
    with em.parallel("1") as (code, _):
        err = code.err()
        code.touch(ERR_FLAG, write=True)
        s, key, j, elem, val = (em.fresh(n) for n in ("s", "key", "j", "el", "val"))
        code.line(f"{s} = {err}[3]")
        code.line(f"if {s} > 0:")
        with code.indented():
            code.line(f"{err}[3] = 0")
            code.line(f"{key} = np.int64({BIG}) - {s}")
            code.line(f"{j} = {key} % {k}")
            code.line(f"{elem} = {key} // {k}")
            code.line(f"{val} = np.int64(0)")
            for jj, v in enumerate(values):
                if v is None:
                    continue
                code.line(f"if {j} == {jj}:")
                with code.indented():
                    at = em.index_of(code, elem, shape)
                    code.line(f"{val} = np.int64({_read(em, code, v, at)})")
            code.line(f"if cuda.atomic.compare_and_swap({err}, 0, {j} + {codes[0] + 1}) == 0:")
            code.line(f"    {err}[1] = {val}")


def _check_alone(em: CudaEmitter, preds, values, codes) -> None:
    """A scalar check in a thread that runs its own iteration (iterations.py): no
    other thread shares its elements, so it reports at once into the thread's own
    record (`report`: the iteration's first failure), which the kernel merges when the
    iteration ends (the lowest failing iteration wins, iterations.py)."""
    code = em.team.code
    err = code.err()
    code.touch(ERR_FLAG, write=True)
    for j, (p, v) in enumerate(zip(preds, values)):
        val = f"np.int64({em.device_scalar(code, v)})" if v is not None else "np.int64(0)"
        code.line(f"{'if' if j == 0 else 'elif'} {em.device_scalar(code, p)}:")
        code.line(f"    report({err}, np.int64({codes[j]}), {val}, np.int64(0))")


def _read(em: CudaEmitter, code, v, idx: list[str]) -> str:
    """v at idx: stored, or computed here where the plan computes it in the check's loop."""
    from ..fuse import Fuser

    return Fuser(em, code).value_at(v, idx)


TARGET.register("check", StatementRule(_check_lower))
