"""N-body: scalar-loop and broadcast accelerations, potentials, a leapfrog."""
import math

import numpy as np

from . import Kernel, error

SOFTENING = 1e-3


def nbody_accel_loops(pos, mass):
    """Pairwise gravitational accelerations, Numba style with math.sqrt."""
    n = pos.shape[0]
    acc = np.zeros_like(pos)
    for i in range(n):
        for j in range(n):
            if i != j:
                dx = pos[j, 0] - pos[i, 0]
                dy = pos[j, 1] - pos[i, 1]
                dz = pos[j, 2] - pos[i, 2]
                r2 = dx * dx + dy * dy + dz * dz + SOFTENING
                inv = mass[j] / (r2 * math.sqrt(r2))
                acc[i, 0] += dx * inv
                acc[i, 1] += dy * inv
                acc[i, 2] += dz * inv
    return acc


def nbody_accel_broadcast(pos, mass):
    """The same accelerations, broadcast over all pairs at once."""
    d = pos[None, :, :] - pos[:, None, :]
    r2 = (d * d).sum(axis=-1) + SOFTENING
    inv = mass[None, :] / (r2 * np.sqrt(r2))
    np.fill_diagonal(inv, 0.0)
    return (d * inv[:, :, None]).sum(axis=1)


def nbody_accel_rows(pos, mass):
    """One body at a time, vectorized over the others."""
    n = pos.shape[0]
    acc = np.empty_like(pos)
    for i in range(n):
        d = pos - pos[i]
        r2 = (d * d).sum(axis=1) + SOFTENING
        w = mass / (r2 * np.sqrt(r2))
        w[i] = 0.0
        acc[i] = (d * w[:, None]).sum(axis=0)
    return acc


def pair_potential(pos):
    """Total 1/r potential over pairs i < j (a triangular loop)."""
    n = pos.shape[0]
    e = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            d = pos[i] - pos[j]
            e += 1.0 / np.sqrt(np.dot(d, d) + SOFTENING)
    return e


def leapfrog(pos, vel, mass, dt, steps):
    """Kick-drift-kick steps with broadcast forces."""
    pos, vel = pos.copy(), vel.copy()
    for _ in range(steps):
        d = pos[None, :, :] - pos[:, None, :]
        r2 = (d * d).sum(axis=-1) + SOFTENING
        inv = mass[None, :] / (r2 * np.sqrt(r2))
        acc = (d * inv[:, :, None]).sum(axis=1)
        vel = vel + 0.5 * dt * acc
        pos = pos + dt * vel
        d = pos[None, :, :] - pos[:, None, :]
        r2 = (d * d).sum(axis=-1) + SOFTENING
        inv = mass[None, :] / (r2 * np.sqrt(r2))
        vel = vel + 0.5 * dt * (d * inv[:, :, None]).sum(axis=1)
    return pos, vel


def _bodies(r, m, test=8, bench=400):
    n = test if m == "test" else bench
    return r.standard_normal((n, 3)), r.uniform(0.5, 1.5, n)


def _leapfrog_args(r, m):
    pos, mass = _bodies(r, m, 6, 200)
    return pos, 0.1 * r.standard_normal(pos.shape), mass, 0.01, 3 if m == "test" else 10


KERNELS = [
    Kernel("nbody_accel_4096", nbody_accel_broadcast, lambda r, m: _bodies(r, m, 9, 4096), "array", "n-body",
           note="the issue's case: nbody_accel_broadcast over 4096 bodies"),
    Kernel("nbody_accel_loops", nbody_accel_loops, lambda r, m: _bodies(r, m, 8, 200), "loop", "n-body"),
    Kernel("nbody_accel_broadcast", nbody_accel_broadcast, lambda r, m: _bodies(r, m, 8, 1000), "array",
           "n-body"),
    Kernel("nbody_accel_rows", nbody_accel_rows, lambda r, m: _bodies(r, m, 8, 400), "mixed", "n-body"),
    Kernel("pair_potential", pair_potential, lambda r, m: (_bodies(r, m, 8, 150)[0],), "loop", "n-body"),
    Kernel("leapfrog", leapfrog, lambda r, m: _leapfrog_args(r, m), "array", "n-body"),
]
