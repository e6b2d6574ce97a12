"""The Python language inside jitted functions (session 49, helper L): what
the language probe found already right, kept right. Globals read, rebound and
written in place between and inside calls; closures, partials, nested jitted
functions, helpers and recursion; Python's control constructs on traced
values (for/while-else, break flags, try/finally, chained comparisons,
and/or operands, walrus, match, del, print, comprehensions, sorted/min/max
with key=, Python min/max on NaN); arguments (keyword-only, *args/**kwargs,
a mutable default array written in place, None defaults, methods,
dataclasses); NumPy's aliasing gotchas (row swap through views, [a] * 3); and
the clear errors for what is refused. Each check runs the plain function and
the jitted one on copies of fresh random data and compares results (types,
dtypes, values), the arguments after the call and any other state the plain
function changes. Interpret mostly; one cpu kernel batches the
codegen-sensitive checks."""
import functools
import types
from dataclasses import dataclass

import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad


# --- the comparison ------------------------------------------------------------------------
def _same(got, exp):
    if isinstance(exp, (tuple, list)):
        assert type(got) is type(exp) and len(got) == len(exp), (got, exp)
        for g, e in zip(got, exp):
            _same(g, e)
        return
    if isinstance(exp, dict):
        assert type(got) is dict and list(got) == list(exp)
        for k in exp:
            _same(got[k], exp[k])
        return
    assert type(got) is type(exp), (type(got), type(exp), got, exp)
    if exp is None or isinstance(exp, str):
        assert got == exp
        return
    g, e = np.asarray(got), np.asarray(exp)
    assert (g.dtype, g.shape) == (e.dtype, e.shape)
    if e.dtype.kind in "fc":
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, e)


def _copy(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, list):
        return [_copy(v) for v in a]
    return a


def agree(fn, *args, backend="interpret", jf=None, **kw):
    """jit(fn)(*args, **kw) equals fn(*args, **kw), and leaves the arguments as plain does."""
    pa, ja = [_copy(a) for a in args], [_copy(a) for a in args]
    with np.errstate(all="ignore"):
        expected = fn(*pa, **kw)
        got = (jf or lt.jit(fn, backend=backend))(*ja, **kw)
    _same(got, expected)
    _same(ja, pa)
    return got


def agree_calls(fn, make, between, reset, state=lambda: None, calls=3):
    """Several calls with outside state changed between them (`between(k)`):
    the jitted function sees each change as plain does, and leaves the same state."""
    def series(f):
        reset()
        out = []
        for k in range(calls):
            if k:
                between(k)
            out.append(f(*make()))
        return out, state()
    expected = series(fn)
    _same(series(lt.jit(fn, backend="interpret")), expected)


def _x(n=6, seed=0):
    return np.random.default_rng(seed).standard_normal(n)


# --- globals -------------------------------------------------------------------------------
G_ARR = _x(5, 9)
G_SCALE = 2.5
G_N = 3
G_OUT = np.zeros(5)
G_PARAMS = {"lr": 0.1, "w": _x(5, 8)}
G_CFG = types.SimpleNamespace(alpha=0.5, w=_x(5, 7))


def _fn_a(v):
    return v + 1.0


def _fn_b(v):
    return v * 10.0


G_HELPER = _fn_a


class _K:
    FACTOR = 2.0


def reads_global(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * G_ARR[i] * G_SCALE
    return s


def _reads_global_helper(v, i):
    return v * G_ARR[i]


def reads_global_via_helper(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += _reads_global_helper(x[i], i) + G_HELPER(x[i])
    return s


def writes_global(x):
    for i in range(x.shape[0]):
        G_OUT[i] = x[i] * 2.0
    return x.sum()


def global_shape(x):
    out = np.zeros(G_N)
    for i in range(G_N):
        out[i] = x[i] * 2
    return out


def global_containers(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += G_PARAMS["lr"] * x[i] * G_PARAMS["w"][i]
    return s + (x * G_CFG.w).sum() * G_CFG.alpha + _K.FACTOR


def test_global_array_changed_in_place_and_rebound_between_calls():
    def reset():
        global G_ARR, G_SCALE
        G_ARR, G_SCALE = _x(5, 9), 2.5

    def between(k):
        global G_ARR, G_SCALE
        if k == 1:
            G_ARR[:] = _x(5, 30)      # in place
        else:
            G_ARR = _x(5, 31).astype(np.float32)  # rebound, another dtype
            G_SCALE = 3                            # another Python type
    agree_calls(reads_global, lambda: [_x(5, 1)], between, reset)
    reset()


def test_global_helper_function_and_array_seen_through_a_helper():
    def reset():
        global G_ARR, G_HELPER
        G_ARR, G_HELPER = _x(5, 9), _fn_a

    def between(k):
        global G_HELPER
        G_ARR[:] = _x(5, 40 + k)
        G_HELPER = [_fn_a, _fn_b, _fn_a][k]
    agree_calls(reads_global_via_helper, lambda: [_x(5, 1)], between, reset)
    reset()


def test_global_array_written_in_place():
    def reset():
        G_OUT[:] = 0.0
    agree_calls(writes_global, lambda: [_x(5, 1)], lambda k: None, reset, state=lambda: G_OUT.copy(), calls=1)


def test_global_int_deciding_a_shape_rebound():
    def reset():
        global G_N
        G_N = 3

    def between(k):
        global G_N
        G_N = 3 + k
    agree_calls(global_shape, lambda: [_x(5, 1)], between, reset)
    reset()


def test_global_dict_object_and_class_attribute_changed():
    def reset():
        G_PARAMS.update(lr=0.1, w=_x(5, 8))
        G_CFG.alpha, G_CFG.w = 0.5, _x(5, 7)
        _K.FACTOR = 2.0

    def between(k):
        G_PARAMS["lr"] = 0.1 * (k + 1)
        G_CFG.w[0] = 10.0 * k
        if k == 2:
            G_PARAMS["w"] = _x(5, 40)
            G_CFG.alpha = 1.5
            _K.FACTOR = 4.0
    agree_calls(global_containers, lambda: [_x(5, 1)], between, reset)
    reset()


def assigns_global(x):
    global G_SCALE
    G_SCALE = x.sum()
    return x


def alias_global_arg(x):
    for i in range(1, x.shape[0]):
        x[i] = x[i] + G_ARR[i - 1]
    return x.sum()


def test_global_writes_and_aliases_are_refused_clearly():
    with pytest.raises(lt.UnsupportedError, match=r"module variable `G_SCALE`[\s\S]*test_probe_lang_s49.py"):
        lt.jit(assigns_global, backend="interpret")(_x(3))
    assert G_SCALE == 2.5
    with pytest.raises(ValueError, match="shares memory with an array the function reads from outside"):
        lt.jit(alias_global_arg, backend="interpret")(G_ARR)


# --- closures, helpers, nested jitted functions, recursion --------------------------------------
def _make_dot(w):
    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += w[i] * x[i]
        return s
    return f


def _make_rebindable():
    w, k = np.ones(5), 2.0

    def f(x):
        return (x * w).sum() * k

    def set_(v, kk):
        nonlocal w, k
        w, k = v, kk
    return f, set_


def test_closure_array_mutated_and_cells_rebound_between_calls():
    w = _x(5, 3)
    agree_calls(_make_dot(w), lambda: [_x(5, 1)], lambda k: w.__setitem__(slice(None), 1.5 * k),
                lambda: w.__setitem__(slice(None), _x(5, 3)))
    f, set_ = _make_rebindable()
    agree_calls(f, lambda: [_x(5, 1)], lambda k: set_(np.full(5, float(k)), 1.0 + k),
                lambda: set_(np.ones(5), 2.0))


def _poly(a, b, x):
    return a + b * x


def _helper(v, c):
    if v > 0:
        return v * c
    return -v


@lt.jit(backend="interpret")
def _jitted_inner(v):
    return np.sin(v) * 2.0


def _fact(n):
    return 1 if n <= 1 else n * _fact(n - 1)


def _rec_sum(x, n):
    return x[0] if n == 0 else x[n] + _rec_sum(x, n - 1)


def _mutual_a(x, n):
    return x if n == 0 else _mutual_b(x * 2, n - 1)


def _mutual_b(x, n):
    return x if n == 0 else _mutual_a(x + 1, n - 1)


def helpers_and_closures(x, a):
    m = x.mean()

    def centered(v):
        return v - m

    g = lambda v: a * v - 1.0  # noqa: E731
    p = functools.partial(_poly, 1.0, 2.0)
    total = 0.0

    def add(v):
        nonlocal total
        total += v

    out = np.empty_like(x)
    s = 0.0
    for i in range(x.shape[0]):
        out[i] = centered(x[i]) ** 2 + g(x[i]) + p(x[i])
        s += _helper(x[i], 3.0) + _jitted_inner(x[i])
        if x[i] > 0:
            add(x[i])
    fs = [lambda v: v * i for i in range(3)]         # late binding: all use i == 2
    early = [lambda v, i=i: v * i for i in range(3)]
    return (out, s, total, _rec_sum(x, x.shape[0] - 1) * _fact(4), _mutual_a(x, 5),
            [f(x[0]) for f in fs], [f(x[0]) for f in early], _jitted_inner(x) + 1.0)


def test_helpers_closures_partials_nested_jit_and_recursion(rng):
    agree(helpers_and_closures, rng.standard_normal(6), 1.7)


def _rec_traced(v):
    if v <= 0:
        return v
    return _rec_traced(v - 1.0) + 1.0


def recursion_on_traced(x):
    return _rec_traced(x[0])


def test_recursion_on_a_traced_value_is_a_clear_error():
    with pytest.raises(lt.UnsupportedError, match=r"calls itself[\s\S]*test_probe_lang_s49.py"):
        lt.jit(recursion_on_traced, backend="interpret")(np.array([2.5]))


# --- control constructs on traced values ----------------------------------------------------------
def loops_with_else_and_flags(x, M):
    found = -1
    for i in range(x.shape[0]):
        if x[i] > 1.0:
            found = i
            break
    else:
        found = 100
    j = 0
    while j < x.shape[0]:
        if x[j] < -0.5:
            break
        j += 1
    else:
        j = -1
    hit, r, c = False, -1, -1
    for a in range(M.shape[0]):
        for b in range(M.shape[1]):
            if M[a, b] > 1.2:
                hit, r, c = True, a, b
                break
        if hit:
            break
    rows, tot = 0, 0.0
    for a in range(M.shape[0]):
        for b in range(M.shape[1]):
            if M[a, b] < -1.0:
                break
            tot += M[a, b]
        else:
            rows += 1
            continue
        tot -= 100.0
    cnt, s = 0, 0.0
    for k in range(x.shape[0]):
        try:
            if x[k] > 1.5:
                break
            s += x[k]
        finally:
            cnt += 1
    for k2, v2 in enumerate(x):
        if v2 > 0.8:
            break
    return found, j, hit, r, c, rows, tot, cnt, s, k2, v2, i


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_for_while_else_break_flags_finally(seed):
    rng = np.random.default_rng(seed)
    agree(loops_with_else_and_flags, rng.standard_normal(8) * (seed + 1) / 2, rng.standard_normal((5, 4)))


def expressions(x, k):
    c = 0
    out = np.empty_like(x)
    s = 0.0
    w = 0.0
    for i in range(x.shape[0]):
        if -0.5 < x[i] < 0.5:
            c += 1
        v = x[i]
        out[i] = v if v > 1 else (0.0 if v > -1 else -v)
        s += (x[i] > 0) and x[i]
        if not x[i] > 0:
            c += 10
        if (t := x[i] * 2) > 0:
            w += t
    a, b = 0.0, 1.0
    for i in range(x.shape[0]):
        a, b = b, a + b * x[i]
        a += 1
        b *= 0.5
    y = x * 2
    del y
    return (c, out, s, w, t, a, b, x[0] or 1.0, k[0] and 5, k[1] or 7, 1 if x[0] > 0 else 2.5,
            [x[i] or k[i] for i in range(3)], not x[1])


@pytest.mark.parametrize("seed", [0, 1])
def test_comparisons_ifexp_and_or_not_walrus_unpacking(seed):
    x = np.random.default_rng(seed).standard_normal(8) * 1.5
    x[2] = 0.0
    agree(expressions, x, np.array([0, 3, 0]) if seed else np.array([2, 0, 4]))


def match_forms(x, k, mode):
    out = 0.0
    for i in range(x.shape[0]):
        match i:
            case 0:
                out += 100
            case n if x[n] > 0:
                out += x[n]
            case _:
                out -= 1
    for i in range(k.shape[0]):
        match k[i]:
            case 0:
                out += 1.0
            case 1 | 2:
                out += 10.0
            case _:
                out += 1000.0
    match x[0]:
        case float():
            cls = 1
        case _:
            cls = 3
    match x.shape:
        case (n,):
            shp = n
    match [x[0], x[1]]:
        case [a, b]:
            ab = a * b
    match mode:
        case "sum":
            red = x.sum()
        case _:
            red = x.min()
    return out, cls, shp, ab, red


def test_match_statements(rng):
    agree(match_forms, rng.standard_normal(6), np.array([0, 1, 2, 3, 0, 7]), "sum")
    agree(match_forms, rng.standard_normal(6), np.array([2, 2, 5]), "min")


def builtins_on_traced(x, k):
    lst = [x[i] for i in range(x.shape[0]) if x[i] > 0]
    d = {i: x[i] for i in range(3)}
    return (sum(x[i] ** 2 for i in range(x.shape[0])), sum((v * 2 for v in x), 1.0), len(lst), len(x),
            d[0] + d[2], sorted([x[0], x[2], x[1]]), sorted([x[0], x[1], x[2]], key=lambda v: -v, reverse=True),
            max(range(x.shape[0]), key=lambda i: x[i]), min([x[0], x[1], x[2]], key=abs),
            min(x[0], x[1]), max(x[0], x[1], x[2]), min(x), any(x > 1.0), all(x > -5.0),
            any(x[i] > 1.5 for i in range(x.shape[0])), all(v < 3 for v in x),
            isinstance(x[0], float), isinstance(x, np.ndarray), abs(x[0]), round(x[1], 2), round(x[2]),
            divmod(k[0], k[1]), sum(k), sum(np.array([True, False, True])))


def test_builtins_sum_sorted_min_max_any_all_len(rng):
    agree(builtins_on_traced, rng.standard_normal(7), np.array([-7, 3]))


def python_min_max_nan(x):
    m = x[0]
    for i in range(1, x.shape[0]):
        m = min(m, x[i])
    return min(x[0], x[1]), max(x[0], x[1]), min(x[1], x[0]), max(x[1], x[0]), m, max(x[0], 0)


def test_python_min_max_keep_pythons_nan_and_type_rules():
    for x in ([np.nan, 1.0, 2.0], [1.0, np.nan, 0.5], [3.0, 1.0, np.nan], [-1.0, 2.0, 0.0]):
        agree(python_min_max_nan, np.array(x))


def iteration_forms(x, y, k, idx):
    s = 0.0
    for j, v in enumerate(x, start=1):
        s += j * v
    for a, b in zip(x, y):             # unequal lengths: the shortest
        s += a * b
    out = np.empty_like(x)
    acc = 0.0
    for i in reversed(range(x.shape[0])):
        acc = acc * 0.5 + x[i]
        out[i] = acc
    for i in range(x.shape[0] - 1, k, -2):
        s += x[i]
    n = int(abs(x[0]) * 4)
    for i in range(n):
        s += x[i % x.shape[0]]
    for i in range(idx[0], idx[1], -1):
        s += x[i]
    for i in range(0, x.shape[0], idx[2]):
        s += 2 * x[i]
    return s, out, n


@pytest.mark.parametrize("k, idx", [(1, [5, 1, 2]), (20, [3, -3, 3])])
def test_enumerate_zip_reversed_and_traced_ranges(k, idx):
    agree(iteration_forms, _x(7, 4), _x(5, 5), k, np.array(idx))


def printed(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        if x[i] > 0:
            print("pos", i, x[i])
    print(f"s={s:.3f}", s, sep="|")
    return s


def test_print_of_traced_values_matches_plain(capsys):
    x = _x(5, 1)
    printed(x.copy())
    plain = capsys.readouterr().out
    lt.jit(printed, backend="interpret")(x.copy())
    assert capsys.readouterr().out == plain


def raises_from_data(x):
    for i in range(x.shape[0]):
        x[i] = 2 * x[i]
        if x[i] < 0:
            raise ValueError(f"negative at {i}: {x[i]} ({x[i]:.2f}) {x[:2]}")
    assert x.sum() < 100, f"sum is {x.sum():.3f} of {x.shape}, largest at {x.argmax()}"
    return x.sum()


def test_data_dependent_raise_and_assert_messages_and_writes_before_them():
    f = lt.jit(raises_from_data, backend="interpret")
    agree(raises_from_data, np.abs(_x(4)), jf=f)
    for bad in ([1.0, -2.5, 3.0], [100.0, 2.0, 3.0]):
        xp, xj = np.array(bad), np.array(bad)
        with pytest.raises((ValueError, AssertionError)) as plain:
            raises_from_data(xp)
        with pytest.raises(plain.type) as jitted:
            f(xj)
        # (pytest rewrites this module's asserts: a message gains explanation lines)
        assert str(jitted.value).split("\n")[0] == str(plain.value).split("\n")[0]
        _same(xj, xp)                                  # the writes made before the raise


# --- arguments ----------------------------------------------------------------------------------
def kwonly(x, *, scale=2.0, shift):
    return x * scale + shift


def star_args(x, *ws, **kw):
    s = x.copy()
    for w in ws:
        s = s + w
    for key in sorted(kw):
        s = s * kw[key]
    return s


def calls_with_keywords(x):
    return kwonly(x, shift=1.0) + kwonly(x, scale=0.5, shift=x[0]) + star_args(*(x, x * 2), **{"a": 2.0, "b": x[1]})


def test_keyword_only_star_args_and_kwargs(rng):
    x = rng.standard_normal(4)
    agree(kwonly, x, shift=0.5)
    agree(kwonly, x, shift=0.5, scale=np.float32(3))
    agree(star_args, x, rng.standard_normal(4), 2.0, b=2.0, a=rng.standard_normal(4))
    agree(star_args, x)
    agree(calls_with_keywords, x)


def mutable_default(x, acc=np.zeros(4)):
    for i in range(x.shape[0]):
        acc[i] += x[i]
    return acc.sum()


def none_defaults(x, w=None, out=None):
    if w is None:
        w = np.ones_like(x)
    if out is None:
        out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = w[i] * x[i] ** 2
    return out


def test_mutable_default_array_keeps_its_writes_across_calls():
    default = mutable_default.__defaults__[0]
    agree_calls(mutable_default, lambda: [_x(4, 1)], lambda k: None,
                lambda: default.__setitem__(slice(None), 0.0), state=lambda: default.copy())
    default[:] = 0.0


def test_none_defaults_replaced_inside(rng):
    x = rng.standard_normal(4)
    agree(none_defaults, x)
    agree(none_defaults, x, rng.standard_normal(4))
    agree(none_defaults, x, None, np.zeros(4))   # out written in place, as plain does


class Model:
    FACTOR = 3.0

    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        h = np.zeros(self.W.shape[0])
        for i in range(self.W.shape[0]):
            h[i] = np.tanh(self.W[i] @ x + self.b[i])
        return h

    def update(self, g):
        for i in range(self.b.shape[0]):
            self.b[i] -= 0.1 * g[i]
        return self.b.sum()

    @staticmethod
    def smeth(x):
        s = 0.0
        for v in x:
            s += v * v
        return s

    @classmethod
    def cmeth(cls, x):
        return x * cls.FACTOR

    def count(self, x):
        self.calls = 1
        return x


def test_methods_static_and_class_methods(rng):
    W, b = rng.standard_normal((3, 4)), rng.standard_normal(3)
    mp, mj = Model(W.copy(), b.copy()), Model(W.copy(), b.copy())
    x, g = rng.standard_normal(4), rng.standard_normal(3)
    _same(lt.jit(mj.forward, backend="interpret")(x), mp.forward(x))
    _same(lt.jit(mj.update, backend="interpret")(g), mp.update(g))
    _same(mj.b, mp.b)                                  # self's array written in place
    agree(Model.smeth, x)
    agree(Model.cmeth, x)
    with pytest.raises(lt.UnsupportedError, match=r"changes `self`[\s\S]*test_probe_lang_s49.py"):
        lt.jit(mj.count, backend="interpret")(x)


@dataclass
class State:
    pos: np.ndarray
    vel: np.ndarray
    dt: float


def step_dataclass(s, f):
    for i in range(s.pos.shape[0]):
        s.vel[i] += f[i] * s.dt
        s.pos[i] += s.vel[i] * s.dt
    return s.pos.sum()


def test_dataclass_fields_written_in_place(rng):
    pos, vel, f = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)
    sp, sj = State(pos.copy(), vel.copy(), 0.1), State(pos.copy(), vel.copy(), 0.1)
    _same(lt.jit(step_dataclass, backend="interpret")(sj, f), step_dataclass(sp, f))
    _same([sj.pos, sj.vel], [sp.pos, sp.vel])


def list_arg_append(x, lst):
    lst.append(x.sum())
    return len(lst)


def test_container_argument_changes_are_refused_clearly():
    lst = [1.0]
    with pytest.raises(lt.UnsupportedError, match=r"changes its container argument `lst`[\s\S]*test_probe_lang_s49.py"):
        lt.jit(list_arg_append, backend="interpret")(_x(3), lst)
    assert lst == [1.0]


# --- NumPy's aliasing, as plain Python has it ------------------------------------------------------
def aliasing(M, x):
    M[0], M[1] = M[1], M[0]          # views: both rows end up the old M[1]
    for i in range(x.shape[0] // 2):
        x[i], x[-1 - i] = x[-1 - i], x[i]
    a = b = np.zeros(3)
    for i in range(3):
        a[i] = x[i]
    rows = [np.zeros(2)] * 3         # one array three times
    for i in range(3):
        rows[i][0] = x[i]
    for row in M[2:]:
        row *= 2                     # in place through the loop variable
    for row in M[2:]:
        row = row * 2                # rebinding: no effect  # noqa: PLW2901
    y = x[:3]
    y *= 2
    return b, np.array(rows), M.sum()


def test_numpy_aliasing_gotchas_as_plain(rng):
    agree(aliasing, rng.standard_normal((4, 3)), rng.standard_normal(7))


# --- gradients through the same constructs --------------------------------------------------------
def grad_constructs(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += _helper(x[i], 2.0)
        if -0.5 < x[i] < 0.8:
            s += x[i] ** 3
        if (t := x[i] * 1.5) > 0:
            s += t * t
        s += (x[i] > 0.3 and x[i] * 2) or x[i] ** 3
    m = x[0]
    for i in range(1, x.shape[0]):
        m = max(m, x[i] * 0.7)
    v = sorted([x[0], x[1], x[2]])
    total = 0.0

    def add(w):
        nonlocal total
        total += w * w

    for i in range(x.shape[0]):
        add(x[i])
        if total > 2.0:
            break
    else:
        total = total * 3
    return s + m + v[0] + 2 * v[1] + 3 * v[2] + total + sum(np.tanh(w) for w in x) + _jitted_inner(x).sum()


def test_gradient_through_helpers_walrus_minmax_sorted_nonlocal(rng):
    x = rng.standard_normal(6)
    got = lt.grad(lt.jit(grad_constructs, backend="interpret"))(x.copy())
    assert_close(got, numerical_grad(grad_constructs, [x.copy()], 0), 1e-6, "grad_constructs")


# --- one cpu kernel of the language forms whose lowering differs -----------------------------------
def cpu_language(x, M, k, *, scale=1.5):
    s = 0.0
    for i in range(x.shape[0]):
        if -0.5 < x[i] < 0.5:
            s += x[i] * G_ARR[i % 5] * scale
        match k[i % k.shape[0]]:
            case 0:
                s += 1.0
            case _:
                s -= 0.5
    for i in range(x.shape[0]):
        if x[i] > 1.0:
            found = i
            break
    else:
        found = -1
    m = x[0]
    for i in range(1, x.shape[0]):
        m = min(m, x[i])
    hit = False
    for a in range(M.shape[0]):
        for b in range(M.shape[1]):
            if M[a, b] > 1.2:
                hit = True
                break
        if hit:
            break
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = _helper(x[i], 3.0) + (x[i] or 1.0)
    return s, found, m, hit, a, out, sum(v * v for v in x), max(range(x.shape[0]), key=lambda i: x[i])


def test_cpu_language_forms_and_a_global_changed_between_calls():
    global G_ARR
    saved = G_ARR
    try:
        f = lt.jit(cpu_language, backend="cpu")
        x, M = _x(8, 2), np.random.default_rng(3).standard_normal((4, 5))
        x[3] = 0.0
        for k in range(3):
            if k == 1:
                G_ARR = _x(5, 50)
            if k == 2:
                x[1] = np.nan                   # Python's min keeps what comes first
            agree(cpu_language, x, M, np.array([0, 1, 0]), jf=f, scale=1.5 + k)
    finally:
        G_ARR = saved
