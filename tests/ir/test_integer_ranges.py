"""Integer ranges by interval arithmetic (ir/ranges.py): each range holds
every element the ops compute, checked by running the ops on the
interpreter's NumPy implementations over the whole leaf range."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace  # noqa: F401  (registers the primitives)
from looptrace.ir.builder import EagerBuilder, IRBuilder
from looptrace.ir.core import Value, literal
from looptrace.ir.ranges import Ranges, progression, range_in_block


def _leaf(v: Value, lo: int, hi: int):
    return lambda u: (lo, hi) if u.id == v.id else None


def _wrap_program(n: int):
    b = IRBuilder()
    s = Value(np.dtype(np.int64), ())
    neg = b.op("less", s, literal(np.int64(0)))
    wrapped = b.op("select", neg, b.op("add", s, literal(np.int64(n))), s)
    return b, s, wrapped


def test_negative_index_wrap_is_inside_the_axis():
    b, s, wrapped = _wrap_program(10)
    ranges = Ranges(_leaf(s, -10, 9))
    for op in b.ops:
        ranges.learn(op)
    assert ranges.of(wrapped) == (0, 9)
    ranges = Ranges(_leaf(s, -11, 9))
    for op in b.ops:
        ranges.learn(op)
    assert ranges.of(wrapped) == (-1, 9)  # -11 wraps to -1: not inside


def test_a_branch_never_taken_adds_nothing():
    b, s, wrapped = _wrap_program(10)
    ranges = Ranges(_leaf(s, 2, 7))
    for op in b.ops:
        ranges.learn(op)
    assert ranges.of(wrapped) == (2, 7)


def test_progressions():
    assert progression(literal(np.arange(5))) == (0, 1)
    assert progression(literal(np.arange(3, 20, 4))) == (3, 4)
    assert progression(literal(np.array([1, 2, 4]))) is None
    assert progression(literal(np.arange(5.0))) is None
    assert progression(literal(np.array([7]))) is None


OPS = ("add", "subtract", "multiply", "minimum", "maximum")


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(-6, 6), st.booleans()), min_size=1, max_size=5),
       n=st.integers(1, 9), shift=st.integers(-5, 5))
def test_ranges_hold_every_computed_element(ops, n, shift):
    """A chain over an iota and constants: the computed range contains every element."""
    b = IRBuilder()
    v = b.op("add", b.op("iota", shape=(n,), dtype=np.dtype(np.int64), axis=0), literal(np.int64(shift)))
    for name, c, left in ops:
        k = literal(np.int64(c))
        v = b.op(name, k, v) if left else b.op(name, v, k)
    producer = {op.out.id: op for op in b.ops}
    r = range_in_block(v, producer)
    eager, env = EagerBuilder(), {}
    for op in b.ops:
        args = [env[u.id] if u.id in env else np.asarray(u.const) for u in op.inputs]
        env[op.out.id] = eager.op(op.prim.name, *args, **op.attrs)
    got = env[v.id]
    assert r is not None
    assert r[0] <= got.min() and got.max() <= r[1], (r, got)


@pytest.mark.parametrize("dtype", [np.int8, np.int64])
def test_arithmetic_that_could_wrap_has_no_range(dtype):
    b = IRBuilder()
    big = np.iinfo(dtype).max
    x = b.op("iota", shape=(4,), dtype=np.dtype(dtype), axis=0)
    v = b.op("add", x, literal(np.array(big, dtype=dtype)))
    assert range_in_block(v, {op.out.id: op for op in b.ops}) is None


def test_a_binary_search_index_stays_inside_the_table():
    """np.searchsorted's halvings (tracer/np_extra.py): lo, hi start at 0 and
    n and move to mid + 1 or mid by selects; the index min(mid, n - 1) read at
    every step is inside [0, n - 1] however many steps (each value is looked
    at once: both halves of every step read the last lo and hi)."""
    n, steps = 1000, 24
    b = IRBuilder()
    cond = Value(np.dtype(np.bool_), (5,))
    lo = b.op("broadcast_to", literal(np.int64(0)), shape=(5,))
    hi = b.op("broadcast_to", literal(np.int64(n)), shape=(5,))
    for _ in range(steps):
        mid = b.op("right_shift", b.op("add", lo, hi), literal(np.int64(1)))
        at = b.op("minimum", mid, literal(np.int64(n - 1)))
        lo = b.op("select", cond, b.op("add", mid, literal(np.int64(1))), lo)
        hi = b.op("select", cond, mid, hi)
    producer = {v.id: op for op in b.ops for v in op.outputs}
    assert range_in_block(at, producer) == (0, n - 1)
    assert range_in_block(lo, producer) == (0, n + 1)


def test_a_clipped_then_wrapped_index_is_inside_the_axis():
    """np.add.at's index past its bounds check (tracer/advanced.py
    `_checked`): clip(i, -n, n - 1) of an index of unknown range, then the
    negative wrap; range_in_block refines each branch of the select by its
    test, as Ranges does. The check before the clip is what makes it exact."""
    n = 64
    b = IRBuilder()
    i = Value(np.dtype(np.int64), (9,))
    clipped = b.op("minimum", b.op("maximum", i, literal(np.int64(-n))), literal(np.int64(n - 1)))
    wrapped = b.op("select", b.op("less", clipped, literal(np.int64(0))),
                   b.op("add", clipped, literal(np.int64(n))), clipped)
    producer = {v.id: op for op in b.ops for v in op.outputs}
    assert range_in_block(clipped, producer) == (-n, n - 1)
    assert range_in_block(wrapped, producer) == (0, n - 1)
    unclipped = b.op("select", b.op("less", i, literal(np.int64(0))), b.op("add", i, literal(np.int64(n))), i)
    producer = {v.id: op for op in b.ops for v in op.outputs}
    assert range_in_block(unclipped, producer) is None  # nothing known of i: no range


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 8), shift=st.integers(-5, 5), scale=st.integers(-3, 3), at=st.integers(0, 7),
       picks=st.lists(st.integers(-8, 7), min_size=1, max_size=6), order=st.permutations(range(5)))
def test_reads_and_writes_of_arrays_keep_their_elements_range(n, shift, scale, at, picks, order):
    """A slice, dynamic slice, gather or transpose holds some of its array's
    elements; an array with a part written holds either's; a concatenation
    any of its parts': each computed range contains every element."""
    b = IRBuilder()
    i64 = np.dtype(np.int64)
    a = b.op("add", b.op("multiply", b.op("iota", shape=(n, 3), dtype=i64, axis=0), literal(np.int64(scale))),
             literal(np.int64(shift)))
    c = b.op("remainder", b.op("iota", shape=(n, 3), dtype=i64, axis=1), literal(np.int64(2)))
    start = literal(np.int64(at % n))
    made = {
        0: lambda: b.op("slice", a, starts=(1, 0), stops=(n, 2), steps=(1, 1)),
        1: lambda: b.op("dynamic_slice", a, start, literal(np.int64(0)), sizes=(1, 3)),
        2: lambda: b.op("gather", a, literal(np.array([p % n for p in picks], dtype=np.int64)), axis=0),
        3: lambda: b.op("transpose", c, perm=(1, 0)),
        4: lambda: b.op("dynamic_update_slice", a, b.op("slice", c, starts=(0, 0), stops=(1, 3), steps=(1, 1)),
                        start, literal(np.int64(0))),
    }
    outs = [made[k]() for k in order]
    outs.append(b.op("concatenate", a, c, axis=0))
    producer = {v.id: op for op in b.ops for v in op.outputs}
    eager, env = EagerBuilder(), {}
    for op in b.ops:
        args = [env[u.id] if u.id in env else np.asarray(u.const) for u in op.inputs]
        env[op.out.id] = eager.op(op.prim.name, *args, **op.attrs)
    for v in outs:
        r = range_in_block(v, producer)
        got = env[v.id]
        assert r is not None and r[0] <= got.min() and got.max() <= r[1], (v, r, got)


def test_nested_ranges_give_loop_indices_and_what_is_read_at_them():
    """nested_ranges over a traced program: the index of a counted loop, and
    a neighbour table (i + 1) % n computed before the loop and read in it
    (the table's elements as traced: a dynamic_slice of it, reshaped)."""
    from looptrace.ir.core import walk
    from looptrace.ir.ranges import nested_ranges

    def ring(x):
        n = x.shape[0]
        nxt = (np.arange(n) + 1) % n
        s = 0.0
        for i in range(2, n):
            s = s * 0.5 + x[nxt[i]]
        return s

    program = looptrace.jit(ring, backend="interpret").trace([np.ones(12)])  # as traced: the loop is there
    found = nested_ranges(program.body)
    loops = [op for op in walk(program.body) if op.prim.name == "for_loop"]
    assert loops and all(found[op.blocks[0].args[0].id] == (2, 11) for op in loops)
    reads = [op for op in walk(program.body) if op.prim.name == "dynamic_slice" and op.inputs[0].dtype == np.int64]
    assert reads and all(found[op.out.id] == (0, 11) for op in reads)
    assert all(found[op.out.id] == (0, 11) for op in walk(program.body)
               if op.prim.name == "reshape" and any(op.inputs[0] is r.out for r in reads))


CMP = ("less", "less_equal", "greater", "greater_equal")


@settings(max_examples=80, deadline=None)
@given(parts=st.lists(st.tuples(st.sampled_from(CMP), st.integers(-12, 12), st.booleans()), min_size=1, max_size=4),
       joins=st.lists(st.sampled_from(["and", "or", "select_and", "select_or"]), min_size=3, max_size=3),
       pick_first=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_a_select_under_a_compound_test_stays_in_its_range(parts, joins, pick_first, seed):
    """select(test, u, 3) or select(test, 3, u) with u of unknown range and
    test comparisons of u with constants (either side) joined by and/or
    (or their select forms): the range found holds every element."""
    b = IRBuilder()
    u = Value(np.dtype(np.int64), (64,))
    tests = []
    for name, k, const_left in parts:
        kk = literal(np.int64(k))
        tests.append(b.op(name, kk, u) if const_left else b.op(name, u, kk))
    t = tests[0]
    for join, other in zip(joins, tests[1:]):
        if join == "and":
            t = b.op("logical_and", t, other)
        elif join == "or":
            t = b.op("logical_or", t, other)
        elif join == "select_and":
            t = b.op("select", t, other, literal(np.bool_(False)))
        else:
            t = b.op("select", t, literal(np.bool_(True)), other)
    three = literal(np.int64(3))
    out = b.op("select", t, u, three) if pick_first else b.op("select", t, three, u)
    producer = {v.id: op for op in b.ops for v in op.outputs}
    r = range_in_block(out, producer)
    values = np.random.default_rng(seed).integers(-40, 40, 64)
    eager, env = EagerBuilder(), {u.id: values}
    for op in b.ops:
        args = [env[v.id] if v.id in env else np.asarray(v.const) for v in op.inputs]
        env[op.out.id] = eager.op(op.prim.name, *args, **op.attrs)
    got = env[out.id]
    if r is not None:
        assert r[0] <= got.min() and got.max() <= r[1], (r, got)


def test_a_bin_index_tested_on_both_sides_is_inside_the_axis():
    """`if 0 <= b < n: hist[b] += 1` with b from a float (no range of its
    own): select(b >= 0 and b < n, b, 0) lies in [0, n - 1], in each
    spelling of the `and`."""
    n = 32
    for spelling in ("logical_and", "select"):
        b = IRBuilder()
        u = Value(np.dtype(np.int64), (9,))
        lo, hi = b.op("greater_equal", u, literal(np.int64(0))), b.op("less", u, literal(np.int64(n)))
        both = b.op("logical_and", lo, hi) if spelling == "logical_and" else \
            b.op("select", lo, hi, literal(np.bool_(False)))
        at = b.op("select", both, u, literal(np.int64(0)))
        producer = {v.id: op for op in b.ops for v in op.outputs}
        assert range_in_block(at, producer) == (0, n - 1)
        either = b.op("select", b.op("logical_or", lo, hi), u, literal(np.int64(0)))
        producer = {v.id: op for op in b.ops for v in op.outputs}
        assert range_in_block(either, producer) is None  # u >= 0 or u < n bounds nothing


def test_a_convert_from_a_narrower_dtype_holds_that_dtype():
    """An argument has no range, but widened it holds what its dtype holds;
    narrowed, or from a float, nothing is known."""
    b = IRBuilder()
    x32, x64, xf = Value(np.dtype(np.int32), (4,)), Value(np.dtype(np.int64), (4,)), Value(np.dtype(np.float64), (4,))
    wide = b.op("convert", x32, dtype=np.dtype(np.int64))
    narrow = b.op("convert", x64, dtype=np.dtype(np.int32))
    from_float = b.op("convert", xf, dtype=np.dtype(np.int64))
    flag = b.op("convert", b.op("less", x32, literal(np.int32(0))), dtype=np.dtype(np.uint8))
    ranges = Ranges()
    for op in b.ops:
        ranges.learn(op)
    assert ranges.of(wide) == (-2**31, 2**31 - 1)
    assert ranges.of(narrow) is None and ranges.of(from_float) is None
    assert ranges.of(flag) == (0, 1)


def _blur_sum(img):
    s = 0
    for di in range(3):
        for dj in range(3):
            s += int(img[di, dj])
    return s


def _mixed_steps(x):
    s = 7
    for i in range(4):
        s -= int(x[i])
        t = 0
        for j in range(2):
            t += int(x[j]) * 2
        s += t + int(x[i]) * int(x[0])
    return s


def _accumulator_ranges(fn, arr):
    from looptrace.ir.core import walk
    from looptrace.ir.ranges import nested_ranges

    program = looptrace.jit(fn, backend="interpret").trace([arr])
    found = nested_ranges(program.body)
    outer = next(op for op in program.body.ops if op.prim.name == "for_loop")
    return [found.get(v.id) for v in outer.outputs if v.dtype == np.int64 and v.shape == ()], [
        op for op in walk(program.body) if op.prim.name == "for_loop"]


@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from([np.uint8, np.int8, np.int16]), seed=st.integers(0, 2 ** 16),
       extreme=st.booleans())
def test_an_accumulator_stays_in_the_range_its_terms_give(dtype, seed, extreme):
    """An int accumulator of counted loops (nested ones adding to it too)
    has the range its entry and its terms' ranges give over the trips
    (ir/ranges.py `_accumulated`): the plain function's sum lies in it. It
    let the exact-int check of `s += int(img[i + di, j + dj])` go (a box blur
    of uint8 pixels: 30 ms with two shadow sums and a check, 1.8 ms without)."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    for fn, shape in ((_blur_sum, (3, 3)), (_mixed_steps, (4,))):
        arr = np.full(shape, info.max if seed % 2 else info.min, dtype) if extreme else \
            rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
        ranges, _ = _accumulator_ranges(fn, arr)
        want = fn(arr)
        assert ranges and ranges[0] is not None
        assert ranges[0][0] <= want <= ranges[0][1]
    ranges, _ = _accumulator_ranges(_blur_sum, np.zeros((3, 3), dtype))
    assert ranges[0] == (9 * info.min if info.min < 0 else 0, 9 * info.max)


def _unbounded(x):
    s = 0
    for i in range(3):
        s += int(x[i])
    return s


def test_an_accumulator_of_int64_terms_has_no_range():
    ranges, _ = _accumulator_ranges(_unbounded, np.arange(3))
    assert ranges and all(r is None for r in ranges)  # (the sum and its two exact shadow sums)
