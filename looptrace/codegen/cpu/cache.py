"""Where generated kernels live on disk, and how a cached one is trusted.

Each kernel is a module `lt_<digest>.py` in the cache directory
(`$LOOPTRACE_CACHE_DIR`, default `~/.cache/looptrace`); the digest covers the
generated source, the user's source, the call signature, and the versions of
looptrace (its codegen and ops files), Numba, NumPy and Python. Numba's own
`cache=True` keeps the compiled code wherever its locators put it (beside the
module in `__pycache__/`, or under `$NUMBA_CACHE_DIR`).

Invariants:
- compiled code is loaded only when it is exactly what was written: every
  index (`.nbi`) and data (`.nbc`) file that looptrace's dispatchers (kernels
  and the helpers in templates.py and mathlib.py) read or write goes through
  `VerifiedCacheFile`, which stores a SHA-256 of the contents in the file and
  checks it before unpickling anything, wherever Numba puts the file. A
  damaged, truncated or foreign file reads as absent: Numba recompiles and
  overwrites it. It is never loaded, so it can never crash the process.
- an entry is what its key names: processes sharing a cache directory (pytest-xdist's
  workers, Dask workers, a pool) each add new signatures of one helper, and Numba's
  read-modify-write of the index let two of them number their entries alike, so an
  index could name another signature's data file (a helper then typed as
  "Invalid use of type(CPUDispatcher(same_shape))" on a signature it had compiled).
  Saves take an exclusive lock beside the index, and each data file holds its key,
  checked when it is read (a mismatch reads as absent).
- a cache that cannot be written (a read-only directory, a full disk, a path
  taken by a directory) never fails a call: the kernel is compiled in memory
  and one RuntimeWarning says why (`unwritable`).
- a module file whose text differs from the generated source is rewritten
  (Numba then sees a stale source stamp and recompiles).
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import pickle
import sys
import tempfile
import threading
import warnings
import weakref
from collections import OrderedDict
from pathlib import Path
from types import ModuleType

import numba
import numpy as np
from numba.core.caching import IndexDataCacheFile

try:
    import fcntl
except ImportError:  # not on this platform: compiles are not serialized across processes
    fcntl = None


def cache_root() -> str:
    return os.environ.get("LOOPTRACE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "looptrace")


def cache_dir() -> Path:
    path = Path(cache_root())
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the files that decide what a kernel does (codegen and ops)."""
    pkg = Path(__file__).resolve().parents[2]  # the looptrace package
    h = hashlib.sha256()
    from .blas import choice  # which BLAS library the kernels call
    h.update(f"{_version()} numba {numba.__version__} "
             f"numpy {np.__version__} python {sys.version} blas {choice()}".encode())
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
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(source)
    try:  # first writer wins: a process racing us keeps the same file (and Numba's source stamp)
        os.link(tmp, path)
        os.unlink(tmp)
        return path
    except FileExistsError:
        if _same_text(path, source):
            os.unlink(tmp)
            return path
    except OSError:  # no hard links here: replace below
        pass
    _forget(path)
    os.replace(tmp, path)
    return path


def _same_text(path: Path, source: str) -> bool:
    try:
        return path.read_text() == source
    except (OSError, UnicodeDecodeError):
        return False


def numba_files(path: Path) -> list[Path]:
    """The Numba cache files of a kernel module kept beside it (tests)."""
    pycache = path.parent / "__pycache__"
    return sorted(pycache.glob(f"{path.stem}.*")) if pycache.is_dir() else []


def _forget(path: Path) -> None:
    for f in numba_files(path):
        try:
            f.unlink()
        except OSError:
            pass


def load_kernel(path: Path):
    """The `kernel` dispatcher of a kernel module, behind verified cache
    files. A process imports a module once while its kernel is in use; the
    modules of kernels no longer used are dropped (from `sys.modules` too,
    where Numba finds them by name when it loads cached code), least recently
    used first, beyond the in-memory bound (looptrace/sigcache.py)."""
    from looptrace.sigcache import max_entries

    name = f"looptrace_kernels.{path.stem}"
    with _import_lock:
        kernel = _RECENT.get(name) or _LIVE.get(name)
        if kernel is None:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            harden_module(module)
            kernel = module.kernel
            kernel.looptrace_module = module  # the module lives as long as its kernel
            _LIVE[name] = kernel
        sys.modules[name] = _module_of(kernel)
        _RECENT[name] = kernel
        _RECENT.move_to_end(name)
        while len(_RECENT) > max_entries():
            old, _ = _RECENT.popitem(last=False)
            sys.modules.pop(old, None)
        return kernel


def import_module(path: Path) -> ModuleType:
    """The module of a kernel (see load_kernel)."""
    return _module_of(load_kernel(path))


def _module_of(kernel) -> ModuleType:
    return kernel.looptrace_module


_import_lock = threading.Lock()
_RECENT: "OrderedDict[str, object]" = OrderedDict()  # recently used kernels, bounded
_LIVE: "weakref.WeakValueDictionary[str, object]" = weakref.WeakValueDictionary()  # any still in use


# --- verified cache files -----------------------------------------------------------------------
MAGIC = b"looptrace-verified-cache-2\n"  # (2: data files hold their key)


class VerifiedCacheFile(IndexDataCacheFile):
    """Numba's index and data files, each stored as MAGIC, the SHA-256 of
    the payload, then the payload; read back only when the hash matches."""

    def save(self, key, data) -> None:
        try:
            with _locked(self._index_path + ".lock"):  # the index's read-modify-write, one process at a time
                super().save(key, (key, data))
        except OSError as e:  # read-only, full, or a directory in the way: compile in memory
            unwritable(self._cache_path, e)

    def load(self, key):
        try:
            stored = super().load(key)
        except Exception:  # anything unreadable is absent: Numba compiles again
            return None
        if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key):
            return None  # another signature's data (or none): absent
        return stored[1]

    def _save_index(self, overloads) -> None:
        self._write(self._index_path, self._dump((self._version, self._source_stamp, overloads)))

    def _load_index(self) -> dict:
        payload = _read_verified(self._index_path)
        if payload is None:
            return {}
        try:
            version, stamp, overloads = pickle.loads(payload)
        except Exception:
            return {}
        if version != self._version or stamp != self._source_stamp:
            return {}
        return overloads

    def _save_data(self, name, data) -> None:
        self._write(self._data_path(name), self._dump(data))

    def _load_data(self, name):
        payload = _read_verified(self._data_path(name))
        if payload is None:
            raise OSError(f"{name}: missing or damaged")  # load() treats it as absent
        for hook in LOAD_HOOKS:
            hook(payload)
        return pickle.loads(payload)

    def _write(self, path: str, payload: bytes) -> None:
        with self._open_for_write(path) as f:
            f.write(MAGIC + hashlib.sha256(payload).digest() + payload)


LOAD_HOOKS: list = []  # f(payload) before compiled code is read back (mathlib.py: the rare path's callbacks)


def _read_verified(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError:
        return None
    head, digest, payload = blob[:len(MAGIC)], blob[len(MAGIC):len(MAGIC) + 32], blob[len(MAGIC) + 32:]
    if head != MAGIC or hashlib.sha256(payload).digest() != digest:
        return None
    return payload


def harden(dispatcher) -> None:
    """Make a Numba dispatcher read and write its disk cache through
    VerifiedCacheFile (a no-op for one without a disk cache)."""
    cache = getattr(dispatcher, "_cache", None)
    cf = getattr(cache, "_cache_file", None)
    if not isinstance(cf, IndexDataCacheFile) or isinstance(cf, VerifiedCacheFile):
        return
    cache._cache_file = VerifiedCacheFile(cf._cache_path, cf._index_name[:-len(".nbi")], cf._source_stamp)
    save = cache.save_overload

    def save_overload(sig, data) -> None:
        try:
            save(sig, data)
        except OSError as e:  # Numba's own checks of the directory (makedirs, a probe file)
            unwritable(cf._cache_path, e)

    cache.save_overload = save_overload


def harden_module(module: ModuleType | str) -> None:
    """harden() every dispatcher of `module` (or of the module of that name:
    each helper module calls `harden_module(__name__)` at its end)."""
    from numba.core.registry import CPUDispatcher

    if isinstance(module, str):
        module = sys.modules[module]
    for value in vars(module).values():
        if isinstance(value, CPUDispatcher):
            harden(value)


@contextlib.contextmanager
def _locked(path: str):
    """An exclusive file lock on `path` while the block runs (none where the
    platform has no fcntl or the file cannot be made: Numba's own behaviour)."""
    fd = None
    if fcntl is not None:
        try:
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            if fd is not None:
                os.close(fd)
            fd = None
    try:
        yield
    finally:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


# --- one compile per machine -----------------------------------------------------------------------
@contextlib.contextmanager
def compile_lock(path: Path | None):
    """Hold an exclusive file lock beside the kernel module while compiling:
    processes compiling the same kernel at once (Dask workers on one machine)
    take turns, and each one after the first loads the first one's compiled
    code from the disk cache. Without a writable directory, no lock."""
    if path is None:
        yield
        return
    with _locked(str(path.with_suffix(".lock"))):
        yield


# --- a cache that cannot be written ---------------------------------------------------------------
_warned: set[str] = set()
_warn_lock = threading.Lock()


def unwritable(where, error: BaseException) -> None:
    """Warn once per process that the kernel cache cannot be used."""
    with _warn_lock:
        if _warned:
            return
        _warned.add(str(where))
    warnings.warn(f"looptrace: cannot use the kernel cache at {where} ({type(error).__name__}: {error}); "
                  "compiling in memory (set LOOPTRACE_CACHE_DIR to a writable directory to keep kernels "
                  "across processes)", RuntimeWarning, stacklevel=3)


CACHE_FAULTS = (OSError, RuntimeError)  # RuntimeError: Numba found no writable place for its cache
