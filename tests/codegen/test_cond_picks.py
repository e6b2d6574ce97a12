"""A `cond` of scalars in a serial loop whose arms hold a few cheap ops and
whose test is data, not a carry (vectorize/branches.py makes one for a
Python number's type tag), runs both arms and selects (regions.py
`_as_picks`): as a branch on random data it mispredicted, and LLVM turned
the step's other select on the same test into that branch too."""
import numpy as np
import pytest

import looptrace as lt


def int_float_mixing(a):
    s = 0
    for x in a:
        if x > 0:
            s += 1
        else:
            s = s + x
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_type_tag_updates_match_the_plain_function(rng, backend):
    f = lt.jit(int_float_mixing, backend=backend)
    for a in (rng.standard_normal(200), np.abs(rng.standard_normal(50)) + 0.1, -np.abs(rng.standard_normal(9))):
        want, got = int_float_mixing(a), f(a)
        assert type(got) is type(want) and got == want


def test_the_tag_update_on_data_is_a_select(rng):
    a = rng.standard_normal(300)
    src = lt.explain(lt.jit(int_float_mixing, backend="cpu"), a).kernel_source
    ifs = [line.strip() for line in src.splitlines() if line.strip().startswith("if ")]
    assert len(ifs) == 1, ifs  # the kept branch of the int arm (`s` still an int) only
    assert src.count("pick(") >= 2
