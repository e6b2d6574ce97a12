"""Every primitive is lowered by every target, and each rule is compiled.

The samples (tests/codegen/samples.py) together use every registered
primitive; each is compiled on every code-generating target this machine can
run and compared with the reference interpreter (values, dtypes, shapes, and
a generator's final state). A rule that cannot lower its primitive fails
here, so a stub cannot pass.
"""
import numpy as np
import pytest

from looptrace.codegen import available_backends, get_target, target_names
from looptrace.codegen import reference
from looptrace.codegen.target import CompileOptions
from looptrace.errors import UnsupportedError
from looptrace.ir.core import walk
from looptrace.ops import PRIMITIVES

from .samples import SAMPLES

CODEGEN_TARGETS = [t for t in target_names() if t != "interpret" and t in available_backends()]


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def _copy(a):
    if isinstance(a, np.random.Generator):
        g = np.random.default_rng()
        g.bit_generator.state = a.bit_generator.state
        return g
    return np.array(a, copy=True)


def check_against_reference(target: str, sample) -> None:
    want_args, got_args = [_copy(a) for a in sample.args], [_copy(a) for a in sample.args]
    expected = reference.run_program(sample.program, want_args)
    got = get_target(target).compile(sample.program, CompileOptions(cache=False))(got_args)
    assert len(got) == len(expected)
    for k, (e, g) in enumerate(zip(expected, got)):
        what = f"result {k} ({sample.program.body.results[k]})"
        if isinstance(e, np.random.Generator):
            continue  # a generator advances in place: its argument is compared below
        e, g = np.asarray(e), np.asarray(g)
        assert g.shape == e.shape, what
        assert g.dtype == e.dtype, what
        np.testing.assert_allclose(g, e, rtol=sample.rtol, atol=sample.atol, equal_nan=True, err_msg=what)
    for a, b in zip(want_args, got_args):  # arrays are never written; generators advance alike
        if isinstance(a, np.random.Generator):
            assert b.bit_generator.state == a.bit_generator.state
        else:
            np.testing.assert_array_equal(a, b)


# float32 twins of cpu samples whose float64 sample compiles the same cpu rules (float32 only picks
# Numba's s/c LAPACK, FFT and libm wrappers), with -m slow (tests/marks.py): 43 s of the CI's 164 s here.
# What keeps float32 covered on cpu by default: decompositions and factorizations in float32,
# test_cpu_numpy_linalg.py::test_batched_decompositions_equal_numpy[float32]; mathlib's float32
# functions, test_mathlib.py (test_cpu_lowering_uses_mathlib[float32], test_dense_grids); float32
# FFTs, tests/tracer/test_np_fft.py::test_cpu_values_and_dtypes; float32 folds, test_cpu_full_reductions.py
# and test_sibling_reductions.py; the cuda target still compiles every float32 sample.
# Helper versions of a rule that a default sample compiles in another form, -m slow on cpu (the cuda target
# still compiles them): discrete_random_scalars (binomial's scalar parameters, 4.9 s of a cold compile;
# random.py lowers poisson and binomial with one rule, whose every form discrete_random's poisson draws take)
# and sort_bool (sort.py lowers every dtype alike, one helper version per dtype, 4.4 s; sort keeps float64 and
# int32).
SLOW_CPU_SAMPLES = {"decomp_float32", "factorizations_float32", "fft_float32", "unary_float32", "reductions_float32",
                    "discrete_random_scalars", "sort_bool"}


def _cases():
    return [pytest.param(name, target, marks=pytest.mark.slow)
            if target == "cpu" and name in SLOW_CPU_SAMPLES else (name, target)
            for name in sorted(SAMPLES) for target in CODEGEN_TARGETS]


@pytest.mark.parametrize("name, target", _cases())
def test_sample_compiles_and_matches_the_reference(target, name, rng):
    sample = SAMPLES[name](rng)
    if target in sample.refused_by:  # the target says so when compiling, naming the NumPy function
        with pytest.raises(UnsupportedError, match=r"(math\.fsum\(\)|np\.(linalg\.\w+|partition|argpartition)|a list appended to in a while loop|legacy global random state\)|Generator\.(poisson|binomial)|print\(\) of traced values).* is not supported by the"):
            get_target(target).compile(sample.program, CompileOptions(cache=False))
        return
    check_against_reference(target, sample)


def test_samples_cover_every_primitive():
    rng = np.random.default_rng(0)
    used = {op.prim.name for build in SAMPLES.values() for op in walk(build(rng).program.body)}
    assert sorted(set(PRIMITIVES) - used) == []


@pytest.mark.parametrize("target", target_names())
def test_every_primitive_has_a_rule_of_the_right_kind(target):
    t = get_target(target)
    assert sorted(set(PRIMITIVES) - set(t.rules)) == []
    if target == "interpret":
        assert {r.kind for r in t.rules.values()} == {"eval"}
        return
    for name, p in PRIMITIVES.items():
        kind = t.rules[name].kind
        if p.region:
            assert kind == "region", name
        elif p.elementwise:  # one that tests its data (pyint) needs the emitter's error codes
            assert kind == ("index" if p.may_raise else "scalar"), name
        elif p.fusible or (name == "gather" and "fused_gathers" in t.capabilities):
            assert kind == "index", name  # a gather is read in place by such a target's nests
        elif p.reduction is not None and p.family == "reduce":
            assert kind == "fold", name
        else:
            assert kind == "statement", name
