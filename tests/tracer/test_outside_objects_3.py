"""Objects around a jitted function, third round (probe X3's findings, session 43).

- A container of many arrays (more than external.BAKE_OVER) given to a
  library function (`sum(L)`, `np.stack(L)`, `list(d.values())[:5]`,
  `max(L, key=...)`) is baked in: each array snapshotted (every call checks
  its contents) and guarded by identity, instead of one kernel argument per
  array (sum of 1000 outside arrays: a first cpu call of over 120 s). A
  change to one, in place or by replacing it, is still seen.
- A library function given an outside container inside a loop body only
  reads it (`np.stack(cfg.mats)`): allowed; one that changes it is refused.
- A dict the function makes, returned by a closure it defines, is its own.
- any()/all() over outside arrays: a traced answer.
- grad of a container argument keeps its Python ints concrete (gradient None).
- `match` on a traced subject: class patterns as plain Python sees the
  value's type, strings never equal numbers.
- ndarray subclasses that redefine indexing or operators are refused; the
  attributes of an instance are read (and guarded).
"""
import dataclasses
import operator

import numpy as np
import pytest

import looptrace as lt
from looptrace.tracer import external
from tests.marks import INTERPRET_AND_SLOW_CPU


def _x(n=4, seed=0):
    return np.random.default_rng(seed).standard_normal(n)


def _implicit(jf, *args):
    """The number of implicit (outside) array arguments of jf's program for args."""
    gs = jf.compiled_for(list(args))[0].traced.guards
    return 0 if gs is None else len(gs.implicit)


# --- many outside arrays --------------------------------------------------------------------------
MANY = [_x(4, 100 + i) for i in range(40)]
MANY_D = {f"k{i}": _x(4, 200 + i) for i in range(60)}
FEW = [_x(4, 300 + i) for i in range(3)]


def _sum_many(x):
    return sum(MANY) @ x


def _stack_many(x):
    return np.stack(MANY) @ x


def _first_values(x):
    s = x * 0
    for v in list(MANY_D.values())[:5]:
        s = s + v
    return s


def _copy_first(x):
    s = x * 1
    for v in list(MANY)[:3]:
        s = s * v
    return s


def _max_key_many(x):
    return max(MANY, key=lambda a: a[0]) @ x


def _max_key_few(x):
    return max(FEW, key=lambda a: a[1]) @ x


@pytest.mark.parametrize("f", [_sum_many, _stack_many, _first_values, _copy_first, _max_key_many, _max_key_few])
def test_many_outside_arrays_are_baked_and_changes_seen(f):
    x = _x()
    jf = lt.jit(f, backend="interpret")
    assert np.allclose(jf(x), f(x))
    assert _implicit(jf, x) <= 2  # (not one kernel argument per array)
    for change in range(3):
        if change == 0:  # in place
            MANY[7][:] += 1.5
            MANY_D["k1"][:] *= -2.0
            FEW[1][:] = _x(4, 7) * 3
        elif change == 1:  # replaced
            MANY[2] = MANY[2] + 10.0
            MANY_D["k3"] = MANY_D["k3"] - 5.0
            FEW[0] = FEW[0] + 4.0
        else:  # the winner of max changes
            MANY[11][0] = 50.0
            FEW[2][1] = 60.0
        assert np.allclose(jf(x), f(x)), change


def test_many_outside_arrays_on_cpu():
    x = _x(4, 3)
    for f in (_sum_many, _first_values):
        jf = lt.jit(f, backend="cpu")
        assert np.allclose(jf(x), f(x))
        assert _implicit(jf, x) <= 2
        MANY[5][:] = _x(4, 9)
        MANY_D["k0"] = _x(4, 10)
        assert np.allclose(jf(x), f(x))


def test_few_outside_arrays_stay_call_time_arguments():
    def f(x):
        return np.stack(FEW) @ x

    x = _x(4, 4)
    jf = lt.jit(f, backend="interpret")
    assert np.allclose(jf(x), f(x))
    assert _implicit(jf, x) == 3
    FEW[1][:] = _x(4, 11)
    assert np.allclose(jf(x), f(x))


# --- reading outside containers in loops ------------------------------------------------------------
class _Cfg:
    def __init__(self):
        self.mats = [_x(3, 20 + i) for i in range(3)]


CFG = _Cfg()


def _stack_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += (np.stack(CFG.mats) @ x)[i % 3]
    return s


def _sum_in_loop(x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = sum(CFG.mats)[i % 3] * x[i]
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("f", [_stack_in_loop, _sum_in_loop])
def test_library_function_reading_outside_container_in_loop(f, backend):
    x = _x(3, 5)
    jf = lt.jit(f, backend=backend)
    assert np.allclose(jf(x), f(x))
    CFG.mats[1][:] = _x(3, 30)
    assert np.allclose(jf(x), f(x))


OUT_LIST = [1.0, 2.0]


def test_library_function_changing_outside_container_is_refused():
    def f(x):
        for i in range(2):
            operator.setitem(OUT_LIST, 0, 5.0)
        return x + OUT_LIST[0]

    with pytest.raises(lt.UnsupportedError, match="changes `OUT_LIST`"):
        lt.jit(f, backend="interpret")(_x())
    assert OUT_LIST == [1.0, 2.0]  # (not changed while tracing)


# --- a closure returning the function's own dict ----------------------------------------------------
def _inner_cache(x):
    cache = {}

    def get():
        return cache

    get()["k"] = x
    get()["n"] = 2
    return get()["k"] * get()["n"]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_closure_returning_own_dict(backend):
    x = _x()
    assert np.allclose(lt.jit(_inner_cache, backend=backend)(x), _inner_cache(x))


OUTER = {}


def test_closure_returning_outside_dict_still_refused():
    def f(x):
        def get():
            return OUTER

        get()["k"] = x
        return x

    with pytest.raises(lt.UnsupportedError, match="changes `OUTER`"):
        lt.jit(f, backend="interpret")(_x())


# --- any()/all() over outside arrays ----------------------------------------------------------------
MATS = [_x(3, 40 + i) for i in range(3)]


def _all_small(x):
    if all(m[0] < 1.0 for m in MATS):
        return x * 2
    return x


def _any_big(x):
    if any(m[1] > 0.5 for m in MATS):
        return x - 1
    return x


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_any_all_over_outside_arrays(backend):
    x = _x(3, 6)
    for f in (_all_small, _any_big):
        jf = lt.jit(f, backend=backend)
        for k, v in ((0, 0.2), (1, 3.0), (2, -4.0)):
            MATS[k][0], MATS[k][1] = v, -v
            assert np.allclose(jf(x), f(x)), (f.__name__, k)


def test_any_all_over_a_list_of_traced_values():
    def f(x):
        parts = [x, x + 1]
        return x * 2 if all(p[0] < 10 for p in parts) else x

    for x in (_x(3, 1), _x(3, 1) + 20):
        assert np.allclose(lt.jit(f, backend="interpret")(x), f(x))


# --- grad of a dataclass with an int field ------------------------------------------------------------
@dataclasses.dataclass
class _Params:
    w: np.ndarray
    n: int = 2
    s: float = 0.5


def _loss(p, x):
    return np.sum(np.tanh(p.w * x) ** p.n) * p.s


def test_grad_of_dataclass_with_int_field():
    x, p = _x(3, 1), _Params(_x(3, 2))
    g = lt.grad(lt.jit(_loss, backend="interpret"))(p, x)
    assert isinstance(g, _Params) and g.n is None
    eps = 1e-6
    for k in range(3):
        e = np.zeros(3)
        e[k] = eps
        fd = (_loss(_Params(p.w + e, p.n, p.s), x) - _loss(_Params(p.w - e, p.n, p.s), x)) / (2 * eps)
        assert np.isclose(g.w[k], fd, rtol=1e-5, atol=1e-8)
    fd_s = (_loss(_Params(p.w, p.n, p.s + eps), x) - _loss(_Params(p.w, p.n, p.s - eps), x)) / (2 * eps)
    assert np.isclose(g.s, fd_s, rtol=1e-5)
    g3 = lt.grad(_loss)(_Params(p.w, 3, p.s), x)  # the int is concrete: another value, another program
    assert np.isclose(g3.s, _loss(_Params(p.w, 3, 1.0), x))


def test_grad_of_dict_with_int_leaf():
    x = _x(3, 3)

    def f(t, x):
        return np.sum(t["w"] ** t["n"] * x)

    g = lt.grad(f)({"w": _x(3, 4), "n": 3}, x)
    assert g["n"] is None and np.allclose(g["w"], 3 * _x(3, 4) ** 2 * x)


# --- match on traced subjects ------------------------------------------------------------------------
def _match_float(x):
    match x[0]:
        case float():
            return 2.0
        case _:
            return 3.0


def _match_np_floating(x):
    match x[0]:
        case np.float32():
            return 1.0
        case np.floating() as v if v > 0:
            return v * 3
        case np.floating() as v:
            return v - 1
    return 0.0


def _match_literal_then_class(x):
    match x[0]:
        case 0.5:
            return 1.0
        case float():
            return 2.0
        case _:
            return 3.0


def _match_python_number(x, k):
    match k:
        case "double":
            return x * 0
        case 0.5:
            return x
        case bool():
            return x - 1
        case int():
            return x * k
        case float():
            return x + k


def _match_array(x):
    match x:
        case np.ndarray():
            return x * 2
        case _:
            return x


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_match_class_patterns_on_traced_values(backend):
    x = _x(3, 8)
    for f in (_match_float, _match_np_floating, _match_literal_then_class, _match_array):
        for v in (x, -x):
            assert np.allclose(lt.jit(f, backend=backend)(v), f(v)), f.__name__
    jf = lt.jit(_match_python_number, backend=backend)
    for k in (3, 0.5, 2.5, True):
        assert np.allclose(jf(x, k), _match_python_number(x, k)), k


def test_match_class_with_sub_patterns_of_traced_value_is_refused():
    def f(x):
        match x:
            case np.ndarray(shape=(3,)):
                return x * 2
            case _:
                return x

    with pytest.raises(lt.UnsupportedError, match="against the pattern `np.ndarray\\(shape="):
        lt.jit(f, backend="interpret")(_x(3))


def test_match_class_with_sub_patterns_of_python_value_runs():
    def f(x, t):
        match t:
            case tuple((a, b)):
                return x * a + b
            case _:
                return x

    assert np.allclose(lt.jit(f, backend="interpret", static_argnames=("t",))(_x(3), (2, 3)), f(_x(3), (2, 3)))


def test_match_returning_strings_by_traced_condition_names_them():
    def f(x):
        match x[0]:
            case 1:
                return "pos"
            case 0:
                return "neg"
        return "other"

    with pytest.raises(lt.UnsupportedError, match="the str 'pos' on one path and the str 'neg'"):
        lt.jit(f, backend="interpret")(_x(3))


# --- ndarray subclasses ------------------------------------------------------------------------------
class _Scaled(np.ndarray):
    unit = 2.5

    def __new__(cls, a, scale=2.0):
        o = np.asarray(a).view(cls)
        o.scale = scale
        return o

    def __array_finalize__(self, obj):
        self.scale = getattr(obj, "scale", 1.0)

    @property
    def doubled(self):
        return self * 2

    def scaled(self):
        return self * self.scale


class _Indexed(_Scaled):
    def __getitem__(self, i):
        return np.ndarray.__getitem__(self, i) * 10


class _Added(np.ndarray):
    def __add__(self, other):
        return np.subtract(self, other)


def _use_attributes(a, x):
    return a.scale * x + a.unit + a.doubled[0] + a.scaled()[1]


GLOBAL_SCALED = _Scaled(_x(4, 50), 5.0)


def _use_global(x):
    return GLOBAL_SCALED.scale * x + GLOBAL_SCALED[1]


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_subclass_instance_attributes_are_read_and_guarded(backend):
    a, x = _Scaled(_x(4, 1), 3.0), _x(4, 2)
    jf = lt.jit(_use_attributes, backend=backend)
    assert np.allclose(jf(a, x), _use_attributes(a, x))
    a.scale = 7.0
    assert np.allclose(jf(a, x), _use_attributes(a, x))
    jg = lt.jit(_use_global, backend=backend)
    assert np.allclose(jg(x), _use_global(x))
    GLOBAL_SCALED.scale = -1.5
    assert np.allclose(jg(x), _use_global(x))


@pytest.mark.parametrize("cls, what", [(_Indexed, "__getitem__"), (_Added, "__add__")])
def test_subclass_redefining_numpy_meaning_is_refused(cls, what):
    def f(a, x):
        return a[0] + x[0]

    a = _x(4, 1).view(cls)
    with pytest.raises(TypeError, match=f"class {cls.__name__}, which defines its own {what}"):
        lt.jit(f, backend="interpret")(a, _x(4, 2))


GLOBAL_INDEXED = _x(4, 3).view(_Indexed)


def test_outside_subclass_redefining_indexing_is_refused():
    def f(x):
        return GLOBAL_INDEXED[0] + x

    with pytest.raises(lt.UnsupportedError, match="class _Indexed, which defines its own __getitem__"):
        lt.jit(f, backend="interpret")(_x(4))


def test_bake_threshold_is_small():
    assert 8 <= external.BAKE_OVER <= 32


def _match_mixed(x, opt=None):
    match opt:
        case None:
            return x
        case "double":
            return 2 * x
        case (a, b):
            return a * x + b
        case {"scale": s}:
            return s * x
        case 7 | 8:
            return x - opt
        case _:
            return -x


def test_match_with_sequence_and_mapping_patterns_of_traced_number():
    x = _x(3, 9)
    for opt in (None, "double", (2, 3), 7, 9):
        static = ("opt",) if isinstance(opt, (tuple, str)) else ()
        jf = lt.jit(_match_mixed, backend="interpret", static_argnames=static)
        assert np.allclose(jf(x, opt), _match_mixed(x, opt)), opt


BIG = [_x(300_000, 60 + i).reshape(600, 500) for i in range(10)]


def test_a_few_big_outside_arrays_stay_call_time_arguments():
    def f(x):
        return np.stack(BIG)[:, 0, :3] @ x

    x = _x(3, 12)
    jf = lt.jit(f, backend="interpret")
    assert np.allclose(jf(x), f(x))
    assert _implicit(jf, x) == 10  # (no snapshot of 24 MB compared on every call)
    BIG[4][0, :3] = _x(3, 13)
    assert np.allclose(jf(x), f(x))
