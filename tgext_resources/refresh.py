"""Making a cached page again after an edit: ``refresh_page``.

The page is rendered through the whole application once the editor's response has been
sent (its transaction committed, the editor not kept waiting), as an anonymous visitor
with the editor's language would get it; ``cached_template`` sees the request marked with
``REFRESH_KEY``, makes every stored variant of the page stale, and stores this one.
"""
import logging

import tg
from tw2.core import core
from webob import Request

from .middleware import current, steps

log = logging.getLogger(__name__)

#: The environ key marking a request made by refresh_page: the page is rendered anew.
REFRESH_KEY = "tgext_resources.refresh"
_PATHS_KEY = "tgext_resources.refresh_paths"


def refresh_page(path):
    """Render the page at ``path`` again and store it, once the current response is sent.

    For the controller that handles an edit: the edit's transaction is committed first,
    then the page is made through the whole application as an anonymous visitor with the
    editor's language would get it, so that the next visitor finds it ready.  Other variants
    of the page (languages, users) are dropped and made again on their next visit.
    """
    environ = tg.request.environ
    todo = steps(environ)
    if todo is None:
        return  # not served through the extension's middleware: nothing to refresh with
    paths = environ.get(_PATHS_KEY)
    if paths is None:
        paths = environ[_PATHS_KEY] = []
        todo.after.append(_Refresh(current(), environ, paths))
    paths.append(path)


class _Refresh:
    """Renders pages again through the whole application, after the response was sent."""

    def __init__(self, application, environ, paths):
        self.application = application
        self.paths = paths
        self.base_url = "%s://%s%s" % (environ.get("wsgi.url_scheme", "http"),
                                       environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost"),
                                       environ.get("SCRIPT_NAME", ""))
        self.language = environ.get("HTTP_ACCEPT_LANGUAGE")

    def __call__(self):
        local = core.request_local()
        saved = dict(local)
        try:
            for path in self.paths:
                request = Request.blank(path, base_url=self.base_url, environ={REFRESH_KEY: True})
                if self.language:
                    request.headers["Accept-Language"] = self.language
                try:
                    response = request.get_response(self.application)
                    if response.status_int != 200:
                        log.warning("Refreshing %s gave %s: not cached", path, response.status)
                except Exception:
                    log.warning("Refreshing %s failed: not cached", path, exc_info=True)
        finally:
            local.clear()
            local.update(saved)
