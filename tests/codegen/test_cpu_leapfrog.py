"""A leapfrog n-body simulation written the way array code is written
(pairwise differences by broadcasting, a masked power, np.triu for the
potential energy, np.hstack, energies stored per step into arrays made by
np.ndarray), on the CPU backend against the plain function. Its arrays are
carried by the step loop and also read by other nests: a loop that takes a
value as a carry is a consumer of several outputs (planning/fusion.py
`_space`), which once stopped the CPU lowering."""

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def accelerations(pos, mass, soft):
    d = [pos[:, k:k + 1].T - pos[:, k:k + 1] for k in range(3)]
    w = d[0] ** 2 + d[1] ** 2 + d[2] ** 2 + soft ** 2
    w[w > 0] = w[w > 0] ** -1.5
    return np.hstack([(dk * w) @ mass for dk in d])


def energies(pos, vel, mass):
    kinetic = 0.5 * np.sum(mass * vel ** 2)
    d = [pos[:, k:k + 1].T - pos[:, k:k + 1] for k in range(3)]
    r = np.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
    r[r > 0] = 1.0 / r[r > 0]
    return kinetic, np.sum(np.triu(-(mass * mass.T) * r, 1))


def leapfrog(mass, pos, vel, steps, dt, soft):
    vel -= np.mean(mass * vel, axis=0) / np.mean(mass)
    acc = accelerations(pos, mass, soft)
    ke = np.ndarray(steps + 1, dtype=np.float64)
    pe = np.ndarray(steps + 1, dtype=np.float64)
    ke[0], pe[0] = energies(pos, vel, mass)
    for i in range(steps):
        vel += acc * dt / 2.0
        pos += vel * dt
        acc = accelerations(pos, mass, soft)
        vel += acc * dt / 2.0
        ke[i + 1], pe[i + 1] = energies(pos, vel, mass)
    return ke, pe


def _arguments(rng):
    n = 12
    mass = rng.uniform(0.5, 1.5, (n, 1))
    pos, vel = rng.random((n, 3)), rng.random((n, 3))
    return (mass, pos, vel, 4, 0.01, 0.1)


def test_the_cpu_backend_lowers_it(rng):
    """The planning and the cpu lowering that once stopped (a carry consumed by several nests), which
    explain runs to write the kernel's source without a Numba compile; the compiled values (9.9 s of
    CPU in session 54's CI at e17f737) are test_leapfrog_matches_the_plain_function[cpu], -m slow."""
    source = looptrace.explain(looptrace.jit(leapfrog, backend="cpu"), *_arguments(rng)).kernel_source
    assert "def kernel" in source and "for " in source.split("def kernel", 1)[1]


@pytest.mark.parametrize("backend", ["interpret", pytest.param("cpu", marks=pytest.mark.slow)])
def test_leapfrog_matches_the_plain_function(backend, rng):
    args = _arguments(rng)
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jitted = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want = leapfrog(*plain)
    got = looptrace.jit(leapfrog, backend=backend)(*jitted)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9)
    for g, w in zip(jitted[1:3], plain[1:3]):  # positions and velocities, updated in place
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
