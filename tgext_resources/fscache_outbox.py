"""What a cache directory keeps for the invalidations shared between machines (see
fscache_sync.py), in its hidden ``.tgext-resources/`` directory, so that every process
writing the directory shares it:

* ``sync-id``: the directory's own id, with the device and inode it was made for: a copy
  of the directory (a disk image, an rsync of the application) gets an id of its own, and
  does not take the original's entries for its own.
* ``sync-cursor``: the id of the last stream entry applied to the directory; applying
  entries is done under its lock, so that no two processes apply the same ones.
* ``sync-outbox``: the entries of this directory not sent yet, one JSON line each; a
  sender renames it to ``sync-sending`` and removes that once Redis has them, so that
  entries written meanwhile are never lost nor sent twice over.
* ``sync-follow`` and ``sync-send``: held by the one process that reads the stream, and
  by the one that sends, for the directory.

Every lock is an ``flock`` (taken on a descriptor opened for the purpose and closed after,
see fscache_files) and a thread lock, for systems without flock.
"""
import contextlib
import json
import logging
import os
import re
import secrets
import threading

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the thread locks alone, one process
    fcntl = None

from .fscache_files import STATE_DIR, STRIPES, remove
from .lockfiles import after_fork, close_lock, open_lock
from .media import SIBLINGS

log = logging.getLogger(__name__)

#: Bytes the outbox may grow to (about 40,000 entries) while Redis cannot be reached; past
#: it, its entries become one "clear" entry: every other machine empties its directory.
OUTBOX_MAX = 4 * 1024 * 1024


class DirectoryState:
    """The sync files of one cache directory."""

    def __init__(self, root):
        self.root = root
        self.directory = os.path.join(root, STATE_DIR)
        self._new_thread_locks()
        after_fork(self._new_thread_locks)  # one held by a thread of the parent stays held

    def _path(self, name):
        return os.path.join(self.directory, name)

    @contextlib.contextmanager
    def locked(self, name, wait=True):
        """Hold lock ``name``; yields the open descriptor, or None when ``wait`` is false and
        another process or thread holds it."""
        with self._threads_lock:
            thread_lock = self._threads.setdefault(name, threading.Lock())
        if not thread_lock.acquire(wait):
            yield None
            return
        try:
            fd = open_lock(self.directory, name)
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                    except BlockingIOError:
                        yield None
                        return
                yield fd
            finally:
                close_lock(fd)
        finally:
            thread_lock.release()

    def _new_thread_locks(self):
        self._threads = {}
        self._threads_lock = threading.Lock()

    # -- the directory's id
    def identity(self):
        """This directory's id: made once, and made anew for a copy of the directory."""
        here = os.stat(self.root)
        made_for = "%d %d" % (here.st_dev, here.st_ino)
        with self.locked("sync-id") as fd:
            words = _read(fd).split()
            if len(words) == 3 and " ".join(words[1:]) == made_for:
                return words[0]
            if words:
                log.info("Filesystem cache %s: a copy of another directory, given an id of its own", self.root)
                _write(fd, "")
                self.forget_cursor()
            origin = secrets.token_hex(8)
            _write(fd, "%s %s\n" % (origin, made_for))
            return origin

    # -- the cursor
    @contextlib.contextmanager
    def cursor(self):
        """Yields the Cursor, locked."""
        with self.locked("sync-cursor") as fd:
            yield _Cursor(fd)

    def forget_cursor(self):
        with self.locked("sync-cursor") as fd:
            _write(fd, "")

    # -- the outbox
    def put(self, kind, path):
        """Add an entry to the outbox."""
        line = json.dumps({"kind": kind, "path": path}, ensure_ascii=True) + "\n"
        with self.locked("sync-outbox.lock"):
            outbox = self._path("sync-outbox")
            with open(outbox, "a", encoding="ascii") as f:
                if f.tell() + len(line) > OUTBOX_MAX:
                    log.warning("Filesystem cache %s: more invalidations wait for Redis than the outbox keeps "
                                "(%d bytes): the other machines will empty their directories instead",
                                self.root, OUTBOX_MAX)
                    f.truncate(0)
                    line = json.dumps({"kind": "clear", "path": ""}) + "\n"
                f.write(line)

    def waiting(self):
        """``(path, entries)``: the file of entries to send now (the outbox, renamed, or what
        a failed send left), and its entries; ``(None, [])`` when none wait."""
        sending = self._path("sync-sending")
        if not os.path.exists(sending):
            with self.locked("sync-outbox.lock"):
                try:
                    os.rename(self._path("sync-outbox"), sending)
                except FileNotFoundError:
                    return None, []
        with open(sending, "rb") as f:
            lines = f.read().splitlines()
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
                entries.append((str(entry["kind"]), str(entry["path"])))
            except (ValueError, KeyError, TypeError):  # a line cut by a full disk
                log.warning("Filesystem cache %s: an unreadable outbox entry, sent as \"clear\"", self.root)
                entries.append(("clear", ""))
        return sending, entries


class _Cursor:
    """The Redis server (its run_id) and the id of the last entry applied from its stream."""

    def __init__(self, fd):
        self._fd = fd

    def read(self):
        """``(run_id, entry_id)``; ``("", "")`` for none, or for what no writer wrote (a
        file cut short by a full disk, edited by hand): that is a directory to empty."""
        words = _read(self._fd).split()
        if len(words) == 2 and re.fullmatch(r"[0-9a-f]{1,64}", words[0]) and re.fullmatch(r"[0-9]+-[0-9]+", words[1]):
            return words[0], words[1]
        return "", ""

    def write(self, run_id, entry_id):
        _write(self._fd, "%s %s\n" % (run_id, entry_id))


def _read(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 4096).decode("ascii", "replace")


def _write(fd, text):
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text.encode("ascii"))


def clear(cache):
    """Empty the cache directory: every page and sibling removed (a page before its
    siblings, each under its stripe's lock), and every stripe's generation moved on first,
    so that no render begun before writes.  Returns the pages removed."""
    for number in range(STRIPES):
        with cache.state.stripe_number(number) as generation:
            generation.add(1)
    siblings = tuple(suffix for suffix, _ in SIBLINGS)
    removed, pending = 0, [cache.root]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                entries = list(entries)
        except OSError:  # removed meanwhile
            continue
        for entry in entries:
            if entry.name.startswith("."):  # the state directory, files being written
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif not entry.name.endswith(siblings):
                url = "/" + os.path.relpath(entry.path, cache.root).replace(os.sep, "/")
                try:
                    with cache.state.stripe(url):
                        removed += entry.path in remove(entry.path)
                except OSError as exc:  # not ours to remove (put there by hand): the rest goes on
                    log.warning("Filesystem cache: %s could not be removed: %s", entry.path, exc)
        for entry in entries:  # siblings whose page is gone
            if entry.name.endswith(siblings) and not entry.name.startswith("."):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
    cache.pages.release(removed)
    return removed

