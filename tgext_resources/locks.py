"""Creation locks: many concurrent misses of one key make it once, and nobody waits for ever.

A lock is taken in two steps, both bounded by one deadline (``resources.render_timeout``):

* ``KeyLocks``, one thread of this process per key, on every backend: the threads of one
  process wake the moment the holder is done, without polling a file or a server.
* then a lock shared with the other processes: ``FileLock`` (``file``, ``dbm``,
  ``ext:memcached``: the processes of this machine) or ``RedisLock`` (``ext:redis``: every
  machine).

Beaker's own locks could be waited on for ever: its Redis lock lived 900 s, so a process
killed in the middle of a render left every other process hanging on that page, and its
file lock waits on ``flock`` with no timeout, so a render that hangs holds every waiter.
Here the Redis lock lives ``render_timeout`` seconds at most, and a waiter gives up at the
deadline, whatever the lock.
"""
import hashlib
import os
import threading
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the threads of one process only
    fcntl = None

_POLL_FIRST, _POLL_MAX = 0.01, 0.1  # seconds between two tries of a lock held by another process


class KeyLocks:
    """One lock per key for the threads of this process; a key's lock is forgotten once no
    thread holds or waits for it, so that the table does not grow with the keys seen."""

    def __init__(self):
        self._entries = {}  # key -> [lock, threads holding or waiting, thread holding]
        self._mutex = threading.Lock()

    def acquire(self, key, timeout):
        """``(held, waited)``.  ``(False, True)``: another thread held it past ``timeout``.
        ``(False, False)``: this thread holds it already (a render that needs its own key):
        going on without it beats waiting for itself."""
        me = threading.get_ident()
        with self._mutex:
            entry = self._entries.setdefault(key, [threading.Lock(), 0, None])
            if entry[2] == me:
                return False, False
            entry[1] += 1
        waited = not entry[0].acquire(False)
        if waited and not entry[0].acquire(timeout=max(timeout, 0)):
            self._leave(key, entry)
            return False, True
        entry[2] = me
        return True, waited

    def release(self, key):
        with self._mutex:
            entry = self._entries[key]
            entry[2] = None
            entry[0].release()
        self._leave(key, entry)

    def _leave(self, key, entry):
        with self._mutex:
            entry[1] -= 1
            if not entry[1]:
                del self._entries[key]


def _pause(delay, deadline):
    time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
    return min(delay * 2, _POLL_MAX)


class FileLock:
    """``flock`` on a file of ``directory``: one process of this machine at a time.  The
    kernel drops it when its process dies; a holder that hangs keeps it, hence the deadline."""

    available = fcntl is not None

    def __init__(self, directory, name):
        digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()
        self.path = os.path.join(directory, digest[:2], digest + ".lock")
        self._fd = None

    def acquire(self, deadline):
        """``(held, waited)``: held is False once ``deadline`` (time.monotonic()) has passed."""
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o644)
        waited, delay = False, _POLL_FIRST
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._fd = fd
                return True, waited
            except BlockingIOError:
                pass
            except BaseException:
                os.close(fd)
                raise
            if time.monotonic() >= deadline:
                os.close(fd)
                return False, True
            waited = True
            delay = _pause(delay, deadline)

    def release(self):
        # The file stays: removing it would let a process that opened it before the removal
        # lock a file nobody else can see any more.
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


class RedisLock:
    """A key set with ``SET NX`` and a lifetime of ``lifetime`` seconds, released only by
    its owner (redis-py's ``Lock``): a holder killed mid-render blocks the key that long at
    most."""

    def __init__(self, client, name, lifetime):
        # thread_local=False: the page cache may release it from the thread that closes the
        # response, not the one that took it.
        self._lock = client.lock(name, timeout=lifetime, sleep=0.05, thread_local=False)

    def acquire(self, deadline):
        """``(held, waited)``, as ``FileLock.acquire``; raises what the client raises."""
        if self._lock.acquire(blocking=False):
            return True, False
        remaining = deadline - time.monotonic()
        return remaining > 0 and bool(self._lock.acquire(blocking=True, blocking_timeout=remaining)), True

    def release(self):
        from redis.exceptions import LockError

        try:
            self._lock.release()
        except LockError:
            pass  # it outlived its lifetime, and may be another request's by now: not ours to drop
