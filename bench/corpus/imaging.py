"""Image processing as it is written in lab scripts: a 2-d convolution by
four nested loops, Sobel edges by slicing, a 3x3 median filter by loops,
bilinear resizing with index arithmetic, local maxima into a boolean mask,
a Poisson solve by Jacobi iteration with a convergence check, and a uint8 box
blur and a binary erosion written as 3x3 scalar loops."""
import numpy as np

from . import Kernel


def conv2d_loops(img, k):
    """'Valid' 2-d correlation of an image with a small kernel, every product spelled out."""
    H, W = img.shape
    kh, kw = k.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            acc = 0.0
            for u in range(kh):
                for v in range(kw):
                    acc += img[i + u, j + v] * k[u, v]
            out[i, j] = acc
    return out


def sobel_edges(img, threshold):
    """Gradient magnitude by the Sobel operator on the interior, and the edge mask above a threshold."""
    gx = (img[:-2, 2:] + 2.0 * img[1:-1, 2:] + img[2:, 2:]) - (img[:-2, :-2] + 2.0 * img[1:-1, :-2] + img[2:, :-2])
    gy = (img[2:, :-2] + 2.0 * img[2:, 1:-1] + img[2:, 2:]) - (img[:-2, :-2] + 2.0 * img[:-2, 1:-1] + img[:-2, 2:])
    mag = np.hypot(gx, gy)
    edges = mag > threshold * mag.max()
    angle = np.arctan2(gy, gx)
    return mag, edges, angle


def median3x3(img):
    """3x3 median filter of the interior; the border is copied through."""
    H, W = img.shape
    out = img.copy()
    window = np.empty(9)
    for i in range(1, H - 1):
        for j in range(1, W - 1):
            n = 0
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    window[n] = img[i + di, j + dj]
                    n += 1
            out[i, j] = np.median(window)
    return out


def bilinear_resize(img, new_h, new_w):
    """Bilinear interpolation onto a new grid (align-corners convention), pixel by pixel."""
    H, W = img.shape
    out = np.empty((new_h, new_w))
    sy = (H - 1) / (new_h - 1)
    sx = (W - 1) / (new_w - 1)
    for i in range(new_h):
        y = i * sy
        y0 = int(y)
        y1 = min(y0 + 1, H - 1)
        fy = y - y0
        for j in range(new_w):
            x = j * sx
            x0 = int(x)
            x1 = min(x0 + 1, W - 1)
            fx = x - x0
            top = (1.0 - fx) * img[y0, x0] + fx * img[y0, x1]
            bottom = (1.0 - fx) * img[y1, x0] + fx * img[y1, x1]
            out[i, j] = (1.0 - fy) * top + fy * bottom
    return out


def peak_mask(x, min_height):
    """Strict local maxima of a 1-d signal above a height, as a boolean mask, and their count."""
    n = x.shape[0]
    mask = np.zeros(n, dtype=np.bool_)
    for i in range(1, n - 1):
        if x[i] > x[i - 1] and x[i] > x[i + 1] and x[i] >= min_height:
            mask[i] = True
    return mask, mask.sum()


def poisson_jacobi(f, h, tol, max_iter):
    """-lap(u) = f on the unit square with u = 0 on the boundary, Jacobi sweeps until the update is small."""
    u = np.zeros_like(f)
    diff = tol + 1.0
    it = 0
    while diff > tol and it < max_iter:
        u_new = u.copy()
        u_new[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:]
                                    + h * h * f[1:-1, 1:-1])
        diff = np.max(np.abs(u_new - u))
        u = u_new
        it += 1
    return u, it


def box_blur_u8(img):
    """A 3x3 box blur of 8-bit pixels, summed as Python ints, stored back as uint8."""
    n, m = img.shape
    out = np.zeros((n, m), dtype=np.uint8)
    for i in range(1, n - 1):
        for j in range(1, m - 1):
            s = 0
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    s += int(img[i + di, j + dj])
            out[i, j] = s // 9
    return out


def erode3x3(mask):
    """Binary erosion: a pixel stays set where its whole 3x3 neighbourhood is set."""
    n, m = mask.shape
    out = np.zeros_like(mask)
    for i in range(1, n - 1):
        for j in range(1, m - 1):
            ok = True
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    if not mask[i + di, j + dj]:
                        ok = False
            out[i, j] = ok
    return out


def _img(r, m, bench=(256, 256)):
    return r.random((9, 11) if m == "test" else bench)


KERNELS = [
    Kernel("conv2d_loops", conv2d_loops, lambda r, m: (_img(r, m), r.standard_normal((3, 3) if m == "test" else (5, 5))),
           "loop", "imaging"),
    Kernel("sobel_edges", sobel_edges, lambda r, m: (_img(r, m, (1024, 1024)), 0.3), "array", "imaging"),
    Kernel("median3x3", median3x3, lambda r, m: (_img(r, m, (128, 128)),), "loop", "imaging"),
    Kernel("bilinear_resize", bilinear_resize, lambda r, m: (_img(r, m), 13 if m == "test" else 600,
                                                             17 if m == "test" else 800), "loop", "imaging"),
    Kernel("peak_mask", peak_mask, lambda r, m: (np.sin(np.linspace(0.0, 60.0, 80 if m == "test" else 1_000_000))
                                                 + 0.2 * r.standard_normal(80 if m == "test" else 1_000_000), 0.5),
           "loop", "signal"),
    Kernel("box_blur_u8", box_blur_u8, lambda r, m: (r.integers(0, 256, (9, 11) if m == "test" else (800, 800))
                                                     .astype(np.uint8),), "loop", "imaging"),
    Kernel("erode3x3", erode3x3, lambda r, m: (r.random((9, 11) if m == "test" else (800, 800)) < 0.7,),
           "loop", "imaging"),
    Kernel("poisson_jacobi", poisson_jacobi,
           lambda r, m: (r.standard_normal((10, 10) if m == "test" else (64, 64)), 1.0 / (10 if m == "test" else 64),
                         1e-6, 2000), "array", "pde"),
]
