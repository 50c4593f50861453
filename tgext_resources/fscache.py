"""A filesystem cache the front server reads: ``fs_cached``, ``fscache.store``, ``fscache.invalidate``.

A response is written to ``fscache.dir`` at the path of its URL (``/thumbs/42.png`` ->
``<dir>/thumbs/42.png``); the front server (see ``tgext-resources webserver-config``)
serves that file while it exists and asks the application otherwise.  Deleting the file
(``fscache.invalidate``) when the object changes makes the next request reach the
application, which writes it again.

* Only a 200 answer to a GET without a query string is written (the front server serves
  the file whatever the query string says, so it must not depend on one), never one that
  sets a cookie or one made from the visitor's session.
* An HTML page whose URL has no extension is written as ``<path>.html`` (``/`` and paths
  ending in ``/`` as ``index.html``), so the front server can send it as HTML; other
  responses need an extension in their URL.
* Files are written to a temporary file in their directory, then renamed into place: a
  reader sees the old file or the new one, whole, however many writers there are.
* Compressible files get a ``.gz`` sibling when smaller; invalidation removes it too.
* Paths are checked: no ``..``, no absolute path, no NUL, no backslash, and nothing
  written through a symbolic link that leads outside the directory.
"""
import logging
import os

from .atomic import write_atomic
from .errors import ConfigError, UnsafePathError
from .injection import FSCACHE_KEY
from .locate import split_filename

log = logging.getLogger(__name__)
_COMPRESSIBLE = (".html", ".htm", ".css", ".js", ".json", ".svg", ".txt", ".xml", ".csv")

#: The directory of the application built last (None: fscache.dir unset).
_DIRECTORY = None


def parse_directory(key, value):
    """``fscache.dir`` made ready at start-up: created if needed, and checked to be writable."""
    path = os.path.abspath(os.path.expanduser(str(value).strip()))
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".tgext-resources-write-test-%d" % os.getpid())
        with open(probe, "wb") as f:
            f.write(b"ok")
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            key, value,
            "the directory cannot be created or written (%s); give the application's user write "
            "access to it, or choose another directory" % (exc.strerror or exc),
        ) from None
    return os.path.realpath(path)


def configure(directory):
    """Use ``directory`` (or nothing, for None) from now on; the configurator calls this."""
    global _DIRECTORY
    _DIRECTORY = directory


def directory():
    """The configured directory, or None when ``fscache.dir`` is unset."""
    return _DIRECTORY


def file_for(path, root, content_type=None):
    """The file of ``root`` that holds URL ``path``; UnsafePathError for a hostile path.

    ``content_type``: with ``text/html``, a path without an extension gets ``.html`` and a
    directory path ``index.html``.
    """
    if not isinstance(path, str) or not path.startswith("/"):
        raise UnsafePathError("fscache path %r must be the absolute path of a URL, e.g. /thumbs/42.png" % (path,))
    relative = path[1:]
    html = (content_type or "").split(";")[0].strip().lower() == "text/html"
    if relative == "" or relative.endswith("/"):
        if not html:
            raise UnsafePathError("fscache path %r names a directory: only an HTML page can stand for it" % path)
        relative += "index.html"
    elif html and "." not in relative.rsplit("/", 1)[-1]:
        relative += ".html"
    segments = split_filename(relative)  # no "..", ".", "//", NUL, backslash
    if any(segment.startswith(".") for segment in segments):
        raise UnsafePathError("fscache path %r has a hidden segment" % path)
    target = os.path.join(root, *segments)
    parent = os.path.realpath(os.path.dirname(target))
    if os.path.commonpath([parent, root]) != root or os.path.islink(target):
        raise UnsafePathError("fscache path %r leads outside %s through a symbolic link" % (path, root))
    return target


def store(path, body, content_type=None):
    """Write ``body`` (bytes) for URL ``path``; returns the file written, or None when
    ``fscache.dir`` is unset.  UnsafePathError for a hostile path (nothing is written)."""
    root = _DIRECTORY
    if root is None:
        return None
    if isinstance(body, str):
        body = body.encode("utf-8")
    target = file_for(path, root, content_type)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    file_for(path, root, content_type)  # again: a directory made by another writer meanwhile
    write_atomic(target, body)
    if target.endswith(_COMPRESSIBLE):
        import gzip

        packed = gzip.compress(body, compresslevel=9, mtime=0)
        if len(packed) < len(body):
            write_atomic(target + ".gz", packed)
        else:
            _remove(target + ".gz")
    return target


def invalidate(path):
    """Delete what was written for URL ``path`` (the file, its ``.html`` or ``index.html``
    form, and their compressed siblings); the next request reaches the application."""
    root = _DIRECTORY
    if root is None:
        return []
    removed = []
    for content_type in (None, "text/html"):
        try:
            target = file_for(path, root, content_type)
        except UnsafePathError:
            if content_type is None and (path.endswith("/") or path == "/"):
                continue  # a directory path: only its index.html form exists
            raise
        for candidate in (target, target + ".gz", target + ".br"):
            if _remove(candidate):
                removed.append(candidate)
    return removed


def _remove(path):
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


class fs_cached:
    """Write the response of the controller it decorates (under ``@expose``) to
    ``fscache.dir`` at the request's path, for the front server to serve from then on."""

    def __init__(self):
        pass

    def __call__(self, func):
        from tg.decorators import Decoration

        def wrapper(next_caller):
            def call(tg_config, controller, remainder, params):
                import tg

                request = tg.request._current_obj()
                if _DIRECTORY is not None and request.method == "GET" and not request.query_string:
                    plan = _Plan(request.environ)
                    plan.watch_session()
                    request.environ[FSCACHE_KEY] = plan  # the middleware writes the final body
                return next_caller(tg_config, controller, remainder, params)

            return call

        Decoration.get_decoration(func)._register_controller_wrapper(wrapper)
        return func


class _Plan:
    """A response to write once it is complete (called by the middleware)."""

    def __init__(self, environ):
        self.environ = environ
        self._session = None

    def watch_session(self):
        import tg

        from .pages import _WatchedSession

        context = tg.request_local.context._current_obj()
        if getattr(context, "session", None) is not None:
            if not isinstance(context.session, _WatchedSession):
                context.session = _WatchedSession(context.session)
            self._session = context.session

    def finish(self, status, headers, body):
        if not status.startswith("200 "):
            return
        names = {name.lower(): value for name, value in headers}
        if "set-cookie" in names or "content-encoding" in names:
            return
        if self._session is not None and self._session.used:
            return  # made from this visitor's session: not for everyone
        path = (self.environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", "replace")
        content_type = names.get("content-type")
        is_html = (content_type or "").split(";")[0].strip().lower() == "text/html"
        if not is_html and "." not in path.rsplit("/", 1)[-1]:
            log.info("Not written to the filesystem cache: %s has no extension to give it a type", path)
            return
        try:
            store(path, body, content_type)
        except UnsafePathError as exc:
            log.warning("Not written to the filesystem cache: %s", exc)
        except OSError as exc:
            log.warning("Not written to the filesystem cache: %s (%s)", path, exc)
