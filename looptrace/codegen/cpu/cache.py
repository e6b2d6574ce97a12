"""Where generated kernels live on disk, and how a cached one is trusted.

Each kernel is a module `lt_<digest>.py` in the cache directory
(`$LOOPTRACE_CACHE_DIR`, default `~/.cache/looptrace`); the digest covers the
generated source, the user's source, the call signature, and the versions of
looptrace (its codegen and ops files), Numba, NumPy and Python. Numba's own
`cache=True` keeps the compiled code beside it in `__pycache__/`.

Invariant: compiled code is loaded only when it is exactly what this process
wrote or verified before: after each compile the checksums of the module's
Numba cache files go into `lt_<digest>.sums`; at load, a missing manifest or a
mismatching file means every cache file of that module is deleted first, so
Numba recompiles instead of loading a corrupt or foreign entry. A module file
whose text differs from the generated source is rewritten (Numba then sees a
stale source stamp and recompiles).
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numba
import numpy as np


def cache_dir() -> Path:
    root = os.environ.get("LOOPTRACE_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "looptrace")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the files that decide what a kernel does (codegen and ops)."""
    pkg = Path(__file__).resolve().parents[2]  # the looptrace package
    h = hashlib.sha256()
    h.update(f"{_version()} numba {numba.__version__} "
             f"numpy {np.__version__} python {sys.version}".encode())
    for sub in ("codegen", "ops"):
        for f in sorted((pkg / sub).rglob("*.py")):
            h.update(str(f.relative_to(pkg)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _version() -> str:
    try:
        return importlib.metadata.version("looptrace")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def digest(*parts: str) -> str:
    h = hashlib.sha256(code_fingerprint().encode())
    for p in parts:
        h.update(b"\0" + p.encode())
    return h.hexdigest()[:32]


def write_module(stem: str, source: str) -> Path:
    """The module file holding `source` (rewritten atomically if it differs)."""
    path = cache_dir() / f"{stem}.py"
    try:
        if path.read_text() == source:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    _forget(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(source)
    os.replace(tmp, path)
    return path


def numba_files(path: Path) -> list[Path]:
    pycache = path.parent / "__pycache__"
    return sorted(pycache.glob(f"{path.stem}.*")) if pycache.is_dir() else []


def _manifest(path: Path) -> Path:
    return path.with_suffix(".sums")


def _sha(f: Path) -> str:
    return hashlib.sha256(f.read_bytes()).hexdigest()


def verify_or_clear(path: Path) -> bool:
    """True when the module's Numba cache files match the manifest; otherwise
    delete them (a corrupt or unknown entry is never loaded) and return False."""
    files = numba_files(path)
    if not files:
        return False
    try:
        sums = json.loads(_manifest(path).read_text())
        ok = {f.name: _sha(f) for f in files} == sums
    except (OSError, ValueError):
        ok = False
    if not ok:
        _forget(path)
    return ok


def _forget(path: Path) -> None:
    for f in [*numba_files(path), _manifest(path)]:
        try:
            f.unlink()
        except OSError:
            pass


def record(path: Path) -> None:
    """Write the manifest of the module's Numba cache files, as they are now."""
    sums = {f.name: _sha(f) for f in numba_files(path)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(sums, f)
    os.replace(tmp, _manifest(path))


def import_module(path: Path) -> ModuleType:
    name = f"looptrace_kernels.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module
