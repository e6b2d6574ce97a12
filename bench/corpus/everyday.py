"""Everyday Python: the styles the rest of the corpus lacks. Lists grown with
append and turned into arrays, comprehensions and generator expressions,
closures and lambdas passed to helpers, keyword defaults and string options,
tuple swaps, for/while ... else, continue and nested break, reversed and
negative-step ranges, enumerate(zip(...)), negative floor division, narrow
dtypes and their promotion, complex numbers, and the less common NumPy
surface (einsum, searchsorted, add.at, one-argument where, 2-D fancy indexing,
sliding windows, apply_along_axis, pad, outer/kron/cross, solve in a loop,
a Generator made inside the function), an explicit stack instead of
recursion, a dataclass of arrays, math.fsum and functools.reduce.
"""
import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import Kernel, error


def _n(m, test, bench):
    return test if m == "test" else bench


# --- lists, comprehensions, generator expressions -------------------------------------------

def append_then_array(x, threshold):
    """Keep the values above a threshold (and their positions) in lists, then arrays."""
    vals = []
    idx = []
    for i in range(x.shape[0]):
        if x[i] > threshold:
            vals.append(x[i] * 2.0)
            idx.append(i)
    return np.array(vals), np.array(idx)


def genexpr_dot(x, y):
    """A dot product as a generator expression over a range."""
    n = x.shape[0]
    return sum(x[i] * y[i] for i in range(n))


def listcomp_row_norms(X):
    """Row norms through a list comprehension over the rows, then np.array."""
    return np.array([math.sqrt(sum(v * v for v in row)) for row in X])


def any_all_checks(x, lo, hi):
    """any/all over generator expressions, one answer per call."""
    n = x.shape[0]
    has_neg = any(x[i] < lo for i in range(n))
    all_small = all(abs(x[i]) < hi for i in range(n))
    count = sum(1 for i in range(n) if x[i] > 0)
    return has_neg, all_small, count


def min_with_key(x):
    """argmin and argmax with the builtins min/max and a key lambda."""
    n = x.shape[0]
    i_min = min(range(n), key=lambda i: x[i])
    i_max = max(range(n), key=lambda i: abs(x[i]))
    return i_min, i_max


# --- helpers, closures, lambdas, keywords, string options ------------------------------------

def closure_smoother(x, alpha):
    """A nested helper that reads the enclosing function's variable."""
    def blend(prev, cur):
        return alpha * cur + (1.0 - alpha) * prev

    out = np.empty_like(x)
    s = x[0]
    for i in range(x.shape[0]):
        s = blend(s, x[i])
        out[i] = s
    return out


def _apply_pointwise(f, x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = f(x[i])
    return out


def lambda_to_helper(x, c):
    """A lambda handed to a module-level helper that loops."""
    a = _apply_pointwise(lambda v: v * v + c, x)
    b = _apply_pointwise(lambda v: math.sin(v) * c, x)
    return a - b


def _smooth(x, k, mode="same"):
    return np.convolve(x, k, mode=mode)


def keyword_defaults(x, k):
    """A helper with keyword defaults, called with and without them."""
    return _smooth(x, k), _smooth(x, k, mode="valid"), np.linalg.norm(x.reshape(-1, 4), axis=-1)


def _distance(a, b, metric):
    if metric == "l1":
        return np.abs(a - b).sum(axis=-1)
    elif metric == "linf":
        return np.abs(a - b).max(axis=-1)
    return np.sqrt(((a - b) ** 2).sum(axis=-1))


def string_option(X, q, metric="l2"):
    """A string argument that picks the branch."""
    return _distance(X, q, metric), _distance(X, q, "l1")


def reduce_products(xs):
    """functools.reduce over a list of arrays and over scalars."""
    prod = functools.reduce(lambda a, b: a * b, xs)
    biggest = functools.reduce(np.maximum, xs)
    return prod, biggest


def fsum_list(x):
    """math.fsum over a list of terms, compared with plain sum."""
    terms = [x[i] / (i + 1.0) for i in range(x.shape[0])]
    return math.fsum(terms), sum(terms)


# --- control flow -------------------------------------------------------------------------

def fib_swap(n):
    """Tuple-unpacking swaps: Fibonacci-like numbers, kept in an array."""
    out = np.zeros(n)
    a, b = 0.0, 1.0
    for i in range(n):
        out[i] = a
        a, b = b, a + 0.5 * b
    return out


def for_else_primes(xs):
    """for ... else: trial division decides each number."""
    flags = np.zeros(xs.shape[0], dtype=np.bool_)
    for k in range(xs.shape[0]):
        v = xs[k]
        if v < 2:
            continue
        for d in range(2, int(math.sqrt(v)) + 1):
            if v % d == 0:
                break
        else:
            flags[k] = True
    return flags


def while_else_search(x, target):
    """while ... else: the first index with x[i] >= target, else -1."""
    i = 0
    while i < x.shape[0]:
        if x[i] >= target:
            break
        i += 1
    else:
        i = -1
    return i


def nested_break_pair(x, t):
    """The first pair (i, j), i < j, whose sum exceeds t: a flag breaks the outer loop."""
    found_i, found_j = -1, -1
    n = x.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            if x[i] + x[j] > t:
                found_i, found_j = i, j
                break
        if found_i >= 0:
            break
    return found_i, found_j


def continue_filter(x, y):
    """continue skips the samples with a bad weight."""
    num = 0.0
    den = 0.0
    for i in range(x.shape[0]):
        if y[i] <= 0.0:
            continue
        if math.isnan(x[i]):
            continue
        num += x[i] * y[i]
        den += y[i]
    return num / den


def early_return_loop(x, limit):
    """Return from inside the loop as soon as the running sum passes the limit."""
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        if s > limit:
            return i, s
    return -1, s


def back_substitution(U, b):
    """reversed(range(n)) for an upper-triangular solve."""
    n = b.shape[0]
    x = np.zeros(n)
    for i in reversed(range(n)):
        acc = b[i]
        for j in range(i + 1, n):
            acc -= U[i, j] * x[j]
        x[i] = acc / U[i, i]
    return x


def negative_step_suffix(x):
    """A suffix maximum with a negative-step range."""
    n = x.shape[0]
    out = np.empty_like(x)
    m = -np.inf
    for i in range(n - 1, -1, -1):
        if x[i] > m:
            m = x[i]
        out[i] = m
    return out


def enumerate_zip(a, b):
    """for i, (u, v) in enumerate(zip(a, b))."""
    total = 0.0
    out = np.empty(a.shape[0])
    for i, (u, v) in enumerate(zip(a, b)):
        total += (i + 1) * u * v
        out[i] = total
    return out


def explicit_stack_sum(x, leaf):
    """Divide and conquer without recursion: an explicit stack of ranges, pairwise sums."""
    total = 0.0
    stack = [(0, x.shape[0])]
    while stack:
        lo, hi = stack.pop()
        if hi - lo <= leaf:
            s = 0.0
            for i in range(lo, hi):
                s += x[i]
            total += s
        else:
            mid = (lo + hi) // 2
            stack.append((lo, mid))
            stack.append((mid, hi))
    return total


# --- integers, narrow dtypes, complex -------------------------------------------------------

def negative_floor_mod(a, b):
    """Floor division and modulo of negative integers, arrays and scalars, and divmod."""
    q = a // b
    r = a % b
    s = 0
    for i in range(a.shape[0]):
        qq, rr = divmod(int(a[i]), 7)
        s += qq * 3 + rr - (-int(a[i])) // 5
    return q, r, s


def mixed_dtypes(i32, u8, f32, flags):
    """int32 + float32, uint8 arithmetic, bool sums: NumPy's promotion."""
    a = i32 + f32                     # float64
    b = u8.astype(np.int16) * 3 - 100  # int16
    c = f32 * 2.5                     # float32 (a Python float stays weak)
    d = flags.sum()                   # int64
    e = (u8 > 128) & flags            # bool
    f = i32 * 2 // 3                  # int32
    g = np.float32(0.5) * f32 + i32.astype(np.float32)
    return a, b, c, d, e, f, g


def u8_loop_clip(img, gain):
    """A uint8 image brightened in a loop, clipped by hand, stored back as uint8."""
    out = np.empty_like(img)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            v = int(img[i, j] * gain)
            if v > 255:
                v = 255
            out[i, j] = v
    return out


def complex_phasors(theta, amp):
    """np.exp(1j * theta), complex sums and abs of complex."""
    z = amp * np.exp(1j * theta)
    total = z.sum()
    acc = 0j
    for k in range(theta.shape[0]):
        acc += amp[k] * complex(math.cos(theta[k]), math.sin(theta[k]))
    return np.abs(z), abs(total), acc.real, acc.imag, np.angle(total)


# --- less common NumPy ----------------------------------------------------------------------

def einsum_variety(A, B, M):
    """Batched matmul, a trace and an outer product by einsum."""
    C = np.einsum("bij,bjk->bik", A, B)
    tr = np.einsum("ii->", M)
    outer = np.einsum("i,j->ij", M[0], M[1])
    return C, tr, outer


def searchsorted_interp(xp, fp, x):
    """Linear interpolation by hand with np.searchsorted."""
    j = np.searchsorted(xp, x, side="right")
    j = np.clip(j, 1, xp.shape[0] - 1)
    x0, x1 = xp[j - 1], xp[j]
    t = (x - x0) / (x1 - x0)
    return fp[j - 1] * (1.0 - t) + fp[j] * t


def add_at_histogram(idx, w, n_bins):
    """np.add.at with repeated indices."""
    h = np.zeros(n_bins)
    np.add.at(h, idx, w)
    c = np.zeros(n_bins, dtype=np.int64)
    np.add.at(c, idx, 1)
    return h, c


def where_one_arg(x, t):
    """np.where with one argument gives indices; loop over them."""
    (idx,) = np.where(x > t)
    s = 0.0
    for k in idx:
        s += x[k] * k
    return idx, s


def fancy_submatrix(A, rows, cols):
    """A[rows[:, None], cols]: a submatrix by 2-D fancy indexing, written back scaled."""
    sub = A[rows[:, None], cols]
    B = A.copy()
    B[rows[:, None], cols] = sub * 2.0
    return sub, B


def sliding_windows(x, w):
    """Moving mean and max through sliding_window_view."""
    win = sliding_window_view(x, w)
    return win.mean(axis=-1), win.max(axis=1)


def apply_along_axis_ptp(X):
    """np.apply_along_axis with a lambda."""
    return np.apply_along_axis(lambda r: r.max() - r.min(), 1, X)


def pad_edge_laplacian(u):
    """np.pad with edge mode, then a 5-point Laplacian on the padded grid."""
    p = np.pad(u, 1, mode="edge")
    return p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4.0 * u


def outer_kron_cross(a, b, K, P, Q):
    """np.outer, np.kron of two small matrices and np.cross of 3-vectors row by row."""
    return np.outer(a, b), np.kron(K, K[:3, :2]), np.cross(P, Q)


def implicit_euler_solve(A, y0, dt, n_steps):
    """Implicit Euler for y' = A y: np.linalg.solve every step."""
    I = np.eye(A.shape[0])
    y = y0.copy()
    norms = np.empty(n_steps)
    for k in range(n_steps):
        y = np.linalg.solve(I - dt * A, y)
        norms[k] = np.linalg.norm(y)
    return y, norms


def default_rng_inside(n, seed):
    """A Generator made inside the function from a seed."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    u = rng.random(n)
    return x[u < 0.5].sum(), x.mean()


@dataclass
class Particles:
    pos: np.ndarray
    vel: np.ndarray
    mass: float


def dataclass_step(p, dt, n_steps):
    """A @dataclass of arrays passed in; attributes read in a loop."""
    pos = p.pos.copy()
    vel = p.vel.copy()
    for _ in range(n_steps):
        acc = -pos / p.mass
        vel = vel + dt * acc
        pos = pos + dt * vel
    return pos, vel


def _int_inputs(r, m):
    n = _n(m, 40, 500_000)
    a = r.integers(-1000, 1000, n)
    b = r.integers(1, 13, n) * np.where(r.random(n) < 0.5, -1, 1)
    return a, b


def _mixed(r, m):
    n = _n(m, 30, 1_000_000)
    return (r.integers(-50, 50, n).astype(np.int32), r.integers(0, 256, n).astype(np.uint8),
            r.standard_normal(n).astype(np.float32), r.random(n) < 0.5)


def _interp(r, m):
    k, n = _n(m, (10, 30), (1000, 1_000_000))
    xp = np.sort(r.uniform(0, 10, k))
    return xp, r.standard_normal(k), r.uniform(xp[0], xp[-1], n)


def _upper(r, m):
    n = _n(m, 6, 400)
    U = np.triu(r.standard_normal((n, n))) + n * np.eye(n)
    return U, r.standard_normal(n)


def _einsum(r, m):
    b, n = _n(m, (3, 4), (2000, 16))
    return r.standard_normal((b, n, n)), r.standard_normal((b, n, n)), r.standard_normal((n, n))


def _fancy(r, m):
    n, k = _n(m, (8, 3), (1000, 300))
    return r.standard_normal((n, n)), r.choice(n, k, replace=False), r.choice(n, k, replace=False)


def _okc(r, m):
    n, j, k = _n(m, (4, 4, 5), (300, 40, 20000))
    return (r.standard_normal(n), r.standard_normal(n), r.standard_normal((j, j)), r.standard_normal((k, 3)),
            r.standard_normal((k, 3)))


def _stable(r, m):
    n = _n(m, 4, 60)
    A = r.standard_normal((n, n))
    return -(A @ A.T) / n - np.eye(n), r.standard_normal(n), 0.05, _n(m, 5, 200)


def _particles(r, m):
    n = _n(m, 10, 500_000)
    return Particles(r.standard_normal((n, 3)), r.standard_normal((n, 3)), 1.5), 0.01, _n(m, 5, 50)


KERNELS = [
    Kernel("append_then_array", append_then_array, lambda r, m: (r.standard_normal(_n(m, 40, 300_000)), 0.3),
           "loop", "lists"),
    Kernel("genexpr_dot", genexpr_dot,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), r.standard_normal(_n(m, 30, 300_000))),
           "loop", "generator expression", rtol=1e-8),
    Kernel("listcomp_row_norms", listcomp_row_norms, lambda r, m: (r.standard_normal(_n(m, (6, 5), (5000, 64))),),
           "loop", "list comprehension"),
    Kernel("any_all_checks", any_all_checks, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), -1.5, 3.0),
           "loop", "generator expression"),
    Kernel("min_with_key", min_with_key, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),),
           "loop", "builtins"),
    Kernel("closure_smoother", closure_smoother, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 0.2),
           "loop", "closures"),
    Kernel("lambda_to_helper", lambda_to_helper, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 0.7),
           "loop", "lambdas"),
    Kernel("keyword_defaults", keyword_defaults,
           lambda r, m: (r.standard_normal(_n(m, 32, 400_000)), r.standard_normal(5)), "array", "keywords"),
    Kernel("string_option", string_option,
           lambda r, m: (r.standard_normal(_n(m, (10, 3), (300_000, 3))), r.standard_normal(3), "linf"),
           "array", "string options"),
    Kernel("reduce_products", reduce_products,
           lambda r, m: ([r.uniform(0.5, 1.5, _n(m, 20, 300_000)) for _ in range(4)],), "array", "functools"),
    Kernel("fsum_list", fsum_list, lambda r, m: (r.standard_normal(_n(m, 30, 100_000)),), "loop", "math.fsum",
           rtol=1e-8,
           note='math.fsum is the `fsum` primitive (ops/fsum.py): CPython\'s exact partials, rounded once; '
                'the cuda backend refuses it'),
    Kernel("fib_swap", fib_swap, lambda r, m: (_n(m, 30, 1000),), "loop", "tuple swap"),
    Kernel("for_else_primes", for_else_primes, lambda r, m: (r.integers(0, _n(m, 200, 100_000), _n(m, 40, 20_000)),),
           "loop", "for else"),
    Kernel("while_else_search", while_else_search,
           lambda r, m: (np.sort(r.standard_normal(_n(m, 30, 300_000))), float(r.uniform(-1, 1))),
           "loop", "while else"),
    Kernel("nested_break_pair", nested_break_pair, lambda r, m: (r.standard_normal(_n(m, 30, 3000)), 3.5),
           "loop", "nested break"),
    Kernel("continue_filter", continue_filter,
           lambda r, m: (np.where(r.random(_n(m, 40, 300_000)) < 0.1, np.nan, r.standard_normal(_n(m, 40, 300_000))),
                         r.standard_normal(_n(m, 40, 300_000))), "loop", "continue"),
    Kernel("early_return_loop", early_return_loop, lambda r, m: (r.random(_n(m, 30, 300_000)), _n(m, 7.0, 1e5)),
           "loop", "early return"),
    Kernel("back_substitution", back_substitution, _upper, "loop", "reversed range", rtol=1e-8),
    Kernel("negative_step_suffix", negative_step_suffix, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),),
           "loop", "negative step"),
    Kernel("enumerate_zip", enumerate_zip,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), r.standard_normal(_n(m, 30, 300_000))),
           "loop", "enumerate zip", rtol=1e-8),
    Kernel("explicit_stack_sum", explicit_stack_sum, lambda r, m: (r.standard_normal(_n(m, 100, 300_000)), 8),
           "loop", "explicit stack", rtol=1e-8),
    Kernel("negative_floor_mod", negative_floor_mod, _int_inputs, "mixed", "integer division"),
    Kernel("mixed_dtypes", mixed_dtypes, _mixed, "array", "dtype promotion", rtol=1e-6),
    Kernel("u8_loop_clip", u8_loop_clip,
           lambda r, m: (r.integers(0, 256, _n(m, (6, 7), (1000, 1000))).astype(np.uint8), 1.37), "loop", "uint8"),
    Kernel("complex_phasors", complex_phasors,
           lambda r, m: (r.uniform(-np.pi, np.pi, _n(m, 30, 300_000)), r.random(_n(m, 30, 300_000))),
           "mixed", "complex", rtol=1e-8),
    Kernel("einsum_variety", einsum_variety, _einsum, "array", "einsum", rtol=1e-8),
    Kernel("searchsorted_interp", searchsorted_interp, _interp, "array", "searchsorted", rtol=1e-8),
    Kernel("add_at_histogram", add_at_histogram,
           lambda r, m: (r.integers(0, 16, _n(m, 50, 500_000)), r.standard_normal(_n(m, 50, 500_000)), 16),
           "array", "add.at", rtol=1e-8),
    Kernel("where_one_arg", where_one_arg, lambda r, m: (r.standard_normal(_n(m, 40, 300_000)), 0.8),
           "mixed", "where", rtol=1e-8),
    Kernel("fancy_submatrix", fancy_submatrix, _fancy, "array", "fancy indexing"),
    Kernel("sliding_windows", sliding_windows, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 5),
           "array", "sliding window", rtol=1e-8),
    Kernel("apply_along_axis_ptp", apply_along_axis_ptp, lambda r, m: (r.standard_normal(_n(m, (6, 5), (20_000, 16))),),
           "array", "apply_along_axis"),
    Kernel("pad_edge_laplacian", pad_edge_laplacian, lambda r, m: (r.standard_normal(_n(m, (6, 7), (1000, 1000))),),
           "array", "pad"),
    Kernel("outer_kron_cross", outer_kron_cross, _okc, "array", "outer kron cross"),
    Kernel("implicit_euler_solve", implicit_euler_solve, _stable, "mixed", "linear solve", rtol=1e-8),
    Kernel("default_rng_inside", default_rng_inside, lambda r, m: (_n(m, 50, 500_000), int(r.integers(0, 1000))),
           "array", "random", rtol=1e-8),
    Kernel("dataclass_step", dataclass_step, _particles, "mixed", "dataclass", rtol=1e-8),
]


# --- second batch: views, aliasing, containers built inside, iteration helpers ---------------

def row_view_update(X, s):
    """for row in X: row *= s writes through the view into X (an argument)."""
    for row in X:
        row *= s
        row[0] = row.sum()
    return X.mean()


def row_swap_pivot(A):
    """Partial pivoting with a fancy-index row swap A[[i, p]] = A[[p, i]], in a copy."""
    A = A.copy()
    n = A.shape[0]
    for i in range(n):
        p = i + int(np.argmax(np.abs(A[i:, i])))
        if p != i:
            A[[i, p]] = A[[p, i]]
        A[i + 1:] -= np.outer(A[i + 1:, i] / A[i, i], A[i])
    return A


def alias_then_inplace(x, y):
    """b = a is an alias: a later a += ... is seen through b."""
    a = x
    b = a
    a += y
    c = b * 2.0
    return c, b is a


def float32_scalar_accumulate(x):
    """A Python-float accumulator over float32 elements: NEP 50 makes it float32."""
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    t = x[0] * 0.5 + 1
    return s, t


def fnv_hash(codes):
    """FNV-1a over small integers with a 32-bit mask each step."""
    h = 2166136261
    for i in range(codes.shape[0]):
        h ^= int(codes[i])
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def dict_counts(labels, n):
    """Counting with a dict built inside the function."""
    counts = {}
    for i in range(labels.shape[0]):
        k = int(labels[i])
        counts[k] = counts.get(k, 0) + 1
    out = np.zeros(n, dtype=np.int64)
    for k, v in counts.items():
        out[k] = v
    return out


def list_of_lists_grid(n, m):
    """A 2-D Python list of lists filled in a loop (the beginner's matrix)."""
    grid = [[0.0] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            grid[i][j] = (i + 1) * 0.5 + j * j
    return np.array(grid)


def ndindex_loop(A):
    """for i, j in np.ndindex(A.shape)."""
    out = np.zeros_like(A)
    for i, j in np.ndindex(A.shape):
        out[i, j] = A[i, j] * (i - j)
    return out


def itertools_product_loop(A, B):
    """itertools.product over two ranges."""
    import itertools
    n, m = A.shape[0], B.shape[0]
    D = np.empty((n, m))
    for i, j in itertools.product(range(n), range(m)):
        D[i, j] = np.abs(A[i] - B[j]).sum()
    return D


def mask_assign_inplace(x, lo, hi):
    """Boolean-mask writes and mask += on a copy, chained comparisons in a loop."""
    y = x.copy()
    y[y < lo] = lo
    y[y > hi] += 1.0
    c = 0
    for i in range(x.shape[0]):
        if lo <= x[i] < hi:
            c += 1
    return y, c


def while_true_break(x, tol):
    """while True with a break: fixed-point iteration of cos."""
    y = x.copy()
    it = 0
    while True:
        y_new = np.cos(y)
        it += 1
        if np.max(np.abs(y_new - y)) < tol or it >= 200:
            y = y_new
            break
        y = y_new
    return y, it


def len_size_ndim(x, M):
    """len, .size, .ndim, .T and the Python ints they give."""
    n = len(x)
    acc = 0.0
    for i in range(n):
        acc += x[i] * (M.size - i) / M.ndim
    return acc, M.T @ x[:M.shape[0]], len(M)


def tolist_loop(x):
    """x.tolist(), then a Python loop over the list of floats."""
    vals = x.tolist()
    best = -math.inf
    total = 0.0
    for v in vals:
        total += v
        if v > best:
            best = v
    return total, best, float(x.max()), x.sum().item()


def return_dict(x):
    """A dict of results."""
    m = x.mean()
    return {"mean": m, "std": np.sqrt(((x - m) ** 2).mean()), "max": x.max()}


def nonlocal_counter(x, t):
    """A closure that counts calls with nonlocal."""
    count = 0

    def above(v):
        nonlocal count
        if v > t:
            count += 1
            return v
        return 0.0

    s = 0.0
    for i in range(x.shape[0]):
        s += above(x[i])
    return s, count


def python_round_floor(x):
    """round(), math.floor and math.ceil on scalars: Python ints, banker's rounding."""
    out = np.empty(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        out[i] = round(x[i]) + math.floor(x[i]) * 10 + math.ceil(x[i]) * 100
    return out, np.round(x, 2)


def sort_inplace_argument(x):
    """x.sort() on the argument, then np.unique with counts."""
    x.sort()
    vals, counts = np.unique(np.floor(x), return_counts=True)
    return vals, counts


def fill_diagonal_tri(A):
    """np.fill_diagonal and triu_indices writes on a copy."""
    B = A.copy()
    np.fill_diagonal(B, 0.0)
    iu = np.triu_indices(B.shape[0], 1)
    B[iu] = -B[iu]
    return B, B[np.tril_indices(B.shape[0])].sum()


def ufunc_accumulate(x):
    """np.maximum.accumulate, np.minimum.reduce, np.logical_and.reduce."""
    return np.maximum.accumulate(x), np.minimum.reduce(x), np.logical_and.reduce(x > -3.0)


def vectorize_scalar_fn(x):
    """np.vectorize over a scalar Python function with a branch."""
    def f(v):
        if v > 0:
            return v * v
        return -v

    return np.vectorize(f)(x)


def zip_star_unpack(pts):
    """zip(*pairs) to split a list of tuples."""
    pairs = [(pts[i, 0], pts[i, 1]) for i in range(pts.shape[0])]
    xs, ys = zip(*pairs)
    return np.array(xs) - np.array(ys)


def ellipsis_einsum_matmul_update(A, x):
    """einsum with ellipsis and @= in a loop."""
    y = np.einsum("...ij,...j->...i", A, x)
    M = np.eye(A.shape[-1])
    for k in range(A.shape[0]):
        M @= A[k]
        M /= np.abs(M).max()
    return y, M


def try_except_zero(x, y):
    """try/except ZeroDivisionError on Python floats."""
    out = 0.0
    for i in range(x.shape[0]):
        try:
            out += float(x[i]) / float(y[i])
        except ZeroDivisionError:
            out += 1.0
    return out


def float_modulo_negative(x):
    """% and // of negative floats, Python scalars and arrays."""
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] % 1.5 - x[i] // 0.7
    return s, np.mod(x, -2.0), np.fmod(x, 2.0), -7.5 % 2


def _ab(r, m):
    n, k = _n(m, (5, 3), (300, 8))
    return r.standard_normal((n, k)), r.standard_normal((_n(m, 4, 200), k))


def _ax(r, m):
    b, n = _n(m, (4, 3), (50, 8))
    return r.standard_normal((b, n, n)), r.standard_normal((b, n))


def _xy_zero(r, m):
    n = _n(m, 30, 100_000)
    y = r.integers(-3, 4, n).astype(np.float64)
    return r.standard_normal(n), y


KERNELS += [
    Kernel("row_view_update", row_view_update, lambda r, m: (r.standard_normal(_n(m, (6, 4), (100_000, 8))), 1.5),
           "loop", "views"),
    Kernel("row_swap_pivot", row_swap_pivot, lambda r, m: (r.standard_normal(_n(m, (5, 5), (300, 300))),),
           "mixed", "fancy swap", rtol=1e-8,
           note='np.outer of A[i + 1:, i], a slice whose length is traced (bench size: 300 rows, not unrolled), is '
                'a selection with a unit axis put in (tracer/masked.py ufunc_outer)'),
    Kernel("alias_then_inplace", alias_then_inplace,
           lambda r, m: (r.standard_normal(_n(m, 20, 500_000)), r.standard_normal(_n(m, 20, 500_000))),
           "array", "aliasing"),
    Kernel("float32_scalar_accumulate", float32_scalar_accumulate,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)).astype(np.float32),), "loop", "float32", rtol=1e-4),
    Kernel("fnv_hash", fnv_hash, lambda r, m: (r.integers(0, 256, _n(m, 30, 300_000)),), "loop", "integers"),
    Kernel("dict_counts", dict_counts, lambda r, m: (r.integers(0, 10, _n(m, 30, 300_000)), 10), "loop", "dicts",
           expect=error(),
           note='a dict keyed by traced values (hashing a run-time value); the hint says to count into an array or '
                'use np.bincount'),
    Kernel("list_of_lists_grid", list_of_lists_grid, lambda r, m: _n(m, (4, 5), (300, 300)), "loop", "lists",
           note='ok at the test size (a few rows: Python lists); at the bench size the comprehension of rows '
                '[[0.0] * m for _ in range(n)] is one stack traced once (row_lists.py) and grid[i][j] = v writes it'),
    Kernel("ndindex_loop", ndindex_loop, lambda r, m: (r.standard_normal(_n(m, (4, 5), (500, 500))),), "loop",
           "ndindex"),
    Kernel("itertools_product_loop", itertools_product_loop, _ab, "loop", "itertools"),
    Kernel("mask_assign_inplace", mask_assign_inplace,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), -0.5, 0.8), "mixed", "masks"),
    Kernel("while_true_break", while_true_break, lambda r, m: (r.standard_normal(_n(m, 10, 100_000)), 1e-10),
           "mixed", "while true", rtol=1e-8),
    Kernel("len_size_ndim", len_size_ndim,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), r.standard_normal(_n(m, (5, 3), (500, 40)))),
           "loop", "attributes", rtol=1e-8),
    Kernel("tolist_loop", tolist_loop, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),), "loop", "tolist",
           rtol=1e-8),
    Kernel("return_dict", return_dict, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),), "array", "dicts",
           rtol=1e-8),
    Kernel("nonlocal_counter", nonlocal_counter, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 0.5),
           "loop", "closures", rtol=1e-8),
    Kernel("python_round_floor", python_round_floor,
           lambda r, m: (np.round(r.uniform(-5, 5, _n(m, 40, 300_000)) * 2) / 2
                         + r.choice([0.0, 0.3], _n(m, 40, 300_000)),),
           "loop", "rounding"),
    Kernel("sort_inplace_argument", sort_inplace_argument, lambda r, m: (r.uniform(-5, 5, _n(m, 30, 300_000)),),
           "array", "sorting"),
    Kernel("fill_diagonal_tri", fill_diagonal_tri, lambda r, m: (r.standard_normal(_n(m, (5, 5), (1000, 1000))),),
           "array", "index helpers", rtol=1e-8),
    Kernel("ufunc_accumulate", ufunc_accumulate, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),),
           "array", "ufunc methods"),
    Kernel("vectorize_scalar_fn", vectorize_scalar_fn, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),),
           "array", "np.vectorize"),
    Kernel("zip_star_unpack", zip_star_unpack, lambda r, m: (r.standard_normal(_n(m, (10, 2), (50_000, 2))),),
           "loop", "zip star",
           note='a comprehension of tuples runs as Python up to runtime.COMP_UNROLL_LIMIT items, past it (the '
                'bench size, 50,000 rows) a loop traced once, and zip(*pairs) its columns (tracer/tuple_lists.py)'),
    Kernel("ellipsis_einsum_matmul_update", ellipsis_einsum_matmul_update, _ax, "mixed", "einsum", rtol=1e-8),
    Kernel("try_except_zero", try_except_zero, _xy_zero, "loop", "exceptions", rtol=1e-8,
           note='try: out += a / b, except ZeroDivisionError: the zero divisor picks the handler in a traced if '
                '(tracer/checks.py try_record); other try bodies that may raise what the except catches are refused'),
    Kernel("float_modulo_negative", float_modulo_negative,
           lambda r, m: (r.uniform(-10, 10, _n(m, 30, 300_000)),), "mixed", "float modulo", rtol=1e-8),
]


# --- third batch: growing arrays, builtins over arrays, generators, classes, queues ----------

def concat_growing(x, t):
    """The anti-pattern: np.append / np.concatenate to grow an array in a loop."""
    out = np.zeros(0)
    for i in range(x.shape[0]):
        if x[i] > t:
            out = np.append(out, x[i])
    kept = np.empty(0)
    for i in range(0, x.shape[0], 3):
        kept = np.concatenate([kept, x[i:i + 1] * 2.0])
    return out, kept


def vstack_rows(X):
    """Rows appended to a list, then np.vstack / np.stack."""
    rows = []
    for i in range(X.shape[0]):
        rows.append(X[i] / (1.0 + X[i] @ X[i]))
    return np.vstack(rows), np.stack(rows, axis=1)


def shrinking_while(x, factor):
    """x = x[mask] inside a while loop: the array shrinks every round."""
    rounds = 0
    while x.shape[0] > 2:
        x = x[x > x.mean() - factor * x.std()]
        x = x[1:]
        rounds += 1
    return rounds, x.sum()


def builtins_over_arrays(x, X):
    """sum/max/min/abs builtins on arrays (they iterate), range(len(x))."""
    total = sum(x)
    big = max(x)
    small = min(abs(x))
    col = sum(X)
    acc = 0.0
    for i in range(len(x)):
        acc += min(x[i], 0.5) * max(x[i], -0.5)
    return total, big, small, col, acc


def _pairs(n):
    for i in range(n - 1):
        yield i, i + 1


def user_generator(x):
    """A user-written generator function driving the loop."""
    s = 0.0
    for i, j in _pairs(x.shape[0]):
        s += (x[j] - x[i]) ** 2
    return s


class Poly:
    def __init__(self, coef):
        self.coef = coef

    def __call__(self, x):
        y = np.zeros_like(x)
        for c in self.coef:
            y = y * x + c
        return y

    def deriv_at(self, x):
        n = self.coef.shape[0]
        y = np.zeros_like(x)
        for k in range(n - 1):
            y = y * x + self.coef[k] * (n - 1 - k)
        return y


def callable_object(p, x):
    """A small class instance with __call__ and a method, passed in."""
    return p(x), p.deriv_at(x)


def uint8_wraparound(a, b):
    """uint8 + uint8 wraps (arrays); int8 negation; NumPy's own integer rules."""
    s = a + b
    d = a - b
    m = (a.astype(np.int8) * 3)
    acc = np.uint8(0)
    for i in range(a.shape[0]):
        acc = acc + a[i]
    return s, d, m, acc


def int32_sums(v):
    """int32 reductions (sum promotes to int64), cumsum, dtype=int zeros."""
    out = np.zeros(v.shape[0], dtype=int)
    for i in range(v.shape[0]):
        out[i] = v[i] * 2
    return v.sum(), np.cumsum(v), v.max() - v.min(), out, v.astype(float).mean()


def bit_tricks(v):
    """Shifts, masks and a popcount loop on integers."""
    pop = np.zeros(v.shape[0], dtype=np.int64)
    for i in range(v.shape[0]):
        x = int(v[i])
        c = 0
        while x:
            x &= x - 1
            c += 1
        pop[i] = c
    return pop, (v >> 3) ^ (v << 2), v & 0xF0


def modpow_loop(bases, e, mod):
    """pow(a, e, mod) per element, and the square-and-multiply loop by hand."""
    out = np.empty(bases.shape[0], dtype=np.int64)
    out2 = np.empty(bases.shape[0], dtype=np.int64)
    for i in range(bases.shape[0]):
        out[i] = pow(int(bases[i]), e, mod)
        r, b, k = 1, int(bases[i]) % mod, e
        while k > 0:
            if k & 1:
                r = r * b % mod
            b = b * b % mod
            k >>= 1
        out2[i] = r
    return out, out2


def keyword_only_varargs(*arrays, scale=1.0, center=True):
    """*args and keyword-only defaults."""
    total = np.zeros_like(arrays[0])
    for a in arrays:
        total += a
    if center:
        total -= total.mean()
    return total * scale


_WEIGHTS = np.array([0.25, 0.5, 0.25])


def module_constant(x):
    """A module-level constant array read inside the loop."""
    out = np.zeros(x.shape[0] - 2)
    for i in range(1, x.shape[0] - 1):
        out[i - 1] = _WEIGHTS[0] * x[i - 1] + _WEIGHTS[1] * x[i] + _WEIGHTS[2] * x[i + 1]
    return out


def mutate_only(out, x):
    """Returns nothing: writes into the argument and falls off the end."""
    for i in range(x.shape[0]):
        out[i] += x[i] ** 2
    out[:] = np.sqrt(out)


def top_k_loop(x, k):
    """Iterative top-k: argmax, record, knock out."""
    y = x.copy()
    idx = []
    for _ in range(k):
        j = np.argmax(y)
        idx.append(j)
        y[j] = -np.inf
    return np.array(idx), np.argsort(x)[::-1][:k]


def nan_aware_loop(x):
    """NaN checks in a loop vs np.nanmean, float('nan') sentinels."""
    best = float("nan")
    s, c = 0.0, 0
    for i in range(x.shape[0]):
        v = x[i]
        if np.isnan(v):
            continue
        if math.isnan(best) or v > best:
            best = v
        s += v
        c += 1
    return best, s / c, np.nanmean(x), np.nanmax(x)


def walrus_while(x, tol):
    """The walrus operator in a while condition."""
    k = 0
    step = 1.0
    while (step := step * 0.5) > tol:
        k += 1
        x = x + step * np.sin(x)
    return k, x


def match_case_option(x, kind):
    """A match/case statement on a string option."""
    match kind:
        case "relu":
            return np.maximum(x, 0.0)
        case "tanh":
            return np.tanh(x)
        case _:
            return 1.0 / (1.0 + np.exp(-x))


def lambda_default_capture(x):
    """Lambdas made in a loop capture with a default argument; map over them."""
    fs = [lambda v, c=c: v * c + c for c in (1.0, 2.0, 3.0)]
    return [f(x) for f in fs], list(map(lambda v: v * 2.0, [x[0], x[1]]))


def sorted_key_order(x):
    """sorted(range(n), key=...) as an argsort, sorted() of a list and of an array."""
    n = x.shape[0]
    order = sorted(range(n), key=lambda i: x[i])
    vals = sorted(x.tolist(), reverse=True)
    return np.array(order), vals[0] - vals[-1], np.array(sorted(x))[n // 2]


def bisect_sorted_list(x, t):
    """bisect on a sorted list of the values."""
    import bisect
    vals = sorted(x.tolist())
    return bisect.bisect_left(vals, t), bisect.bisect_right(vals, t)


def deque_bfs(adj, start):
    """Breadth-first search with collections.deque on a dense adjacency matrix."""
    from collections import deque
    n = adj.shape[0]
    dist = np.full(n, -1, dtype=np.int64)
    dist[start] = 0
    q = deque([start])
    while q:
        u = q.popleft()
        for v in range(n):
            if adj[u, v] and dist[v] < 0:
                dist[v] = dist[u] + 1
                q.append(v)
    return dist


def histogram_digitize(x, n_bins):
    """np.histogram, np.digitize, np.interp, np.percentile, np.median together."""
    counts, edges = np.histogram(x, bins=n_bins)
    which = np.digitize(x, edges[1:-1])
    return counts, which, np.interp(x, edges, np.linspace(0.0, 1.0, n_bins + 1)), \
        np.percentile(x, [10, 50, 90]), np.median(x)


def linalg_in_loop(As):
    """inv, det, matrix_power and eigh per matrix, in a loop."""
    n = As.shape[0]
    dets = np.empty(n)
    tr = np.empty(n)
    top = np.empty(n)
    for k in range(n):
        A = As[k]
        dets[k] = np.linalg.det(A)
        tr[k] = np.trace(np.linalg.inv(A) @ np.linalg.matrix_power(A, 3))
        w = np.linalg.eigh(A + A.T)[0]
        top[k] = w[-1]
    return dets, tr, top


def runtime_raise(x, limit):
    """A data-dependent raise with an f-string; assert on shapes."""
    assert x.ndim == 1, "x must be 1-D"
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        if s > limit:
            raise ValueError(f"sum exceeded the limit at {i}")
    return s


def _adj(r, m):
    n = _n(m, 12, 400)
    A = r.random((n, n)) < 3.0 / n
    return A | A.T, 0


def _spd_stack(r, m):
    b, n = _n(m, (3, 4), (2000, 6))
    return (r.standard_normal((b, n, n)) + n * np.eye(n),)


KERNELS += [
    Kernel("concat_growing", concat_growing, lambda r, m: (r.standard_normal(_n(m, 30, 3000)), 0.5), "loop",
           "growing arrays",
           note='a loop using `out` only in out = np.append(out, v) / np.concatenate([out, x[i:i + 1]]) appends '
                'the items to a list and concatenates after the loop, traced once (tracer/grown_arrays.py)'),
    Kernel("vstack_rows", vstack_rows, lambda r, m: (r.standard_normal(_n(m, (6, 3), (20_000, 8))),), "loop",
           "lists", rtol=1e-8),
    Kernel("shrinking_while", shrinking_while, lambda r, m: (r.standard_normal(_n(m, 40, 300_000)), 1.0),
           "mixed", "shrinking arrays", rtol=1e-8,
           expect=error(),
           note='x = x[mask] in a while loop: an array whose length changes at run time (static shapes)'),
    Kernel("builtins_over_arrays", builtins_over_arrays,
           lambda r, m: (r.standard_normal(_n(m, 30, 30_000)), r.standard_normal(_n(m, (4, 3), (3000, 5)))),
           "loop", "builtins", rtol=1e-8),
    Kernel("user_generator", user_generator, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),), "loop",
           "generators", rtol=1e-8,
           note='the generator\'s one loop, yielding once per iteration, is the consumer\'s loop, traced once '
                '(tracer/generators.py)'),
    Kernel("callable_object", callable_object,
           lambda r, m: (Poly(r.standard_normal(6)), r.uniform(-1, 1, _n(m, 30, 1_000_000))), "mixed", "classes",
           rtol=1e-8),
    Kernel("uint8_wraparound", uint8_wraparound,
           lambda r, m: (r.integers(0, 256, _n(m, 30, 300_000)).astype(np.uint8),
                         r.integers(0, 256, _n(m, 30, 300_000)).astype(np.uint8)), "mixed", "uint8"),
    Kernel("int32_sums", int32_sums, lambda r, m: (r.integers(-10**6, 10**6, _n(m, 30, 300_000)).astype(np.int32),),
           "mixed", "int32", rtol=1e-8),
    Kernel("bit_tricks", bit_tricks, lambda r, m: (r.integers(0, 2**20, _n(m, 30, 100_000)),), "loop", "bits"),
    Kernel("modpow_loop", modpow_loop, lambda r, m: (r.integers(2, 10**6, _n(m, 20, 50_000)), 65537, 1_000_003),
           "loop", "modular arithmetic"),
    Kernel("keyword_only_varargs", keyword_only_varargs,
           lambda r, m: tuple(r.standard_normal(_n(m, 20, 500_000)) for _ in range(3)), "array", "varargs"),
    Kernel("module_constant", module_constant, lambda r, m: (r.standard_normal(_n(m, 30, 500_000)),), "loop",
           "globals"),
    Kernel("mutate_only", mutate_only,
           lambda r, m: (r.random(_n(m, 30, 500_000)), r.standard_normal(_n(m, 30, 500_000))), "loop",
           "in-place"),
    Kernel("top_k_loop", top_k_loop, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 5), "mixed", "top-k"),
    Kernel("nan_aware_loop", nan_aware_loop,
           lambda r, m: (np.where(r.random(_n(m, 40, 300_000)) < 0.2, np.nan, r.standard_normal(_n(m, 40, 300_000))),),
           "loop", "nan", rtol=1e-8),
    Kernel("walrus_while", walrus_while, lambda r, m: (r.standard_normal(_n(m, 10, 300_000)), 1e-6), "mixed",
           "walrus", rtol=1e-8),
    Kernel("match_case_option", match_case_option, lambda r, m: (r.standard_normal(_n(m, 30, 500_000)), "tanh"),
           "array", "match"),
    Kernel("lambda_default_capture", lambda_default_capture, lambda r, m: (r.standard_normal(_n(m, 10, 500_000)),),
           "array", "lambdas"),
    Kernel("sorted_key_order", sorted_key_order, lambda r, m: (r.standard_normal(_n(m, 30, 30_000)),), "loop",
           "sorted"),
    Kernel("bisect_sorted_list", bisect_sorted_list, lambda r, m: (r.standard_normal(_n(m, 30, 30_000)), 0.1),
           "loop", "bisect",
           note="bisect's own loop, traced once (tracer/pybisect.py): its answer on any list, sorted or not"),
    Kernel("deque_bfs", deque_bfs, _adj, "loop", "queues"),
    Kernel("histogram_digitize", histogram_digitize, lambda r, m: (r.standard_normal(_n(m, 50, 500_000)), 8),
           "array", "histogram", rtol=1e-8),
    Kernel("linalg_in_loop", linalg_in_loop, _spd_stack, "mixed", "linear algebra", rtol=1e-7),
    Kernel("runtime_raise", runtime_raise, lambda r, m: (r.random(_n(m, 30, 300_000)), 1e9), "loop", "raise"),
]
