import pytest


@pytest.fixture(autouse=True)
def strict_vectorizer(monkeypatch):
    """Internal errors in the vectorizer raise here instead of being skipped."""
    monkeypatch.setenv("LOOPTRACE_VECTORIZE_STRICT", "1")
