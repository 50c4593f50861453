"""The directory of the filesystem cache (see fscache.py): checking a URL path, writing a
page with its siblings, invalidating, under the locks of fscache_files.py.  Plain code: no
request, no TurboGears."""
import logging
import os

from .errors import ConfigError, UnsafePathError, UnstorablePathError
from .fscache_files import STATE_DIR, PageCount, SharedState, html_file, remove, replace, same_content
from .locate import split_filename
from .media import compressed_siblings, is_hidden

log = logging.getLogger(__name__)

#: Segments a cached URL may have: a deeper one is served uncached (each segment is a
#: directory on disk, and one request must not make thousands of them).
MAX_DEPTH = 32
# What write_atomic adds to a file name for its temporary file (".tmp-XXXXXXXX-") and a
# sibling adds (".gz"), with room to spare: a name must stay below the file system's limit.
_NAME_MARGIN = 24
_SHOWN = 200  # characters of a path shown in a log line


class FileCache:
    """The filesystem cache of one application: its directory, and writing and deleting there."""

    def __init__(self, root, max_files=0):
        self.root = root
        self.max_files = max_files
        self.name_max, self.path_max = 255, 4096  # until prepare() asks the file system
        self.sync = None  # with fscache.invalidation_url: the invalidations shared (fscache_sync.py)

    def prepare(self, key="fscache.dir"):
        """At start-up: create the directory, check that it can be written, count its pages."""
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise ConfigError(key, self.root, "this is a file, not a directory: name a directory (it is "
                              "created if missing), or move the file away")
        try:
            os.makedirs(os.path.join(self.root, STATE_DIR), exist_ok=True)
            probe = os.path.join(self.root, ".tgext-resources-write-test-%d" % os.getpid())
            with open(probe, "wb") as f:
                f.write(b"ok")
            os.unlink(probe)
        except OSError as exc:
            raise ConfigError(
                key, self.root,
                "the directory cannot be created or written (%s); give the application's user write "
                "access to it, or choose another directory" % (exc.strerror or exc),
            ) from None
        self.root = os.path.realpath(self.root)
        for name in ("name_max", "path_max"):
            try:
                setattr(self, name, os.pathconf(self.root, "PC_" + name.upper()))
            except (OSError, ValueError, AttributeError):  # not said: the usual limits
                pass
        self.state = SharedState(self.root)
        self.pages = PageCount(self.state, self.root, self.max_files)
        self.pages.start()

    def file_for(self, path, content_type=None):
        """The file that holds URL ``path``; UnsafePathError for a hostile path,
        UnstorablePathError for one the file system cannot hold.

        ``content_type``: with ``text/html``, a path without an extension gets ``.html`` and a
        directory path ``index.html``.
        """
        if not isinstance(path, str) or not path.startswith("/"):
            raise UnsafePathError("fscache path %r must be the absolute path of a URL, e.g. /thumbs/42.png" % (path,))
        relative = path[1:]
        if (content_type or "").split(";")[0].strip().lower() == "text/html":
            relative = html_file(path)
        elif relative == "" or relative.endswith("/"):
            raise UnsafePathError("fscache path %r names a directory: only an HTML page can stand for it" % shown(path))
        segments = split_filename(relative)  # no "..", ".", "//", NUL, backslash
        if is_hidden(relative):  # the front server refuses them: writes in progress live there
            raise UnsafePathError("fscache path %r has a hidden segment" % shown(path))
        target = os.path.join(self.root, *segments)
        self._check_size(path, segments, target)
        parent = os.path.realpath(os.path.dirname(target))
        if os.path.commonpath([parent, self.root]) != self.root or os.path.islink(target):
            raise UnsafePathError("fscache path %r leads outside %s through a symbolic link" % (path, self.root))
        return target

    def _check_size(self, path, segments, target):
        if len(segments) > MAX_DEPTH:
            raise UnstorablePathError("fscache path %r has %d segments; at most %d are cached"
                                      % (shown(path), len(segments), MAX_DEPTH))
        try:
            longest = max(len(os.fsencode(segment)) for segment in segments)
            length = len(os.fsencode(target))
        except UnicodeError:
            raise UnsafePathError("fscache path %r cannot be a file name here" % shown(path)) from None
        if longest > self.name_max - _NAME_MARGIN or length > self.path_max - _NAME_MARGIN:
            raise UnstorablePathError(
                "fscache path %r is too long for the file system (names of %d bytes at most, paths of %d)"
                % (shown(path), self.name_max - _NAME_MARGIN, self.path_max - _NAME_MARGIN))

    def ticket(self, path):
        """The generation of ``path`` now: a request takes it when it starts, and its
        ``store(..., since=ticket)`` is dropped if ``path`` was invalidated meanwhile."""
        self.file_for(path, "text/html")  # the most lenient form: raises only if no form can be stored
        with self.state.stripe(path) as generation:
            return generation.read()

    def store(self, path, body, content_type=None, since=None, publish=True):
        """Write ``body`` for URL ``path``: the file written, or None when not written (the
        path was invalidated after ``since`` was taken, or the directory is full).  With
        ``publish``, a file replaced by other bytes is invalidated on the other machines."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        target = self.file_for(path, content_type)
        siblings = compressed_siblings(target, body)  # before the lock: it may take a while
        with self.state.stripe(path) as generation:
            if since is not None and generation.read() != since:
                log.info("Not written to the filesystem cache: %s was invalidated while it was made", shown(path))
                return None
            if os.path.isdir(target):
                raise UnstorablePathError("fscache path %r names a directory of the cache" % shown(path))
            new = not os.path.exists(target)
            if not new and same_content(target, body):  # a render of unchanged data: nothing to do
                return target
            if new and not self.pages.reserve():
                return None
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                self.file_for(path, content_type)  # again: a directory made by another writer meanwhile
            except BaseException:
                if new:
                    self.pages.release()
                raise
            try:
                replace(target, body, siblings)
            except BaseException:
                # Half written (a full disk): no page rather than one whose siblings disagree
                # with it; the next request makes it again.
                remove(target)
                self.pages.release()  # the page reserved, or the one just removed
                raise
        if publish and not new and self.sync is not None:  # the other machines' copies are stale
            self.sync.publish("replace", path)
        return target

    def invalidate(self, path, publish=True):
        """Remove the files of URL ``path``; with ``publish``, on every machine (fscache_sync.py)."""
        removed, checked = [], False
        for content_type in (None, "text/html"):
            try:
                target = self.file_for(path, content_type)
            except UnstorablePathError:
                continue  # nothing can have been written in this form
            except UnsafePathError:
                if content_type is None and (path.endswith("/") or path == "/"):
                    continue  # a directory path: only its index.html form exists
                raise
            checked = True
            with self.state.stripe(path) as generation:
                generation.add(1)  # a render that began before this call must not write
                files = remove(target)
            self.pages.release(1 if target in files else 0)
            removed += files
        if publish and checked and self.sync is not None:
            self.sync.publish("invalidate", path)
        return removed


def shown(path):
    """``path`` cut for a log line."""
    return path if len(path) <= _SHOWN else path[:_SHOWN] + "...(%d characters)" % len(path)
