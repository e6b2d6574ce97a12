"""API edges (session 45): returned views of returned arrays, writes into
x[mask] of a traced mask, np.where with a Python int beside an integer
array, grad/value_and_grad with has_aux, the type of a number's gradient,
and `lt.grad(f)(x)` written anew at each call reusing the compiled program.
The plain function is the specification: values, dtypes, which results share
memory, and effects on the arguments; gradients against central differences."""
import numpy as np
import pytest

import looptrace as lt
from looptrace import pipeline


# --- returned views ----------------------------------------------------------------------------------
def view_after(x):
    y = x * 2
    return y, y[1:]


def view_before(x):
    y = x * 2
    return y[1:], y


def transposed_first(x):
    y = x * 2
    return y.T, y


def argument_and_view(x):
    return x, x[::2]


def many_views(x):
    y = x * 2
    return y, y[0], y[:, 1], y.reshape(-1), y[::2, ::-1].T, y[None, 1:], y[:], y.view()


def written_after_view(x):
    y = np.zeros_like(x)
    for i in range(x.shape[0]):
        y[i] = x[i] * 3
    z = y[1:]
    y[0, 0] = 5.0
    return y, z


def views_in_containers(x):
    y = x + 1
    return y, {"a": y[2:], "b": [y.T]}


def written_argument_views(x):
    x[0, 0] = 1.0
    return x, x[1:], x.T


def _leaves(t):
    if isinstance(t, (tuple, list)):
        return [leaf for e in t for leaf in _leaves(e)]
    if isinstance(t, dict):
        return [leaf for e in t.values() for leaf in _leaves(e)]
    return [t]


def _fingerprint(call, x):
    """Which results share memory (with each other and the argument), which
    is the argument itself, and what every result and the argument hold after
    each array result in turn is overwritten (a write shows in its views)."""
    out = _leaves(call(x))
    shares = [[np.shares_memory(a, b) for b in out + [x]] for a in out]
    after = []
    for i, o in enumerate(out):
        if np.ndim(o):
            o[...] = np.arange(o.size).reshape(o.shape) + 100 * (i + 1)
            after.append([np.array(v) for v in out] + [x.copy()])
    return shares, [o is x for o in out], [type(o) for o in out], after


def _same_fingerprint(f, jf, x):
    want, got = _fingerprint(f, x.copy()), _fingerprint(jf, x.copy())
    assert got[:3] == want[:3]
    for w, g in zip(want[3], got[3]):
        for a, b in zip(w, g):
            np.testing.assert_array_equal(b, a)


VIEW_CASES = [view_after, view_before, transposed_first, argument_and_view, many_views, written_after_view,
              views_in_containers, written_argument_views]


@pytest.mark.parametrize("f", VIEW_CASES, ids=lambda f: f.__name__)
def test_returned_views_interpret(f, rng):
    jf = lt.jit(f, backend="interpret")
    for _ in range(2):  # the first call and a warm one
        _same_fingerprint(f, jf, rng.standard_normal((4, 3)))


def all_views(x, b):
    y = x * b
    return y, y[1:], y.T, y.reshape(-1)[2:5], x, x[::2], y[::2].T


def test_returned_views_cpu(rng):
    """One kernel for the codegen: views of a made array and of an argument,
    first call and warm calls (which take the general path)."""
    jf = lt.jit(all_views, backend="cpu")
    for _ in range(3):
        x = rng.standard_normal((5, 4))
        b = float(rng.standard_normal())
        _same_fingerprint(lambda v: all_views(v, b), lambda v: jf(v, b), x)


# --- writes into x[mask] ---------------------------------------------------------------------------------
def write_first(A):
    m = A[A > 0]
    m[0] = 99.0
    return m


def scale_then_sum(A):
    m = A[A > 0]
    m *= 2
    return m.sum()


def scale_alias(A):
    m = A[A > 0]
    n = m
    m *= 2
    return n.sum()


def write_where(A):
    m = A[A > 0]
    m[m > 1] = 1.0
    return m.sum(), A


def write_last_and_all(A):
    m = A[A > 0]
    m[-1] = 5.0
    s = m.sum()
    m[:] = 3.0
    return s, m


def copy_is_new(A):
    m = A[A > 0]
    c = m.copy()
    c *= 3
    m[0] = -1.0
    return m.sum() + 10 * c.sum()


def write_in_loop(A):
    m = A[A > 0]
    for _ in range(3):
        m[0] += 1.0
    return m.sum()


def write_rows(A):
    m = A[A[:, 0] > 0]
    m[0, 1] = 7.0
    m[-1] = 1.0
    return m.sum(), m


def write_positions(A):
    i = np.nonzero(A > 0)[0]
    i[0] = 100
    return i.sum()


def masked_add(A):
    A[A > 0] += 1
    return A


@pytest.mark.parametrize("f", [write_first, scale_then_sum, scale_alias, write_where, write_last_and_all,
                               copy_is_new, write_in_loop, write_positions, masked_add],
                         ids=lambda f: f.__name__)
def test_masked_writes(f, rng):
    jf = lt.jit(f, backend="interpret")
    for _ in range(2):
        A = rng.standard_normal(9) * 2
        A[0] = 0.5  # at least one selected
        pa, ja = A.copy(), A.copy()
        want, got = f(pa), jf(ja)
        np.testing.assert_array_equal(ja, pa)
        for w, g in zip(_leaves(want), _leaves(got)):
            np.testing.assert_allclose(g, w, rtol=1e-12)
            assert np.asarray(g).dtype == np.asarray(w).dtype


# --- in-place ops on a slice of run-time length: a view of the array it slices (lead's fix) -------
def slice_scaled(x, a, b):
    s = x[a:b]
    s *= 2
    return x


def column_window_shifted(x, a, b):
    s = x[:, a:b]
    s += 1.0
    return x, s.sum()


def slice_twice(x, a, b):
    x[a:b] -= 1.5
    t = x[a:b]
    t **= 2
    return x, t.sum()


@pytest.mark.parametrize("f, backend", [(slice_scaled, "interpret"), (column_window_shifted, "interpret"),
                                        (slice_twice, "interpret"), (slice_twice, "cpu")],
                         ids=lambda v: getattr(v, "__name__", v))
def test_inplace_on_a_varying_slice_writes_through(f, backend, rng):
    jf = lt.jit(f, backend=backend)
    for a, b in ((1, 4), (0, 6), (3, 3), (5, 2), (-4, -1)):
        x = rng.standard_normal((6, 6) if f is column_window_shifted else 6)
        px, jx = x.copy(), x.copy()
        want, got = f(px, a, b), jf(jx, a, b)
        np.testing.assert_allclose(jx, px, rtol=1e-12)
        for w, g in zip(_leaves(want), _leaves(got)):
            np.testing.assert_allclose(g, w, rtol=1e-12)


def slice_scaled_by_a_float(x, a, b):
    s = x[a:b]
    s *= 2.5
    return x


def test_inplace_on_a_varying_slice_casts_as_numpy():
    with pytest.raises(TypeError, match="Cannot cast"):
        slice_scaled_by_a_float(np.arange(6), 1, 3)
    with pytest.raises(TypeError, match="Cannot cast"):
        lt.jit(slice_scaled_by_a_float, backend="interpret")(np.arange(6), 1, 3)


def test_masked_write_rows(rng):
    A = rng.standard_normal((6, 3))
    A[0, 0] = 1.0
    want, got = write_rows(A.copy()), lt.jit(write_rows, backend="interpret")(A.copy())
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def none_selected(A):
    m = A[A > 100]
    m[0] = 99
    return m.sum()


def cast_in_place(A):
    m = (A[A > 0] * 10).astype(np.int64)
    m *= 2.5
    return m.sum()


def broadcast_in_place(A):
    m = A[A > 0]
    m += np.ones((2, 1))
    return m.sum()


@pytest.mark.parametrize("f, error", [(none_selected, IndexError), (cast_in_place, TypeError),
                                      (broadcast_in_place, ValueError)], ids=lambda f: getattr(f, "__name__", ""))
def test_masked_write_errors_as_numpy(f, error, rng):
    A = np.abs(rng.standard_normal(6)) + 0.1
    with pytest.raises(error):
        f(A.copy())
    with pytest.raises(error):
        lt.jit(f, backend="interpret")(A.copy())


def write_slice(A):
    m = A[A > 0]
    m[1:] = 0.0
    return m


def test_masked_write_refused_at_the_write(rng):
    with pytest.raises(lt.UnsupportedError) as e:
        lt.jit(write_slice, backend="interpret")(rng.standard_normal(6))
    assert "m[1:] = 0.0" in str(e.value) and "known only at run time" in str(e.value)


# --- np.where with a Python int beside an integer array (NEP 50) ------------------------------------------
WHERE_CASES = {
    "where_300": lambda x: np.where(x > 0, x, 300),
    "where_300_first": lambda x: np.where(x > 0, 300, x),
    "where_minus_129": lambda x: np.where(x > 0, x, -129),
    "where_70000": lambda x: np.where(x > 0, x, 70000),
    "where_2_63": lambda x: np.where(x > 0, x, 2 ** 63),
    "where_uint8_minus_1": lambda x: np.where(x > 0, x.astype(np.uint8), -1),
    "where_two_ints": lambda x: np.where(x > 0, 300, -129),
    "where_fits": lambda x: np.where(x > 0, x, 100),
    "where_float": lambda x: np.where(x > 0, x, 3.5),
    "where_scalar": lambda x: np.where(x[0] > 0, x[1], 300),
    "clip_300": lambda x: np.clip(x, 0, 300),
    "clip_minus_300": lambda x: np.clip(x, -300, 50),
    "clip_above": lambda x: np.clip(x, 300, 400),
    "maximum_300": lambda x: np.maximum(x, 300),
    "add_300": lambda x: x + 300,
    "where_2_64": lambda x: np.where(x > 0, x, 2 ** 64),
}


def _outcome(f, x):
    try:
        r = f(x)
    except Exception as e:  # noqa: BLE001 - the class is compared
        return OverflowError if isinstance(e, OverflowError) else type(e)
    return np.asarray(r).dtype, type(r), np.asarray(r).tolist()


@pytest.mark.parametrize("name", list(WHERE_CASES))
def test_python_int_beside_int8(name):
    f = WHERE_CASES[name]
    x = np.array([-3, 5, 100, -128, 127, 0], np.int8)
    assert _outcome(lt.jit(f, backend="interpret"), x.copy()) == _outcome(f, x.copy())


# --- has_aux ---------------------------------------------------------------------------------------------
def loss_with_aux(w, X, y):
    r = X @ w - y
    loss = (r * r).mean()
    return loss, {"resid": r, "n": X.shape[0], "max": np.abs(r).max(), "positive": X @ w > 0}


def _fd(f, w, eps=1e-6):
    return np.array([(f(w + eps * e) - f(w - eps * e)) / (2 * eps) for e in np.eye(w.size)])


def _same_aux(got, want):
    assert set(got) == set(want)
    for k in want:
        assert type(got[k]) is type(want[k])
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12)


def test_has_aux(rng):
    X, y, w = rng.standard_normal((7, 3)), rng.standard_normal(7), rng.standard_normal(3)
    want_loss, want_aux = loss_with_aux(w, X, y)
    fd = _fd(lambda v: loss_with_aux(v, X, y)[0], w)
    g, aux = lt.grad(loss_with_aux, has_aux=True, backend="interpret")(w, X, y)
    np.testing.assert_allclose(g, fd, rtol=1e-6)
    _same_aux(aux, want_aux)
    (loss, aux2), g2 = lt.value_and_grad(loss_with_aux, has_aux=True, backend="interpret")(w, X, y)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-12)
    assert type(loss) is type(want_loss)
    np.testing.assert_allclose(g2, fd, rtol=1e-6)
    _same_aux(aux2, want_aux)
    gs, _ = lt.grad(loss_with_aux, argnums=(0, 2), has_aux=True, backend="interpret")(w, X, y)
    np.testing.assert_allclose(gs[0], fd, rtol=1e-6)
    np.testing.assert_allclose(gs[1], _fd(lambda v: loss_with_aux(w, X, v)[0], y), rtol=1e-6)


def step_with_aux(w, seen):
    seen += w  # an effect, made once, as one call of the plain function makes it
    loss = np.sin(w).sum() * seen.sum()
    return loss, seen * 1.0


def test_has_aux_with_effects(rng):
    w, seen = rng.standard_normal(4), rng.standard_normal(4)
    ps, js = seen.copy(), seen.copy()
    want_loss, want_aux = step_with_aux(w, ps)
    (loss, aux), g = lt.value_and_grad(step_with_aux, has_aux=True, backend="interpret")(w, js)
    np.testing.assert_allclose(js, ps)
    np.testing.assert_allclose(loss, want_loss)
    np.testing.assert_allclose(aux, want_aux)
    np.testing.assert_allclose(g, _fd(lambda v: step_with_aux(v, seen.copy())[0], w), rtol=1e-6)


def test_has_aux_constant_loss(rng):
    w = rng.standard_normal(3)
    (loss, aux), g = lt.value_and_grad(lambda v: (2.0, v * 3), has_aux=True, backend="interpret")(w)
    assert loss == 2.0
    np.testing.assert_allclose(aux, w * 3)
    np.testing.assert_array_equal(g, np.zeros(3))


@pytest.mark.parametrize("f", [lambda w: (w * w).sum(), lambda w: ((w * w).sum(), 1, 2)])
def test_has_aux_needs_a_pair(f, rng):
    with pytest.raises(TypeError, match=r"has_aux=True.*pair \(loss, aux\)"):
        lt.grad(f, has_aux=True, backend="interpret")(rng.standard_normal(3))


# --- the gradient of a number --------------------------------------------------------------------------
def scaled(w, x):
    return np.sum(np.sin(w * x)) * w


@pytest.mark.parametrize("w, kind", [(np.float64(0.7), np.float64), (0.7, np.float64), (np.float32(0.7), np.float32),
                                     (np.array(0.7), np.ndarray)], ids=["float64", "float", "float32", "0-d"])
def test_number_gradient_type(w, kind):
    x = np.linspace(0, 1, 5)
    for g in (lt.grad(scaled, backend="interpret")(w, x), lt.value_and_grad(scaled, backend="interpret")(w, x)[1],
              lt.grad(scaled, argnums=(0, 1), backend="interpret")(w, x)[0],
              lt.grad(lambda v, x: 3.0, backend="interpret")(w, x)):  # (a constant: zeros, of the same type)
        assert type(g) is kind
    g = lt.grad(scaled, backend="interpret")(w, x)
    np.testing.assert_allclose(g, _fd(lambda v: scaled(v[0], x), np.array([float(w)])), rtol=1e-5)


# --- lt.grad(f)(x) written anew ----------------------------------------------------------------------------
def quadratic(w, X):
    return ((X @ w) ** 2).sum()


def test_grad_anew_compiles_once(rng, monkeypatch):
    made = []
    real = pipeline.compile
    monkeypatch.setattr(pipeline, "compile", lambda *a, **k: made.append(1) or real(*a, **k))
    X, w = rng.standard_normal((4, 3)), rng.standard_normal(3)
    for _ in range(3):
        np.testing.assert_allclose(lt.grad(quadratic, backend="interpret")(w, X), 2 * X.T @ (X @ w))
    assert len(made) == 1
    for _ in range(3):  # a lambda written anew over the same closure cells is the same function
        g = lt.grad(lambda v: quadratic(v, X), backend="interpret")(w)
    assert len(made) == 2
    X = rng.standard_normal((4, 3))  # the cell changed: read at the call, as the plain function does
    np.testing.assert_allclose(lt.grad(lambda v: quadratic(v, X), backend="interpret")(w), 2 * X.T @ (X @ w))
    assert not np.allclose(g, 2 * X.T @ (X @ w))
    lt.value_and_grad(quadratic, backend="interpret")(w, X)
    lt.grad(quadratic, has_aux=False, backend="interpret")(w, X)
    assert len(made) == 3  # (the lambda's program, traced again for the cell's new array)


def scaled_segments(x, ptr):
    for i in range(ptr.shape[0] - 1):
        s = x[ptr[i]:ptr[i + 1]]
        s *= 2.0
    return x


def test_inplace_on_a_windowed_slice_writes_through(rng):
    x, ptr = rng.standard_normal(8), np.array([0, 2, 5, 8])
    np.testing.assert_allclose(lt.jit(scaled_segments, backend="interpret")(x.copy(), ptr),
                               scaled_segments(x.copy(), ptr))


def scaled_sine(w, *, c=1.0):
    return c * np.sum(np.sin(w))


def test_keyword_defaults_edited_in_place_are_seen(rng):
    """`f.__kwdefaults__["c"] = 5.0` edits the dict in place: the jit and the
    cache of lt.grad(f) made anew see the new value, as the plain call does."""
    w = rng.standard_normal(3)
    f = lambda w, *, c=1.0: scaled_sine(w, c=c)  # noqa: E731  (its own function object)
    jf = lt.jit(f, backend="interpret")
    try:
        assert np.isclose(jf(w), f(w))
        np.testing.assert_allclose(lt.grad(f)(w), np.cos(w))
        f.__kwdefaults__["c"] = 5.0
        assert np.isclose(jf(w), f(w))
        np.testing.assert_allclose(lt.grad(f)(w), 5.0 * np.cos(w))
    finally:
        f.__kwdefaults__["c"] = 1.0


def copies_beside(x):
    y = x * 2
    return y, y.flatten(), np.array(y), y.astype(np.float64), np.ascontiguousarray(y.T), y[1:]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_copies_of_a_result_are_their_own_memory(backend, rng):
    """`y.flatten()`, `np.array(y)`, `y.astype(same dtype)` are copies in NumPy:
    the kernel gave y's buffer for them (a write into one showed in y)."""
    x = rng.standard_normal((3, 3))
    want, got = copies_beside(x.copy()), lt.jit(copies_beside, backend=backend)(x.copy())
    for rs in (want, got):
        assert [np.shares_memory(rs[0], r) for r in rs] == [True, False, False, False, False, True]
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)
