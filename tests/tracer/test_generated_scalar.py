"""Generated programs of scalar code, dtype mixing, early returns, lists,
views and axis reductions (tracer/_generated_scalar.py, the s24 round):
the plain function and the compiled one run on copies of the same random
data and must agree in values, dtypes and shapes of the results, the
effects on the arguments, or the type of the exception raised. NumPy's
warnings are silenced in both (a zero denominator gives inf or nan)."""
import random

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.errors import InternalError

from . import _generated_scalar
from .test_generated_mixed import compile_source


def _outcome(fn, args):
    try:
        with np.errstate(all="ignore"):
            return "value", fn(*args)
    except Exception as e:  # noqa: BLE001 - the outcome is what is compared
        return "raised", e


def same(got, want, rtol: float) -> bool:
    """Equal values (NaN equal to NaN), dtypes and shapes, tuple by tuple."""
    if isinstance(want, (tuple, list)):
        return type(got) is type(want) and len(got) == len(want) and all(same(g, w, rtol) for g, w in zip(got, want))
    g, w = np.asarray(got), np.asarray(want)
    if g.shape != w.shape or g.dtype != w.dtype:
        return False
    if w.dtype.kind in "biuSU":
        return bool(np.array_equal(g, w))
    return bool(np.allclose(g, w, rtol=rtol, atol=rtol, equal_nan=True))


def check_scalar_program(src: str, n: int, seed: int, backend: str) -> None:
    args = _generated_scalar.args(n, seed)
    f = compile_source(src)
    plain, compiled = [a.copy() for a in args], [a.copy() for a in args]
    want = _outcome(f, plain)
    got = _outcome(looptrace.jit(f, backend=backend), compiled)
    if got[0] == "raised" and isinstance(got[1], looptrace.LooptraceError) and not isinstance(got[1], InternalError):
        return  # a construct looptrace refuses, with its clear error (an InternalError is a bug)
    assert got[0] == want[0], (src, got, want)
    if want[0] == "raised":
        assert type(got[1]) is type(want[1]), (src, got, want)
        return
    rtol = 1e-5 if "float32" in src else 1e-9
    assert same(got[1], want[1], rtol), (src, got[1], want[1])
    for g, w in zip(compiled, plain):
        assert same(g, w, rtol), (src, "arguments after the call", compiled, plain)


SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))


@settings(max_examples=25, **SETTINGS)  # (40 were 2.7 s of the suite; CI draws new examples every run)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12))
def test_generated_scalar_interpret(seed, n):
    check_scalar_program(_generated_scalar.program(random.Random(seed)), n, seed, "interpret")


# 2 compiled examples (4 until session 54): each is a Numba compile, and the interpreter test
# above runs the same generator on many
@settings(max_examples=1, **SETTINGS)  # a compile per example; the interpreter test above runs 40
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12))
def test_generated_scalar_cpu(seed, n):
    check_scalar_program(_generated_scalar.program(random.Random(seed)), n, seed, "cpu")
