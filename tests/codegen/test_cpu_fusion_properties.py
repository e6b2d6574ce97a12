"""Generated broadcast-and-reduce programs on the CPU backend against NumPy.

Each example builds `epilogue(reduce(combine(A[:, :, None], B[None]), axis=1))`
from random parts, with B passed as itself or transposed, and compares the
compiled kernel with the plain function. This exercises the fused loop nests
of codegen/cpu/nest.py: the interchanged reductions, transposes read through
their base, and nests that write over a dead input. Few examples: each one
is a Numba compile.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace

COMBINE = [lambda a, b: a - b, lambda a, b: (a - b) ** 2, lambda a, b: a * b + 1.0,
           lambda a, b: np.maximum(a, b)]
REDUCE = [lambda x: np.sum(x, axis=1), lambda x: np.max(x, axis=1), lambda x: np.min(x, axis=1),
          lambda x: np.prod(1.0 + 0.01 * x, axis=1)]
EPILOGUE = [lambda r: r, lambda r: np.exp(-np.abs(r)), lambda r: np.tanh(r) * 2.0 + 1.0]


def make(c, r, e, transposed):
    combine, reduce, epilogue = COMBINE[c], REDUCE[r], EPILOGUE[e]

    def program(A, B):
        b = B.T if transposed else B
        return epilogue(reduce(combine(A[:, :, None], b[None, :, :])))

    return program


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def _check_example(backend, c, r, e, transposed, shape, seed):
    i, d, j = shape
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((i, d))
    B = rng.standard_normal((j, d)) if transposed else rng.standard_normal((d, j))
    program = make(c, r, e, transposed)
    got = looptrace.jit(program, backend=backend)(A, B)
    want = program(A, B)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


EXAMPLES = dict(c=st.integers(0, len(COMBINE) - 1), r=st.integers(0, len(REDUCE) - 1),
                e=st.integers(0, len(EPILOGUE) - 1), transposed=st.booleans(),
                shape=st.tuples(st.integers(1, 6), st.integers(1, 7), st.integers(1, 20)),
                seed=st.integers(0, 2**16))


# 4 compiled examples (10 were 6.0 s of CPU in session 54's CI at e17f737); the interpreter runs the
# generator's programs with more examples below, and the cpu lowering of each part runs in
# test_cpu_interchange and test_cpu_full_reductions
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**EXAMPLES)
def test_generated_reductions_match_numpy(c, r, e, transposed, shape, seed):
    _check_example("cpu", c, r, e, transposed, shape, seed)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**EXAMPLES)
def test_generated_reductions_match_numpy_interpreted(c, r, e, transposed, shape, seed):
    _check_example("interpret", c, r, e, transposed, shape, seed)
