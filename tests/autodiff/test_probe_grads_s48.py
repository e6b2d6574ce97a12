"""Gradients that session 48's probe G (about 300 float64 losses written in
the styles scientists write) found right: loops with in-place carries
(ping-pong buffers, delay lines, shifted writes, Gauss-Seidel sweeps of an
argument), views of intermediates written in place, repeated fancy indices
and np.add.at (their gradients add), sorts and order statistics, batched
matmul/einsum broadcasting, a dict argument, checkpointing with a remainder
segment, float32 gradients. Each is checked against central finite
differences of the undecorated function in float64; the interpreter for
all, one cpu kernel batching several of them."""

import math

import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad


# --- loops -----------------------------------------------------------------------------------
def ping_pong(x):
    u = x.copy()
    v = np.empty_like(u)
    for t in range(4):
        v[1:-1] = u[1:-1] + 0.2 * (u[:-2] - 2 * u[1:-1] + u[2:]) + 0.05 * u[1:-1] ** 2
        v[0] = u[0]
        v[-1] = u[-1]
        u, v = v, u
    return np.sum(u ** 2 * np.arange(u.size))


def delay_line(x, b):
    h = np.zeros(b.shape[0])
    out = 0.0
    for t in range(x.shape[0]):
        h[1:] = h[:-1]
        h[0] = x[t]
        y = np.dot(b, h)
        out += y * y
    return out


def iir(x, b0, a1):
    y = np.zeros(x.shape[0])
    y[0] = b0 * x[0]
    for n in range(1, x.shape[0]):
        y[n] = b0 * x[n] + 0.3 * x[n - 1] - a1 * y[n - 1]
    return np.sum(y ** 2)


def gauss_seidel_arg(u):
    for it in range(2):
        for i in range(1, u.shape[0] - 1):
            u[i] = 0.5 * (u[i - 1] + u[i + 1]) + 0.1 * u[i] ** 2
    return np.sum(u ** 2)


def anti_dependence(x):
    y = x * 2.0
    for i in range(x.shape[0] - 1):
        y[i] = y[i + 1] * y[i] + x[i]
    return np.sum(y ** 2)


def argmin_companion(x, y):
    best = 1e9
    bx = 0.0
    for i in range(x.shape[0]):
        d = (x[i] - 0.3) ** 2
        if d < best:
            best = d
            bx = y[i]
    return bx * best + bx ** 2


def bubble_sort(x):
    a = x.copy()
    n = a.shape[0]
    for i in range(n):
        for j in range(n - 1 - i):
            if a[j] > a[j + 1]:
                t = a[j]
                a[j] = a[j + 1]
                a[j + 1] = t
    return np.sum(a * np.arange(n))


def while_write(x):
    out = np.zeros(x.shape[0])
    k = 0
    s = 0.0
    while k < x.shape[0] and s < 2.0:
        out[k] = s + x[k]
        s += x[k] ** 2
        k += 1
    return np.sum(out ** 2)


def kalman(ys, q):
    x = 0.0
    P = 1.0
    ll = 0.0
    for t in range(ys.shape[0]):
        P = P + q
        S = P + 0.5
        K = P / S
        e = ys[t] - x
        ll += -0.5 * (math.log(2 * math.pi * S) + e * e / S)
        x = x + K * e
        P = (1 - K) * P
    return ll


def spmv(data, x, indices, indptr):
    y = np.zeros(indptr.shape[0] - 1)
    for i in range(indptr.shape[0] - 1):
        for k in range(indptr[i], indptr[i + 1]):
            y[i] += data[k] * x[indices[k]]
    return np.sum(y ** 2)


def dp_min_path(X):
    D = np.zeros_like(X)
    D[0, 0] = X[0, 0]
    for j in range(1, X.shape[1]):
        D[0, j] = D[0, j - 1] + X[0, j]
    for i in range(1, X.shape[0]):
        D[i, 0] = D[i - 1, 0] + X[i, 0]
        for j in range(1, X.shape[1]):
            D[i, j] = X[i, j] + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return D[-1, -1]


def rnn(x, W):
    h = np.zeros(W.shape[0])
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t])
    return np.sum(h)


# --- views, aliasing, scatter ----------------------------------------------------------------------
def view_of_intermediate(x):
    z = np.exp(x)
    y = z[::2]
    y += x[::2] ** 2
    zz = z.reshape(3, 4)
    zz[1] *= zz[0]
    return np.sum(z ** 2)


def transpose_write(X):
    Z = X * 2.0
    ZT = Z.T
    ZT[0] = np.sin(ZT[1])
    return np.sum(Z ** 2)


def repeated_index(x, v):
    y = x.copy()
    y[np.array([1, 1, 2])] += v
    out = np.zeros(4)
    np.add.at(out, np.array([0, 1, 1, 3, 3, 3]), x[:6] * v[0])
    return np.sum(y ** 2) + np.sum(out ** 2) + np.sum(x[np.array([0, 2, 2, 1, 0, 0])] ** 2)


def mask_write(x):
    y = x.copy()
    m = x > 0.2
    y[m] = np.exp(x[m])
    return np.sum(y ** 2)


def batched_matmul(A, B):
    return np.sum((A @ B) ** 2) + np.sum(np.einsum("...ij,jk->...ik", A, B[0]) ** 2)


def dict_params(p, x):
    return np.sum((x @ p["W"] + p["b"]) ** 2) + np.sum(p["c"] ** 3)


# --- reductions and selections ---------------------------------------------------------------------
def order_stats(x):
    return (np.sum(np.sort(x) * np.arange(x.size)) + np.median(x) ** 2
            + np.percentile(x, 37.0) + np.percentile(x, 80.0, method="nearest"))


def products_with_zero(x):
    p = 1.0
    for i in range(x.shape[0]):
        p *= x[i]
    return p + np.prod(x[:3] * 2.0) + np.sum(np.cumprod(x)) + np.sum(x ** 3) + np.sum(x ** 2.0)


def powers_by_index(x):
    s = 0.0
    for i in range(5):
        s += np.sum(x ** i)
    return s


def interp_in_loop(x):
    xp = np.linspace(-3.0, 3.0, 7)
    fp = np.sin(xp)
    s = 0.0
    for i in range(x.shape[0]):
        s += np.interp(x[i], xp, fp) ** 2
    return s


def gram_schmidt(A):
    Q = np.zeros_like(A)
    for j in range(A.shape[1]):
        v = A[:, j].copy()
        for k in range(j):
            v = v - np.dot(Q[:, k], A[:, j]) * Q[:, k]
        Q[:, j] = v / np.linalg.norm(v)
    return np.sum(Q * np.arange(Q.size).reshape(Q.shape))


def _vec(rng, n):
    return rng.standard_normal(n)


CASES = {
    "ping_pong": (ping_pong, lambda r: [_vec(r, 8)], 0),
    "delay_line": (delay_line, lambda r: [_vec(r, 8), _vec(r, 3)], (0, 1)),
    "iir": (iir, lambda r: [_vec(r, 8), 0.5, 0.4], (0, 1, 2)),
    "gauss_seidel_arg": (gauss_seidel_arg, lambda r: [0.5 * _vec(r, 7)], 0),
    "anti_dependence": (anti_dependence, lambda r: [0.5 * _vec(r, 7)], 0),
    "argmin_companion": (argmin_companion, lambda r: [_vec(r, 8), _vec(r, 8)], (0, 1)),
    "bubble_sort": (bubble_sort, lambda r: [_vec(r, 6)], 0),
    "while_write": (while_write, lambda r: [0.5 * _vec(r, 8)], 0),
    "kalman": (kalman, lambda r: [_vec(r, 8), 0.3], (0, 1)),
    "spmv": (spmv, lambda r: [_vec(r, 7), _vec(r, 4), np.array([0, 3, 1, 1, 2, 3, 0]),
                              np.array([0, 2, 2, 5, 7])], (0, 1)),
    "dp_min_path": (dp_min_path, lambda r: [r.standard_normal((4, 5))], 0),
    "view_of_intermediate": (view_of_intermediate, lambda r: [_vec(r, 12)], 0),
    "transpose_write": (transpose_write, lambda r: [r.standard_normal((3, 4))], 0),
    "repeated_index": (repeated_index, lambda r: [_vec(r, 6), _vec(r, 3)], (0, 1)),
    "mask_write": (mask_write, lambda r: [_vec(r, 10)], 0),
    "batched_matmul": (batched_matmul, lambda r: [r.standard_normal((2, 1, 3, 4)), r.standard_normal((3, 4, 2))],
                       (0, 1)),
    "order_stats": (order_stats, lambda r: [_vec(r, 7)], 0),
    "powers_by_index": (powers_by_index, lambda r: [np.array([0.3, 0.0, -1.2, 0.7])], 0),
    "interp_in_loop": (interp_in_loop, lambda r: [_vec(r, 6)], 0),
    "gram_schmidt": (gram_schmidt, lambda r: [r.standard_normal((4, 4)) + 4 * np.eye(4)], 0),
}


def _copies(args):
    return [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]


def _numerical(f, args, i):
    if isinstance(args[i], float):
        eps = 1e-6
        hi, lo = _copies(args), _copies(args)
        hi[i] += eps
        lo[i] -= eps
        return (f(*hi) - f(*lo)) / (2 * eps)
    return numerical_grad(lambda *xs: float(f(*_copies(xs))), _copies(args), i)


def _check(f, args, argnums, backend="interpret", **kw):
    got = looptrace.grad(f, argnums=argnums, backend=backend, **kw)(*_copies(args))
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    got = got if isinstance(argnums, tuple) else (got,)
    for i, g in zip(nums, got):
        if isinstance(args[i], np.ndarray):
            assert np.asarray(g).shape == args[i].shape and np.asarray(g).dtype == args[i].dtype
        assert_close(g, _numerical(f, args, i), 1e-5, f"{f.__name__} argument {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name, rng):
    f, make, argnums = CASES[name]
    _check(f, make(rng), argnums)


def test_products_with_an_exact_zero(rng):
    x = rng.standard_normal(6)
    x[2] = 0.0  # the gradient of a product with one zero factor is the product of the others
    _check(products_with_zero, [x], 0)


def test_dict_argument(rng):
    p = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2), "c": rng.standard_normal(3)}
    x = rng.standard_normal((4, 3))
    g = looptrace.grad(dict_params, backend="interpret")(p, x)
    assert set(g) == set(p)
    for k in p:
        def f(v, k=k):
            return dict_params(dict(p, **{k: v}), x)
        assert_close(g[k], numerical_grad(f, [p[k]], 0), 1e-5, k)


@pytest.mark.parametrize("k", [2, 3])
def test_checkpoint_with_a_remainder_segment(k, rng):
    # 7 steps: segments of k plus a remainder loop
    _check(rnn, [rng.standard_normal((7, 4)), 0.5 * rng.standard_normal((4, 4))], (0, 1), checkpoint=k)


def test_float32_gradients_keep_float32(rng):
    x, W = rng.standard_normal((5, 3)), 0.5 * rng.standard_normal((3, 3))
    g = looptrace.grad(rnn, argnums=(0, 1), backend="interpret")(x.astype(np.float32), W)
    assert g[0].dtype == np.float32 and g[1].dtype == np.float64
    for i in (0, 1):
        assert_close(g[i], numerical_grad(rnn, [x, W], i), 1e-4, f"rnn argument {i}")


def cpu_batch(x, b, y, v):
    """Three of the losses above in one kernel (in-place stencil buffers
    swapped, a shift register, duplicate scatter-adds): one compile."""
    return ping_pong(x) + delay_line(y, b) + repeated_index(x[:6], v)


# slow: each loss's gradient runs on the interpreter above; cpu gradients of loops with in-place
# carries keep running in test_seed_gradients.py (rnn_taps, batched_conv), scatter-adds' lowering in tests/codegen.
@pytest.mark.slow
def test_cpu_kernel_matches_finite_differences(rng):
    args = [rng.standard_normal(8), rng.standard_normal(3), rng.standard_normal(8), rng.standard_normal(3)]
    _check(cpu_batch, args, (0, 1, 2, 3), backend="cpu")
