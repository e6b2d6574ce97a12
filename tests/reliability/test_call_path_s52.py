"""The warm call of container arguments (api.py `_keep_flat`, autodiff/api.py
`_by_leaves`: the structure tested, the leaves read per call), vjp's warm
pullback (autodiff/api.py `_quick_pullback`: the saved point not copied per
call) and the warm runner's checks: the plain function is the specification."""
from __future__ import annotations

import numpy as np
import pytest

import looptrace as lt

rng = np.random.default_rng(52)


def _loss(p):
    return np.sum(p["w"] ** 2) + np.sum(p["b"] * 3.0)


def _ordered(p):
    out = 0.0
    k = 1.0
    for v in p.values():  # insertion order decides the weights
        out = out + k * np.sum(v)
        k = k + 1.0
    return out


def _nested(p, x):
    s = np.sum(x * p["w"]) + p["scale"]
    for v in p["layers"]:
        s = s + np.sum(v * v)
    return s


def _same(a, b) -> bool:
    return type(a) is type(b) and np.shape(a) == np.shape(b) and np.allclose(a, b) and \
        getattr(a, "dtype", None) == getattr(b, "dtype", None)


def test_dict_argument_values_read_every_call():
    f = lt.jit(_loss, backend="interpret")
    p = {"w": rng.standard_normal(5), "b": rng.standard_normal(3)}
    for _ in range(3):
        assert _same(f(p), _loss(p))
    p["w"] = rng.standard_normal(5)  # a new array under the same key
    assert _same(f(p), _loss(p))
    p["b"][:] = rng.standard_normal(3)  # written in place
    assert _same(f(p), _loss(p))
    q = {"w": rng.standard_normal(5), "b": rng.standard_normal(3)}  # another dict, same structure
    assert _same(f(q), _loss(q))


def test_dict_structure_changes_between_calls():
    f = lt.jit(_ordered, backend="interpret")
    a, b, c = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(2)
    for p in ({"a": a, "b": b}, {"a": a, "b": b}, {"b": b, "a": a}, {"a": a, "b": b, "c": c},
              {"a": a}, {"a": a, "b": b}, {"x": a, "y": b}, {"a": a, "b": b},
              {"a": a, "b": (b, b)}, {"a": a, "b": b}, {"a": a, "b": [c, c, c]}, {"a": a, "b": b}):
        assert _same(f(p), _ordered(p)), list(p)


def test_nested_list_length_and_leaf_kinds_change():
    f = lt.jit(_nested, backend="interpret")
    x = rng.standard_normal(3)
    layers = [rng.standard_normal(2), rng.standard_normal(4)]
    cases = [
        {"w": rng.standard_normal(3), "scale": 0.5, "layers": layers},
        {"w": rng.standard_normal(3), "scale": 0.5, "layers": layers},
        {"w": rng.standard_normal(3), "scale": 0.5, "layers": layers + [rng.standard_normal(1)]},  # longer
        {"w": rng.standard_normal(3), "scale": 0.5, "layers": layers[:1]},  # shorter
        {"w": rng.standard_normal(3), "scale": np.float64(1.5), "layers": layers},  # a NumPy scalar leaf
        {"w": rng.standard_normal(3), "scale": 2, "layers": layers},  # an int leaf
        {"w": rng.standard_normal(3), "scale": 0.5, "layers": tuple(layers)},  # a tuple, not a list
        {"w": rng.standard_normal(3), "scale": 0.5, "layers": layers},
    ]
    for p in cases:
        assert _same(f(p, x), _nested(p, x))


def test_constant_in_a_dict_changes_between_calls():
    def scaled(p):
        return np.sum(p["w"]) * (2.0 if p["mode"] == "double" else 1.0)

    f = lt.jit(scaled, backend="interpret")
    w = rng.standard_normal(4)
    for mode in ("double", "double", "single", "single", "double", None):
        p = {"w": w, "mode": mode}
        assert _same(f(p), scaled(p))


def test_dtype_and_shape_change_respecializes():
    f = lt.jit(_loss, backend="interpret")
    p = {"w": rng.standard_normal(5), "b": rng.standard_normal(3)}
    assert _same(f(p), _loss(p))
    p32 = {"w": rng.standard_normal(5).astype(np.float32), "b": rng.standard_normal(3).astype(np.float32)}
    assert _same(f(p32), _loss(p32))
    longer = {"w": rng.standard_normal(9), "b": rng.standard_normal(3)}
    assert _same(f(longer), _loss(longer))
    assert _same(f(p), _loss(p))


def test_dict_argument_written_in_place_seen_by_caller():
    def step(p, g):
        p["w"][:] = p["w"] - 0.1 * g
        return np.sum(p["w"])

    f = lt.jit(step, backend="interpret")
    for _ in range(3):
        g = rng.standard_normal(4)
        w = rng.standard_normal(4)
        p, q = {"w": w.copy()}, {"w": w.copy()}
        assert _same(f(p, g), step(q, g))
        assert np.array_equal(p["w"], q["w"])


def test_errors_on_the_warm_path_keep_their_class_and_message():
    def pick(p, i):
        return p["w"][i] * 2.0

    f = lt.jit(pick, backend="interpret")
    p = {"w": rng.standard_normal(4)}
    for _ in range(2):
        assert _same(f(p, 1), pick(p, 1))
    with pytest.raises(IndexError) as plain:
        pick(p, 7)
    with pytest.raises(IndexError) as got:
        f(p, 7)
    assert str(plain.value) in str(got.value)
    with pytest.raises(KeyError):  # a structure without the key: the general path traces it and raises
        f({"v": p["w"]}, 1)
    with pytest.raises(TypeError):
        f(p)
    with pytest.raises(TypeError):
        f(p, 1, 2)
    assert _same(f(p, i=2), pick(p, 2))  # a keyword: the general path
    assert _same(f(p, 3), pick(p, 3))


def test_jitted_dict_function_called_while_tracing():
    inner = lt.jit(_loss, backend="interpret")

    def outer(p, x):
        return inner(p) * np.sum(x)

    p, x = {"w": rng.standard_normal(3), "b": rng.standard_normal(2)}, rng.standard_normal(3)
    inner(p)
    inner(p)  # its warm call is the last one
    f = lt.jit(outer, backend="interpret")
    assert _same(f(p, x), outer(p, x))


def test_grad_of_dict_values_and_structure_change():
    g = lt.grad(_loss, backend="interpret")
    vg = lt.value_and_grad(_loss, backend="interpret")
    for n in (5, 5, 5, 7):
        p = {"w": rng.standard_normal(n), "b": rng.standard_normal(3)}
        got = g(p)
        assert list(got) == ["w", "b"]
        assert np.allclose(got["w"], 2 * p["w"]) and np.allclose(got["b"], 3.0)
        v, got2 = vg(p)
        assert np.isclose(v, _loss(p)) and np.allclose(got2["w"], 2 * p["w"])
    p = {"b": rng.standard_normal(3), "w": rng.standard_normal(5)}  # another order: its own keys' order
    assert list(g(p)) == ["b", "w"]
    p = {"w": rng.standard_normal(5), "b": rng.standard_normal(3), "n": 2}  # an int leaf: no gradient
    got = g(p)
    assert got["n"] is None and np.allclose(got["w"], 2 * p["w"])
    got["w"][:] = 0.0  # the caller's gradient is its own
    assert np.allclose(g(p)["w"], 2 * p["w"])


def test_grad_of_dict_finite_differences():
    def loss(p, x):
        return np.sum(np.tanh(x * p["w"]) ** 2) + p["c"] * np.sum(p["b"] ** 3)

    g = lt.grad(loss, backend="interpret")
    x = rng.standard_normal(4)
    for _ in range(3):
        p = {"w": rng.standard_normal(4), "b": rng.standard_normal(2), "c": float(rng.standard_normal())}
        got = g(p, x)
        for key in ("w", "b"):
            for i in range(p[key].size):
                up = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
                dn = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
                up[key][i] += 1e-6
                dn[key][i] -= 1e-6
                assert np.isclose(got[key][i], (loss(up, x) - loss(dn, x)) / 2e-6, rtol=1e-5, atol=1e-7)
        fd = (loss({**p, "c": p["c"] + 1e-6}, x) - loss({**p, "c": p["c"] - 1e-6}, x)) / 2e-6
        assert np.isclose(got["c"], fd, rtol=1e-5)


def _two(x, s):
    return np.sum(np.sin(x) * s) + np.sum(x * x)


def _check_pullback(backend: str):
    x, s = rng.standard_normal(6), float(rng.standard_normal())
    x0 = x.copy()
    out, pull = lt.vjp(_two, x, s, backend=backend)
    assert np.isclose(out, _two(x0, s))
    want_x, want_s = 2.0 * (np.cos(x0) * s + 2 * x0), 2.0 * np.sum(np.sin(x0))
    x[:] = rng.standard_normal(6)  # the caller writes into its array after vjp: the point stays
    for ct in (2.0, np.float64(2.0), np.array(2.0), np.float32(2.0)):
        gx, gs = pull(ct)
        assert np.allclose(gx, want_x) and np.isclose(gs, want_s)
        assert type(gs) is type(np.float64(0)) or isinstance(gs, float)
        gx[:] = 0.0  # the caller writes into the gradient: the next pullback is not changed
    gx, _ = pull(1.0)
    assert np.allclose(gx, want_x / 2)
    with pytest.raises(ValueError, match="shape"):
        pull(np.ones(3))
    with pytest.raises(TypeError):
        pull(None)
    assert np.allclose(pull(2.0)[0], want_x)


def test_vjp_pullback_after_the_caller_mutates_its_input():
    _check_pullback("interpret")


def test_vjp_pullback_of_array_output_and_dict():
    def f(p, x):
        return np.tanh(p["w"] * x) + p["b"]

    p = {"w": rng.standard_normal(4), "b": rng.standard_normal(4)}
    x = rng.standard_normal(4)
    w0 = p["w"].copy()
    out, pull = lt.vjp(f, p, x, backend="interpret")
    p["w"][:] = 9.0
    ct = rng.standard_normal(4)
    for _ in range(2):
        gp, gx = pull(ct)
        d = ct * (1 - np.tanh(w0 * x) ** 2)
        assert np.allclose(gp["w"], d * x) and np.allclose(gp["b"], ct) and np.allclose(gx, d * w0)
    with pytest.raises(ValueError, match="shape"):
        pull(np.ones(5))
    assert np.allclose(pull(ct.tolist())[1], d * w0)  # a list cotangent: converted


G = None  # a global the next test binds and rebinds


def test_vjp_pullback_sees_a_changed_global():
    data = {"g": rng.standard_normal(3)}

    def f(x):
        return np.sum(x * G)

    globals()["G"] = data["g"]
    x = rng.standard_normal(3)
    _, pull = lt.vjp(f, x, backend="interpret")
    g0 = data["g"].copy()
    globals()["G"] = rng.standard_normal(3)  # rebound after vjp: the general path decides
    try:
        got = pull(1.0)[0]
        plain_now = globals()["G"]
        assert np.allclose(got, g0) or np.allclose(got, plain_now)
    finally:
        globals()["G"] = None


def test_cpu_warm_paths_share_one_kernel():
    """One cpu kernel for the generated warm calls: vjp's pullback kernel,
    the dict argument's structure test, errors and keywords."""
    _check_pullback("cpu")
    f = lt.jit(_two, backend="cpu")
    x = rng.standard_normal(6)
    for s in (0.5, 0.5, 1.5):
        assert _same(f(x, s), _two(x, s))
    assert _same(f(x, s=2.5), _two(x, 2.5))
    with pytest.raises(TypeError):
        f(x)
