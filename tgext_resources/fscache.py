"""A filesystem cache the front server reads: ``fs_cached``, ``fscache.store``, ``fscache.invalidate``.

A response is written to ``fscache.dir`` at the path of its URL (``/thumbs/42.png`` ->
``<dir>/thumbs/42.png``); the front server (see ``tgext-resources webserver-config``)
serves that file while it exists and asks the application otherwise.  Deleting the file
(``fscache.invalidate``) when the object changes makes the next request reach the
application, which writes it again.

* Only a response that may be shared (see shareable.py: a 200 to a GET, no cookie, not
  private, not made from the visitor's session) to a request without a query string is
  written (the front server serves the file whatever the query string says).
* An HTML page whose URL has no extension is written as ``<path>.html`` (``/`` and paths
  ending in ``/`` as ``index.html``), so the front server can send it as HTML; other
  responses need an extension in their URL.
* Files are written to a temporary file in their directory, then renamed into place: a
  reader sees the old file or the new one, whole, however many writers there are.
* Compressible files get ``.gz`` (and ``.br``) siblings when smaller (see media.py);
  invalidation removes them too.
* The directory belongs to the application (its middleware's ``filecache``):
  ``fscache.store`` and ``fscache.invalidate`` act on the application serving the request,
  or, outside a request, on the one TurboGears configured last.
* Paths are checked: no ``..``, no absolute path, no NUL, no backslash, and nothing
  written through a symbolic link that leads outside the directory.
"""
import logging
import os

from . import shareable
from .errors import ConfigError, UnsafePathError
from .locate import split_filename
from .media import SIBLINGS, compressed_siblings, is_hidden, write_atomic
from .middleware import current, steps

log = logging.getLogger(__name__)


class FileCache:
    """The filesystem cache of one application: its directory, and writing and deleting there."""

    def __init__(self, root):
        self.root = root

    def prepare(self, key="fscache.dir"):
        """At start-up: create the directory and check that it can be written."""
        try:
            os.makedirs(self.root, exist_ok=True)
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

    def file_for(self, path, content_type=None):
        """The file that holds URL ``path``; UnsafePathError for a hostile path.

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
        if is_hidden(relative):  # the front server refuses them: writes in progress live there
            raise UnsafePathError("fscache path %r has a hidden segment" % path)
        target = os.path.join(self.root, *segments)
        parent = os.path.realpath(os.path.dirname(target))
        if os.path.commonpath([parent, self.root]) != self.root or os.path.islink(target):
            raise UnsafePathError("fscache path %r leads outside %s through a symbolic link" % (path, self.root))
        return target

    def store(self, path, body, content_type=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        target = self.file_for(path, content_type)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        self.file_for(path, content_type)  # again: a directory made by another writer meanwhile
        write_atomic(target, body)
        siblings = compressed_siblings(target, body)
        for suffix, _ in SIBLINGS:
            if suffix in siblings:
                write_atomic(target + suffix, siblings[suffix])
            else:
                _remove(target + suffix)  # an older one would disagree with the new file
        return target

    def invalidate(self, path):
        removed = []
        for content_type in (None, "text/html"):
            try:
                target = self.file_for(path, content_type)
            except UnsafePathError:
                if content_type is None and (path.endswith("/") or path == "/"):
                    continue  # a directory path: only its index.html form exists
                raise
            for candidate in (target, *(target + suffix for suffix, _ in SIBLINGS)):
                if _remove(candidate):
                    removed.append(candidate)
        return removed


def _filecache():
    middleware = current()
    return getattr(middleware, "filecache", None)


def directory():
    """The directory of the current application, or None when its ``fscache.dir`` is unset."""
    cache = _filecache()
    return cache.root if cache is not None else None


def store(path, body, content_type=None):
    """Write ``body`` (bytes) for URL ``path``; returns the file written, or None when
    ``fscache.dir`` is unset.  UnsafePathError for a hostile path (nothing is written)."""
    cache = _filecache()
    return cache.store(path, body, content_type) if cache is not None else None


def invalidate(path):
    """Delete what was written for URL ``path`` (the file, its ``.html`` or ``index.html``
    form, and their compressed siblings); the next request reaches the application."""
    cache = _filecache()
    return cache.invalidate(path) if cache is not None else []


def _remove(path):
    try:
        os.unlink(path)
        return True
    except (FileNotFoundError, IsADirectoryError):  # "/images" where "/images/" was written
        return False
    except PermissionError:
        if os.path.isdir(path):  # macOS and others say EPERM for a directory
            return False
        raise


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
                if cache is not None and todo is not None and not environ.get("QUERY_STRING") \
                        and not shareable.request_refusal(environ):
                    todo.on_sent.append(_Write(cache, shareable.watch_session()))
                return next_caller(tg_config, controller, remainder, params)

            return call

        Decoration.get_decoration(func)._register_controller_wrapper(wrapper)
        return func


class _Write:
    """Step ``on_sent``: the response as sent (resources included) written to the cache."""

    def __init__(self, cache, session):
        self.cache = cache
        self.session = session

    def __call__(self, response):
        environ = response.environ
        path = (environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", "replace")
        refused = shareable.response_refusal(
            environ, response.status, response.headers, self.session is not None and self.session.used)
        if refused is None and response.header("Content-Encoding"):
            refused = "it is encoded (the front server sends the file as it is)"
        content_type = response.header("Content-Type")
        is_html = (content_type or "").split(";")[0].strip().lower() == "text/html"
        if refused is None and not is_html and "." not in path.rsplit("/", 1)[-1]:
            refused = "the URL has no extension to give it a type"
        if refused:
            log.info("Not written to the filesystem cache: %s: %s", path, refused)
            return
        try:
            self.cache.store(path, response.body, content_type)
        except UnsafePathError as exc:
            log.warning("Not written to the filesystem cache: %s", exc)
        except (OSError, RecursionError) as exc:  # a full disk; a path too deep to resolve
            log.warning("Not written to the filesystem cache: %s (%s)", path, exc)
