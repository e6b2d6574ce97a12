"""The primitive registry is complete: every primitive has the rules each stage
needs. Region primitives (loops, conditionals) have no `impl`; the
interpreter and later stages handle them by their blocks.

`REQUIRED_LATER` lists the rules later stages attach (batching, VJP, CPU
lowering); the tests that check those live with the stages that add them.
"""

import numpy as np
import pytest

from looptrace.ops import NOT_DIFFERENTIABLE, PRIMITIVES, Primitive, get

REQUIRED_LATER = ["batch", "vjp", "lower_cpu"]

NON_REGION = sorted(name for name, p in PRIMITIVES.items() if not p.region)
REGION = sorted(name for name, p in PRIMITIVES.items() if p.region)


def test_registry_is_populated():
    assert {"add", "select", "convert", "reduce_sum", "argmax", "einsum", "reshape", "slice",
            "gather", "scatter", "iota", "random_normal", "for_loop", "while_loop", "cond"} <= set(PRIMITIVES)


@pytest.mark.parametrize("name", NON_REGION)
def test_primitive_has_abstract_and_impl(name):
    p = PRIMITIVES[name]
    assert isinstance(p, Primitive)
    assert p.name == name and get(name) is p
    assert callable(p.abstract), f"{name} has no shape/dtype rule"
    assert callable(p.impl), f"{name} has no NumPy implementation"
    assert p.family in {"elementwise", "reduce", "linalg", "shape", "indexing", "creation", "random", "recurrence",
                        "sort", "decomp", "check", "fft", "io"}


@pytest.mark.parametrize("name", REGION)
def test_region_primitive_is_marked(name):
    p = PRIMITIVES[name]
    assert p.region and p.family == "control"


def test_effectful_primitives_are_not_differentiable():
    for p in PRIMITIVES.values():
        if p.effectful:
            assert p.vjp == NOT_DIFFERENTIABLE, p.name


def test_elementwise_primitives_name_their_ufunc():
    for p in PRIMITIVES.values():
        if p.family == "elementwise" and "ufunc" in p.extra:
            assert isinstance(p.extra["ufunc"], np.ufunc)
            assert p.extra["arity"] == p.extra["ufunc"].nin
