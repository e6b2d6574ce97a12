"""A corpus of scientific kernels written the way people write them: scalar
loops in the Numba-era style (math.* on scalars, explicit index loops),
already-vectorized NumPy, and the mix of both. Each kernel is a plain Python
function plus an input builder; `bench/corpus.py` runs them through looptrace
(and Numba), and `tests/test_corpus.py` checks the outcomes.

The kernels are written as users write them, not to fit what looptrace
supports: `expect` records what happens today on each backend ("ok" or
"error": a clear looptrace error). An outcome that changes must be re-recorded
here, on purpose; "wrong" and "timeout" are never acceptable expectations.

Every kernel module defines KERNELS, a list of `Kernel`s.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Kernel:
    name: str
    fn: Callable
    make: Callable[[np.random.Generator, str], tuple]  # (rng, "test" | "bench") -> arguments
    style: str  # "loop": scalar loops; "array": already-vectorized NumPy; "mixed"
    theme: str
    expect: dict = field(default_factory=lambda: {"interpret": "ok", "cpu": "ok"})
    rtol: float = 1e-9
    atol: float | None = None  # None: rtol / 1000
    note: str = ""  # why an outcome is what it is


def error() -> dict:
    """A clear looptrace error on both backends (say why in `note`)."""
    return {"interpret": "error", "cpu": "error"}


def all_kernels() -> list[Kernel]:
    from . import (
        algorithms,
        discrete,
        distances,
        domains,
        everyday,
        finance,
        grids,
        grouping,
        imaging,
        learning,
        linalg_loops,
        misc,
        nbody,
        odes,
        physics,
        probe_s53,
        probe_s54,
        signal,
        sparse,
        stats,
        stencils,
        stochastic,
    )

    out: list[Kernel] = []
    for mod in (stencils, nbody, finance, physics, signal, stats, grouping, distances, grids, misc, sparse,
                algorithms, linalg_loops, odes, stochastic, discrete, imaging, learning, domains,
                everyday, probe_s53, probe_s54):
        out.extend(mod.KERNELS)
    names = [k.name for k in out]
    assert len(names) == len(set(names)), "kernel names must be unique"
    return out
