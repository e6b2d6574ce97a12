"""Jitted methods as a probe of the API used them (session 33): called
through the class before any bound access (a TypeError: the object was not
yet static), and explained or shaped when bound (refused as a partial)."""
import numpy as np

import looptrace as lt


class Model:
    w = np.ones(3)

    @lt.jit(backend="interpret")
    def apply(self, x):
        s = 0.0
        for i in range(x.shape[0]):
            s += self.w[i] * x[i]
        return s


class Plain:
    def __init__(self):
        self.k = 2.0

    def scaled(self, x):
        return x * self.k


def test_a_jitted_method_through_its_class_first():
    m, x = Model(), np.arange(3.0)
    assert Model.apply(m, x) == Model.apply.py_func(m, x)
    assert m.apply(x) == Model.apply.py_func(m, x)


def test_explain_and_eval_shape_of_bound_methods():
    m, x = Model(), np.arange(3.0)
    assert [r.kind for r in m.apply.explain(x).loops] == ["reduction"]
    assert [r.kind for r in lt.explain(m.apply, x).loops] == ["reduction"]
    assert lt.eval_shape(m.apply, x).shape == ()
    assert m.apply.py_func(x) == m.apply(x)
    p = Plain()
    assert lt.eval_shape(p.scaled, x).shape == (3,)
    assert "multiply" in str(lt.explain(p.scaled, x))


def count_nans(x):
    c = 0
    for v in x:
        if np.isnan(v):
            c += 1
    return c


def test_fastmath_keeps_nan_tests(tmp_path, monkeypatch):
    """fastmath=True gave LLVM nnan: np.isnan counted no NaN."""
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    x = np.array([1.0, np.nan, 2.0, np.inf])
    assert lt.jit(count_nans, backend="cpu", fastmath=True)(x) == count_nans(x) == 1
