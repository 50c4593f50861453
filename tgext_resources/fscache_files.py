"""The files of the filesystem cache on disk (see fscache.py): a page and its compressed
siblings written and removed in an order that keeps them alike for the front server, the
locks and invalidation generations that keep a slow render from bringing back what was
invalidated while it ran, and the count that bounds the directory.

What every process writing the directory must share lives in it, in the hidden directory
``.tgext-resources/`` (front servers never serve hidden paths):

* ``lock-00`` ... ``lock-ff``: a URL path belongs to one of 256 stripes; its files are
  written and removed only while the stripe's file is locked (``flock``, which excludes
  other processes and other threads alike; a thread lock too, for systems without it).
  The file holds the stripe's generation, which every invalidation of a path of the
  stripe increments: a write taken at a generation that has changed since is dropped.
  Paths sharing a stripe only make such a write be dropped now and then (the next request
  writes the page), and 256 small files bound what the locks cost on disk.
* ``count``: how many pages the directory holds (see :class:`PageCount`).
"""
import contextlib
import logging
import math
import os
import re
import threading
import time
import zlib

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the thread locks alone, one process
    fcntl = None

from . import media
from .lockfiles import after_fork, close_lock, open_lock
from .media import SIBLINGS, write_atomic

log = logging.getLogger(__name__)

STATE_DIR = ".tgext-resources"
STRIPES = 256
_DIGITS = 20  # a counter in its file: fixed width, so it is rewritten in place
_WARNING_EVERY = 60.0  # seconds between two warnings that the cache is full, and two recounts


class SharedState:
    """The lock files and the count file of a cache directory (see the module's docstring)."""

    def __init__(self, root):
        self.directory = os.path.join(root, STATE_DIR)
        self._new_thread_locks()
        after_fork(self._new_thread_locks)

    def _new_thread_locks(self):
        self._thread_locks = [threading.Lock() for _ in range(STRIPES)]
        self._count_lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self, name, thread_lock):
        with thread_lock:
            fd = open_lock(self.directory, name)
            try:
                # Opened anew each time: a descriptor shared with a forked process would
                # share its lock, and the lock would exclude nobody.  No deadline: it is
                # held while made bytes are written, never while a page renders, and the
                # system releases it when its process dies.
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                yield _Counter(fd)
            finally:
                close_lock(fd)

    def stripe(self, path):
        """Lock the stripe of URL ``path``; yields its generation counter."""
        # crc32, not hash(): every process must find the same stripe for a path.
        return self.stripe_number(zlib.crc32(html_file(path).encode("utf-8", "surrogatepass")) % STRIPES)

    def stripe_number(self, number):
        return self._locked("lock-%02x" % number, self._thread_locks[number])

    def count(self):
        """Lock the count file; yields its counter."""
        return self._locked("count", self._count_lock)


def html_file(path):
    """The file of URL ``path`` when it is an HTML page: ``.html`` added to a name without an
    extension, ``index.html`` to a directory.  It names the path's lock too: every URL that
    may write one file (``/about`` and ``/about.html``: about.html) takes the same lock."""
    relative = path[1:]
    if relative == "" or relative.endswith("/"):
        return relative + "index.html"
    if "." not in relative.rsplit("/", 1)[-1]:
        return relative + ".html"
    return relative


class _Counter:
    """A number kept in a locked file."""

    def __init__(self, fd):
        self._fd = fd

    def read(self):
        os.lseek(self._fd, 0, os.SEEK_SET)
        data = os.read(self._fd, _DIGITS).strip()
        return int(data) if data.isdigit() else 0

    def write(self, value):
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, b"%0*d" % (_DIGITS, max(0, value)))

    def add(self, delta):
        value = self.read() + delta
        self.write(value)
        return value


# -- a page and its siblings ------------------------------------------------------------------
#
# The front server serves a compressed sibling only with its page: nginx's try_files (and
# the Apache rules) look for the page itself, then gzip_static sends ``<page>.gz`` in its
# place.  So siblings are written before their page and removed after it, under the lock
# of the page's stripe: a new page appears with its siblings in place, a sibling is never
# served without its page, and writers taking turns leave the page and its siblings of one
# content.  The page itself is replaced by a rename, never removed first: nginx may open it
# just after try_files found it, and a missing file then is a 404.  (While an existing page
# is rewritten, a client taking the ``.gz`` may get the new content a moment before one
# taking the plain file: each gets one whole version.)

def replace(target, body, siblings):
    """Put ``body`` at ``target``, with its ``siblings`` (from media.compressed_siblings,
    made before the lock was taken: Brotli at its best takes a while)."""
    for suffix, _ in SIBLINGS:
        if suffix in siblings:
            write_atomic(target + suffix, siblings[suffix])
        else:
            remove_file(target + suffix)  # an older one would disagree with the new page
    write_atomic(target, body)


def same_content(target, body):
    """Whether the file ``target`` holds ``body``."""
    try:
        with open(target, "rb") as f:
            return os.fstat(f.fileno()).st_size == len(body) and f.read() == body
    except OSError:
        return False


def remove(target):
    """Remove the page ``target`` first (so its siblings are never served alone), then its
    siblings; the files removed."""
    return [path for path in (target, *(target + suffix for suffix, _ in SIBLINGS)) if remove_file(path)]


def remove_file(path):
    try:
        os.unlink(path)
        return True
    except (FileNotFoundError, IsADirectoryError):  # "/images" where "/images/" was written
        return False
    except PermissionError:
        if os.path.isdir(path):  # macOS and others say EPERM for a directory
            return False
        raise


# -- the bound ------------------------------------------------------------------------------

def count_pages(root):
    """The pages under ``root``: files, less hidden ones and the compressed siblings of a
    page.  A loop, not a recursion (os.walk recurses before Python 3.12)."""
    total, pending = 0, [root]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                entries = list(entries)
        except OSError:  # removed meanwhile, or unreadable: not ours to count
            continue
        names = {entry.name for entry in entries}
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif not any(entry.name.endswith(suffix) and entry.name[:-len(suffix)] in names for suffix, _ in SIBLINGS):
                total += 1
    return total


class PageCount:
    """How many pages the directory holds, kept in the shared count file against ``limit``
    (``fscache.max_files``; 0: no bound, nothing counted).

    The directory is counted once at start-up, in a background thread; then every page
    written or removed changes the count, in whichever process does it.  A process that
    finds the directory full counts again (once a minute at most) in case files went away
    without it knowing (removed by hand, or half-written by a process that died).
    """

    def __init__(self, state, root, limit):
        self._state = state
        self._root = root
        self.limit = limit
        self.counted = threading.Event()  # set once a count has finished
        self._last_count = -math.inf
        self._last_warning = -math.inf
        self._lock = threading.Lock()

    def start(self):
        if self.limit:
            self._recount_in_background()

    def _recount_in_background(self):
        with self._lock:
            if time.monotonic() - self._last_count < _WARNING_EVERY:
                return
            self._last_count = time.monotonic()
        threading.Thread(target=self._recount, name="tgext-resources fscache count", daemon=True).start()

    def _recount(self):
        try:
            pages = count_pages(self._root)
            with self._state.count() as counter:
                counter.write(pages)
            log.info("Filesystem cache: %d pages in %s (fscache.max_files = %d)", pages, self._root, self.limit)
        except Exception:  # a background thread: say it, the requests go on
            log.exception("Filesystem cache: counting the pages of %s failed", self._root)
        finally:
            self.counted.set()

    def reserve(self):
        """Count one more page: True, or False when the directory is full (warned about)."""
        if not self.limit:
            return True
        with self._state.count() as counter:
            pages = counter.read()
            if pages < self.limit:
                counter.write(pages + 1)
                return True
        now = time.monotonic()
        if now - self._last_warning >= _WARNING_EVERY:
            self._last_warning = now
            log.warning(
                "Filesystem cache full: %s holds %d pages (fscache.max_files = %d); new pages are served "
                "uncached until invalidations make room (next warning in %d s at most)",
                self._root, pages, self.limit, _WARNING_EVERY)
        self._recount_in_background()
        return False

    def release(self, pages=1):
        """Count ``pages`` fewer pages (removed, or reserved and then not written)."""
        if self.limit and pages:
            with self._state.count() as counter:
                counter.add(-pages)


def _media_type(value):
    return (value or "").split(";")[0].strip().lower()


def type_refusal(path, content_type):
    """The front server sends a file with the type of its extension: written under another
    type's extension (JSON at /x.html, a PNG at /thumbs/1.html), a response would become
    a page of this site for everyone."""
    name = path.rsplit("/", 1)[-1]
    sent = _media_type(content_type)
    if "." not in name:
        return None if sent == "text/html" else "the URL has no extension to give it a type"
    if sent != _media_type(media.content_type(name)):
        return "it is %s, but the front server would send %s as %s" % (
            sent or "untyped", name[:200], _media_type(media.content_type(name)))
    return None


_HOST_RE = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def plain_host(host):
    """Whether ``host`` is a host name or address with an optional port: nothing a page
    built from ``request.host_url`` could turn into a link elsewhere (``a.example:@evil``)."""
    return host == "" or _HOST_RE.fullmatch(host) is not None


# Percent-encoded characters a URL never needs to encode (RFC 3986, 2.3; "/" would split
# differently): /thumbs/%31.png is /thumbs/1.png spelled another way.
_NEEDLESS_ESCAPE_RE = re.compile(r"%(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2[def]|5f|7e)", re.I)


def spelling_refusal(environ):
    """Why the request's URL is not its own plain spelling, or None.  The raw URL comes from
    the server (REQUEST_URI: waitress, uWSGI, mod_wsgi; RAW_URI: gunicorn), when it says it."""
    if environ.get("QUERY_STRING"):
        return "it has a query string"
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or ""
    escape = _NEEDLESS_ESCAPE_RE.search(raw.split("?", 1)[0])
    if escape:
        return "its URL spells %s, which needs no escape: only the plain spelling is cached" % escape.group()
    return None
