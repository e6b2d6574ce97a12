"""The disk cache under faults, each in a fresh process: damaged Numba cache
files wherever Numba keeps them (NUMBA_CACHE_DIR included) are detected and
recompiled, never loaded; a read-only directory, a full disk or a path taken
by a directory compile in memory with one warning; two processes compiling
into one directory agree. Faults are real (a file size limit, flipped bytes,
a directory in the way) or injected into os calls (read-only, since these
tests run as root, which ignores permission bits)."""
import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CHILD = textwrap.dedent("""
    import json, os, sys, warnings
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    if os.environ.get("DENY_WRITES_UNDER"):
        import _deny_writes
        _deny_writes.install(os.environ["DENY_WRITES_UNDER"])
    import user_mod
    import looptrace
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = looptrace.jit(user_mod.smooth, backend="cpu")
        x = np.linspace(0.0, 1.0, 50)
        ok = bool(np.allclose(f(x), user_mod.smooth(x), rtol=1e-12))
        ok = ok and bool(np.allclose(f(x * 2), user_mod.smooth(x * 2), rtol=1e-12))
    (compiled,) = f._cache.values()
    stats = compiled.run.kernel.stats
    ours = [str(w.message) for w in caught if "looptrace" in str(w.message)]
    print(json.dumps({"ok": ok, "hits": sum(stats.cache_hits.values()),
                      "misses": sum(stats.cache_misses.values()), "path": str(compiled.run.path),
                      "warnings": ours}))
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

DENY = textwrap.dedent('''
    """Injected fault: every write under one directory fails with EACCES."""
    import builtins, errno, io, os

    def install(root):
        root = os.path.realpath(root)

        def under(path):
            try:
                return os.path.realpath(os.fspath(path)).startswith(root)
            except TypeError:
                return False

        def deny(path):
            raise PermissionError(errno.EACCES, "Permission denied (injected)", os.fspath(path))

        real_open, real_os_open = builtins.open, os.open

        def open_(file, mode="r", *a, **k):
            if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+") and under(file):
                deny(file)
            return real_open(file, mode, *a, **k)

        def os_open(path, flags, *a, **k):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and under(path):
                deny(path)
            return real_os_open(path, flags, *a, **k)

        def two(real):
            def fn(src, dst, *a, **k):
                if under(src) or under(dst):
                    deny(dst)
                return real(src, dst, *a, **k)
            return fn

        def one(real):
            def fn(path, *a, **k):
                if under(path):
                    deny(path)
                return real(path, *a, **k)
            return fn

        builtins.open = io.open = open_
        os.open = os_open
        os.replace, os.rename = two(os.replace), two(os.rename)
        os.mkdir, os.unlink, os.remove, os.rmdir = one(os.mkdir), one(os.unlink), one(os.remove), one(os.rmdir)
''')


@pytest.fixture
def child(tmp_path):
    (tmp_path / "user_mod.py").write_text(USER)
    (tmp_path / "_deny_writes.py").write_text(DENY)
    (tmp_path / "run.py").write_text(CHILD)
    kernels = tmp_path / "kernels"

    def run(env_extra=None, fsize=None, wait=True):
        env = dict(os.environ, LOOPTRACE_CACHE_DIR=str(kernels), PYTHONPATH=_this_looptrace())
        env.pop("NUMBA_CACHE_DIR", None)
        env.update(env_extra or {})
        limit = None if fsize is None else (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize)))
        p = subprocess.Popen([sys.executable, str(tmp_path / "run.py"), str(tmp_path)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit)
        return p if not wait else finish(p)

    run.kernels = kernels
    run.tmp = tmp_path
    return run


def _this_looptrace() -> str:
    """The child imports the looptrace these tests run against."""
    import looptrace

    root = str(Path(looptrace.__file__).parent.parent)
    return os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))


def finish(p) -> dict:
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, f"exit {p.returncode}\n{err[-3000:]}"
    return json.loads(out.strip().splitlines()[-1])


def _cache_files(root: Path) -> list[Path]:
    return sorted(f for f in root.rglob("*") if f.suffix in (".nbc", ".nbi") and "lt_" in f.name)


def _flip_near_end(f: Path) -> None:
    data = bytearray(f.read_bytes())
    for k in (9, 40, 97):
        if k < len(data):
            data[-k] ^= 0x5A
    f.write_bytes(bytes(data))


def _flip_object_code(f: Path) -> None:
    """64 bytes flipped inside the compiled machine code (the ELF object in
    a data file; near the end of an index): loaded, this crashes the process."""
    data = bytearray(f.read_bytes())
    at = data.find(b"\x7fELF")
    start = at + 600 if at >= 0 and at + 664 < len(data) else max(len(data) - 80, 0)
    for k in range(start, min(start + 64, len(data))):
        data[k] ^= 0xFF
    f.write_bytes(bytes(data))


DAMAGE = {
    "flip object code": _flip_object_code,
    "flip bytes near the end": _flip_near_end,
    "truncate": lambda f: f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2]),
    "empty": lambda f: f.write_bytes(b""),
    "garbage": lambda f: f.write_bytes(b"\x80\x04garbage" * 10),
}


# by default the object code flipped beside the kernel: in a NUMBA_CACHE_DIR of its own, the first child
# also compiles every cached helper of looptrace's anew (13.5 s on CI; user CPU with the children here:
# 17.9 s, 11.6 s beside the kernel); the same verified cache files (codegen/cpu/cache.py) read both places, and
# test_read_only_cache_directory_compiles_in_memory_and_warns_once keeps a NUMBA_CACHE_DIR by default
CASES = [pytest.param(damage, where, marks=() if (damage, where) == ("flip object code", "beside_kernel")
                     else pytest.mark.slow) for damage in DAMAGE for where in ("numba_cache_dir", "beside_kernel")]


@pytest.mark.parametrize("damage,where", CASES)
def test_damaged_numba_cache_files_are_recompiled_never_loaded(child, damage, where):
    env = {"NUMBA_CACHE_DIR": str(child.tmp / "numba")} if where == "numba_cache_dir" else {}
    first = child(env)
    assert first["ok"] and first["misses"] >= 1
    root = child.tmp / "numba" if where == "numba_cache_dir" else child.kernels
    files = _cache_files(root)
    assert any(f.suffix == ".nbc" for f in files) and any(f.suffix == ".nbi" for f in files), files
    for f in files:
        DAMAGE[damage](f)
    second = child(env)  # a segfault or InternalError here was the bug
    assert second["ok"] and second["hits"] == 0 and second["misses"] >= 1
    third = child(env)
    assert third["ok"] and third["hits"] >= 1 and third["misses"] == 0


def test_read_only_cache_directory_compiles_in_memory_and_warns_once(child):
    env = {"DENY_WRITES_UNDER": str(child.kernels), "NUMBA_CACHE_DIR": str(child.kernels / "numba")}
    cold = child(env)
    assert cold["ok"] and len(cold["warnings"]) == 1, cold
    assert "compiling in memory" in cold["warnings"][0]


@pytest.mark.slow
def test_read_only_warm_cache_never_fails(child):
    """Numba will not use a cache directory it cannot write, so a read-only
    warm cache compiles again (in memory or in Numba's user-wide cache): still
    right, never an error, at most one warning."""
    env = {"NUMBA_CACHE_DIR": str(child.kernels / "numba")}
    assert child(env)["ok"]
    warm = child({**env, "DENY_WRITES_UNDER": str(child.kernels)})
    assert warm["ok"] and len(warm["warnings"]) <= 1, warm


def test_full_disk_compiles_in_memory_and_warns_once(child):
    run = child(fsize=1500)  # writes past 1.5 kB fail with EFBIG, "File too large"
    assert run["ok"] and len(run["warnings"]) == 1, run


def test_kernel_path_taken_by_a_directory(child):
    first = child()
    path = Path(first["path"])
    path.unlink()
    path.mkdir()
    (path / "something").write_text("x")
    second = child()
    assert second["ok"] and len(second["warnings"]) == 1, second
    assert path.is_dir()


@pytest.mark.slow
def test_two_processes_compile_into_one_directory(child):
    procs = [child(wait=False) for _ in range(2)]
    results = [finish(p) for p in procs]
    assert all(r["ok"] for r in results)
    assert results[0]["path"] == results[1]["path"]
    third = child()
    assert third["ok"] and third["hits"] >= 1 and third["misses"] == 0


def test_verified_cache_file_rejects_a_flipped_byte_in_process(tmp_path):
    """The unit under the process tests: a payload whose hash does not match
    reads as absent."""
    from looptrace.codegen.cpu.cache import VerifiedCacheFile

    cf = VerifiedCacheFile(str(tmp_path), "mod.f-1.py311", ("stamp", 1))
    cf.save(("sig",), {"payload": list(range(100))})
    assert cf.load(("sig",)) == {"payload": list(range(100))}
    data = next(tmp_path.glob("*.nbc"))
    blob = bytearray(data.read_bytes())
    blob[-5] ^= 1
    data.write_bytes(bytes(blob))
    assert cf.load(("sig",)) is None
    index = next(tmp_path.glob("*.nbi"))
    index.write_bytes(index.read_bytes()[:-3])
    assert cf.load(("sig",)) is None


def test_an_index_entry_naming_another_signatures_data_reads_as_absent(tmp_path):
    """Two processes adding signatures of one helper at once could number
    their entries alike (Numba's index is read, extended and written back):
    the index then named the other signature's data file, and the helper was
    typed with the wrong signature. A data file holds its key now, and an
    entry whose file holds another key reads as absent (recompiled)."""
    from looptrace.codegen.cpu.cache import VerifiedCacheFile

    first = VerifiedCacheFile(str(tmp_path), "mod.f-1.py311", ("stamp", 1))
    first.save(("sig a",), "code of a")
    first.save(("sig b",), "code of b")
    assert first.load(("sig a",)) == "code of a" and first.load(("sig b",)) == "code of b"
    a_file, b_file = sorted(tmp_path.glob("*.nbc"))
    b_file.write_bytes(a_file.read_bytes())  # what the race left: b's entry names a's data
    assert first.load(("sig b",)) is None
    assert first.load(("sig a",)) == "code of a"


def test_saves_from_interleaved_writers_keep_every_entry(tmp_path, monkeypatch):
    """The index's read-modify-write runs under a lock beside it: a second
    writer that saves while the first is between reading and writing the
    index waits, and both entries survive with their own data."""
    import threading

    from looptrace.codegen.cpu import cache

    one = cache.VerifiedCacheFile(str(tmp_path), "mod.g-1.py311", ("stamp", 1))
    two = cache.VerifiedCacheFile(str(tmp_path), "mod.g-1.py311", ("stamp", 1))
    inside, release = threading.Event(), threading.Event()
    load_index = cache.VerifiedCacheFile._load_index

    def slow_load_index(self):
        index = load_index(self)
        if self is one and not inside.is_set():
            inside.set()
            release.wait(5)
        return index

    monkeypatch.setattr(cache.VerifiedCacheFile, "_load_index", slow_load_index)
    writer = threading.Thread(target=one.save, args=(("sig a",), "code of a"))
    writer.start()
    assert inside.wait(5)
    other = threading.Thread(target=two.save, args=(("sig b",), "code of b"))
    other.start()  # blocks on the lock (flock locks per open file: threads of one process exclude each other too)
    other.join(0.3)
    assert other.is_alive()
    release.set()
    writer.join(5)
    other.join(5)
    fresh = cache.VerifiedCacheFile(str(tmp_path), "mod.g-1.py311", ("stamp", 1))
    assert fresh.load(("sig a",)) == "code of a" and fresh.load(("sig b",)) == "code of b"
