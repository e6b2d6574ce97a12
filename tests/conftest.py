"""Shared pytest fixtures.

`rng` is a NumPy generator seeded from the test's node id: each test (and
each parametrization) gets its own reproducible stream, independent of test
order and of which xdist worker runs it. `verify_every_pass` runs the IR
verifier after every pass and every per-loop step (pipeline.py) in the tests of
the passes, and where the pipeline's stages end in the others.
LOOPTRACE_CUDA_SIM=1 lets backend="cuda" use the CUDA simulator here.
"""

import functools
import inspect
import os
import zlib

import numpy as np
import pytest

# The cuda backend runs under the CUDA simulator where no GPU is usable (with a GPU it runs
# there): tests/codegen/test_lowering_completeness.py and tests/codegen/cuda use it.
os.environ.setdefault("LOOPTRACE_CUDA_SIM", "1")


# cpu twins of interpreter tests, slow here rather than at each test: the suite's 15-minute budget
# on 2 cores (bench/README.md, "Forty-eighth session"). Each has an interpreter twin checking its
# semantics (or, where named, another cpu test of the same lowering), and passes with -m slow.
CPU_TWINS_SLOW = frozenset({
    "tests/tracer/test_realistic_probe_s34.py::test_generator_draws_match_numpys_streams[rows_and_bounds-cpu]",
    "tests/tracer/test_random_poisson_binomial.py::test_cpu_loops",  # (the discrete_random lowering sample)
    "tests/vectorize/test_draws_with_varying_parameters.py::test_varying_parameters_draw_as_the_loop[cpu]",
    "tests/tracer/test_key_extremes.py::test_key_extremes[cpu-300]",
    "tests/tracer/test_np_breadth_s23.py::test_against_numpy_cpu[pad_stats_cpu]",
    "tests/tracer/test_np_breadth_s23.py::test_gradient_on_cpu",
    "tests/tracer/test_np_breadth_s25.py::test_out_and_writes_on_cpu",
    "tests/codegen/test_masked_rows_s46.py::test_masked_stats_cpu_skips_and_keeps_bits",
    "tests/codegen/test_signed_zero_folds_s44.py::test_cpu_keeps_the_plain_folds_zero[wholes]",  # ([alone], [with_argmax])
    "tests/tracer/test_np_extra.py::test_on_the_cpu_backend[kernel_search-<lambda>]",
    "tests/tracer/test_python_int_accumulators.py::test_sums_past_64_bits_raise_and_sums_in_range_are_exact[cubes0]",
    "tests/reliability/test_read_error_order.py::test_two_grid_reads[cpu]",
    "tests/tracer/test_python_idioms_s32.py::test_gcd_lcm_frexp[cpu]",
    "tests/autodiff/test_return_before_loop_grads.py::test_a_ragged_tape_is_recomputed[cpu]",
    "tests/tracer/test_np_more.py::test_against_numpy_cpu[i0]",
    "tests/tracer/test_selection_order_s44.py::test_moving_median_cpu",
    "tests/tracer/test_masked_elements.py::test_rows_positions_and_loops[cpu]",
    "tests/autodiff/test_complex_and_special_grads.py::test_math_functions_in_a_loop_cpu",
    "tests/autodiff/test_reset_adjoints.py::test_reset_adjoints[cpu]",
    "tests/autodiff/test_reused_loop_variable_grads.py::test_reused_loop_variable[log_sum_exp-cpu]",
    "tests/tracer/test_probe_fixes_s47.py::test_compiled_kernel",
    # the same program's cpu gradients against finite differences run in
    # test_every_grad_wrt_entry_on_the_cpu_backend_matches_finite_differences[batched_conv] / [rnn_taps]:
    "tests/autodiff/test_seed_gradients.py::test_grad_on_the_cpu_backend_matches_interpret[batched_conv-3]",
    "tests/autodiff/test_seed_gradients.py::test_grad_on_the_cpu_backend_matches_interpret[rnn_taps-2]",
    # ([polynomial]: its grad_wrt is (0, 2); [sum_reduce-0] keeps the tight cpu-against-interpret comparison)
    "tests/autodiff/test_seed_gradients.py::test_grad_on_the_cpu_backend_matches_interpret[polynomial-2]",
    # gradients of their own programs on the interpreter (test_noisy_rnn_all_weights_at_once; matrix_power's
    # matmuls are batched_conv's and gaussian_layer's), the other programs' cpu gradients still running:
    "tests/autodiff/test_seed_gradients.py::test_every_grad_wrt_entry_on_the_cpu_backend_matches_finite_differences[noisy_rnn]",
    "tests/autodiff/test_seed_gradients.py::test_every_grad_wrt_entry_on_the_cpu_backend_matches_finite_differences[matrix_power]",
    # multi_taps' gradient is reversed linear recurrences of its taps (1.7 s of session 55's CI):
    # cpu scans of state blocks and a recurrence's gradient compile in tests/vectorize/test_linear_recurrence.py
    # (test_every_cpu_variant_matches_the_interpreter[state_blocks-*], test_gradients_match_finite_differences[ema-cpu])
    "tests/autodiff/test_seed_gradients.py::test_every_grad_wrt_entry_on_the_cpu_backend_matches_finite_differences[multi_taps]",
    # a dtype's twin of the same cpu lowering, the other dtypes' still running:
    "tests/codegen/test_cpu_blas.py::test_a_matrix_times_its_own_transpose[float32]",  # ([complex128])
    "tests/codegen/test_cpu_blas.py::test_a_matrix_times_its_own_transpose[complex64]",
    "tests/codegen/test_argext.py::test_2d_forms[cpu-float32]",  # ([cpu-float64], test_long_rows[float32-cpu])
    "tests/codegen/test_sibling_reductions.py::test_lanes_and_arrays[70-float32]",  # ([12301-float32])
    "tests/codegen/test_sibling_reductions.py::test_lanes_and_arrays[12301-float64]",  # ([70-float64])
})


def _interpreter_twin_id(nodeid: str) -> str | None:
    """`f[float32-cpu]` -> `f[float32-interpret]`: the same test's parametrization on the
    interpreter; None for a node id without a "cpu" parameter."""
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    head, params = nodeid[:-1].split("[", 1)
    parts = params.split("-")
    if "cpu" not in parts:
        return None
    return head + "[" + "-".join("interpret" if p == "cpu" else p for p in parts) + "]"


@functools.cache
def _asserts_of_the_cpu_kernel(function) -> bool:
    """A test that checks something only the cpu backend has (`if backend == "cpu":` then the
    kernel's source, a prange): its cpu parametrization is no twin of the interpreter's."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return True
    return 'backend == "cpu"' in source or "kernel_source" in source or 'backend != "interpret"' in source


def _cpu_twins_past_each_files_first(items) -> list:
    """The cpu parametrizations of backend-parametrized tests whose interpreter parametrization
    runs too, except the first of each file (in collection order), which stays the file's
    representative compile of what it tests. The interpreter twin checks each one's semantics,
    the representative and tests/codegen (test_lowering_completeness: every lowering on cpu) the
    lowering; a second Numba compile of the same feature per parametrization was ~250 s of the
    suite's ~2440 s of test time (session 54, ci_durations_9d2f112.log). They run with -m slow."""
    ids = {item.nodeid for item in items}
    kept_files, past_first = set(), []
    for item in items:
        twin = _interpreter_twin_id(item.nodeid)
        if twin is None or twin not in ids or "slow" in item.keywords:
            continue
        if item.nodeid.startswith("tests/codegen/") or item.get_closest_marker("cpu_kept") \
                or _asserts_of_the_cpu_kernel(item.function):
            continue
        path = item.nodeid.split("::", 1)[0]
        if path in kept_files:
            past_first.append(item)
        else:
            kept_files.add(path)
    return past_first


def pytest_configure(config):
    config.addinivalue_line("markers", "cpu_kept: a cpu parametrization that runs by default though "
                            "an interpreter twin does (conftest `_cpu_twins_past_each_files_first`)")


def pytest_collection_modifyitems(config, items):
    """Tests marked `slow` (and CPU_TWINS_SLOW, and the cpu twins past each file's first) run
    only when asked for (`-m slow`, or LOOPTRACE_SLOW_TESTS=1); each has a bounded default twin
    that always runs."""
    for item in items:
        if item.nodeid in CPU_TWINS_SLOW:
            item.add_marker(pytest.mark.slow)
    for item in _cpu_twins_past_each_files_first(items):
        item.add_marker(pytest.mark.slow)
    if os.environ.get("LOOPTRACE_SLOW_TESTS") or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow or LOOPTRACE_SLOW_TESTS=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng(request):
    seed = zlib.crc32(request.node.nodeid.encode())
    return np.random.default_rng(seed)


# Tests of the passes verify the IR after every pass and per-loop step (a pass that breaks the IR
# is named there); the others (tracer, codegen, reliability, ops) verify it where the pipeline's
# stages end, the traced program and the passes' result, which catches the same breakage unnamed.
# Verifying after every step was 5-13% of interpreter-heavy files' CPU (session 54).
VERIFY_EVERY_PASS_UNDER = ("tests/vectorize/", "tests/ir/", "tests/autodiff/",
                           "tests/test_seed_programs.py", "tests/test_pipeline.py")


@pytest.fixture(autouse=True)
def verify_every_pass(monkeypatch, request):
    every = request.node.nodeid.startswith(VERIFY_EVERY_PASS_UNDER)
    monkeypatch.setenv("LOOPTRACE_VERIFY", "1" if every else "stages")
