"""Compiled signatures in memory: thread-safe, bounded, released with their function.

Every jitted or differentiated function keeps its compiled versions in a
`SignatureCache`. The invariants:

- **Compile once per signature.** A miss takes the cache's lock, looks again,
  and only then builds; every thread asking for the same signature gets the
  same compiled object. A build that raises caches nothing.
- **Warm calls never serialize.** A hit is a plain dict read plus one integer
  store (its recency); no lock is taken.
- **Bounded.** All caches together keep at most `max_entries()` compiled
  signatures (`LOOPTRACE_MAX_COMPILED`, default 128). Inserting past the bound
  evicts the least recently used entry of any function; its kernel is released
  (`release()` on the compiled object, when it has one), and the next call with
  that signature compiles again (from the disk cache, for the CPU backend).
- **Released with their function.** The registry holds caches weakly, so the
  compiled code of a function that is gone is freed with it.
"""
from __future__ import annotations

import itertools
import os
import threading
import weakref
from typing import Any, Callable

DEFAULT_MAX = 128
_clock = itertools.count(1)
_registry: "weakref.WeakSet[SignatureCache]" = weakref.WeakSet()
_registry_lock = threading.Lock()


def max_entries() -> int:
    """The process-wide bound on compiled signatures kept in memory."""
    raw = os.environ.get("LOOPTRACE_MAX_COMPILED", "")
    try:
        n = int(raw) if raw else DEFAULT_MAX
    except ValueError:
        n = DEFAULT_MAX
    return max(n, 1)


class SignatureCache:
    """key -> compiled object, with a last-use tick per entry."""

    def __init__(self, on_evict: Callable[[Any, Any], None] | None = None):
        self._entries: dict[Any, list] = {}  # key -> [value, tick]
        self.lock = threading.RLock()  # reentrant: explain() of a function inside its own trace
        self._on_evict = on_evict
        with _registry_lock:
            _registry.add(self)

    # the hot path: no lock ----------------------------------------------------------------
    def get(self, key: Any, default: Any = None) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            return default
        entry[1] = next(_clock)
        return entry[0]

    def __contains__(self, key: Any) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def values(self) -> list:
        return [e[0] for e in list(self._entries.values())]

    def keys(self) -> list:
        return list(self._entries)

    # misses: under the lock ------------------------------------------------------------------
    def get_or_build(self, key: Any, build: Callable[[], Any], valid: Callable[[Any], bool] | None = None) -> Any:
        """The entry for `key`, built (once, whichever thread gets here first)
        when missing or when `valid(entry)` is false."""
        hit = self.get(key)
        if hit is not None and (valid is None or valid(hit)):
            return hit
        with self.lock:
            hit = self.get(key)
            if hit is not None and (valid is None or valid(hit)):
                return hit
            value = build()
            self[key] = value
            return value

    def __setitem__(self, key: Any, value: Any) -> None:
        with self.lock:
            old = self._entries.get(key)
            self._entries[key] = [value, next(_clock)]
        if old is not None and old[0] is not value:
            _release(old[0])
        _enforce_bound()

    def pop(self, key: Any, default: Any = None) -> Any:
        with self.lock:
            entry = self._entries.pop(key, None)
        return default if entry is None else entry[0]

    __delitem__ = pop

    def clear(self) -> None:
        with self.lock:
            entries, self._entries = list(self._entries.values()), {}
        for value, _ in entries:
            _release(value)

    def _evict(self, key: Any) -> None:
        with self.lock:
            entry = self._entries.pop(key, None)
        if entry is None:
            return
        if self._on_evict is not None:
            self._on_evict(key, entry[0])
        _release(entry[0])

    def _oldest(self) -> tuple[int, Any] | None:
        items = list(self._entries.items())
        if not items:
            return None
        key, entry = min(items, key=lambda kv: kv[1][1])
        return entry[1], key


def _release(value: Any) -> None:
    release = getattr(value, "release", None)
    if callable(release):
        release()


def _enforce_bound() -> None:
    limit = max_entries()
    with _registry_lock:
        caches = list(_registry)
    total = sum(len(c) for c in caches)
    while total > limit:
        oldest = [(o, c) for c in caches if (o := c._oldest()) is not None]
        if not oldest:
            return
        (tick, key), cache = min(oldest, key=lambda t: t[0][0])
        cache._evict(key)
        total -= 1


def total_entries() -> int:
    """Compiled signatures held in memory by all live functions."""
    with _registry_lock:
        caches = list(_registry)
    return sum(len(c) for c in caches)
