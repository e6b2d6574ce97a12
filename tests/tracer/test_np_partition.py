"""np.partition, np.argpartition and ndarray.partition / .argpartition under
tracing (tracer/np_partition.py, ops/sort.py, codegen/cpu/partition.py):
results equal to NumPy's exactly (the elements off kth included, which are in
NumPy's implementation-defined order) on fresh random data, on the
interpreter and on cpu; kth as an int, a sequence, negative, repeated; every
axis and axis=None; dtypes; NaNs and ties; a loop of per-row partitions that
batches into one; a partition inside a recurrence; gradients against
central differences; NumPy's exceptions for bad kth/axis/kind and clear
looptrace errors naming the user's line for a traced kth and on cuda."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad


def exact(fn, *args, backend="interpret", **kw):
    """jit(fn) returns NumPy's result bit for bit (and leaves arguments as fn does)."""
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jitted = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want = fn(*plain)
    got = lt.jit(fn, backend=backend, **kw)(*jitted)
    if not isinstance(want, tuple):
        got, want = (got,), (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
        np.testing.assert_array_equal(g, w)
    for g, w in zip(jitted, plain):
        if isinstance(w, np.ndarray):
            np.testing.assert_array_equal(g, w)
    return got


def data(rng, shape, dtype="float64"):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        return rng.integers(0 if dtype.kind == "u" else -50, 50, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def kinds_of_kth(x):
    return (np.partition(x, 3), np.partition(x, -1), np.partition(x, [0, 4, 2]), np.partition(x, (5, 5, -6)),
            np.argpartition(x, 3), np.argpartition(x, [1, -2]), np.argpartition(x, np.array([2, 6])))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_kth_forms(backend, rng):
    exact(kinds_of_kth, data(rng, (4, 9)), backend=backend)


def axes(x):
    return (np.partition(x, 2, axis=0), np.partition(x, 1, axis=-2), np.partition(x, [0, 3], axis=1),
            np.argpartition(x, 4, axis=2), np.partition(x, 17, axis=None), np.argpartition(x, [0, 29], axis=None))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_axes(backend, rng):
    exact(axes, data(rng, (3, 5, 6)), backend=backend)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "int16", "bool"])
def test_dtypes(dtype, rng):
    def f(x):
        return np.partition(x, 5), np.argpartition(x, [2, 9], axis=0)

    exact(f, data(rng, (12, 10), dtype))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_nans_and_ties(backend, rng):
    x = np.round(data(rng, (5, 40)) * 2) / 2  # many ties
    x[1, [3, 17, 30]] = np.nan
    x[2, :] = np.nan

    def f(x):
        return np.partition(x, [0, 20, 39]), np.argpartition(x, 10), np.partition(x, 2, axis=0)

    exact(f, x, backend=backend)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_long_lanes(backend, rng):
    """Lanes long enough for NumPy's SIMD selection (where the machine has it)."""
    def f(x, y):
        return np.partition(x, [100, 5000]), np.argpartition(x, 4000), np.partition(y, 3000, axis=0)

    exact(f, data(rng, 10_000), data(rng, (6000, 3), "float32"), backend=backend)


def in_place(x):
    x.partition(2)
    y = x[1:].copy()
    y.partition((0, 3), axis=0)
    return y, x[0].argpartition(-1)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_methods_write_in_place(backend, rng):
    exact(in_place, data(rng, (5, 6)), backend=backend)


def rowwise(x):
    out = np.empty_like(x)
    idx = np.empty(x.shape, dtype=np.int64)
    for i in range(x.shape[0]):
        out[i] = np.partition(x[i] * 2.0 + 1.0, 4)
        idx[i] = np.argpartition(x[i], [1, 6])
    return out, idx


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_loop_of_row_partitions_is_one_batched_partition(backend, rng):
    x = data(rng, (20, 9))
    exact(rowwise, x, backend=backend)
    e = lt.explain(lt.jit(rowwise, backend=backend), x)
    assert [r.kind for r in e.loops] == ["vectorized"]
    assert str(e).count("partition(") == 2, str(e)  # one op per call, over all rows


def smallest_k_recurrence(x, k):
    s = x[0].copy()
    for t in range(1, x.shape[0]):
        s = np.partition(s * 0.5 + x[t], k)
        s[:k] = s[:k] * 1.1
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_partition_inside_a_recurrence(backend, rng):
    x = data(rng, (30, 12))
    got = lt.jit(smallest_k_recurrence, backend=backend)(x, 3)
    np.testing.assert_allclose(got, smallest_k_recurrence(x, 3), rtol=1e-12)
    assert lt.explain(lt.jit(smallest_k_recurrence, backend=backend), x, 3).loops[0].kind == "scan"


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 7), min_size=1, max_size=3), axis=st.one_of(st.none(), st.integers(-3, 2)),
       ks=st.lists(st.integers(-50, 50), min_size=1, max_size=4), scalar=st.booleans(),
       dtype=st.sampled_from(["float64", "float32", "int64"]), seed=st.integers(0, 2**31))
def test_random_shapes_kth_axes(shape, axis, ks, scalar, dtype, seed):
    if axis is not None:
        axis = axis % len(shape)
    n = int(np.prod(shape)) if axis is None else shape[axis]
    ks = [k % (2 * n) - n for k in ks]  # in [-n, n)
    kth = ks[0] if scalar else tuple(ks)
    x = data(np.random.default_rng(seed), tuple(shape), dtype)

    def f(x):
        return np.partition(x - 1, kth, axis=axis), np.argpartition(x, kth, axis=axis)

    exact(f, x)


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(1, 40), min_size=1, max_size=2), k=st.integers(0, 1000),
       seed=st.integers(0, 2**31))
def test_random_shapes_cpu(shape, k, seed):
    x = data(np.random.default_rng(seed), tuple(shape))
    k = k % shape[-1]

    def f(x):
        return np.partition(x, k), np.argpartition(x, k, axis=0 if k < shape[0] else -1)

    exact(f, x, backend="cpu")


@pytest.mark.slow  # partition's cpu lowering: test_kth_forms[cpu]'s; random shapes on the interpreter
def test_cpu_random_shapes_bounded(rng):
    for shape, k in (((7,), 3), ((33, 5), 4), ((2, 40), 39)):
        x = data(rng, shape)
        exact(lambda x: (np.partition(x, k), np.argpartition(x, (0, k))), x, backend="cpu")


# --- gradients ------------------------------------------------------------------------------------
def _grad_check(fn, args, argnums=(0,), backend="interpret"):
    grads = lt.grad(lt.jit(fn, backend=backend), argnums=argnums)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for g, i in zip(grads, argnums):
        assert_close(g, numerical_grad(fn, list(args), i), 1e-6, f"{fn.__name__} argument {i}")


def weighted_partition(x, w):
    return np.sum(np.partition(x * w, [1, 4], axis=1) * w) + np.sum(np.partition(x, 2, axis=0) ** 2)


def smallest_k_mean(x):
    k = 3
    return np.mean(np.partition(np.sin(x), k, axis=-1)[:, :k]) + np.partition(x, -1, axis=None)[-1]


def through_argpartition(x, w):
    idx = np.argpartition(x, 2, axis=1)
    return np.sum(np.take_along_axis(x, idx, axis=1)[:, :3] * w[:, :3])


def loop_of_partitions(x, w):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + np.sum(np.partition(x[i] * w[i], 2) * w[0])
    return total


@pytest.mark.parametrize("fn", [weighted_partition, smallest_k_mean, through_argpartition, loop_of_partitions])
def test_gradients(fn, rng):
    x = data(rng, (5, 7))
    if fn is smallest_k_mean:
        _grad_check(fn, [x])
    else:
        _grad_check(fn, [x, rng.uniform(0.5, 2.0, (5, 7))], (0, 1))


@pytest.mark.slow  # test_gradients[weighted_partition] checks the same loss on the interpreter (tests/marks.py)
def test_gradient_on_cpu(rng):
    _grad_check(weighted_partition, [data(rng, (5, 7)), rng.uniform(0.5, 2.0, (5, 7))], (0, 1), backend="cpu")


def test_gradient_through_a_recurrence(rng):
    def loss(x):
        return np.sum(smallest_k_recurrence(x, 4) * np.arange(1.0, 13.0))

    _grad_check(loss, [data(rng, (6, 12))])


# --- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, exc, match", [
    (lambda x: np.partition(x, 7), ValueError, r"kth\(=7\) out of bounds \(7\)"),
    (lambda x: np.partition(x, -8), ValueError, r"kth\(=-1\) out of bounds \(7\)"),
    (lambda x: np.argpartition(x, [1, 9]), ValueError, r"kth\(=9\) out of bounds \(7\)"),
    (lambda x: np.partition(x, 1.5), TypeError, "Partition index must be integer"),
    (lambda x: np.partition(x, []), TypeError, "Partition index must be integer"),
    (lambda x: np.partition(x, True), ValueError, "Booleans unacceptable as partition index"),
    (lambda x: np.partition(x, 1, kind="quick"), ValueError, "select kind must be 'introselect'"),
    (lambda x: np.partition(x, 1, axis=2), np.exceptions.AxisError, "axis 2 is out of bounds"),
    (lambda x: np.argpartition(x, 1, axis=-3), np.exceptions.AxisError, "axis -3 is out of bounds"),
    (lambda x: np.partition(x, 40, axis=None), ValueError, r"kth\(=40\) out of bounds \(28\)"),
])
def test_numpy_errors_at_trace_time(call, exc, match, rng):
    x = data(rng, (4, 7))
    with pytest.raises(exc, match=match):
        call(x)
    with pytest.raises(exc, match=match):
        lt.jit(call, backend="interpret")(x)


def traced_kth(x, ks):
    return np.partition(x, ks[0])


def test_a_traced_kth_names_the_line(rng):
    with pytest.raises(lt.UnsupportedError, match=r"np\.partition needs a static kth") as e:
        lt.jit(traced_kth, backend="interpret")(data(rng, 6), np.array([2]))
    assert "return np.partition(x, ks[0])" in str(e.value)


def test_kth_from_an_int_argument_is_specialized(rng):
    def f(x, k):
        return np.partition(x, k), np.argpartition(x, (0, k - 1))

    x = data(rng, 9)
    j = lt.jit(f, backend="interpret")
    for k in (2, 7):
        for g, w in zip(j(x, k), f(x, k)):
            np.testing.assert_array_equal(g, w)


def complex_partition(x):
    return np.partition(x * 1j, 1)


def test_complex_and_order_are_refused_by_name(rng):
    with pytest.raises(lt.UnsupportedError, match=r"np\.partition of complex arrays") as e:
        lt.jit(complex_partition, backend="interpret")(data(rng, 5))
    assert "np.partition(x * 1j, 1)" in str(e.value)
    with pytest.raises(lt.UnsupportedError, match="order="):
        lt.jit(lambda x: np.argpartition(x, 1, order="a"), backend="interpret")(data(rng, 5))


def partition_on_gpu(x):
    return np.partition(x, 2) + 1.0


def test_cuda_refuses_with_the_users_line(rng):
    with pytest.raises(lt.UnsupportedError, match=r"np\.partition is not supported by the cuda backend") as e:
        lt.jit(partition_on_gpu, backend="cuda")(data(rng, (3, 6)))
    assert "return np.partition(x, 2) + 1.0" in str(e.value)


def test_plain_arrays_are_numpys(rng):
    c = data(rng, 8)

    def f(x):
        return np.partition(c, 3) + x, np.argpartition(c, [1, 2]) + 0 * x.astype(np.int64)

    exact(f, data(rng, 8))


def test_repeated_kth_is_passed_on(rng):
    """NumPy's arrangement depends on repeated positions in kth ((0, 0) differs
    from (0,) for this array): they are kept, not merged."""
    x = np.random.default_rng(0).standard_normal(4)
    assert not np.array_equal(np.partition(x, (0, 0)), np.partition(x, 0))
    for backend in ("interpret", "cpu"):
        exact(lambda x: (np.partition(x, (0, 0)), np.argpartition(x, [-4, 0]), np.partition(x, 0)), x,
              backend=backend)
