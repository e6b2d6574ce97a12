"""The cpu kernels draw arrays of random values flat and reshape them
(codegen/cpu/random.py): each drawing helper is called with a size, not a
shape, so one compiled version of it serves every rank (a shape's tuple type
was one 1-6 s compile per rank on a machine's first use). The values of
these draws against NumPy's are tests/codegen/test_cpu_legacy_random.py's,
tests/tracer/test_random_poisson_binomial.py's and the lowering samples'.
"""
from __future__ import annotations

import re

import numpy as np

import looptrace


def draws_of_every_rank(x, rng):
    a = np.random.standard_normal((3, 4)) + np.random.random_sample(5).sum()
    b = np.random.randint(0, 9, (2, 2, 2))
    c = rng.standard_normal((2, 5))
    d = rng.integers(0, 7, (4, 3))
    e = rng.binomial(10, 0.3, (3, 3)) + rng.poisson(2.0, (3, 3))
    return a.sum() + b.sum() + c.sum() + d.sum() + e.sum() + x


HELPERS = ("legacy_normal_draws", "legacy_uniform_draws", "legacy_randint_draws", "normal_draws",
           "integer_draws", "binomial_draws", "poisson_draws")


def test_array_draws_pass_a_flat_size():
    """Every array draw's helper gets an integer size (no shape tuple among
    its arguments), and the kernel reshapes what it returns."""
    source = looptrace.jit(draws_of_every_rank, backend="cpu").explain(1.0, np.random.default_rng(0)).kernel_source
    calls = {name: re.findall(rf"\b{name}\((.*?)\)(?:\.reshape|$)", source, re.M) for name in HELPERS}
    assert all(calls.values()), {name: found for name, found in calls.items() if not found}
    for name, found in calls.items():
        for args in found:
            assert not re.search(r"\(\d+,", args), (name, args)  # no shape tuple
    shapes = re.findall(r"_draws\(.*?\)\.reshape\((\(.*?\))\)", source)
    assert sorted(shapes) == sorted(["(3, 4)", "(2, 2, 2)", "(2, 5)", "(4, 3)", "(3, 3)", "(3, 3)"]), shapes
