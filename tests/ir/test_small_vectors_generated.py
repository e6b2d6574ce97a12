"""Hypothesis-generated loops that build small vectors from scalars, change
them (elementwise ops, reversals, slices, element writes, concatenations)
and read them back element by element or as sums (ir/small_vectors.py
takes them apart): the plain function's values on the interpreter, and the gradient of their total against finite differences."""
import itertools
import linecache
import textwrap

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import looptrace

# v and w: 3-element vectors; u: 2 elements. Every statement keeps those sizes.
STMTS = [
    "v = np.array([x[i], s * x[i], 1.5])",
    "w = np.array([x[i] - s, 0.25, x[i] * x[i]])",
    "u = np.array([v[2], w[0]])",
    "v = v * w + 1.0",
    "w = w[::-1] - v",
    "v[1] = v[0] + w[2]",
    "w[0] += u[1] * 0.5",
    "v = np.concatenate((v[1:], u[:1]))",
    "u = u * s - v[:2]",
    "w = np.where(v > w, v, w)",
    "s = s * 0.5 + v.sum() * 0.1",
    "acc = acc + v[0] * w[1] - u.sum()",
    "v = np.tanh(v) + u[0]",
    "acc = acc + np.sum(w[::2]) + v[-1]",
]

HEADER = """\
def f(x, s):
    acc = 0.0
    v = np.array([0.1, 0.2, 0.3]); w = np.array([0.3, 0.2, 0.1]); u = np.array([0.5, -0.5])
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
"""
FOOTER = """\
        out[i] = acc + v[0] - w[2] + u[1]
    return out, acc, s
"""

_count = itertools.count()


def build(src):
    filename = f"<generated-small-vectors-{next(_count)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
    namespace = {"np": np}
    exec(compile(src, filename, "exec"), namespace)
    return namespace["f"]


def source(picks):
    return HEADER + "\n".join(textwrap.indent(STMTS[k], " " * 8) for k in picks) + "\n" + FOOTER


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, len(STMTS) - 1), min_size=1, max_size=8), st.integers(0, 2**31))
def test_generated_small_vector_loops(picks, seed):
    src = source(picks)
    f = build(src)
    rng = np.random.default_rng(seed)
    x, s = rng.standard_normal(11), float(rng.standard_normal())
    want = f(x.copy(), s)
    got = looptrace.jit(f, backend="interpret")(x.copy(), s)
    for g, w in zip(got, want, strict=True):
        # (not bit for bit: a linear recurrence of a carried vector composes its steps, README)
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-11, atol=1e-12, err_msg=src)


# the gradient program runs on the interpreter (the lambda's grad defaulted to "auto", a cpu compile
# per example: 12.9 s for 4 in CI until session 54); gradients' cpu lowering: autodiff/test_seed_gradients
@settings(max_examples=6, deadline=None)
@given(st.lists(st.integers(0, len(STMTS) - 1), min_size=2, max_size=6), st.integers(0, 2**31))
@example([0, 2, 1, 7, 3], 0)  # a reversed slice of an axis-1 concatenation (vectorize/forward.py IndexError)
def test_generated_small_vector_gradients(picks, seed):
    f = build(source(picks))
    rng = np.random.default_rng(seed)
    x, s = rng.standard_normal(5), 0.3 + 0.4 * rng.random()

    def total(x):
        out, acc, s2 = f(x, s)
        return np.sum(out) + acc + s2

    g = looptrace.grad(lambda x: sum(np.sum(r) for r in looptrace.jit(f, backend="interpret")(x, s)),
                       backend="interpret")(x)
    h = 1e-6
    fd = np.array([(total(x + h * e) - total(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * (1 + np.abs(fd).max()))


def test_one_generated_program_on_cpu(rng):
    f = build(source([0, 1, 2, 3, 5, 7, 8, 10, 11, 13]))
    x, s = rng.standard_normal(11), float(rng.standard_normal())
    want = f(x.copy(), s)
    got = looptrace.jit(f, backend="cpu")(x.copy(), s)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12, atol=1e-12)
