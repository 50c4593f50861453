"""What one application remembers about its cached pages, in its own process.

Two small, bounded memories, both kept on the application's middleware (``page_memory``):

* the injected HTML of the cached pages served last: a cached page, once injected, is the
  same bytes for as long as the process serves it (tokens, bundles and base URL are fixed
  at start-up), so a cache hit costs no more than a trivial controller;
* the keys whose page turned out not storable (it read the session, set a cookie, failed):
  for a few seconds, requests for them are made side by side instead of queueing one by one
  behind the creation lock for a page nobody will store.
"""
import collections
import threading
import time

from .pagebody import as_made
from .tags import NONCE_KEY

#: Seconds a key that gave no storable page is made without the creation lock.
REFUSED_FOR = 10.0


class _Bounded:
    """An ordered dict that forgets the oldest entry past ``size``."""

    def __init__(self, size):
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key):
        return self._items.get(key)

    def put(self, key, value):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def drop(self, key):
        with self._lock:
            self._items.pop(key, None)


class PageMemory:
    def __init__(self, pages=256, refused=4096, refused_for=REFUSED_FOR):
        self._injected = _Bounded(pages)
        self._refused = _Bounded(refused)
        self._refused_for = refused_for

    # -- injected pages
    def injected(self, page_id, script_name):
        """(the page as sent, the values of its Link headers), or None."""
        return self._injected.get((page_id, script_name))

    def remember_injected(self, page_id, response, text=None):
        """Step ``on_sent`` of a cache hit: keep the page as sent (a GET's 200 only), as text
        again when it was stored as text (``text``: see pagebody.as_made)."""
        if response.environ.get("REQUEST_METHOD") != "GET" or not response.status.startswith("200 "):
            return
        if response.environ.get(NONCE_KEY):  # its tags carry this request's CSP nonce, for it alone
            return
        try:
            page = as_made(response.body, text)
        except UnicodeError:
            return
        self._injected.put((page_id, response.environ.get("SCRIPT_NAME", "")), (page, response.preload))

    # -- keys whose page was not storable
    def refuse(self, key):
        self._refused.put(key, time.monotonic() + self._refused_for)

    def refused(self, key):
        until = self._refused.get(key)
        if until is None:
            return False
        if time.monotonic() < until:
            return True
        self._refused.drop(key)
        return False
