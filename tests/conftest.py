"""Shared pytest fixtures.

`rng` is a NumPy generator seeded from the test's node id: each test (and
each parametrization) gets its own reproducible stream, independent of test
order and of which xdist worker runs it. `verify_every_pass` runs the IR
verifier after every pass and every per-loop step (pipeline.py) in every test.
LOOPTRACE_CUDA_SIM=1 lets backend="cuda" use the CUDA simulator here.
"""

import os
import zlib

import numpy as np
import pytest

# The cuda backend runs under the CUDA simulator where no GPU is usable (with a GPU it runs
# there): tests/codegen/test_lowering_completeness.py and tests/codegen/cuda use it.
os.environ.setdefault("LOOPTRACE_CUDA_SIM", "1")


def pytest_collection_modifyitems(config, items):
    """Tests marked `slow` run only when asked for (`-m slow`, or
    LOOPTRACE_SLOW_TESTS=1); each has a bounded default twin that always runs."""
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


@pytest.fixture(autouse=True)
def verify_every_pass(monkeypatch):
    monkeypatch.setenv("LOOPTRACE_VERIFY", "1")
