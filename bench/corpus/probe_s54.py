"""A probe for wrong answers, second round (session 54): kernels written the
way scientists write them, aimed at semantics probe_s53 did not cover.
Fancy indexing (`x[idx] += v` applies once per distinct index, np.add.at
every time; negative indices read from arrays; `x[i1][i2] = v` writes to a
copy; `x[:, idx]`, np.ix_, take/put/choose); views (writes through `.T`,
reshape, ravel (a view or a copy by layout), flatten (a copy), asarray,
`.real`/`.imag`, stepped slices, 0-d arrays); argument layouts (Fortran
order, stepped and reversed views, read-only, empty and length-1 axes,
narrow, bool and complex dtypes, lists, tuples, NumPy scalars); result
dtypes (mean of float32, sum and prod of int8, integer dot, np.sign of NaN
and -0.0, clip with lo > hi, round with negative decimals, NEP 50 with NumPy
scalars); aliasing between arguments (`f(x, x)`, `f(x[1:], x[:-1])`,
`f(x, x[::-1])`, `np.add(x, y, out=x)` with overlap); loops (traced
negative steps, triangular nests, a while loop that moves its own bound,
reversed, enumerate with start, zip of unequal lengths, the loop variable of
a zero-trip loop); carries of mixed and changing types; np.linalg on small
and ill-conditioned inputs; sorts, searchsorted, interp and unique.

`make` builds fresh arguments each call, so `fresh_args` (below) can run the
plain and the jitted function on arguments with the same layouts, flags and
aliasing (a deep copy makes every array a fresh C-or-F-contiguous writable one,
and loses the aliasing between views of one buffer).
"""
import numpy as np

from . import Kernel, error


def _n(m, test, bench):
    return test if m == "test" else bench


# --- fancy indexing ------------------------------------------------------------------------

def repeated_index_add(x, idx, v):
    """x[idx] += v with repeated indices: NumPy applies it once per distinct index (the last v wins)."""
    x[idx] += v
    y = np.zeros(x.shape[0])
    y[idx] = y[idx] + 1.0
    return x.copy(), y


def add_at_versus_fancy(n, idx, v):
    """np.add.at accumulates every repeat; the fancy += does not; np.bincount agrees with add.at."""
    a = np.zeros(n)
    np.add.at(a, idx, v)
    b = np.zeros(n)
    b[idx] += v
    c = np.bincount(idx, weights=v, minlength=n)
    return a, b, c


def negative_index_array(x, idx):
    """Gathers and scatters with negative indices read from an int array."""
    g = x[idx]
    y = x.copy()
    y[idx] = -1.0
    s = 0.0
    for k in range(idx.shape[0]):
        s += x[idx[k]] * (k + 1)
    return g, y, s


def chained_fancy_write(x, idx1, idx2):
    """x[idx1][idx2] = v writes into a copy (no effect); x[2:6][1] = v writes through a view."""
    x[idx1][idx2] = 100.0
    x[idx1][:] = 0.0
    x[2:6][1] = -7.0
    x[2:6][idx2 % 4] = 3.0
    return x.sum()


def column_fancy(X, idx, jdx):
    """X[:, idx], X[idx, :][:, jdx], X[idx][:, jdx], X[np.ix_(idx, jdx)] and X[idx, jdx] (pairs)."""
    return X[:, idx], X[idx, :][:, jdx], X[idx][:, jdx], X[np.ix_(idx, jdx)], X[idx, jdx[:idx.shape[0]]]


def fancy_column_write(X, idx, jdx, v):
    """X[idx, 1] = v, X[:, jdx] *= 2 (repeats: once), X[np.ix_(idx, jdx)] = 0 block write."""
    X[idx, 1] = v
    X[:, jdx] *= 2.0
    X[np.ix_(idx[:2], jdx[:2])] = 0.0
    return X.sum(axis=0)


def take_put_choose(x, idx, c, v):
    """np.take (clip, wrap modes), np.put with repeats (the last wins) and np.choose."""
    t1 = np.take(x, idx % x.shape[0])
    t2 = np.take(x, idx, mode="wrap")
    t3 = np.take(x, idx, mode="clip")
    y = x.copy()
    np.put(y, idx % x.shape[0], v)
    ch = np.choose(c, (x[:c.shape[0]], -x[:c.shape[0]], x[:c.shape[0]] * 10.0))
    return t1, t2, t3, y, ch


def take_along_rows(X, idx):
    """np.take along axis 1 and np.take_along_axis with an argsort (row-wise order)."""
    order = np.argsort(X, axis=1, kind="stable")
    return np.take(X, idx, axis=1), np.take_along_axis(X, order, axis=1), np.take(X, idx, axis=0, mode="wrap")


def mask_assignments(x, y, t):
    """x[mask] = y[mask], x[x > t] *= 2 (mask taken before), where the mask is built from x."""
    m = x < -t
    x[m] = y[m]
    x[x > t] *= 2.0
    z = y.copy()
    z[z < 0] = z[z < 0] ** 2
    return x.copy(), z, m.sum()


def row_mask_2d(X, t):
    """A 1-D mask over the rows of a 2-D array, a 2-D mask (gives 1-D), and a mask over columns."""
    rm = X[:, 0] > t
    cm = X[0, :] < t
    full = X > t
    return X[rm], X[full], X[:, cm], X[rm][:, cm], np.count_nonzero(full, axis=0)


def nonzero_gather(x, t):
    """Indices from np.nonzero, np.flatnonzero and np.argwhere used to gather and to scatter."""
    i = np.nonzero(x > t)[0]
    j = np.flatnonzero(x < -t)
    w = np.argwhere(x > 0)[:, 0]
    y = np.zeros_like(x)
    y[i] = x[i]
    y[j] = -1.0
    return i, j, w, y, x[w].sum()


def python_list_index(x):
    """x[[0, 2, -1]] with a Python list, x[[True, False, ...]] is NOT a mask of ints, and x[(1,)]."""
    a = x[[0, 2, -1]]
    x[[1, 1, 3]] = np.array([5.0, 6.0, 7.0])
    return a, x[(1,)], x.copy()


def argsort_stable_gather(x, keys):
    """A stable argsort of keys with ties, then x reordered: ties keep their input order."""
    o = np.argsort(keys, kind="stable")
    od = np.argsort(-keys, kind="stable")
    return o, x[o], od, keys[o]


def gather_scatter_loop(x, idx):
    """out[idx[i]] = x[i] in a loop, later writers win; then a gather through the same map."""
    out = np.zeros(x.shape[0])
    cnt = np.zeros(x.shape[0], dtype=np.int64)
    for i in range(idx.shape[0]):
        out[idx[i]] = x[i]
        cnt[idx[i]] += 1
    back = np.empty(idx.shape[0])
    for i in range(idx.shape[0]):
        back[i] = out[idx[i]]
    return out, cnt, back


# --- views ---------------------------------------------------------------------------------

def write_through_transpose(X):
    """T = X.T; writes to T's rows are writes to X's columns; T @ X sees them."""
    T = X.T
    T[0, :] = 1.0
    T[:, -1] *= 3.0
    return X.copy(), T @ X


def reshape_view_write(x):
    """A reshape of a contiguous array is a view: writes through it change x."""
    r = x.reshape(3, -1)
    r[1] = 0.0
    r[:, 0] += 5.0
    return x.copy(), r.sum(axis=1)


def ravel_view_or_copy(X):
    """X.ravel() is a view of a C array (writes hit X); X.T.ravel() is a copy (writes do not)."""
    a = X.ravel()
    a[0] = -1.0
    b = X.T.ravel()
    b[1] = -2.0
    c = X[:, ::2].ravel()
    c[:] = 0.0
    return X.copy(), a[:3].copy(), b[:3].copy()


def flatten_is_copy(X):
    """X.flatten() is always a copy; X.reshape(-1) of a C array is a view."""
    f = X.flatten()
    f[:] = 0.0
    r = X.reshape(-1)
    r[-1] = 9.0
    return X.sum(), f.sum()


def asarray_aliases(x):
    """np.asarray(x) is x itself (writes hit x); np.array(x) and x.copy() are copies."""
    a = np.asarray(x)
    a[0] = 1.0
    b = np.array(x)
    b[1] = 2.0
    c = np.asarray(x, dtype=np.float64)
    c[2] = 3.0
    d = np.ascontiguousarray(x)
    d[3] = 4.0
    return x.copy(), b[:4].copy()


def broadcast_view_reads(x, X):
    """np.broadcast_to (read-only) used in arithmetic and reductions; np.broadcast_arrays."""
    b = np.broadcast_to(x, X.shape)
    p, q = np.broadcast_arrays(x[None, :], X[:, :1])
    return (b * X).sum(axis=0), b.sum(), p + q, b.shape


def stepped_slice_writes(x, y):
    """x[::2] = ..., x[1::3] *= -1, x[::-1][:3] = 0 (the last three), x[-2::-2] += 1."""
    x[::2] = y[:(x.shape[0] + 1) // 2]
    x[1::3] *= -1.0
    x[::-1][:3] = 0.0
    x[-2::-2] += 1.0
    return x.sum()


def zero_d_arrays(x):
    """0-d arrays: a = np.array(0.0); a += ... stays a 0-d array; a[()] and a.item(); x[0, ...]."""
    a = np.array(0.0)
    for i in range(x.shape[0]):
        a += x[i]
    b = np.zeros(())
    b[...] = x[1]
    c = x[0, ...]
    return a, a[()], float(a), b, c.ndim, a.item() + 1.0


def real_imag_views(z):
    """z.real and z.imag of a complex array are writable views; z.imag *= -1 conjugates z."""
    z.imag *= -1.0
    r = z.real
    r[0] = 10.0
    z.real[1:3] = 0.0
    return z.copy(), np.abs(z), z.conj().imag


def swapaxes_views(A):
    """np.swapaxes / np.moveaxis / [..., 0] / [None] are views; writes through them change A."""
    s = np.swapaxes(A, 0, 2)
    s[0] = 0.0
    m = np.moveaxis(A, -1, 0)
    m[1] += 1.0
    A[..., 2] *= 2.0
    e = A[None]
    e[0, 0, 0, 0] = 42.0
    return A.copy(), s.shape, m.shape


def fill_diagonal_copyto(A, B):
    """np.fill_diagonal writes in place; np.copyto with where; A.diagonal() is a (read-only) view."""
    np.fill_diagonal(A, -1.0)
    np.copyto(A, B, where=B > 0)
    d = A.diagonal()
    return A.copy(), d.copy(), np.trace(A, offset=1)


def view_recurrence(x):
    """v = x[1:]; v[i] = v[i-1] + x[i]: the view and x are one buffer (a shifted recurrence)."""
    v = x[1:]
    for i in range(1, v.shape[0]):
        v[i] = v[i - 1] * 0.5 + x[i]
    return x.copy()


# --- argument layouts ----------------------------------------------------------------------

def fortran_matvec(A, x):
    """A Fortran-ordered A in an explicit double loop and in A @ x and A.T @ y."""
    y = np.zeros(A.shape[0])
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            y[i] += A[i, j] * x[j]
    return y, A @ x, A.T @ y, A.ravel()[:5].copy()


def _fortran(r, m):
    A = np.asfortranarray(r.standard_normal(_n(m, (5, 4), (400, 300))))
    return A, r.standard_normal(A.shape[1])


def strided_argument_write(x, y):
    """x is a stepped view (x[::3] of a bigger buffer): writes must land at its stride."""
    for i in range(x.shape[0]):
        x[i] = x[i] * 2.0 + y[i]
    return x.sum()


def _strided(r, m):
    base = r.standard_normal(_n(m, 30, 300_000))
    x = base[::3]
    return x, r.standard_normal(x.shape[0])


def reversed_argument_scan(x):
    """x is a negative-stride view: a running sum over it, written back into it."""
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        x[i] = s
    return x.copy(), np.cumsum(x)


def _reversed(r, m):
    return (r.standard_normal(_n(m, 11, 200_001))[::-1],)


def readonly_argument(x, w):
    """x and w are read-only (setflags(write=False)): reading them, and computing new arrays, is fine."""
    y = x * w
    y[0] = -1.0
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * w[i]
    return y, s


def _readonly(r, m):
    x, w = r.standard_normal(_n(m, 9, 100_000)), r.standard_normal(_n(m, 9, 100_000))
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def empty_arguments(x, X):
    """0-length arrays: sums are 0, means NaN, loops run no trips, X of shape (0, 3) and (3, 0)."""
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    return s, x.sum(), np.mean(x), X.sum(axis=0), X.T @ X, x * 2.0, np.cumsum(X, axis=1)


def _empties(r, m):
    return np.empty(0), np.empty((0, 3))


def length_one_axes(R, C, x):
    """Shapes (1, n) and (n, 1): broadcasting to (n, n), squeeze, and a loop over the length-1 axis."""
    out = R * C
    s = np.zeros(R.shape[1])
    for i in range(R.shape[0]):
        s += R[i] * x[0]
    return out, R.squeeze(), C[:, 0], s, (R @ C), (C @ R).shape


def _len_one(r, m):
    n = _n(m, 5, 500)
    return r.standard_normal((1, n)), r.standard_normal((n, 1)), r.standard_normal(1)


def int32_loop_products(a, b):
    """int32 elements multiplied in a loop into an int32 output (wraps), and an int64 accumulator."""
    out = np.empty(a.shape[0], dtype=np.int32)
    t = np.int64(0)
    for i in range(a.shape[0]):
        out[i] = a[i] * b[i]
        t += np.int64(a[i]) * b[i]
    return out, t, a * b, (a * b).dtype == np.int32


def _i32(r, m):
    n = _n(m, 12, 100_000)
    return (r.integers(-2**31, 2**31 - 1, n).astype(np.int32), r.integers(-2**20, 2**20, n).astype(np.int32))


def uint8_image_ops(img, bg):
    """uint8 images: img - bg wraps, np.mean is float64, np.clip of an int difference, astype(int16)."""
    d = img - bg
    good = np.clip(img.astype(np.int16) - bg.astype(np.int16), 0, 255).astype(np.uint8)
    m = img.mean()
    h = np.zeros(256, dtype=np.int64)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            h[img[i, j]] += 1
    return d, good, m, h, img.max(), img // 3, img.sum(), img.sum(dtype=np.uint8)


def _uint8(r, m):
    s = _n(m, (6, 7), (500, 600))
    return r.integers(0, 256, s).astype(np.uint8), r.integers(0, 256, s).astype(np.uint8)


def bool_array_arithmetic(a, b):
    """bool arrays: a + b is OR, a * b is AND, a ^ b, ~a, a.sum() is int, a * 1.5 is float."""
    return a + b, a * b, a ^ b, ~a, a.sum(), np.sum(a * b), a * 1.5, a.astype(np.int8) - b, np.any(a & ~b)


def _bools(r, m):
    n = _n(m, 20, 100_000)
    return r.random(n) > 0.5, r.random(n) > 0.3


def complex_argument_loop(z, w):
    """complex128 arguments in a loop: abs, conj, products, and a complex accumulator."""
    acc = 0j
    out = np.empty(z.shape[0], dtype=np.complex128)
    for i in range(z.shape[0]):
        out[i] = z[i] * w[i].conjugate() + abs(z[i])
        acc += z[i] * z[i]
    return out, acc, np.vdot(z, w), z.real * w.imag, np.angle(z)


def _complex(r, m):
    n = _n(m, 10, 100_000)
    return (r.standard_normal(n) + 1j * r.standard_normal(n), r.standard_normal(n) + 1j * r.standard_normal(n))


def list_and_tuple_arguments(xs, shape, w):
    """A Python list of floats, a tuple of ints (a shape) and np.asarray of the list."""
    s = 0.0
    for v in xs:
        s += v * w
    a = np.asarray(xs)
    z = np.zeros(shape)
    z[0, :] = a[:shape[1]]
    return s, a * 2.0, z, len(xs), max(xs)


def _lists(r, m):
    n = _n(m, 8, 100)  # a loop over a Python list unrolls while tracing (UnrollWarning past 100)
    return [float(v) for v in r.standard_normal(n)], (3, 4), 0.5


def numpy_scalar_arguments(x, f32, f64, i8):
    """NEP 50: np.float32 scalar with a float64 array is float64; a float32 array with np.float64 is
    float64 (NumPy scalars are not weak), with a Python float stays float32; np.int8 scalars wrap."""
    y = x.astype(np.float32)
    return x * f32, y * f64, y * 2.5, y * f32, i8 + i8, i8 * np.int8(3), f32 + f32


def _np_scalars(r, m):
    return r.standard_normal(_n(m, 6, 100_000)), np.float32(1.5), np.float64(0.25), np.int8(100)


def big_python_int_argument(x, big):
    """A Python int past int64 used in Python arithmetic before it meets the array."""
    k = big % 1000
    return x * k, big // (2**60)


def _bigint(r, m):
    return r.standard_normal(_n(m, 5, 1000)), 2**70 + 123


# --- result dtypes -------------------------------------------------------------------------

def float32_statistics(x):
    """mean/var/std of float32 are float32; np.sum of float32 is float32; a loop sum in Python float."""
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    return x.mean(), x.var(), x.std(), x.sum(), s, np.median(x), x.mean(dtype=np.float64)


def int8_sum_prod(a):
    """np.sum and np.prod of int8 are int64; a.sum(dtype=np.int8) wraps; max stays int8."""
    return a.sum(), a.prod(), a.sum(dtype=np.int8), a.max(), np.cumprod(a[:5]), a.mean(), a.astype(np.int64).sum()


def integer_dot_matmul(A, B, x):
    """int64 dot and matmul (they wrap on overflow), np.dot of int vectors, int32 @ int32 stays int32."""
    return A @ B, np.dot(x, x), A.astype(np.int32) @ B.astype(np.int32), A @ (B * 2**40), np.inner(x, x)


def _int_mats(r, m):
    n = _n(m, 5, 200)
    return r.integers(-10**6, 10**6, (n, n)), r.integers(-10**6, 10**6, (n, n)), r.integers(-2**40, 2**40, n)


def sign_abs_edges(x, a):
    """np.sign of NaN is NaN, of -0.0 is 0; signbit tells the zeros apart; abs of int8 -128 is -128."""
    s = np.sign(x)
    return s, np.signbit(s), np.signbit(x), np.abs(a), np.sign(a), np.copysign(1.0, x), np.negative(a)


def _sign_edges(r, m):
    x = r.standard_normal(_n(m, 10, 100_000))
    x[:4] = [np.nan, -0.0, 0.0, -np.inf]
    a = r.integers(-128, 128, x.shape[0]).astype(np.int8)
    a[:2] = [-128, 0]
    return x, a


def clip_inverted_bounds(x, lo, hi):
    """np.clip with lo > hi gives hi everywhere (maximum then minimum); a loop doing the same by hand."""
    c = np.clip(x, lo, hi)
    d = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        d[i] = min(max(x[i], lo), hi)
    return c, d, np.clip(x, hi, lo), np.minimum(np.maximum(x, lo), hi)


def round_decimals(x, k):
    """np.round with decimals 2 and -1 (floats), of ints with -1 (ties to even: 25 -> 20), Python round."""
    r = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        r[i] = round(x[i] * 100.0, -1)
    return np.round(x, 2), np.round(x * 100.0, -1), np.round(k, -1), np.around(k, -2), r


def _round(r, m):
    n = _n(m, 12, 100_000)
    k = r.integers(-1000, 1000, n)
    k[:4] = [25, 35, -25, 150]
    return r.standard_normal(n) * 3.0, k


def floor_of_ints(k, x):
    """np.floor / ceil / trunc of int arrays (the dtype NumPy gives), and of floats; math-free loops."""
    return np.floor(k), np.ceil(k), np.trunc(k), np.floor(x), np.floor(x).astype(np.int64), np.rint(x)


def mixed_array_promotion(f32, i64, i32, i8, u8):
    """Array-array promotion: f32+i64 is f64, f32+i32 is f64, u8+i8 is i16, u8*f32 f32, i32 // i8 is i32."""
    return f32 + i64, f32 + i32, u8 + i8, u8 * f32, i32 // i8, f32 // f32, i8 / i8, u8 - i64


def float16_mixes(f16, i8, u8):
    """float16 with int8 and uint8 stays float16; float16 with int16 or int32 is float32."""
    return f16 + i8, f16 * u8, f16 + i8.astype(np.int16), f16.sum(), f16 * 2.5


def _promo(r, m):
    n = _n(m, 7, 100_000)
    return (r.standard_normal(n).astype(np.float32), r.integers(-100, 100, n),
            r.integers(-100, 100, n).astype(np.int32),
            r.integers(1, 100, n).astype(np.int8), r.integers(0, 255, n).astype(np.uint8))


def _f16(r, m):
    n = _n(m, 7, 100_000)
    return (r.standard_normal(n).astype(np.float16), r.integers(-100, 100, n).astype(np.int8),
            r.integers(0, 255, n).astype(np.uint8))


def where_maximum_dtypes(a, x):
    """np.where(c, int, float) is float; np.maximum(int, float) is float; np.where(c, a, 0) stays int."""
    c = x > 0
    return np.where(c, a, x), np.maximum(a, x), np.where(c, a, 0), np.where(c, 1, 0), np.where(c, 1.5, a)


def arange_linspace_lengths(a, b, h):
    """np.arange with a float step (its length), with a negative step, np.linspace endpoints and dtype."""
    t = np.arange(a, b, h)
    u = np.arange(b, a, -h)
    v = np.linspace(a, b, 7)
    w = np.linspace(a, b, 7, endpoint=False)
    k = np.arange(10, 0, -3)
    return t, u, v, w, k, np.linspace(0, 10, 5, dtype=np.int64)


# --- aliasing between arguments ------------------------------------------------------------

def axpy_in_place(y, x, a):
    """y += a * x; called with y and x the same array, it is y *= 1 + a."""
    for i in range(y.shape[0]):
        y[i] += a * x[i]
    return y.sum()


def _same_twice(r, m):
    x = r.standard_normal(_n(m, 9, 100_000))
    return x, x, 0.5


def write_reads_reversed(out, x):
    """out[i] = x[i] + 1 with out = x[::-1]: the second half reads what the first half wrote."""
    for i in range(out.shape[0]):
        out[i] = x[i] + 1.0
    return out.copy()


def _rev_alias(r, m):
    x = r.standard_normal(_n(m, 9, 100_001))
    return x[::-1], x


def shifted_argument_views(a, b):
    """Called with a = x[1:], b = x[:-1]: a[i] = 0.5 * b[i] + a[i] is a recurrence through x."""
    for i in range(a.shape[0]):
        a[i] = 0.5 * b[i] + a[i]
    return a.copy(), b.copy()


def _shift_alias(r, m):
    x = r.standard_normal(_n(m, 10, 100_000))
    return x[1:], x[:-1]


def ufunc_out_overlap(x, y):
    """np.add(x, y, out=x) with y = x[::-1]: NumPy buffers overlapping operands (as if y were a copy)."""
    np.add(x, y, out=x)
    np.multiply(x[1:], x[:-1], out=x[1:])
    return x.copy()


def _ufunc_alias(r, m):
    x = r.standard_normal(_n(m, 9, 100_001))
    return x, x[::-1]


def matmul_assign_self(A, B):
    """A[:] = A @ B with B the same array: the product is computed before the write."""
    A[:] = A @ B
    A += B.T
    return A.copy()


def _mat_twice(r, m):
    A = r.standard_normal(_n(m, (4, 4), (200, 200))) * 0.3
    return A, A


def swap_same_array(x, y):
    """swap(x, y) with y the same array as x: both end as the original (tmp holds a copy)."""
    tmp = x.copy()
    x[:] = y
    y[:] = tmp
    x[0] += 1.0
    return y[0], tmp[0]


def _swap_twice(r, m):
    x = r.standard_normal(_n(m, 6, 100_000))
    return x, x


# --- loops ---------------------------------------------------------------------------------

def traced_negative_step(x, step):
    """range(n - 1, -1, step) with step < 0 read from data; range(a, b, step) with a < b is empty."""
    s = 0.0
    cnt = 0
    for i in range(x.shape[0] - 1, -1, step):
        s += x[i] * (i + 1)
        cnt += 1
    for i in range(0, x.shape[0], step):
        cnt += 100
    return s, cnt


def _neg_step(r, m):
    return r.standard_normal(_n(m, 11, 100_001)), int(r.integers(-4, -1))


def triangular_nests(A):
    """Inner ranges that depend on the outer index: j < i, j from i by 2, and k in range(i, j)."""
    n = A.shape[0]
    lower = 0.0
    odd = 0.0
    cnt = 0
    for i in range(n):
        for j in range(i):
            lower += A[i, j]
        for j in range(i, n, 2):
            odd += A[i, j] * j
            for k in range(i, j):
                cnt += 1
    return lower, odd, cnt


def while_moving_bound(x):
    """while i < n where the body lowers n when it sees a positive value, and skips when negative."""
    i = 0
    n = x.shape[0]
    s = 0.0
    while i < n:
        if x[i] > 0.5:
            n -= 1
        elif x[i] < -1.0:
            i += 2
            continue
        s += x[i]
        i += 1
    return s, i, n


def nested_while_early_return(X, t):
    """An early return from inside two nested while loops; the fallthrough return after both."""
    i = 0
    while i < X.shape[0]:
        j = 0
        while j < X.shape[1]:
            if X[i, j] > t:
                return i, j, X[i, j]
            j += 1 + i % 2
        i += 1
    return -1, -1, 0.0


def reversed_ranges(x):
    """reversed(range(n)), reversed(range(1, n, 3)) and range(n)[::-1] in accumulations."""
    a = np.empty(x.shape[0])
    s = 0.0
    for i in reversed(range(x.shape[0])):
        s = s * 0.5 + x[i]
        a[i] = s
    t = []
    for i in reversed(range(1, x.shape[0], 3)):
        t.append(i)
    u = 0
    for i in range(x.shape[0])[::-1]:
        u = (u * 3 + i) % 1000003
    return a, np.array(t), u


def enumerate_with_start(x, X):
    """enumerate(x, start=5), enumerate over rows of a 2-D array (rows are views), reversed enumerate."""
    s = 0.0
    for k, v in enumerate(x, start=5):
        s += k * v
    for r, row in enumerate(X):
        row[r % X.shape[1]] = -r
    t = 0.0
    for k, v in enumerate(x[::-1], 1):
        t += v / k
    return s, X.copy(), t


def zip_unequal_lengths(x, y):
    """zip stops at the shortest: zip(x, y[:3]), zip(range(n), x), and three sequences."""
    a = 0.0
    for u, v in zip(x, y[:3]):
        a += u * v
    b = 0.0
    for i, v in zip(range(2, 100), x):
        b += i * v
    c = 0
    for u, v, w in zip(x, y, range(x.shape[0] // 2)):
        c += w
    return a, b, c


def zero_trip_previous_value(x, n):
    """A loop that runs zero times leaves its variable at the value from before (or an earlier loop)."""
    i = -1
    for i in range(n):
        pass
    first = i
    for i in range(n, 0):
        pass
    v = 0.0
    for v in x[:n]:
        pass
    return first, i, v


def _zero_trip(r, m):
    return r.standard_normal(_n(m, 6, 1000)), 0


def rows_modified_in_loop(X, w):
    """for row in X: row *= w; row[0] = s: the rows are views, so X changes."""
    s = 0.0
    for row in X:
        row *= w
        s += row.sum()
        row[0] = s
    return X.copy(), s


def for_over_2d_columns(X):
    """for col in X.T (column views), col.sum() and writing one element through col."""
    out = []
    for col in X.T:
        out.append(col.sum())
        col[-1] = 0.0
    return np.array(out), X.copy()


def ranges_past_bounds(x, a, b):
    """range(a, b) with a > b (empty), a step longer than the length, and range(len(x) - 1, 0, -1)."""
    s = 0.0
    for i in range(a, b):
        s += x[i]
    for i in range(0, x.shape[0], 1000):
        s += x[i] * 2.0
    for i in range(x.shape[0] - 1, 0, -1):
        s = s * 0.99 + x[i - 1]
    return s


def break_else_counters(X, t):
    """Per row: for-else (no break) counts rows without a hit; continue skips negatives."""
    clean = 0
    hits = np.zeros(X.shape[0], dtype=np.int64)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] < 0:
                continue
            if X[i, j] > t:
                hits[i] = j
                break
        else:
            clean += 1
            hits[i] = -1
    return clean, hits


# --- recurrences and carries ---------------------------------------------------------------

def mixed_type_carries(x, t):
    """An int counter, a float accumulator, a bool flag and an int index carried together."""
    count = 0
    acc = 0.0
    seen = False
    last = -1
    for i in range(x.shape[0]):
        if x[i] > t:
            count += 1
            acc += x[i] * count
            seen = True
            last = i
        elif seen:
            acc -= 0.5
    return count, acc, seen, last


def int_becomes_float(x):
    """s = 0 then s += x[i]: an int that becomes a float after the first trip; s /= 2 too."""
    s = 0
    for i in range(x.shape[0]):
        s += x[i]
    k = 0
    for i in range(5):
        k += i
    k /= 2
    return s, k


def data_dependent_carry_type(x):
    """v = 1; v *= 2 or v *= 0.5 by the data: Python keeps an int until the first 0.5 (then float)."""
    v = 1
    for i in range(x.shape[0]):
        if x[i] > -0.5:
            v = v * 2
        else:
            v = v * 0.5
    return v


def tuple_carries(x):
    """(a, b) = (b, a + b) and a swapped pair of (float, int) tuples carried through a loop."""
    a, b = 0.0, 1.0
    p = (0.0, 0)
    for i in range(x.shape[0]):
        a, b = b, a * 0.5 + b * x[i]
        p = (p[0] + x[i], p[1] + 1) if x[i] > 0 else (p[0], p[1] - 1)
    return a, b, p


def bool_flag_toggles(x):
    """flag = not flag, flag ^= (x > 0), and a bool used as an int in a sum."""
    flag = False
    par = False
    total = 0
    for i in range(x.shape[0]):
        if x[i] > 1.0:
            flag = not flag
        par ^= x[i] > 0
        total += par + flag
    return flag, par, total


def numpy_scalar_carry(x):
    """s = np.float32(0); s += x[i] (float64) promotes s to float64; with np.float32(x[i]) it stays."""
    s = np.float32(0.0)
    t = np.float32(0.0)
    for i in range(x.shape[0]):
        s += x[i]
        t += np.float32(x[i])
    return s, t


def double_buffer_swap(u, k):
    """a, b = b, a double buffering with in-place writes into the next buffer; returns the latest."""
    a = u.copy()
    b = np.empty_like(u)
    for _ in range(k):
        b[0] = a[0]
        b[-1] = a[-1]
        for i in range(1, a.shape[0] - 1):
            b[i] = 0.25 * a[i - 1] + 0.5 * a[i] + 0.25 * a[i + 1]
        a, b = b, a
    return a, b[1:-1].copy()


# --- linalg, sorting, searching ------------------------------------------------------------

def small_solves(A, b, H):
    """np.linalg.solve on 1x1, 2x2 and an ill-conditioned Hilbert matrix, det and inv of them."""
    x1 = np.linalg.solve(A[:1, :1], b[:1])
    x2 = np.linalg.solve(A[:2, :2], b[:2])
    xh = np.linalg.solve(H, H @ np.ones(H.shape[0]))
    return x1, x2, np.linalg.det(A[:2, :2]), np.linalg.inv(A[:2, :2]), np.abs(xh - 1.0).max() < 1e-3


def _solves(r, m):
    n = 6
    H = 1.0 / (np.arange(n)[:, None] + np.arange(n)[None, :] + 1.0)
    return r.standard_normal((3, 3)) + 3.0 * np.eye(3), r.standard_normal(3), H


def singular_det_pinv(A):
    """det of a singular matrix (rank 2) is ~0; matrix_rank, pinv and lstsq on it."""
    S = A.copy()
    S[2] = S[0] + S[1]
    d = np.linalg.det(S)
    p = np.linalg.pinv(S)
    return abs(d) < 1e-9, np.linalg.matrix_rank(S), S @ p @ S, np.linalg.lstsq(S, S[:, 0], rcond=None)[0] @ S[0]


def axis0_cumsum_diff_sort(X):
    """cumsum, diff (n=2, prepend), sort and argsort along axis 0 of a 2-D array."""
    return (np.cumsum(X, axis=0), np.diff(X, axis=0), np.diff(X, n=2, axis=0), np.diff(X, axis=0, prepend=0.0),
            np.sort(X, axis=0), np.argsort(X, axis=0, kind="stable"), np.cumprod(X, axis=1))


def _ties_2d(r, m):
    return (r.integers(0, 4, _n(m, (7, 4), (3000, 40))).astype(np.float64),)


def searchsorted_sides(a, v):
    """searchsorted left and right with ties and values outside the range, and with a sorter."""
    s = np.sort(a)
    order = np.argsort(a, kind="stable")
    return (np.searchsorted(s, v), np.searchsorted(s, v, side="right"), np.searchsorted(a, v, sorter=order),
            np.digitize(v, s), np.digitize(v, s, right=True))


def _search(r, m):
    n = _n(m, 12, 100_000)
    a = r.integers(0, 6, n).astype(np.float64)
    v = np.concatenate([[-1.0, 0.0, 5.0, 9.0], r.integers(0, 6, n).astype(np.float64)])
    return a, v


def interp_edges(x, xp, fp):
    """np.interp at and past the ends (clamped), with left/right given, and at the knots themselves."""
    return (np.interp(x, xp, fp), np.interp(x, xp, fp, left=-1.0, right=2.0), np.interp(xp, xp, fp),
            np.interp(x[0], xp, fp))


def _interp(r, m):
    xp = np.cumsum(r.random(_n(m, 6, 1000)) + 0.1)
    inside = r.uniform(xp[0] - 0.5, xp[-1] + 0.5, _n(m, 8, 1000))
    x = np.concatenate([[xp[0] - 1.0, xp[0], xp[-1], xp[-1] + 1.0], inside])
    return x, xp, r.standard_normal(xp.shape[0])


def unique_counts_inverse(k):
    """np.unique of ints with return_index, return_inverse and return_counts; rebuild k from them."""
    u, first, inv, cnt = np.unique(k, return_index=True, return_inverse=True, return_counts=True)
    return u, first, inv, cnt, u[inv]


def matrix_norms(A, x):
    """np.linalg.norm: vector ord 1, inf, -inf, 0; matrix ord 1, inf, 'fro', 2; along an axis."""
    n = np.linalg.norm
    return (n(x, 1), n(x, np.inf), n(x, -np.inf), n(x, 0), n(A, 1), n(A, np.inf), n(A, "fro"), n(A, 2),
            n(A, axis=0), n(A, axis=1, ord=1))


def symmetric_eigen(A):
    """eigh of a symmetric matrix: eigenvalues ascending; the reconstruction V diag(w) V^T is A."""
    S = A + A.T
    w, V = np.linalg.eigh(S)
    return w, (V * w) @ V.T, np.linalg.eigvalsh(S), np.abs(V[:, 0] @ V[:, 0])


def cholesky_and_products(A, x):
    """cholesky of A A^T + I, np.outer, np.cross, np.kron and trace with an offset."""
    S = A @ A.T + np.eye(A.shape[0])
    L = np.linalg.cholesky(S)
    return L, np.outer(x, x[:3]), np.cross(x[:3], x[3:6]), np.kron(A[:2, :2], np.eye(2)), np.trace(A, offset=-1)


def percentile_methods(x):
    """percentile and quantile: linear (default), nearest, lower, higher, midpoint; along an axis."""
    return (np.percentile(x, 30), np.percentile(x, [10, 50, 90], method="nearest"),
            np.quantile(x, 0.25, method="lower"), np.quantile(x, 0.25, method="higher"),
            np.quantile(x, 0.25, method="midpoint"), np.median(x.reshape(2, -1), axis=1))


def sort_with_nan_loop(x):
    """np.sort puts NaN last; argmin ignores nothing (NaN wins); insertion sort by hand on the non-NaN."""
    s = np.sort(x)
    a = np.argsort(x, kind="stable")
    y = x[~np.isnan(x)].copy()
    for i in range(1, y.shape[0]):
        v = y[i]
        j = i - 1
        while j >= 0 and y[j] > v:
            y[j + 1] = y[j]
            j -= 1
        y[j + 1] = v
    return s, a, y, np.argmin(x), np.nanargmin(x)


def _nan_some(r, m):
    x = r.standard_normal(_n(m, 12, 3000))
    x[[2, 7]] = np.nan
    return (x,)


def histogram_edges(x, bins):
    """np.histogram: the last bin is closed; values equal to an edge; np.bincount with minlength."""
    h, e = np.histogram(x, bins=bins, range=(0.0, 1.0))
    k = np.floor(x * bins).astype(np.int64)
    k = np.minimum(k, bins - 1)
    return h, e, np.bincount(k, minlength=bins), np.histogram(x, bins=e)[0]


def _hist(r, m):
    x = r.random(_n(m, 20, 100_000))
    x[:3] = [0.0, 1.0, 0.5]
    return x, 4



# --- second batch: variants past the refusals, stores, sums in order, reductions ------------

def pairwise_fancy_2d(X, idx, jdx):
    """X[:, idx], X[idx, :][:, jdx] (a block), X[idx, jdx] (pairs) with negative indices, no np.ix_."""
    return X[:, idx], X[idx, :][:, jdx], X[idx][:, jdx], X[idx, jdx], X[-1, idx]


def pairwise_fancy_write(X, idx, jdx, v):
    """X[idx, 1] = v, X[:, jdx] *= 2 with a repeated column (once), X[idx, jdx] = 0 (pairs)."""
    X[idx, 1] = v
    X[:, jdx[:3]] *= 2.0
    X[idx, jdx] = 0.0
    return X.sum(axis=0)


def masked_reductions(x, t):
    """x[m].sum(), x[m].mean() and np.where(m, x, 0).sum() agree; a mask with no True gives 0 and NaN."""
    m = x > t
    none = x > 1e9
    return x[m].sum(), np.where(m, x, 0.0).sum(), x[none].sum(), np.count_nonzero(m), x[m].max()


def store_float_into_int(x, k):
    """Float results stored into int arrays truncate toward zero; int64 stored into int8 wraps."""
    out = np.empty(x.shape[0], dtype=np.int64)
    small = np.empty(x.shape[0], dtype=np.int8)
    f32 = np.empty(x.shape[0], dtype=np.float32)
    for i in range(x.shape[0]):
        out[i] = x[i] * 3.0
        f32[i] = x[i] / 3.0
    small[:] = (k * 3).astype(np.int8)
    k[0] = 2.9
    k[1] = -2.9
    return out, small, f32, k.copy()


def wraparound_neighbor(x):
    """y[i] = x[i] - x[i - 1] for i from 0: x[-1] (the last element) at i = 0, as Python reads it."""
    y = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        y[i] = x[i] - x[i - 1]
    z = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        z[i] = x[(i + 1) % x.shape[0]] + x[i - 2]
    return y, z, np.roll(x, -1) - x, np.roll(x, x.shape[0] + 2), np.roll(x, -3)


def negative_zero_slice(x, k):
    """x[-k:] with k = 0 is all of x (not empty); x[:-k] with k = 0 is empty; x[a:b] with a > b empty."""
    tail = x[-k:]
    head = x[:-k]
    mid = x[5:2]
    return tail.sum(), head.shape[0], mid.shape[0], tail.shape[0], x[-k - 1:].sum()


def traced_slice_bounds(x, a, b):
    """x[a:b], x[a:], x[:b] and x[b:a:-1] with bounds read from arguments (negative, past the end)."""
    return x[a:b].sum(), x[a:].copy(), x[:b].copy(), x[b:a:-1].copy(), x[a:b + 100].shape[0]


def builtin_sum_max_on_arrays(X, x):
    """sum(X) is X.sum(axis=0); max(x) is an element; sorted(x) is a list; len(X) is the rows."""
    return sum(X), max(x), min(x), sorted(x)[:3], len(X), sum(x[i] for i in range(len(x)))


def inplace_sort_views(x, X):
    """x.sort() sorts the argument; x[::-1].sort() sorts it descending; X.sort(axis=0) sorts columns."""
    y = x.copy()
    y.sort()
    x[::-1].sort()
    X.sort(axis=0)
    X[:, 0].sort()
    return y, x.copy(), X.copy()


def float_step_while(h):
    """t += h while t < 1.0: with h = 0.1 it runs 11 times (0.1 * 10 < 1.0 in binary)."""
    t = 0.0
    n = 0
    while t < 1.0:
        t += h
        n += 1
    return n, t


def chaotic_map_f64(x0, n):
    """The logistic map at r = 4 in float64: any contraction (fma) or reordering changes the orbit."""
    out = np.empty(n)
    x = x0
    for i in range(n):
        x = 4.0 * x * (1.0 - x)
        out[i] = x
    y = x0
    for i in range(n):
        y = 3.9 * y - 3.9 * y * y
    return out, y


def subtract_at_repeats(n, idx, v):
    """np.subtract.at with repeated and negative indices subtracts every repeat."""
    a = np.ones(n)
    np.subtract.at(a, idx, v)
    np.subtract.at(a, idx[::2], 1.0)
    return a


def ufunc_at_variants(n, idx, v):
    """np.maximum.at and np.multiply.at with repeated and negative indices."""
    a = np.zeros(n)
    np.add.at(a, idx, v)
    b = np.full(n, -np.inf)
    np.maximum.at(b, idx, v)
    c = np.ones(n)
    np.multiply.at(c, idx, 1.0 + 0.1 * v)
    return a, b, c


def ufunc_reduce_accumulate(x, X):
    """np.add.reduce, np.maximum.accumulate (running max), np.minimum.reduce over axis 0, np.multiply.outer."""
    return (np.add.reduce(x), np.maximum.accumulate(x), np.minimum.reduce(X, axis=0), np.multiply.outer(x[:3], x[:4]),
            np.add.accumulate(X, axis=1), np.logical_or.reduce(X > 1.0, axis=1))


def empty_reduction_identities(x, X):
    """all() of empty is True, any() False, prod 1.0, max with initial, min with where and initial."""
    e = x[:0]
    return (np.all(e > 0), np.any(e > 0), np.prod(e), np.max(e, initial=-np.inf), np.min(x, where=x > 0, initial=10.0),
            np.sum(X, axis=1, where=X > 0), X[:, :0].sum(axis=1))


def fills_and_likes(x, k):
    """np.full(n, 7) is int64, np.full(n, 7.0) float, zeros_like(k, dtype=float), empty_like then filled."""
    a = np.full(x.shape[0], 7)
    b = np.full(x.shape[0], 7.0)
    c = np.zeros_like(k, dtype=np.float64)
    d = np.empty_like(k)
    d.fill(3)
    e = np.ones(x.shape[0], dtype=bool)
    f = np.full_like(x, 2)
    return a, b, c + x, d, e, f, np.arange(x.shape[0]) // 2, np.arange(5, dtype=np.float32)


def flat_argmax_unravel(X):
    """X.argmax() without an axis is a flat index; np.unravel_index turns it into (row, col)."""
    f = X.argmax()
    r, c = np.unravel_index(f, X.shape)
    g = np.ravel_multi_index((np.array([0, 1]), np.array([2, 0])), X.shape)
    return f, r, c, X[r, c], g, np.argmin(X, axis=None)


def batched_solve_matmul(A, B, x):
    """solve with several right-hand sides, a stack of matmuls (3-D @ 3-D), x @ A and x @ x."""
    S = A + 4.0 * np.eye(A.shape[0])
    return (np.linalg.solve(S, B), np.stack([A, A.T]) @ np.stack([B, B]), x @ A, x @ x, np.matmul(A, x),
            np.einsum("ij,ij->i", A, A), np.einsum("ii", A), np.tensordot(A, B, axes=1))


def complex_branches(x):
    """sqrt and log of negatives: NaN for floats, the principal branch for complex; exp(1j x); z ** 0.5."""
    z = x.astype(np.complex128)
    return np.sqrt(x), np.sqrt(z), np.log(z), np.exp(1j * x), z ** 0.5, np.abs(z * 1e200)


def average_weights(X, w):
    """np.average with weights, np.mean of ints (float64), along axis 0 and over all."""
    k = np.floor(X * 10.0).astype(np.int64)
    return np.average(X, axis=0, weights=w), np.average(X[0], weights=X[1] ** 2), np.mean(k, axis=0), np.mean(k)


def pairwise_newaxis(x):
    """x[:, None] - x[None, :] pairwise differences; x.T of 1-D is x; np.newaxis in the middle."""
    D = x[:, None] - x[None, :]
    return D, x.T is x or x.T.shape == x.shape, np.abs(D).sum(axis=1), x[np.newaxis, :, np.newaxis].shape


def array_copy_false(x):
    """np.array(x, copy=False) is x itself in NumPy 2 (no copy needed): writes through it hit x."""
    a = np.array(x, copy=False)
    a[0] = 0.0
    b = np.array(x, copy=True)
    b[1] = 0.0
    return x.copy()


def prefix_with_early_exit(x, budget):
    """A running total that stops at the first index where it passes a budget; the rest stays 0."""
    out = np.zeros(x.shape[0])
    s = 0.0
    i = 0
    for i in range(x.shape[0]):
        s += abs(x[i])
        if s > budget:
            break
        out[i] = s
    return out, i, s


def int_counters_in_float_loop(x):
    """An int index used as a float (i * 0.5), float used as an index (int()), and int(x) floors toward zero."""
    acc = 0.0
    hist = np.zeros(5, dtype=np.int64)
    for i in range(x.shape[0]):
        acc += i * 0.5 * x[i]
        j = int(x[i] * 2.0)
        hist[j % 5] += 1
    return acc, hist


# --- third batch: what the loop classifier decides (reductions, scatters, hoisting) ----------

def argmax_loop_ties(k):
    """Hand-written argmax/argmin over ints with ties: `>` keeps the first, `>=` the last."""
    best, first = k[0], 0
    best2, last = k[0], 0
    lo, lo_last = k[0], 0
    for i in range(1, k.shape[0]):
        if k[i] > best:
            best, first = k[i], i
        if k[i] >= best2:
            best2, last = k[i], i
        if k[i] <= lo:
            lo, lo_last = k[i], i
    return best, first, best2, last, lo, lo_last


def scatter_max_loop(keys, v, n):
    """Per-group maximum and last value by a loop over data-dependent keys (a scatter-max, a scatter-set)."""
    mx = np.full(n, -np.inf)
    last = np.zeros(n)
    cnt = np.zeros(n, dtype=np.int64)
    for i in range(keys.shape[0]):
        g = keys[i]
        mx[g] = max(mx[g], v[i])
        last[g] = v[i]
        cnt[g] = cnt[g] + 1
    return mx, last, cnt


def scatter_reads_itself(c, k):
    """c[k[i]] += c[k[i - 1]]: each update reads an element an earlier update may have written."""
    for i in range(1, k.shape[0]):
        c[k[i]] += 0.5 * c[k[i - 1]]
    return c.copy()


def guarded_gather(x, idx):
    """s += x[idx[i]] only where idx[i] is in range: the read must not happen for the others."""
    s = 0.0
    hits = 0
    for i in range(idx.shape[0]):
        if idx[i] < x.shape[0]:
            s += x[idx[i]]
            hits += 1
    return s, hits


def _guarded(r, m):
    n = _n(m, 8, 10_000)
    return r.standard_normal(n), r.integers(0, 2 * n, _n(m, 12, 50_000))


def guarded_neighbor_read(x):
    """x[i + 1] read only when i + 1 < n, and x[i - 1] only when i > 0 (no wraparound)."""
    y = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        right = x[i + 1] if i + 1 < x.shape[0] else 0.0
        left = 0.0
        if i > 0:
            left = x[i - 1]
        y[i] = left - 2.0 * x[i] + right
    return y


def dependent_accumulators(x):
    """s += x[i]; t += s: t reads s, so s is not a plain reduction; u *= 1 + x[i] / 10 beside them."""
    s = 0.0
    t = 0.0
    u = 1.0
    for i in range(x.shape[0]):
        s += x[i]
        t += s
        u *= 1.0 + x[i] / 10.0
    return s, t, u


def conditional_mixed_update(x):
    """s = s + x[i] or s = s * 0.5 by the sign: not one associative operator, so a recurrence."""
    s = 0.0
    m = 0
    for i in range(x.shape[0]):
        if x[i] > 0:
            s = s + x[i]
        else:
            s = s * 0.5
        if x[i] > 1.0:
            m = m + 1
    return s, m


def guarded_int_conversion(x):
    """int(x[i]) only where x[i] is finite (int(nan) raises in Python); floor division by a guarded value."""
    total = 0
    q = 0.0
    for i in range(x.shape[0]):
        if np.isfinite(x[i]):
            total += int(x[i])
        if x[i] != 0.0 and np.isfinite(x[i]):
            q += 1.0 // x[i]
    return total, q


def _with_nonfinite(r, m):
    x = r.standard_normal(_n(m, 12, 100_000)) * 4.0
    x[[1, 4, 7]] = [np.nan, np.inf, 0.0]
    return (x,)

# --- the registry ---------------------------------------------------------------------------

KERNELS = [
    Kernel("repeated_index_add", repeated_index_add,
           lambda r, m: (r.standard_normal(_n(m, 8, 10_000)), r.integers(0, _n(m, 8, 10_000), _n(m, 12, 30_000)),
                         r.standard_normal(_n(m, 12, 30_000))), "array", "fancy repeats"),
    Kernel("add_at_versus_fancy", add_at_versus_fancy,
           lambda r, m: (_n(m, 6, 1000), r.integers(0, _n(m, 6, 1000), _n(m, 15, 100_000)),
                         r.standard_normal(_n(m, 15, 100_000))), "array", "fancy repeats"),
    Kernel("negative_index_array", negative_index_array,
           lambda r, m: (r.standard_normal(_n(m, 9, 10_000)),
                         r.integers(-_n(m, 9, 10_000), _n(m, 9, 10_000), _n(m, 7, 50_000))),
           "mixed", "negative indices"),
    Kernel("chained_fancy_write", chained_fancy_write,
           lambda r, m: (r.standard_normal(_n(m, 10, 1000)), r.integers(0, _n(m, 10, 1000), 4), r.integers(0, 4, 3)),
           "array", "fancy copies"),
    Kernel("column_fancy", column_fancy,
           lambda r, m: (r.standard_normal(_n(m, (6, 5), (500, 400))), r.integers(-5, 5, 3), r.integers(0, 5, 4)),
           "array", "fancy 2-D",
           expect=error(),
           note="np.ix_ of traced index arrays: a clear UnsupportedError (pairwise_fancy_2d is the same without it)"),
    Kernel("fancy_column_write", fancy_column_write,
           lambda r, m: (r.standard_normal(_n(m, (6, 5), (500, 400))), np.array([0, 3, -1, 3]), np.array([2, 2, 4]),
                         7.5),
           "array", "fancy 2-D",
           expect=error(),
           note="np.ix_ of traced index arrays: a clear UnsupportedError (pairwise_fancy_write: without it)"),
    Kernel("take_put_choose", take_put_choose,
           lambda r, m: (r.standard_normal(_n(m, 8, 10_000)), r.integers(-20, 20, _n(m, 10, 20_000)),
                         r.integers(0, 3, _n(m, 5, 5000)), r.standard_normal(_n(m, 10, 20_000))), "array", "take/put"),
    Kernel("take_along_rows", take_along_rows,
           lambda r, m: (r.integers(0, 3, _n(m, (4, 6), (300, 200))).astype(np.float64), np.array([5, 0, -1, 2])),
           "array", "take/put"),
    Kernel("mask_assignments", mask_assignments,
           lambda r, m: (r.standard_normal(_n(m, 12, 100_000)), r.standard_normal(_n(m, 12, 100_000)), 0.5),
           "array", "masks"),
    Kernel("row_mask_2d", row_mask_2d, lambda r, m: (r.standard_normal(_n(m, (7, 5), (500, 300))), 0.1), "array",
           "masks",
           expect=error(), note="reading through a boolean mask (a data-dependent shape): a clear UnsupportedError"),
    Kernel("nonzero_gather", nonzero_gather, lambda r, m: (r.standard_normal(_n(m, 12, 100_000)), 0.8), "array",
           "masks",
           expect=error(), note="np.argwhere / np.nonzero lengths known only at run time: a clear UnsupportedError"),
    Kernel("python_list_index", python_list_index, lambda r, m: (r.standard_normal(_n(m, 6, 1000)),), "array",
           "fancy lists"),
    Kernel("argsort_stable_gather", argsort_stable_gather,
           lambda r, m: (r.standard_normal(_n(m, 12, 100_000)), r.integers(0, 4, _n(m, 12, 100_000))), "array",
           "sort ties"),
    Kernel("gather_scatter_loop", gather_scatter_loop,
           lambda r, m: (r.standard_normal(_n(m, 10, 100_000)), r.integers(0, _n(m, 10, 100_000), _n(m, 10, 100_000))),
           "loop", "fancy repeats"),
    Kernel("write_through_transpose", write_through_transpose,
           lambda r, m: (r.standard_normal(_n(m, (4, 5), (300, 200))),), "array", "views"),
    Kernel("reshape_view_write", reshape_view_write, lambda r, m: (r.standard_normal(_n(m, 12, 300_000)),), "array",
           "views"),
    Kernel("ravel_view_or_copy", ravel_view_or_copy, lambda r, m: (r.standard_normal(_n(m, (4, 5), (300, 200))),),
           "array", "views"),
    Kernel("flatten_is_copy", flatten_is_copy, lambda r, m: (r.standard_normal(_n(m, (4, 5), (300, 200))),), "array",
           "views"),
    Kernel("asarray_aliases", asarray_aliases, lambda r, m: (r.standard_normal(_n(m, 6, 100_000)),), "array", "views"),
    Kernel("broadcast_view_reads", broadcast_view_reads,
           lambda r, m: (r.standard_normal(_n(m, 5, 300)), r.standard_normal(_n(m, (3, 5), (200, 300)))), "array",
           "views"),
    Kernel("stepped_slice_writes", stepped_slice_writes,
           lambda r, m: (r.standard_normal(_n(m, 11, 100_001)), r.standard_normal(_n(m, 11, 100_001))), "array",
           "views"),
    Kernel("zero_d_arrays", zero_d_arrays, lambda r, m: (r.standard_normal(_n(m, 6, 100_000)),), "loop", "0-d arrays"),
    Kernel("real_imag_views", real_imag_views, lambda r, m: (
        r.standard_normal(_n(m, 6, 100_000)) + 1j * r.standard_normal(_n(m, 6, 100_000)),), "array", "views"),
    Kernel("swapaxes_views", swapaxes_views, lambda r, m: (r.standard_normal(_n(m, (3, 4, 5), (30, 40, 50))),), "array",
           "views"),
    Kernel("fill_diagonal_copyto", fill_diagonal_copyto,
           lambda r, m: (r.standard_normal(_n(m, (5, 5), (300, 300))), r.standard_normal(_n(m, (5, 5), (300, 300)))),
           "array", "views"),
    Kernel("view_recurrence", view_recurrence, lambda r, m: (r.standard_normal(_n(m, 10, 100_000)),), "loop", "views"),
    Kernel("fortran_matvec", fortran_matvec, _fortran, "loop", "layouts"),
    Kernel("strided_argument_write", strided_argument_write, _strided, "loop", "layouts"),
    Kernel("reversed_argument_scan", reversed_argument_scan, _reversed, "loop", "layouts"),
    Kernel("readonly_argument", readonly_argument, _readonly, "mixed", "layouts"),
    Kernel("empty_arguments", empty_arguments, _empties, "mixed", "layouts"),
    Kernel("length_one_axes", length_one_axes, _len_one, "mixed", "layouts"),
    Kernel("int32_loop_products", int32_loop_products, _i32, "loop", "narrow ints"),
    Kernel("uint8_image_ops", uint8_image_ops, _uint8, "mixed", "narrow ints"),
    Kernel("bool_array_arithmetic", bool_array_arithmetic, _bools, "array", "bools"),
    Kernel("complex_argument_loop", complex_argument_loop, _complex, "loop", "complex"),
    Kernel("list_and_tuple_arguments", list_and_tuple_arguments, _lists, "loop", "Python arguments"),
    Kernel("numpy_scalar_arguments", numpy_scalar_arguments, _np_scalars, "array", "NEP 50"),
    Kernel("big_python_int_argument", big_python_int_argument, _bigint, "array", "Python ints",
           expect=error(), note="a Python int past int64: a clear ValueError naming the argument"),
    Kernel("float32_statistics", float32_statistics,
           lambda r, m: (r.standard_normal(_n(m, 12, 100_000)).astype(np.float32),), "mixed", "result dtypes",
           rtol=1e-5),
    Kernel("int8_sum_prod", int8_sum_prod, lambda r, m: (r.integers(-128, 128, _n(m, 30, 100_000)).astype(np.int8),),
           "array", "result dtypes"),
    Kernel("integer_dot_matmul", integer_dot_matmul, _int_mats, "array", "result dtypes"),
    Kernel("sign_abs_edges", sign_abs_edges, _sign_edges, "array", "result dtypes"),
    Kernel("clip_inverted_bounds", clip_inverted_bounds,
           lambda r, m: (r.standard_normal(_n(m, 10, 100_000)), 0.5, -0.5), "mixed", "result dtypes"),
    Kernel("round_decimals", round_decimals, _round, "mixed", "result dtypes"),
    Kernel("floor_of_ints", floor_of_ints,
           lambda r, m: (r.integers(-50, 50, _n(m, 8, 100_000)), r.standard_normal(_n(m, 8, 100_000)) * 5.0), "array",
           "result dtypes"),
    Kernel("mixed_array_promotion", mixed_array_promotion, _promo, "array", "result dtypes", rtol=1e-6),
    Kernel("float16_mixes", float16_mixes, _f16, "array", "result dtypes", rtol=1e-3,
           expect={"interpret": "ok", "cpu": "error"},
           note="cpu: a clear UnsupportedError (Numba has no float16)"),
    Kernel("where_maximum_dtypes", where_maximum_dtypes,
           lambda r, m: (r.integers(-5, 5, _n(m, 9, 100_000)), r.standard_normal(_n(m, 9, 100_000))), "array",
           "result dtypes"),
    Kernel("arange_linspace_lengths", arange_linspace_lengths, lambda r, m: (0.0, 1.0, 0.1), "array", "result dtypes"),
    Kernel("axpy_in_place", axpy_in_place, _same_twice, "loop", "argument aliasing"),
    Kernel("write_reads_reversed", write_reads_reversed, _rev_alias, "loop", "argument aliasing"),
    Kernel("shifted_argument_views", shifted_argument_views, _shift_alias, "loop", "argument aliasing"),
    Kernel("ufunc_out_overlap", ufunc_out_overlap, _ufunc_alias, "array", "argument aliasing"),
    Kernel("matmul_assign_self", matmul_assign_self, _mat_twice, "array", "argument aliasing"),
    Kernel("swap_same_array", swap_same_array, _swap_twice, "array", "argument aliasing"),
    Kernel("traced_negative_step", traced_negative_step, _neg_step, "loop", "ranges"),
    Kernel("triangular_nests", triangular_nests, lambda r, m: (r.standard_normal(_n(m, (6, 6), (200, 200))),), "loop",
           "ranges"),
    Kernel("while_moving_bound", while_moving_bound, lambda r, m: (r.standard_normal(_n(m, 20, 100_000)),), "loop",
           "while loops"),
    Kernel("nested_while_early_return", nested_while_early_return,
           lambda r, m: (r.standard_normal(_n(m, (5, 6), (500, 600))), _n(m, 1.5, 4.5)), "loop", "while loops"),
    Kernel("reversed_ranges", reversed_ranges, lambda r, m: (r.standard_normal(_n(m, 10, 10_000)),), "loop", "ranges"),
    Kernel("enumerate_with_start", enumerate_with_start,
           lambda r, m: (r.standard_normal(_n(m, 7, 10_000)), r.standard_normal(_n(m, (4, 3), (1000, 30)))), "loop",
           "iteration"),
    Kernel("zip_unequal_lengths", zip_unequal_lengths,
           lambda r, m: (r.standard_normal(_n(m, 8, 10_000)), r.standard_normal(_n(m, 6, 10_000))), "loop",
           "iteration"),
    Kernel("zero_trip_previous_value", zero_trip_previous_value, _zero_trip, "loop", "loop variable"),
    Kernel("rows_modified_in_loop", rows_modified_in_loop,
           lambda r, m: (r.standard_normal(_n(m, (4, 3), (3000, 30))), r.standard_normal(_n(m, 3, 30))), "loop",
           "iteration"),
    Kernel("for_over_2d_columns", for_over_2d_columns, lambda r, m: (r.standard_normal(_n(m, (3, 4), (300, 400))),),
           "loop", "iteration"),
    Kernel("ranges_past_bounds", ranges_past_bounds, lambda r, m: (r.standard_normal(_n(m, 9, 100_000)), 5, 2), "loop",
           "ranges"),
    Kernel("break_else_counters", break_else_counters,
           lambda r, m: (r.standard_normal(_n(m, (6, 5), (3000, 50))), 1.2), "loop", "iteration"),
    Kernel("mixed_type_carries", mixed_type_carries, lambda r, m: (r.standard_normal(_n(m, 12, 100_000)), 0.7), "loop",
           "carries"),
    Kernel("int_becomes_float", int_becomes_float, lambda r, m: (r.standard_normal(_n(m, 6, 100_000)),), "loop",
           "carries"),
    Kernel("data_dependent_carry_type", data_dependent_carry_type,
           lambda r, m: (r.standard_normal(_n(m, 8, 60)),), "loop", "carries"),
    Kernel("tuple_carries", tuple_carries, lambda r, m: (r.standard_normal(_n(m, 10, 100_000)) * 0.5,), "loop",
           "carries"),
    Kernel("bool_flag_toggles", bool_flag_toggles, lambda r, m: (r.standard_normal(_n(m, 15, 100_000)),), "loop",
           "carries"),
    Kernel("numpy_scalar_carry", numpy_scalar_carry, lambda r, m: (r.standard_normal(_n(m, 12, 100_000)),), "loop",
           "carries", rtol=1e-5),
    Kernel("double_buffer_swap", double_buffer_swap, lambda r, m: (r.standard_normal(_n(m, 9, 10_000)), _n(m, 3, 50)),
           "loop", "carries"),
    Kernel("small_solves", small_solves, _solves, "array", "linalg", rtol=1e-7),
    Kernel("singular_det_pinv", singular_det_pinv, lambda r, m: (r.standard_normal((3, 3)),), "array", "linalg",
           rtol=1e-6, atol=1e-8),
    Kernel("axis0_cumsum_diff_sort", axis0_cumsum_diff_sort, _ties_2d, "array", "sorting"),
    Kernel("searchsorted_sides", searchsorted_sides, _search, "array", "sorting"),
    Kernel("interp_edges", interp_edges, _interp, "array", "interpolation"),
    Kernel("unique_counts_inverse", unique_counts_inverse, lambda r, m: (r.integers(-3, 5, _n(m, 20, 100_000)),),
           "array", "sorting",
           expect=error(), note="np.unique's length is known only at run time: a clear UnsupportedError"),
    Kernel("matrix_norms", matrix_norms,
           lambda r, m: (r.standard_normal(_n(m, (4, 3), (300, 200))), r.standard_normal(_n(m, 7, 1000))), "array",
           "linalg", rtol=1e-8),
    Kernel("symmetric_eigen", symmetric_eigen, lambda r, m: (r.standard_normal(_n(m, (4, 4), (60, 60))),), "array",
           "linalg", rtol=1e-7, atol=1e-9),
    Kernel("cholesky_and_products", cholesky_and_products,
           lambda r, m: (r.standard_normal(_n(m, (4, 4), (100, 100))), r.standard_normal(_n(m, 7, 100))), "array",
           "linalg", rtol=1e-8),
    Kernel("percentile_methods", percentile_methods, lambda r, m: (r.standard_normal(_n(m, 10, 100_000)),), "array",
           "statistics"),
    Kernel("sort_with_nan_loop", sort_with_nan_loop, _nan_some, "mixed", "sorting",
           expect=error(), note="x[~np.isnan(x)] has a data-dependent length: a clear UnsupportedError"),
    Kernel("histogram_edges", histogram_edges, _hist, "array", "statistics"),
]

KERNELS += [
    Kernel("pairwise_fancy_2d", pairwise_fancy_2d,
           lambda r, m: (r.standard_normal(_n(m, (6, 5), (500, 400))), r.integers(-5, 5, 3), r.integers(-5, 5, 3)),
           "array", "fancy 2-D"),
    Kernel("pairwise_fancy_write", pairwise_fancy_write,
           lambda r, m: (r.standard_normal(_n(m, (6, 5), (500, 400))), np.array([0, 3, -1, 3]), np.array([2, 2, 4, -1]),
                         7.5), "array", "fancy 2-D"),
    Kernel("masked_reductions", masked_reductions, lambda r, m: (r.standard_normal(_n(m, 14, 100_000)), 0.3), "array",
           "masks"),
    Kernel("store_float_into_int", store_float_into_int,
           lambda r, m: (r.standard_normal(_n(m, 10, 100_000)) * 5.0, r.integers(-100, 100, _n(m, 10, 100_000))),
           "loop", "stores"),
    Kernel("wraparound_neighbor", wraparound_neighbor, lambda r, m: (r.standard_normal(_n(m, 8, 100_000)),), "loop",
           "negative indices"),
    Kernel("negative_zero_slice", negative_zero_slice, lambda r, m: (r.standard_normal(_n(m, 8, 100_000)), 0), "array",
           "slices"),
    Kernel("traced_slice_bounds", traced_slice_bounds, lambda r, m: (r.standard_normal(_n(m, 10, 100_000)), -7, 6),
           "array", "slices"),
    Kernel("builtin_sum_max_on_arrays", builtin_sum_max_on_arrays,
           lambda r, m: (r.standard_normal(_n(m, (4, 3), (300, 30))), r.standard_normal(_n(m, 7, 300))), "mixed",
           "builtins"),
    Kernel("inplace_sort_views", inplace_sort_views,
           lambda r, m: (r.standard_normal(_n(m, 9, 100_000)), r.standard_normal(_n(m, (5, 3), (3000, 30)))), "array",
           "sorting"),
    Kernel("float_step_while", float_step_while, lambda r, m: (0.1,), "loop", "floating point"),
    Kernel("chaotic_map_f64", chaotic_map_f64, lambda r, m: (0.3141, _n(m, 200, 100_000)), "loop", "floating point",
           rtol=0.0, atol=0.0),
    Kernel("ufunc_at_variants", ufunc_at_variants,
           lambda r, m: (_n(m, 6, 1000), r.integers(-6, 6, _n(m, 15, 100_000)), r.standard_normal(_n(m, 15, 100_000))),
           "array", "fancy repeats", expect=error(),
           note="np.maximum.at and np.multiply.at: a clear UnsupportedError (np.add.at, np.subtract.at work)"),
    Kernel("subtract_at_repeats", subtract_at_repeats,
           lambda r, m: (_n(m, 6, 1000), r.integers(-6, 6, _n(m, 15, 100_000)), r.standard_normal(_n(m, 15, 100_000))),
           "array", "fancy repeats"),
    Kernel("ufunc_reduce_accumulate", ufunc_reduce_accumulate,
           lambda r, m: (r.standard_normal(_n(m, 9, 100_000)), r.standard_normal(_n(m, (4, 5), (300, 300)))), "array",
           "reductions"),
    Kernel("empty_reduction_identities", empty_reduction_identities,
           lambda r, m: (r.standard_normal(_n(m, 9, 100_000)), r.standard_normal(_n(m, (4, 5), (300, 300)))), "array",
           "reductions"),
    Kernel("fills_and_likes", fills_and_likes,
           lambda r, m: (r.standard_normal(_n(m, 6, 100_000)), r.integers(0, 9, _n(m, 6, 100_000)).astype(np.int32)),
           "array", "result dtypes"),
    Kernel("flat_argmax_unravel", flat_argmax_unravel, lambda r, m: (r.standard_normal(_n(m, (4, 5), (300, 300))),),
           "array", "indices"),
    Kernel("batched_solve_matmul", batched_solve_matmul,
           lambda r, m: (r.standard_normal(_n(m, (4, 4), (100, 100))), r.standard_normal(_n(m, (4, 4), (100, 100))),
                         r.standard_normal(_n(m, 4, 100))), "array", "linalg", rtol=1e-8),
    Kernel("complex_branches", complex_branches, lambda r, m: (r.standard_normal(_n(m, 8, 100_000)),), "array",
           "complex"),
    Kernel("average_weights", average_weights,
           lambda r, m: (r.standard_normal(_n(m, (4, 5), (300, 300))), r.random(_n(m, 4, 300))), "array", "statistics"),
    Kernel("pairwise_newaxis", pairwise_newaxis, lambda r, m: (r.standard_normal(_n(m, 6, 1000)),), "array",
           "broadcasting"),
    Kernel("array_copy_false", array_copy_false, lambda r, m: (r.standard_normal(_n(m, 6, 1000)),), "array", "views"),
    Kernel("prefix_with_early_exit", prefix_with_early_exit,
           lambda r, m: (r.standard_normal(_n(m, 12, 100_000)), _n(m, 4.0, 30_000.0)), "loop", "early exit"),
    Kernel("int_counters_in_float_loop", int_counters_in_float_loop,
           lambda r, m: (r.standard_normal(_n(m, 12, 100_000)) * 3.0,), "loop", "conversions"),
]

KERNELS += [
    Kernel("argmax_loop_ties", argmax_loop_ties, lambda r, m: (r.integers(0, 4, _n(m, 20, 100_000)),), "loop",
           "reductions"),
    Kernel("scatter_max_loop", scatter_max_loop,
           lambda r, m: (r.integers(0, _n(m, 4, 100), _n(m, 15, 100_000)), r.standard_normal(_n(m, 15, 100_000)),
                         _n(m, 4, 100)), "loop", "scatters"),
    Kernel("scatter_reads_itself", scatter_reads_itself,
           lambda r, m: (r.standard_normal(_n(m, 6, 100)), r.integers(0, _n(m, 6, 100), _n(m, 15, 100_000))), "loop",
           "scatters"),
    Kernel("guarded_gather", guarded_gather, _guarded, "loop", "guards"),
    Kernel("guarded_neighbor_read", guarded_neighbor_read, lambda r, m: (r.standard_normal(_n(m, 9, 100_000)),),
           "loop", "guards"),
    Kernel("dependent_accumulators", dependent_accumulators, lambda r, m: (r.standard_normal(_n(m, 12, 100_000)),),
           "loop", "reductions", rtol=1e-8),
    Kernel("conditional_mixed_update", conditional_mixed_update, lambda r, m: (r.standard_normal(_n(m, 12, 100_000)),),
           "loop", "recurrences"),
    Kernel("guarded_int_conversion", guarded_int_conversion, _with_nonfinite, "loop", "guards"),
]


def fresh_args(kernel: Kernel, mode: str = "test", seed: int = 0) -> tuple:
    """Two independent builds of the kernel's arguments (the same values, layouts, flags and aliasing)."""
    return kernel.make(np.random.default_rng(seed), mode), kernel.make(np.random.default_rng(seed), mode)
