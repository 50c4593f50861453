"""Preload hints: ``Link: rel=preload`` headers on pages, and 103 Early Hints.

Plain WSGI.  A browser finds a page's stylesheets and scripts only once it parses the
``<head>``; a ``Link: <url>; rel=preload`` header names them with the response's headers,
and a ``103 Early Hints`` response names them before the controller has even run, so the
fetches overlap the page's own rendering and its round trip.  Proxies and CDNs turn the
headers into 103s of their own.

What is hinted: every bundle, then the render-blocking links (stylesheets, and scripts in
the ``<head>`` without ``defer``, ``async`` or ``type="module"``) in page order, at most
:data:`MAX_HINTS` in all.  A resource at the end of the body is found late anyway but
blocks nothing, and preloading everything would compete with what the page needs first.

Each hint carries the ``integrity`` and ``crossorigin`` of its tag: a preload whose mode
differs from the tag's is not reused, and the browser fetches the file twice.

The 103 for a route (a controller) names what that route's page linked last time, learned
from its responses, in a bounded memory per application.  It is sent only where it is
safe: on HTTP/2 and later, where 1xx responses are frames of their own.  On HTTP/1.1 a 103
is a response of its own, and not every hop reads it: nginx 1.22 passes an upstream's 103
on as the final answer (with the real response as its body), and Python's ``http.client``
stops at it.  ``resources.early_hints_http1`` sends it there too, for fronts known to cope.
"""
import collections
import logging
import threading
import urllib.parse

from .bundles import BundleLink
from .tags import nonce_of

log = logging.getLogger(__name__)

#: At most this many resources are hinted per page (bundles first).
MAX_HINTS = 8
#: Routes whose hints an application remembers; the least recently learned goes first.
MAX_ROUTES = 1024
#: Where the route of a request (the controller TurboGears dispatched to) is kept.
ROUTE_KEY = "tgext_resources.route"

# What stays as it is in a URL inside a Link header: printable ASCII but what a browser
# percent-encodes in a path itself (space, '"', "<", ">", "`", "{", "}"), so that no URL
# ends the header's "<...>" early or breaks the header, and the URL the browser makes of it
# is the one it makes of the tag (or it would fetch twice).
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"<>`{}')
# Where render-blocking scripts are: tw2's "head" and "headbottom" locations.
_HEAD = ("head", "headbottom")


def link_value(url, kind, integrity=None, crossorigin=None):
    """The value of one ``Link`` header preloading ``url``, a "js" or a "css" resource."""
    value = "<%s>; rel=preload; as=%s" % (urllib.parse.quote(url, safe=_URL_SAFE), "script" if kind == "js" else "style")
    if crossorigin is not None:  # any value but use-credentials means anonymous (HTML)
        value += "; crossorigin=use-credentials" if crossorigin == "use-credentials" else "; crossorigin"
    if integrity:
        value += '; integrity="%s"' % integrity
    return value


def _blocking(resource, attributes):
    if resource.kind == "css":  # a print stylesheet blocks nothing on screen
        return (resource.media or "all").lower() in ("all", "screen")
    return (resource.kind == "js" and resource.location in _HEAD and "defer" not in attributes
            and "async" not in attributes and attributes.get("type") != "module")


def preload_values(injector, linked, script_name):
    """The ``Link`` values for a page linking ``linked`` (bundles in place), at most
    MAX_HINTS, as ``injector`` (injection.Injector) writes their tags; without a nonce, so
    that they may be kept for other requests."""
    bundles, blocking = [], []
    for resource in linked:
        if resource.kind not in ("js", "css"):
            continue
        attributes = injector.attributes_for(resource)
        if isinstance(resource, BundleLink):
            bundles.append((resource.path, resource.kind, attributes))
        elif _blocking(resource, attributes):
            blocking.append((resource.link, resource.kind, attributes))
    url = injector.publisher.url
    return tuple(link_value(url(path, script_name), kind, attributes.get("integrity"), attributes.get("crossorigin"))
                 for path, kind, attributes in (bundles + blocking)[:MAX_HINTS])


def with_nonce(values, environ):
    """``values`` for this request: with its CSP nonce, which a preload under a nonce-only
    policy must carry like the tag (and which is never kept: it is this request's)."""
    nonce = nonce_of(environ)
    return values if nonce is None else tuple('%s; nonce="%s"' % (value, nonce) for value in values)


class EarlyHints:
    """What one application remembers of its routes' hints, and sends as 103 responses."""

    def __init__(self, http1=False, routes=MAX_ROUTES):
        self.http1 = http1
        self._learned = collections.OrderedDict()
        self._routes = routes
        self._lock = threading.Lock()

    def carried(self, environ):
        """Whether a 103 sent for this request reaches the client as what it is."""
        protocol = environ.get("SERVER_PROTOCOL", "")
        if protocol.startswith(("HTTP/2", "HTTP/3")):
            return True
        return self.http1 and protocol == "HTTP/1.1"

    def before_controller(self, environ, route):
        """Called once the route is known, before its controller runs: send its hints."""
        environ[ROUTE_KEY] = route
        send = environ.get("wsgi.early_hints")
        if send is None or not self.carried(environ):
            return
        values = self._learned.get((route, environ.get("SCRIPT_NAME", "")))
        if not values:
            return
        try:
            send([("Link", value) for value in with_nonce(values, environ)])
        except Exception:  # a server that cannot send it now (the response began) loses nothing
            log.debug("103 Early Hints not sent", exc_info=True)

    def learn(self, environ, status, values):
        """After a page of a route was injected: remember what it linked."""
        route = environ.get(ROUTE_KEY)
        if route is None or not status.startswith("200 "):
            return
        key = (route, environ.get("SCRIPT_NAME", ""))
        with self._lock:  # the least recently *used* route goes first, not a busy one
            self._learned[key] = values
            self._learned.move_to_end(key)
            while len(self._learned) > self._routes:
                self._learned.popitem(last=False)


def add_hints(response, injector, early_hints=None):
    """Step after injection: the page's ``Link`` headers (and what ``early_hints`` learns)."""
    environ = response.environ
    values = preload_values(injector, response.linked, environ.get("SCRIPT_NAME", ""))
    response.headers.extend(("Link", value) for value in with_nonce(values, environ))
    response.preload = values
    if early_hints is not None:
        early_hints.learn(environ, response.status, values)
