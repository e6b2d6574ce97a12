"""Every primitive has a VJP rule or is declared not differentiable, and every
rule matches central finite differences in float64 (inputs from hypothesis).
A deliberately wrong rule is caught by the same checker."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from looptrace.autodiff.check import check_rule
from looptrace.ops.vjp_helpers import NoGradient, defvjp
from looptrace.ops import NOT_DIFFERENTIABLE, PRIMITIVES
from looptrace.ops.elementwise import BINARY, UNARY


def test_every_primitive_has_a_vjp_or_is_marked():
    missing = [n for n, p in PRIMITIVES.items() if p.vjp is None]
    assert not missing, f"primitives without a VJP rule or NOT_DIFFERENTIABLE: {missing}"
    for name, p in PRIMITIVES.items():
        assert p.vjp == NOT_DIFFERENTIABLE or callable(p.vjp), name


# --- input generators: (rng, shape) -> (args, attrs) ---------------------------------------
def away(rng, shape, lo=0.5):
    return np.sign(rng.standard_normal(shape) + 1e-9) * rng.uniform(lo, 2.0, shape)


DOMAIN = {
    "log": lambda r, s: r.uniform(0.5, 2, s), "log2": lambda r, s: r.uniform(0.5, 2, s),
    "log10": lambda r, s: r.uniform(0.5, 2, s), "log1p": lambda r, s: r.uniform(-0.5, 2, s),
    "sqrt": lambda r, s: r.uniform(0.5, 2, s), "cbrt": lambda r, s: away(r, s),
    "reciprocal": lambda r, s: away(r, s), "absolute": lambda r, s: away(r, s),
    "arcsin": lambda r, s: r.uniform(-0.9, 0.9, s), "arccos": lambda r, s: r.uniform(-0.9, 0.9, s),
    "arctanh": lambda r, s: r.uniform(-0.9, 0.9, s), "arccosh": lambda r, s: r.uniform(1.5, 3, s),
    "tan": lambda r, s: r.uniform(-1, 1, s),
    "gamma": lambda r, s: r.uniform(0.3, 4, s), "lgamma": lambda r, s: r.uniform(0.3, 4, s),
    "digamma": lambda r, s: r.uniform(0.3, 4, s),
}
SECOND = {"divide": away, "remainder": lambda r, s: r.uniform(1.0, 2.0, s),
          "floor_divide": lambda r, s: r.uniform(1.0, 2.0, s), "fmod": lambda r, s: r.uniform(1.0, 2.0, s)}
FIRST = {"power": lambda r, s: r.uniform(0.5, 2, s), "copysign": away}


def unary_case(name):
    def make(r, s):
        return [DOMAIN.get(name, lambda r, s: r.standard_normal(s))(r, s)], {}
    return make


def binary_case(name):
    def make(r, s):
        x = FIRST.get(name, lambda r, s: r.standard_normal(s))(r, s)
        y = SECOND.get(name, lambda r, s: r.standard_normal(s))(r, s[-1:])  # broadcasts
        return [x, y], {}
    return make


def reduce_case(name):
    def make(r, s):
        x = away(r, s) if name == "reduce_prod" else r.standard_normal(s)
        axes = tuple(i for i in range(len(s)) if r.random() < 0.6) or (0,)
        return [x], {"axes": axes}
    return make


EINSUM_SPECS = ["ij,j->i", "ij,jk->ik", "i,j->ij", "ij->i", "ij,ij->", "bij,bjk->bik", "ij,kj->ik",
                "ij,jk,kl->il", "ij->ji", "i,i->"]


def einsum_case(r, s):
    spec = EINSUM_SPECS[r.integers(len(EINSUM_SPECS))]
    sizes = {c: int(r.integers(1, 4)) for c in "bijkl"}
    ins = spec.split("->")[0].split(",")
    return [r.standard_normal(tuple(sizes[c] for c in x)) for x in ins], {"spec": spec}


def shape_cases():
    def reshape(r, s):
        return [r.standard_normal(s)], {"shape": (int(np.prod(s)),)}

    def transpose(r, s):
        return [r.standard_normal(s)], {"perm": tuple(int(i) for i in r.permutation(len(s)))}

    def broadcast_to(r, s):
        x = r.standard_normal(tuple(1 if r.random() < 0.5 else d for d in s))
        return [x], {"shape": (2,) + tuple(s)}

    def concatenate(r, s):
        return [r.standard_normal(s), r.standard_normal((2,) + tuple(s[1:]))], {"axis": 0}

    return {"reshape": reshape, "transpose": transpose, "broadcast_to": broadcast_to,
            "concatenate": concatenate}


def indexing_cases():
    def slice_(r, s):
        return [r.standard_normal(s)], {"starts": (1,), "stops": (s[0],), "steps": (2,)}

    def dynamic_slice(r, s):
        return [r.standard_normal(s), np.int64(r.integers(s[0]))], {"sizes": (1,)}

    def dynamic_update_slice(r, s):
        return [r.standard_normal(s), r.standard_normal((1,) + tuple(s[1:])), np.int64(r.integers(s[0]))], {}

    def update_slice(r, s):
        n = len(range(0, s[0], 2))
        attrs = {"starts": (0,), "stops": (s[0],), "steps": (2,)}
        return [r.standard_normal(s), r.standard_normal((n,) + tuple(s[1:]))], attrs

    def gather(r, s):
        idx = r.integers(-s[0], s[0], size=(4,))
        return [r.standard_normal(s), idx], {"axis": 0}

    def scatter(mode):
        def make(r, s):
            idx = r.integers(0, s[0], size=(4,))
            return [r.standard_normal(s), idx, r.standard_normal((4,) + tuple(s[1:]))], {"axis": 0, "mode": mode}
        return make

    def select(r, s):
        return [r.random(s) < 0.5, r.standard_normal(s), r.standard_normal(s[-1:])], {}

    def convert(r, s):
        return [r.standard_normal(s)], {"dtype": np.dtype(np.float64)}

    return {"slice": slice_, "dynamic_slice": dynamic_slice, "dynamic_update_slice": dynamic_update_slice,
            "update_slice": update_slice, "gather": gather, "scatter_add": scatter("add"),
            "scatter_set": scatter("set"), "select": select, "convert": convert}


def scan_cases():
    def linear_scan(r, s):
        steps = int(r.integers(0, 20))
        a = r.uniform(-1, 1, (steps, *s) if r.random() < 0.7 else s[-1:])  # or the same every step
        return [a, r.standard_normal((steps, *s)), r.standard_normal(s)], {"history": bool(r.random() < 0.5)}

    def matrix_power_apply(r, s):
        m = s[-1]
        side = "right" if r.random() < 0.5 else "left"
        p0 = r.standard_normal((2, m) if side == "right" else (m, 2))
        return [p0, 0.6 * r.standard_normal((m, m)), np.int64(r.integers(0, 7))], {"side": side}

    return {"linear_scan": linear_scan, "matrix_power_apply": matrix_power_apply}


def sort_cases():
    def sort(r, s):  # distinct values: the permutation is locally constant
        return [r.permutation(int(np.prod(s))).reshape(s) + 0.3 * r.random(s)], {"axis": int(r.integers(len(s)))}

    def partition(r, s):  # NumPy's own; distinct values, so its permutation is locally constant too
        (x,), attrs = sort(r, s)
        n = s[attrs["axis"]]
        kth = tuple(sorted(set(int(k) for k in r.integers(0, n, int(r.integers(1, 3))))))
        return [x], {**attrs, "kth": kth}

    return {"sort": sort, "partition": partition}


def decomp_cases():
    """Matrices of the last size of `s` with a batch axis of the first when
    there are more (well conditioned: random + n I; SPD for cholesky)."""
    def square(r, s):
        n, lead = s[-1], tuple(s[:1]) if len(s) > 1 else ()
        return r.standard_normal(lead + (n, n)) + n * np.eye(n), n, lead

    def solve(r, s):
        a, n, lead = square(r, s)
        return [a, r.standard_normal(lead + (n, int(r.integers(1, 3))))], {}

    def cholesky(r, s):
        m, n, _ = square(r, s)
        return [m @ np.swapaxes(m, -1, -2) + n * np.eye(n)], {}

    def one(r, s):
        return [square(r, s)[0]], {}

    return {"solve": solve, "inv": one, "det": one, "cholesky": cholesky}


def all_cases():
    cases = {}
    for n in UNARY:
        cases[n] = unary_case(n)
    for n in BINARY:
        cases[n] = binary_case(n)
    for n in ("erf", "erfc", "gamma", "lgamma", "digamma"):
        cases[n] = unary_case(n)
    for n in ("reduce_sum", "reduce_prod", "reduce_max", "reduce_min"):
        cases[n] = reduce_case(n)
    cases["einsum"] = einsum_case
    cases["fsum"] = lambda r, s: ([r.standard_normal(s)], {})  # math.fsum (ops/fsum.py): a sum's cotangent
    cases.update(shape_cases())
    cases.update(indexing_cases())
    cases.update(scan_cases())
    cases.update(sort_cases())
    cases.update(decomp_cases())
    return {k: v for k, v in cases.items() if callable(PRIMITIVES[k.split("_")[0] if k.startswith("scatter") else k].vjp)
            and PRIMITIVES[k.split("_")[0] if k.startswith("scatter") else k].vjp != NOT_DIFFERENTIABLE}


CASES = all_cases()


# complex parts: their cotangents are complex, which check_rule (real finite differences) does not
# see; tests/autodiff/test_complex_and_special_grads.py checks them through real-valued functions
CHECKED_ELSEWHERE = {"real", "imag", "make_complex"}
# factorizations: need well separated eigen/singular values; tests/autodiff/test_linalg_grads.py checks them
CHECKED_ELSEWHERE |= {"slogdet", "eigh", "eigvalsh", "svd", "svdvals", "qr", "pinv"}
# Fourier transforms: complex outputs or inputs; tests/autodiff/test_fft_grads.py checks them through real losses
CHECKED_ELSEWHERE |= {"fft", "rfft", "irfft"}
# a list's prefix of run-time length: tests/autodiff/test_loop_grads_s52.py checks it through lists grown in loops
CHECKED_ELSEWHERE |= {"dynamic_prefix"}


def test_every_differentiable_primitive_is_checked():
    covered = {k.split("_")[0] if k.startswith("scatter") else k for k in CASES} | CHECKED_ELSEWHERE
    differentiable = {n for n, p in PRIMITIVES.items()
                      if not p.region and p.vjp != NOT_DIFFERENTIABLE and not isinstance(p.vjp, NoGradient)}
    assert differentiable <= covered, sorted(differentiable - covered)


shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)


@pytest.mark.parametrize("case", sorted(CASES))
@settings(max_examples=8, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_rule_matches_finite_differences(case, shape, seed):
    rng = np.random.default_rng(seed)
    args, attrs = CASES[case](rng, shape)
    name = "scatter" if case.startswith("scatter") else case
    check_rule(name, args, attrs, rng)


def test_checker_catches_a_wrong_rule(rng):
    sin = PRIMITIVES["sin"]
    saved = sin.vjp
    try:
        defvjp(sin, lambda b, g, op: b.mul(g, b.emit("sin", op.inputs[0])))  # should be cos
        with pytest.raises(AssertionError, match="finite differences"):
            check_rule("sin", [rng.standard_normal(4)], {}, rng)
    finally:
        sin.vjp = saved
