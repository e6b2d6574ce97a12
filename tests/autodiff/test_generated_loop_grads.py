"""Hypothesis-generated loop programs (maps, reductions, recurrences, nested
loops, break) have reverse-mode gradients equal to central finite
differences. Each program is written as Python source to a file (the tracer
converts functions from their source) and loaded as a module."""

import hashlib
import importlib.util
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

UNARY = ["np.sin({})", "np.tanh({})", "np.exp(0.3 * {})", "({}) ** 2", "np.cos({}) * {}"]

TEMPLATES = {
    "map": """
def f(x, w):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = {u1}
    return np.sum(out * out)
""",
    "reduction": """
def f(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        s += {u1}
    return s
""",
    "recurrence": """
def f(x, w):
    h = 0.5
    for i in range(x.shape[0]):
        h = np.tanh(0.8 * h + {u1})
    return h
""",
    "nested": """
def f(x, w):
    acc = 0.0
    for i in range(x.shape[0]):
        row = 0.0
        for j in range(i + 1):
            row = row + {u2}
        acc = acc + np.tanh(row)
    return acc
""",
    "break": """
def f(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        if s > 2.0:
            break
        s = s + ({u1}) ** 2
    return s
""",
    "vector_recurrence": """
def f(x, w):
    v = np.zeros(2)
    for i in range(x.shape[0]):
        v = np.tanh(v[::-1] * 0.7 + {u1})
    return np.sum(v * np.arange(1, 3))
""",
}

_modules: dict[str, object] = {}


def load(source: str, tmp_dir):
    key = hashlib.sha1(source.encode()).hexdigest()[:12]
    if key not in _modules:
        path = tmp_dir / f"gen_{key}.py"
        path.write_text("import numpy as np\n" + source)
        spec = importlib.util.spec_from_file_location(f"gen_{key}", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        _modules[key] = mod.f
    return _modules[key]


@st.composite
def programs(draw):
    kind = draw(st.sampled_from(sorted(TEMPLATES)))
    u1 = draw(st.sampled_from(UNARY)).format("w * x[i]", "w * x[i]")
    u2 = draw(st.sampled_from(UNARY)).format("w * x[j]", "w * x[i]")
    return TEMPLATES[kind].format(u1=u1, u2=u2)


@settings(max_examples=25, deadline=None)
@given(source=programs(), n=st.integers(0, 6), seed=st.integers(0, 2**32 - 1))
def test_generated_loop_gradients(source, n, seed, tmp_path_factory):
    f = load(source, tmp_path_factory.getbasetemp())
    rng = np.random.default_rng(seed)
    x, w = rng.uniform(-1.0, 1.0, n), float(rng.uniform(0.5, 1.5))
    jitted = looptrace.jit(f, backend="interpret")
    value, (gx, gw) = looptrace.value_and_grad(jitted, argnums=(0, 1))(x, w)
    np.testing.assert_allclose(value, f(x, w), rtol=1e-9, atol=1e-12)
    assert_close(gx, numerical_grad(f, [x, w], 0), 1e-5, source)
    assert_close(np.asarray(gw), numerical_grad(f, [x, w], 1), 1e-5, source)
