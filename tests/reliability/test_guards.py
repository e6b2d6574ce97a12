"""Whatever a jitted function reads from outside its arguments is read at
call time (arrays, generators: implicit arguments) or guarded (Python
values), so a change between calls is seen exactly as the plain function
sees it."""
import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt

from . import _guarded_module as mod


@pytest.fixture(autouse=True)
def restore_module():
    data = (np.ndarray, list, dict, tuple, float, str, np.random.Generator)
    saved = {k: copy.deepcopy(v) if isinstance(v, data) else v
             for k, v in vars(mod).items() if not k.startswith("__")}
    saved_k, saved_v = mod.Config.k, mod.SLOTS.v
    yield
    for k, v in saved.items():
        setattr(mod, k, v)
    mod.Config.k, mod.SLOTS.v = saved_k, saved_v


def _set(name, value):
    return lambda: setattr(mod, name, value)


def _helper_3(v):
    return v * 3.0


CHANGES = [
    ("G.sum() after G[:] = ...", mod.f_sum, lambda: mod.G.__setitem__(slice(None), [5.0, 6.0, 7.0, 8.0])),
    ("G * 2 after G[0] = ...", mod.f_mul, lambda: mod.G.__setitem__(0, 9.0)),
    ("np.exp(G)", mod.f_exp, lambda: mod.G.__setitem__(1, 3.0)),
    ("G.copy()", mod.f_copy, lambda: mod.G.__setitem__(2, 1.0)),
    ("float(G[0])", mod.f_float, lambda: mod.G.__setitem__(0, 11.0)),
    ("G.max()", mod.f_max, lambda: mod.G.__setitem__(3, 100.0)),
    ("M @ M", mod.f_matmul, lambda: mod.M.__setitem__((0, 0), 7.0)),
    ("class attribute", mod.f_class_attr, lambda: setattr(mod.Config, "k", 5.0)),
    ("class attribute via instance", mod.f_instance_class_attr, lambda: setattr(mod.Config, "k", 6.0)),
    ("__slots__ attribute", mod.f_slots, lambda: setattr(mod.SLOTS, "v", 7.0)),
    ("global tuple", mod.f_tuple, _set("TUP", (1.0, 9.0))),
    ("global string", mod.f_string, _set("NAME", "abcdef")),
    ("list append", mod.f_list, lambda: mod.LIST.append(np.full(3, 5.0))),
    ("list item", mod.f_list, lambda: mod.LIST.__setitem__(0, np.full(3, 7.0))),
    ("array in a list, in place", mod.f_list, lambda: mod.LIST[1].__setitem__(0, 70.0)),
    ("dict value in place", mod.f_dict, lambda: mod.DICT["w"].__setitem__(0, 50.0)),
    ("dict value rebound", mod.f_dict, lambda: mod.DICT.__setitem__("w", np.full(3, 9.0))),
    ("dict value of another shape", mod.f_dict, lambda: mod.DICT.__setitem__("w", np.full(5, 9.0))),
    ("rebound helper", mod.f_helper, _set("helper", _helper_3)),
    ("global float read in a loop", mod.f_scale_in_loop, _set("SCALE", -4.0)),
    ("global array rebound", mod.f_scale_in_loop, _set("G", np.arange(10.0, 14.0))),
]


def _check_change(fn, change, backend, x):
    jitted = lt.jit(fn, backend=backend)
    np.testing.assert_allclose(jitted(x), fn(x), rtol=1e-12)
    change()
    np.testing.assert_allclose(jitted(x), fn(x), rtol=1e-12)
    np.testing.assert_allclose(jitted(x), fn(x), rtol=1e-12)


@pytest.mark.parametrize("what,fn,change", CHANGES, ids=[c[0] for c in CHANGES])
def test_a_change_outside_the_arguments_is_seen(what, fn, change, rng):
    _check_change(fn, change, "interpret", rng.standard_normal(4))


@pytest.mark.parametrize("what,fn,change", CHANGES[::4], ids=[c[0] for c in CHANGES[::4]])
def test_a_change_outside_the_arguments_is_seen_on_cpu(what, fn, change, rng):
    _check_change(fn, change, "cpu", rng.standard_normal(4))


def test_rebound_nonlocal_variable_is_seen(rng):
    def make():
        k = 1.0
        table = np.ones(3)

        def f(x):
            return x * k + table

        def set_k(v):
            nonlocal k, table
            k = v
            table = np.full(3, v)

        return f, set_k

    f, set_k = make()
    jitted = lt.jit(f, backend="interpret")
    x = rng.standard_normal(3)
    np.testing.assert_allclose(jitted(x), f(x))
    set_k(4.0)
    np.testing.assert_allclose(jitted(x), f(x))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [mod.f_generator, mod.f_generator_in_loop], ids=lambda f: f.__name__)
def test_a_global_generator_advances_as_in_plain_python(fn, backend, rng):
    x = rng.standard_normal(5)
    jitted = lt.jit(fn, backend=backend)
    mod.RNG = np.random.default_rng(7)
    got = [jitted(x) for _ in range(3)]
    got_state = mod.RNG.bit_generator.state
    mod.RNG = np.random.default_rng(7)
    want = [fn(x) for _ in range(3)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    assert got_state == mod.RNG.bit_generator.state


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_writes_into_a_global_array_write_through(backend, rng):
    x = rng.standard_normal(4)
    jitted = lt.jit(mod.f_accumulate, backend=backend)
    mod.ACC[:] = 0.0
    jitted(x)
    jitted(x)
    got = mod.ACC.copy()
    mod.ACC[:] = 0.0
    mod.f_accumulate(x)
    mod.f_accumulate(x)
    np.testing.assert_allclose(got, mod.ACC, rtol=1e-12)


LEGACY = [
    lambda x: x + np.random.random(),
    lambda x: x + np.random.rand(x.shape[0]),
    lambda x: x + np.random.normal(0.0, 1.0, x.shape),
    lambda x: x * np.random.uniform(),
    lambda x: x + np.random.randn(),
]


@pytest.mark.parametrize("k", range(len(LEGACY)))
def test_numpy_global_random_state_is_drawn_at_run_time_never_baked(k, rng):
    """(tests/tracer/test_legacy_random.py covers NumPy's legacy state in full.)"""
    x = rng.standard_normal(3)
    jitted = lt.jit(LEGACY[k], backend="interpret")
    before = np.random.get_state()
    try:
        np.random.seed(k)
        want = [LEGACY[k](x), LEGACY[k](x)]
        np.random.seed(k)
        got = [jitted(x), jitted(x)]
        np.testing.assert_array_equal(got, want)
        assert not np.array_equal(got[0], got[1])
    finally:
        np.random.set_state(before)


def test_an_unseeded_generator_made_inside_is_refused(rng):
    with pytest.raises(lt.UnsupportedError, match="without a seed"):
        lt.jit(lambda x: x + np.random.default_rng().random(), backend="interpret")(rng.standard_normal(3))


def test_legacy_random_in_a_loop(rng):
    def fill(x):
        for i in range(x.shape[0]):
            x[i] = np.random.random()
        return x

    before = np.random.get_state()
    try:
        np.random.seed(1)
        want = fill(np.zeros(4))
        np.random.seed(1)
        np.testing.assert_array_equal(lt.jit(fill, backend="interpret")(np.zeros(4)), want)
    finally:
        np.random.set_state(before)


def test_a_seeded_generator_made_inside_is_allowed(rng):
    def f(x):
        g = np.random.default_rng(3)
        return x + g.random(x.shape[0])

    x = rng.standard_normal(3)
    np.testing.assert_allclose(lt.jit(f, backend="interpret")(x), f(x))


def test_warm_calls_never_compare_array_contents(monkeypatch, rng):
    """A large global is an implicit argument: a warm call reads it, it does
    not compare it with a snapshot."""
    big = np.arange(200_000.0)

    def f(x):
        return x * big[3]

    jitted = lt.jit(f, backend="interpret")
    x = rng.standard_normal(2)
    jitted(x)
    calls = []
    real = np.array_equal
    monkeypatch.setattr(np, "array_equal", lambda *a, **k: calls.append(1) or real(*a, **k))
    for _ in range(3):
        big[3] += 1.0
        np.testing.assert_allclose(jitted(x), f(x))
    assert calls == []


def test_a_guard_does_not_retrace_when_nothing_changed(rng):
    jitted = lt.jit(mod.f_list, backend="interpret")
    traces = []
    original = jitted.trace
    jitted.trace = lambda *a, **k: traces.append(1) or original(*a, **k)
    x = rng.standard_normal(3)
    for _ in range(4):
        jitted(x)
    mod.LIST[0][1] = 3.0  # contents only: read at call time, no retrace
    np.testing.assert_allclose(jitted(x), mod.f_list(x))
    assert len(traces) == 1


# --- generated sequences of changes and calls -------------------------------------------------------
OPS = st.lists(st.sampled_from(["call", "G[i]", "G=", "SCALE", "LIST.append", "LIST[0]", "DICT", "TUP"]),
               min_size=1, max_size=12)


def _program(x):
    s = x * SCALE_FACTOR()
    for a in mod.LIST:
        s = s + a[0]
    for i in range(x.shape[0]):
        s[i] = s[i] + mod.G[i % 4] * mod.TUP[1] + mod.DICT["w"][i % 3]
    return s


def SCALE_FACTOR():
    return mod.SCALE


@settings(max_examples=30, deadline=None)
@given(ops=OPS, seed=st.integers(0, 2**16))
def test_generated_changes_between_calls(ops, seed):
    r = np.random.default_rng(seed)
    saved = (mod.G.copy(), mod.SCALE, list(mod.LIST), dict(mod.DICT), mod.TUP)
    jitted = lt.jit(_program, backend="interpret")
    x = r.standard_normal(5)
    try:
        for op in ops + ["call"]:
            if op == "call":
                np.testing.assert_allclose(jitted(x), _program(x), rtol=1e-12)
            elif op == "G[i]":
                mod.G[r.integers(4)] = r.standard_normal()
            elif op == "G=":
                mod.G = r.standard_normal(4)
            elif op == "SCALE":
                mod.SCALE = float(r.standard_normal())
            elif op == "LIST.append":
                mod.LIST.append(r.standard_normal(3))
            elif op == "LIST[0]":
                mod.LIST[0] = r.standard_normal(3)
            elif op == "DICT":
                mod.DICT["w"] = r.standard_normal(3)
            else:
                mod.TUP = (1.0, float(r.standard_normal()))
    finally:
        mod.G, mod.SCALE, mod.LIST, mod.DICT, mod.TUP = saved


SCALE32 = np.float32(2.0)


def scaled32(x):
    return x * SCALE32


def test_a_numpy_scalar_global_holds_as_the_same_object_or_an_equal_one(rng):
    """The direct runner tests a NumPy scalar global by identity first, then
    by value (api._outside_guard): an equal object keeps the program, another
    value traces again, and every call gives the plain function's values."""
    global SCALE32
    f = lt.jit(scaled32, backend="cpu")
    x = rng.standard_normal(7).astype(np.float32)
    try:
        for scale in (None, np.float32(2.0), np.float32(3.0), np.float32(3.0)):
            if scale is not None:
                SCALE32 = scale
            for _ in range(2):
                got = f(x)
                assert got.dtype == np.float32
                np.testing.assert_array_equal(got, scaled32(x))
    finally:
        SCALE32 = np.float32(2.0)
