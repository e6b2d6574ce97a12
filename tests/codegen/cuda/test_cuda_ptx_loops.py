"""How many PTX instructions the hot loop of a persistent scan spends per multiply-add.

On the GPU a single-block scan runs on one SM, so its step time is the
instructions its threads issue (bench/README.md, the H200 run of
2026-12-04: rnn_taps' scan at 9.3 us per step, about what the issue rate of
one SM gives for the kernel's instruction count). The inner product of a
matvec step is where those instructions are: two loads and one fma per
multiply-add are needed, the rest is index arithmetic. These tests compile
the scan of rnn_taps to sm_90 PTX (no GPU needed) and count the
instructions of each loop that contains fmas, per fma. Before element
offsets were cast to uint64 (codegen/cuda/device.py INDEX) numba's
negative-index wraparound put 17 instructions around each fma.
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

_LABEL = re.compile(r"(\$L__BB\d+_\d+):$")


def fma_loops(ptx: str) -> list[tuple[int, int]]:
    """(instructions, fmas) of every block of the PTX that branches back to its own label and has fmas."""
    lines = [line.strip() for line in ptx.splitlines()]
    loops = []
    for i, line in enumerate(lines):
        label = _LABEL.match(line)
        if not label:
            continue
        back = re.compile(r"\bbra(\.uni)?\s+" + re.escape(label.group(1)) + ";")
        body = []
        for nxt in lines[i + 1:]:
            if _LABEL.match(nxt):
                break
            body.append(nxt)
            if back.search(nxt):
                break
        if not body or not back.search(body[-1]):
            continue
        instructions = [x for x in body if x.endswith(";") and not x.startswith((".", "//"))]
        fmas = sum(x.startswith("fma.") for x in instructions)
        if fmas:
            loops.append((len(instructions), fmas))
    return loops


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


def test_counter_sees_the_loops():
    ptx = """
$L__BB0_1:
	ld.shared.f32 	%f1, [%rd1];
	fma.rn.f32 	%f2, %f1, %f1, %f2;
	add.s64 	%rd1, %rd1, 4;
	@%p1 bra 	$L__BB0_1;
	add.s64 	%rd2, %rd1, 4;
$L__BB0_2:
	add.s64 	%rd1, %rd1, 4;
	@%p1 bra 	$L__BB0_1;
"""
    assert fma_loops(ptx) == [(4, 1)]


@pytest.mark.parametrize("dtype, ny, strategy", [
    (np.float32, 200, "single"),  # seed size: W^T in shared memory
    (np.float64, 200, "single"),  # 320 KB of W: read from global memory (L2)
    (np.float32, 200, "coop"),
])
def test_matvec_loop_spends_few_instructions_per_fma(ptx_ok, monkeypatch, dtype, ny, strategy):
    monkeypatch.setenv("LOOPTRACE_CUDA_SCAN", strategy)
    ptx, source = scan_ptx(dtype, ny)
    loops = fma_loops(ptx)
    assert loops, f"no loop with fmas in the scan kernel:\n{source}"
    worst = max(n / f for n, f in loops)
    assert worst <= MAX_PER_FMA, f"{worst:.1f} PTX instructions per fma in {loops}:\n{source}"
