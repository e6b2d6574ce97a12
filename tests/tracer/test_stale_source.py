"""A function whose file changed on disk after it was defined (a module
edited while a notebook or a test run still holds the old code) must not
be compiled from the new text at its old line: that would be another
function than the one called. The tracer checks that the def it reads is
the code's own (tracer/convert.py `_check_same_def`); where it is not, the
function runs as it is while tracing, with a warning, and gives the plain
function's answer."""
import importlib
import sys
import warnings

import pytest

import looptrace

ORIGINAL = """


def other(x, y):
    return x - y


def total(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * y
    return s
"""

def _shifted(prefix: str) -> str:
    return ORIGINAL.replace("\ndef other", prefix + "\ndef other", 1)


EDITS = {
    # the function moved up: its old first line is now inside its own body
    "moved": ORIGINAL.replace("def other(x, y):\n    return x - y\n\n\n", ""),
    # another function with the same parameters now sits at its line
    "replaced": ORIGINAL.replace("def other(x, y):\n    return x - y\n\n\n",
                                 "def other(x, y):\n    return x - y\n\n\ndef impostor(x, y):\n    return x * y\n\n\n"),
    # lines added above it
    "shifted": _shifted("\n\nSCALE = 2.0\n"),
}


@pytest.fixture
def module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"stale_{tmp_path.name.replace('-', '_')}"
    path = tmp_path / f"{name}.py"
    path.write_text(ORIGINAL)
    mod = importlib.import_module(name)
    yield mod, path
    sys.modules.pop(name, None)


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_function_whose_file_changed_runs_as_it_is(module, edit, rng, monkeypatch):
    from looptrace.tracer import trace

    monkeypatch.setattr(trace, "_warned_unconverted", set())  # warned once per code (equal across files)
    mod, path = module
    path.write_text(EDITS[edit])
    x, y = rng.standard_normal(5), 1.5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = looptrace.jit(mod.total, backend="interpret")(x, y)
    assert got == pytest.approx(mod.total(x, y), rel=1e-12)
    assert any("no longer holds its source" in str(w.message) for w in caught)


def test_an_unchanged_file_is_converted_without_a_warning(module, rng):
    mod, _ = module
    x = rng.standard_normal(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = looptrace.jit(mod.total, backend="interpret")
        assert f(x, 1.5) == pytest.approx(mod.total(x, 1.5), rel=1e-12)
    assert [loop.kind for loop in f.explain(x, 1.5).loops]
