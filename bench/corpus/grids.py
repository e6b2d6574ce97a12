"""Grid construction: filling coordinate grids, meshgrids, Gaussian bumps, linspaces."""
import numpy as np

from . import Kernel, error


def grid_fill(N):
    """An (N, N, 3) grid of (x, y, r) filled slice by slice, then flattened."""
    x = np.linspace(-1.0, 1.0, N)
    z = np.empty((N, N, 3))
    z[:, :, 0] = x[:, None]
    z[:, :, 1] = x[None, :]
    z[:, :, 2] = np.sqrt(z[:, :, 0] ** 2 + z[:, :, 1] ** 2)
    return z.reshape(-1, 3)


def grid_fill_like(xs):
    """The same grid, its size taken from an array argument."""
    n = xs.shape[0]
    z = np.empty((n, n, 3))
    z[:, :, 0] = xs[:, None]
    z[:, :, 1] = xs[None, :]
    z[:, :, 2] = np.sqrt(z[:, :, 0] ** 2 + z[:, :, 1] ** 2)
    return z.reshape(-1, 3)


def gaussian_bump(x, y, x0, y0, s):
    X, Y = np.meshgrid(x, y)
    return np.exp(-((X - x0) ** 2 + (Y - y0) ** 2) / (2 * s * s))


def grid_loops(xs, ys):
    """A potential on a grid, point by point."""
    out = np.empty((ys.shape[0], xs.shape[0]))
    for i in range(ys.shape[0]):
        for j in range(xs.shape[0]):
            out[i, j] = np.cos(xs[j]) * np.sin(ys[i]) + 0.1 * xs[j] * ys[i]
    return out


def linspace_samples(a, b):
    """Samples of a function between traced endpoints: trapezoid integral and values."""
    t = np.linspace(a, b, 257)
    f = np.exp(-t * t)
    return (f[1:] + f[:-1]).sum() * (t[1] - t[0]) / 2, f


KERNELS = [
    Kernel("grid_fill", grid_fill, lambda r, m: (8 if m == "test" else 1000,), "array", "grid"),
    Kernel("grid_fill_like", grid_fill_like, lambda r, m: (np.linspace(-1, 1, 8 if m == "test" else 1000),), "array",
           "grid"),
    Kernel("gaussian_bump", gaussian_bump,
           lambda r, m: (np.linspace(-1, 1, 9 if m == "test" else 2000), np.linspace(-1, 1, 7 if m == "test" else 1500),
                         0.1, -0.2, 0.3), "array", "grid"),
    Kernel("grid_loops", grid_loops,
           lambda r, m: (np.linspace(0, 3, 9 if m == "test" else 400), np.linspace(0, 2, 7 if m == "test" else 300)),
           "loop", "grid"),
    Kernel("linspace_samples", linspace_samples, lambda r, m: (-1.5, 2.0), "array", "grid"),
]
