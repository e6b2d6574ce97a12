"""Objects around a jitted function, second round (probe S leftovers, session 43).

- A change to an object from outside the function is refused at its line
  however the code reached it: through a method's or a library function's
  result (`self.get_cache()["k"] = v`, `d.get("l").append(v)`, `vars(o)[k]`,
  an iterator's item): external.refuse_change looks for a path to it from
  the outside objects the trace read (Externals.locate).
- Arrays inside outside containers are read at call time (implicit
  arguments), not baked in, when the code reaches them through a library
  call (`np.stack(cfg.mats)`, `sum(self.terms)`, `d.get("a")`,
  `d.values()`, a comprehension over them): external.passed / returned.
- An ndarray subclass (argument or global) is an array; its own methods are
  traced with the traced array as `self`, so a write in one reaches the
  caller's array.
"""
import functools

import numpy as np
import pytest

import looptrace as lt
from tests.reliability.test_objects_s42 import _running, _x  # (the same random data and loop)


class _Obj:
    def __init__(self):
        self._cache, self._lst, self.d, self.inner = {}, [], {}, {"l": [], "m": {"n": []}}

    def get_cache(self):
        return self._cache

    def get_list(self):
        return self._lst


_OBJ = _Obj()
_GL: list = []


def _get_list():
    return _GL


def _store_line(fn):
    import inspect

    lines, first = inspect.getsourcelines(fn)
    return first + next(k for k, line in enumerate(lines) if line.rstrip().endswith("# store"))


# --- stores through what a call returned -----------------------------------------------------------
def via_method(x):
    s = _running(x)
    _OBJ.get_cache()["k"] = s  # store
    return s


def via_function(x):
    s = _running(x)
    _get_list().append(s)  # store
    return s


def via_getattr(x):
    s = _running(x)
    getattr(_OBJ, "d")["k"] = s  # store
    return s


def via_vars(x):
    s = _running(x)
    vars(_OBJ)["extra"] = s  # store
    return s


def via_dict_get(x):
    s = _running(x)
    _OBJ.inner.get("l").append(s)  # store
    return s


def via_values_loop(x):
    s = _running(x)
    for v in _OBJ.inner.values():
        v.clear()  # store
    return s


def via_next_iter(x):
    s = _running(x)
    next(iter(_OBJ.inner.values())).append(s)  # store
    return s


def via_max(x):
    s = _running(x)
    max([_OBJ.inner["l"], _OBJ._lst], key=len).append(s)  # store
    return s


def via_deep_get(x):
    s = _running(x)
    _OBJ.inner.get("m").get("n").append(s)  # store
    return s


def via_getitem_op(x):
    import operator

    s = _running(x)
    operator.getitem(_OBJ.inner, "l").append(s)  # store
    return s


def via_sorted(x):
    s = _running(x)
    sorted([_OBJ._lst, _OBJ.inner["l"]], key=id)[0].append(s)  # store
    return s


_STORES = [via_method, via_function, via_getattr, via_vars, via_dict_get, via_values_loop, via_next_iter, via_max,
           via_deep_get, via_getitem_op, via_sorted]


@pytest.mark.parametrize("fn", _STORES, ids=lambda f: f.__name__)
def test_change_through_a_calls_result_refused(fn):
    before = (repr(vars(_OBJ)), list(_GL))
    with pytest.raises(lt.UnsupportedError, match="from outside the function") as e:
        lt.jit(fn, backend="interpret")(_x())
    assert e.value.loc.line == _store_line(fn)
    assert (repr(vars(_OBJ)), list(_GL)) == before  # refused before the change


def test_change_through_a_method_of_self_refused_cpu():
    class M:
        def __init__(self):
            self._memo = {}

        def memo(self):
            return self._memo

        @lt.jit(backend="cpu")
        def f(self, x):
            s = _running(x)
            self.memo().setdefault("k", []).append(s)
            return s

    m = M()
    with pytest.raises(lt.UnsupportedError, match="self._memo"):
        m.f(_x())
    assert m._memo == {}


def test_objects_made_inside_through_calls_still_change():
    def f(x):
        d = {"l": []}
        s = _running(x)
        d.get("l").append(s)
        d.setdefault("m", []).append(2 * s)
        vals = list(d.values())
        vals[0].append(3 * s)
        return sum(d["l"]) + d["m"][0]

    for backend in ("interpret", "cpu"):
        jf = lt.jit(f, backend=backend)
        for seed in (0, 1):
            x = _x(seed=seed)
            assert np.isclose(jf(x), f(x))


# --- arrays inside outside containers, reached through calls ---------------------------------------
class _Cfg:
    pass


_CFG = _Cfg()


_CFG.d = {"a": np.ones(3), "b": np.full(3, 2.0)}
_CFG.mats = [np.ones(3), np.full(3, 2.0)]


def _reset():
    """The same objects, their contents as at first (a new object would be traced again)."""
    for arrays in (list(_CFG.d.values()), _CFG.mats):
        arrays[0][:], arrays[1][:] = 1.0, 2.0


def _bump():
    _CFG.d["a"][:] = 5.0
    _CFG.mats[1][:] = 7.0


def r_get(x):
    return _running(x) + _CFG.d.get("a").sum()


def r_values_loop(x):
    s = _running(x)
    for v in _CFG.d.values():
        s = s + v[0]
    return s


def r_items_loop(x):
    s = _running(x)
    for _, v in _CFG.d.items():
        s = s + v[1]
    return s


def r_comprehension(x):
    return _running(x) + sum([v[0] for v in _CFG.mats])


def r_values_comprehension(x):
    return _running(x) + sum([v[2] for v in _CFG.d.values()])


def r_stack(x):
    return _running(x) + np.stack(_CFG.mats).sum()


def r_builtin_sum(x):
    return _running(x) + sum(_CFG.mats)[0]


def r_reduce(x):
    return _running(x) + functools.reduce(lambda a, b: a * b, _CFG.mats)[0]


def r_sorted(x):
    return _running(x) + sorted(_CFG.mats, key=len)[1][0]


def r_next(x):
    return _running(x) + next(reversed(_CFG.mats))[0]


def r_list_values(x):
    return _running(x) + list(_CFG.d.values())[0][0]


def r_vars(x):
    return _running(x) + vars(_CFG)["mats"][1][0]


def r_dict_copy(x):
    return _running(x) + dict(_CFG.d)["a"][0]


def w_get(x):
    s = _running(x)
    _CFG.d.get("a")[0] = s
    return s


def w_list_in_dict(x):
    s = _running(x)
    m = next(iter(_CFG.mats))
    m[1] = s
    return s


_READS = [r_get, r_values_loop, r_items_loop, r_comprehension, r_values_comprehension, r_stack, r_builtin_sum,
          r_reduce, r_sorted, r_next, r_list_values, r_vars, r_dict_copy, w_get, w_list_in_dict]


def _check_reads(fn, backend):
    jf = lt.jit(fn, backend=backend)
    _reset()
    jf(_x(seed=3))  # traced with the first contents
    for seed in (1, 2):
        _reset()
        _bump()
        x = _x(seed=seed)
        got = jf(x)
        jit_state = [a.copy() for a in (*_CFG.d.values(), *_CFG.mats)]
        _reset()
        _bump()
        want = fn(x)
        assert np.isclose(got, want), (got, want)
        for a, b in zip(jit_state, (*_CFG.d.values(), *_CFG.mats)):
            np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("fn", _READS, ids=lambda f: f.__name__)
def test_arrays_reached_through_calls_are_read_at_call_time(fn):
    _check_reads(fn, "interpret")


@pytest.mark.parametrize("fn", [r_get, r_stack, r_values_loop, w_get], ids=lambda f: f.__name__)
def test_arrays_reached_through_calls_are_read_at_call_time_cpu(fn):
    _check_reads(fn, "cpu")


# --- ndarray subclasses ---------------------------------------------------------------------------
class Buf(np.ndarray):
    def put(self, i, v):
        self[i] = v

    def total(self):
        s = 0.0
        for k in range(self.shape[0]):
            s += self[k]
        return s


_G = np.arange(4.0).view(Buf)


def sub_arg_write(a, x):
    s = _running(x)
    a.put(0, s)
    return a.total()


def sub_global_read(x):
    return _running(x) + _G.total() + _G.sum()


def sub_global_write(x):
    s = _running(x)
    _G.put(1, s)
    _G[2] = 2 * s
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_ndarray_subclass_argument_written_through_its_method(backend):
    jf = lt.jit(sub_arg_write, backend=backend)
    for seed in (0, 1):
        a, b = np.arange(4.0).view(Buf), np.arange(4.0).view(Buf)
        x = _x(seed=seed)
        assert np.isclose(jf(a, x), sub_arg_write(b, x))
        np.testing.assert_allclose(a, b)
        assert type(a) is Buf


@pytest.mark.parametrize("fn", [sub_global_read, sub_global_write], ids=lambda f: f.__name__)
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_ndarray_subclass_global_read_and_written_at_call_time(fn, backend):
    jf = lt.jit(fn, backend=backend)
    _G[:] = np.arange(4.0)
    jf(_x(seed=5))
    for seed in (0, 1):
        _G[:] = 10.0 + seed
        x = _x(seed=seed)
        got = jf(x)
        after = _G.copy()
        _G[:] = 10.0 + seed
        assert np.isclose(got, fn(x))
        np.testing.assert_allclose(after, _G)


# --- dataclass arguments --------------------------------------------------------------------------
import dataclasses  # noqa: E402


@dataclasses.dataclass
class Params:
    W: np.ndarray
    out: np.ndarray
    label: str = "p"
    n: int = 2


@dataclasses.dataclass(frozen=True)
class Frozen:
    W: np.ndarray
    inner: Params


def _fill(p, x):
    s = 0.0
    for i in range(x.shape[0]):
        s += p.W[i] * x[i]
        p.out[i] = s
    return s * p.n


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_dataclass_argument_leaves_and_in_place_writes(backend):
    jf = lt.jit(_fill, backend=backend)
    for seed in (0, 1):
        x, W = _x(seed=seed), _x(seed=seed + 7)
        a, b = Params(W.copy(), np.zeros(5)), Params(W.copy(), np.zeros(5))
        assert np.isclose(jf(a, x), _fill(b, x))
        np.testing.assert_allclose(a.out, b.out)  # the write landed in the caller's array
    assert np.isclose(jf(Params(W, np.zeros(5), n=3), x), _fill(Params(W, np.zeros(5), n=3), x))


def test_frozen_dataclass_argument_returned_and_rebuilt():
    def f(q, x):
        return Frozen(q.W * 2, q.inner), q, q.inner.W.sum() + x.sum()

    jf = lt.jit(f, backend="interpret")
    W = _x(seed=2)
    q = Frozen(W, Params(W + 1, np.ones(5), "z"))
    new, same, total = jf(q, _x())
    assert type(new) is Frozen and type(same) is Frozen and type(same.inner) is Params
    np.testing.assert_allclose(new.W, 2 * W)
    assert same.inner.label == "z" and np.isclose(total, (W + 1).sum() + _x().sum())


def test_dataclass_argument_field_assignment_refused():
    def f(p, x):
        p.W = x
        return x.sum()

    with pytest.raises(lt.UnsupportedError, match="`p`"):
        lt.jit(f, backend="interpret")(Params(_x(), np.zeros(5)), _x())


def test_grad_of_dataclass_argument():
    def loss(p, x):
        return (p.W * x).sum()

    W, x = _x(seed=1), _x(seed=2)
    g = lt.grad(lt.jit(loss, backend="interpret"))(Params(W, np.zeros(5), n=2.0), x)
    assert type(g) is Params
    np.testing.assert_allclose(g.W, x)


# --- functools.partial, bound methods, callable objects -------------------------------------------
def _scaled(a, x, k=2.0, n=3):
    s = 0.0
    for i in range(x.shape[0]):
        s += k * x[i]
        a[i] = s
    return s + n


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_jit_of_partial_passes_bound_arguments_on_every_call(backend):
    a, b = np.zeros(5), np.zeros(5)
    jf = lt.jit(functools.partial(_scaled, a, k=3.0), backend=backend, static_argnames=("n",))
    for seed in (0, 1):
        x = _x(seed=seed)
        assert np.isclose(jf(x, n=4), functools.partial(_scaled, b, k=3.0)(x, n=4))
        np.testing.assert_allclose(a, b)  # the bound array is the one written
    assert np.isclose(jf(x, k=1.0), _scaled(b, x, k=1.0))
    assert lt.explain(jf, x).loops


class _Scaler:
    def __init__(self):
        self.k = 2.0

    def __call__(self, x):
        s = 0.0
        for i in range(x.shape[0]):
            s += self.k * x[i]
        return s


def test_jit_of_callable_object_reads_its_attributes_at_call_time():
    m = _Scaler()
    jf = lt.jit(m, backend="interpret")
    x = _x()
    assert np.isclose(jf(x), m(x))
    m.k = 5.0
    assert np.isclose(jf(x), m(x))


# --- match ----------------------------------------------------------------------------------------
def _by_mode(x, mode):
    match mode:
        case "sum":
            return x.sum()
        case "max" | "top":
            return x.max()
        case _:
            return x.min()


def _by_index(x):
    s = 0.0
    for i in range(x.shape[0]):
        match i % 3:
            case 0:
                s += x[i]
            case 1:
                s -= 2 * x[i]
            case _:
                if i > 5:
                    break
    return s


def _first_big(x, k):
    for i in range(x.shape[0]):
        match k:
            case n if n > 2:
                return x[i] * n
    return -1.0


def _class_pattern(x, t):
    match t:
        case (a, b):
            return x.sum() * a + b
        case _:
            return x.sum()


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_match_returns_and_traced_subjects(backend):
    x = np.random.default_rng(4).standard_normal(9)
    jm = lt.jit(_by_mode, backend=backend, static_argnames=("mode",))
    for mode in ("sum", "top", "other"):
        assert np.isclose(jm(x, mode), _by_mode(x, mode))
    assert np.isclose(lt.jit(_by_index, backend=backend)(x), _by_index(x))
    jb = lt.jit(_first_big, backend=backend)
    for k in (1, 3):
        assert np.isclose(jb(x, k), _first_big(x, k))
    jc = lt.jit(_class_pattern, backend=backend, static_argnames=("t",))
    assert np.isclose(jc(x, (2, 3)), _class_pattern(x, (2, 3)))


def test_match_on_traced_number_with_sequence_pattern_runs_as_python():
    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            match x[i]:
                case [a, b]:
                    s += a
                case _:
                    s += x[i]
        return s

    x = _x()
    assert np.isclose(lt.jit(f, backend="interpret")(x), f(x))  # a number is no sequence: `case _`


def _singletons(x):
    n = 0
    for i in range(x.shape[0]):
        b = x[i] > 0  # a NumPy bool: neither singleton, as in plain Python
        if b is True or b is not False:
            n += 1
        match bool(b):  # a Python bool: `case True:` is `is True`
            case True:
                n += 10
            case _:
                n -= 10
        if True is bool(x[i] > 1):
            n += 100
    return n


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_is_true_of_traced_bools(backend):
    x = np.random.default_rng(8).standard_normal(11) * 2
    assert lt.jit(_singletons, backend=backend)(x) == _singletons(x)
