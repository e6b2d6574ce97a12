"""Hand-written competitors for the seed workloads, for the benchmarks.

Each workload pairs the plain Python function (looptrace's input and the
oracle) with what a careful person would write by hand instead:

- "numpy": hand-vectorized NumPy (loop-invariant work hoisted and batched);
- "numba": a hand-written `@numba.njit` loop (with `prange` where the work
  is independent);
- "jax": a `jax.jit` version, with `lax.scan` for recurrences (float64).

All competitors take the same arguments as the plain function and return
the same value; JAX ones return a JAX array after `block_until_ready`, so a
timed call includes the computation. JAX is optional: when it is not
installed the "jax" entries are simply absent (`HAVE_JAX` is False).
Importing this module with JAX present switches JAX to float64
(`jax_enable_x64`), which every comparison with NumPy here needs.

`WORKLOADS` maps a workload name to a `Workload`; `bench_args` builds the
benchmark-sized arguments (tests use their own small sizes).
"""

import functools
from dataclasses import dataclass, field
from typing import Callable

import numba
import numpy as np

from looptrace.examples import (
    _conv_args,
    _gauss_args,
    _rnn_args,
    batched_conv,
    gaussian_layer,
    rnn_taps,
    sum_reduce,
)

try:
    import jax
    import jax.numpy as jnp
    from jax import lax
except ImportError:
    jax = jnp = lax = None
    HAVE_JAX = False
else:
    jax.config.update("jax_enable_x64", True)
    HAVE_JAX = True


def _jax_jit(fn):
    """`jax.jit(fn)`, blocking until its result is ready; None without JAX."""
    if not HAVE_JAX:
        return None
    jitted = jax.jit(fn)

    @functools.wraps(fn)
    def run(*args):
        return jax.block_until_ready(jitted(*args))

    return run


# --- rnn_taps: y(t) = tanh(W1 y(t-1) + W2 x(t) + W3 x(t-1)) ---


def rnn_taps_numpy(X, y0, W1, W2, W3):
    """The input terms leave the loop as two matrix products; only tanh(W1 y + u) loops."""
    U = X[1:] @ W2.T + X[:-1] @ W3.T
    Y = np.empty((X.shape[0] - 1, y0.shape[0]))
    y = y0
    for t in range(U.shape[0]):
        y = np.tanh(W1 @ y + U[t])
        Y[t] = y
    return Y


@numba.njit(cache=True)
def rnn_taps_numba(X, y0, W1, W2, W3):
    """Hoisted input terms (BLAS), then the recurrence in a preallocated output."""
    # Numba's matmul wants contiguous operands; row slices are typed 'A' layout.
    U = np.ascontiguousarray(X[1:]) @ W2.T + np.ascontiguousarray(X[:-1]) @ W3.T
    Y = np.empty((U.shape[0], y0.shape[0]))
    y = y0.copy()
    for t in range(U.shape[0]):
        Y[t] = np.tanh(W1 @ y + U[t])
        y = Y[t]
    return Y


@_jax_jit
def rnn_taps_jax(X, y0, W1, W2, W3):
    """lax.scan over the hoisted input terms: only tanh(W1 y + u) is scanned."""
    U = X[1:] @ W2.T + X[:-1] @ W3.T

    def step(y, u):
        y = jnp.tanh(W1 @ y + u)
        return y, y

    return lax.scan(step, y0, U)[1]


# --- gaussian_layer: out[i, j] = exp(-|W[:, j] - x[i]|**2) / 2 * S[j]**2 ---
# The seed's precedence is kept exactly: (exp(-(norm**2)) / 2) * (S[j]**2).


def gaussian_layer_numpy(x, W, S):
    diff = W.T[None, :, :] - x[:, None, :]  # (B, H, D)
    norm = np.sqrt(np.sum(diff * diff, axis=-1))
    return np.exp(-(norm**2)) / 2 * S**2


@numba.njit(parallel=True, cache=True)
def gaussian_layer_numba(x, W, S):
    B, D = x.shape
    H = W.shape[1]
    out = np.empty((B, H))
    for i in numba.prange(B):
        for j in range(H):
            sq = 0.0
            for d in range(D):
                diff = W[d, j] - x[i, d]
                sq += diff * diff
            norm = np.sqrt(sq)
            out[i, j] = np.exp(-(norm**2)) / 2 * S[j] ** 2
    return out


@_jax_jit
def gaussian_layer_jax(x, W, S):
    diff = W.T[None, :, :] - x[:, None, :]
    norm = jnp.sqrt(jnp.sum(diff * diff, axis=-1))
    return jnp.exp(-(norm**2)) / 2 * S**2


# --- batched_conv: out[b] = sum_i (W_all * masks[i]) @ im2col[b, i] + bias ---


def batched_conv_numpy(W_all, masks, im2col, bias):
    """One batched matmul: (F, P*K) @ (N, P*K, S), then the bias."""
    N, P, K, S = im2col.shape
    F = W_all.shape[0]
    W_masked = (W_all * masks).transpose(1, 0, 2).reshape(F, P * K)
    return W_masked @ im2col.reshape(N, P * K, S) + bias


@numba.njit(parallel=True, cache=True)
def batched_conv_numba(W_all, masks, im2col, bias):
    N, P, K, S = im2col.shape
    F = W_all.shape[0]
    out = np.empty((N, F, S))
    for b in numba.prange(N):
        for f in range(F):
            for s in range(S):
                out[b, f, s] = bias[f, 0]
            for i in range(P):
                for k in range(K):
                    w = W_all[f, k] * masks[i, f, k]
                    for s in range(S):
                        out[b, f, s] += w * im2col[b, i, k, s]
    return out


@_jax_jit
def batched_conv_jax(W_all, masks, im2col, bias):
    return jnp.einsum("pfk,npks->nfs", W_all * masks, im2col) + bias


# --- sum_reduce: s = sum_i x[i] ---


def sum_reduce_numpy(x):
    return np.sum(x)


@numba.njit(parallel=True, cache=True)
def sum_reduce_numba(x):
    s = 0.0
    for i in numba.prange(x.shape[0]):
        s += x[i]
    return s


# --- scalar_recurrence: y = 0.9 * y + x[t], a true recurrence of scalars ---


def scalar_recurrence(x):
    """The plain Python loop: looptrace's input and the oracle."""
    y = 0.0
    for t in range(x.shape[0]):
        y = 0.9 * y + x[t]
    return y


@numba.njit(cache=True)
def scalar_recurrence_numba(x):
    y = 0.0
    for t in range(x.shape[0]):
        y = 0.9 * y + x[t]
    return y


@_jax_jit
def scalar_recurrence_jax(x):
    def step(y, xt):
        return 0.9 * y + xt, None

    return lax.scan(step, jnp.zeros((), x.dtype), x)[0]


# --- the registry ---


@dataclass(frozen=True)
class Workload:
    """A plain function, its benchmark-sized arguments, and its competitors."""

    plain: Callable
    bench_args: Callable[[np.random.Generator], tuple]
    competitors: dict[str, Callable] = field(default_factory=dict)


def _competitors(**found):
    """The competitors that exist here (JAX ones are None without JAX)."""
    return {name: fn for name, fn in found.items() if fn is not None}


WORKLOADS = {
    "rnn_taps": Workload(
        rnn_taps,
        _rnn_args,
        _competitors(numpy=rnn_taps_numpy, numba=rnn_taps_numba, jax=rnn_taps_jax),
    ),
    "gaussian_layer": Workload(
        gaussian_layer,
        lambda rng: _gauss_args(rng, B=512, D=64, H=256),
        _competitors(
            numpy=gaussian_layer_numpy, numba=gaussian_layer_numba, jax=gaussian_layer_jax
        ),
    ),
    "batched_conv": Workload(
        batched_conv,
        lambda rng: _conv_args(rng, N=64, P=3, F=16, K=9, S=1024),
        _competitors(numpy=batched_conv_numpy, numba=batched_conv_numba, jax=batched_conv_jax),
    ),
    "sum_reduce": Workload(
        sum_reduce,
        lambda rng: (rng.standard_normal(10**7),),
        _competitors(numpy=sum_reduce_numpy, numba=sum_reduce_numba),
    ),
    "scalar_recurrence": Workload(
        scalar_recurrence,
        lambda rng: (rng.standard_normal(100_000),),
        _competitors(numba=scalar_recurrence_numba, jax=scalar_recurrence_jax),
    ),
}
