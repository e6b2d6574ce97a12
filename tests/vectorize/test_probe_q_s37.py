"""Probe Q: programs whose trace the vectorizer and the interpreter met in a
state they did not expect.

- A `return` in an `elif` beside a branch that always raises (`c % 100003`
  of an int8 `c`: NumPy's OverflowError): the returned tuple's values, made
  in the elif's own branch, were passed out of it unmerged (tracer/control.py
  `_drop_raising` gave the raising branch placeholders for bare values only,
  not for those inside a tuple). The vectorizer then blamed itself ("skipped
  the loop: result %N is not defined") and restored the same invalid loop,
  and the interpreter failed halfway with a KeyError ('value %N read before
  it is defined'); cpu ran it by luck. Now an invalid program reaching the
  vectorizer, or the interpreter, is a VerifyError naming what is undefined.
- A carried type tag (`mx = -10.0`, a Python float, later `x[j]`) whose
  update's branches read a value an inner loop made from the tag: the tag's
  reduction copy (tracer/kinds.py `as_reduction`) re-emitted the inner loop
  as a plain op, and ops/control.py's region rule raised NotImplementedError.
"""
import copy

import numpy as np
import pytest

import looptrace
from looptrace import pipeline
from looptrace.codegen import get_target
from looptrace.ir.verify import VerifyError


def _outcome(fn, args):
    try:
        return "ok", fn(*copy.deepcopy(args))
    except Exception as e:  # the plain function's own error, compared by type
        return "raises", type(e)


def _same(fn, *args, backends=("interpret", "cpu")):
    want = _outcome(fn, args)
    for backend in backends:
        got = _outcome(looptrace.jit(fn, backend=backend), args)
        assert got[0] == want[0], (backend, got, want)
        if want[0] == "raises":
            assert got[1] is want[1], backend
            continue
        w, g = want[1], got[1]
        assert type(g) is type(w), backend
        if isinstance(w, tuple):
            assert len(g) == len(w)
            for a, b in zip(g, w):
                assert type(a) is type(b), backend
                np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=backend)


# --- a return beside a branch that always raises ----------------------------------------------
def return_in_elif(x, k):
    c = 0
    for i in range(x.shape[0]):
        if c % 2 == 1:
            c += k[i]
            c = c % 100003  # an int8 c: OverflowError, so this branch never reaches its end
        elif x[i] > 5.0:
            return (x[0], np.zeros(2))


def return_in_elif_or_after(x, k):
    c = 1
    for i in range(x.shape[0]):
        if c % 2 == 1 and x[i] < 0:
            c += k[i]
            c = c % 100003
        elif x[i] > 5.0:
            return (x[i], np.ones(2) * x[i])
    return (x[1], np.zeros(2))


@pytest.mark.parametrize("fn", [return_in_elif, return_in_elif_or_after])
def test_return_in_elif_beside_a_raising_branch(fn, rng):
    k = rng.integers(-5, 6, 6).astype(np.int8)
    for where in (None, 0, 3):  # no element past 5 (None returned / the end), the first, a later one
        x = rng.uniform(0.5, 4.0, 6)
        if where is not None:
            x[where] = rng.uniform(6.0, 9.0)
        _same(fn, x, k)
    x = rng.uniform(0.5, 4.0, 6)
    x[2] = -1.0  # return_in_elif_or_after: the raising branch runs (OverflowError, as the plain function)
    _same(fn, x, k)


def _summed(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            s = s + x[i]
    return s


def _broken(rng):
    """A traced program whose loop body yields a value of its `if`'s then
    branch: defined only where that branch ran (the shape of the trace above)."""
    x = rng.standard_normal(5)
    program = looptrace.jit(_summed, backend="interpret").trace([x])
    loop = next(o for o in program.body.ops if o.prim.name == "for_loop")
    branch = next(o for o in loop.blocks[0].ops if o.prim.name == "cond")
    inner = next(o for o in branch.blocks[0].ops if o.outputs)
    loop.blocks[0].results[1] = inner.outputs[0]
    return program, x


def test_interpreter_refuses_a_value_read_outside_its_block(rng):
    program, x = _broken(rng)
    with pytest.raises(VerifyError, match="is not defined"):  # a KeyError while running before
        get_target("interpret").compile(program)([x])


def test_vectorizer_reports_an_invalid_trace_not_a_skipped_loop(rng, monkeypatch):
    monkeypatch.delenv("LOOPTRACE_VECTORIZE_STRICT")  # the warning and fallback path
    program, _ = _broken(rng)
    vectorize = next(p for p in pipeline.PASSES if p.name == "vectorize")
    with pytest.raises(VerifyError, match="as traced, before the vectorizer"):
        vectorize.run(program)


# --- a type tag's reduction past an inner loop ---------------------------------------------------
def tag_past_inner_loop(x, y):
    n = x.shape[0]
    mx = -10.0  # a Python float until x[j] (np.float64) is taken
    s = 0.0
    for j in range(n):
        for k in range(n):
            s += x[k] * mx
        if x[j] < y[j]:
            s += 1.0
        elif x[j] > mx:
            mx = x[j]
    return s, mx


def tag_past_inner_while(x, y):
    n = x.shape[0]
    mx = -10.0
    s = 0.0
    t1 = 0
    while t1 < n:
        j = t1
        t1 += 1
        t2 = 0
        while t2 < n and s < 50.0:
            s += min(x[t2] + mx, 5.0)
            t2 += 1
        if x[j] < y[j]:
            s += 0.0
        else:
            if x[j] > mx:
                mx = x[j]
    return s, mx


@pytest.mark.parametrize("fn", [tag_past_inner_loop, tag_past_inner_while])
def test_tag_reduction_past_an_inner_loop(fn, rng):
    # cpu at n = 7 (and 5 below) only: a kernel of its own at each length was 2 s of compiles; the tag's
    # rewrite is the tracer's, the same on every backend, checked on the interpreter at each length
    for n in (1, 4, 7):
        _same(fn, rng.standard_normal(n), rng.standard_normal(n),
              backends=("interpret", "cpu") if n == 7 else ("interpret",))
    x = rng.uniform(1.0, 2.0, 5)
    _same(fn, x, x + 1.0)  # mx never taken: a Python float at the end
