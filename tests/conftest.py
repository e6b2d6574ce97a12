"""Shared pytest fixtures.

`rng` is a NumPy generator seeded from the test's node id: each test (and
each parametrization) gets its own reproducible stream, independent of test
order and of which xdist worker runs it. `verify_every_pass` runs the IR
verifier after every pass and every per-loop step (pipeline.py) in every test.
"""

import zlib

import numpy as np
import pytest


@pytest.fixture
def rng(request):
    seed = zlib.crc32(request.node.nodeid.encode())
    return np.random.default_rng(seed)


@pytest.fixture(autouse=True)
def verify_every_pass(monkeypatch):
    monkeypatch.setenv("LOOPTRACE_VERIFY", "1")
