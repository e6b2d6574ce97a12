"""Physics: Ising (Metropolis loops and checkerboard NumPy), game of life, Mandelbrot, MD."""
import math

import numpy as np

from . import Kernel, error


def ising_metropolis(spins, beta, rand):
    """One Metropolis sweep, site by site (math.exp on scalars, periodic edges)."""
    s = spins.copy()
    n, m = s.shape
    for i in range(n):
        for j in range(m):
            nb = s[(i + 1) % n, j] + s[(i - 1) % n, j] + s[i, (j + 1) % m] + s[i, (j - 1) % m]
            de = 2.0 * s[i, j] * nb
            if de <= 0.0 or rand[i, j] < math.exp(-beta * de):
                s[i, j] = -s[i, j]
    return s


def ising_checkerboard(spins, beta, rand):
    """The same dynamics by colour: all black sites, then all white ones."""
    s = spins.copy()
    n, m = s.shape
    ii, jj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    for colour in range(2):
        nb = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
        de = 2.0 * s * nb
        flip = ((ii + jj) % 2 == colour) & ((de <= 0.0) | (rand < np.exp(-beta * de)))
        s = np.where(flip, -s, s)
    return s


def life_loops(board, steps):
    """Conway's game of life on a torus, counting neighbours in loops."""
    b = board.copy()
    n, m = b.shape
    for _ in range(steps):
        new = np.zeros_like(b)
        for i in range(n):
            for j in range(m):
                c = 0
                for di in range(-1, 2):
                    for dj in range(-1, 2):
                        if di != 0 or dj != 0:
                            c += b[(i + di) % n, (j + dj) % m]
                if c == 3 or (c == 2 and b[i, j] == 1):
                    new[i, j] = 1
        b = new
    return b


def life_numpy(board, steps):
    b = board.copy()
    for _ in range(steps):
        c = sum(np.roll(np.roll(b, di, 0), dj, 1) for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj)
        b = ((c == 3) | ((c == 2) & (b == 1))).astype(b.dtype)
    return b


def mandelbrot_loops(re, im, max_iter):
    """Escape counts, pixel by pixel, with an early break."""
    h, w = re.shape
    out = np.zeros((h, w), dtype=np.int64)
    for i in range(h):
        for j in range(w):
            cr, ci = re[i, j], im[i, j]
            x, y = 0.0, 0.0
            n = 0
            for k in range(max_iter):
                if x * x + y * y > 4.0:
                    break
                x, y = x * x - y * y + cr, 2.0 * x * y + ci
                n += 1
            out[i, j] = n
    return out


def mandelbrot_numpy(re, im, max_iter):
    """All pixels at once, freezing the escaped ones with a mask."""
    x = np.zeros_like(re)
    y = np.zeros_like(im)
    count = np.zeros(re.shape, dtype=np.int64)
    for _ in range(max_iter):
        inside = x * x + y * y <= 4.0
        x, y = np.where(inside, x * x - y * y + re, x), np.where(inside, 2.0 * x * y + im, y)
        count += inside
    return count


def lj_energy(pos, box):
    """Lennard-Jones energy with the minimum image convention."""
    n = pos.shape[0]
    e = 0.0
    for i in range(n - 1):
        for j in range(i + 1, n):
            d = pos[i] - pos[j]
            d = d - box * np.rint(d / box)
            r2 = (d * d).sum()
            inv6 = 1.0 / (r2 * r2 * r2)
            e += 4.0 * (inv6 * inv6 - inv6)
    return e


def pendulum(theta, omega, dt, steps):
    """A damped pendulum by semi-implicit Euler, scalar math."""
    for _ in range(steps):
        omega = omega - dt * (9.81 * math.sin(theta) + 0.1 * omega)
        theta = theta + dt * omega
    return theta, omega


def spring_chain(x, v, k, dt, steps):
    """A periodic chain of springs: velocity Verlet with np.roll forces."""
    x, v = x.copy(), v.copy()
    a = k * (np.roll(x, 1) + np.roll(x, -1) - 2.0 * x)
    for _ in range(steps):
        x = x + dt * v + 0.5 * dt * dt * a
        a_new = k * (np.roll(x, 1) + np.roll(x, -1) - 2.0 * x)
        v = v + 0.5 * dt * (a + a_new)
        a = a_new
    return x, v


def _spins(r, m, test=8, bench=128):
    n = test if m == "test" else bench
    return np.where(r.random((n, n)) < 0.5, -1.0, 1.0), 0.4, r.random((n, n))


def _plane(r, m, test=(6, 8), bench=(200, 300)):
    h, w = test if m == "test" else bench
    re, im = np.meshgrid(np.linspace(-2.0, 0.6, w), np.linspace(-1.2, 1.2, h))
    return re, im, 20 if m == "test" else 100


def _board(r, m):
    n = 10 if m == "test" else 64
    return (r.random((n, n)) < 0.3).astype(np.int64), 2 if m == "test" else 10


KERNELS = [
    Kernel("ising_metropolis", ising_metropolis, _spins, "loop", "ising"),
    Kernel("ising_checkerboard", ising_checkerboard, lambda r, m: _spins(r, m, 8, 512), "array", "ising"),
    Kernel("life_loops", life_loops, _board, "loop", "game of life"),
    Kernel("life_numpy", life_numpy, lambda r, m: _board(r, m) if m == "test" else
           ((r.random((512, 512)) < 0.3).astype(np.int64), 20), "array", "game of life"),
    Kernel("mandelbrot_loops", mandelbrot_loops, lambda r, m: _plane(r, m, (6, 8), (60, 90)), "loop", "mandelbrot"),
    Kernel("mandelbrot_numpy", mandelbrot_numpy, _plane, "array", "mandelbrot"),
    Kernel("lj_energy", lj_energy, lambda r, m: (r.uniform(0, 5, (8 if m == "test" else 200, 3)), 5.0),
           "loop", "molecular dynamics"),
    Kernel("pendulum", pendulum, lambda r, m: (1.0, 0.0, 0.001, 100 if m == "test" else 200_000), "loop",
           "ode"),
    Kernel("spring_chain", spring_chain,
           lambda r, m: (r.standard_normal(16 if m == "test" else 100_000),
                         r.standard_normal(16 if m == "test" else 100_000), 0.5, 0.01, 5 if m == "test" else 50),
           "array", "ode"),
]
