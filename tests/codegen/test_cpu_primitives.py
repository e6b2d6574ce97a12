"""Every primitive's CPU lowering against the NumPy interpreter.

Programs are built directly in the IR from the registry (no tracer), several
primitives per program so that one Numba compile covers many of them; each
program is compiled by the CPU backend and run on the same arguments as the
interpreter. Values, dtypes and shapes must agree (float64 rtol 1e-9,
float32 rtol 1e-5). A final test checks that every registered primitive has a
CPU lowering.
"""

import numpy as np
import pytest

from looptrace.codegen import cpu, interpret
from looptrace.ir.core import RNG, Block, Op, Program, SourceLoc, Value
from looptrace.ops import PRIMITIVES
from looptrace.ops.elementwise import BINARY, UFUNCS, UNARY, loop_dtypes

LOC = SourceLoc("test_cpu_primitives.py", 1, "")


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


class Builder:
    """Appends ops to one block; `op(name, *inputs, **attrs)` returns the output(s)."""

    def __init__(self, *arg_types):
        self.args = [Value(t if t == RNG else np.dtype(t), tuple(s)) for t, s in arg_types]
        self.ops: list[Op] = []

    def op(self, name, *inputs, **attrs):
        prim = PRIMITIVES[name]
        outs = [Value(d if d == RNG else np.dtype(d), tuple(s)) for d, s in prim.abstract(*inputs, **attrs)]
        self.ops.append(Op(prim, tuple(inputs), tuple(outs), attrs, LOC))
        return outs if prim.multiple_results else outs[0]

    def program(self, results) -> Program:
        return Program(Block(self.args, self.ops, list(results)), name="prims")


def const(x, dtype=None):
    arr = np.asarray(x, dtype=dtype)
    return Value(arr.dtype, arr.shape, const=arr)


def check(program, args, rtol=1e-9):
    expected = interpret.run_program(program, list(args))
    got = cpu.compile_program(program)(list(args))
    assert len(got) == len(expected)
    for k, (e, g) in enumerate(zip(expected, got)):
        if isinstance(e, np.random.Generator):
            continue
        e, g = np.asarray(e), np.asarray(g)
        what = f"result {k} ({program.body.results[k]})"
        assert g.shape == e.shape, what
        assert g.dtype == e.dtype, what
        np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-12, equal_nan=True, err_msg=what)


def _same_loop(name, dtypes):
    """Does the ufunc's loop for these input dtypes run in exactly them?"""
    try:
        ins, _ = loop_dtypes(UFUNCS[name], tuple(np.dtype(d) for d in dtypes))
    except TypeError:
        return False
    return all(np.dtype(a) == np.dtype(b) for a, b in zip(ins, dtypes))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_ufuncs(dtype, rng):
    names = [n for n in UNARY if _same_loop(n, [dtype])]
    b = Builder((dtype, (3, 4)), (dtype, ()))
    x, s = b.args
    outs = [b.op(n, v) for n in names for v in (x, s)]
    # inputs in (0.1, 0.9): inside every domain except arccosh's (x >= 1)
    args = [rng.uniform(0.1, 0.9, (3, 4)).astype(dtype), np.asarray(rng.uniform(0.1, 0.9), dtype)]
    check(b.program(outs), args, rtol=1e-9 if dtype == "float64" else 1e-5)


@pytest.mark.parametrize("dtype", ["float64", "int64", "bool"])
def test_binary_ufuncs_broadcasting(dtype, rng):
    names = [n for n in BINARY if _same_loop(n, [dtype, dtype])]
    b = Builder((dtype, (3, 4)), (dtype, (4,)), (dtype, ()))
    x, y, s = b.args
    outs = [b.op(n, *pair) for n in names for pair in ((x, y), (y, s), (s, s))]
    if dtype == "int64":
        args = [rng.integers(1, 6, (3, 4)), rng.integers(1, 4, (4,)), np.asarray(2)]
    elif dtype == "bool":
        args = [rng.random((3, 4)) > 0.5, rng.random(4) > 0.5, np.asarray(True)]
    else:
        args = [rng.uniform(0.5, 2, (3, 4)), rng.uniform(0.5, 2, 4), np.asarray(1.5)]
    check(b.program(outs), [np.asarray(a, dtype) for a in args])


def test_select_convert_and_fused_chain(rng):
    b = Builder(("float64", (3, 4)), ("float64", (4,)), ("int64", (3, 1)))
    x, y, k = b.args
    c = b.op("greater", x, y)
    sel = b.op("select", c, x, y)
    chain = b.op("exp", b.op("negative", b.op("multiply", sel, sel)))
    outs = [sel, chain, b.op("convert", k, dtype="float32"), b.op("convert", x, dtype="int64"),
            b.op("convert", c, dtype="float64"), b.op("convert", x, dtype="bool")]
    check(b.program(outs), [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.integers(-5, 5, (3, 1))])


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool"])
def test_reductions(dtype, rng):
    b = Builder((dtype, (3, 4)))
    (x,) = b.args
    names = ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_all", "reduce_any"]
    outs = [b.op(n, x, axes=axes) for n in names for axes in ((0,), (1,), (0, 1))]
    outs += [b.op(n, x, axis=a) for n in ("argmax", "argmin") for a in (0, 1)]
    x = rng.standard_normal((3, 4)) * 3
    x[1, 2] = 0.0
    check(b.program(outs), [x.astype(dtype)], rtol=1e-9 if dtype != "float32" else 1e-5)


def test_shape_primitives(rng):
    b = Builder(("float64", (2, 3, 4)), ("float64", (3, 1)), ("int32", (2, 3, 4)), ("float64", ()))
    x, y, xi, s = b.args
    outs = [
        b.op("reshape", x, shape=(6, 4)), b.op("reshape", x, shape=(24,)),
        b.op("reshape", b.op("slice", x, starts=(0, 0, 0), stops=(1, 1, 1), steps=(1, 1, 1)), shape=()),
        b.op("reshape", s, shape=(1, 1)),
        b.op("transpose", x, perm=(2, 0, 1)), b.op("broadcast_to", y, shape=(2, 3, 4)),
        b.op("broadcast_to", s, shape=(3,)),
        b.op("concatenate", x, xi, axis=1), b.op("concatenate", x, x, axis=2),
        b.op("iota", shape=(3, 4), dtype="int64", axis=1), b.op("iota", shape=(5,), dtype="float32", axis=0),
    ]
    check(b.program(outs), [rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 1)),
                            rng.integers(-9, 9, (2, 3, 4)).astype("int32"), np.asarray(0.5)])


def test_indexing_primitives(rng):
    b = Builder(("float64", (5, 4)), ("int64", ()), ("int64", (3,)), ("float64", (3, 4)),
                ("float64", (2, 2)), ("int64", ()))
    x, t, idx, upd, blk, t2 = b.args
    outs = [
        b.op("slice", x, starts=(1, 0), stops=(5, 4), steps=(2, 1)),
        b.op("slice", x, starts=(4, 3), stops=(-1, -1), steps=(-1, -2)),
        b.op("dynamic_slice", x, t, sizes=(1,)), b.op("dynamic_slice", x, t2, const(1), sizes=(2, 2)),
        b.op("reshape", b.op("dynamic_slice", x, t, sizes=(1,)), shape=(4,)),
        b.op("dynamic_update_slice", x, blk, t2, const(2)),
        b.op("dynamic_update_slice", x, b.op("reshape", b.op("exp", b.op("reshape", x, shape=(20,))), shape=(5, 4)),
             const(0)),
        b.op("update_slice", x, upd, starts=(0, 0), stops=(5, 4), steps=(2, 1)),
        b.op("gather", x, idx, axis=0), b.op("gather", x, t, axis=1),
        b.op("scatter", x, idx, upd, axis=0, mode="set"), b.op("scatter", x, idx, upd, axis=0, mode="add"),
        b.op("dynamic_prefix", x, t),
    ]
    check(b.program(outs), [rng.standard_normal((5, 4)), np.asarray(-2), np.array([0, -1, 0]),
                            rng.standard_normal((3, 4)), rng.standard_normal((2, 2)), np.asarray(3)])


@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_einsum_specs(dtype, rng):
    b = Builder((dtype, (20, 30)), (dtype, (30, 12)), (dtype, (30,)), (dtype, (4, 20, 30)),
                (dtype, (4, 30, 12)), (dtype, (3, 3)))
    m, n, v, bm, bn, sq = b.args
    specs = [("ij,jk->ik", m, n), ("ij,jk->ki", m, n), ("ij,j->i", m, v), ("j,j->", v, v),
             ("j,jk->k", v, n), ("bij,bjk->bik", bm, bn), ("bij,bjk->ik", bm, bn),
             ("bij,bjk->kbi", bm, bn), ("ii->i", sq), ("ji,bjk->bik", b.op("transpose", m, perm=(1, 0)), bn),
             ("ij,bjk->bik", m, bn), ("i,j->ij", v, v), ("bij,bij->bi", bm, bm), ("ij,ij->", m, m), ("ij,jk,k->i", m, n, b.op("iota", shape=(12,), dtype=dtype, axis=0))]
    outs = [b.op("einsum", *ins, spec=spec) for spec, *ins in specs]
    args = [rng.integers(-3, 4, a.shape).astype(dtype) if dtype == "int64" else rng.standard_normal(a.shape)
            for a in b.args]
    check(b.program(outs), args)


def test_random_draws_match_numpy():
    b = Builder((RNG, ()))
    (g,) = b.args
    g, z = b.op("random_normal", g, shape=(3, 2), dtype="float64")
    g, u = b.op("random_uniform", g, shape=(4,), dtype="float32")
    g, w = b.op("random_normal", g, shape=(), dtype="float64")
    program = b.program([z, u, w])
    plain, compiled = np.random.default_rng(5), np.random.default_rng(5)
    expected = interpret.run_program(program, [plain])
    got = cpu.compile_program(program)([compiled])
    for e, r in zip(expected, got):
        assert np.asarray(r).dtype == np.asarray(e).dtype
        np.testing.assert_array_equal(r, e)
    assert compiled.bit_generator.state == plain.bit_generator.state


def test_every_primitive_has_a_cpu_lowering():
    missing = [name for name, p in PRIMITIVES.items() if p.lower_cpu is None]
    assert missing == []


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_long_sums_use_eight_accumulators(dtype, rng):
    b = Builder((dtype, (101,)), (dtype, (101,)))
    x, y = b.args
    outs = [b.op("reduce_sum", x, axes=(0,)), b.op("einsum", x, y, spec="i,i->"),
            b.op("reduce_sum", b.op("exp", x), axes=(0,))]
    program = b.program(outs)
    assert "acc" in cpu.compile_program(program).source.split("* 8 + 7")[0]
    check(program, [rng.standard_normal(101).astype(dtype), rng.standard_normal(101).astype(dtype)],
          rtol=1e-9 if dtype == "float64" else 1e-5)


def test_sort_and_argsort(rng):
    """Lane by lane along every axis, for floats (NaNs last, ties in their
    original order), ints and bools: one kernel (each sort costs compile time)."""
    b = Builder(("float64", (5, 7)), ("float64", (9,)), ("int32", (4, 6)), ("bool", (8,)))
    x, v, xi, xb = b.args
    outs = [b.op(name, x, axis=a) for name in ("sort", "argsort") for a in (0, 1)]
    outs += [b.op("sort", v, axis=0), b.op("argsort", v, axis=0), b.op("sort", xi, axis=1),
             b.op("argsort", xi, axis=0), b.op("sort", xb, axis=0), b.op("argsort", xb, axis=0)]
    xs, vs = rng.standard_normal((5, 7)), rng.standard_normal(9)
    xs[1, 2] = vs[4] = np.nan
    xs[3, :3] = 0.5  # ties
    check(b.program(outs), [xs, vs, rng.integers(-3, 4, (4, 6)).astype("int32"), rng.random(8) > 0.5])
