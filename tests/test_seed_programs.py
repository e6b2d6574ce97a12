"""The seed programs on the reference backend: jitted calls match plain ones.

For every entry of looptrace.examples.PROGRAMS, the undecorated function is
the oracle: a jitted call on backend "interpret" must return the same value
and leave array arguments and generators exactly as the plain call does.
Each call gets its own arguments, built twice from the same seed, so both
start from identical data (and `noisy_rnn` from identical generator states).
"""

import numpy as np
import pytest

import looptrace
from looptrace.examples import PROGRAMS, bad_join, matrix_power

BACKEND = "interpret"
RTOL, ATOL = 1e-9, 1e-12
LOOP_KINDS = {"vectorized", "reduction", "scan", "while"}


def twin_args(entry, rng):
    """Two independent but identical argument tuples for one program."""
    seed = int(rng.integers(2**32))
    make_args = entry["make_args"]
    return make_args(np.random.default_rng(seed)), make_args(np.random.default_rng(seed))


def assert_same_value(expected, got):
    expected, got = np.asarray(expected), np.asarray(got)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


def assert_same_effects(args_plain, args_jit):
    """Arrays the plain call left behind equal those the jitted call left."""
    for position, (plain, jitted) in enumerate(zip(args_plain, args_jit, strict=True)):
        if isinstance(plain, np.ndarray):
            np.testing.assert_allclose(
                jitted, plain, rtol=RTOL, atol=ATOL, err_msg=f"argument {position}"
            )
        if isinstance(plain, np.random.Generator):
            assert jitted.bit_generator.state == plain.bit_generator.state, (
                f"generator argument {position}"
            )


@pytest.mark.parametrize("name", PROGRAMS)
def test_jit_matches_plain(name, rng):
    entry = PROGRAMS[name]
    args_plain, args_jit = twin_args(entry, rng)
    expected = entry["fn"](*args_plain)
    got = looptrace.jit(entry["fn"], backend=BACKEND)(*args_jit)
    assert_same_value(expected, got)
    assert_same_effects(args_plain, args_jit)


def explained_loops(entry, rng):
    args, _ = twin_args(entry, rng)
    return looptrace.explain(entry["fn"], *args).loops


@pytest.mark.parametrize("name", PROGRAMS)
def test_explain_reports_every_loop(name, rng):
    entry = PROGRAMS[name]
    loops = explained_loops(entry, rng)
    assert len(loops) == len(entry["expect"])
    for loop in loops:
        assert loop.kind in LOOP_KINDS
        assert isinstance(loop.line, int)


@pytest.mark.parametrize("name", PROGRAMS)
def test_explain_kinds_match_expectation(name, rng):
    entry = PROGRAMS[name]
    assert [loop.kind for loop in explained_loops(entry, rng)] == entry["expect"]


def bad_join_args(rng):
    return rng.standard_normal((5, 4)), rng.standard_normal((3, 3))


def assert_names_the_bad_join(err):
    message = str(err)
    for part in ("(5, 4)", "(3, 3)", "np.concatenate([x, y], axis=0)", "examples.py"):
        assert part in message, f"{part!r} missing from:\n{message}"


def test_bad_join_call_raises_shape_error(rng):
    with pytest.raises(looptrace.ShapeError) as info:
        looptrace.jit(bad_join, backend=BACKEND)(*bad_join_args(rng))
    assert_names_the_bad_join(info.value)


def test_bad_join_eval_shape_raises_shape_error(rng):
    with pytest.raises(looptrace.ShapeError) as info:
        looptrace.eval_shape(bad_join, *bad_join_args(rng))
    assert_names_the_bad_join(info.value)


def test_matrix_power_one_jit_serves_every_k(rng):
    A = rng.standard_normal((3, 3))
    f = looptrace.jit(matrix_power, backend=BACKEND)
    for k in (3, 10):
        np.testing.assert_allclose(f(A, k), np.linalg.matrix_power(A, k), rtol=RTOL, atol=ATOL)
