"""Gradients on the cuda backend, under the simulator, against central finite differences (float64).

The gradient program goes through the same compile path: the forward scan
and the reverse scan each become a persistent kernel, and the weight
gradients hoisted products after them. checkpoint=k recomputes segments of
the forward loop inside the reverse one (a loop nested in the persistent
kernel). Gradients of device arrays stay on the device.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad
from looptrace.codegen.cuda import runtime
from looptrace.examples import _rnn_args, rnn_taps
from tests.autodiff import test_generated_loop_grads as gg

from _cuda_support import cuda_backend


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def loss(X, y0, W1, W2, W3):
    return np.sum(rnn_taps(X, y0, W1, W2, W3) ** 2)


def central_difference(f, args, k, eps=1e-6):
    x = np.array(args[k], dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        for sign in (1, -1):
            a = list(args)
            xi = x.copy()
            xi[i] += sign * eps
            a[k] = xi
            g[i] += sign * f(*a) / (2 * eps)
    return g


@pytest.mark.parametrize("checkpoint", [None, 3])
def test_rnn_taps_gradient_matches_finite_differences(checkpoint, rng):
    args = _rnn_args(rng, T=7, nx=2, ny=3)
    wrt = (1, 2, 3, 4)
    value, grads = lt.value_and_grad(lt.jit(loss, backend="cuda"), argnums=wrt, checkpoint=checkpoint,
                                     backend="cuda")(*args)
    assert value == pytest.approx(loss(*args), rel=1e-12)
    for k, g in zip(wrt, grads):
        np.testing.assert_allclose(g, central_difference(loss, args, k), rtol=1e-5, atol=1e-8)


def test_the_reverse_scan_is_a_persistent_kernel(rng):
    from looptrace.autodiff.api import _Differentiated

    args = _rnn_args(rng, T=7, nx=2, ny=3)
    d = _Differentiated(lt.jit(loss, backend="cuda"), None, "cuda")
    c, _, _ = d.compiled(d.jit.bind(args, {}), (2,), "grad")
    assert c.run.source.count("rt.launch_team(") == 2  # the forward scan and the reverse scan
    (note,) = c.run.loop_notes.values()
    assert note.count("persistent single-block kernel") == 2


def test_gradients_of_device_arrays_stay_on_the_device(rng):
    sim = runtime.namespace("sim")
    args = _rnn_args(rng, T=5, nx=2, ny=3)
    g = lt.grad(lt.jit(loss), argnums=2)(*[sim.to_device(a) for a in args])
    assert type(g).__name__ == "FakeCUDAArray"
    want = lt.grad(lt.jit(loss, backend="interpret"), argnums=2)(*args)
    np.testing.assert_allclose(g.copy_to_host(), want, rtol=1e-9, atol=1e-12)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=gg.programs(), n=st.integers(0, 5), strategy=st.sampled_from(["single", "coop", "host"]),
       seed=st.integers(0, 2**16))
def test_generated_loop_gradients(source, n, strategy, seed, tmp_path_factory, monkeypatch):
    """tests/autodiff/test_generated_loop_grads.py's programs (maps, reductions, recurrences,
    nested loops, break), their gradients on cuda against finite differences."""
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", strategy)
    f = gg.load(source, tmp_path_factory.getbasetemp())
    rng = np.random.default_rng(seed)
    x, w = rng.uniform(-1.0, 1.0, n), float(rng.uniform(0.5, 1.5))
    value, (gx, gw) = lt.value_and_grad(lt.jit(f, backend="cuda"), argnums=(0, 1), backend="cuda")(x, w)
    np.testing.assert_allclose(value, f(x, w), rtol=1e-9, atol=1e-12)
    assert_close(gx, numerical_grad(f, [x, w], 0), 1e-5, source)
    assert_close(np.asarray(gw), numerical_grad(f, [x, w], 1), 1e-5, source)
