"""A Python-int accumulator past 64 bits: plain Python makes a big integer,
looptrace raises OverflowError (tracer/python_sums.py), checked once after
the loop so the loop stays a reduction; a sum that wraps on the way and ends
in range is exact. A NumPy int64 accumulator wraps around, as NumPy's does."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import looptrace
from looptrace.ir.core import walk

B = 2**62


def cubes(n):
    s = 0
    for k in range(n):
        s += k ** 3
    return s


def squares_of_items(a):
    s = 0
    for i in range(a.shape[0]):
        s += int(a[i]) * int(a[i])
    return s


def signed_by(a, c):
    s = 0
    for i in range(a.shape[0]):
        if c[i] > 0:
            s += int(a[i])
        else:
            s -= int(a[i])
    return s


def items(a):
    s = 0
    for i in range(a.shape[0]):
        s += int(a[i])
    return s


def running(a):
    s = 0
    out = np.zeros(a.shape[0], dtype=np.int64)
    for i in range(a.shape[0]):
        s += int(a[i])
        out[i] = s
    return out


def while_items(a):
    s = 0
    i = 0
    while i < a.shape[0]:
        s += int(a[i])
        i += 1
    return s


def reset_or_add(a, c):
    s = 5
    for i in range(a.shape[0]):
        s = s + int(a[i]) if c[i] > 0 else 0
        s += 1
    return s


def two_sums(a):
    lo, hi = 0, 0
    for i in range(a.shape[0]):
        lo += int(a[i]) // 2
        hi -= int(a[i])
    return lo, hi


def nested(a):
    total = 0
    for i in range(a.shape[0]):
        row = 0
        for j in range(a.shape[1]):
            row += int(a[i, j])
        total += row
    return total


def numpy_ints(a):
    s = np.int64(0)
    for i in range(a.shape[0]):
        s += a[i]
    return s


def plain(fn, *args):
    """fn's result, or "OverflowError" where the plain result leaves int64 (a big int)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            r = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    except OverflowError:
        return "OverflowError"
    leaves = [r] if not isinstance(r, tuple) else list(r)
    if any(type(x) is int and not -2**63 <= x < 2**63 for x in leaves):
        return "OverflowError"
    return r


def compiled(f, *args):
    try:
        return f(*args)
    except OverflowError as e:
        assert "64 bits" in str(e)
        return "OverflowError"


def same(got, want):
    if isinstance(want, str):
        return got == want
    if isinstance(want, tuple):
        return isinstance(got, tuple) and all(same(g, w) for g, w in zip(got, want))
    return np.array_equal(got, want) and type(got) is type(want)


CASES = [
    (cubes, (100000,)), (cubes, (1000,)),
    (squares_of_items, (np.full(10, 2**31),)), (squares_of_items, (np.arange(10),)),
    (signed_by, (np.array([B, B, B, 5]), np.array([1., 1, -1, 1]))),
    (signed_by, (np.array([B, B, B, 5]), np.array([1., 1, 1, 1]))),
    (signed_by, (np.array([B, B, B, B, B]), np.array([-1., -1, -1, -1, 1]))),
    (items, (np.array([B, B, -B, -B, 7]),)), (items, (np.array([B, B, B, -B, 7]),)),
    (running, (np.array([B, B, -B, -B, 7]),)), (running, (np.array([1, 2, 3]),)),
    (while_items, (np.array([B, B, -B, -B, 7]),)), (while_items, (np.array([B, B, 7]),)),
    (reset_or_add, (np.array([B, B, -B, B, B, 1]), np.array([1., 1, -1, 1, 1, 1]))),
    (reset_or_add, (np.array([B, B, -B, B, 1]), np.array([1., 1, -1, 1, 1]))),
    (two_sums, (np.array([B, B, B, 3]),)), (two_sums, (np.array([B, -B, 3]),)),
    (nested, (np.array([[B, B - 1], [-B, -B], [5, 1]]),)), (nested, (np.array([[B, B - 1], [B, B - 1], [-B, 1]]),)),
    (numpy_ints, (np.array([B, B, B, 3]),)),
]


@pytest.mark.parametrize("fn,args", CASES, ids=[f"{fn.__name__}{k}" for k, (fn, _) in enumerate(CASES)])
def test_sums_past_64_bits_raise_and_sums_in_range_are_exact(fn, args):
    want = plain(fn, *args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = compiled(looptrace.jit(fn, backend="interpret"), *args)
    assert same(got, want), (got, want)


@pytest.mark.parametrize("fn,args", [CASES[i] for i in (0, 2, 4, 5, 7, 8, 13, 17)])
def test_cpu(fn, args):
    want = plain(fn, *args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = compiled(looptrace.jit(fn, backend="cpu"), *args)
    assert same(got, want), (got, want)


@pytest.mark.parametrize("fn,args,kind", [(squares_of_items, (np.arange(9),), "reduction"),
                                          (items, (np.arange(9),), "reduction"),
                                          (signed_by, (np.arange(9), np.ones(9)), "reduction"),
                                          (two_sums, (np.arange(9),), "reduction")])
def test_the_check_keeps_the_reduction(fn, args, kind):
    """The exact sum is two more int sums beside the accumulator, not a
    check per iteration: the loop stays a reduction, and explain names the
    user's variables only."""
    (loop,) = looptrace.explain(looptrace.jit(fn, backend="interpret"), *args).loops
    assert loop.kind == kind
    assert "exact sum" not in loop.reason


TERMS = st.lists(st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(-2**62, 2**62),
                           st.integers(-1000, 1000)), min_size=0, max_size=12)


@settings(max_examples=60, deadline=None)
@given(TERMS, st.lists(st.booleans(), min_size=12, max_size=12), st.integers(-2**63, 2**63 - 1))
def test_generated_sums(terms, signs, start):
    """Any terms, added or subtracted under a condition, from any start: the
    plain function's result where it fits in int64, OverflowError where not."""
    a = np.array(terms, dtype=np.int64)
    c = np.array(signs[:len(terms)], dtype=float) - 0.5

    def fn(a, c, s):
        for i in range(a.shape[0]):
            if c[i] > 0:
                s += int(a[i])
            else:
                s -= int(a[i])
        return s

    want = plain(fn, a, c, start)
    assert same(compiled(looptrace.jit(fn, backend="interpret"), a, c, start), want)


def sentinel_min(a):
    best = 2**64
    for i in range(a.shape[0]):
        best = min(best, int(a[i]))
    return best


def sentinel_compare(a):
    best = 2**64
    for i in range(a.shape[0]):
        if a[i] < best:
            best = a[i]
    return best


@pytest.mark.parametrize("fn", [sentinel_min, sentinel_compare])
def test_a_python_int_past_64_bits_carried_is_refused_clearly(fn):
    """A sentinel 2**64 carried around a loop: a clear error naming it (a
    KeyError 'O' from inside looptrace before: probe J F13)."""
    with pytest.raises(looptrace.UnsupportedError, match="past 64 bits") as e:
        looptrace.jit(fn, backend="interpret")(np.array([5, 3, 9]))
    assert "sys.maxsize" in str(e.value) and "test_python_int_accumulators.py" in str(e.value)


def compare_beyond(a):
    return a[0] < 10**30, a[1] == 2**64


def test_a_comparison_with_one_stays_exact():
    a = np.array([5, 3])
    assert looptrace.jit(compare_beyond, backend="interpret")(a) == compare_beyond(a)


# --- probe M (s36): sums of two converted elements, 2**63 in a comparison, a 64-bit mask --------------------
def difference_of_items(a, b):
    r = 0
    for i in range(a.shape[0]):
        r = int(a[i]) - int(b[i])
    return r


def sum_of_items(a, b):
    r = 0
    for i in range(a.shape[0]):
        r = int(a[i]) + int(b[i])
    return r


@pytest.mark.parametrize("fn", [difference_of_items, sum_of_items])
def test_a_sum_of_two_items_past_64_bits_raises(fn):
    """Neither side carried: checked exactly where it is computed (it wrapped
    to -4611686018427387905 for 13835058055282163711 before)."""
    a, b = np.array([2**63 - 1]), np.array([-2**62 if fn is difference_of_items else 2**62])
    assert compiled(looptrace.jit(fn, backend="interpret"), a, b) == plain(fn, a, b) == "OverflowError"
    small = np.array([5, -7]), np.array([3, 2**62])
    assert compiled(looptrace.jit(fn, backend="interpret"), *small) == fn(*small)


def below_2_63(a):
    c = 0
    for i in range(a.shape[0]):
        if a[i] < 2**63:
            c += 1
        if abs(a[i]) == 9223372036854775808:
            c += 100
    return c


def test_a_signed_int_against_2_63_is_one_answer():
    """NumPy 2 compares np.int64 with 2**63 exactly (a raw OverflowError before)."""
    a = np.array([1, -5, 7])
    assert looptrace.jit(below_2_63, backend="interpret")(a) == below_2_63(a) == 3


def masked_hash(a):
    h = 5381
    for i in range(a.shape[0]):
        h = ((h << 5) + h) ^ int(a[i])
        h &= (1 << 64) - 1
    return h


def test_a_python_int_mask_past_64_bits_is_refused_clearly():
    """A raw 'Python int too large to convert to C long' at run time before."""
    with pytest.raises(looptrace.UnsupportedError, match="18446744073709551615 past 64 bits") as e:
        looptrace.jit(masked_hash, backend="interpret")(np.arange(14))
    assert "np.uint64" in str(e.value)


def absolute_item(a):
    r = 0
    for i in range(a.shape[0]):
        r = abs(int(a[i]))
    return r


def item_plus_one(a):
    r = 0
    for i in range(a.shape[0]):
        r = int(a[i]) + 1
    return r


def negated_item(a):
    r = 0
    for i in range(a.shape[0]):
        r = -int(a[i]) - 2
    return r


@pytest.mark.parametrize("fn,edge", [(absolute_item, -2**63), (item_plus_one, 2**63 - 1),
                                     (negated_item, 2**63 - 1)])
def test_unary_ops_and_constant_steps_past_64_bits_raise(fn, edge):
    """abs(-2**63), -(-2**63), (2**63 - 1) + 1 of Python ints are 2**63 in plain Python (they wrapped, probe M)."""
    f = looptrace.jit(fn, backend="interpret")
    a = np.array([5, edge])
    assert compiled(f, a) == plain(fn, a) == "OverflowError"
    assert compiled(f, np.array([7, -9])) == fn(np.array([7, -9]))


def float_powers(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += float(a[i]) ** 2 + 10.0 ** (float(a[i]) / 1e306)
    return s


def test_a_python_float_power_past_the_float_range_raises():
    """Python's float ** raises OverflowError (34, ...) where NumPy gives inf (probe M)."""
    f = looptrace.jit(float_powers, backend="interpret")
    for a in (np.array([1.0, 1e308]), np.array([1.0, -1e308])):
        with pytest.raises(OverflowError, match="Numerical result out of range"):
            float_powers(a)
        with pytest.raises(OverflowError, match="Numerical result out of range"):
            f(a)
    ok = np.array([1.5, -2.0, np.inf])
    assert f(ok) == float_powers(ok)


def sentinel_2_63(a):
    m = 2**63
    for i in range(a.shape[0]):
        m = min(m, int(a[i]))
    return m


def test_a_python_int_sentinel_of_2_63_is_refused_clearly():
    """2**63 fits uint64, not int64: a raw OverflowError from inside looptrace before (probe N)."""
    with pytest.raises(looptrace.UnsupportedError, match="past 64 bits"):
        looptrace.jit(sentinel_2_63, backend="interpret")(np.array([8, 2, 3]))


def uint64_constants(u):
    return (u & 0xFFFFFFFFFFFFFFFF) ^ (u * 1099511628211 + 2**63)


def test_uint64_arrays_keep_their_big_constants():
    u = np.array([1, 2**63 + 5, 2**64 - 1], dtype=np.uint64)
    np.testing.assert_array_equal(looptrace.jit(uint64_constants, backend="interpret")(u), uint64_constants(u))


def constant_steps(a):
    s = 2**63 - 1
    t = 0
    for i in range(a.shape[0]):
        s += 1
        t -= 2**62
    return s, t


def floor_by_minus_one(a):
    return int(a[0]) // int(a[1]), divmod(int(a[0]), int(a[1]))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_constant_steps_and_floor_division_past_64_bits_raise(backend):
    """s += 1 from 2**63 - 1, s -= 2**62 four times, -2**63 // -1: plain
    Python's big ints; each wrapped silently (probe N W1, W4)."""
    with pytest.raises(OverflowError, match="64 bits"):
        looptrace.jit(constant_steps, backend=backend)(np.zeros(4))
    with pytest.raises(OverflowError, match="64 bits"):
        looptrace.jit(floor_by_minus_one, backend=backend)(np.array([-2**63, -1]))
    a = np.array([-7, 2])
    assert looptrace.jit(floor_by_minus_one, backend=backend)(a) == floor_by_minus_one(a)


def counters(x):
    n, m = 0, 0
    for i in range(x.shape[0]):
        n += 1
        if x[i] > 0:
            m += 1
    return n, m


def test_small_counters_get_no_exact_sum():
    """A counter from a small start by small steps cannot leave 64 bits in
    any loop that ends: no shadow sums, no check."""
    x = np.random.default_rng(0).standard_normal(9)
    f = looptrace.jit(counters, backend="interpret")
    assert f(x) == counters(x)
    body = next(iter(f._fast.values()))[0].traced.body
    assert not any(op.prim.name == "check" for op in walk(body))


def box_blur_u8(img):
    n, m = img.shape
    out = np.zeros((n, m), dtype=np.uint8)
    for i in range(1, n - 1):
        for j in range(1, m - 1):
            s = 0
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    s += int(img[i + di, j + dj])
            out[i, j] = s // 9
    return out


def test_a_sum_its_terms_bound_needs_no_exact_sums(rng):
    """`s += int(img[...])` of uint8 pixels over two nested 3-trip loops: the
    ranges bound it (ir/ranges.py `_accumulated`), so it gets no shadow sums
    and no check, nor does the uint8 store of s // 9 (probe O: the box blur
    took 47 ms, 0.001x njit, with them). The cpu kernel's source through
    explain (no Numba compile), its values on the interpreter: the cpu
    values of box_blur_u8 run in tests/codegen/test_cpu_branch_element_writes.py
    test_a_gather_inside_its_axis_is_marked_non_negative."""
    img = rng.integers(0, 256, (12, 9)).astype(np.uint8)
    np.testing.assert_array_equal(looptrace.jit(box_blur_u8, backend="interpret")(img), box_blur_u8(img))
    src = looptrace.explain(looptrace.jit(box_blur_u8, backend="cpu"), img).kernel_source
    assert "4294967295" not in src and "CheckFailed" not in src
