"""Every kernel the cuda target generates compiles to sm_90 PTX (no GPU needed).

The simulator type-checks nothing, so each generated module is also emitted
for a GPU ("gpu" mode: the launch geometry and cuBLAS choice of a device)
and each of its kernels compiled with numba.cuda.compile_ptx for sm_90 with
the argument types the host function passes; a typing or lowering error
fails the test. The seed programs are compiled with each scan strategy; the
completeness samples (tests/codegen/samples.py) as a bounded default set,
all of them under `-m slow` (as are the host-driven variants). For the persistent kernels, ptxas' report
(through nvJitLink) must show no spills and, for a single block, at most 64
registers per thread, so a 1,024-thread block fits the 65,536 registers of
an SM.
"""
import numpy as np
import pytest

import looptrace as lt
from looptrace import pipeline
from looptrace.codegen.cuda import module, ptxinfo
from looptrace.codegen.cuda.runner import CudaRunner, emit_program, module_source
from looptrace.examples import PROGRAMS, _rnn_args
from tests.codegen.samples import SAMPLES

DEFAULT_SAMPLES = ["indexing", "regions", "reductions_float32"]
LOOPS = ["rnn_taps", "multi_taps", "powers_of_two", "noisy_rnn"]


def gpu_module(program, name):
    em = emit_program(program, "gpu")
    source = module_source(em)
    ns = module.load(source, name, "gpu")
    return CudaRunner(program, em, source, ns, "gpu"), ns


def compile_all(program, name, only: str = "") -> dict:
    """Compile every kernel (whose name starts with `only`) of the program's gpu-mode module;
    returns name -> PTX."""
    runner, ns = gpu_module(program, name)
    out = {}
    for kname, sig, op in runner.kernel_signatures():
        if not kname.startswith(only):
            continue
        try:
            out[kname] = ptxinfo.compile_ptx(ns[kname], sig)
        except Exception as e:  # a typing or lowering error: name the op and show the kernel
            where = f"{op.prim.name} at {op.loc}" if op is not None else "?"
            pytest.fail(f"{name}: kernel {kname} ({where}) does not compile: {type(e).__name__}: {e}\n"
                        f"{runner.kernels[kname].code.source()}")
    return out


def seed_program(name):
    p = PROGRAMS[name]
    args = _rnn_args(np.random.default_rng(0), T=9, nx=3, ny=5) if name == "rnn_taps" else \
        p["make_args"](np.random.default_rng(0))
    return pipeline.run_passes(lt.jit(p["fn"], backend="interpret").trace(list(args)))


def test_seed_program_kernels_compile(ptx_ok):
    for name in PROGRAMS:
        if name != "bad_join":
            compile_all(seed_program(name), name)


def test_cooperative_kernels_compile(ptx_ok, monkeypatch):
    """The persistent kernels of the loops, as cooperative grids (grid sync, partials per block)."""
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", "coop")
    for name in LOOPS:
        assert compile_all(seed_program(name), name, only="scan")


@pytest.mark.slow
def test_host_driven_kernels_compile(ptx_ok, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", "host")
    for name in LOOPS:
        compile_all(seed_program(name), name)


@pytest.mark.parametrize("name", DEFAULT_SAMPLES)
def test_sample_kernels_compile(ptx_ok, name):
    compile_all(SAMPLES[name](np.random.default_rng(0)).program, name)


# Samples the cuda target refuses, and the refusal's words: the cuda backend
# has no slogdet and no partition yet. Each must still be refused clearly; a
# sample that starts to compile fails here until it leaves this list.
CUDA_GAPS = {"factorizations_float32": "np.linalg.slogdet", "factorizations_float64": "np.linalg.slogdet",
             "partition": "np.partition", "discrete_random": "Generator.poisson",
             "discrete_random_scalars": "Generator.binomial",
             "grown_list_buffer": "a list appended to in a while loop, or popped in the loop that appends to it "
                                  r"\(a work stack or queue\),",
             "legacy_random": r"\(NumPy's legacy global random state\)",
             "printing": "print\\(\\) of traced values",
             "exact_sums": r"math.fsum\(\)"}  # (cuda refuses it: codegen/cuda/rules/exact_sum.py)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(SAMPLES) - set(DEFAULT_SAMPLES)))
def test_every_sample_kernel_compiles(ptx_ok, name):
    program = SAMPLES[name](np.random.default_rng(0)).program
    if name in CUDA_GAPS:
        with pytest.raises(lt.UnsupportedError, match=f"{CUDA_GAPS[name]} is not supported by the cuda backend"):
            compile_all(program, name)
        return
    compile_all(program, name)


def rnn_loss(X, y0, W1, W2, W3):
    return PROGRAMS["rnn_taps"]["fn"](X, y0, W1, W2, W3).sum()


@pytest.mark.parametrize("checkpoint", [None, pytest.param(3, marks=pytest.mark.slow)])
def test_gradient_kernels_compile(ptx_ok, checkpoint):
    from looptrace.autodiff.vjp import Options, gradient_program

    traced = lt.jit(rnn_loss, backend="interpret").trace(list(_rnn_args(np.random.default_rng(0), T=9, nx=3, ny=5)))
    program = gradient_program(traced, [1, 2, 3, 4], Options(checkpoint=checkpoint))
    compile_all(pipeline.run_passes(program), "grad")


# float32 with -m slow (the same persistent kernel in the narrower dtype, 1.1 s in e17f737's CI): float64
# holds more registers, the limit this checks
@pytest.mark.parametrize("dtype", [pytest.param("float32", marks=pytest.mark.slow), "float64"])
def test_persistent_kernel_resources(ptx_ok, dtype, monkeypatch):
    """rnn_taps at seed size: the persistent kernel's registers leave room for 1,024 threads, no spills."""
    p = PROGRAMS["rnn_taps"]
    args = [a.astype(dtype) for a in _rnn_args(np.random.default_rng(0), T=1001, nx=100, ny=200)]
    program = pipeline.run_passes(lt.jit(p["fn"], backend="interpret").trace(args))
    ptx = compile_all(program, "rnn_taps", only="scan")
    (scan,) = ptx
    res = ptxinfo.resources(ptx[scan])
    assert not res.spills and res.local_bytes == 0
    assert res.registers <= 64, res.log


def library_shapes(x, a, b, c, idx, w, counts):
    """Tree reductions (to one value and to a few rows), tiled products, a chunked scan, atomics."""
    h = 0.0
    H = np.empty((x.shape[0], 2))
    for t in range(x.shape[0]):
        h = 0.9 * h + x[t]
        H[t] = h
    for i in range(idx.shape[0]):
        counts[idx[i]] += w[i]
    return H, np.sum(x * x), np.exp(c.sum(axis=0)), a @ b, np.einsum("bij,bkj->bki", c[None], c[None]), counts


def test_tree_product_scan_and_atomic_kernels_compile(ptx_ok):
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((5000, 2)), rng.standard_normal((64, 96)), rng.standard_normal((96, 32)),
            rng.standard_normal((5000, 3)), rng.integers(0, 4, 300), rng.standard_normal(300), np.zeros(4)]
    program = pipeline.run_passes(lt.jit(library_shapes, backend="interpret").trace(args))
    runner, _ = gpu_module(program, "library_shapes")
    kinds = {rec.kind for rec in runner.kernels.values()}
    assert {"tree", "gemm"} <= kinds, kinds
    assert "rt.chunked_scan(" in runner.source and "cuda.atomic.add" in runner.source
    compile_all(program, "library_shapes")


def _sorted_steps(x, w):
    h = np.zeros(x.shape[1])
    for t in range(x.shape[0]):
        h = np.sort(np.tanh(w * h + x[t]))
    return h, np.argsort(x, axis=0, kind="stable")


@pytest.mark.parametrize("name", ["checks", "special_float32"])
def test_issue_10_and_11_sample_kernels_compile(ptx_ok, name):
    """Run-time checks (atomic max, compare-and-swap of the flag), special functions, complex parts."""
    compile_all(SAMPLES[name](np.random.default_rng(0)).program, name)


def test_check_and_sort_in_persistent_kernels_compile(ptx_ok, monkeypatch):
    from tests.reliability._check_programs import in_while

    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", "single")
    traced = lt.jit(in_while, backend="interpret").trace([np.ones(6)])
    assert compile_all(pipeline.run_passes(traced), "in_while", only="scan")
    rng = np.random.default_rng(0)
    traced = lt.jit(_sorted_steps, backend="interpret").trace([rng.standard_normal((4, 6)), rng.standard_normal(6)])
    assert compile_all(pipeline.run_passes(traced), "sorted_steps")
