"""Every primitive's batching rule equals a Python loop over slices.

For each sample case and each non-empty set of batched operands, the rule
(run eagerly) must equal `np.stack([impl(*slice_k) for k in range(n)])`,
batch size 0 included. A registry test fails when a primitive lacks `batch`.
"""
import itertools

import numpy as np
import pytest

import looptrace  # noqa: F401  (registers the primitives)
from looptrace.codegen.reference import Env, run_op
from looptrace.ir.builder import EagerBuilder, IRBuilder
from looptrace.ir.core import Value
from looptrace.ops import PRIMITIVES
from looptrace.ops.elementwise import BINARY, UFUNCS, UNARY, loop_dtypes
from looptrace.ops.batching_helpers import NotBatchable, apply_rule


def _ufunc_dtype(name):
    for dt in (np.float64, np.int64, np.bool_):
        try:
            loop_dtypes(UFUNCS[name], (np.dtype(dt),) * UFUNCS[name].nin)
            return np.dtype(dt)
        except TypeError:
            continue
    raise AssertionError(name)


def _arr(r, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return r.random(shape) > 0.5
    if dtype.kind in "iu":
        return r.integers(1, 5, shape).astype(dtype)
    return (r.random(shape) * 0.8 + 0.1).astype(dtype)


def _pyint_failures():
    from looptrace.ir.core import SourceLoc
    from looptrace.ops.elementwise import pyint_failures

    return pyint_failures(SourceLoc("<test>", 0, ""))


def _elementwise_cases():
    for name in UNARY:
        dt = _ufunc_dtype(name)
        yield name, (lambda r, dt=dt: ([_arr(r, (2, 3), dt)], {}))
    for name in BINARY:
        dt = _ufunc_dtype(name)
        yield name, (lambda r, dt=dt: ([_arr(r, (2, 3), dt), _arr(r, (3,), dt)], {}))
        yield name + "/scalar", (lambda r, dt=dt: ([_arr(r, (), dt), _arr(r, (2,), dt)], {}))
    yield "select", lambda r: ([r.random((2, 3)) > 0.5, r.random(3), r.random(())], {})
    yield "convert", lambda r: ([r.random((2, 3))], {"dtype": np.dtype(np.float32)})
    yield "pyint", lambda r: ([np.floor(r.random((2, 3)) * 100)], {"failures": _pyint_failures()})
    for name in ("erf", "erfc", "gamma", "lgamma", "digamma", "trigamma"):  # ops/special.py
        yield name, lambda r: ([r.random((2, 3)) * 3 + 0.2], {})
    for name in ("real", "imag"):
        yield name, lambda r: ([r.random((2, 3)) + 1j * r.random((2, 3))], {})
    yield "make_complex", lambda r: ([r.random((2, 3)), r.random(3)], {})


def _reduce_cases():
    for name in ("reduce_sum", "reduce_prod", "reduce_max", "reduce_min"):
        yield name, lambda r: ([r.random((2, 3, 4))], {"axes": (0, 2)})
    for name in ("reduce_all", "reduce_any"):
        yield name, lambda r: ([r.random((2, 3)) > 0.3], {"axes": (1,)})
    for name in ("argmax", "argmin"):
        yield name, lambda r: ([r.random((2, 3))], {"axis": 1})
    yield "fsum", lambda r: ([r.standard_normal((2, 5)) * 10.0 ** r.integers(-20, 20, (2, 5))], {})


def _shape_cases():
    yield "einsum", lambda r: ([r.random((2, 3)), r.random((3, 4))], {"spec": "ij,jk->ik"})
    yield "einsum/mv", lambda r: ([r.random((2, 3)), r.random(3)], {"spec": "ij,j->i"})
    yield "einsum/dot", lambda r: ([r.random(3), r.random(3)], {"spec": "i,i->"})
    yield "reshape", lambda r: ([r.random((2, 3))], {"shape": (3, 2)})
    yield "transpose", lambda r: ([r.random((2, 3, 4))], {"perm": (1, 0, 2)})
    yield "broadcast_to", lambda r: ([r.random(3)], {"shape": (2, 3)})
    yield "broadcast_to/ones", lambda r: ([r.random((1, 3))], {"shape": (2, 3)})
    yield "concatenate", lambda r: ([r.random((2, 3)), r.random((1, 3))], {"axis": 0})


def _int(r, lo, hi):
    return np.int64(r.integers(lo, hi))


def _indexing_cases():
    yield "slice", lambda r: ([r.random((5, 4))], {"starts": (1, 0), "stops": (4, 4), "steps": (2, 1)})
    yield "dynamic_slice", lambda r: ([r.random((5, 4)), _int(r, 0, 4), _int(r, 0, 3)], {"sizes": (2, 2)})
    yield "dynamic_slice/neg", lambda r: ([r.random((5, 4)), _int(r, -5, 5)], {"sizes": (1,)})
    yield "dynamic_update_slice", lambda r: ([r.random((5, 4)), r.random((2, 2)), _int(r, 0, 4), _int(r, 0, 3)], {})
    yield "dynamic_update_slice/row", lambda r: ([r.random((5, 4)), r.random((1, 4)), _int(r, -5, 5)], {})
    yield "update_slice", lambda r: ([r.random((5, 4)), r.random((2, 4))],
                                     {"starts": (1, 0), "stops": (5, 4), "steps": (2, 1)})
    yield "gather", lambda r: ([r.random((5, 4)), r.integers(-4, 4, 3)], {"axis": 1})
    yield "gather/axis0", lambda r: ([r.random((5, 4)), r.integers(0, 5, (2, 2))], {"axis": 0})
    yield "scatter", lambda r: ([r.random((5, 4)), r.permutation(4)[:3], r.random((5, 3))],
                                {"axis": 1, "mode": "set"})
    yield "scatter/add", lambda r: ([r.random((5, 4)), r.integers(-5, 5, (2, 2)), r.random((2, 2, 4))],
                                    {"axis": 0, "mode": "add"})


def _scan_cases():
    yield "linear_scan", lambda r: ([r.uniform(-1, 1, (5, 3)), r.random((5, 3)), r.random(3)], {})
    yield "linear_scan/scalar", lambda r: ([r.uniform(-1, 1, 20), r.random(20), r.random(())], {})
    yield "linear_scan/final", lambda r: ([r.uniform(-1, 1, (5, 1)), r.random(3), r.random(3)], {"history": False})
    yield "matrix_power_apply", lambda r: ([r.random((2, 3)), r.random((3, 3)), np.int64(r.integers(0, 6))],
                                           {"side": "right"})
    yield "matrix_power_apply/left", lambda r: ([r.random(3), r.random((3, 3)), np.int64(r.integers(0, 6))],
                                                {"side": "left"})


def _sort_cases():
    yield "sort", lambda r: ([r.random((3, 4))], {"axis": 1})
    yield "sort/axis0", lambda r: ([r.integers(0, 3, (4, 2))], {"axis": 0})
    yield "argsort", lambda r: ([r.random((3, 4))], {"axis": 0})
    yield "searchsorted", lambda r: ([np.sort(r.random(5)), r.random((2, 3))], {"side": "left"})
    yield "searchsorted/rows", lambda r: ([np.sort(r.random((2, 4)), axis=1), r.random((2, 3))], {"side": "right"})
    yield "partition", lambda r: ([r.random((3, 7))], {"kth": (1, 5), "axis": 1})
    yield "partition/axis0", lambda r: ([r.integers(0, 3, (6, 2))], {"kth": (0,), "axis": 0})
    yield "argpartition", lambda r: ([r.random((5, 4))], {"kth": (2,), "axis": 0})


def _square(r, lead=()):
    return r.standard_normal(lead + (3, 3)) + 3 * np.eye(3)


def _decomp_cases():
    yield "solve", lambda r: ([_square(r), r.random((3, 2))], {})
    yield "solve/lead", lambda r: ([_square(r, (2,)), r.random((2, 3, 1))], {})
    yield "inv", lambda r: ([_square(r)], {})
    yield "det", lambda r: ([_square(r)], {})
    yield "det/lead", lambda r: ([_square(r, (2,))], {})
    yield "cholesky", lambda r: ([(lambda m: m @ m.T + 3 * np.eye(3))(r.standard_normal((3, 3)))], {})
    # factorizations (ops/factorizations.py): one call on the stack equals the per-matrix calls
    yield "slogdet", lambda r: ([r.standard_normal((3, 3))], {})
    yield "eigh", lambda r: ([r.standard_normal((3, 3))], {})
    yield "eigvalsh", lambda r: ([r.standard_normal((2, 3, 3))], {})
    yield "svd", lambda r: ([r.standard_normal((4, 3))], {"full": True})
    yield "svd/thin", lambda r: ([r.standard_normal((2, 3, 5))], {"full": False})
    yield "svdvals", lambda r: ([r.standard_normal((3, 4))], {})
    yield "qr", lambda r: ([r.standard_normal((4, 3))], {"complete": False})
    yield "qr/complete", lambda r: ([r.standard_normal((5, 2))], {"complete": True})
    yield "pinv", lambda r: ([r.standard_normal((2, 4))], {"rcond": 1e-15})


def _fft_cases():
    yield "fft", lambda r: ([r.standard_normal((2, 5)) + 1j * r.standard_normal((2, 5))], {"inverse": False})
    yield "fft/inverse", lambda r: ([(r.standard_normal(4) + 1j * r.standard_normal(4)).astype(np.complex64)],
                                    {"inverse": True})
    yield "rfft", lambda r: ([r.standard_normal((3, 6))], {})
    yield "irfft", lambda r: ([r.standard_normal((2, 4)) + 1j * r.standard_normal((2, 4))], {"n": 7})


CASES = dict(itertools.chain(_elementwise_cases(), _reduce_cases(), _shape_cases(), _indexing_cases(),
                             _scan_cases(), _sort_cases(), _decomp_cases(), _fft_cases()))


def _prim_name(case):
    return case.split("/")[0]


def _run_case(case, n, batched, seed):
    make = CASES[case]
    prim = PRIMITIVES[_prim_name(case)]
    base, attrs = make(np.random.default_rng(seed))
    members = [make(np.random.default_rng(seed + 1 + k))[0] for k in range(n)]
    args = []
    for pos, x in enumerate(base):
        if pos in batched:
            stack = [m[pos] for m in members]
            args.append(np.stack(stack) if stack else np.zeros((0, *np.shape(x)), np.asarray(x).dtype))
        else:
            args.append(x)
    dims = [0 if pos in batched else None for pos in range(len(base))]
    per = [[m[pos] if pos in batched else base[pos] for pos in range(len(base))] for m in members]
    expected_rows = [np.asarray(prim.impl(*a, **attrs)) for a in per]
    example = np.asarray(prim.impl(*base, **attrs))
    expected = np.stack(expected_rows) if n else np.zeros((0, *example.shape), example.dtype)
    (out,), (d,) = apply_rule(EagerBuilder(axis_size=n), prim, args, dims, attrs)
    assert d == 0
    assert out.dtype == expected.dtype, case
    assert out.shape == expected.shape, case
    np.testing.assert_allclose(out, expected, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(_run_as_ir(prim, args, dims, attrs, n), expected, rtol=1e-12, equal_nan=True)


def _run_as_ir(prim, args, dims, attrs, n):
    """The same rule emitting IR: every op's declared type matches its value."""
    vals = [Value(np.asarray(a).dtype, np.shape(a)) for a in args]
    b = IRBuilder(axis_size=n)
    (out,), _ = apply_rule(b, prim, vals, dims, attrs)
    env = Env()
    for v, a in zip(vals, args):
        env.write(v, np.asarray(a))
    for op in b.ops:
        for v, x in zip(op.outputs, run_op(op, env)):
            assert (np.asarray(x).dtype, np.shape(x)) == (v.dtype, tuple(v.shape)), op.prim.name
            env.write(v, x)
    return env.read(out)


def _batched_sets(case):
    arity = len(CASES[case](np.random.default_rng(0))[0])
    for k in range(1, arity + 1):
        yield from itertools.combinations(range(arity), k)


PARAMS = [(c, s) for c in CASES for s in _batched_sets(c)]


@pytest.mark.parametrize("n", [0, 3])
@pytest.mark.parametrize("case,batched", PARAMS, ids=[f"{c}-{s}" for c, s in PARAMS])
def test_rule_matches_loop_over_slices(case, batched, n):
    _run_case(case, n, set(batched), seed=sum(map(ord, case)))


# rng.permutation draws one permutation per call: a loop of them stays a loop; reserve grows the
# buffer of a list a while loop appends to, which no batch holds
UNBATCHED = {"random_permutation", "reserve"}


def test_every_primitive_has_a_batching_rule():
    missing = [p.name for p in PRIMITIVES.values() if not p.region and p.batch is None and p.name not in UNBATCHED]
    assert missing == []


def test_every_batchable_primitive_has_a_case():
    covered = {_prim_name(c) for c in CASES}
    skipped = {"iota", "random_normal", "random_uniform", "random_exponential", "random_integers",
               "legacy_uniform", "legacy_normal", "legacy_randint", "legacy_seed",
               "random_poisson", "random_binomial",  # tests/tracer/test_random_poisson_binomial.py
               "dynamic_prefix", "check", "print_token", "print"} | UNBATCHED  # tested below
    untested = [p.name for p in PRIMITIVES.values() if not p.region and p.name not in covered | skipped]
    assert untested == []


def test_iota_is_never_batched():
    b = EagerBuilder(axis_size=3)
    outs, dims = apply_rule(b, PRIMITIVES["iota"], [], [], dict(shape=(2, 3), dtype=np.dtype(np.int64), axis=1))
    assert dims == [None] and outs[0].shape == (2, 3)


@pytest.mark.parametrize("n", [0, 4])
@pytest.mark.parametrize("name,method", [("random_normal", "standard_normal"), ("random_uniform", "random"),
                                         ("random_exponential", "standard_exponential")])
def test_batched_draw_consumes_stream_like_the_loop(name, method, n):
    plain, batched = np.random.default_rng(5), np.random.default_rng(5)
    rows = [getattr(plain, method)((2, 3)) for _ in range(n)]
    b = EagerBuilder(axis_size=n)
    (gen, vals), dims = apply_rule(b, PRIMITIVES[name], [batched], [0], dict(shape=(2, 3), dtype=np.dtype("float64")))
    assert dims == [None, 0]
    np.testing.assert_array_equal(vals, np.stack(rows) if n else np.zeros((0, 2, 3)))
    assert gen.bit_generator.state == plain.bit_generator.state


@pytest.mark.parametrize("n", [0, 1, 5])
@pytest.mark.parametrize("name,method", [("legacy_uniform", "random_sample"), ("legacy_normal", "standard_normal")])
def test_batched_legacy_draw_consumes_the_state_like_the_loop(name, method, n):
    """NumPy's legacy state (a uint32 array): n draws at once leave it, and give
    the values, as n draws one by one (the polar method's cached gaussian too)."""
    from looptrace.tracer.legacy_random import state_array

    plain = np.random.RandomState(7)
    plain.standard_normal()  # a cached second gaussian
    state = state_array(plain)
    rows = [getattr(plain, method)((2, 3)) for _ in range(n)]
    b = EagerBuilder(axis_size=n)
    (new, vals), dims = apply_rule(b, PRIMITIVES[name], [state], [0], dict(shape=(2, 3)))
    assert dims == [None, 0]
    np.testing.assert_array_equal(vals, np.stack(rows) if n else np.zeros((0, 2, 3)))
    np.testing.assert_array_equal(new, state_array(plain))


def test_legacy_seed_in_a_loop_is_not_batched():
    from looptrace.ops.batching_helpers import NotBatchable

    with pytest.raises(NotBatchable, match="seed in a loop"):
        PRIMITIVES["legacy_seed"].batch(EagerBuilder(axis_size=3), [np.zeros(628, np.uint32), np.int64(1)], [None, 0])


@pytest.mark.parametrize("n", [0, 1, 4])
@pytest.mark.parametrize("batched", [(0,), (1,), (0, 1)])
def test_batched_check_raises_the_first_failure_of_the_loop(n, batched, rng):
    """check(p, q) batched over n iterations raises what the loop of n
    checks raises first: the earliest iteration, then the first predicate."""
    from looptrace.ir.core import SourceLoc
    from looptrace.ops.check import Failure

    failures = (Failure(ValueError("p"), SourceLoc("f.py", 1)), Failure(KeyError("q"), SourceLoc("f.py", 2)))
    for _ in range(20):
        rows = [[rng.random((2,)) < 0.2 for _ in range(2)] for _ in range(n)]
        base = [rng.random((2,)) < 0.2 for _ in range(2)]
        per = [[r[j] if j in batched else base[j] for j in range(2)] for r in rows]
        expected = None
        for p in per:
            try:
                PRIMITIVES["check"].impl(*p, failures=failures)
            except Exception as e:
                expected = type(e)
                break
        args = [np.stack([r[j] for r in rows]) if j in batched and n else
                (np.zeros((0, 2), bool) if j in batched else base[j]) for j in range(2)]
        dims = [0 if j in batched else None for j in range(2)]
        got = None
        try:
            PRIMITIVES["check"].batch(EagerBuilder(axis_size=n), args, dims, failures=failures)
        except Exception as e:
            got = type(e)
        assert got is expected


@pytest.mark.parametrize("n", [0, 3])
def test_dynamic_prefix_batches_over_data(n, rng):
    x = rng.random((n, 5, 2))
    (out,), _ = apply_rule(EagerBuilder(n), PRIMITIVES["dynamic_prefix"], [x, np.int64(3)], [0, None], {})
    np.testing.assert_array_equal(out, x[:, :3])
    with pytest.raises(NotBatchable):
        apply_rule(EagerBuilder(n), PRIMITIVES["dynamic_prefix"], [x, np.arange(n)], [0, 0], {})


@pytest.mark.parametrize("n", [0, 4])
def test_batched_integers_consume_the_stream_like_the_loop(n):
    plain, batched = np.random.default_rng(6), np.random.default_rng(6)
    rows = [plain.integers(-3, 1000, (2, 3)) for _ in range(n)]
    b = EagerBuilder(axis_size=n)
    (gen, vals), dims = apply_rule(b, PRIMITIVES["random_integers"], [batched, np.int64(-3), np.int64(1000)],
                                   [0, None, None], dict(shape=(2, 3), dtype=np.dtype("int64"), endpoint=False))
    assert dims == [None, 0]
    np.testing.assert_array_equal(vals, np.stack(rows) if n else np.zeros((0, 2, 3)))
    assert gen.bit_generator.state == plain.bit_generator.state
