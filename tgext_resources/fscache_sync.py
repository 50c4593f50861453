"""Invalidations of the filesystem cache that reach every machine: ``fscache.invalidation_url``.

Each machine has its own ``fscache.dir`` and its own front server; one Redis stream
(``tgext_resources:fscache:<package>``, ``XADD`` bounded at ``fscache.invalidation_log``
entries) is the ordered log of what was invalidated anywhere.  Every ``fscache.invalidate``
and every write that replaces a file by other bytes is added to it, and every directory
applies the entries of the other directories:

* **Publishing never waits for Redis.**  The entry is written to the directory's outbox
  (fscache_outbox.py) and a thread of the process sends it at once; while Redis is down
  the entries wait there, a warning names the key, and they are sent when it answers.
* **Each directory applies an entry once**, however many processes share it: one of them
  holds the directory's ``sync-follow`` lock and reads the stream (``XREAD BLOCK``); the
  others try for the lock twice a second, and one takes over when it dies.  Entries are
  applied under the ``sync-cursor`` lock, which keeps the id of the last one applied.
* **A directory catches up before its process serves**: at start-up, from its cursor.
  Without a cursor, when the cursor's entry is no longer in the stream (trimmed, or
  Redis lost its data), or when another Redis server answers, the entries it missed are
  unknown, and the directory is emptied: an empty cache is always right.
* Applying an entry is ``invalidate`` on this directory: the files removed, and a render
  under way here does not write what it made from the data before the change.
"""
import atexit
import logging
import os
import threading
import time
import weakref

from .clients import redis_client
from .errors import UnsafePathError, UnstorablePathError
from .fscache_outbox import DirectoryState, clear
from .lockfiles import after_fork

log = logging.getLogger(__name__)

KEY = "fscache.invalidation_url"
BATCH = 1000  # entries read or sent in one round trip
BLOCK = 5.0  # seconds one XREAD waits for entries: the follower looks whether to stop between two
FOLLOW_POLL = 0.5  # seconds between two tries for the sync-follow lock
SEND_POLL = 5.0  # seconds between two looks at the outbox (entries another process left)
RETRY = (0.2, 5.0)  # the first and the longest pause before Redis is asked again
WARNING_EVERY = 60.0


class Sync:
    """The invalidations of one application's filesystem cache, shared through Redis."""

    def __init__(self, cache, url, stream, max_entries, timeout):
        self.cache, self.url, self.stream, self.max_entries, self.timeout = cache, url, stream, max_entries, timeout
        self.files = DirectoryState(cache.root)
        self.origin = None
        self.stopped = threading.Event()
        self.threads = []
        self._wake = threading.Event()
        self._warned = {}
        self._down = False

    # -- start-up and the threads
    def start(self):
        """Send what waits, catch up, start the threads; Redis down costs a warning, not the start."""
        self.origin = self.files.identity()
        client = self._client(self.timeout)
        try:
            self._send(client)
            self._catch_up(client)
        except _redis_errors() as exc:
            self._failed("catch up at start-up", exc)
        finally:
            client.close()
        self._start_threads()
        after_fork(self.after_fork)
        reference = weakref.WeakMethod(self._at_exit)
        atexit.register(lambda: reference() and reference()())

    def _at_exit(self):
        """A process ending (a script, a machine shut down) sends what waits, or says so."""
        if self.stopped.is_set():  # stopped on purpose: what waits is the next process's
            return
        client = self._client(self.timeout)
        try:
            self._send(client)
        except Exception as exc:
            log.warning("%s = %s: invalidations not sent as the process ends (%s); the next process "
                        "started on %s sends them", KEY, self.url, exc, self.cache.root)
        finally:
            client.close()

    def _start_threads(self):
        self.threads = [threading.Thread(target=target, name="tgext-resources fscache " + name, daemon=True)
                        for target, name in ((self._follow, "follow"), (self._send_loop, "send"))]
        for thread in self.threads:
            thread.start()

    def after_fork(self):
        """In a forked child (gunicorn's workers): threads of its own (see lockfiles.py)."""
        stopped, self.stopped, self._wake = self.stopped.is_set(), threading.Event(), threading.Event()
        if stopped:
            self.stopped.set()
        else:
            self._start_threads()

    def stop(self, wait=None):
        """Stop following and sending (the outbox keeps what waits); wait ``wait`` s for the threads."""
        self.stopped.set()
        self._wake.set()
        for thread in self.threads if wait else ():
            thread.join(wait)

    def _client(self, timeout):  # a client per thread: each has its own timeout
        return redis_client(self.url, timeout)

    # -- publishing
    def publish(self, kind, path):
        """An entry ("invalidate", "replace") kept in the outbox for the sending thread."""
        try:
            self.files.put(kind, path)
        except OSError as exc:  # a full disk: the other machines will not know
            log.error("Filesystem cache: the invalidation of %s could not be kept for the other machines "
                      "(%s): it is applied on this machine only", path[:200], exc)
            return
        self._wake.set()

    def _send_loop(self):
        pause, client = RETRY[0], self._client(self.timeout)
        while not self.stopped.is_set():
            self._wake.wait(SEND_POLL)
            self._wake.clear()
            try:
                self._send(client)
                self._answered()
                pause = RETRY[0]
            except Exception as exc:  # Redis down or hung, mostly; the thread goes on
                self._failed("send", exc)
                self.stopped.wait(pause)
                pause = min(pause * 2, RETRY[1])
                self._wake.set()  # try again: they still wait

    def _send(self, client):
        """Send what waits in the outbox (nothing when another process is sending it)."""
        with self.files.locked("sync-send", wait=False) as held:
            while held is not None:
                sending, entries = self.files.waiting()
                if sending is None:
                    break
                for start in range(0, len(entries), BATCH):
                    pipe = client.pipeline(transaction=False)
                    for kind, path in entries[start:start + BATCH]:
                        pipe.xadd(self.stream, self._fields(kind, path), maxlen=self.max_entries, approximate=True)
                    pipe.execute()
                # Sent whole or not at all: sent again after a failure, an entry is applied twice.
                os.unlink(sending)

    def _fields(self, kind, path):
        return {b"kind": kind.encode(), b"path": path.encode("utf-8", "surrogatepass"), b"origin": self.origin.encode()}

    # -- applying
    def _catch_up(self, client):
        """Apply every entry after the cursor, or empty the directory when they are unknown.
        The cursor names the Redis server too (its run_id): one restarted from a snapshot,
        or a replica promoted, may have lost entries made after the cursor's."""
        run = client.info("server")["run_id"]
        with self.files.cursor() as cursor:
            was, last = cursor.read()
            if last and was == run and client.xrange(self.stream, last, last):
                while True:
                    entries = client.xrange(self.stream, "(" + last, "+", count=BATCH)
                    if not entries:
                        return
                    last = self._apply(entries)
                    cursor.write(run, last)
            # A mark of this directory, added first: entries after it are applied later,
            # those before it are undone by emptying the directory now.
            mark = client.xadd(self.stream, self._fields("start", ""), maxlen=self.max_entries, approximate=True)
            removed = clear(self.cache)
            cursor.write(run, mark.decode())
            if not last:
                why = "it has no record of the invalidations applied to it"
            elif was != run:
                why = "Redis restarted, or another Redis server answers, since its last invalidation: " \
                      "the invalidations made after it may be lost"
            else:
                why = "the invalidations after the last it applied are no longer in the stream (more than " \
                      "fscache.invalidation_log were made meanwhile, or Redis lost its data)"
            log.log(logging.WARNING if removed else logging.INFO,
                    "Filesystem cache %s emptied (%d pages): %s", self.cache.root, removed, why)

    def _apply(self, entries):
        """Apply stream entries to this directory; the id of the last one."""
        done = set()
        for entry_id, fields in entries:
            kind = fields.get(b"kind", b"").decode("ascii", "replace")
            path = fields.get(b"path", b"")
            if fields.get(b"origin", b"").decode("ascii", "replace") == self.origin or kind == "start" \
                    or (kind, path) in done:
                continue
            done.add((kind, path))
            try:  # an entry that fails is skipped: left in the way, it would stop every later one
                path = path.decode("utf-8", "surrogatepass")
                if kind == "clear":
                    log.warning("Filesystem cache %s emptied (%d pages): another machine could not send its "
                                "invalidations in time", self.cache.root, clear(self.cache))
                else:
                    self.cache.invalidate(path, publish=False)
            except (UnsafePathError, UnstorablePathError, UnicodeError, OSError) as exc:
                log.warning("Filesystem cache: stream entry %s (%s %r) not applied: %s",
                            entry_id.decode(), kind, path[:200], exc)
            except Exception:
                log.exception("Filesystem cache: stream entry %s (%s %r) not applied", entry_id.decode(), kind,
                              path[:200])
        return entries[-1][0].decode()

    def _follow(self):
        """One process per directory follows the stream; the others wait for its lock."""
        while not self.stopped.is_set():
            try:
                with self.files.locked("sync-follow", wait=False) as held:
                    if held is not None:
                        self._read_stream()
                        continue
            except OSError as exc:  # the directory removed by hand, a full disk
                self._failed("follow", exc)
            self.stopped.wait(FOLLOW_POLL)

    def _read_stream(self):
        pause, client, checked = RETRY[0], self._client(BLOCK + self.timeout + 1), False
        while not self.stopped.is_set():
            try:
                if not checked:  # at first, and after a failure: the same server, the cursor there
                    self._catch_up(client)
                    checked = True
                with self.files.cursor() as cursor:
                    run, last = cursor.read()
                if not last:  # the cursor removed by hand
                    checked = False
                    continue
                answer = client.xread({self.stream: last}, count=BATCH, block=int(BLOCK * 1000))
                self._answered()
                pause = RETRY[0]
                if not answer or self.stopped.is_set():
                    continue
                # Entries go from the head of the stream only: while the cursor's entry is
                # there, none after it was lost (trimmed, or lost by a Redis restarted empty).
                if not client.xrange(self.stream, last, last):
                    checked = False  # the directory is emptied
                    continue
                with self.files.cursor() as cursor:
                    if cursor.read() == (run, last):  # else a process starting applied them: read on
                        cursor.write(run, self._apply(answer[0][1]))
            except Exception as exc:  # Redis down or hung, mostly; the thread goes on
                checked = False
                self._failed("read", exc)
                self.stopped.wait(pause)
                pause = min(pause * 2, RETRY[1])

    # -- Redis down, and back
    def _failed(self, action, exc):
        if not isinstance(exc, _redis_errors()):
            log.error("Filesystem cache: failed to %s the invalidations", action, exc_info=exc)
            return
        self._down = True
        now = time.monotonic()
        if now - self._warned.get(action, -WARNING_EVERY) < WARNING_EVERY:
            return
        self._warned[action] = now
        log.warning(
            "%s = %s: Redis failed to %s the filesystem cache's invalidations (%s: %s). Invalidations "
            "are applied on this machine and wait in %s for Redis; the other machines' are applied here "
            "once it answers (next such warning in %d s at most)", KEY, self.url, action,
            type(exc).__name__, exc, self.files.directory, WARNING_EVERY)

    def _answered(self):
        if self._down:
            self._down = False
            log.info("%s = %s answers again: invalidations are shared again", KEY, self.url)


def _redis_errors():
    import redis

    return (redis.RedisError, ConnectionError, TimeoutError)  # not a local OSError: a full disk


def attach(cache, settings, package):
    """With ``fscache.invalidation_url`` set: ``cache`` shares its invalidations, caught up now."""
    if not settings.fscache.invalidation_url:
        return
    stream = "tgext_resources:fscache:%s" % (package or "application")
    cache.sync = Sync(cache, settings.fscache.invalidation_url, stream, settings.fscache.invalidation_log,
                      settings.resources.cache_timeout)
    cache.sync.start()
    log.info("Filesystem cache invalidations shared through Redis stream %s", stream)
    # A page cache not shared as well keeps serving, on each machine, what another invalidated.
    for region in settings.cache.regions:
        if region.type not in ("ext:redis", "ext:memcached"):
            log.warning(
                "%s is set (several machines), but cache region %r is %s, of one machine: a page or "
                "fragment invalidated on one machine is still served by the others; use ext:redis or "
                "ext:memcached for it", KEY, region.name, region.type)
