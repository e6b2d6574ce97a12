"""Containers of arrays as arguments (looptrace/pytree.py): tuples, lists,
dicts and namedtuples, nested, passed leaf by leaf. Each test runs the plain
function and the jitted one on deep copies of fresh random data and compares
the results and what happened to the arguments; gradients of containers are
containers, checked against central differences in float64."""

import collections
import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad
from tests.marks import INTERPRET_AND_SLOW_CPU


def fd(f, x):
    """d f(x) / dx by central differences (float64)."""
    return numerical_grad(f, [x], 0)


def close(got, want, what="gradient"):
    assert_close(got, want, 1e-6, what)

BACKENDS = ["interpret", "cpu"]
Params = collections.namedtuple("Params", "W b")


def _same(got, want, what="result"):
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), what
        for k in want:
            _same(got[k], want[k], f"{what}[{k!r}]")
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), f"{what}: {type(got)} vs {type(want)}"
        for k, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{what}[{k}]")
    else:
        g, w = np.asarray(got), np.asarray(want)
        assert g.shape == w.shape and g.dtype == w.dtype, f"{what}: {g.dtype}{g.shape} vs {w.dtype}{w.shape}"
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=what)


def run_both(fn, *args, backend="interpret", jitted=None):
    """Plain and jitted on deep copies: results and arguments afterwards agree."""
    f = jitted or looptrace.jit(fn, backend=backend)
    plain_args, jit_args = copy.deepcopy(args), copy.deepcopy(args)
    want = fn(*plain_args)
    got = f(*jit_args)
    _same(got, want)
    _same(list(jit_args), list(plain_args), "arguments after the call")
    return f


# --- the shapes users pass ------------------------------------------------------------------------
def predict(params, X):
    return np.tanh(X @ params["W"].T + params["b"])


def layers(ws, X):
    h = X
    for W, b in ws:  # a Python list of (W, b) pairs: unrolled over the layers, as in plain Python
        h = np.tanh(h @ W.T + b)
    return h


def named(p, X):
    return X @ p.W.T + p.b


def rnn(params, xs, h0):
    Wx, Wh = params["x"], params["h"]
    h = h0
    out = np.empty((xs.shape[0], h0.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h)
        out[t] = h
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_dicts_tuples_lists_and_namedtuples_of_arrays(backend, rng):
    W, b, X = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal((5, 4))
    run_both(predict, {"W": W, "b": b}, X, backend=backend)
    ws = [(rng.standard_normal((4, 4)), rng.standard_normal(4)) for _ in range(3)]
    run_both(layers, ws, X, backend=backend)
    run_both(named, Params(W, b), X, backend=backend)
    params = {"x": rng.standard_normal((3, 4)), "h": rng.standard_normal((3, 3)) * 0.5}
    f = run_both(rnn, params, rng.standard_normal((7, 4)), rng.standard_normal(3), backend=backend)
    assert [l.kind for l in looptrace.explain(f, params, np.ones((7, 4)), np.ones(3)).loops] == ["scan"]


def test_one_compiled_version_per_structure(rng):
    f = looptrace.jit(predict, backend="interpret")
    for _ in range(3):  # new arrays, same structure, shapes and dtypes: no new trace
        run_both(predict, {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)},
                 rng.standard_normal((5, 4)), jitted=f)
    assert len(f._flats) == 1 and len(next(iter(f._flats.values()))._cache) == 1
    run_both(predict, {"b": rng.standard_normal(3), "W": rng.standard_normal((3, 4))},  # other key order
             rng.standard_normal((5, 4)), jitted=f)
    assert len(f._flats) == 2


def fill(bufs, x):
    a, c = bufs
    for i in range(x.shape[0]):
        a[i] = x[i] * 2.0
        c[i] += a[i]
    return a.sum()


def sized(cfg, x):
    n, scale = cfg["n"], cfg["scale"]
    return np.zeros(n) + x[:n] * scale


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_in_place_writes_to_leaves_reach_the_caller(backend, rng):
    bufs = (rng.standard_normal(6), rng.standard_normal(6))
    run_both(fill, bufs, rng.standard_normal(6), backend=backend)
    a, c = rng.standard_normal(6), rng.standard_normal(6)
    c0 = c.copy()
    looptrace.jit(fill, backend=backend)([a, c], np.arange(6.0))
    np.testing.assert_array_equal(a, np.arange(6.0) * 2)  # the caller's own arrays
    np.testing.assert_array_equal(c, c0 + np.arange(6.0) * 2)


def test_an_int_leaf_that_decides_a_shape_is_specialized(rng):
    x = rng.standard_normal(6)
    f = looptrace.jit(sized, backend="interpret")
    for n in (3, 5, 3):
        run_both(sized, {"n": n, "scale": float(rng.uniform(0.5, 2))}, x, jitted=f)
    sub = next(iter(f._flats.values()))
    assert len(sub._cache) == 2  # n = 3 and n = 5; `scale` stays an argument
    notes = looptrace.explain(f, {"n": 4, "scale": 1.0}, x).notes
    assert any("specialized on" in note for note in notes)


def star(x, *arrays, scale=1.0, **named_arrays):
    s = x.sum() * scale
    for a in arrays:
        s = s + a.sum()
    for k in named_arrays:
        s = s + named_arrays[k].max()
    return s


@pytest.mark.parametrize("backend", BACKENDS)
def test_star_args_and_keyword_arrays(backend, rng):
    f = looptrace.jit(star, backend=backend)
    for args, kw in [((), {}), ((rng.standard_normal(3), rng.standard_normal((2, 2))), {}),
                     ((rng.standard_normal(4),), {"p": rng.standard_normal(2), "q": rng.standard_normal(5)})]:
        x = rng.standard_normal(3)
        assert np.isclose(f(x, *args, scale=0.5, **kw), star(x, *args, scale=0.5, **kw))


def two(x, y):
    return x + y


def test_a_list_of_numbers_is_an_operand_as_in_numpy(rng):
    x = rng.standard_normal(2)
    run_both(two, x, [1.5, -2.0])
    run_both(two, x, (3, 4))


# --- what is refused, and how ---------------------------------------------------------------------
def appends(lst, x):
    lst.append(x * 2)
    return x


def reassigns(d, x):
    d["w"] = d["w"] * 2
    return d["w"] + x


def _decorated(f):
    return f


@_decorated
def appends_in_a_loop(history, w):
    for _ in range(3):
        w = w * 0.5
        history.append(float(w.sum()))
    return w


@pytest.mark.parametrize("fn, line", [(appends, "lst.append(x * 2)"), (reassigns, 'd["w"] = d["w"] * 2'),
                                      (appends_in_a_loop, "history.append(float(w.sum()))")])
def test_changing_a_container_argument_is_refused_with_the_line(fn, line, rng):
    """The error quotes the line that changes the container (it quoted the
    function's first line: the decorator above a decorated `def`, probe R)."""
    x = rng.standard_normal(3)
    arg = {"w": x.copy()} if fn is reassigns else [x.copy()]
    with pytest.raises(looptrace.UnsupportedError, match="container argument") as e:
        looptrace.jit(fn, backend="interpret")(arg, x)
    assert "test_container_args.py" in str(e.value) and line in str(e.value)


def test_bad_leaves_are_named_by_their_path(rng):
    x = rng.standard_normal(2)
    with pytest.raises(TypeError, match=r"`y\[1\]\['k'\]`"):
        looptrace.jit(two, backend="interpret")(x, (x, {"k": np.array(["a", "b"])}))
    with pytest.raises(TypeError, match=r"`y\[0\]`"):
        looptrace.jit(two, backend="interpret")(x, [{1, 2}])
    with pytest.raises(looptrace.LooptraceError, match="dict"):  # plain Python: a TypeError
        looptrace.jit(two, backend="interpret")(x, {"a": 1.0})


def doubles(pair, x):
    a, b = pair
    a[0] = x[0]
    return b.sum()


def test_a_leaf_written_in_place_that_overlaps_another_is_refused(rng):
    a = rng.standard_normal(4)
    with pytest.raises(ValueError, match=r"pair\[0\]"):
        looptrace.jit(doubles, backend="interpret")((a[:3], a[1:]), rng.standard_normal(3))


def test_one_array_as_two_leaves_is_one_array(rng):
    a, x = rng.standard_normal(3), rng.standard_normal(3)
    mine = a.copy()
    want = doubles((mine, mine), x)
    assert looptrace.jit(doubles, backend="interpret")((a, a), x) == want  # b reads the write through a
    np.testing.assert_array_equal(a, mine)


# --- gradients ------------------------------------------------------------------------------------
def loss(params, data):
    X, y = data
    h = X @ params["W"].T + params["b"]
    s = 0.0
    for i in range(h.shape[0]):
        s = s + np.sum((np.tanh(h[i]) - y[i]) ** 2)
    return s


@pytest.mark.parametrize("backend", BACKENDS)
def test_grad_of_a_dict_is_a_dict(backend, rng):
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)}
    data = (rng.standard_normal((5, 4)), rng.standard_normal((5, 3)))
    g = looptrace.grad(loss, backend=backend)(params, data)
    assert isinstance(g, dict) and list(g) == ["W", "b"]
    for k in params:
        def part(v, k=k):
            return loss({**params, k: v}, data)
        close(g[k], fd(part, params[k]))
    value, (gp, gd) = looptrace.value_and_grad(loss, argnums=(0, 1), backend=backend)(params, data)
    assert np.isclose(value, loss(params, data))
    assert isinstance(gd, tuple) and len(gd) == 2
    close(gd[1], fd(lambda y: loss(params, (data[0], y)), data[1]))
    close(gp["b"], g["b"])


def test_grad_keeps_the_data_container_traced(rng):
    """Arrays in a container that is not differentiated are arguments, not
    constants: new data, same shapes, no new compile."""
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)}
    jf = looptrace.jit(loss, backend="interpret")
    gf = looptrace.grad(jf)
    for _ in range(3):
        data = (rng.standard_normal((5, 4)), rng.standard_normal((5, 3)))
        close(gf(params, data)["b"], fd(lambda b: loss({**params, "b": b}, data), params["b"]))
    (sub,) = jf._flats.values()
    assert len(sub._cache) == 1


def pair_loss(ws, X):
    W, b = ws
    return np.sum(np.tanh(X @ W.T + b) ** 2)


def test_an_integer_leaf_cannot_be_differentiated(rng):
    X = rng.standard_normal((4, 3))
    with pytest.raises(TypeError, match=r"`ws\[1\]`"):
        looptrace.grad(pair_loss, backend="interpret")((rng.standard_normal((2, 3)), np.arange(2)), X)


# --- generated structures ---------------------------------------------------------------------------
def weighted(tree, x):
    """Sums every leaf, weighted by its position, walking the structure in Python."""
    def walk(t, w):
        if isinstance(t, dict):
            return sum(walk(v, w * (k + 2)) for k, v in enumerate(t.values()))
        if isinstance(t, (tuple, list)):
            return sum(walk(v, w * (k + 1)) for k, v in enumerate(t))
        return np.sum(t * t) * w + np.sum(t * x[0])
    return walk(tree, 1.0) + x.sum()


def _leaf():
    return st.tuples(st.integers(0, 3), st.integers(1, 4), st.integers(0, 2**31 - 1)).map(
        lambda t: np.random.default_rng(t[2]).standard_normal((t[1],) * t[0]) if t[0] else float(t[1]) * 0.5)


_trees = st.recursive(_leaf(), lambda kids: st.one_of(
    st.lists(kids, min_size=1, max_size=3), st.lists(kids, min_size=1, max_size=3).map(tuple),
    st.dictionaries(st.sampled_from("abcd"), kids, min_size=1, max_size=3)), max_leaves=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_trees.filter(lambda t: isinstance(t, (list, tuple, dict))))
def test_generated_structures_match_plain(tree):
    x = np.random.default_rng(0).standard_normal(3)
    got = looptrace.jit(weighted, backend="interpret")(copy.deepcopy(tree), x)
    assert np.isclose(got, weighted(copy.deepcopy(tree), x), rtol=1e-9, atol=1e-12)


def scaled_layer(params, x, k):
    return np.tanh(x @ params["W"] + params["b"]) * k


@pytest.mark.parametrize("backend", BACKENDS)
def test_vjp_of_a_container_is_a_container(backend, rng):
    params = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3), "n": 3}
    x = rng.standard_normal((5, 4))
    out, vjp_fn = looptrace.vjp(scaled_layer, params, x, 2, backend=backend)
    np.testing.assert_allclose(out, scaled_layer(params, x, 2), rtol=1e-12)
    ct = rng.standard_normal(out.shape)
    g, gx, gk = vjp_fn(ct)
    assert isinstance(g, dict) and list(g) == ["W", "b", "n"] and g["n"] is None and gk is None
    for key in ("W", "b"):
        close(g[key], fd(lambda v, key=key: np.sum(scaled_layer({**params, key: v}, x, 2) * ct), params[key]))
    close(gx, fd(lambda v: np.sum(scaled_layer(params, v, 2) * ct), x))
