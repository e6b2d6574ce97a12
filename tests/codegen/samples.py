"""Small programs built directly in the IR (no tracer) that together use every
registered primitive, several per program so that one compile covers many.

Each sample is `fn(rng) -> Sample(program, args, rtol)`; tests/codegen/
test_lowering_completeness.py compiles every sample on every code-generating
target and compares it with the reference interpreter, and checks that the
samples cover the whole registry (so a new primitive needs a sample here).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from looptrace.ir.builder import IRBuilder
from looptrace.ir.core import RNG, Block, Program, SourceLoc, Value, literal
from looptrace.ops.elementwise import BINARY, UFUNCS, UNARY, loop_dtypes

LOC = SourceLoc("samples.py", 1, "")


@dataclass
class Sample:
    program: Program
    args: list
    rtol: float = 1e-9
    atol: float = 1e-12
    refused_by: tuple = ()  # targets that refuse it when compiling (an UnsupportedError naming the NumPy function)


class Builder(IRBuilder):
    """One block's builder: typed arguments, then `program(results)`."""

    def __init__(self, *arg_types):
        super().__init__(LOC)
        self.args = [Value(t if t == RNG else np.dtype(t), tuple(s)) for t, s in arg_types]

    def program(self, results, name: str = "sample") -> Program:
        return Program(Block(self.args, self.ops, list(results)), name=name)


def const(x, dtype=None) -> Value:
    return literal(x, dtype)


def same_loop(name: str, dtypes) -> bool:
    """Does the ufunc's loop for these input dtypes run in exactly them?"""
    try:
        ins, _ = loop_dtypes(UFUNCS[name], tuple(np.dtype(d) for d in dtypes))
    except TypeError:
        return False
    return all(np.dtype(a) == np.dtype(b) for a, b in zip(ins, dtypes))


# An elementwise function's rule (codegen/cpu/scalar.py, special.py: a ScalarRule of the operands'
# expressions and dtypes) writes the same expression for an array, a broadcast row and a 0-d operand: each
# function is called once, the operand kinds taken in turn (each kind still read by a third or a half of
# them), where every function with every kind tripled the kernels (5.6 s of a binary sample's cpu compile).
def unary(dtype: str) -> Callable:
    def build(rng) -> Sample:
        names = [n for n in UNARY if same_loop(n, [dtype])]
        b = Builder((dtype, (3, 4)), (dtype, ()))
        x, s = b.args
        outs = [b.op(n, (x, s)[k % 2]) for k, n in enumerate(names)]  # kinds in turn (see below)
        if dtype in ("float64", "float32"):
            # inputs in (0.1, 0.9): inside every domain except arccosh's (x >= 1)
            args = [rng.uniform(0.1, 0.9, (3, 4)).astype(dtype), np.asarray(rng.uniform(0.1, 0.9), dtype)]
        else:
            args = [rng.integers(-5, 6, (3, 4)).astype(dtype), np.asarray(rng.integers(-5, 6), dtype)]
        return Sample(b.program(outs), args, 1e-5 if dtype == "float32" else 1e-9)

    return build


def binary(dtype: str) -> Callable:
    def build(rng) -> Sample:
        names = [n for n in BINARY if same_loop(n, [dtype, dtype])]
        b = Builder((dtype, (3, 4)), (dtype, (4,)), (dtype, ()))
        x, y, s = b.args
        pairs = ((x, y), (y, s), (s, s))  # kinds in turn (see below)
        outs = [b.op(n, *pairs[k % 3]) for k, n in enumerate(names)]
        if dtype == "int64":
            args = [rng.integers(1, 6, (3, 4)), rng.integers(1, 4, (4,)), np.asarray(2)]
        elif dtype == "bool":
            args = [rng.random((3, 4)) > 0.5, rng.random(4) > 0.5, np.asarray(True)]
        else:
            args = [rng.uniform(0.5, 2, (3, 4)), rng.uniform(0.5, 2, 4), np.asarray(1.5)]
        return Sample(b.program(outs), [np.asarray(a, dtype) for a in args])

    return build


def special_functions(dtype: str) -> Callable:
    """ops/special.py: erf ... trigamma on both sides of zero (off the poles), complex parts."""

    def build(rng) -> Sample:
        cdtype = "complex128" if dtype == "float64" else "complex64"
        b = Builder((dtype, (3, 4)), (dtype, ()), (cdtype, (4,)))
        x, s, z = b.args
        names = ["erf", "erfc", "gamma", "lgamma", "digamma", "trigamma"]
        outs = [b.op(n, (x, s)[k % 2]) for k, n in enumerate(names)]  # kinds in turn (see below)
        outs += [b.op("real", z), b.op("imag", z), b.op("make_complex", x, s),
                 b.op("real", b.op("make_complex", s, x))]
        xv = rng.uniform(-4, 6, (3, 4))
        xv = np.where(np.abs(xv - np.round(xv)) < 0.05, xv + 0.3, xv)
        zv = rng.standard_normal(4) + 1j * rng.standard_normal(4)
        return Sample(b.program(outs), [xv.astype(dtype), np.asarray(2.7, dtype), zv.astype(cdtype)],
                      1e-12 if dtype == "float64" else 2e-5)

    return build


def select_convert_and_fused_chain(rng) -> Sample:
    b = Builder(("float64", (3, 4)), ("float64", (4,)), ("int64", (3, 1)))
    x, y, k = b.args
    c = b.op("greater", x, y)
    sel = b.op("select", c, x, y)
    chain = b.op("exp", b.op("negative", b.op("multiply", sel, sel)))
    outs = [sel, chain, b.op("convert", k, dtype="float32"), b.op("convert", x, dtype="int64"),
            b.op("convert", c, dtype="float64"), b.op("convert", x, dtype="bool")]
    return Sample(b.program(outs), [rng.standard_normal((3, 4)), rng.standard_normal(4),
                                    rng.integers(-5, 5, (3, 1))])


def reductions(dtype: str) -> Callable:
    def build(rng) -> Sample:
        b = Builder((dtype, (3, 4)))
        (x,) = b.args
        names = ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_all", "reduce_any"]
        outs = [b.op(n, x, axes=axes) for n in names for axes in ((0,), (1,), (0, 1))]
        outs += [b.op(n, x, axis=a) for n in ("argmax", "argmin") for a in (0, 1)]
        x = rng.standard_normal((3, 4)) * 3
        x[1, 2] = 0.0
        return Sample(b.program(outs), [x.astype(dtype)], 1e-9 if dtype != "float32" else 1e-5)

    return build


def grown_list_buffer(rng) -> Sample:
    """A while loop's list buffer made room in (reserve), then its rows read
    back (dynamic_prefix); the cuda target refuses it."""
    b = Builder(("float64", (5, 4)), ("int64", ()))
    x, n = b.args
    room = b.op("reserve", x, n, const(3))
    written = b.op("dynamic_update_slice", room, b.op("reshape", b.op("exp", b.op("slice", x, starts=(0, 0), stops=(3, 4),
                                                                                    steps=(1, 1))), shape=(3, 4)), n)
    outs = [b.op("dynamic_prefix", written, b.op("add", n, const(3))), b.op("dynamic_prefix", b.op("reserve", x, n, const(0)), n)]
    return Sample(b.program(outs), [rng.standard_normal((5, 4)), np.asarray(4)], refused_by=("cuda",))


def shape_primitives(rng) -> Sample:
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
    return Sample(b.program(outs), [rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 1)),
                                    rng.integers(-9, 9, (2, 3, 4)).astype("int32"), np.asarray(0.5)])


def indexing_primitives(rng) -> Sample:
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
    return Sample(b.program(outs), [rng.standard_normal((5, 4)), np.asarray(-2), np.array([0, -1, 0]),
                                    rng.standard_normal((3, 4)), rng.standard_normal((2, 2)), np.asarray(3)])


# Specs whose int64 einsum is contract.py's `_lower_loops` as another kept spec's is (the same loops over
# other letters, each operand cast to the accumulator: kept are a product, a permuted output, a batch, a
# repeated letter, three operands, and the sums of products that nest.py folds), where their float64 twins
# take BLAS, np.dot or the batched and lead-loop forms (or the same loops).
INT_EINSUM_LOOP_TWINS = {"ij,j->i", "j,jk->k", "bij,bjk->ik", "bij,bjk->kbi", "ji,bjk->bik", "ij,bjk->bik", "i,j->ij"}


def einsum_specs(dtype: str) -> Callable:
    def build(rng) -> Sample:
        b = Builder((dtype, (20, 30)), (dtype, (30, 12)), (dtype, (30,)), (dtype, (4, 20, 30)),
                    (dtype, (4, 30, 12)), (dtype, (3, 3)), (dtype, (70, 70)))
        m, n, v, bm, bn, sq, big = b.args
        specs = [("ij,jk->ik", m, n), ("ij,jk->ki", m, n), ("ij,j->i", m, v), ("j,j->", v, v),
                 ("j,jk->k", v, n), ("bij,bjk->bik", bm, bn), ("bij,bjk->ik", bm, bn),
                 ("bij,bjk->kbi", bm, bn), ("ii->i", sq), ("ji,bjk->bik", b.op("transpose", m, perm=(1, 0)), bn),
                 ("ij,bjk->bik", m, bn), ("i,j->ij", v, v), ("bij,bij->bi", bm, bm), ("ij,ij->", m, m),
                 ("ij,jk,k->i", m, n, b.op("iota", shape=(12,), dtype=dtype, axis=0)),
                 ("ij,jk->ik", big, big)]  # large enough for BLAS
        if dtype == "int64":  # (no BLAS: contract.py's explicit loops for each; these are their float64 twins',
            # and the large product's, BLAS's size, is the first product's loops, 4900 threads in the simulator)
            specs = [sp for sp in specs[:-1] if sp[0] not in INT_EINSUM_LOOP_TWINS]
        outs = [b.op("einsum", *ins, spec=spec) for spec, *ins in specs]
        args = [rng.integers(-3, 4, a.shape).astype(dtype) if dtype == "int64" else rng.standard_normal(a.shape)
                for a in b.args]
        return Sample(b.program(outs), args)

    return build


def sort_and_argsort(rng) -> Sample:
    """Lane by lane along every axis, for floats (NaNs last, ties in their
    original order) and ints; bools, which sort.py lowers as it does ints (one
    helper version per dtype, 4.4 s of Numba's compile), are sort_bools's."""
    b = Builder(("float64", (5, 7)), ("float64", (9,)), ("int32", (4, 6)))
    x, v, xi = b.args
    outs = [b.op(name, x, axis=a) for name in ("sort", "argsort") for a in (0, 1)]
    outs += [b.op("sort", v, axis=0), b.op("argsort", v, axis=0), b.op("sort", xi, axis=1),
             b.op("argsort", xi, axis=0)]
    xs, vs = rng.standard_normal((5, 7)), rng.standard_normal(9)
    xs[1, 2] = vs[4] = np.nan
    xs[3, :3] = 0.5  # ties
    return Sample(b.program(outs), [xs, vs, rng.integers(-3, 4, (4, 6)).astype("int32")])


def sort_bools(rng) -> Sample:
    """sort and argsort (stable: ties in their original order) of bools."""
    b = Builder(("bool", (8,)))
    (xb,) = b.args
    return Sample(b.program([b.op("sort", xb, axis=0), b.op("argsort", xb, axis=0)]), [rng.random(8) > 0.5])


def searchsorted_sample(rng) -> Sample:
    """Binary searches (ops/sort.py) of 1-d and row-batched arrays, both sides,
    floats with NaNs (last) and duplicates, ints, and a 0-d value (the row-batched
    search on its right side only: sort.py writes each side's comparison alike
    in every form, and a search's lines cost Numba's compile per op)."""
    b = Builder(("float64", (9,)), ("float64", (4, 5)), ("float64", (3, 6)), ("float64", (3, 2)),
                ("int32", (7,)), ("int32", (3,)), ("float64", ()))
    a, v, rows, rv, ai, vi, s = b.args
    outs = [b.op("searchsorted", a, v, side=side) for side in ("left", "right")]
    outs += [b.op("searchsorted", rows, rv, side="right")]
    outs += [b.op("searchsorted", ai, vi, side="right"), b.op("searchsorted", a, s, side="left")]
    av = np.sort(np.r_[rng.integers(0, 4, 7).astype(float), np.nan, np.nan])
    vv = rng.integers(-1, 6, (4, 5)).astype(float)
    vv[0, :2] = np.nan
    return Sample(b.program(outs), [av, vv, np.sort(rng.standard_normal((3, 6)), axis=1), rng.standard_normal((3, 2)),
                                    np.sort(rng.integers(-3, 4, 7)).astype("int32"),
                                    rng.integers(-4, 5, 3).astype("int32"), np.asarray(np.nan)])

def exact_sums(rng) -> Sample:
    """math.fsum of a vector and of each row of a matrix (ops/fsum.py): terms
    spanning 40 decades that cancel, a row with an infinity, a row whose terms
    overflow and one with -inf + inf (the error codes); the cuda target refuses it."""
    b = Builder(("float64", (50,)), ("float64", (5, 7)))
    v, rows = b.args
    x = rng.standard_normal((5, 7)) * 10.0 ** rng.integers(-20, 20, (5, 7))
    x[1, 3], x[2, :3], x[3, 1:3] = np.inf, (1e308, 1e308, -1e308), (np.inf, -np.inf)
    y = rng.standard_normal(25) * 10.0 ** rng.integers(-20, 20, 25)
    return Sample(b.program([b.op("fsum", v), b.op("fsum", rows)]), [np.r_[y, -y * (1 + 2.0 ** -52)], x],
                  rtol=0.0, atol=0.0, refused_by=("cuda",))


def partitions(rng) -> Sample:
    """partition and argpartition (NumPy's own, ops/sort.py) at one and at
    several positions, along each axis, for floats (NaNs, ties), ints and
    bools; the cuda target refuses them (codegen/cuda/rules/partition.py).
    partition.py's rule writes one object-mode call of NumPy's, whatever the
    dtype, kth and axis (each call a wrapper of Numba's to compile, 0.4 s):
    one call for each result dtype."""
    b = Builder(("float64", (6, 9)), ("int32", (11,)), ("bool", (7,)))
    x, xi, xb = b.args
    outs = [b.op("partition", x, kth=(0, 4, 8), axis=1), b.op("argpartition", x, kth=(2,), axis=0),
            b.op("partition", xi, kth=(3, 7), axis=0), b.op("partition", xb, kth=(2,), axis=0)]
    xs = rng.standard_normal((6, 9))
    xs[1, 2] = np.nan
    xs[3, :3] = 0.5  # ties
    return Sample(b.program(outs), [xs, rng.integers(-3, 4, 11).astype("int32"), rng.random(7) > 0.5],
                  refused_by=("cuda",))


def decompositions(dtype: str) -> Callable:
    """solve, inv, det and cholesky of one matrix and of a batch (3-d) of
    well-conditioned ones (random + n I; symmetric positive definite for
    cholesky, whose upper triangle holds junk it must not read)."""
    def build(rng) -> Sample:
        b = Builder((dtype, (4, 4)), (dtype, (4, 2)), (dtype, (3, 3, 3)), (dtype, (3, 3, 1)), (dtype, (4, 4)))
        a, rhs, a3, rhs3, spd = b.args
        outs = [b.op("solve", a, rhs), b.op("inv", a), b.op("det", a), b.op("cholesky", spd),
                b.op("solve", a3, rhs3), b.op("inv", a3), b.op("det", a3), b.op("cholesky", a3)]
        m = rng.standard_normal((4, 4))
        spd_arg = m @ m.T + 4 * np.eye(4)
        spd_arg[0, 3] = spd_arg[1, 2] = 99.0
        m3 = rng.standard_normal((3, 3, 3))
        args = [rng.standard_normal((4, 4)) + 4 * np.eye(4), rng.standard_normal((4, 2)),
                m3 @ m3.transpose(0, 2, 1) + 3 * np.eye(3), rng.standard_normal((3, 3, 1)), spd_arg]
        return Sample(b.program(outs), [x.astype(dtype) for x in args], 1e-9 if dtype == "float64" else 1e-4)

    return build


def factorizations(dtype: str) -> Callable:
    """slogdet, eigh, eigvalsh, svd (full and thin), svdvals, qr (reduced and
    complete) and pinv of one matrix and of a batch (ops/factorizations.py);
    the cuda target refuses them (codegen/cuda/rules/factorizations.py)."""
    def build(rng) -> Sample:
        b = Builder((dtype, (4, 4)), (dtype, (2, 5, 3)), (dtype, (3, 4)))
        sq, tall, wide = b.args
        outs = [b.op("slogdet", sq), b.op("eigh", sq), b.op("eigvalsh", sq), b.op("svd", tall, full=True),
                b.op("svd", wide, full=False), b.op("svdvals", tall), b.op("qr", tall, complete=False),
                b.op("qr", tall, complete=True), b.op("qr", wide, complete=True), b.op("pinv", tall, rcond=1e-15)]
        m = rng.standard_normal((4, 4))
        args = [m + m.T + np.diag([0.0, 3.0, 6.0, 9.0]), rng.standard_normal((2, 5, 3)), rng.standard_normal((3, 4))]
        return Sample(b.program(outs), [x.astype(dtype) for x in args], 1e-8 if dtype == "float64" else 2e-3,
                      atol=1e-12 if dtype == "float64" else 1e-5, refused_by=("cuda",))

    return build


def fourier_transforms(dtype: str) -> Callable:
    """fft both ways, rfft and irfft (even and odd n) over the last axis of a
    vector and of a batch of lanes (ops/fft.py), unscaled, and zero-padded
    (`n`) and scaled by NumPy's norms' factors and by another number."""
    def build(rng) -> Sample:
        cdt = "complex64" if dtype == "float32" else "complex128"
        b = Builder((cdt, (3, 8)), (dtype, (7,)), (dtype, (2, 6)), (cdt, (4, 5)), (cdt, (4,)))
        z, v, m, half, h4 = b.args
        # (each op one object-mode call of NumPy's, 0.4 s of Numba's compile: fft.py's rule writes the same
        # call for a vector and a batch, its n and norm from the attributes, each form once)
        outs = [b.op("fft", z, inverse=False), b.op("fft", z, inverse=True), b.op("rfft", m),
                b.op("irfft", half, n=9), b.op("fft", z, inverse=True, n=11, scale=1 / 11),
                b.op("fft", z, inverse=False, scale=8 ** -0.5),
                b.op("rfft", v, n=12, scale=1 / 12), b.op("rfft", m, n=9, scale=0.3),
                b.op("irfft", half, n=8, scale=0.125), b.op("irfft", h4, n=7, scale=2.5)]
        args = [rng.standard_normal(a.shape) + (1j * rng.standard_normal(a.shape) if a.dtype.kind == "c" else 0)
                for a in b.args]
        return Sample(b.program(outs), [a.astype(x.dtype) for a, x in zip(args, b.args)],
                      1e-9 if dtype == "float64" else 1e-4, atol=1e-12 if dtype == "float64" else 1e-5)

    return build


def run_time_checks(rng) -> Sample:
    """Checks whose predicates all hold false (they pass); the raising side is
    tests/reliability/test_runtime_checks.py's."""
    from looptrace.ops.check import Failure
    from looptrace.ops.elementwise import pyint_failures

    b = Builder(("float64", (3, 4)), ("int64", (3, 4)))
    x, k = b.args
    b.op("check", b.op("greater", x, const(50.0)), failures=(Failure(ValueError("too big"), LOC),))
    failures = (Failure(ValueError("negative"), LOC), Failure(IndexError(""), LOC, "index {value} is out"))
    b.op("check", b.op("less", x, const(-50.0)), b.op("less", k, const(np.int64(0))), k, failures=failures)
    whole = b.op("pyint", b.op("trunc", b.op("multiply", x, const(1e3))), failures=pyint_failures(LOC))
    return Sample(b.program([b.op("multiply", x, const(2.0)), whole]), [rng.standard_normal((3, 4)),
                                                                        rng.integers(0, 9, (3, 4))])


def random_draws(rng) -> Sample:
    b = Builder((RNG, ()))
    (g,) = b.args
    g, z = b.op("random_normal", g, shape=(3, 2), dtype="float64")
    g, u = b.op("random_uniform", g, shape=(4,), dtype="float32")
    g, w = b.op("random_normal", g, shape=(), dtype="float64")
    g, e = b.op("random_exponential", g, shape=(3,), dtype="float64")
    g, k = b.op("random_integers", g, const(np.int64(-2)), const(np.int64(7)), shape=(5,), dtype="int64",
                endpoint=False)
    g, p = b.op("random_permutation", g, n=6)
    return Sample(b.program([z, u, w, e, k, p, g]), [np.random.default_rng(int(rng.integers(1 << 30)))])


def discrete_draws(rng) -> Sample:
    """rng.poisson with scalar and array parameters, both algorithms (lam below and past 10), and
    rng.binomial with array parameters (n, p; n and a scalar p: one flat helper version), both
    algorithms and the p > 0.5 flip; random.py's rule lowers the two alike (one 0-d, one
    all-scalar and one flat form), so poisson takes each form and binomial's scalar forms, 4.9 s
    of Numba's compile, are discrete_scalar_draws's, with -m slow."""
    b = Builder((RNG, ()), (np.dtype(np.float64), (2, 3)), (np.dtype(np.int64), (4,)), (np.dtype(np.float64), (4,)))
    g, lam, n, p = b.args
    g, k1 = b.op("random_poisson", g, const(4.5), shape=(5,))
    g, k2 = b.op("random_poisson", g, lam, shape=(2, 3))
    g, k3 = b.op("random_poisson", g, const(30.0), shape=())
    g, k5 = b.op("random_binomial", g, n, p, shape=(4,))
    g, k6 = b.op("random_binomial", g, n, const(0.3), shape=(4,))
    nv, pv = rng.integers(200, 500, 4), rng.random(4)
    nv[0], nv[1] = 0, rng.integers(5, 20)  # n = 0; n * min(p, 1 - p) <= 30: inversion
    pv[2] = rng.uniform(0.6, 0.8)  # BTPE on 1 - p, flipped
    args = [np.random.default_rng(int(rng.integers(1 << 30))), rng.uniform(0, 40, (2, 3)), nv, pv]
    return Sample(b.program([k1, k2, k3, k5, k6, g]), args, refused_by=("cuda",))


def discrete_scalar_draws(rng) -> Sample:
    """rng.binomial of scalar parameters: an array of draws (BTPE, flipped) and one draw
    (inversion), the forms discrete_draws's poisson takes."""
    b = Builder((RNG, ()))
    (g,) = b.args
    g, k4 = b.op("random_binomial", g, const(np.int64(200)), const(0.7), shape=(6,))
    g, k7 = b.op("random_binomial", g, const(np.int64(12)), const(0.4), shape=())
    return Sample(b.program([k4, k7, g]), [np.random.default_rng(int(rng.integers(1 << 30)))], refused_by=("cuda",))


def legacy_random_draws(rng) -> Sample:
    """NumPy's legacy global random state: the token is ops/random.py's state array."""
    b = Builder((RNG, ()))
    (g,) = b.args
    g, z = b.op("legacy_normal", g, shape=(3, 2))
    g, w = b.op("legacy_normal", g, shape=())
    g, u = b.op("legacy_uniform", g, shape=(4,))
    g, k = b.op("legacy_randint", g, const(np.int64(-2)), const(np.int64(7)), shape=(5,))
    (g,) = b.op("legacy_seed", g, const(np.int64(12345)))
    g, n = b.op("legacy_normal", g, shape=(3,))
    _, key, pos, has_gauss, gauss = np.random.RandomState(int(rng.integers(1 << 30))).get_state()
    state = np.concatenate([key, [pos, has_gauss], np.array([gauss]).view(np.uint32)]).astype(np.uint32)
    return Sample(b.program([z, w, u, k, n]), [state], refused_by=("cuda",))


def printing(rng) -> Sample:
    """print() of a float32 scalar and an array (ops/io.py): the text is made at run time."""
    from looptrace.ops.io import PrintLine, Slot

    b = Builder(("float32", ()), ("float64", (3,)))
    s, x = b.args
    tok = b.op("print_token")
    line = PrintLine(((Slot(0, "", ".3f", (("<f4", False, False),)), " and"), (Slot(1, "s", "", (("<f8", False, False),)),)))
    (tok,) = b.op("print", tok, s, x, line=line)
    return Sample(b.program([b.op("multiply", x, const(2.0))]), [np.float32(rng.random()), rng.random(3)],
                  refused_by=("cuda",))


def regions(rng) -> Sample:
    """A counted loop carrying a sum and stacking rows, a while loop, a cond."""
    b = Builder(("float64", (5, 3)), ("float64", ()))
    x, s0 = b.args
    i, acc = Value(np.dtype("int64"), ()), Value(np.dtype("float64"), ())
    body = Builder()
    row = body.op("reshape", body.op("dynamic_slice", x, i, sizes=(1,)), shape=(3,))
    new = body.op("add", acc, body.op("reduce_sum", row, axes=(0,)))
    scaled = body.op("multiply", row, new)
    loop_body = Block([i, acc], body.ops, [new, scaled])
    total, rows = Value(np.dtype("float64"), ()), Value(np.dtype("float64"), (5, 3))
    b.region("for_loop", (const(np.int64(0)), const(np.int64(5)), const(np.int64(1)), s0), (total, rows),
             (loop_body,))
    c, c2 = Value(np.dtype("float64"), ()), Value(np.dtype("float64"), ())
    cond_b, step_b = Builder(), Builder()
    keep_going = cond_b.op("less", c, const(100.0))
    doubled = step_b.op("add", step_b.op("multiply", c2, const(2.0)), const(1.0))
    halted = Value(np.dtype("float64"), ())
    b.region("while_loop", (b.op("absolute", total),), (halted,),
             (Block([c], cond_b.ops, [keep_going]), Block([c2], step_b.ops, [doubled])))
    then_b, else_b = Builder(), Builder()
    pos = b.op("greater", total, const(0.0))
    picked = Value(np.dtype("float64"), (5, 3))
    b.region("cond", (pos,), (picked,), (Block([], then_b.ops, [rows]),
                                          Block([], else_b.ops, [else_b.op("negative", rows)])))
    return Sample(b.program([total, rows, halted, picked]), [rng.standard_normal((5, 3)), np.asarray(0.25)])


def recurrences(rng) -> Sample:
    b = Builder(("float64", (40, 3)), ("float64", (40, 3)), ("float64", (3,)), ("float64", (4, 4)),
                ("float64", (2, 4)), ("int64", ()))
    a, c, h0, m, p0, n = b.args
    outs = [b.op("linear_scan", a, c, h0), b.op("linear_scan", a, c, h0, history=False),
            b.op("matrix_power_apply", p0, m, n, side="right", batch_dims=0)]
    args = [rng.uniform(0.5, 1.0, (40, 3)), rng.standard_normal((40, 3)), rng.standard_normal(3),
            rng.standard_normal((4, 4)) / 3, rng.standard_normal((2, 4)), np.asarray(5)]
    return Sample(b.program(outs), args)


SAMPLES: dict[str, Callable] = {
    **{f"unary_{d}": unary(d) for d in ("float64", "float32", "int64", "bool")},
    "binary_float64": binary("float64"), "binary_int64": binary("int64"), "binary_bool": binary("bool"),
    "select_convert": select_convert_and_fused_chain,
    **{f"special_{d}": special_functions(d) for d in ("float64", "float32")},
    **{f"reductions_{d}": reductions(d) for d in ("float64", "float32", "int32", "bool")},
    "shape": shape_primitives, "indexing": indexing_primitives, "grown_list_buffer": grown_list_buffer,
    "einsum_float64": einsum_specs("float64"), "einsum_int64": einsum_specs("int64"),
    "sort": sort_and_argsort, "sort_bool": sort_bools, "searchsorted": searchsorted_sample, "partition": partitions, "exact_sums": exact_sums, **{f"decomp_{d}": decompositions(d) for d in ("float64", "float32")},
    **{f"factorizations_{d}": factorizations(d) for d in ("float64", "float32")},
    **{f"fft_{d}": fourier_transforms(d) for d in ("float64", "float32")},
    "checks": run_time_checks, "random": random_draws, "legacy_random": legacy_random_draws,
    "discrete_random": discrete_draws, "discrete_random_scalars": discrete_scalar_draws,
    "printing": printing, "regions": regions, "recurrences": recurrences,
}
