"""How many PTX instructions the hot loop of a persistent scan spends per multiply-add.

On the GPU a single-block scan runs on one SM, so its step time is the
instructions its threads issue (bench/README.md, the H200 run of
2026-12-04: rnn_taps' scan at 9.3 us per step, about what the issue rate of
one SM gives for the kernel's instruction count). The inner product of a
matvec step is where those instructions are: two loads and one fma per
multiply-add are needed, the rest is index arithmetic. These tests compile
the scan of rnn_taps to sm_90 PTX (no GPU needed) and count the
instructions from its first fma to its last, per fma. Before element
offsets were cast to uint64 (codegen/cuda/device.py INDEX) numba's
negative-index wraparound put 18 instructions around each fma; now 3.4-5.4
(split over lanes, splitk.py: 3.5 float32 single, 5.1 coop; unsplit 5.4).
"""
import re

import numpy as np
import pytest

import looptrace as lt
from looptrace import pipeline
from looptrace.codegen.cuda import module, ptxinfo
from looptrace.codegen.cuda.runner import CudaRunner, emit_program, module_source
from looptrace.examples import _rnn_args, rnn_taps

MAX_PER_FMA = 8.0


def per_fma(ptx: str) -> float:
    """PTX instructions from the kernel's first fma to its last, per fma: the inner
    products' loops (or their full unrolling), and what little sits between them."""
    lines = [line.strip() for line in ptx.splitlines()]
    instructions = [x for x in lines if x.endswith(";") and not x.startswith((".", "//")) and not x.startswith("$")]
    at = [k for k, x in enumerate(instructions) if re.match(r"(@%p\d+\s+)?fma\.", x)]
    assert at, "no fma in the kernel"
    return (at[-1] - at[0] + 1) / len(at)


def scan_ptx(dtype, ny: int) -> tuple[str, str]:
    args = [a.astype(dtype) for a in _rnn_args(np.random.default_rng(0), T=101, nx=8, ny=ny)]
    program = pipeline.run_passes(lt.jit(rnn_taps, backend="interpret").trace(list(args)))
    em = emit_program(program, "gpu")
    source = module_source(em)
    ns = module.load(source, "rnn_taps_loops", "gpu")
    runner = CudaRunner(program, em, source, ns, "gpu")
    for name, sig, _ in runner.kernel_signatures():
        if name.startswith("scan"):
            return ptxinfo.compile_ptx(ns[name], sig), runner.kernels[name].code.source()
    raise AssertionError("rnn_taps has no persistent scan kernel")


def test_counter():
    ptx = """
	ld.shared.f32 	%f1, [%rd1];
	fma.rn.f32 	%f2, %f1, %f1, %f2;
	add.s64 	%rd1, %rd1, 4;
	ld.shared.f32 	%f1, [%rd1];
	fma.rn.f32 	%f2, %f1, %f1, %f2;
	st.global.f32 	[%rd2], %f2;
"""
    assert per_fma(ptx) == 2.0


@pytest.mark.parametrize("dtype, ny, strategy, lanes", [
    (np.float32, 200, "single", ""),  # seed size: W in shared memory, the product split over 4 lanes
    (np.float64, 200, "single", ""),  # 320 KB of W: read from global memory (L2)
    (np.float32, 200, "coop", ""),
    (np.float32, 200, "single", "1"),  # not split: one thread per element
])
def test_matvec_spends_few_instructions_per_fma(ptx_ok, monkeypatch, dtype, ny, strategy, lanes):
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", strategy)
    monkeypatch.setenv("LOOPTRACE_CUDA_LANES", lanes)
    ptx, source = scan_ptx(dtype, ny)
    worst = per_fma(ptx)
    assert worst <= MAX_PER_FMA, f"{worst:.1f} PTX instructions per fma:\n{source}"
