"""A filesystem cache the front server reads: ``fs_cached``, ``fscache.store``, ``fscache.invalidate``.

A response is written to ``fscache.dir`` at the path of its URL (``/thumbs/42.png`` ->
``<dir>/thumbs/42.png``); the front server (see ``tgext-resources webserver-config``)
serves that file while it exists and asks the application otherwise.  Deleting the file
(``fscache.invalidate``) when the object changes makes the next request reach the
application, which writes it again.

* Only a response that may be shared (see shareable.py: a 200 to a GET, no cookie, not
  private, not made from the visitor's session) to a request without a query string is
  written (the front server serves the file whatever the query string says), and only
  under the URL's plain spelling: no ``%41`` for ``A`` (when the server tells the raw
  URL); ``//``, ``.`` and ``..`` are refused by the path checks below.
* An HTML page whose URL has no extension is written as ``<path>.html`` (``/`` and paths
  ending in ``/`` as ``index.html``), so the front server can send it as HTML; other
  responses need an extension in their URL.
* An invalidation wins over a render that began before it, and a page and its ``.gz``
  and ``.br`` siblings never disagree, across threads and processes (fscache_files.py).
* ``fscache.max_files`` bounds the pages the directory holds; past it, pages are served
  uncached.  URLs deeper than MAX_DEPTH segments, or with a name or path longer than the
  file system takes, are served uncached too.
* The directory belongs to the application (its middleware's ``filecache``):
  ``fscache.store`` and ``fscache.invalidate`` act on the application serving the request,
  or, outside a request, on the one TurboGears configured last.
* Paths are checked: no ``..``, no absolute path, no NUL, no backslash, and nothing
  written through a symbolic link that leads outside the directory.
"""
import logging
import os

from . import shareable
from .errors import ConfigError, UnsafePathError, UnstorablePathError
from .fscache_files import (
    STATE_DIR, PageCount, SharedState, html_file, plain_host, remove, replace, spelling_refusal, type_refusal,
)
from .locate import split_filename
from .media import compressed_siblings, is_hidden
from .middleware import current, steps
from .report import has_toolbar, note

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
            raise UnsafePathError("fscache path %r names a directory: only an HTML page can stand for it" % _shown(path))
        segments = split_filename(relative)  # no "..", ".", "//", NUL, backslash
        if is_hidden(relative):  # the front server refuses them: writes in progress live there
            raise UnsafePathError("fscache path %r has a hidden segment" % _shown(path))
        target = os.path.join(self.root, *segments)
        self._check_size(path, segments, target)
        parent = os.path.realpath(os.path.dirname(target))
        if os.path.commonpath([parent, self.root]) != self.root or os.path.islink(target):
            raise UnsafePathError("fscache path %r leads outside %s through a symbolic link" % (path, self.root))
        return target

    def _check_size(self, path, segments, target):
        if len(segments) > MAX_DEPTH:
            raise UnstorablePathError("fscache path %r has %d segments; at most %d are cached"
                                      % (_shown(path), len(segments), MAX_DEPTH))
        try:
            longest = max(len(os.fsencode(segment)) for segment in segments)
            length = len(os.fsencode(target))
        except UnicodeError:
            raise UnsafePathError("fscache path %r cannot be a file name here" % _shown(path)) from None
        if longest > self.name_max - _NAME_MARGIN or length > self.path_max - _NAME_MARGIN:
            raise UnstorablePathError(
                "fscache path %r is too long for the file system (names of %d bytes at most, paths of %d)"
                % (_shown(path), self.name_max - _NAME_MARGIN, self.path_max - _NAME_MARGIN))

    def ticket(self, path):
        """The generation of ``path`` now: a request takes it when it starts, and its
        ``store(..., since=ticket)`` is dropped if ``path`` was invalidated meanwhile."""
        self.file_for(path, "text/html")  # the most lenient form: raises only if no form can be stored
        with self.state.stripe(path) as generation:
            return generation.read()

    def store(self, path, body, content_type=None, since=None):
        """Write ``body`` for URL ``path``: the file written, or None when not written (the
        path was invalidated after ``since`` was taken, or the directory is full)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        target = self.file_for(path, content_type)
        siblings = compressed_siblings(target, body)  # before the lock: it may take a while
        with self.state.stripe(path) as generation:
            if since is not None and generation.read() != since:
                log.info("Not written to the filesystem cache: %s was invalidated while it was made", _shown(path))
                return None
            if os.path.isdir(target):
                raise UnstorablePathError("fscache path %r names a directory of the cache" % _shown(path))
            new = not os.path.exists(target)
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
        return target

    def invalidate(self, path):
        removed = []
        for content_type in (None, "text/html"):
            try:
                target = self.file_for(path, content_type)
            except UnstorablePathError:
                continue  # nothing can have been written in this form
            except UnsafePathError:
                if content_type is None and (path.endswith("/") or path == "/"):
                    continue  # a directory path: only its index.html form exists
                raise
            with self.state.stripe(path) as generation:
                generation.add(1)  # a render that began before this call must not write
                files = remove(target)
            self.pages.release(1 if target in files else 0)
            removed += files
        return removed


def _shown(path):
    return path if len(path) <= _SHOWN else path[:_SHOWN] + "...(%d characters)" % len(path)


def _filecache():
    middleware = current()
    return getattr(middleware, "filecache", None)


def directory():
    """The directory of the current application, or None when its ``fscache.dir`` is unset."""
    cache = _filecache()
    return cache.root if cache is not None else None


def store(path, body, content_type=None):
    """Write ``body`` (bytes) for URL ``path``; returns the file written, or None when
    ``fscache.dir`` is unset or the cache is full.  UnsafePathError for a hostile path,
    UnstorablePathError for one too deep or too long (nothing is written)."""
    cache = _filecache()
    return cache.store(path, body, content_type) if cache is not None else None


def invalidate(path):
    """Delete what was written for URL ``path`` (the file, its ``.html`` or ``index.html``
    form, and their compressed siblings); the next request reaches the application, and a
    request already under way does not write."""
    cache = _filecache()
    return cache.invalidate(path) if cache is not None else []


class fs_cached:
    """Write the response of the controller it decorates (under ``@expose``) to
    ``fscache.dir`` at the request's path, for the front server to serve from then on."""

    def __call__(self, func):
        from tg.decorators import Decoration

        def wrapper(next_caller):
            def call(tg_config, controller, remainder, params):
                import tg

                environ = tg.request.environ
                cache = _filecache()
                todo = steps(environ)
                if cache is not None and todo is not None and not shareable.request_refusal(environ):
                    write = _Write.prepare(cache, environ)
                    if write is not None:
                        todo.on_sent.append(write)
                return next_caller(tg_config, controller, remainder, params)

            return call

        Decoration.get_decoration(func)._register_controller_wrapper(wrapper)
        return func


class _Write:
    """Step ``on_sent``: the response as sent (resources included) written to the cache."""

    def __init__(self, cache, path, ticket, session):
        self.cache = cache
        self.path = path
        self.ticket = ticket
        self.session = session

    @classmethod
    def prepare(cls, cache, environ):
        """The step for this request, taken before the controller runs; None when it cannot
        be cached whatever it answers (said in the log: these are the visitor's doing)."""
        path = (environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", "replace")
        refused = spelling_refusal(environ)
        if refused is None:
            try:
                return cls(cache, path, cache.ticket(path), shareable.watch_session())
            except (UnsafePathError, UnstorablePathError) as exc:
                refused = str(exc)
            except OSError as exc:  # the lock files: a full disk, a directory removed
                refused = "the cache cannot be used (%s)" % exc
        if not environ.get("QUERY_STRING"):  # query strings are common and expected: not logged
            log.info("Not written to the filesystem cache: %s: %s", _shown(path), refused)
        note("file", "not written", _shown(path), refused)
        return None

    def __call__(self, response):
        refused, level = self._refusal(response), logging.INFO
        if refused is None:
            try:
                self.cache.store(self.path, response.body, response.header("Content-Type"), since=self.ticket)
            except (UnsafePathError, UnstorablePathError) as exc:
                refused = str(exc)
            except OSError as exc:  # a full disk: worth a warning
                refused, level = "the cache cannot be written (%s)" % exc, logging.WARNING
            else:
                note("file", "written", _shown(self.path))
                return
        log.log(level, "Not written to the filesystem cache: %s: %s", _shown(self.path), refused)
        note("file", "not written", _shown(self.path), refused)

    def _refusal(self, response):
        """Why this response is not written, or None."""
        environ = response.environ
        if has_toolbar(response.body):
            return "a debug toolbar is in the page (this request's cookies and environ)"
        refused = shareable.response_refusal(
            environ, response.status, response.headers, self.session is not None and self.session.used)
        if refused is None and not plain_host(environ.get("HTTP_HOST", "")):
            refused = "the Host header is no plain host name"
        if refused is None and response.header("Content-Encoding"):
            refused = "it is encoded (the front server sends the file as it is)"
        return refused or type_refusal(self.path, response.header("Content-Type"))
