"""The kernel corpus (bench/corpus/): every kernel's outcome on the interpret
backend, and on the cpu backend for a representative sample, is the one
recorded with the kernel (`Kernel.expect`): "ok" (the plain function's values
and argument effects) or "error" (a clear looptrace error). Speed is
bench/corpus.py's business, never asserted here.
"""
import pytest

from bench.corpus import all_kernels
from bench.corpus.run import run_one

KERNELS = {k.name: k for k in all_kernels()}
# one of each kind of thing the cpu backend must get right: a delay line, a masked
# reduction, sort-based statistics, a scatter into arguments, math.* on scalars, double buffering,
# a pivot search over a shrinking slice, a data-dependent while loop, writes through a stepped slice
# (column_quantiles with -m slow, 3.4 s of session 55's CI: its median and percentiles along axis 0, sort-based
# statistics, are compiled on cpu and checked against NumPy by tests/codegen/test_cpu_selection.py::
# test_order_statistics_follow_numpy_and_only_needed_positions_are_found; the interpret half still runs it)
CPU_SAMPLE = ["echo", "conditional_sums", pytest.param("column_quantiles", marks=pytest.mark.slow), "group_mean_into",
              "nbody_accel_loops", "heat_1d_loops", "lu_partial_pivot", "conjugate_gradient", "sieve"]


def test_the_corpus_is_large_and_honest():
    assert len(KERNELS) >= 40
    styles = {k.style for k in KERNELS.values()}
    assert styles == {"loop", "array", "mixed"}
    for k in KERNELS.values():
        assert set(k.expect) == {"interpret", "cpu"}
        assert set(k.expect.values()) <= {"ok", "error"}, f"{k.name}: only ok or error may be expected"
        assert k.expect["interpret"] == "ok" or k.note, f"{k.name}: say why it is an error"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_interpret_outcome(name):
    k = KERNELS[name]
    outcome = run_one(k, "interpret")
    assert outcome.kind == k.expect["interpret"], outcome.detail


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", CPU_SAMPLE)
def test_cpu_outcome(name, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    k = KERNELS[name]
    outcome = run_one(k, "cpu")
    assert outcome.kind == k.expect["cpu"], outcome.detail
