"""Injecting widget resources into every HTML page, streamed or not.

Plain WSGI and tw2: nothing here knows TurboGears.
"""
import collections
import html
import logging
import re
import threading
import typing

from markupsafe import Markup
from tw2.core import core, templating
from tw2.core.middleware import TwMiddleware
from tw2.core.resources import CSSLink, CSSSource, JSLink, JSSource, find_charset
from webob import Request, Response

from .bundles import BundleLink
from .guard import GUARDED_REQUEST
from .publisher import REGISTRY, Publisher

log = logging.getLogger(__name__)

# Responses that must not carry a body (RFC 9110, 15.3.5 and 15.4.5).
_BODYLESS_STATUS = ("204", "304")

# What the page cache (pages.py) leaves in the environ for this middleware: a plan with
# finish(status, headers, body, resources) and release(), paths to render again, and, on a
# hit, the id of the cached page, whose injected HTML this middleware keeps (see below).
PLAN_KEY = "tgext_resources.page_cache"
REFRESH_KEY = "tgext_resources.refresh"
REFRESH_AFTER_KEY = "tgext_resources.refresh_after"
CACHED_PAGE_KEY = "tgext_resources.cached_page"
# What fs_cached (fscache.py) leaves: a plan with finish(status, headers, final body).
FSCACHE_KEY = "tgext_resources.fscache"
# Where this middleware puts itself, for the page cache to find the injected pages it kept.
MIDDLEWARE_KEY = "tgext_resources.middleware"
_INJECTED_PAGES = 256

#: The cache store of the application built last (for code running outside a request).
LAST_CACHE_STORE = None

# Widget controllers, like resources (see publisher.py), are registered with whichever
# middleware the defining thread knows: share them between every middleware of the process.
_WIDGET_CONTROLLERS = {}


class ResourcesMiddleware(TwMiddleware):
    """The ToscaWidgets 2 middleware, with injection that works on every HTML response.

    tw2's own middleware skips any response whose body is a generator, and TurboGears 2.5
    streams responses by default (``registry_streaming = true``): pages lose every resource
    link, without an error.  This one reads the body of an HTML response when widgets
    registered resources for it, so other responses, and pages without widgets, still stream.
    """

    bundles = None  # the aggregated host framework, when aggregated_hash is set
    guarded = False  # the widget statelessness guard is on for this application's requests
    cache_store = None  # caching.CacheStore, for cached_template and cached_entity

    def __init__(self, app, base_url="", **config):
        super().__init__(app, **config)
        REGISTRY.adopt_tw2(self.resources)
        REGISTRY.register_declared_links()
        self.resources = Publisher(
            self.config.res_prefix, REGISTRY, max_age=self.config.res_max_age, debug=self.config.debug,
            base_url=base_url,
        )
        _WIDGET_CONTROLLERS.update(self.controllers._widgets)
        self.controllers._widgets = _WIDGET_CONTROLLERS
        # A cached page, once injected, is the same bytes for as long as this process serves
        # it (tokens, bundles and base URL are fixed at start-up): keep the last ones, so a
        # cache hit costs no more than a trivial controller.
        self._injected = collections.OrderedDict()
        self._injected_lock = threading.Lock()
        # tw2 caches which engine renders each template in one process-wide dict, whatever
        # the preferences of the middleware that filled it: start afresh with ours.
        templating.engine_name_cache.clear()
        templating.get_engine_name._flush()

    def use_bundles(self, bundles, package, directory):
        """Inject ``bundles`` in place of their members; serve ``directory`` of ``package``,
        where every file is named by its content, with far-future caching."""
        REGISTRY.register(package, directory, whole_dir=True, immutable=True)
        self.bundles = bundles

    def __call__(self, environ, start_response):
        rl = core.request_local()
        rl.clear()
        rl["middleware"] = self
        rl["resources"] = ResourceList()
        if self.guarded:
            rl[GUARDED_REQUEST] = True
        try:
            path = environ.get("PATH_INFO", "")
            if self.config.serve_resources and path.startswith(self.config.res_prefix):
                return self.resources(environ, start_response)
            app = self.app
            if self.config.serve_controllers and path.startswith(self.config.controller_prefix):
                app = self._widget_controller
            return self._respond(app, environ, start_response)
        finally:
            rl.clear()

    def _widget_controller(self, environ, start_response):
        # tw2's ControllersApp compares the first path segment with the whole prefix, so a
        # prefix of two segments (TurboGears' /tw2/controllers/) never matches: route here.
        req = Request(environ)
        name = req.path_info[len(self.config.controller_prefix):].split("/", 1)[0] or "index"
        widget = _WIDGET_CONTROLLERS.get(name)
        response = widget.request(req) if widget is not None else Response(status=404)
        return response(environ, start_response)

    def _respond(self, app, environ, start_response):
        environ[MIDDLEWARE_KEY] = self
        plan = None
        try:
            status, headers, app_iter, exc_info = Request(environ).call_application(app, catch_exc_info=True)
            plan = environ.pop(PLAN_KEY, None)
            refreshes = environ.pop(REFRESH_AFTER_KEY, None)
            to_disk = environ.pop(FSCACHE_KEY, None)
            inject = (
                self.config.inject_resources
                and core.request_local().get("resources")
                and not status.startswith(_BODYLESS_STATUS)
                and _is_plain_html(headers)
            )
            if inject and environ.get("REQUEST_METHOD") == "HEAD":
                # No body to change, but the GET body's length differs from the one announced.
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                inject = False
            if plan is not None or inject or refreshes or to_disk is not None:
                body = _read(app_iter)
                stored = snapshots(core.request_local().pop("resources", None))
                if plan is not None:
                    plan.finish(status, headers, body, stored)
                if inject:
                    body = self._inject(body, headers, environ.get("SCRIPT_NAME", ""), stored)
                    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                    headers.append(("Content-Length", str(len(body))))
                    self._remember(environ, body)
                if to_disk is not None:
                    to_disk.finish(status, headers, body)  # the page as sent, resources included
                app_iter = [body]
                if refreshes:
                    self._refresh(refreshes, environ)
        finally:
            plan = plan or environ.pop(PLAN_KEY, None)  # the application raised: never left locked
            if plan is not None:
                plan.release()
        start_response(status, headers, exc_info)
        return app_iter

    def injected_page(self, page_id, script_name):
        """The injected HTML of cached page ``page_id`` made here before, or None."""
        return self._injected.get((page_id, script_name))

    def _remember(self, environ, body):
        page_id = environ.get(CACHED_PAGE_KEY)
        if page_id is None:
            return
        with self._injected_lock:
            self._injected[(page_id, environ.get("SCRIPT_NAME", ""))] = body
            while len(self._injected) > _INJECTED_PAGES:
                self._injected.popitem(last=False)

    def _refresh(self, paths, environ):
        """Render ``paths`` again through this application, now that the request that asked
        for it is complete (its transaction committed), so that the cache holds them."""
        local = core.request_local()
        saved = dict(local)
        base_url = "%s://%s%s" % (environ.get("wsgi.url_scheme", "http"),
                                  environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost"),
                                  environ.get("SCRIPT_NAME", ""))
        try:
            for path in paths:
                request = Request.blank(path, base_url=base_url, environ={REFRESH_KEY: True})
                if environ.get("HTTP_ACCEPT_LANGUAGE"):
                    request.headers["Accept-Language"] = environ["HTTP_ACCEPT_LANGUAGE"]
                try:
                    response = request.get_response(self)
                    if response.status_int != 200:
                        log.warning("Refreshing %s gave %s: not cached", path, response.status)
                except Exception:
                    log.warning("Refreshing %s failed: not cached", path, exc_info=True)
        finally:
            local.clear()
            local.update(saved)

    def _inject(self, body, headers, script_name, resources):
        content_type = _header(headers, "Content-Type") or ""
        charset = None
        for param in content_type.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                charset = value.strip().strip('"')
        if self.bundles is not None:
            resources = self.bundles.replace(resources)
        try:
            charset = charset or find_charset(body.decode("ascii", "replace")) or "utf-8"
            page = body.decode(charset)
        except (LookupError, UnicodeError) as exc:
            log.warning("Widget resources not injected: the page is not valid %s (%s)", charset, exc)
            return body
        by_location = {}
        for resource in resources:
            by_location.setdefault(resource.location, []).append(self._tag(resource, script_name))
        return inject(page, by_location).encode(charset, "xmlcharrefreplace")

    def _tag(self, resource, script_name):
        """The HTML of one resource, its link versioned and on the base URL."""
        if isinstance(resource, BundleLink):
            resource.url = self.resources.url(resource.path, script_name)
            return resource.generate_output("string")
        stored = resource if isinstance(resource, StoredResource) else snapshot(resource)
        if stored.kind == "js":
            return '<script type="text/javascript" src="%s"%s></script>' % (
                html.escape(self.resources.url(stored.link, script_name)), stored.attrs)
        if stored.kind == "css":
            return '<link rel="stylesheet" type="text/css" href="%s" media="%s" />' % (
                html.escape(self.resources.url(stored.link, script_name)), html.escape(stored.media))
        return stored.html


def identity(resource):
    """What makes two resources the same one, as tw2's ``__eq__`` decides, but cheap: the
    link of a link, the code of inline code.  None when unknown (then compared by ``==``)."""
    link = getattr(resource, "link", None)
    if isinstance(link, str):
        return ("link", link)
    if isinstance(resource, StoredResource):
        return ("html", resource.html)
    src = getattr(resource, "src", None)
    if isinstance(src, str):
        return ("src", type(resource).__name__, src, repr(getattr(resource, "args", None)))
    return None


class ResourceList(list):
    """The request's list of resources to inject, with membership in constant time.

    tw2 registers a resource with ``if self not in resources: resources.append(self)``, and
    its ``__eq__`` computes file names (tw2.jquery's look at the disk): on a page of a few
    widgets that linear scan took half of the rendering time.  Here ``in`` looks the
    resource's identity up in a set.
    """

    def __init__(self, items=()):
        super().__init__()
        self._identities = set()
        self._unidentified = []
        for item in items:
            self.append(item)

    def __contains__(self, resource):
        key = identity(resource)
        if key is None:
            return any(resource == other for other in self._unidentified) or list.__contains__(self, resource)
        return key in self._identities

    def append(self, resource):
        key = identity(resource)
        if key is None:
            self._unidentified.append(resource)
        else:
            self._identities.add(key)
        super().append(resource)


class StoredResource(typing.NamedTuple):
    """What a page needed of one resource, kept with a cached page or fragment.

    Links keep their canonical path (versioned and put on the base URL when written, so a
    cached page follows a new deployment); anything else keeps its HTML.
    """

    kind: str  # "js", "css" or "html"
    location: str
    link: str = None
    media: str = None
    attrs: str = ""
    html: str = ""

    @property
    def key(self):
        return (self.kind, self.link or self.html)


def snapshot(resource):
    """The StoredResource of a tw2 resource (one of its four kinds written here, as their own
    templates would write them without a template engine's cost; any other kind rendered)."""
    if isinstance(resource, StoredResource):
        return resource
    template = getattr(resource, "template", None)
    location = resource.location
    if isinstance(resource, JSLink) and template == JSLink.template:
        attrs = "".join(' %s="%s"' % (k, html.escape(str(v))) for k, v in sorted((resource.attrs or {}).items()) if v is not None)
        return StoredResource("js", location, link=resource.link, attrs=attrs)
    if isinstance(resource, CSSLink) and template == CSSLink.template:
        return StoredResource("css", location, link=resource.link, media=resource.media or "all")
    if isinstance(resource, JSSource) and template == JSSource.template:
        return StoredResource("html", location, html='<script type="text/javascript">%s</script>' % Markup(resource.src))
    if isinstance(resource, CSSSource) and template == CSSSource.template:
        return StoredResource("html", location, html='<style type="text/css">%s</style>' % Markup(resource.src))
    return StoredResource("html", location, html=str(resource.display(displays_on="string")))


def snapshots(resources):
    """StoredResources of the injectable resources among ``resources``, in order, each once.

    tw2 lists a resource once by comparing tw2 objects; one replayed from a cache is not a
    tw2 object, so a page may hold both: the first one counts.
    """
    stored, seen = [], set()
    for resource in resources or ():
        if getattr(resource, "location", None):
            item = snapshot(resource)
            if item.key not in seen:
                seen.add(item.key)
                stored.append(item)
    return tuple(stored)


def register(stored):
    """Add ``stored`` resources to the current request's, those it does not have yet, in order."""
    local = core.request_local()
    if "middleware" not in local:
        return  # outside a request: nothing will be injected
    current = local.get("resources")
    if not isinstance(current, ResourceList):
        current = local["resources"] = ResourceList(current or ())
    for resource in stored:
        if resource not in current:
            current.append(resource)


# Where each location goes, as tw2 places them: after <head>, before </head>, after
# <body>, before </body>.  (?!er) keeps <header> from passing for <head>.
_TAGS = {
    "head": re.compile(r"<head(?!er)\b[^>]*>", re.I),
    "headbottom": re.compile(r"</head\s*>", re.I),
    "bodytop": re.compile(r"<body\b[^>]*>", re.I),
    "bodybottom": re.compile(r"</body\s*>", re.I),
}


def inject(page, by_location):
    """``page`` with the tags of each location (head, headbottom, bodytop, bodybottom) put in.

    Each location is used once: after the first opening tag, before the last closing one
    (a "</body>" written inside a script earlier in the page is not the end of the body).
    """
    insertions = []
    for location, tags in by_location.items():
        pattern = _TAGS.get(location)
        if pattern is None or not tags:
            continue
        matches = list(pattern.finditer(page))
        if not matches:
            continue
        if location in ("head", "bodytop"):
            insertions.append((matches[0].end(), "\n" + "\n".join(tags)))
        else:
            insertions.append((matches[-1].start(), "\n".join(tags) + "\n"))
    for position, text in sorted(insertions, reverse=True):
        page = page[:position] + text + page[position:]
    return page


def _header(headers, name):
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _is_plain_html(headers):
    content_type = (_header(headers, "Content-Type") or "").lower()
    encoding = (_header(headers, "Content-Encoding") or "identity").lower()
    return "html" in content_type and encoding == "identity"


def _read(app_iter):
    try:
        return b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
