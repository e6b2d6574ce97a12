"""Arguments written in place are written into directly when nothing in the
kernel can raise (codegen/cpu/emitter.py emit_program): no copy in and out,
the caller's array changes as in plain Python (and a returned argument is
the caller's object). Where the kernel can raise, the copy stays and a
failed call leaves the arguments as they were. An argument that shares
memory with an array read from outside the arguments is refused, as two
aliasing arguments are (before: the compiled code read the old values)."""
import numpy as np
import pytest

import looptrace
from bench.corpus.grouping import group_max as running_max


def centered(u, D, dx):
    for i in range(1, u.shape[0] - 1):
        D[i] = (u[i - 1] + u[i + 1] - 2.0 * u[i]) / dx ** 2
    return D


def smooth_rows(A, out):
    for i in range(A.shape[0]):
        for j in range(1, A.shape[1] - 1):
            out[i, j] = 0.25 * A[i, j - 1] + 0.5 * A[i, j] + 0.25 * A[i, j + 1]
    out[:, 0] = A[:, 0]
    return out.sum()


def running(x):
    for i in range(1, x.shape[0]):  # a recurrence in place
        x[i] = 0.5 * x[i - 1] + x[i]


def gather_into(out, x, idx):
    for i in range(idx.shape[0]):
        out[i] = x[idx[i]]  # idx may be out of range: a checked read, so the kernel can raise


@pytest.mark.parametrize("fn,make", [
    (centered, lambda r: (r.standard_normal(300), r.standard_normal(300), 1.5)),
    (smooth_rows, lambda r: (r.standard_normal((20, 30)), r.standard_normal((20, 30)))),
    (smooth_rows, lambda r: (r.standard_normal((30, 20)).T, r.standard_normal((30, 20)).T)),  # strided
    (running, lambda r: (r.standard_normal(200),)),
])
def test_written_directly_and_as_plain(fn, make, rng):
    args = make(rng)
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jit_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    f = looptrace.jit(fn, backend="cpu")
    want, got = fn(*plain), f(*jit_args)
    if want is None:
        assert got is None
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12)
    for g, w in zip(jit_args, plain):
        if isinstance(w, np.ndarray):
            np.testing.assert_allclose(g, w, rtol=1e-12)
    assert "copied(" not in looptrace.explain(f, *args).kernel_source


def test_a_returned_argument_is_the_callers_array(rng):
    u, D = rng.standard_normal(50), np.zeros(50)
    out = looptrace.jit(centered, backend="cpu")(u, D, 1.0)
    assert out is D  # as the plain function returns it


def test_a_kernel_that_can_raise_keeps_the_copy_and_the_arguments(rng):
    x, out = rng.standard_normal(10), rng.standard_normal(6)  # partly written: the rest is kept
    f = looptrace.jit(gather_into, backend="cpu")
    assert "copied(" in looptrace.explain(f, out, x, np.array([1, 2, 3, 4])).kernel_source
    before = out.copy()
    with pytest.raises(IndexError):
        f(out, x, np.array([1, 2, 30, 4]))
    plain = before.copy()
    with pytest.raises(IndexError):
        gather_into(plain, x, np.array([1, 2, 30, 4]))
    np.testing.assert_array_equal(out, plain)  # as Python leaves it (api.py `_after_failure`)
    out[:] = before
    f(out, x, np.array([1, 2, 3, 4]))
    np.testing.assert_array_equal(out, np.concatenate([x[[1, 2, 3, 4]], before[4:]]))


G = np.arange(10.0)


def from_global(D):
    for i in range(1, D.shape[0]):
        D[i] = G[i - 1] * 2.0
    return D


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_argument_sharing_memory_with_a_global_it_reads_is_refused(backend):
    G[:] = np.arange(10.0)
    f = looptrace.jit(from_global, backend=backend)
    D = np.arange(10.0)
    np.testing.assert_array_equal(f(D), from_global(np.arange(10.0)))  # other memory: fine
    with pytest.raises(ValueError, match="shares memory with an array the function reads"):
        f(G)
    np.testing.assert_array_equal(G, np.arange(10.0))
    with pytest.raises(ValueError, match="shares memory"):
        f(G[2:5])


def test_a_read_only_argument_raises_numpys_error_and_stays(rng):
    u, D = rng.standard_normal(40), np.zeros(40)
    D.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        centered(u, D, 1.0)
    with pytest.raises(ValueError, match="read-only"):
        looptrace.jit(centered, backend="cpu")(u, D, 1.0)
    assert not D.any()


def test_every_raising_helper_is_known_to_may_raise():
    """emit_program writes into arguments only when `may_raise` finds nothing
    that can raise in a kernel's lines; a helper of templates.py or lapack.py
    that raises must be named so that it does."""
    import ast
    import inspect

    from looptrace.codegen.cpu import emitter, lapack, templates

    for module in (templates, lapack):
        tree = ast.parse(inspect.getsource(module))
        for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]:
            raises = any(isinstance(n, ast.Raise) for n in ast.walk(fn)) or \
                any(isinstance(n, ast.Attribute) and n.attr == "linalg" for n in ast.walk(fn))
            if raises:
                assert emitter.may_raise([f"    x = {fn.name}(a, b)"]), f"{module.__name__}.{fn.name} raises"


def corner_writes(x, out):
    for i in range(x.shape[0]):
        k = int(x[i, 0] * 3.0)
        if x[i, 1] > out[k, i % 4, 0]:
            out[k, i % 4] = x[i, 1:3]
            out[k, 3, 1] = x[i, 2]
    return out


def test_one_element_writes_are_element_stores(rng):
    """A one-element write at a checked dynamic position stores the element
    (`out[g] = ...`), not through a view made per write (`out[g:g + 1][0]`),
    whose reference count cost the loop 15% (corpus group_max)."""
    values, labels = rng.standard_normal(500), rng.integers(-6, 6, 500)
    f = looptrace.jit(running_max, backend="cpu")
    got, want = f(values, labels, np.full(6, -np.inf)), running_max(values, labels, np.full(6, -np.inf))
    np.testing.assert_array_equal(got, want)
    assert ":s0_ + 1][0]" not in f.explain(values, labels, np.full(6, -np.inf)).kernel_source
    x = rng.random((40, 3))
    out_plain = rng.random((3, 4, 2))
    out_jit = out_plain.copy()
    np.testing.assert_array_equal(looptrace.jit(corner_writes, backend="cpu")(x, out_jit), corner_writes(x, out_plain))
    with pytest.raises(IndexError):
        looptrace.jit(running_max, backend="cpu")(values, labels + 20, np.full(6, -np.inf))
