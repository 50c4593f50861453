"""Injecting widget resources into every HTML page, streamed or not.

Plain WSGI and tw2: nothing here knows TurboGears.
"""
import html
import logging
import re

from markupsafe import Markup
from tw2.core import core, templating
from tw2.core.middleware import TwMiddleware
from tw2.core.resources import CSSLink, CSSSource, JSLink, JSSource, find_charset
from webob import Request, Response

from .bundles import BundleLink
from .publisher import REGISTRY, Publisher

log = logging.getLogger(__name__)

# Responses that must not carry a body (RFC 9110, 15.3.5 and 15.4.5).
_BODYLESS_STATUS = ("204", "304")

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
        status, headers, app_iter, exc_info = Request(environ).call_application(app, catch_exc_info=True)
        if (
            self.config.inject_resources
            and core.request_local().get("resources")
            and not status.startswith(_BODYLESS_STATUS)
            and _is_plain_html(headers)
        ):
            if environ.get("REQUEST_METHOD") == "HEAD":
                # No body to change, but the GET body's length differs from the one announced.
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            else:
                body = self._inject(_read(app_iter), headers, environ.get("SCRIPT_NAME", ""))
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                headers.append(("Content-Length", str(len(body))))
                app_iter = [body]
        start_response(status, headers, exc_info)
        return app_iter

    def _inject(self, body, headers, script_name):
        content_type = _header(headers, "Content-Type") or ""
        charset = None
        for param in content_type.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                charset = value.strip().strip('"')
        resources = core.request_local().pop("resources", None) or []
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
        """The HTML of one resource, its link versioned and on the base URL.

        The four tw2 resource kinds are written here, as their own templates would write
        them (without a template engine's cost per link); any other kind renders itself.
        """
        template = getattr(resource, "template", None)
        if isinstance(resource, BundleLink):
            resource.url = self.resources.url(resource.path, script_name)
            return resource.generate_output("string")
        if isinstance(resource, JSLink) and template == JSLink.template:
            attrs = "".join(' %s="%s"' % (k, html.escape(str(v))) for k, v in sorted((resource.attrs or {}).items()) if v is not None)
            return '<script type="text/javascript" src="%s"%s></script>' % (
                html.escape(self.resources.url(resource.link, script_name)), attrs)
        if isinstance(resource, CSSLink) and template == CSSLink.template:
            return '<link rel="stylesheet" type="text/css" href="%s" media="%s" />' % (
                html.escape(self.resources.url(resource.link, script_name)), html.escape(resource.media or "all"))
        if isinstance(resource, JSSource) and template == JSSource.template:
            return '<script type="text/javascript">%s</script>' % Markup(resource.src)
        if isinstance(resource, CSSSource) and template == CSSSource.template:
            return '<style type="text/css">%s</style>' % Markup(resource.src)
        return str(resource.display(displays_on="string"))


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
