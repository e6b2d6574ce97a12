"""Every non-region primitive of the registry, on hypothesis-generated inputs
over its valid domain and the standard shapes (scalar, vector, matrix, size 0,
broadcastable): `impl` equals the NumPy reference, and `abstract` (the
shape/dtype rule) predicts the actual result's shape and dtype exactly.

Each primitive has one case builder in `CASES`: data -> (inputs, attrs,
expected outputs). A primitive added to the registry without a case fails
`test_every_primitive_has_a_case`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from looptrace.ir.core import RNG, Dim, Value
from looptrace.ops import PRIMITIVES, ShapeMismatch
from looptrace.ops.elementwise import BINARY, UFUNCS, UNARY, loop_dtypes

NON_REGION = sorted(name for name, p in PRIMITIVES.items() if not p.region)
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DTYPES = [np.dtype(t) for t in (np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_)]
RTOL = {"f": {4: 1e-5, 8: 1e-9}}

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
nonempty_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


# --- values -------------------------------------------------------------------------------------
def elements(dtype: np.dtype, low: float = -10, high: float = 10, nonzero: bool = False):
    """Finite values of `dtype` in [low, high] (ints rounded inward)."""
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        lo = max(int(np.ceil(low)), int(np.iinfo(dtype).min))
        base = st.integers(lo, int(np.floor(high)))
    else:
        lo, hi = _inward(dtype, low, np.inf), _inward(dtype, high, -np.inf)
        base = st.floats(lo, hi, width=8 * dtype.itemsize, allow_nan=False, allow_infinity=False)
    return base.filter(lambda v: v != 0) if nonzero else base


def _inward(dtype: np.dtype, bound: float, toward: float) -> float:
    """`bound` rounded to `dtype`, moved one step toward `toward` if rounding left the range."""
    b = dtype.type(bound)
    if (toward > bound and b < bound) or (toward < bound and b > bound):
        b = np.nextafter(b, dtype.type(toward))
    return float(b)


def array(data, dtype, shape, **kw) -> np.ndarray:
    return data.draw(hnp.arrays(np.dtype(dtype), shape, elements=elements(np.dtype(dtype), **kw)))


def aval(x) -> Value:
    if isinstance(x, np.random.Generator):
        return Value(RNG, ())
    x = np.asarray(x)
    return Value(x.dtype, x.shape)


# --- elementwise ----------------------------------------------------------------------------------
# the valid domain of each ufunc argument (floats); ints use the same bounds.
DOMAIN = {
    "log": (0.1, 10), "log2": (0.1, 10), "log10": (0.1, 10), "sqrt": (0, 10), "log1p": (-0.9, 10),
    "arcsin": (-0.99, 0.99), "arccos": (-0.99, 0.99), "arctanh": (-0.99, 0.99), "arccosh": (1, 10),
    "exp": (-10, 10), "exp2": (-10, 10), "expm1": (-10, 10), "sinh": (-10, 10), "cosh": (-10, 10),
}
NONZERO_SECOND = {"divide", "floor_divide", "remainder"}


def ufunc_dtypes(name: str) -> list[np.dtype]:
    """The dtypes whose ufunc loop runs in that same dtype (the tracer casts
    inputs to their loop dtypes before it emits an op)."""
    uf = UFUNCS[name]
    out = []
    for dt in DTYPES:
        try:
            ins, _ = loop_dtypes(uf, (dt,) * uf.nin)
        except TypeError:
            continue
        if all(t == dt for t in ins):
            out.append(dt)
    return out


def ufunc_args(name: str, dtype: np.dtype, data) -> list[np.ndarray]:
    uf = UFUNCS[name]
    shape_list = [data.draw(shapes)] if uf.nin == 1 else \
        list(data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes)
    bounds = [DOMAIN.get(name, (-10, 10))] * uf.nin
    nonzero = [False] * uf.nin
    if name == "power":
        bounds = [(0.5, 4), (-3, 3)] if dtype.kind == "f" else [(0, 4), (0, 4)]
    if name in ("left_shift", "right_shift"):
        bounds = [(-10, 10), (0, 6)]
    if name in NONZERO_SECOND:
        nonzero[1] = True
    if name == "reciprocal" and dtype.kind in "iu":
        nonzero[0] = True
    return [array(data, dtype, s, low=lo, high=hi, nonzero=nz)
            for s, (lo, hi), nz in zip(shape_list, bounds, nonzero)]


def ufunc_case(name: str):
    def case(data):
        dtype = data.draw(st.sampled_from(ufunc_dtypes(name)))
        xs = ufunc_args(name, dtype, data)
        with np.errstate(all="ignore"):
            expected = UFUNCS[name](*xs)
        return xs, {}, [expected]

    return case


def select_case(data):
    dtype = data.draw(st.sampled_from(DTYPES))
    s = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4)).input_shapes
    c, a, b = array(data, np.bool_, s[0]), array(data, dtype, s[1]), array(data, dtype, s[2])
    return [c, a, b], {}, [np.where(c, a, b)]


def convert_case(data):
    src, dst = data.draw(st.sampled_from(DTYPES)), data.draw(st.sampled_from(DTYPES))
    x = array(data, src, data.draw(shapes), low=0, high=100)
    return [x], {"dtype": dst}, [x.astype(dst)]


def pyint_case(data):
    """int() of whole floats that fit (the raising side: tests/tracer/test_python_int_conversion.py)."""
    from looptrace.ir.core import SourceLoc
    from looptrace.ops.elementwise import pyint_failures

    x = np.trunc(array(data, data.draw(st.sampled_from([np.float32, np.float64])), data.draw(shapes),
                       low=-1e6, high=1e6))
    return [x], {"failures": pyint_failures(SourceLoc("<test>", 0, ""))}, [x.astype(np.int64)]


# --- reductions --------------------------------------------------------------------------------
REFERENCE_REDUCERS = {"reduce_sum": np.sum, "reduce_prod": np.prod, "reduce_max": np.max,
                      "reduce_min": np.min, "reduce_all": np.all, "reduce_any": np.any}


def reduce_case(name: str):
    def case(data):
        dtype = data.draw(st.sampled_from(DTYPES))
        shape = data.draw(nonempty_shapes if name in ("reduce_max", "reduce_min") else shapes)
        x = array(data, dtype, shape, low=-3, high=3)
        axes = tuple(sorted(data.draw(st.sets(st.integers(0, max(x.ndim - 1, 0)), max_size=x.ndim))))
        return [x], {"axes": axes}, [REFERENCE_REDUCERS[name](x, axis=axes)]

    return case


def arg_case(name: str):
    def case(data):
        x = array(data, data.draw(st.sampled_from(DTYPES[:5])), data.draw(nonempty_shapes))
        axis = data.draw(st.integers(0, x.ndim - 1))
        return [x], {"axis": axis}, [getattr(np, name)(x, axis=axis)]

    return case


# --- contractions ----------------------------------------------------------------------------------
EINSUM_SPECS = ["ij,jk->ik", "ij,j->i", "j,jk->k", "i,i->", "i,j->ij", "bij,bjk->bik", "ij,kj->ik",
                "ijk,k->ij", "ii->", "ii->i", "ij->ji", "ij->", "i,i,i->", "ij,jk,k->i", "ab,ab->ab"]


def einsum_case(data):
    spec = data.draw(st.sampled_from(EINSUM_SPECS))
    dtype = data.draw(st.sampled_from(DTYPES[:4]))
    sizes = {c: data.draw(st.integers(0, 4)) for c in sorted(set(spec) - set(",->"))}
    ins = spec.split("->")[0].split(",")
    xs = [array(data, dtype, tuple(sizes[c] for c in letters), low=-3, high=3) for letters in ins]
    return xs, {"spec": spec}, [np.einsum(spec, *xs)]


# --- shapes -------------------------------------------------------------------------------------------
def reshape_case(data):
    x = array(data, data.draw(st.sampled_from(DTYPES)), data.draw(shapes))
    n = x.size
    options = [(n,), (1, n), (n, 1), ()] if n == 1 else [(n,), (1, n), (n, 1)]
    options += [(d, n // d) for d in range(2, n) if n % d == 0]
    options += [(2, 0, 3)] if n == 0 else []
    new = data.draw(st.sampled_from(options))
    return [x], {"shape": new}, [np.reshape(x, new)]


def transpose_case(data):
    x = array(data, data.draw(st.sampled_from(DTYPES)), data.draw(shapes))
    perm = tuple(data.draw(st.permutations(range(x.ndim))))
    return [x], {"perm": perm}, [np.transpose(x, perm)]


def broadcast_case(data):
    shape = data.draw(shapes)
    x = array(data, data.draw(st.sampled_from(DTYPES)), shape)
    lead = tuple(data.draw(st.lists(st.integers(0, 3), max_size=2)))
    target = lead + tuple(data.draw(st.integers(0, 3)) if d == 1 else d for d in shape)
    return [x], {"shape": target}, [np.broadcast_to(x, target)]


def concatenate_case(data):
    base = data.draw(nonempty_shapes)
    axis = data.draw(st.integers(0, len(base) - 1))
    dtype = data.draw(st.sampled_from(DTYPES))
    xs = []
    for _ in range(data.draw(st.integers(1, 3))):
        shape = base[:axis] + (data.draw(st.integers(0, 3)),) + base[axis + 1:]
        xs.append(array(data, dtype, shape))
    return xs, {"axis": axis}, [np.concatenate(xs, axis=axis)]


# --- indexing ----------------------------------------------------------------------------------------
def _static_slices(data, shape: tuple) -> tuple[tuple, tuple, tuple]:
    k = data.draw(st.integers(0, len(shape)))
    triples = [data.draw(st.slices(n)).indices(n) for n in shape[:k]]
    return tuple(t[0] for t in triples), tuple(t[1] for t in triples), tuple(t[2] for t in triples)


def _as_slices(starts, stops, steps) -> tuple:
    return tuple(slice(a, b if b >= 0 else None, s) for a, b, s in zip(starts, stops, steps))


def slice_case(data):
    x = array(data, data.draw(st.sampled_from(DTYPES)), data.draw(shapes))
    starts, stops, steps = _static_slices(data, x.shape)
    attrs = {"starts": starts, "stops": stops, "steps": steps}
    return [x], attrs, [x[_as_slices(starts, stops, steps)]]


def update_slice_case(data):
    dtype = data.draw(st.sampled_from(DTYPES))
    x = array(data, dtype, data.draw(shapes))
    starts, stops, steps = _static_slices(data, x.shape)
    idx = _as_slices(starts, stops, steps)
    upd = array(data, dtype, x[idx].shape)
    expected = x.copy()
    expected[idx] = upd
    return [x, upd], {"starts": starts, "stops": stops, "steps": steps}, [expected]


def _dynamic_starts(data, shape: tuple, sizes: tuple) -> list:
    return [np.int64(data.draw(st.integers(0, n - k))) for n, k in zip(shape, sizes)]


def dynamic_slice_case(data):
    x = array(data, data.draw(st.sampled_from(DTYPES)), data.draw(shapes))
    k = data.draw(st.integers(0, x.ndim))
    sizes = tuple(data.draw(st.integers(0, n)) for n in x.shape[:k])
    starts = _dynamic_starts(data, x.shape, sizes)
    expected = x[tuple(slice(s, s + n) for s, n in zip(starts, sizes))]
    return [x, *starts], {"sizes": sizes}, [expected]


def dynamic_update_slice_case(data):
    dtype = data.draw(st.sampled_from(DTYPES))
    x = array(data, dtype, data.draw(shapes))
    k = data.draw(st.integers(0, x.ndim))
    sizes = tuple(data.draw(st.integers(0, n)) for n in x.shape[:k]) + x.shape[k:]
    upd = array(data, dtype, sizes)
    starts = _dynamic_starts(data, x.shape[:k], sizes[:k])
    expected = x.copy()
    expected[tuple(slice(s, s + n) for s, n in zip(starts, sizes))] = upd
    return [x, upd, *starts], {}, [expected]


def _indices(data, n: int) -> np.ndarray:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    if n == 0:
        return np.zeros((0,), np.int64)
    return data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-n, n - 1)))


def gather_case(data):
    x = array(data, data.draw(st.sampled_from(DTYPES)), data.draw(nonempty_shapes))
    axis = data.draw(st.integers(0, x.ndim - 1))
    idx = _indices(data, x.shape[axis])
    return [x, idx], {"axis": axis}, [np.take(x, idx, axis=axis)]


def scatter_case(data):
    dtype = data.draw(st.sampled_from(DTYPES[:4]))
    x = array(data, dtype, data.draw(nonempty_shapes))
    axis = data.draw(st.integers(0, x.ndim - 1))
    mode = data.draw(st.sampled_from(["set", "add"]))
    # repeated indices accumulate under "add"; under "set" NumPy keeps an
    # unspecified one, so those indices are distinct
    idx = _indices(data, x.shape[axis]) if mode == "add" else _distinct_indices(data, x.shape[axis])
    upd = array(data, dtype, x.shape[:axis] + idx.shape + x.shape[axis + 1:])
    return [x, idx, upd], {"axis": axis, "mode": mode}, [_scatter_reference(x, idx, upd, axis, mode)]


def _distinct_indices(data, n: int) -> np.ndarray:
    positions = data.draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n))
    negate = data.draw(st.lists(st.booleans(), min_size=len(positions), max_size=len(positions)))
    return np.array([p - n if neg else p for p, neg in zip(positions, negate)], dtype=np.int64)


def _scatter_reference(x, idx, upd, axis, mode):
    out = x.copy()
    for pos in np.ndindex(*idx.shape):
        dst = (slice(None),) * axis + (idx[pos],)
        src = (slice(None),) * axis + pos
        if mode == "add":
            out[dst] += upd[src]
        else:
            out[dst] = upd[src]
    return out


def dynamic_prefix_case(data):
    x = array(data, data.draw(st.sampled_from(DTYPES)), data.draw(nonempty_shapes))
    n = np.int64(data.draw(st.integers(0, x.shape[0])))
    return [x, n], {}, [x[:n]]


def reserve_case(data):
    x = array(data, data.draw(st.sampled_from(DTYPES)), data.draw(nonempty_shapes))
    count = data.draw(st.integers(0, x.shape[0]))
    extra = data.draw(st.integers(0, 2 * x.shape[0] + 1))
    need = count + extra
    grown = x if need <= x.shape[0] else \
        np.concatenate([x, np.zeros((max(2 * x.shape[0], need) - x.shape[0],) + x.shape[1:], x.dtype)])
    return [x, np.int64(count), np.int64(extra)], {}, [grown]


# --- creation and random ------------------------------------------------------------------------------
def iota_case(data):
    shape = data.draw(nonempty_shapes)
    axis = data.draw(st.integers(0, len(shape) - 1))
    dtype = data.draw(st.sampled_from(DTYPES[:5]))
    ramp = np.arange(shape[axis], dtype=dtype).reshape([-1 if i == axis else 1 for i in range(len(shape))])
    return [], {"shape": shape, "dtype": dtype, "axis": axis}, [np.broadcast_to(ramp, shape)]


def random_case(method: str):
    def case(data):
        seed = data.draw(st.integers(0, 2**32 - 1))
        shape = data.draw(shapes)
        dtype = data.draw(st.sampled_from([np.dtype(np.float64), np.dtype(np.float32)]))
        reference = np.random.default_rng(seed)
        expected = getattr(reference, method)(shape, dtype=dtype)
        return [np.random.default_rng(seed)], {"shape": shape, "dtype": dtype}, [reference, expected]

    return case


CASES = {
    **{name: ufunc_case(name) for name in UNARY + BINARY},
    "select": select_case, "convert": convert_case, "pyint": pyint_case,
    **{name: reduce_case(name) for name in REFERENCE_REDUCERS},
    "argmax": arg_case("argmax"), "argmin": arg_case("argmin"),
    "einsum": einsum_case,
    "reshape": reshape_case, "transpose": transpose_case, "broadcast_to": broadcast_case,
    "concatenate": concatenate_case,
    "slice": slice_case, "update_slice": update_slice_case, "dynamic_slice": dynamic_slice_case,
    "dynamic_update_slice": dynamic_update_slice_case, "gather": gather_case, "scatter": scatter_case,
    "dynamic_prefix": dynamic_prefix_case,
    "reserve": reserve_case,
    "iota": iota_case,
    "random_normal": random_case("standard_normal"), "random_uniform": random_case("random"),
}


# --- scans (looptrace/ops/scan.py): references are the plain loops --------------------------------------
def linear_scan_case(data):
    state = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    steps = data.draw(st.integers(0, 40))  # both sides of the odd-even cutoff (16)
    dtype = data.draw(st.sampled_from([np.dtype(np.float64), np.dtype(np.int64)]))  # ints: np.cumsum
    a = array(data, dtype, (steps, *state), low=-1, high=1)
    b = array(data, dtype, (steps, *state), low=-1, high=1)
    h = h0 = array(data, dtype, state, low=-1, high=1)
    rows = []
    for t in range(steps):
        h = a[t] * h + b[t]
        rows.append(h)
    if data.draw(st.booleans()):
        return [a, b, h0], {"history": False}, [np.asarray(h, dtype)]
    return [a, b, h0], {}, [np.array(rows, dtype).reshape(a.shape)]


def matrix_power_case(data):
    m = data.draw(st.integers(1, 4))
    side = data.draw(st.sampled_from(["right", "left"]))
    p_shape = data.draw(st.sampled_from([(m,), (2, m) if side == "right" else (m, 2)]))
    n = data.draw(st.integers(-1, 12))
    p0 = array(data, np.float64, p_shape, low=-1, high=1)
    a = array(data, np.float64, (m, m), low=-1, high=1)
    p = p0
    for _ in range(n):
        p = p @ a if side == "right" else a @ p
    return [p0, a, np.int64(n)], {"side": side}, [np.asarray(p, np.float64)]


CASES.update({"linear_scan": linear_scan_case, "matrix_power_apply": matrix_power_case})


def integers_case(data):
    seed = data.draw(st.integers(0, 2**32 - 1))
    shape = data.draw(shapes)
    low = data.draw(st.integers(-50, 50))
    high = low + data.draw(st.integers(1, 2**40))
    dtype = np.dtype(np.int64)
    endpoint = data.draw(st.booleans())
    reference = np.random.default_rng(seed)
    expected = reference.integers(low, high, shape, dtype=dtype, endpoint=endpoint)
    return ([np.random.default_rng(seed), np.int64(low), np.int64(high)],
            {"shape": shape, "dtype": dtype, "endpoint": endpoint}, [reference, expected])


def permutation_case(data):
    seed, n = data.draw(st.integers(0, 2**32 - 1)), data.draw(st.integers(0, 9))
    reference = np.random.default_rng(seed)
    expected = reference.permutation(n)
    return [np.random.default_rng(seed)], {"n": n}, [reference, expected]


CASES.update({"random_exponential": random_case("standard_exponential"), "random_integers": integers_case,
              "random_permutation": permutation_case})


def discrete_case(method: str):
    """rng.poisson(lam, shape) / rng.binomial(n, p, shape), each parameter a scalar or of the shape."""
    def case(data):
        seed, shape = data.draw(st.integers(0, 2**32 - 1)), data.draw(shapes)
        scalar = data.draw(st.booleans())
        params = np.random.default_rng(seed + 1)
        if method == "poisson":
            lam = params.uniform(0, 40, () if scalar else shape)
            args = [lam]
        else:
            args = [params.integers(0, 300, () if scalar else shape), params.random(() if scalar else shape)]
        reference = np.random.default_rng(seed)
        expected = getattr(reference, method)(*args, shape)
        return [np.random.default_rng(seed), *args], {"shape": shape}, [reference, expected]

    return case


CASES.update({"random_poisson": discrete_case("poisson"), "random_binomial": discrete_case("binomial")})


def legacy_case(name: str):
    """NumPy's legacy global state as the legacy draws take it: a uint32 state array
    (ops/random.py LEGACY_WORDS), compared with a RandomState drawing the same."""
    from looptrace.tracer.legacy_random import state_array

    def case(data):
        rs = np.random.RandomState(data.draw(st.integers(0, 2**32 - 1)))
        if data.draw(st.booleans()):
            rs.standard_normal()  # (a cached second gaussian)
        shape = data.draw(shapes)
        state, reference = state_array(rs), np.random.RandomState()
        reference.set_state(rs.get_state())
        if name == "legacy_uniform":
            inputs, attrs, value = [state], {"shape": shape}, reference.random_sample(shape)
        elif name == "legacy_normal":
            inputs, attrs, value = [state], {"shape": shape}, reference.standard_normal(shape)
        elif name == "legacy_randint":
            low = data.draw(st.integers(-50, 50))
            high = low + data.draw(st.integers(1, 2**40))
            inputs, attrs = [state, np.int64(low), np.int64(high)], {"shape": shape}
            value = reference.randint(low, high, shape, np.int64)
        else:  # legacy_seed
            seed = data.draw(st.integers(0, 2**32 - 1))
            reference.seed(seed)
            return [state, np.int64(seed)], {}, [state_array(reference)]
        return inputs, attrs, [state_array(reference), np.asarray(value)]

    return case


CASES.update({name: legacy_case(name) for name in ("legacy_uniform", "legacy_normal", "legacy_randint",
                                                   "legacy_seed")})


def print_case(name: str):
    """The print token (an int whose order only matters) and a print of a
    float formatted with a spec (ops/io.py): the token passes through."""
    from looptrace.ops.io import PrintLine, Slot

    def case(data):
        if name == "print_token":
            return [], {}, [np.int64(0)]
        x = np.float64(data.draw(st.floats(-1e6, 1e6)))
        line = PrintLine(((Slot(0, "", ".3f", (("<f8", False, False),)), " and"),))
        token = np.random.default_rng(0)  # (any RNG-typed value: the interpreter passes it through)
        return [token, x], {"line": line}, [token]

    return case


CASES.update({name: print_case(name) for name in ("print_token", "print")})


# --- special functions and complex parts (looptrace/ops/special.py) ------------------------------------
def special_case(name: str):
    import scipy.special as sp

    reference = {"erf": sp.erf, "erfc": sp.erfc, "gamma": sp.gamma, "lgamma": sp.gammaln, "digamma": sp.psi,
                 "trigamma": lambda x: sp.polygamma(1, x)}[name]
    low = -4.5 if name in ("gamma", "lgamma", "digamma", "trigamma") else -6

    def case(data):
        dtype = data.draw(st.sampled_from([np.dtype(np.float64), np.dtype(np.float32)]))
        x = array(data, dtype, data.draw(shapes), low=low, high=25)
        x = np.where(x == np.round(x), x + 0.25, x).astype(dtype)  # off the poles
        # and off subnormals, where scipy's gammaln gives inf (Python's lgamma, the impl, is right)
        x = np.where(np.abs(x) < np.finfo(dtype).tiny, np.asarray(0.25, dtype), x).astype(dtype)
        with np.errstate(over="ignore"):
            expected = np.asarray(reference(x.astype(np.float64))).astype(dtype)
        return [x], {}, [expected]

    return case


# --- sorting (looptrace/ops/sort.py) ------------------------------------------------------------------
def sort_case(name: str):
    def case(data):
        dtype = data.draw(st.sampled_from(DTYPES))
        x = array(data, dtype, data.draw(nonempty_shapes), low=-3, high=3)
        if dtype.kind == "f" and x.size and data.draw(st.booleans()):
            x.flat[data.draw(st.integers(0, x.size - 1))] = np.nan  # NaNs sort last
        axis = data.draw(st.integers(0, x.ndim - 1))
        # ties keep their order (kind="stable": one of the orders NumPy allows)
        ref = np.sort(x, axis=axis) if name == "sort" else np.argsort(x, axis=axis, kind="stable")
        return [x], {"axis": axis}, [ref]

    return case


def complex_array(data, dtype, shape):
    part = np.float32 if dtype == np.complex64 else np.float64
    return (array(data, part, shape) + 1j * array(data, part, shape)).astype(dtype)


def part_case(name: str):
    def case(data):
        dtype = data.draw(st.sampled_from([np.dtype(np.complex128), np.dtype(np.complex64)]))
        z = complex_array(data, dtype, data.draw(shapes))
        return [z], {}, [getattr(np, name)(z).copy()]

    return case


def make_complex_case(data):
    dtype = data.draw(st.sampled_from([np.dtype(np.float64), np.dtype(np.float32)]))
    s1, s2 = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes
    re, im = array(data, dtype, s1), array(data, dtype, s2)
    return [re, im], {}, [(re + 1j * im).astype(np.complex64 if dtype == np.float32 else np.complex128)]


CASES.update({name: special_case(name) for name in ("erf", "erfc", "gamma", "lgamma", "digamma", "trigamma")})
CASES.update({"real": part_case("real"), "imag": part_case("imag"), "make_complex": make_complex_case})


CASES.update({"sort": sort_case("sort"), "argsort": sort_case("argsort")})


def searchsorted_case(data):
    """np.searchsorted along a's last axis (leading axes shared with v), NaNs last."""
    dtype = data.draw(st.sampled_from(DTYPES))
    n = data.draw(st.integers(0, 6))
    lead = tuple(data.draw(st.lists(st.integers(1, 3), max_size=1)))
    a = np.sort(array(data, dtype, lead + (n,), low=-3, high=3), axis=-1)
    v = array(data, dtype, lead + tuple(data.draw(st.lists(st.integers(0, 3), max_size=2))), low=-4, high=4)
    if dtype.kind == "f" and v.size and data.draw(st.booleans()):
        v.flat[0] = np.nan
    side = data.draw(st.sampled_from(["left", "right"]))
    ref = np.empty(v.shape, np.int64)
    for b in np.ndindex(*lead):
        ref[b] = np.searchsorted(a[b], v[b], side=side)
    return [a, v], {"side": side}, [ref]


CASES["searchsorted"] = searchsorted_case


def fsum_case(data):
    """math.fsum of each row (ops/fsum.py): the sum Python rounds once, or the code of its error."""
    import math

    lead = tuple(data.draw(st.lists(st.integers(1, 3), max_size=1)))
    x = array(data, np.float64, lead + (data.draw(st.integers(0, 6)),))
    ref = np.empty(lead + (2,))
    for b in np.ndindex(*lead):
        try:
            ref[b] = (math.fsum(x[b].tolist()), 0.0)
        except OverflowError:
            ref[b] = (np.nan, 1.0)
        except ValueError:
            ref[b] = (np.nan, 2.0)
    return [x], {}, [ref]


CASES["fsum"] = fsum_case


def partition_case(name: str):
    """NumPy's own partition (ops/sort.py): the reference is np.partition / np.argpartition itself."""
    def case(data):
        dtype = data.draw(st.sampled_from(DTYPES))
        x = array(data, dtype, data.draw(nonempty_shapes), low=-3, high=3)
        axis = data.draw(st.integers(0, x.ndim - 1))
        n = x.shape[axis]
        kth = tuple(sorted(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3))))
        ref = np.partition(x, kth, axis=axis) if name == "partition" else np.argpartition(x, kth, axis=axis)
        return [x], {"kth": kth, "axis": axis}, [ref]

    return case


CASES.update({"partition": partition_case("partition"), "argpartition": partition_case("argpartition")})


# --- Fourier transforms (looptrace/ops/fft.py): unscaled, over the last axis -----------------------------
def fft_case(name: str):
    def case(data):
        single = data.draw(st.booleans())
        shape = data.draw(nonempty_shapes)
        if name == "rfft":
            x = array(data, np.dtype(np.float32 if single else np.float64), shape)
            return [x], {}, [np.fft.rfft(x).astype(np.complex64 if single else np.complex128)]
        z = complex_array(data, np.dtype(np.complex64 if single else np.complex128), shape)
        if name == "fft":
            inverse = data.draw(st.booleans())
            ref = np.fft.ifft(z, norm="forward") if inverse else np.fft.fft(z)
            return [z], {"inverse": inverse}, [ref.astype(z.dtype)]
        n = data.draw(st.sampled_from([2 * shape[-1] - 2, 2 * shape[-1] - 1]).filter(lambda k: k >= 1))
        return [z], {"n": n}, [np.fft.irfft(z, n, norm="forward").astype(np.float32 if single else np.float64)]

    return case


CASES.update({name: fft_case(name) for name in ("fft", "rfft", "irfft")})


# --- decompositions (looptrace/ops/decomp.py): references built from known factors ---------------------
def _factors(data):
    """(dtype, lead, n, unit lower L, upper U with diagonal in [1, 2])."""
    dtype = data.draw(st.sampled_from([np.dtype(np.float64), np.dtype(np.float32)]))
    lead = tuple(data.draw(st.lists(st.integers(0, 3), max_size=2)))
    n = data.draw(st.integers(1, 4))
    low = np.tril(array(data, np.float64, lead + (n, n), low=-0.5, high=0.5), -1) + np.eye(n)
    up = np.triu(array(data, np.float64, lead + (n, n), low=-0.5, high=0.5), 1)
    up = up + np.eye(n) * array(data, np.float64, lead + (n, 1), low=1, high=2)
    return dtype, lead, n, low, up


def solve_case(data):
    dtype, lead, n, low, up = _factors(data)
    x = array(data, np.float64, lead + (n, data.draw(st.integers(1, 3))), low=-1, high=1)
    a = low @ up
    return [a.astype(dtype), (a @ x).astype(dtype)], {}, [x.astype(dtype)]


def inv_case(data):
    dtype, lead, n, low, up = _factors(data)
    a = low @ up
    return [a.astype(dtype)], {}, [np.linalg.solve(a, np.broadcast_to(np.eye(n), a.shape)).astype(dtype)]


def det_case(data):
    dtype, lead, n, low, up = _factors(data)
    return [(low @ up).astype(dtype)], {}, [np.prod(np.diagonal(up, axis1=-2, axis2=-1), -1).astype(dtype)]


def cholesky_case(data):
    dtype, lead, n, low, up = _factors(data)
    factor = low * np.swapaxes(np.diagonal(up, axis1=-2, axis2=-1)[..., None], -1, -2)  # diagonal in [1, 2]
    a = factor @ np.swapaxes(factor, -1, -2) + np.triu(np.full((n, n), 5.0), 1)  # the upper part is not read
    return [a.astype(dtype)], {}, [factor.astype(dtype)]


CASES.update({"solve": solve_case, "inv": inv_case, "det": det_case, "cholesky": cholesky_case})


# factorizations (ops/factorizations.py): values independent of LAPACK where they are unique (slogdet,
# eigvalsh, svdvals, pinv of an invertible matrix); for the vectors (unique up to sign) the expected
# array is NumPy's, packed here by hand, so the case checks the packing (values: test_linalg_decompositions.py)
def _spectral(data):
    dtype, lead, n, low, up = _factors(data)
    q = np.linalg.qr(low @ up)[0]
    w = np.cumsum(array(data, np.float64, lead + (n,), low=0.5, high=1.5), -1) - n / 2
    return dtype, lead, n, low, up, q, w


def slogdet_case(data):
    dtype, lead, n, low, up = _factors(data)
    logabs = np.sum(np.log(np.diagonal(up, axis1=-2, axis2=-1)), -1)
    return [(low @ up).astype(dtype)], {}, [np.stack([np.ones_like(logabs), logabs], -1).astype(dtype)]


def eigvalsh_case(data):
    dtype, lead, n, low, up, q, w = _spectral(data)
    a = (q * w[..., None, :]) @ np.swapaxes(q, -1, -2) + np.triu(np.full((n, n), 7.0), 1)  # upper: not read
    return [a.astype(dtype)], {}, [w.astype(dtype)]


def eigh_case(data):
    [a], _, _ = eigvalsh_case(data)
    w, v = np.linalg.eigh(a)
    return [a], {}, [np.concatenate([w[..., None, :], v], axis=-2)]


def svdvals_case(data):
    dtype, lead, n, low, up, q, w = _spectral(data)
    s = (w + n / 2)[..., ::-1]  # positive, descending, at least 0.5 apart
    return [((q * s[..., None, :]) @ np.swapaxes(q, -1, -2)).astype(dtype)], {}, [s.astype(dtype)]


def svd_case(data):
    dtype, lead, n, low, up = _factors(data)
    m, full = data.draw(st.integers(1, 4)), data.draw(st.booleans())
    a = np.concatenate([low @ up, np.ones(lead + (m, n))], axis=-2).astype(dtype)
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    rows, k = a.shape[-2], s.shape[-1]
    packed = np.zeros(lead + (rows + 1 + vh.shape[-2], max(u.shape[-1], k, n)), dtype)
    packed[..., :rows, :u.shape[-1]], packed[..., rows, :k], packed[..., rows + 1:, :n] = u, s, vh
    return [a], {"full": full}, [packed]


def qr_case(data):
    dtype, lead, n, low, up = _factors(data)
    m = data.draw(st.integers(1, 4))
    a = np.concatenate([low @ up, np.ones(lead + (m, n))], axis=-2).astype(dtype)
    q, r = np.linalg.qr(a)
    packed = np.zeros(lead + (n + m + n, n), dtype)
    packed[..., :n + m, :], packed[..., n + m:, :] = q, r
    return [a], {"complete": False}, [packed]


def pinv_case(data):
    dtype, lead, n, low, up = _factors(data)
    a = low @ up
    return [a.astype(dtype)], {"rcond": 1e-15}, [np.linalg.solve(a, np.broadcast_to(np.eye(n), a.shape)).astype(dtype)]


CASES.update({"slogdet": slogdet_case, "eigvalsh": eigvalsh_case, "eigh": eigh_case, "svdvals": svdvals_case,
              "svd": svd_case, "qr": qr_case, "pinv": pinv_case})


def check_case(data):
    """Predicates that all hold false: the check passes and returns nothing
    (tests/reliability/test_runtime_checks.py covers the raising side)."""
    from looptrace.ir.core import SourceLoc
    from looptrace.ops.check import Failure

    shape = data.draw(shapes)
    k = data.draw(st.integers(1, 3))
    failures = tuple(Failure(ValueError(f"failure {j}"), SourceLoc("f.py", j + 1)) for j in range(k))
    return [np.zeros(shape, bool) for _ in range(k)], {"failures": failures}, []


CASES["check"] = check_case


# --- checks ------------------------------------------------------------------------------------------
def assert_shape_fits(predicted: tuple, actual: tuple) -> None:
    """A static dimension must match; a run-time `Dim` must respect its bound."""
    assert len(predicted) == len(actual), (predicted, actual)
    for p, a in zip(predicted, actual):
        if isinstance(p, Dim):
            assert 0 <= a and (p.bound is None or a <= p.bound), (predicted, actual)
        else:
            assert p == a, (predicted, actual)


def assert_same_values(got, expected) -> None:
    if isinstance(expected, np.random.Generator):
        assert got.bit_generator.state == expected.bit_generator.state
        return
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape and got.dtype == expected.dtype, \
        (got.shape, got.dtype, expected.shape, expected.dtype)
    rtol = RTOL.get(got.dtype.kind, {}).get(got.dtype.itemsize, 0)
    if rtol:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


def test_every_primitive_has_a_case():
    missing = sorted(set(NON_REGION) - set(CASES))
    assert not missing, f"add a case to tests/ops/test_primitives.py for: {missing}"


@pytest.mark.parametrize("name", NON_REGION)
@SETTINGS
@given(data=st.data())
def test_impl_and_abstract(name, data):
    prim = PRIMITIVES[name]
    inputs, attrs, expected = CASES[name](data)
    predicted = prim.abstract(*[aval(x) for x in inputs], **attrs)
    out = prim.impl(*inputs, **attrs)
    outs = list(out) if prim.multiple_results else [out]
    assert len(outs) == len(predicted) == len(expected)
    for got, (dtype, shape), exp in zip(outs, predicted, expected):
        assert_same_values(got, exp)
        if dtype == RNG:  # a Generator, or the legacy state's array
            assert isinstance(got, np.random.Generator) or name.startswith("legacy_") and got.dtype == np.uint32 \
                or name.startswith("print")  # (the print token: an int, ops/io.py)
            continue
        got = np.asarray(got)
        assert got.dtype == np.dtype(dtype), f"{name}: rule says {dtype}, impl gives {got.dtype}"
        assert_shape_fits(tuple(shape), got.shape)


# --- shape rules reject what NumPy rejects ----------------------------------------------------------------
@pytest.mark.parametrize("name, inputs, attrs", [
    ("add", [np.ones((2, 3)), np.ones((3, 2))], {}),
    ("reduce_max", [np.ones((0, 3))], {"axes": (0,)}),
    ("argmin", [np.ones((2, 0))], {"axis": 1}),
    ("einsum", [np.ones((2, 3)), np.ones((4, 5))], {"spec": "ij,jk->ik"}),
    ("reshape", [np.ones((2, 3))], {"shape": (4,)}),
    ("transpose", [np.ones((2, 3))], {"perm": (0, 0)}),
    ("broadcast_to", [np.ones((2, 3))], {"shape": (3, 3)}),
    ("concatenate", [np.ones((5, 4)), np.ones((3, 3))], {"axis": 0}),
    ("update_slice", [np.ones((4,)), np.ones((3,))], {"starts": (0,), "stops": (2,), "steps": (1,)}),
    ("gather", [np.ones((4,)), np.ones((2,))], {"axis": 0}),
    ("partition", [np.ones((2, 3))], {"kth": (3,), "axis": 1}),
    ("argpartition", [np.ones((2, 3))], {"kth": (2, 1), "axis": 1}),
    ("partition", [np.ones((2, 3))], {"kth": (-1,), "axis": 1}),
    ("scatter", [np.ones((4,)), np.zeros((2,), np.int64), np.ones((3,))], {"axis": 0, "mode": "add"}),
])
def test_abstract_rejects_bad_shapes(name, inputs, attrs):
    with pytest.raises(ShapeMismatch):
        PRIMITIVES[name].abstract(*[aval(x) for x in inputs], **attrs)


def test_concatenate_shape_error_names_both_shapes():
    with pytest.raises(ShapeMismatch, match=r"\(5, 4\).*\(3, 3\)"):
        PRIMITIVES["concatenate"].abstract(aval(np.ones((5, 4))), aval(np.ones((3, 3))), axis=0)


def test_dynamic_update_into_an_empty_axis_traces():
    """`out[i] = v` in a loop over range(0): traced once, never run."""
    x, upd = aval(np.ones((0, 3))), aval(np.ones((1, 3)))
    ((dtype, shape),) = PRIMITIVES["dynamic_update_slice"].abstract(x, upd, aval(np.int64(0)))
    assert shape == (0, 3)
    with pytest.raises(IndexError):
        PRIMITIVES["dynamic_update_slice"].impl(np.ones((0, 3)), np.ones((1, 3)), np.int64(0))
