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
