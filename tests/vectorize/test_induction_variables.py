"""An int counter stepped by a constant every iteration and read in the body
(`out[k] = ...; k += 1`, `s += x[i] * k; k -= 2`) is the loop index's affine
function (vectorize/loop_rewrite.py `induction_variables`): the loop
vectorizes (it was a scan, "`k` reads its previous value": a probe of loop
nests, session 33). A counter stepped under a condition is not one. Against
the plain function, with generated starts, steps and strides."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt


def compacted_copy(x):
    out = np.zeros(10)
    k = 0
    for i in range(10):
        out[k] = x[i] * 2
        k += 1
    return out, k


def weighted_by_counter(x):
    s = 0.0
    k = 3
    for i in range(2, 20, 3):
        s += x[i] * k
        k -= 2
    return s, k


def conditional_counter(x):
    out = np.zeros(10)
    k = 0
    for i in range(10):
        if x[i] > 0:
            out[k] = x[i]
            k += 1
    return out, k


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn, kind", [(compacted_copy, "reduction"), (weighted_by_counter, "reduction"),
                                      (conditional_counter, "scan")], ids=lambda x: getattr(x, "__name__", x))
def test_counters(fn, kind, backend, rng):
    x = rng.standard_normal(20)
    got, want = lt.jit(fn, backend=backend)(x), fn(x)
    for g, w in zip(got, want, strict=True):
        assert type(g) is type(w)
        np.testing.assert_array_equal(g, w)
    assert [r.kind for r in lt.explain(lt.jit(fn, backend="interpret"), x).loops] == [kind]


@settings(max_examples=30, deadline=None)
@given(st.integers(-3, 3), st.integers(1, 3), st.integers(-3, 3), st.integers(0, 2**31))
def test_generated_counters(tmp_path_factory, k0, step, c, seed):
    src = (f"def prog(x):\n"
           f"    out = np.zeros(64)\n"
           f"    k = {k0 + 30}\n"
           f"    t = 0.0\n"
           f"    for i in range(1, 10, {step}):\n"
           f"        out[k] = x[i] + k\n"
           f"        t += k * 0.5\n"
           f"        k += {c}\n"
           f"    return out, k, t\n")
    path = tmp_path_factory.mktemp("gen") / "counter_prog.py"
    path.write_text(src)
    ns: dict = {"np": np}
    exec(compile(src, str(path), "exec"), ns)
    prog = ns["prog"]
    x = np.random.default_rng(seed).standard_normal(10)
    got, want = lt.jit(prog, backend="interpret")(x), prog(x)
    for g, w in zip(got, want, strict=True):
        assert type(g) is type(w)
        np.testing.assert_array_equal(g, w)
