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


def sweep(s, nxt, prv):
    s = s.copy()
    n = s.shape[0]
    for i in range(n):
        s[i] = 0.5 * (s[nxt[i]] - s[prv[i]]) + np.tanh(s[i])
    return s


def periodic_sweep(s):
    n = s.shape[0]
    return sweep(s, (np.arange(n) + 1) % n, (np.arange(n) - 1) % n)


def test_indices_read_from_a_table_of_known_range_need_no_bound_check(rng):
    """A neighbour table (i + 1) % n computed in the kernel holds 0..n-1
    (ir/ranges.py `nested_ranges`): the reads at its elements are not
    checked. The same tables passed as arguments can hold anything: checked,
    raising as the plain function does."""
    import looptrace

    x = rng.standard_normal(13)
    f = looptrace.jit(periodic_sweep, backend="cpu", cache=False)
    np.testing.assert_allclose(f(x), periodic_sweep(x), rtol=1e-12)
    assert "check_start" not in f.explain(x).kernel_source
    g = looptrace.jit(sweep, backend="cpu", cache=False)
    nxt, prv = (np.arange(13) + 1) % 13, (np.arange(13) - 1) % 13
    np.testing.assert_allclose(g(x, nxt, prv), sweep(x, nxt, prv), rtol=1e-12)
    assert "check_start" in g.explain(x, nxt, prv).kernel_source
    nxt[5] = 13
    with pytest.raises(IndexError, match="index 13 is out of bounds for axis 0 with size 13"):
        g(x, nxt, prv)


def branch_then_after(x, idx):
    s = 0.0
    for i in range(x.shape[0]):
        g = idx[i]
        if x[i] > 0.0:
            s += x[g]  # checked in the branch only
        s += 2.0 * x[g]  # checked again: the branch may not have run
    return s


def test_a_start_checked_before_in_scope_is_not_checked_again(monkeypatch, rng):
    import looptrace
    from bench.corpus.grouping import group_max

    monkeypatch.setenv("LOOPTRACE_NO_VECTORIZE", "1")
    values, labels = rng.standard_normal(50), rng.integers(-8, 8, 50)
    out = np.full(8, -np.inf)
    f = looptrace.jit(group_max, backend="cpu", cache=False)
    got, want = out.copy(), out.copy()
    np.testing.assert_array_equal(f(values, labels, got), group_max(values, labels, want))
    np.testing.assert_array_equal(got, want)
    assert f.explain(values, labels, out).kernel_source.count("check_start(") == 1
    labels[7] = 8
    with pytest.raises(IndexError, match="index 8 is out of bounds for axis 0 with size 8"):
        f(values, labels, out.copy())
    g = looptrace.jit(branch_then_after, backend="cpu", cache=False)
    x, idx = rng.standard_normal(20), rng.integers(-20, 20, 20)
    np.testing.assert_allclose(g(x, idx), branch_then_after(x, idx), rtol=1e-12)
    assert g.explain(x, idx).kernel_source.count("check_start(") == 2
    x[4], idx[4] = -1.0, 20  # the branch does not run: the read after it raises
    with pytest.raises(IndexError, match="index 20 is out of bounds for axis 0 with size 20"):
        g(x, idx)
