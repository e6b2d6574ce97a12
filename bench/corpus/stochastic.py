"""Stochastic simulation with the random numbers drawn up front and passed
in: Gillespie's direct method, Metropolis-Hastings random walk, systematic
resampling of a particle filter (cumsum + searchsorted, and the two-pointer
loop), mean squared displacement of random walks, and overdamped Brownian
dynamics in a harmonic trap."""
import math

import numpy as np

from . import Kernel, error


def gillespie_birth_death(k_birth, k_death, x0, u1, u2, t_end):
    """Direct-method SSA of X -> X+1 (rate k_birth), X -> X-1 (rate k_death*X), until t_end or draws run out."""
    t = 0.0
    x = x0
    i = 0
    n_draws = u1.shape[0]
    while t < t_end and i < n_draws:
        a1 = k_birth
        a2 = k_death * x
        a0 = a1 + a2
        t += -math.log(u1[i]) / a0
        if u2[i] * a0 < a1:
            x += 1
        else:
            x -= 1
        i += 1
    return x, t, i


def metropolis_hastings(x0, step, normals, uniforms):
    """Random-walk Metropolis for a 2-d banana-shaped density; the chain and the acceptance rate."""
    def log_p(x, y):
        return -0.5 * (x * x / 4.0 + (y - 0.5 * x * x) ** 2)

    n = normals.shape[0]
    chain = np.empty((n, 2))
    x, y = x0[0], x0[1]
    lp = log_p(x, y)
    accepted = 0
    for i in range(n):
        xp = x + step * normals[i, 0]
        yp = y + step * normals[i, 1]
        lpp = log_p(xp, yp)
        if math.log(uniforms[i]) < lpp - lp:
            x, y, lp = xp, yp, lpp
            accepted += 1
        chain[i, 0] = x
        chain[i, 1] = y
    return chain, accepted / n


def systematic_resample(weights, u0):
    """Systematic resampling: one uniform, N evenly spaced pointers into the cumulative weights."""
    n = weights.shape[0]
    positions = (np.arange(n) + u0) / n
    cumulative = np.cumsum(weights / weights.sum())
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, positions)


def systematic_resample_loop(weights, u0):
    """The same resampling as the textbook two-pointer while loop."""
    n = weights.shape[0]
    w = weights / weights.sum()
    idx = np.zeros(n, dtype=np.int64)
    c = w[0]
    j = 0
    for i in range(n):
        u = (i + u0) / n
        while u > c and j < n - 1:
            j += 1
            c += w[j]
        idx[i] = j
    return idx


def particle_filter_step(particles, weights, obs, noise, u0, sigma_obs):
    """One bootstrap particle filter step: propagate, reweight by the likelihood, resample."""
    n = particles.shape[0]
    pred = 0.9 * particles + noise
    logw = np.log(weights) - 0.5 * ((obs - pred) / sigma_obs) ** 2
    w = np.exp(logw - logw.max())
    w /= w.sum()
    ess = 1.0 / np.sum(w * w)
    cumulative = np.cumsum(w)
    cumulative[-1] = 1.0
    idx = np.searchsorted(cumulative, (np.arange(n) + u0) / n)
    return pred[idx], np.full(n, 1.0 / n), ess


def random_walk_msd(steps):
    """Mean squared displacement over lag of many 2-d lattice-free walks (steps: walkers x time x 2)."""
    pos = np.cumsum(steps, axis=1)
    n_t = pos.shape[1]
    msd = np.zeros(n_t // 2)
    for lag in range(1, n_t // 2):
        d = pos[:, lag:, :] - pos[:, :-lag, :]
        msd[lag] = np.mean(np.sum(d * d, axis=2))
    return msd


def brownian_trap(x0, noise, k, gamma, kT, dt):
    """Overdamped Langevin dynamics of independent particles in a 3-d harmonic trap, Euler-Maruyama."""
    x = x0.copy()
    amp = np.sqrt(2.0 * kT * dt / gamma)
    r2 = np.zeros(noise.shape[0])
    for t in range(noise.shape[0]):
        x += -k / gamma * x * dt + amp * noise[t]
        r2[t] = np.mean(np.sum(x * x, axis=1))
    return x, r2


def _mh(r, m):
    n = 50 if m == "test" else 100_000
    return r.standard_normal(2), 0.8, r.standard_normal((n, 2)), r.random(n)


def _weights(r, m):
    n = 20 if m == "test" else 200_000
    return r.random(n) ** 3 + 1e-12, r.random()


def _pf(r, m):
    n = 20 if m == "test" else 200_000
    w = r.random(n) + 0.1
    return r.standard_normal(n), w / w.sum(), 0.3, 0.5 * r.standard_normal(n), r.random(), 0.7


KERNELS = [
    Kernel("gillespie_birth_death", gillespie_birth_death,
           lambda r, m: (10.0, 0.1, 5, 1.0 - r.random(60 if m == "test" else 100_000),
                         r.random(60 if m == "test" else 100_000), 5.0 if m == "test" else 5000.0), "loop",
           "stochastic simulation"),
    Kernel("metropolis_hastings", metropolis_hastings, _mh, "loop", "mcmc"),
    Kernel("systematic_resample", systematic_resample, _weights, "array", "particle filter"),
    Kernel("systematic_resample_loop", systematic_resample_loop, _weights, "loop", "particle filter"),
    Kernel("particle_filter_step", particle_filter_step, _pf, "array", "particle filter"),
    Kernel("random_walk_msd", random_walk_msd,
           lambda r, m: (r.standard_normal((3, 140, 2) if m == "test" else (200, 400, 2)),), "mixed", "diffusion",
           note="pos[:, lag:] - pos[:, :-lag] pairs slices of a length that changes with the loop index, "
           "shifted against each other: the second is realigned onto the first's positions (a gather, "
           "tracer/masked.py `_shifted`), after NumPy's check that the lengths agree"),
    Kernel("brownian_trap", brownian_trap,
           lambda r, m: (r.standard_normal((5, 3) if m == "test" else (2000, 3)),
                         r.standard_normal((10, 5, 3) if m == "test" else (1000, 2000, 3)), 2.0, 1.0, 1.0, 1e-3),
           "mixed", "diffusion"),
]
