"""CPU-specific lowering choices of single primitives, checked against the
NumPy interpreter (every primitive's rule on every target is compiled by
test_lowering_completeness.py)."""

import pytest

from looptrace.codegen import cpu

from .samples import Builder, Sample
from .test_lowering_completeness import check_against_reference


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_long_sums_use_eight_accumulators(dtype, rng):
    b = Builder((dtype, (101,)), (dtype, (101,)))
    x, y = b.args
    outs = [b.op("reduce_sum", x, axes=(0,)), b.op("einsum", x, y, spec="i,i->"),
            b.op("reduce_sum", b.op("exp", x), axes=(0,))]
    program = b.program(outs)
    assert "acc" in cpu.compile_program(program).source.split("* 8 + 7")[0]
    args = [rng.standard_normal(101).astype(dtype), rng.standard_normal(101).astype(dtype)]
    check_against_reference("cpu", Sample(program, args, 1e-9 if dtype == "float64" else 1e-5))
