"""The cuda target's lowering rules, one module per primitive family; each
registers one rule per primitive into codegen/cuda/target.py's TARGET."""
from . import check, contract, decomp, exact_sum, factorizations, fft, indexing, partition, printing, random, recurrence, reductions, regions, scalar, shape, sort, special  # noqa: F401
