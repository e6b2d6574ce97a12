"""Hypothesis-generated loop programs (maps, reductions, recurrences, taps,
nested loops, conditionals) give the plain function's values after the
vectorizer, with the verifier on after every pass; loops reported as
"vectorized" or "reduction" are gone from the IR.
"""
import itertools
import linecache
import textwrap

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.ir.core import walk

STMTS = [
    "out1[i] = X[i] * 2.0 + X[i - 1]",
    "s = s + np.sum(X[i] ** 2)",
    "m = np.maximum(m, X[i])",
    "h = np.tanh(W @ h + X[i])",
    "Y[i] = 0.5 * Y[i - 2] + X[i + 1]",
    "out2[i] = h * X[i]",
    "s = s + h[0] * X[i, 0]",
    "for j in range(d):\n    P[i, j] = X[i, j] * W[j, j]",
    "for j in range(d):\n    acc[j] += X[i, j] * h[j]",
    "c = c * 0.9 + X[i]",
    "if X[i, 0] > 0:\n    out3[i] = X[i]\nelse:\n    out3[i] = 0.1 * X[i]",
    "Z[i] = W @ X[i] + W.T @ X[i - 2]",
    "s = s + X[i] @ X[i + 2]",
    "acc += np.outer(X[i], X[i])[0]",
    "prod = prod * (1.0 + 0.1 * X[i, 1])",
    "G[(X[i, 0] > 0) * 1] += X[i] * h",
]

HEADER = """\
def f(X, W):
    T, d = X.shape
    out1 = np.zeros((T, d)); out2 = np.zeros((T, d)); out3 = np.zeros((T, d))
    Y = X.copy(); Z = np.zeros((T, d)); P = np.zeros((T, d))
    s = 0.0; m = X[0].copy(); h = np.ones(d) * 0.5; c = np.zeros(d)
    acc = np.zeros(d); prod = 1.0; G = np.zeros((2, d))
    for i in range(2, T - 2):
"""
FOOTER = "    return out1, out2, out3, Y, Z, P, s, m, h, c, acc, prod, G\n"


def make_source(picks):
    body = "\n".join(textwrap.indent(STMTS[k], " " * 8) for k in picks)
    return HEADER + body + "\n" + FOOTER


_count = itertools.count()


def build(src):
    """exec `src` under a fresh file name registered with linecache (the
    tracer reads the function's source)."""
    filename = f"<generated-vec-{next(_count)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(keepends=True), filename)
    namespace = {"np": np}
    exec(compile(src, filename, "exec"), namespace)
    return namespace["f"]


def check(src, T, d, seed):
    rng = np.random.default_rng(seed)
    X, W = rng.standard_normal((T, d)), 0.5 * rng.standard_normal((d, d))
    f = build(src)
    expected = f(X.copy(), W.copy())
    jf = looptrace.jit(f, backend="interpret")
    got = jf(X.copy(), W.copy())
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-9, atol=1e-12, err_msg=src)
    explained = jf.explain(X, W)
    remaining = [op for op in walk(explained.program.body) if op.prim.name == "for_loop"]
    gone = [l for l in explained.loops if l.kind in ("vectorized", "reduction")]
    assert len(remaining) + len(gone) == len(explained.loops), src


@settings(max_examples=30, deadline=None)
@given(picks=st.lists(st.integers(0, len(STMTS) - 1), min_size=1, max_size=5),
       T=st.integers(4, 9), d=st.integers(2, 3), seed=st.integers(0, 2**16))
def test_generated_programs_match_plain(picks, T, d, seed):
    check(make_source(picks), T, d, seed)


def test_every_statement_alone():
    for k in range(len(STMTS)):
        check(make_source([k]), 7, 3, k)


def test_all_statements_together():
    check(make_source(list(range(len(STMTS)))), 9, 3, 1)


def make_nested_source(picks):
    """The generated loop inside an outer loop over a batch of sequences."""
    inner = HEADER.split("\n", 1)[1] + "\n".join(textwrap.indent(STMTS[k], " " * 8) for k in picks) + "\n"
    inner += ("    tot[b] = (np.sum(out1) + np.sum(out2) + np.sum(out3) + np.sum(Y) + np.sum(Z) + np.sum(P)"
              " + s + np.sum(m) + np.sum(h) + np.sum(c) + np.sum(acc) + prod + np.sum(G))\n")
    return ("def f(X3, W):\n    tot = np.zeros(X3.shape[0])\n    for b in range(X3.shape[0]):\n"
            "        X = X3[b]\n" + textwrap.indent(inner, "    ") + "    return tot\n")


@settings(max_examples=15, deadline=None)
@given(picks=st.lists(st.integers(0, len(STMTS) - 1), min_size=1, max_size=4),
       T=st.integers(4, 7), d=st.integers(2, 3), seed=st.integers(0, 2**16))
def test_generated_nested_programs_match_plain(picks, T, d, seed):
    src = make_nested_source(picks)
    f = build(src)
    rng = np.random.default_rng(seed)
    X3, W = rng.standard_normal((3, T, d)), 0.5 * rng.standard_normal((d, d))
    got = looptrace.jit(f, backend="interpret")(X3, W)
    np.testing.assert_allclose(got, f(X3, W), rtol=1e-9, atol=1e-12, err_msg=src)
