"""The disk cache of CPU kernels across processes: a second process loads the
compiled kernel instead of compiling it; a corrupt or stale cache entry is
detected and recompiled, never loaded."""

import itertools
import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import user_mod
    import looptrace
    f = looptrace.jit(user_mod.smooth, backend="cpu")
    x = np.linspace(0.0, 1.0, 50)
    y = f(x)
    (compiled,) = f._cache.values()
    stats = compiled.run.kernel.stats
    print(json.dumps({"ok": bool(np.allclose(y, user_mod.smooth(x), rtol=1e-12)),
                      "hits": sum(stats.cache_hits.values()),
                      "misses": sum(stats.cache_misses.values()),
                      "path": str(compiled.run.path)}))
""")

USER = textwrap.dedent("""
    import numpy as np

    def smooth(x):
        y = 0.0
        out = np.empty_like(x)
        for t in range(x.shape[0]):
            y = {decay} * y + x[t]
            out[t] = y
        return out
""")


_KERNELS = itertools.count(1)


@pytest.fixture
def run(tmp_path):
    """A new process's call of the user's kernel: whether its values are the plain function's, its
    Numba cache hits and misses, and the kernel module's path. Each test's kernel has a constant of its
    own (the kernel cache's key covers the user's source): this process's in-memory kernels, keyed by
    that digest (`cache.load_kernel`), are no other test's."""
    (tmp_path / "user_mod.py").write_text(USER.format(decay=0.5 + next(_KERNELS) / 1000.0))
    (tmp_path / "run.py").write_text(SCRIPT)
    env_dir = tmp_path / "kernels"

    def go() -> dict:
        import os

        env = dict(os.environ, LOOPTRACE_CACHE_DIR=str(env_dir))
        out = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path)], env=env,
                             capture_output=True, text=True, timeout=300, check=False)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    go.cache_dir = env_dir
    go.user_module = tmp_path / "user_mod.py"
    return go


def compile_here(run, monkeypatch) -> dict:
    """What run() reports, of a compile in this process: the first compile of a test's kernel, which
    writes the module and Numba's cache files as a first process does, without the new process's
    imports (~2 s of CPU a process in session 54's CI)."""
    import importlib.util

    import numpy as np

    import looptrace
    from looptrace.codegen.cpu import generic

    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(run.cache_dir))
    generic.forget_families()  # an earlier test's kernel that differs in the constant alone is no family of this one
    spec = importlib.util.spec_from_file_location("user_mod", run.user_module)
    user_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(user_mod)
    f = looptrace.jit(user_mod.smooth, backend="cpu")
    x = np.linspace(0.0, 1.0, 50)
    y = f(x)
    (compiled,) = f._cache.values()
    stats = compiled.run.kernel.stats
    return {"ok": bool(np.allclose(y, user_mod.smooth(x), rtol=1e-12)), "hits": sum(stats.cache_hits.values()),
            "misses": sum(stats.cache_misses.values()), "path": str(compiled.run.path)}


def numba_files(module_path):
    from pathlib import Path

    p = Path(module_path)
    return sorted((p.parent / "__pycache__").glob(p.stem + ".*"))


# with -m slow (5.5 s of CPU in session 54's CI, two processes): test_corrupt_cache_entry_is_recompiled's
# first run compiles and writes the kernel, and its third process loads it from disk (a hit, no miss)
@pytest.mark.slow
def test_second_process_loads_from_disk(run):
    first, second = run(), run()
    assert first["ok"] and second["ok"]
    assert first["misses"] == 1 and first["hits"] == 0
    assert second["hits"] == 1 and second["misses"] == 0
    assert first["path"] == second["path"]


def test_corrupt_cache_entry_is_recompiled(run, monkeypatch):
    first = compile_here(run, monkeypatch)
    assert first["ok"] and first["misses"] == 1 and first["hits"] == 0
    files = [f for f in numba_files(first["path"]) if f.suffix == ".nbc"]
    assert files
    for f in files:
        f.write_bytes(b"\x80\x04garbage" + f.read_bytes()[::-1])
    second = run()
    assert second["ok"] and second["misses"] == 1 and second["hits"] == 0
    third = run()
    assert third["ok"] and third["hits"] == 1 and third["misses"] == 0
    assert third["path"] == first["path"]


def test_edited_kernel_module_is_rewritten_and_recompiled(run, monkeypatch):
    from pathlib import Path

    first = compile_here(run, monkeypatch)
    module = Path(first["path"])
    module.write_text(module.read_text().replace("kernel", "kernel  ", 1) + "\n# edited\n")
    second = run()
    assert second["ok"] and second["misses"] == 1
    assert "# edited" not in module.read_text()
