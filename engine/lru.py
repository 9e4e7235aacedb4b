"""A small thread-safe least-recently-used map, for what a process keeps in memory with a bound."""
from __future__ import annotations

import threading
from collections import OrderedDict


class Lru:
    """At most `size` entries (0: none kept); the least recently read or written goes first.
    `size` may be set at any time (the excess goes at the next write)."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def __setitem__(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > max(0, self.size):
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key) -> bool:
        return key in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
