"""The Numba CPU target (backend="cpu").

  target.py      the Target object the rule modules register into
  kernel.py      compile: emit, write, import, wrap as a Runner; errors mapped to the user's line
  emitter.py     the kernel's source text and the emitter API rules write through
  nest.py        loop nests of fusion roots (elementwise chains, folds, interchange)
  scalar.py      elementwise rules (ScalarRule)            shape.py    reshape/transpose/broadcast/iota
  reductions.py  folds and argmax/argmin                    indexing.py slices, gathers, scatters
  contract.py    einsum: BLAS products or loops             random.py   generator draws
  sort.py        sort, argsort by lanes (templates.py)       check.py    run-time checks (raise, assert)
  decomp.py      solve, inv, det, cholesky (lapack.py)
  fft.py         fft, rfft, irfft: NumPy's pocketfft in object mode
  regions.py     for/while/cond as Python control flow     recurrence.py linear_scan, matrix_power_apply
  pointwise.py   a scan whose body updates each point from that point only: blocks of points through all steps
  special.py     erf, gamma, digamma, ...; complex parts    specialfn.py digamma/trigamma (codegen/scalar_algorithms.py) in Numba
  mathlib.py     vectorizable exp/tanh/log/expm1/log1p      templates.py helpers kernels call
  cache.py       the disk cache of generated modules        malloc.py   glibc malloc thresholds
  generic.py     shape-generic kernels: signatures differing only in numeric literals share one compile
"""
from . import check, contract, decomp, exact_sum, factorizations, fft, indexing, partition, printing, random, recurrence, reductions, regions, scalar, shape, sort, special  # noqa: F401  (register rules)
from .kernel import CpuKernel, compile_program
from .target import TARGET

TARGET.compile_program = compile_program

__all__ = ["TARGET", "CpuKernel", "compile_program"]
