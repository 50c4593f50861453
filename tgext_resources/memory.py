"""The ``memory`` cache region: a bounded store of one application, least recently used first.

Beaker's memory backend keeps one dict per namespace for the whole process, unbounded and
never freed: 5,000 distinct pages of 10 kB grew a process by 50 MB, and an application
discarded left its pages behind.  This store belongs to one region of one application (it
lives on the application's CacheStore, so it goes with it), and keeps at most
``resources.cache_max_entries`` entries, whatever their namespace.
"""
import collections
import threading
import time


class MemoryStore:
    """``(namespace, key) -> value`` with an expiry per entry and at most ``max_entries``
    entries; values are kept as given (no pickling: as Beaker's memory backend did)."""

    def __init__(self, max_entries):
        self.max_entries = max_entries
        self._entries = collections.OrderedDict()  # oldest use first
        self._lock = threading.Lock()  # eviction reads and changes the order: one thread at a time

    def __len__(self):
        return len(self._entries)

    def get(self, namespace, key):
        """The value, or raise KeyError (absent or expired: an expired entry is dropped now)."""
        with self._lock:
            expires_at, value = self._entries[(namespace, key)]
            if expires_at is not None and time.time() >= expires_at:
                del self._entries[(namespace, key)]
                raise KeyError(key)
            self._entries.move_to_end((namespace, key))
            return value

    def put(self, namespace, key, value, expire=None):
        with self._lock:
            self._entries[(namespace, key)] = (time.time() + expire if expire else None, value)
            self._entries.move_to_end((namespace, key))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def remove(self, namespace, key):
        with self._lock:
            self._entries.pop((namespace, key), None)
