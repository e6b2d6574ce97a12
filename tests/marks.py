"""Marks shared by tests that keep the suite inside its budget (README: the
test command runs in under 15 minutes on 2 cores).

A `slow` test runs only with `-m slow` or LOOPTRACE_SLOW_TESTS=1
(conftest.py). Each test marked through here keeps a twin that always runs:
the same check on the interpreter, or the same compiled check for another
dtype; what is slow is a second Numba compile of what those cover (session
47 measured the suite's CPU time per test: these were among its heaviest).
"""
import pytest

SLOW_CPU = pytest.param("cpu", marks=pytest.mark.slow)  # the cpu backend, run with -m slow
INTERPRET_AND_SLOW_CPU = ["interpret", SLOW_CPU]
