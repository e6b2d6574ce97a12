"""Region lowering corner cases: a for_loop that stacks its own carry argument
(the value at the start of each iteration) while it also updates that carry,
by a new array or in place. The CPU kernel must stack the entry value, as the
interpreter does."""

import numpy as np
import pytest

from looptrace.codegen import cpu
from looptrace.codegen.target import CompileOptions
from looptrace.codegen import reference as interpret
from looptrace.ir.core import Block, Op, Program, SourceLoc, Value, literal
from looptrace.ops import PRIMITIVES

LOC = SourceLoc("test_cpu_regions.py", 1, "")


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def _op(ops, name, *inputs, **attrs):
    prim = PRIMITIVES[name]
    outs = tuple(Value(d, tuple(s)) for d, s in prim.abstract(*inputs, **attrs))
    ops.append(Op(prim, tuple(inputs), outs, attrs, LOC))
    return outs[0]


def _stacking_program(update: str) -> Program:
    x0 = Value(np.dtype("float64"), (2,))
    i, c = Value(np.dtype("int64"), ()), Value(np.dtype("float64"), (2,))
    ops: list[Op] = []
    if update == "new":
        new = _op(ops, "multiply", c, literal(2.0))
    else:  # a functional update the backend may perform in place
        row = _op(ops, "reshape", _op(ops, "convert", i, dtype=np.dtype("float64")), shape=(1,))
        new = _op(ops, "dynamic_update_slice", c, row, literal(np.int64(0)))
    body = Block([i, c], ops, [new, c])
    outs = (Value(c.dtype, (2,)), Value(c.dtype, (3, 2)))
    start, stop, step = (literal(np.int64(v)) for v in (0, 3, 1))
    loop = Op(PRIMITIVES["for_loop"], (start, stop, step, x0), outs, {}, LOC, (body,))
    return Program(Block([x0], [loop], list(outs)), "stack_carry")


@pytest.mark.parametrize("update", ["new", "in_place"])
def test_stacked_carry_argument_is_the_entry_value(update):
    program = _stacking_program(update)
    args = [np.array([1.0, 3.0])]
    want = interpret.run_program(program, [a.copy() for a in args])
    got = cpu.compile_program(program, CompileOptions(parallel=False, cache=False, key=update))([a.copy() for a in args])
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)


def strided_reads(x):
    y = np.zeros(x.shape[0] // 2)
    for t in range(1, x.shape[0] // 2):
        y[t] = x[2 * t - 1] * x[t - 1] + x[2 * t + 1]
    return y


def reads_past_the_end(x):
    y = np.zeros(x.shape[0])
    for t in range(x.shape[0]):
        y[t] = x[t + 1]
    return y


def test_indices_affine_in_a_static_loop_need_no_bound_check(monkeypatch, rng):
    import looptrace

    monkeypatch.setenv("LOOPTRACE_NO_VECTORIZE", "1")  # keep the loop a loop
    x = rng.standard_normal(11)
    f = looptrace.jit(strided_reads, backend="cpu", cache=False)
    np.testing.assert_allclose(f(x), strided_reads(x), rtol=1e-12)
    assert "check_start" not in f.explain(x).kernel_source  # 2t-1, t-1, 2t+1 stay in [0, 10]
    g = looptrace.jit(reads_past_the_end, backend="cpu", cache=False)
    assert "check_start" in g.explain(x).kernel_source  # t+1 reaches 11
    with pytest.raises(IndexError, match="index 11 is out of bounds for axis 0 with size 11"):
        g(x)
