"""The disk cache of CPU kernels across processes: a second process loads the
compiled kernel instead of compiling it; a corrupt or stale cache entry is
detected and recompiled, never loaded."""

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
            y = 0.5 * y + x[t]
            out[t] = y
        return out
""")


@pytest.fixture
def run(tmp_path):
    (tmp_path / "user_mod.py").write_text(USER)
    (tmp_path / "run.py").write_text(SCRIPT)
    env_dir = tmp_path / "kernels"

    def go() -> dict:
        import os

        env = dict(os.environ, LOOPTRACE_CACHE_DIR=str(env_dir))
        out = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path)], env=env,
                             capture_output=True, text=True, timeout=300, check=False)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    return go


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


def test_corrupt_cache_entry_is_recompiled(run):
    first = run()
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


def test_edited_kernel_module_is_rewritten_and_recompiled(run):
    from pathlib import Path

    first = run()
    module = Path(first["path"])
    module.write_text(module.read_text().replace("kernel", "kernel  ", 1) + "\n# edited\n")
    second = run()
    assert second["ok"] and second["misses"] == 1
    assert "# edited" not in module.read_text()
