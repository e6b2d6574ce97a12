"""The seed programs (looptrace/examples.py) on backend="cuda", under the simulator.

Each program runs on fresh random data and is compared with the plain
function: values, and the effects on its arguments. NumPy inputs give NumPy
outputs; device arrays in give device arrays out, and an in-place write lands
in the caller's device array; backend="auto" picks cuda for device arrays.
`explain` names each loop's GPU strategy. Small sizes: the simulator runs one
OS thread per CUDA thread.
"""
import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cuda import runtime
from looptrace.examples import PROGRAMS, _conv_args, _rnn_args

from _cuda_support import HAVE_DEVICE, assert_like_plain, cuda_backend

SMALL = {
    "rnn_taps": lambda rng: _rnn_args(rng, T=9, nx=3, ny=5),
    "batched_conv": lambda rng: _conv_args(rng, N=2, P=2, F=3, K=4, S=5),
}
NAMES = [n for n in PROGRAMS if n != "bad_join"]


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


@pytest.mark.parametrize("name", NAMES)
def test_seed_program_matches_plain(name, rng):
    p = PROGRAMS[name]
    args = SMALL.get(name, p["make_args"])(rng)
    jitted = lt.jit(p["fn"], backend="cuda")
    assert_like_plain(p["fn"], args, jitted)
    loops = jitted.explain(*args).loops
    assert [l.kind for l in loops] == p["expect"]
    for l in loops:
        if l.kind in ("scan", "while", "vectorized", "reduction") and name != "matrix_power":
            assert "GPU: " in l.reason, l.reason


def test_rnn_taps_runs_as_one_persistent_kernel(rng):
    args = _rnn_args(rng, T=9, nx=3, ny=5)
    e = lt.jit(PROGRAMS["rnn_taps"]["fn"], backend="cuda").explain(*args)
    (loop,) = e.loops
    assert "persistent single-block kernel" in loop.reason
    src = e.kernel_source
    assert src.count("rt.launch_team(") == 1 and "cuda.syncthreads()" in src
    assert any("staged in shared memory" in n for n in e.notes)


def test_float32_rnn(rng):
    args = [a.astype(np.float32) for a in _rnn_args(rng, T=7, nx=3, ny=4)]
    assert_like_plain(PROGRAMS["rnn_taps"]["fn"], args, lt.jit(PROGRAMS["rnn_taps"]["fn"], backend="cuda"),
                      rtol=1e-4, atol=1e-6)


def test_device_arrays_in_give_device_arrays_out(rng):
    sim = runtime.namespace("sim")
    fn = PROGRAMS["rnn_taps"]["fn"]
    args = _rnn_args(rng, T=7, nx=3, ny=4)
    dev = [sim.to_device(a) for a in args]
    out = lt.jit(fn)(*dev)  # backend="auto": device arrays pick cuda
    assert type(out).__name__ == "FakeCUDAArray"
    np.testing.assert_allclose(out.copy_to_host(), fn(*args), rtol=1e-9)
    for d, a in zip(dev, args):  # arguments untouched
        np.testing.assert_array_equal(d.copy_to_host(), a)


def test_in_place_writes_land_in_the_callers_device_array():
    sim = runtime.namespace("sim")
    counter = PROGRAMS["counter"]["fn"]
    state = sim.to_device(np.array([2.5]))
    assert lt.jit(counter)(state, 4) == 6.5
    np.testing.assert_array_equal(state.copy_to_host(), [6.5])
    host = np.array([1.0])
    assert lt.jit(counter, backend="cuda")(host, 3) == 4.0 and host[0] == 4.0


def test_device_results_do_not_alias_arguments_or_each_other(rng):
    sim = runtime.namespace("sim")

    def f(x):
        a = x.copy()
        return a, a * 1.0, x.copy()

    x = sim.to_device(rng.standard_normal(5))
    a, b, c = lt.jit(f)(x)
    a[0] = 100.0  # the caller mutates one result
    assert b.copy_to_host()[0] != 100.0 and c.copy_to_host()[0] != 100.0 and x.copy_to_host()[0] != 100.0


def test_numpy_and_device_calls_are_compiled_apart(rng):
    sim = runtime.namespace("sim")
    f = lt.jit(PROGRAMS["double_map"]["fn"])
    x = rng.standard_normal(6)
    assert isinstance(f(x), np.ndarray)  # auto with NumPy: cpu
    assert type(f(sim.to_device(x))).__name__ == "FakeCUDAArray"
    assert isinstance(f(x), np.ndarray)


def test_gaussian_layer_is_one_fused_kernel(rng):
    p = PROGRAMS["gaussian_layer"]
    args = p["make_args"](rng)
    src = lt.jit(p["fn"], backend="cuda").explain(*args).kernel_source
    assert src.count("rt.launch(") == 2  # S**2, then the fused distance-exp-scale root


# --- on a GPU (skipped without one) -------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU")
@pytest.mark.parametrize("name", NAMES)
def test_seed_program_on_a_gpu(name):
    p = PROGRAMS[name]
    args = p["make_args"](np.random.default_rng(0))  # the seed sizes
    jitted = lt.jit(p["fn"], backend="cuda")
    assert_like_plain(p["fn"], args, jitted)
    cuda = runtime.require_device()
    if name not in ("noisy_rnn", "counter", "powers_of_two", "polynomial", "matrix_power"):
        dev = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in args]
        out = lt.jit(p["fn"])(*dev)
        got = out.copy_to_host() if hasattr(out, "copy_to_host") else out
        np.testing.assert_allclose(got, p["fn"](*args), rtol=1e-9, atol=1e-12)


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_DEVICE, reason="no usable GPU")
def test_products_go_to_cublas_when_cupy_is_installed():
    cupy = pytest.importorskip("cupy")
    rng = np.random.default_rng(0)

    def f(a, b, c):
        return a @ b, np.einsum("bij,bkj->bki", c, c)

    args = (rng.standard_normal((64, 96)), rng.standard_normal((96, 32)), rng.standard_normal((4, 16, 8)))
    jitted = lt.jit(f, backend="cuda")
    assert_like_plain(f, args, jitted)
    assert any("cuBLAS through CuPy" in n for n in jitted.explain(*args).notes)
    out = lt.jit(f)(*[cupy.asarray(a) for a in args])  # CuPy arrays in: device arrays out
    np.testing.assert_allclose(out[0].copy_to_host(), args[0] @ args[1], rtol=1e-9)
