"""A Python list of numbers as an argument, traced once (s55, issue 11).

Each number of a list argument was an argument of its own and every loop
over the list was unrolled while tracing: 10000 numbers did not finish a cpu
compile in 6 minutes, and `xs[i]` at a traced index past 64 iterations was
refused. A list of more than pytree.NUMBER_LIST_FROM - 1 numbers of one type
(Python floats, ints or bools, or one NumPy scalar type) is now passed as one
array, keyed on its length and type, and handed to the function as a list
grown in a loop is held (one Segment of that array): iteration, enumerate,
zip, indexing (IndexError as Python's), len, sum, sorted, `in`, slices and
NumPy functions of it are traced once; each item reads back as the type it
had. A function that changes the list (append, item assignment) is refused,
as for any container argument. Checked against the plain function (values,
types, effects on the argument) on the interpreter; one cpu compile.
"""

import copy

import numpy as np
import pytest

import looptrace
from looptrace import pytree
from looptrace.errors import UnsupportedError

N = pytree.NUMBER_LIST_FROM + 35  # (100)


def squares(xs):
    s = 0.0
    for v in xs:
        s += v * v
    return s


def weighted(xs, w):
    acc = 0.0
    for i in range(len(xs)):
        acc += xs[i] * w[i]
    return acc


def enumerated(xs, w):
    best, at = xs[0], 0
    for i, v in enumerate(xs):
        if v * w[i] > best:
            best, at = v * w[i], i
    return best, at


def zipped(xs, w):
    s = 0.0
    for a, b in zip(xs, w):
        s += a * b
    return s


def reads(xs):
    return len(xs), xs[0], xs[-1], xs[7], sum(xs), max(xs), min(xs), xs[10:20]


def sorted_items(xs):  # (not after max/min: they expand the list into its items, and sorted() of
    return sorted(xs)[:3], sorted(xs, reverse=True)[0], 0.5 in xs  # more than 16 is refused)


def numpy_of(xs):
    a = np.array(xs)
    return a * 2, np.mean(xs), np.dot(xs, xs), np.cumsum(xs)[-1], np.shape(xs)


def iterated_by_python(xs, w):  # enumerate/zip objects that Python itself iterates: items keep their type
    return list(enumerate(xs))[3], next(iter(zip(xs, w))), max(enumerate(xs), key=lambda t: t[1])


def comprehension(xs):
    return sum(v * 2 for v in xs), [v + 1 for v in xs][3]


def reversed_items(xs):
    s = 0.0
    for v in reversed(xs):
        s = s * 0.5 + v
    return s


def returned(xs):
    return xs


def at(xs, k):
    return xs[k]


def counts(ks):
    s = 0
    for k in ks:
        s += k * k
    return s, ks[3], type(ks[3]) is int


def flags(bs):
    c = 0
    for b in bs:
        if b:
            c += 1
    return c, sum(bs), any(bs), all(bs), bs[1]


def appends(xs):
    xs.append(1.0)
    return len(xs)


def assigns(xs):
    xs[0] = 2.0
    return xs[0]


def in_a_dict(p):
    s = 0.0
    for v in p["xs"]:
        s += v * p["scale"]
    return s


def _same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.allclose(a, b, rtol=1e-12, equal_nan=True)
    if isinstance(a, (float, np.floating)):
        return bool(np.isclose(a, b, rtol=1e-12, equal_nan=True))
    return a == b


def _check(f, *args, backend="interpret"):
    plain_args, jit_args = copy.deepcopy(args), copy.deepcopy(args)
    want = f(*plain_args)
    got = looptrace.jit(f, backend=backend)(*jit_args)
    assert _same(got, want), (f.__name__, got, want)
    assert _same(jit_args, plain_args)  # (the arguments as the plain function left them)


def _floats(n=N, seed=0):
    return [float(v) for v in np.random.default_rng(seed).standard_normal(n)]


@pytest.mark.parametrize("f", [squares, reads, sorted_items, numpy_of, comprehension, reversed_items, returned],
                         ids=lambda f: f.__name__)
def test_read_only_uses(f):
    _check(f, _floats())


@pytest.mark.parametrize("f", [weighted, enumerated, zipped, iterated_by_python], ids=lambda f: f.__name__)
def test_with_an_array(f):
    _check(f, _floats(), np.random.default_rng(1).standard_normal(N))


def test_long_list_is_traced_once():  # 3000 numbers: one loop, no unrolling
    xs = _floats(3000)
    traced = looptrace.jit(enumerated, backend="interpret")
    w = np.random.default_rng(2).standard_normal(3000)
    assert _same(traced(xs, w), enumerated(xs, w))
    loops = looptrace.explain(traced, xs, w).loops
    assert len(loops) == 1 and "unrolled" not in str(loops[0])


def test_index_semantics():
    xs = _floats()
    for k in (0, 5, N - 1, -1, -N):
        _check(at, xs, k)
    for k in (N, -N - 1):
        with pytest.raises(IndexError, match="list index out of range"):
            looptrace.jit(at, backend="interpret")(xs, k)


def test_ints_and_bools_keep_their_types():
    rng = np.random.default_rng(3)
    _check(counts, [int(v) for v in rng.integers(-50, 50, N)])
    _check(flags, [bool(v) for v in rng.integers(0, 2, N)])
    _check(squares, list(rng.standard_normal(N)))  # np.float64 items: np.float64 results


def test_keyed_on_length_and_type():
    traced = looptrace.jit(squares, backend="interpret")
    for xs in (_floats(), _floats(seed=4), _floats(N + 7), [int(v * 10) for v in _floats()]):
        assert _same(traced(xs), squares(xs))
    mixed = _floats()
    mixed[4] = 3  # an int among floats: items of their own, as before
    assert _same(traced(mixed), squares(mixed))


def test_container_holding_a_list():
    _check(in_a_dict, {"xs": _floats(), "scale": 0.5})


@pytest.mark.parametrize("f", [appends, assigns], ids=lambda f: f.__name__)
def test_changing_the_list_is_refused(f):
    with pytest.raises(UnsupportedError, match="changes its container argument `xs`"):
        looptrace.jit(f, backend="interpret")(_floats())


def test_short_lists_unchanged():  # below the threshold: items of their own, as before
    xs = _floats(pytree.NUMBER_LIST_FROM - 1)
    leaves, tree = pytree.flatten(xs, "xs")
    assert tree.kind == "list" and len(leaves) == len(xs)
    _check(squares, xs)


def test_gradient():
    xs = _floats()
    g = looptrace.grad(squares, backend="interpret")(xs)
    assert type(g) is list and len(g) == N and type(g[0]) is np.float64  # (as for a list passed item by item)
    np.testing.assert_allclose(g, 2 * np.array(xs), rtol=1e-12)


def test_cpu():
    _check(squares, _floats(400), backend="cpu")




def test_ints_past_int64_stay_items():
    ks = [int(v) for v in np.random.default_rng(6).integers(0, 9, N)]
    ks[5] = 2**64
    assert pytree.number_list(ks) is None
    assert pytree.number_list([-v for v in ks]) is None


def test_any_and_all_past_the_expand_limit():  # (up to 256 items they are expanded, as before)
    rng = np.random.default_rng(7)
    _check(flags, [bool(v) for v in rng.integers(0, 2, 300)])
    for xs in ([0.0] * 300, [float("nan")] + [1.0] * 299):
        _check(lambda v: (any(v), all(v)), xs)


def test_warm_calls_read_the_list_each_call():  # (the generated warm call: pytree._number_list_reader)
    traced = looptrace.jit(squares, backend="interpret")
    a, b, longer = _floats(), _floats(seed=8), _floats(N + 20, seed=9)
    ints = [int(v * 10) for v in b]
    mixed = b[:]
    mixed[3] = 1
    for xs in (a, a, b, b, longer, ints, a, ints, mixed, longer, b):
        assert _same(traced(xs), squares(xs))


def test_written_at_a_traced_index_names_the_list():
    def doubles(xs):
        for i in range(len(xs)):
            xs[i] = xs[i] * 2.0
        return xs
    with pytest.raises(UnsupportedError, match=f"a Python list of {N} numbers is written at a traced index"):
        looptrace.jit(doubles, backend="interpret")(_floats())


def membership(xs, v):
    return 0.5 in xs, v in xs, 0.25 not in xs


def kept_membership(x):  # a list appended to under a condition (was False where it held 0.5)
    ys = []
    for i in range(x.shape[0]):
        if x[i] > 0:
            ys.append(float(x[i]))
    return 0.5 in ys, -1.0 in ys, float(x[3]) in ys


def test_membership_compares_values():  # (`0.5 in xs` compared the held Segment by identity: False)
    xs = _floats()
    xs[7] = 0.5
    for v in (0.5, xs[3], 0.75):
        _check(membership, xs, v)
    x = np.array(xs)
    x[3] = abs(x[3]) + 0.1
    _check(kept_membership, x)
    _check(kept_membership, x[:10])


def test_its_text_used_other_than_printed_is_refused():  # (its elements' text is known at run time)
    f = lambda xs, ys: len(str(xs))  # noqa: E731  (== and != compare values: test_segment_lists_s55.py)
    xs = _floats()
    with pytest.raises((UnsupportedError, looptrace.errors.TraceError)):
        looptrace.jit(f, backend="interpret")(xs, list(xs))
