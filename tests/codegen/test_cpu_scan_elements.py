"""A scan over a few-element state reads and keeps its elements as scalars.

Probe G's Lotka-Volterra scan (`x, z = y[0], y[1]; y[0] = ...; y[1] = ...;
out[t, 0] = y[0]; out[t, 1] = y[1]`) ran 8x slower than numba.njit: each
step made a view per element read (`y[0]` is a static one-element slice),
copied the one-element view of the old `y[0]` kept across the write of
`y[1]` (an allocation per step), and stacked x and z for every step though
nothing read them after the loop. Now a static one-element slice read only
for its element, or stored as a stacked row, is a scalar read where it
stands (planning/fusion.py `_element_reads`), and a carry's last value that
nothing reads after the loop is not stacked (vectorize/loop_rewrite.py).
Values and argument effects against the plain function on random data."""
import numpy as np
import pytest

import looptrace
from tests.codegen.kernel_text import loop_body


def lotka(y0, dt, steps):
    y = y0.copy()
    out = np.empty((steps, 2))
    for t in range(steps):
        x, z = y[0], y[1]
        y[0] = x + dt * (1.1 * x - 0.4 * x * z)
        y[1] = z + dt * (0.1 * x * z - 0.4 * z)
        out[t, 0] = y[0]
        out[t, 1] = y[1]
    return out


def lotka_last(y0, dt, steps):
    y = y0.copy()
    x = z = 0.0
    for t in range(steps):
        x, z = y[0], y[1]
        y[0] = x + dt * (1.1 * x - 0.4 * x * z)
        y[1] = z + dt * (0.1 * x * z - 0.4 * z)
    return y, x, z  # the last x and z are read after the loop: still stacked (or kept)


def rotate_in_place(y, steps):
    for t in range(steps):
        a, b, c = y[0, 0], y[0, 1], y[1, 2]
        y[0, 0] = b
        y[0, 1] = c
        y[1, 2] = a + 0.5 * y[0, 0]
    return y[0, :2].copy()


def _check(fn, make, backend):
    rng = np.random.default_rng(7)
    args = make(rng)
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    mine = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want = fn(*plain)
    got = looptrace.jit(fn, backend=backend)(*mine)
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)
    for p, m in zip(plain, mine):
        if isinstance(p, np.ndarray):
            np.testing.assert_array_equal(m, p)


CASES = [
    (lotka, lambda r: (r.uniform(0.5, 1.5, 2), 0.001, 300)),
    (lotka_last, lambda r: (r.uniform(0.5, 1.5, 2), 0.01, 50)),
    (lotka_last, lambda r: (r.uniform(0.5, 1.5, 2), 0.01, 0)),
    (rotate_in_place, lambda r: (r.standard_normal((2, 3)), 7)),
]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,make", CASES, ids=[f"{c[0].__name__}{k}" for k, c in enumerate(CASES)])
def test_values_and_effects(fn, make, backend):
    _check(fn, make, backend)


def test_lotka_scan_body_holds_scalars_only():
    y0 = np.random.default_rng(1).uniform(0.5, 1.5, 2)
    jf = looptrace.jit(lotka, backend="cpu")
    jf(y0, 0.001, 100)
    src = looptrace.explain(jf, y0, 0.001, 100).kernel_source
    body = "\n".join(loop_body(src, r"range\("))
    assert "copied(" not in body, body  # the old y[0] is a scalar read before the write of y[1]
    assert "[0:1]" not in body and "[1:2]" not in body, body  # element reads, not views
    stores = [ln for ln in body.splitlines() if "[k" in ln and "] = " in ln]
    assert len(stores) == 2, body  # out's two columns; x and z, read by nothing after, are not stacked
