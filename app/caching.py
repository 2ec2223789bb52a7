"""Caches kept per process, and one call that empties them all.

Tests call ``clear_process_caches`` before each test: every test's database starts its row
ids again, and a cache keyed by those ids must not outlive the test that filled it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

_clearers: list[Callable[[], object]] = []


def clear_process_caches() -> None:
    """Empty every cache this process keeps (those made here and those registered)."""
    for clear in _clearers:
        clear()


def register_cache_clearer(clear: Callable[[], object]) -> None:
    """Have ``clear_process_caches`` call ``clear`` too, for a cache kept in another shape
    (an ``lru_cache``'s ``cache_clear``, say)."""
    _clearers.append(clear)


class ProcessCache(Generic[K, V]):
    """A dict for the life of the process whose entries may expire.

    An entry set with a TTL (``ttl`` here, or the one given to ``set``) is served for that
    many seconds; without one it stays until popped or cleared. Past ``max_entries`` the
    cache starts afresh, which costs less than tracking which entry is oldest. No lock: each
    operation is one dict operation, which the interpreter makes atomic.
    """

    __slots__ = ("_entries", "max_entries", "ttl")

    def __init__(self, *, ttl: float | None = None, max_entries: int | None = None) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        # Each value with the monotonic time it expires at, or None for never.
        self._entries: dict[K, tuple[float | None, V]] = {}
        register_cache_clearer(self.clear)

    def get(self, key: K, default: D = None) -> V | D:
        """The value kept for ``key``, or ``default`` when there is none or it has expired."""
        entry = self._entries.get(key)
        if entry is None:
            return default
        expires_at, value = entry
        if expires_at is not None and time.monotonic() >= expires_at:
            return default
        return value

    def set(self, key: K, value: V, ttl: float | None = None) -> None:
        """Keep ``value`` for ``key``, for ``ttl`` seconds (the cache's own TTL by default)."""
        ttl = self.ttl if ttl is None else ttl
        if self.max_entries is not None and len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (None if ttl is None else time.monotonic() + ttl, value)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
