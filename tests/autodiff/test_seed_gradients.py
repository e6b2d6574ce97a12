"""Every `grad_wrt` entry of the seed programs matches central finite
differences in float64 (relative 1e-5) on the interpret backend, at small
sizes. noisy_rnn gets a fresh generator of the same seed for every
evaluation, so the noise is the same constant each time."""

import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad
from looptrace.examples import PROGRAMS, _conv_args, _noisy_args, _rnn_args

SMALL = {
    "rnn_taps": lambda r: _rnn_args(r, T=8, nx=3, ny=4),
    "batched_conv": lambda r: _conv_args(r, N=2, P=2, F=2, K=3, S=4),
    "multi_taps": lambda r: (r.standard_normal((12, 2)), r.standard_normal((5, 2))),
    "noisy_rnn": lambda r: _noisy_args(r, T=5, nx=2, nh=3, nz=2),
}
BACKEND = "interpret"
CASES = [(name, i) for name, e in PROGRAMS.items() for i in e["grad_wrt"]]


def fresh(args, seed=7):
    """Copies of `args` with any generator replaced by a fresh one of `seed`."""
    return [np.random.default_rng(seed) if isinstance(a, np.random.Generator) else a for a in args]


@pytest.mark.parametrize("name,argnum", CASES)
def test_grad_matches_finite_differences(name, argnum, rng):
    entry = PROGRAMS[name]
    args = list(SMALL.get(name, entry["make_args"])(rng))
    fn = entry["fn"]

    def loss(*xs):
        return float(np.sum(fn(*fresh(xs))))

    jitted = looptrace.jit(fn, backend=BACKEND)
    grad = looptrace.grad(lambda *xs: jitted(*xs).sum(), argnums=argnum, backend=BACKEND)(*fresh(args))
    x = args[argnum]
    assert np.shape(grad) == np.shape(x)
    assert np.asarray(grad).dtype == np.asarray(x).dtype
    assert_close(grad, numerical_grad(loss, args, argnum), 1e-5, f"{name} argument {argnum}")


def test_noisy_rnn_all_weights_at_once(rng):
    fn = PROGRAMS["noisy_rnn"]["fn"]
    args = list(SMALL["noisy_rnn"](rng))
    value, grads = looptrace.value_and_grad(looptrace.jit(fn, backend=BACKEND),
                                            argnums=(2, 3, 4, 5))(*fresh(args))
    np.testing.assert_allclose(value, fn(*fresh(args)), rtol=1e-9)
    for g, i in zip(grads, (2, 3, 4, 5)):
        assert_close(g, numerical_grad(lambda *xs: fn(*fresh(xs)), args, i), 1e-5, f"noisy_rnn {i}")


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_checkpointing_gives_the_same_gradients(k, rng):
    args = _rnn_args(rng, T=12, nx=3, ny=4)
    jitted = looptrace.jit(PROGRAMS["rnn_taps"]["fn"], backend=BACKEND)

    def loss(*xs):
        return (jitted(*xs) ** 2).sum()

    full = looptrace.grad(loss, argnums=(1, 2, 3, 4), backend=BACKEND)(*args)
    ckpt = looptrace.grad(loss, argnums=(1, 2, 3, 4), checkpoint=k, backend=BACKEND)(*args)
    for a, b in zip(full, ckpt):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


# The CPU backend runs the same gradient programs (a few cases: each costs a
# Numba compile).
CPU_CASES = [("sum_reduce", 0), ("polynomial", 2), ("batched_conv", 3), ("rnn_taps", 2)]


@pytest.mark.parametrize("name,argnum", CPU_CASES)
def test_grad_on_the_cpu_backend_matches_interpret(name, argnum, rng):
    entry = PROGRAMS[name]
    args = list(SMALL.get(name, entry["make_args"])(rng))
    grads = []
    for backend in ("interpret", "cpu"):
        jitted = looptrace.jit(entry["fn"], backend=backend)
        loss = looptrace.grad(lambda *xs: jitted(*xs).sum(), argnums=argnum, backend=backend)
        grads.append(loss(*fresh(args)))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-12)


GRAD_PROGRAMS = [name for name, e in PROGRAMS.items() if e["grad_wrt"]]


@pytest.mark.parametrize("name", GRAD_PROGRAMS)
def test_every_grad_wrt_entry_on_the_cpu_backend_matches_finite_differences(name, rng):
    """All of a program's grad_wrt arguments in one gradient (one compile)."""
    entry = PROGRAMS[name]
    args = list(SMALL.get(name, entry["make_args"])(rng))
    fn, wrt = entry["fn"], tuple(entry["grad_wrt"])
    jitted = looptrace.jit(fn, backend="cpu")
    grads = looptrace.grad(lambda *xs: jitted(*xs).sum(), argnums=wrt, backend="cpu")(*fresh(args))

    def loss(*xs):
        return float(np.sum(fn(*fresh(xs))))

    for g, i in zip(grads, wrt):
        assert np.shape(g) == np.shape(args[i])
        assert_close(g, numerical_grad(loss, args, i), 1e-5, f"{name} argument {i} on cpu")
