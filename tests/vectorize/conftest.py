import pytest


@pytest.fixture(scope="session")
def monkeypatch_env():
    """Run the verifier after every pass in these tests."""
    mp = pytest.MonkeyPatch()
    mp.setenv("LOOPTRACE_VERIFY", "1")
    yield
    mp.undo()
