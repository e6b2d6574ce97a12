"""Reliability probes: threads, run-time checks, guards, the disk cache under
faults, bounded memory, NumPy/Python semantics at the edges, Dask workers.

Every test here runs the plain function as the specification. The kernel
cache of these tests lives in a temporary directory of the session, so fault
injection never touches the user's cache.
"""
import pytest


@pytest.fixture(autouse=True)
def strict_vectorizer(monkeypatch):
    """Internal errors in the vectorizer raise here instead of being skipped."""
    monkeypatch.setenv("LOOPTRACE_VECTORIZE_STRICT", "1")


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def pytest_collection_modifyitems(config, items):
    """Tests marked slow (each has a bounded sample that runs by default) run
    only when asked: LOOPTRACE_SLOW_TESTS=1, or a -m expression naming them."""
    import os

    if os.environ.get("LOOPTRACE_SLOW_TESTS") or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with LOOPTRACE_SLOW_TESTS=1 or -m slow")
    here = os.path.dirname(__file__)
    for item in items:
        if "slow" in item.keywords and str(item.fspath).startswith(here):
            item.add_marker(skip)
