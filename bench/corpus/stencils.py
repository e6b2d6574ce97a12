"""Stencils: Jacobi relaxation, heat equation, image blur, Harris corners, waves."""
import numpy as np

from . import Kernel


def jacobi_2d(u, iters):
    """Vectorized Jacobi sweeps for the Laplace equation (boundary fixed)."""
    u = u.copy()
    for _ in range(iters):
        u[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
    return u


def heat_1d_loops(u, alpha, steps):
    """Explicit Euler for u_t = alpha u_xx, written with index loops."""
    n = u.shape[0]
    cur = u.copy()
    nxt = u.copy()
    for _ in range(steps):
        for i in range(1, n - 1):
            nxt[i] = cur[i] + alpha * (cur[i - 1] - 2.0 * cur[i] + cur[i + 1])
        cur, nxt = nxt, cur
    return cur


def heat_2d_swap(u, alpha, steps):
    """The 2-D heat equation with two buffers that trade places every step."""
    a = u.copy()
    b = u.copy()
    for _ in range(steps):
        b[1:-1, 1:-1] = a[1:-1, 1:-1] + alpha * (a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:]
                                                  - 4.0 * a[1:-1, 1:-1])
        a, b = b, a
    return a


def jacobi_1d_buffers(u, v, steps):
    """1-D Jacobi with the caller's two buffers trading places every step
    (the caller sees both written, in turn)."""
    for _ in range(steps):
        v[1:-1] = 0.5 * (u[:-2] + u[2:])
        u, v = v, u
    return u


def roll_laplacian(u):
    """A periodic 5-point Laplacian with np.roll, as NumPy tutorials write it."""
    return np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) + np.roll(u, 1, axis=1) + np.roll(u, -1, axis=1) - 4 * u


def blur_3x3(img):
    """Box blur of the interior pixels, one pixel at a time."""
    h, w = img.shape
    out = np.zeros_like(img)
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            s = 0.0
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    s += img[i + di, j + dj]
            out[i, j] = s / 9.0
    return out


def harris_response(img, k):
    """Harris corner response with central differences and a 3x3 box window."""
    ix = np.zeros_like(img)
    iy = np.zeros_like(img)
    ix[:, 1:-1] = 0.5 * (img[:, 2:] - img[:, :-2])
    iy[1:-1, :] = 0.5 * (img[2:, :] - img[:-2, :])
    ixx, iyy, ixy = ix * ix, iy * iy, ix * iy

    def box(a):
        s = np.zeros_like(a)
        s[1:-1, 1:-1] = (a[:-2, :-2] + a[:-2, 1:-1] + a[:-2, 2:] + a[1:-1, :-2] + a[1:-1, 1:-1]
                         + a[1:-1, 2:] + a[2:, :-2] + a[2:, 1:-1] + a[2:, 2:])
        return s

    sxx, syy, sxy = box(ixx), box(iyy), box(ixy)
    det = sxx * syy - sxy * sxy
    trace = sxx + syy
    return det - k * trace * trace


def wave_2d(u0, u1, c2, steps):
    """Leapfrog for the 2-D wave equation, vectorized per step."""
    prev, cur = u0.copy(), u1.copy()
    for _ in range(steps):
        lap = np.zeros_like(cur)
        lap[1:-1, 1:-1] = cur[:-2, 1:-1] + cur[2:, 1:-1] + cur[1:-1, :-2] + cur[1:-1, 2:] - 4.0 * cur[1:-1, 1:-1]
        nxt = 2.0 * cur - prev + c2 * lap
        prev, cur = cur, nxt
    return cur


def _grid(r, mode, test=12, bench=200):
    n = test if mode == "test" else bench
    return r.standard_normal((n, n))


KERNELS = [
    Kernel("jacobi_2d", jacobi_2d, lambda r, m: (_grid(r, m), 5 if m == "test" else 50), "array", "stencil"),
    Kernel("heat_1d_loops", heat_1d_loops,
           lambda r, m: (r.standard_normal(20 if m == "test" else 2000), 0.2, 4 if m == "test" else 50),
           "loop", "stencil"),
    Kernel("heat_2d_swap", heat_2d_swap, lambda r, m: (_grid(r, m), 0.2, 5 if m == "test" else 50), "array",
           "stencil"),
    Kernel("jacobi_1d_buffers", jacobi_1d_buffers,
           lambda r, m: (r.standard_normal(40 if m == "test" else 100_000), r.standard_normal(40 if m == "test" else 100_000),
                         5 if m == "test" else 51), "array", "stencil"),
    Kernel("roll_laplacian", roll_laplacian, lambda r, m: (_grid(r, m, 12, 1500),), "array", "stencil"),
    Kernel("blur_3x3", blur_3x3, lambda r, m: (_grid(r, m, 10, 120),), "loop", "stencil"),
    Kernel("harris_response", harris_response, lambda r, m: (_grid(r, m, 10, 1000), 0.05), "array", "stencil"),
    Kernel("wave_2d", wave_2d, lambda r, m: (_grid(r, m), _grid(r, m), 0.1, 3 if m == "test" else 40), "array",
           "stencil"),
]
