"""GPU competitors for bench/bench_gpu.py: each written by hand, each optional.

A competitor is `make(workload, data, env) -> Case` or raises `Skip(reason)`
when its library, or a GPU for it, is missing here. A `Case` holds `run`
(one timed call: inputs already where the competitor keeps them, ends with a
device synchronization, returns the result where it was computed), `fetch`
(that result as NumPy, for the correctness check, untimed), the launches one
call makes where they are known, and the steps of its scan (for per-step
cost). Inputs move to the device once, before timing, as a user's data
would already be there.

`env.mode` is "gpu" on a GPU machine, "sim" in --dry-run (the simulator,
tiny sizes); JAX and PyTorch then run on whatever device they find, and the
table says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


cuda = None  # hand-written kernels call CUDA through this global (bound by make_env); the simulator swaps it


def make_env(mode: str) -> "Env":
    """The environment of one benchmark run: numba.cuda on a GPU, the simulator in a dry run."""
    from looptrace.codegen.cuda import runtime

    runtime.bind_cuda(globals())
    if mode == "gpu":
        runtime.require_device()
    return Env(mode, runtime.namespace(mode))


class Skip(Exception):
    """This competitor cannot run here; the message says why."""


@dataclass
class Case:
    run: Callable[[], Any]
    fetch: Callable[[Any], np.ndarray]
    launches: str = "n/a"
    steps: int = 0
    notes: list[str] = field(default_factory=list)
    expect: Any = None  # what this case must return, when it runs a shortened workload
    count: Callable[[], str] | None = None  # measures the launches of one call (a profiler), if possible


@dataclass
class Env:
    mode: str  # "gpu" or "sim"
    cuda: Any = None  # numba.cuda (or the simulator's namespace)

    def to(self, a):
        return self.cuda.to_device(np.ascontiguousarray(a))

    def empty(self, shape, dtype):
        return self.cuda.device_array(shape, dtype=dtype)

    def sync(self):
        if self.mode == "gpu":
            self.cuda.synchronize()


def _back(a):
    return a.copy_to_host() if hasattr(a, "copy_to_host") else np.asarray(a)


# --- optional libraries ------------------------------------------------------------------------


def _cupy():
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # ImportError, or CuPy without a usable device
        raise Skip(f"CuPy unusable here: {type(e).__name__}: {str(e).splitlines()[0][:80] if str(e) else ''}")
    return cupy


def _torch():
    try:
        import torch
    except ImportError as e:
        raise Skip(f"PyTorch not installed: {e}")
    return torch, ("cuda" if torch.cuda.is_available() else "cpu")


def _jax():
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError as e:
        raise Skip(f"JAX not installed: {e}")
    jax.config.update("jax_enable_x64", True)
    return jax, jnp, lax


def _torch_launches(torch, run: Callable[[], Any]) -> Callable[[], str]:
    """GPU activities (kernels and copies) of one call, counted by PyTorch's profiler."""
    def count() -> str:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            run()
        n = sum(1 for e in prof.events() if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA)
        return f"{n} GPU activities (profiler)"
    return count


def _device_note(kind: str) -> list[str]:
    return [] if kind in ("cuda", "gpu") else [f"ran on {kind}, not a GPU"]


# --- rnn_taps: Y[t-1] = tanh(W1 y + W2 X[t] + W3 X[t-1]) -----------------------------------------


def rnn_jax(w: str, d: tuple, env: Env) -> Case:
    jax, jnp, lax = _jax()
    if w == "rnn_taps_grad":
        return _rnn_grad_jax(d, jax, jnp, lax)

    @jax.jit
    def f(X, y0, W1, W2, W3):
        U = X[1:] @ W2.T + X[:-1] @ W3.T
        return lax.scan(lambda y, u: (jnp.tanh(W1 @ y + u),) * 2, y0, U)[1]

    args = [jax.device_put(a) for a in d]
    return Case(lambda: f(*args).block_until_ready(), np.asarray, "host-driven While: >=2 per step",
                d[0].shape[0] - 1, _device_note(jax.devices()[0].platform))


def _rnn_grad_jax(d, jax, jnp, lax) -> Case:
    def loss(X, y0, W1, W2, W3):
        U = X[1:] @ W2.T + X[:-1] @ W3.T
        return lax.scan(lambda y, u: (jnp.tanh(W1 @ y + u),) * 2, y0, U)[1].sum()

    f = jax.jit(jax.value_and_grad(loss, argnums=(1, 2, 3, 4)))
    args = [jax.device_put(a) for a in d]
    return Case(lambda: jax.block_until_ready(f(*args)), lambda r: np.asarray(r[1][1]),
                "host-driven While, forward and reverse", 2 * (d[0].shape[0] - 1),
                _device_note(jax.devices()[0].platform))


def rnn_torch_cudnn(w: str, d: tuple, env: Env) -> Case:
    """torch.nn.RNN(tanh): input x'_t = [X[t], X[t-1]], W_ih = [W2, W3], W_hh = W1, no bias (cuDNN on a GPU)."""
    torch, dev = _torch()
    X, y0, W1, W2, W3 = d
    ny, nx = W2.shape
    dt = torch.float32 if X.dtype == np.float32 else torch.float64
    rnn = torch.nn.RNN(2 * nx, ny, nonlinearity="tanh", bias=False).to(dev, dt)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.hstack([W2, W3])))
        rnn.weight_hh_l0.copy_(torch.from_numpy(W1))
    Xp = torch.from_numpy(np.hstack([X[1:], X[:-1]])[:, None, :]).to(dev)
    h0 = torch.from_numpy(y0[None, None, :]).to(dev)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    if w == "rnn_taps_grad":
        def run():
            rnn.zero_grad()
            h0g = h0.clone().requires_grad_(True)
            out, _ = rnn(Xp, h0g)
            out.sum().backward()
            sync()
            return rnn.weight_hh_l0.grad
        return Case(run, lambda g: g.cpu().numpy(), "cuDNN", 2 * (X.shape[0] - 1), _device_note(dev),
                    count=_torch_launches(torch, run) if dev == "cuda" else None)

    def run():
        with torch.no_grad():
            out, _ = rnn(Xp, h0)
        sync()
        return out
    return Case(run, lambda out: out[:, 0, :].cpu().numpy(), "cuDNN", X.shape[0] - 1, _device_note(dev),
                count=_torch_launches(torch, run) if dev == "cuda" else None)


def rnn_torch_eager(w: str, d: tuple, env: Env) -> Case:
    torch, dev = _torch()
    X, y0, W1, W2, W3 = (torch.from_numpy(a).to(dev) for a in d)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    def run():
        with torch.no_grad():
            U = X[1:] @ W2.T + X[:-1] @ W3.T
            y, out = y0, []
            for t in range(U.shape[0]):
                y = torch.tanh(W1 @ y + U[t])
                out.append(y)
            Y = torch.stack(out)
        sync()
        return Y
    return Case(run, lambda Y: Y.cpu().numpy(), "~3 per step (gemv, add, tanh)", d[0].shape[0] - 1, _device_note(dev),
                count=_torch_launches(torch, run) if dev == "cuda" else None)


def rnn_cupy(w: str, d: tuple, env: Env) -> Case:
    cp = _cupy()
    X, y0, W1, W2, W3 = (cp.asarray(a) for a in d)

    def run():
        U = X[1:] @ W2.T + X[:-1] @ W3.T
        Y = cp.empty((U.shape[0], y0.shape[0]), U.dtype)
        y = y0
        for t in range(U.shape[0]):
            y = cp.tanh(W1 @ y + U[t])
            Y[t] = y
        cp.cuda.Stream.null.synchronize()
        return Y
    return Case(run, cp.asnumpy, "~4 per step (gemv, add, tanh, copy)", d[0].shape[0] - 1)


def _hoisted_U(d: tuple, env: Env):
    """U = X[1:] W2^T + X[:-1] W3^T as a device array: cuBLAS through CuPy (zero-copy to numba), else NumPy."""
    X, _, _, W2, W3 = d
    try:
        cp = _cupy()
    except Skip:
        return None, (lambda: env.to(X[1:] @ W2.T + X[:-1] @ W3.T)), ["U computed on the host (no CuPy here)"]
    Xd, W2d, W3d = cp.asarray(X), cp.asarray(W2), cp.asarray(W3)
    return cp, (lambda: Xd[1:] @ W2d.T + Xd[:-1] @ W3d.T), []


def rnn_numba_per_step(w: str, d: tuple, env: Env) -> Case:
    """One numba.cuda launch per step: y_new = tanh(W1 y + U[t]) (thread per row, W1^T coalesced)."""
    X, y0, W1, W2, W3 = d
    n, dt = y0.shape[0], X.dtype

    @env.cuda.jit
    def step(WT, y, u, y_new):
        i = cuda.grid(1)
        if i < y.shape[0]:
            acc = u[i]
            for j in range(y.shape[0]):
                acc += WT[j, i] * y[j]
            y_new[i] = math.tanh(acc)

    cp, make_U, notes = _hoisted_U(d, env)
    WT, y0d = env.to(np.ascontiguousarray(W1.T)), env.to(y0)
    T = X.shape[0] - 1
    Y = env.empty((T, n), dt)
    threads = 128

    def run():
        U = make_U()
        U = env.cuda.as_cuda_array(U) if cp is not None else U
        y = y0d
        for t in range(T):
            step[(n + threads - 1) // threads, threads](WT, y, U[t], Y[t])
            y = Y[t]
        env.sync()
        return Y
    return Case(run, _back, f"{T} (one per step) + 2 GEMMs", T, notes)


def rnn_persistent(w: str, d: tuple, env: Env) -> Case:
    """looptrace's hand-written persistent single-block kernel (codegen/cuda/recurrence.py)."""
    from looptrace.codegen.cuda import limits, recurrence as rec

    X, y0, W1, W2, W3 = d
    cp, make_U, notes = _hoisted_U(d, env)
    lim = limits.device_limits() if env.mode == "gpu" else limits.HOPPER
    plan = rec.plan_single_block(y0.shape[0], X.dtype, lim)
    notes.append(plan.reason)
    T, n = X.shape[0] - 1, y0.shape[0]
    WT, Wd, y0d = env.to(np.ascontiguousarray(W1.T)), env.to(W1), env.to(y0)
    Y = env.empty((T, n), X.dtype)
    as_dev = (lambda a: env.cuda.as_cuda_array(a)) if cp is not None else (lambda a: a)
    if w != "rnn_taps_grad":
        def run():
            rec.launch_forward(as_dev(make_U()), WT, y0d, Y, env.mode, plan)
            env.sync()
            return Y
        return Case(run, _back, "1 persistent + 2 GEMMs", T, notes)
    return _rnn_persistent_grad(d, env, cp, make_U, as_dev, plan, WT, Wd, y0d, Y, notes)


def rnn_persistent_coop(w: str, d: tuple, env: Env) -> Case:
    """looptrace's cooperative multi-block kernels (codegen/cuda/cooperative.py): W^T split over blocks' shared memory."""
    from looptrace.codegen.cuda import cooperative as coop, limits

    X, y0, W1, W2, W3 = d
    T, n, dt = X.shape[0] - 1, y0.shape[0], X.dtype
    lim = limits.device_limits() if env.mode == "gpu" else limits.HOPPER
    # at most 16 blocks; the launch checks max_cooperative_grid_blocks and says so if this is too many
    plan = coop.plan_cooperative(n, dt, 1 if env.mode == "sim" else 16, lim)
    cp, make_U, notes = _hoisted_U(d, env)
    notes.append(plan.reason)
    as_dev = (lambda a: env.cuda.as_cuda_array(a)) if cp is not None else (lambda a: a)
    WT, Wd, y0d = env.to(np.ascontiguousarray(W1.T)), env.to(W1), env.to(y0)
    Y, H = env.empty((T, n), dt), env.empty((2, n), dt)
    if w != "rnn_taps_grad":
        def run():
            coop.launch_coop_forward(as_dev(make_U()), WT, y0d, Y, H, env.mode, plan)
            env.sync()
            return Y
        return Case(run, _back, f"1 cooperative ({plan.blocks} blocks) + 2 GEMMs", T, notes)
    GY, g_last = env.to(np.ones((T, n), dt)), env.to(np.zeros(n, dt))
    DA, gh0 = env.empty((T, n), dt), env.empty(n, dt)

    def run_grad():
        coop.launch_coop_forward(as_dev(make_U()), WT, y0d, Y, H, env.mode, plan)
        coop.launch_coop_reverse(Y, Wd, GY, g_last, DA, gh0, H, env.mode, plan)
        if cp is None:
            return _back(DA).T @ np.vstack([y0[None], _back(Y)[:-1]])
        A, Xc = cp.asarray(DA), cp.asarray(X)
        dW1 = A.T @ cp.concatenate([cp.asarray(y0)[None], cp.asarray(Y)[:-1]])
        dW2, dW3 = A.T @ Xc[1:], A.T @ Xc[:-1]
        cp.cuda.Stream.null.synchronize()
        return dW1, dW2, dW3
    return Case(run_grad, _back if cp is None else (lambda r: r[0].get()),
                f"2 cooperative ({plan.blocks} blocks) + 5 GEMMs", 2 * T, notes)


def _rnn_persistent_grad(d, env, cp, make_U, as_dev, plan, WT, Wd, y0d, Y, notes) -> Case:
    from looptrace.codegen.cuda import recurrence as rec

    X, y0 = d[0], d[1]
    T, n = Y.shape
    GY, g_last = env.to(np.ones((T, n), X.dtype)), env.to(np.zeros(n, X.dtype))
    DA, gh0 = env.empty((T, n), X.dtype), env.empty(n, X.dtype)

    def run():
        rec.launch_forward(as_dev(make_U()), WT, y0d, Y, env.mode, plan)
        rec.launch_reverse(Y, Wd, GY, g_last, y0d, DA, gh0, env.mode, plan)
        if cp is None:  # weight gradients on the host in the dry run
            A, Yh = _back(DA), _back(Y)
            dW1 = A.T @ np.vstack([y0[None], Yh[:-1]])
            return dW1
        A, Yc, Xc = cp.asarray(DA), cp.asarray(Y), cp.asarray(X)
        dW1 = A.T @ cp.concatenate([cp.asarray(y0)[None], Yc[:-1]])
        dW2, dW3 = A.T @ Xc[1:], A.T @ Xc[:-1]
        cp.cuda.Stream.null.synchronize()
        return dW1, dW2, dW3
    return Case(run, _back if cp is None else (lambda r: r[0].get()), "2 persistent + 5 GEMMs", 2 * T, notes)


# --- gaussian_layer and batched_conv: one fused kernel / one batched product ------------------------


def gauss_jax(w, d, env):
    jax, jnp, _ = _jax()

    @jax.jit
    def f(x, W, S):
        diff = W.T[None, :, :] - x[:, None, :]
        norm = jnp.sqrt(jnp.sum(diff * diff, axis=-1))
        return jnp.exp(-(norm**2)) / 2 * S**2
    args = [jax.device_put(a) for a in d]
    return Case(lambda: f(*args).block_until_ready(), np.asarray, "XLA fusion", 0,
                _device_note(jax.devices()[0].platform))


def gauss_torch(w, d, env):
    torch, dev = _torch()
    x, W, S = (torch.from_numpy(a).to(dev) for a in d)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    def run():
        diff = W.T[None, :, :] - x[:, None, :]
        out = torch.exp(-(torch.sqrt((diff * diff).sum(-1)) ** 2)) / 2 * S**2
        sync()
        return out
    return Case(run, lambda o: o.cpu().numpy(), "eager", 0, _device_note(dev),
                count=_torch_launches(torch, run) if dev == "cuda" else None)


def gauss_cupy(w, d, env):
    cp = _cupy()
    x, W, S = (cp.asarray(a) for a in d)

    def run():
        diff = W.T[None, :, :] - x[:, None, :]
        out = cp.exp(-(cp.sqrt((diff * diff).sum(-1)) ** 2)) / 2 * S**2
        cp.cuda.Stream.null.synchronize()
        return out
    return Case(run, cp.asnumpy, "~7", 0)


def gauss_hand_kernel(w, d, env):
    """One fused kernel per output element (what looptrace's generator should emit for this nest)."""
    x, W, S = d

    @env.cuda.jit
    def fused(x, W, S, out):
        B, D = x.shape
        H = W.shape[1]
        for k in range(cuda.grid(1), B * H, cuda.gridsize(1)):
            i, j = k // H, k % H  # consecutive threads: consecutive j, so W[d, j] reads coalesce
            sq = 0.0
            for dd in range(D):
                diff = W[dd, j] - x[i, dd]
                sq += diff * diff
            norm = math.sqrt(sq)
            out[i, j] = math.exp(-(norm * norm)) / 2 * (S[j] * S[j])

    xd, Wd, Sd = env.to(x), env.to(W), env.to(S)
    out = env.empty((x.shape[0], W.shape[1]), x.dtype)
    blocks = 132 * 4 if env.mode == "gpu" else 2

    def run():
        fused[blocks, 256 if env.mode == "gpu" else 8](xd, Wd, Sd, out)
        env.sync()
        return out
    return Case(run, _back, "1", 0)


def conv_jax(w, d, env):
    jax, jnp, _ = _jax()
    f = jax.jit(lambda W_all, masks, im2col, bias: jnp.einsum("pfk,npks->nfs", W_all * masks, im2col) + bias)
    args = [jax.device_put(a) for a in d]
    return Case(lambda: f(*args).block_until_ready(), np.asarray, "XLA", 0, _device_note(jax.devices()[0].platform))


def conv_torch(w, d, env):
    torch, dev = _torch()
    W_all, masks, im2col, bias = (torch.from_numpy(a).to(dev) for a in d)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    def run():
        N, P, K, S = im2col.shape
        Wm = (W_all * masks).permute(1, 0, 2).reshape(W_all.shape[0], P * K)
        out = Wm @ im2col.reshape(N, P * K, S) + bias
        sync()
        return out
    return Case(run, lambda o: o.cpu().numpy(), "eager", 0, _device_note(dev),
                count=_torch_launches(torch, run) if dev == "cuda" else None)


def conv_cupy(w, d, env):
    cp = _cupy()
    W_all, masks, im2col, bias = (cp.asarray(a) for a in d)

    def run():
        N, P, K, S = im2col.shape
        Wm = (W_all * masks).transpose(1, 0, 2).reshape(W_all.shape[0], P * K)
        out = cp.matmul(Wm, im2col.reshape(N, P * K, S)) + bias
        cp.cuda.Stream.null.synchronize()
        return out
    return Case(run, cp.asnumpy, "~4 (cuBLAS batched GEMM)", 0)


# --- scalar and linear recurrences ----------------------------------------------------------------


JAX_SCALAR_STEPS = 10**5  # JAX's host-driven loop costs ~8 us/step on a GPU: 10^6 steps would take 8 s a call


def scalar_jax(w, d, env):
    jax, jnp, lax = _jax()
    f = jax.jit(lambda x: lax.scan(lambda y, xt: (0.9 * y + xt, None), jnp.zeros((), x.dtype), x)[0])
    xs = d[0][:JAX_SCALAR_STEPS]
    x = jax.device_put(xs)
    notes = _device_note(jax.devices()[0].platform)
    if xs.shape[0] < d[0].shape[0]:
        notes.append(f"timed on the first {xs.shape[0]} steps (per-step cost comparable, total not)")
    y = 0.0
    for v in xs:
        y = 0.9 * y + v
    return Case(lambda: f(x).block_until_ready(), lambda r: np.asarray(r).reshape(1), "host-driven While",
                xs.shape[0], notes, expect=np.asarray([y]))


def scalar_persistent(w, d, env):
    """The linear-scan sequential kernel with one channel: the whole loop in one thread of one launch."""
    from looptrace.codegen.cuda import linear_scan as ls

    x = d[0]
    a = env.to(np.full((x.shape[0], 1), 0.9, x.dtype))
    b, h0 = env.to(x[:, None]), env.to(np.zeros(1, x.dtype))
    H = env.empty((x.shape[0], 1), x.dtype)
    kernel = ls.sequential_kernel(x.dtype, env.mode)

    def run():
        kernel[1, 1](a, b, h0, H)
        env.sync()
        return H
    return Case(run, lambda H: _back(H)[-1], "1", x.shape[0])


def linear_jax(w, d, env):
    jax, jnp, lax = _jax()
    a, b, h0 = d
    f = jax.jit(lambda a, b, h0: lax.scan(lambda h, ab: ((ab[0] * h + ab[1]),) * 2, h0, (a, b))[1])
    fa = jax.jit(lambda a, b, h0: lax.associative_scan(
        lambda p, q: (p[0] * q[0], q[0] * p[1] + q[1]), (a, b.at[0].add(a[0] * h0)))[1])
    args = [jax.device_put(v) for v in d]
    return {"jax scan": Case(lambda: f(*args).block_until_ready(), np.asarray, "host-driven While", a.shape[0],
                             _device_note(jax.devices()[0].platform)),
            "jax assoc_scan": Case(lambda: fa(*args).block_until_ready(), np.asarray, "XLA", a.shape[0],
                                   _device_note(jax.devices()[0].platform))}


def linear_persistent(w, d, env):
    from looptrace.codegen.cuda import linear_scan as ls

    a, b, h0 = d
    ad, bd, hd = env.to(a), env.to(b), env.to(h0)
    H = env.empty(a.shape, a.dtype)
    seq = ls.sequential_kernel(a.dtype, env.mode)
    small = {} if env.mode == "gpu" else dict(cx=4, ty=2, items=2)

    def run_chunked():
        ls.chunked_scan(ad, bd, hd, H, env.mode, env.empty, **small)
        env.sync()
        return H

    def run_seq():
        seq[max(1, a.shape[1] // 32), 32](ad, bd, hd, H)
        env.sync()
        return H
    return {"chunked scan": Case(run_chunked, _back, "3", a.shape[0]),
            "sequential/channel": Case(run_seq, _back, "1", a.shape[0])}


# --- langevin: x = x + dt*(x - x**3) + s*noise[t], every point alone (a pointwise scan) ----------


def langevin_jax(w, d, env):
    jax, jnp, lax = _jax()
    x0, noise, dt, s = d
    f = jax.jit(lambda x0, noise: lax.scan(lambda x, n: (x + dt * (x - x * x * x) + s * n, None), x0, noise)[0])
    args = [jax.device_put(x0), jax.device_put(noise)]
    return Case(lambda: f(*args).block_until_ready(), np.asarray, "host-driven While", noise.shape[0],
                _device_note(jax.devices()[0].platform))


def langevin_torch(w, d, env):
    torch, dev = _torch()
    x0, noise, dt, s = d
    xt, nt = torch.from_numpy(x0).to(dev), torch.from_numpy(noise).to(dev)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    def run():
        x = xt.clone()
        for t in range(nt.shape[0]):
            x = x + dt * (x - x * x * x) + s * nt[t]
        sync()
        return x
    return Case(run, lambda o: o.cpu().numpy(), "eager", noise.shape[0], _device_note(dev),
                count=_torch_launches(torch, run) if dev == "cuda" else None)


def langevin_cupy(w, d, env):
    cp = _cupy()
    x0, noise, dt, s = d
    xd, nd = cp.asarray(x0), cp.asarray(noise)

    def run():
        x = xd.copy()
        for t in range(nd.shape[0]):
            x = x + dt * (x - x * x * x) + s * nd[t]
        cp.cuda.Stream.null.synchronize()
        return x
    return Case(run, cp.asnumpy, f"~{5 * noise.shape[0]}", noise.shape[0])
