"""The numba.cuda target (backend="cuda") and the kernel library it uses.

The target (emitted per program; docs/cuda-notes.md):
  target.py    the Target object the rules register into
  runner.py    compile: mode, emit, assemble, load; the Runner (copies in and
               out, device arrays in and out, errors named by the user's line)
  emitter.py   the walk: value locations, host lines, `parallel` blocks (a
               kernel each at the top level, a loop over a team inside a
               persistent kernel)
  values.py    where a value lives (host scalar, register, device Access)
  access.py    strided views of flat buffers      device.py  one kernel's text
  nest.py      a fusion root's loop (or view)     fuse.py    its element code
  contraction.py  an einsum's element             tree.py    tree reductions
  module.py    the module's source and its namespace per mode
  team.py      persistent kernels: the team and its storage
  persistent.py  a top-level loop as one kernel    team_loops.py  carries, nested control flow
  strategy.py  the cost model choosing each loop's strategy
  host.py      what the host function calls: pool, launches, fetches, errors
  rules/       one rule per primitive, by family
The kernel library (hand-written; the generator emits the same shapes):
  runtime      numba-cuda, its simulator and the device, with clear failures
  ptxinfo      PTX for sm_90 and ptxas' resource report, without a GPU
  limits       device limits, launch configurations, shared-memory budgets
  pool         the device memory pool
  reduce, elementwise, recurrence, cooperative, linear_scan: kernels

Importing this package imports no CUDA package: numba.cuda is imported on
first use, and a missing or unusable numba-cuda surfaces as
`runtime.CudaUnavailableError` with an install hint. Every kernel builder of
the library takes `mode`: "gpu" (numba.cuda.jit: a device, or PTX on any
machine) or "sim" (the CUDA simulator), so one process can check values
under the simulator and compile the same source to PTX.
"""
from . import rules  # noqa: F401  (register the rules)
from .runner import compile_program
from .target import TARGET

TARGET.compile_program = compile_program

__all__ = ["TARGET", "compile_program"]
