"""`for x in np.nditer(...)` (tracer/nests.py): a loop nest traced once, in
NumPy's iteration order for the operands' layouts (memory order for 'K'),
with writes through 'readwrite' operands; unsupported flags and unknown
layouts are clear errors. Most checks on the interpret backend, then a few
programs on cpu and under the cuda simulator."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.tracer.nests import k_order
from tests.tracer._compare import assert_same

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- layouts: the same view of two copies of one base ---------------------------------------------------
LAYOUTS = {
    "C": lambda b: b,
    "F": lambda b: np.asfortranarray(b),
    "T": lambda b: b.T,
    "reversed": lambda b: b[::-1, ::-1] if b.ndim == 2 else b[::-1],
    "strided": lambda b: b[:, ::2] if b.ndim == 2 else b[::2],
    "mixed": lambda b: b.T[::-1] if b.ndim == 2 else b,
}


def _views(base, layout):
    """(plain's, jitted's) arguments: the same view of two separate copies."""
    return LAYOUTS[layout](base.copy()), LAYOUTS[layout](base.copy())


def compare(fn, *pairs, backend="interpret"):
    """fn on the plain side of each (plain, jitted) pair against jit(fn) on the
    other: results and the arguments' final contents."""
    plain, jitted = [p for p, _ in pairs], [j for _, j in pairs]
    want = fn(*plain)
    got = looptrace.jit(fn, backend=backend)(*jitted)
    assert_same(got, want)
    for g, e in zip(jitted, plain):
        np.testing.assert_array_equal(g, e)
    return got


# --- NumPy's order 'K', as a pure function ------------------------------------------------------------
def _operand(draw, shape):
    """A view with its own layout, of arange values (so positions are visible), broadcastable to shape."""
    nd = draw(st.integers(0, len(shape)))
    own = tuple(draw(st.sampled_from([1, d])) for d in shape[len(shape) - nd:])
    big = tuple(2 * d for d in own)
    base = np.arange(int(np.prod(big))).reshape(big)[tuple(slice(None, None, 2) for _ in own)] if own \
        else np.array(7)
    if nd >= 2 and draw(st.booleans()):
        perm = draw(st.permutations(range(nd)))
        base = np.ascontiguousarray(base.transpose(perm)).transpose(np.argsort(perm))
    flips = tuple(slice(None, None, -1) if draw(st.booleans()) else slice(None) for _ in range(nd))
    return base[flips] if nd else base


@st.composite
def operand_sets(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    return shape, [_operand(draw, shape) for _ in range(draw(st.integers(1, 3)))]


def _predicted(ops):
    shape = np.broadcast_shapes(*(a.shape for a in ops))
    layouts = []
    for a in ops:
        skip = len(shape) - a.ndim
        layouts.append((0,) * skip + tuple(0 if d == 1 else s for d, s in zip(a.shape, a.strides)))
    order = k_order(shape, layouts)
    seq = []
    for idx in np.ndindex(*(shape[a] for a, _ in order)):
        at = [0] * len(shape)
        for (a, flip), i in zip(order, idx):
            at[a] = shape[a] - 1 - i if flip else i
        seq.append(tuple(int(np.broadcast_to(a, shape)[tuple(at)]) for a in ops))
    return seq


@SETTINGS
@given(operand_sets())
def test_k_order_is_numpys(case):
    _, ops = case
    want = [tuple(int(v) for v in (item if isinstance(item, tuple) else (item,)))
            for item in np.nditer(ops if len(ops) > 1 else ops[0])]
    assert _predicted(ops) == want


# --- values, dtypes, writes --------------------------------------------------------------------------
def total_items(a):
    total = np.int32(0)
    for u in np.nditer(a):
        total += u.item()
    return total


def weighted_sequence(a, b):
    """Depends on the order: each element is weighted by its position in the iteration."""
    acc, k = 0.0, 0
    for u, v in np.nditer((a, b)):
        acc = acc * 0.75 + float(u) * v + k
        k += 1
    return acc


def running(a, w, out):
    s = 0.0
    for x, y, res in np.nditer((a, w, out), op_flags=[["readonly"], ["readonly"], ["readwrite"]]):
        s = 0.5 * s + x * y
        res[...] = s + res
    return s


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_iteration_order_follows_the_layout(layout, rng):
    base = rng.standard_normal((4, 6))
    compare(weighted_sequence, _views(base, layout), (np.float32(1.5), np.float32(1.5)))
    ints = rng.integers(-50, 50, (4, 6)).astype(np.int32)
    compare(total_items, _views(ints, layout))
    row = rng.standard_normal(_views(base, layout)[0].shape[-1])
    compare(weighted_sequence, _views(base, layout), (row, row.copy()))


@pytest.mark.parametrize("layout", ["C", "F", "reversed", "mixed"])
def test_readwrite_operand_is_written_in_order(layout, rng):
    a = _views(rng.standard_normal((5, 3) if layout in ("T", "mixed") else (3, 5)), layout)
    out = _views(rng.standard_normal((3, 5)), "F" if layout == "C" else "C")
    compare(running, a, (np.float64(2.0), np.float64(2.0)), out)


@pytest.mark.parametrize("order", ["C", "F", "A", "K"])
def test_order_argument(order, rng):
    def f(a, b):
        acc = 0.0
        for u, v in np.nditer([a, b], order=order):
            acc = acc * 0.5 + u - v
        return acc

    for layout in ("C", "F", "T"):
        b = rng.standard_normal((3, 4))
        compare(f, _views(rng.standard_normal((3, 4)), layout), _views(b, layout))


def test_items_are_zero_d_arrays_of_the_operand_dtype(rng):
    def f(a, b):
        out = np.zeros(a.size, dtype=np.float32)
        k = 0
        for u, v in np.nditer((a, b)):
            out[k] = u * v + u.item() + float(v) + u.ndim + len(u.shape)
            k += 1
        return out, k

    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.integers(-5, 5, 3).astype(np.int16)
    compare(f, (a, a.copy()), (b, b.copy()))


def test_zero_d_and_scalar_operands(rng):
    def f(a, s):
        acc = 0.0
        for u, v in np.nditer((a, s)):
            acc += u * v
        for u in np.nditer(a[0]):
            acc += u
        for v in np.nditer(2.5 + s):
            acc -= v
        return acc

    a = rng.standard_normal(5)
    compare(f, (a, a.copy()), (np.float64(0.5), np.float64(0.5)))


def test_zero_size_operands(rng):
    def f(a):
        n = 0
        for u in np.nditer(a, flags=["zerosize_ok", "refs_ok"]):
            n += 1
        return n

    compare(f, (np.zeros((0, 3)), np.zeros((0, 3))))
    with pytest.raises(ValueError, match="Iteration of zero-sized operands is not enabled"):
        looptrace.jit(total_items, backend="interpret")(np.zeros((0, 3), np.int32))


def test_context_manager_and_break(rng):
    def f(a, out):
        with np.nditer([a, out], op_flags=[["readonly"], ["writeonly"]]) as it:
            for x, y in it:
                if x > 1.0:
                    break
                y[...] = 2 * x
        return out

    a = rng.standard_normal((4, 4))
    compare(f, (a, a.copy()), (np.zeros((4, 4)), np.zeros((4, 4))))


def test_a_new_layout_traces_again(rng):
    jitted = looptrace.jit(weighted_sequence, backend="interpret")
    base = rng.standard_normal((3, 4))
    for layout in ("C", "F", "C", "T"):
        a = LAYOUTS[layout](base.copy())
        assert_same(jitted(a, np.float64(1.0)), weighted_sequence(a, np.float64(1.0)))


def test_the_loop_is_traced_once(rng):
    loops = looptrace.explain(total_items, np.ones((300, 200), np.int32)).loops
    assert len(loops) == 1 and loops[0].kind == "reduction"
    loops = looptrace.explain(weighted_sequence, np.ones((30, 20)), np.ones(20)).loops
    assert len(loops) == 1 and loops[0].kind == "scan"


# --- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flags, name", [(["external_loop"], "external_loop"), (["buffered"], "buffered"),
                                         (["multi_index"], "multi_index"), (["c_index"], "c_index")])
def test_unsupported_flags_are_named(flags, name, rng):
    def f(a):
        t = 0.0
        for u in np.nditer(a, flags=flags):
            t += u
        return t

    with pytest.raises(looptrace.UnsupportedError, match=name) as info:
        looptrace.jit(f, backend="interpret")(rng.standard_normal(4))
    assert "np.nditer(a, flags=flags)" in str(info.value)


@pytest.mark.parametrize("kwargs, name", [({"op_flags": [["allocate"]]}, "allocate"),
                                          ({"op_dtypes": [np.float32]}, "op_dtypes"),
                                          ({"op_axes": [[0]]}, "op_axes"), ({"buffersize": 16}, "buffersize")])
def test_unsupported_arguments_are_named(kwargs, name, rng):
    def f(a):
        t = 0.0
        for u in np.nditer(a, **kwargs):
            t += u
        return t

    with pytest.raises(looptrace.UnsupportedError, match=name):
        looptrace.jit(f, backend="interpret")(rng.standard_normal(4))


def test_unknown_layout_is_refused_not_guessed(rng):
    def computed(a):
        t = 0.0
        for u in np.nditer(a * 2):
            t = t * 0.5 + u
        return t

    def reversed_view(x):
        t = 0.0
        for u in np.nditer(x[::-1]):
            t = t * 0.5 + u
        return t

    for fn, arg in ((computed, rng.standard_normal((3, 4))), (reversed_view, rng.standard_normal(5))):
        with pytest.raises(looptrace.UnsupportedError, match="memory layout") as info:
            looptrace.jit(fn, backend="interpret")(arg)
        assert "order='C'" in info.value.hint

    def c_order(a):  # with an explicit order the layout does not matter
        t = 0.0
        for u in np.nditer(a * 2, order="C"):
            t = t * 0.5 + u
        return t

    a = np.asfortranarray(rng.standard_normal((3, 4)))
    compare(c_order, (a, a.copy()))
    x = rng.standard_normal(6)
    compare(lambda x: sum_first(x * 2), (x, x.copy()))  # a fresh 1-d value: one order


def sum_first(y):
    t = 0.0
    for u in np.nditer(y):
        t = t * 0.5 + u
    return t


def test_writes_need_a_writable_unbroadcast_operand(rng):
    def readonly_write(a):
        for u in np.nditer(a):
            u[...] = 1.0
        return a

    def broadcast_write(a, b):
        for u, v in np.nditer((a, b), op_flags=[["readonly"], ["readwrite"]]):
            v[...] = u
        return b

    for fn, args in ((readonly_write, (rng.standard_normal(3),)),
                     (broadcast_write, (rng.standard_normal((2, 3)), rng.standard_normal(3)))):
        with pytest.raises(ValueError) as want:
            fn(*[a.copy() for a in args])
        with pytest.raises(ValueError, match=str(want.value).split("(")[0][:30]):
            looptrace.jit(fn, backend="interpret")(*args)


def test_iterator_attributes_are_unsupported(rng):
    def f(a):
        it = np.nditer(a)
        return it.itersize

    with pytest.raises(looptrace.UnsupportedError, match="itersize"):
        looptrace.jit(f, backend="interpret")(rng.standard_normal(3))


# --- compiled ----------------------------------------------------------------------------------------------
def test_cpu_matches_the_plain_function(rng):
    ints = rng.integers(-100, 100, (40, 30)).astype(np.int32)
    for layout in ("C", "F"):
        compare(total_items, _views(ints, layout), backend="cpu")
    a, w = rng.standard_normal((5, 6)), rng.standard_normal(6)
    compare(running, _views(a, "F"), (w, w.copy()), _views(rng.standard_normal((5, 6)), "C"), backend="cpu")


def test_cuda_simulator_matches_the_plain_function(rng):
    from tests.codegen.cuda._cuda_support import cuda_backend

    cuda_backend()
    a, w = rng.standard_normal((4, 3)), rng.standard_normal(4)
    compare(running, _views(a, "T"), (w, w.copy()), _views(rng.standard_normal((3, 4)), "C"), backend="cuda")
