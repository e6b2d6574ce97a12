"""codegen/malloc.py: glibc's thresholds are set once, and can be left alone."""

import platform

import pytest

from looptrace.codegen.cpu import malloc


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(malloc, "_done", False)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_tune_sets_glibc_thresholds_once(fresh):
    assert malloc.tune() is True
    assert malloc.tune() is False  # once per process


def test_env_leaves_malloc_alone(fresh, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_MALLOC", "0")
    assert malloc.tune() is False
