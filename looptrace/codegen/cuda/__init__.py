"""The numba.cuda target: hand-written kernels and the runtime they need.

This package imports nothing heavy: numba-cuda is imported by the modules
that need it, on first use, and a missing or unusable numba-cuda surfaces as
`runtime.CudaUnavailableError` with an install hint, never at `import
looptrace`. The target registration (`Target` for `backend="cuda"`, the
per-primitive lowering rules, the strategy choice for scans) comes with the
backend seam (issue 9); what is here does not depend on it:

- `runtime`: numba-cuda, its simulator and the device, with clear failures;
- `ptxinfo`: compile a kernel to PTX for sm_90 and read its registers and
  shared memory without a GPU;
- `limits`: device limits, launch configurations, shared-memory budgets;
- `pool`: the device memory pool (no allocation per step);
- `reduce`, `elementwise`, `recurrence`, `cooperative`, `linear_scan`: the
  kernel library the generator emits or calls.

Every kernel builder takes `mode`: "gpu" builds with `numba.cuda.jit` (for a
device, and for PTX compilation on any machine), "sim" with the CUDA
simulator, so one process can check values under the simulator and compile
the same kernel source to PTX. docs/cuda-notes.md has the environment facts.
"""
