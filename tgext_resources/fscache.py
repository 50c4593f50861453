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
* The directory belongs to the application (its middleware's ``filecache``): ``store`` and
  ``invalidate`` act on the one serving the request, or else on the one configured last.
* Paths are checked: no ``..``, no absolute path, no NUL, no backslash, and nothing
  written through a symbolic link that leads outside the directory.
* With ``fscache.invalidation_url``, invalidations and replacing writes reach the
  directories of the other machines too (fscache_sync.py).
"""
import logging

from . import shareable
from .errors import UnsafePathError, UnstorablePathError
from .filecache import MAX_DEPTH, FileCache, shown
from .fscache_files import plain_host, spelling_refusal, type_refusal
from .middleware import current, steps
from .refresh import REFRESH_KEY
from .tags import NONCE_KEY
from .report import has_toolbar, note

__all__ = ["MAX_DEPTH", "FileCache", "directory", "fs_cached", "invalidate", "store"]

log = logging.getLogger(__name__)

def _filecache():
    return getattr(current(), "filecache", None)


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
        self.cache, self.path, self.ticket, self.session = cache, path, ticket, session

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
            log.info("Not written to the filesystem cache: %s: %s", shown(path), refused)
        note("file", "not written", shown(path), refused)
        return None

    def __call__(self, response):
        refused, level = self._refusal(response), logging.INFO
        if refused is None:
            try:
                # Published only for refresh_page: another write of a page that exists is a
                # second concurrent miss, whose bytes differ by a timestamp at most.
                self.cache.store(self.path, response.body, response.header("Content-Type"), since=self.ticket,
                                 publish=bool(response.environ.get(REFRESH_KEY)))
            except (UnsafePathError, UnstorablePathError) as exc:
                refused = str(exc)
            except OSError as exc:  # a full disk: worth a warning
                refused, level = "the cache cannot be written (%s)" % exc, logging.WARNING
            else:
                note("file", "written", shown(self.path))
                return
        log.log(level, "Not written to the filesystem cache: %s: %s", shown(self.path), refused)
        note("file", "not written", shown(self.path), refused)

    def _refusal(self, response):
        """Why this response is not written, or None."""
        environ = response.environ
        if has_toolbar(response.body):
            return "a debug toolbar is in the page (this request's cookies and environ)"
        refused = shareable.response_refusal(
            environ, response.status, response.headers, self.session is not None and self.session.used)
        if refused is None and not plain_host(environ.get("HTTP_HOST", "")):
            refused = "the Host header is no plain host name"
        if refused is None and environ.get(NONCE_KEY):  # the page as sent is this visitor's alone
            refused = "its tags carry this request's CSP nonce"
        if refused is None and response.header("Content-Encoding"):
            refused = "it is encoded (the front server sends the file as it is)"
        return refused or type_refusal(self.path, response.header("Content-Type"))
