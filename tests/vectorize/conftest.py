import pytest


@pytest.fixture(autouse=True)
def strict_vectorizer(monkeypatch):
    """Internal errors in the vectorizer raise here instead of being skipped."""
    monkeypatch.setenv("LOOPTRACE_VECTORIZE_STRICT", "1")


@pytest.fixture(scope="session")
def monkeypatch_env():
    """Run the verifier after every pass in these tests."""
    mp = pytest.MonkeyPatch()
    mp.setenv("LOOPTRACE_VERIFY", "1")
    yield
    mp.undo()
