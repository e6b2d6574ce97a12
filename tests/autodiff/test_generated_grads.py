"""Gradients of hypothesis-generated smooth loop programs (accumulators,
element writes, scatter-adds through an index array, first-order
recurrences over the previous element written, sin/tanh), by reverse mode
through the loop, against central finite differences in float64. Smooth
only: no conditionals or roundings, where finite differences mislead."""

import itertools
import linecache

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import numerical_grad

_ids = itertools.count()


def compile_source(src: str):
    filename = f"<generated-grad-{next(_ids)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
    ns = {"np": np}
    exec(compile(src, filename, "exec"), ns)
    return ns["f"]


LEAVES = ["x[i]", "y[i]", "x[idx[i]]", "y[n - 1 - i]", "0.5"]


@st.composite
def expr(draw, depth: int = 2, carried: bool = True):
    """The accumulator enters only linear forms and products with data."""
    leaves = LEAVES + (["acc"] if carried else [])
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(leaves))
    k = draw(st.integers(0, 5))
    if k < 2:
        return ["np.sin({})", "np.tanh({})"][k].format(draw(expr(depth - 1, carried=False)))
    a, b = draw(expr(depth - 1, carried)), draw(expr(depth - 1, carried))
    return ["({} + {})", "({} - {})", "({} * {})", "(0.5 * {} + 0.25 * {})"][k - 2].format(a, b)


@st.composite
def statement(draw) -> list[str]:
    e = draw(expr())
    return draw(st.sampled_from([
        [f"acc = 0.5 * acc + 0.1 * {e}"],
        [f"out[i] = {e}"],
        [f"out[idx[i]] += {e}"],
        [f"out[i] = out[i - 1] * 0.5 + {e} if i > 0 else {e}"],
        [f"acc += np.tanh({draw(expr(1, carried=False))}) * 0.1"],
    ]))


@st.composite
def program(draw) -> str:
    body = [s for _ in range(draw(st.integers(1, 3))) for s in draw(statement())]
    loop = draw(st.sampled_from(["range(n)", "range(1, n)", "range(n - 1, -1, -1)"]))
    lines = ["def f(x, y, idx, w):", "    n = x.shape[0]", "    acc = 0.0", "    out = np.zeros(n)",
             f"    for i in {loop}:", *["        " + s for s in body], "    return acc + np.sum(out * w)"]
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))  # (40: 2.1 s of the suite)
@given(src=program(), n=st.integers(1, 7), seed=st.integers(0, 2**31))
def test_generated_gradients(src, n, seed):
    r = np.random.default_rng(seed)
    args = [r.standard_normal(n), r.standard_normal(n), r.integers(0, n, n), r.standard_normal(n)]
    f = compile_source(src)
    grads = looptrace.grad(looptrace.jit(f, backend="interpret"), argnums=(0, 1))(*[a.copy() for a in args])
    for k in (0, 1):
        want = numerical_grad(f, [a.copy() for a in args], k)
        np.testing.assert_allclose(grads[k], want, rtol=1e-5, atol=1e-6, err_msg=f"{src}argument {k}")
