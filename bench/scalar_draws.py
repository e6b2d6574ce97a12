"""Loops that draw one random number at a time (a random walk, a Gillespie
simulation, Metropolis, rejection sampling) against plain Python and
numba.njit, with the scalar draw lowered as a one-element array (`--old`
lowering, `uniform_draws(gen, (1,), dtype)[0]`, as before) and as a scalar
helper (codegen/cpu/random.py, templates.py `uniform_draw` & co.). All in
one process, timed round-robin.

    python bench/scalar_draws.py [--repeats 7]
"""
import argparse
import math
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp())

import numba  # noqa: E402

import looptrace  # noqa: E402
from bench._timing import compare  # noqa: E402


def walkers(gen, nw, L):
    total = 0
    for w in range(nw):
        x = L // 2
        while 0 < x < L:
            x += 1 if gen.random() < 0.5 else -1
            total += 1
    return total


def gillespie(gen, k1, k2, x0, t_end):
    """A birth-death process: births at rate k1, deaths at rate k2 * x."""
    t, x, steps = 0.0, x0, 0
    while t < t_end:
        a1, a2 = k1, k2 * x
        a0 = a1 + a2
        t += gen.exponential() / a0
        if gen.uniform(0.0, a0) < a1:
            x += 1
        else:
            x -= 1
        steps += 1
    return x, steps


def metropolis(gen, n, step):
    """A chain sampling exp(-x**4 / 4) with normal proposals."""
    x, acc, s = 0.0, 0, 0.0
    for i in range(n):
        y = x + gen.normal(0.0, step)
        if gen.random() < math.exp((x**4 - y**4) / 4.0):
            x = y
            acc += 1
        s += x
    return s / n, acc


def rejection(gen, n):
    """Samples of the half-normal by rejection from the exponential."""
    out = np.empty(n)
    for i in range(n):
        while True:
            y = gen.standard_exponential()
            if gen.random() < math.exp(-((y - 1.0) ** 2) / 2.0):
                break
        out[i] = y if gen.integers(0, 2) == 1 else -y
    return out


PROGRAMS = [("walkers", walkers, (200, 100)), ("gillespie", gillespie, (50.0, 0.5, 10, 2000.0)),
            ("metropolis", metropolis, (200000, 0.8)), ("rejection", rejection, (100000,))]


def _old_rules():
    """The lowering before: each scalar draw an array of one element, then [0]."""
    from looptrace.codegen.target import StatementRule

    def draw(helper):
        def lower(em, op):
            token, (new_token, v) = op.inputs[0], op.outputs
            em.line(f"{em.name(new_token)} = {em.name(token)}")
            em.line(f"{em.name(v)} = {helper}({em.name(token)}, {tuple(v.shape) or (1,)}, np.{v.dtype.name})"
                    + ("" if v.ndim else "[0]"))
            em.define(new_token)
            em.define(v, owned=bool(v.ndim))
        return StatementRule(lower)

    def integers(em, op):
        (token, low, high), (new_token, v) = op.inputs, op.outputs
        em.line(f"{em.name(new_token)} = {em.name(token)}")
        em.line(f"{em.name(v)} = integer_draws({em.name(token)}, np.int64({em.name(low)}), np.int64({em.name(high)}), "
                f"{tuple(v.shape) or (1,)}, np.{v.dtype.name}, {bool(op.attrs['endpoint'])})" + ("" if v.ndim else "[0]"))
        em.define(new_token)
        em.define(v, owned=bool(v.ndim))

    return {"random_normal": draw("normal_draws"), "random_uniform": draw("uniform_draws"),
            "random_exponential": draw("exponential_draws"), "random_integers": StatementRule(integers)}


def _compiled(fn, args, rules=None):
    from looptrace.codegen.cpu.target import TARGET

    saved = dict(TARGET.rules)
    TARGET.rules.update(rules or {})
    try:
        j = looptrace.jit(fn, backend="cpu")
        j(np.random.default_rng(1), *args)
        return j, j.explain(np.random.default_rng(1), *args).kernel_source
    finally:
        TARGET.rules.clear()
        TARGET.rules.update(saved)


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b)) if isinstance(a, tuple) else np.array_equal(a, b)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    for name, fn, a in PROGRAMS:
        new, src_new = _compiled(fn, a)
        old, src_old = _compiled(fn, a, _old_rules())
        assert "_draws(" not in src_new and "_draws(" in src_old, name
        nj = numba.njit(fn)
        runs = {"plain": fn, "lt old": old, "lt": new, "njit": nj}
        results = {k: f(np.random.default_rng(3), *a) for k, f in runs.items()}
        assert all(_same(results["plain"], r) for r in results.values()), name
        t = compare({k: (lambda f=f: f(np.random.default_rng(3), *a)) for k, f in runs.items()}, repeats=args.repeats)
        print(f"{name:11s} " + "  ".join(f"{k} {v * 1e3:8.2f} ms" for k, v in t.items())
              + f"   lt old/njit {t['lt old'] / t['njit']:5.2f}x  lt/njit {t['lt'] / t['njit']:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
