"""The WSGI entry of the extension: resources, widget controllers, and pages.

Plain WSGI and tw2; nothing here knows TurboGears nor any caching feature.  A request for
a resource goes to the publisher.  For a page, features that must see the finished
response add steps to the request (:func:`steps`), and this middleware

1. calls the application, streaming its answer through untouched when nothing asked to
   see it and no resource is to be injected;
2. otherwise reads the body once, runs the ``on_body`` steps (the page as the application
   made it: the page cache stores this, with its resources), injects the resources, runs
   the ``on_sent`` steps (the bytes as sent: the filesystem cache writes these);
3. runs the ``on_close`` steps in every case, the application's errors included (a lock
   taken for the page is never left behind);
4. runs the ``after`` steps once the server has sent the response (WSGI ``close()``), so
   a page refreshed after an edit never delays the editor's own response.
"""
import dataclasses
import logging

from tw2.core import core, templating
from tw2.core.middleware import TwMiddleware
from webob import Request, Response

from .guard import GUARDED_REQUEST
from .hints import EarlyHints, add_hints
from .injection import Injector, ResourceList, is_injectable, snapshots
from .publisher import Publisher
from .registry import REGISTRY
from .report import REPORT_KEY, RequestReport

log = logging.getLogger(__name__)

STEPS_KEY = "tgext_resources.steps"
#: Where the configurator keeps the application's middleware in its configuration.
CONFIG_KEY = "tgext_resources.middleware"
#: Where tw2's request-local storage holds the middleware serving the request.
SERVING_KEY = "tgext_resources.serving"

# Widget controllers, like resources (see registry.py), are registered with whichever
# middleware the defining thread knows: share them between every middleware of the process.
_WIDGET_CONTROLLERS = {}


class RequestSteps:
    """What the features ask of this request's response (see the module's docstring)."""

    __slots__ = ("on_body", "on_sent", "on_close", "after")

    def __init__(self):
        self.on_body = []  # step(response): before injection
        self.on_sent = []  # step(response): after injection
        self.on_close = []  # step(): always, once the response is complete or failed
        self.after = []  # step(): once the response has been sent


def steps(environ):
    """The steps of the request of ``environ``; None outside this middleware."""
    return environ.get(STEPS_KEY)


@dataclasses.dataclass
class Finished:
    """A complete response, as the steps see it (and may change it)."""

    environ: dict
    status: str
    headers: list
    body: bytes
    resources: tuple  # StoredResources the page registered, in order
    linked: tuple = ()  # what the page links once injected: bundles in place of their members
    preload: tuple = ()  # the values of the Link headers hinting them (hints.py)

    def header(self, name):
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def replace_body(self, body):
        """Make ``body`` the body, its Content-Length said."""
        self.body = body
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        self.headers.append(("Content-Length", str(len(body))))


class ResourcesMiddleware(TwMiddleware):
    """The ToscaWidgets 2 middleware, with injection that works on every HTML response.

    tw2's own middleware skips any response whose body is a generator, and TurboGears 2.5
    streams responses by default (``registry_streaming = true``): pages lose every resource
    link, without an error.  This one reads the body of an HTML response when widgets
    registered resources for it, so other responses, and pages without widgets, still stream.

    The application's own state lives here, set at start-up by the configurator:
    ``settings``, and what each feature keeps per application (``cache_store``,
    ``filecache``, ``page_memory``).
    """

    guarded = False  # the widget statelessness guard is on for this application's requests
    reporting = False  # a debug tool shows what the caches did (report.py): record it
    _settings = None
    cache_store = None
    filecache = None
    page_memory = None
    preload = False  # pages carry Link: rel=preload headers (hints.py)
    early_hints = None  # the routes' hints (hints.EarlyHints), when 103s are to be sent

    def __init__(self, app, base_url="", **config):
        super().__init__(app, **config)
        REGISTRY.adopt_tw2(self.resources)
        REGISTRY.register_declared_links()
        self.resources = Publisher(
            self.config.res_prefix, REGISTRY, max_age=self.config.res_max_age, debug=self.config.debug,
            base_url=base_url,
        )
        self.injector = Injector(self.resources)
        _WIDGET_CONTROLLERS.update(self.controllers._widgets)
        self.controllers._widgets = _WIDGET_CONTROLLERS
        # tw2 caches which engine renders each template in one process-wide dict, whatever
        # the preferences of the middleware that filled it: start afresh with ours.
        templating.engine_name_cache.clear()
        templating.get_engine_name._flush()

    @property
    def settings(self):
        return self._settings

    @settings.setter
    def settings(self, settings):
        self._settings = settings
        self.injector.configure(settings.resources.script_attributes)  # checked at start-up
        self.preload = settings.resources.early_hints
        self.early_hints = EarlyHints(http1=settings.resources.early_hints_http1) if self.preload else None

    def use_bundles(self, bundles, package, directory):
        """Inject ``bundles`` in place of their members; serve ``directory`` of ``package``,
        where every file is named by its content, with far-future caching."""
        REGISTRY.register(package, directory, whole_dir=True, immutable=True)
        self.injector.bundles = bundles

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if self.config.serve_resources and path.startswith(self.config.res_prefix):
            # First, before any per-request state: the publisher needs none, and a
            # revalidation costs less than setting it up would.
            return self.resources(environ, start_response)
        local = core.request_local()
        # A request made inside another one (a controller embedding a page by calling the
        # application) has a state of its own, and gives the outer one back its own after.
        outer = dict(local)
        local.clear()
        local["middleware"] = local[SERVING_KEY] = self
        local["resources"] = ResourceList()
        if self.guarded:
            local[GUARDED_REQUEST] = True
        if self.reporting:
            local[REPORT_KEY] = RequestReport()
        try:
            app = self.app
            if self.config.serve_controllers and path.startswith(self.config.controller_prefix):
                app = self._widget_controller
            return self._page(app, environ, start_response)
        finally:
            local.clear()
            local.update(outer)

    def _widget_controller(self, environ, start_response):
        # tw2's ControllersApp compares the first path segment with the whole prefix, so a
        # prefix of two segments (TurboGears' /tw2/controllers/) never matches: route here.
        req = Request(environ)
        name = req.path_info[len(self.config.controller_prefix):].split("/", 1)[0] or "index"
        widget = _WIDGET_CONTROLLERS.get(name)
        response = widget.request(req) if widget is not None else Response(status=404)
        return response(environ, start_response)

    def _page(self, app, environ, start_response):
        todo = environ[STEPS_KEY] = RequestSteps()
        head = environ.get("REQUEST_METHOD") == "HEAD"
        try:
            if head:
                # A HEAD gets the GET's header fields (RFC 9110, 9.3.2), Content-Length
                # included, which for an injected page only its body tells: without it a
                # server frames the answer as chunked (waitress then sends a stray last chunk
                # and loses the next pipelined request).  So the application makes the GET;
                # the method is HEAD again before any step runs: nothing stores a HEAD.
                environ["REQUEST_METHOD"] = "GET"
            try:
                status, headers, app_iter, exc_info = Request(environ).call_application(app, catch_exc_info=True)
                inject = self.config.inject_resources and is_injectable(
                    status, headers, core.request_local().get("resources"))
                body = None
                if inject or todo.on_body or todo.on_sent or (head and not _has_length(headers)):
                    body = _read(app_iter)
            finally:
                if head:
                    environ["REQUEST_METHOD"] = "HEAD"
            if body is not None:
                response = Finished(environ, status, headers, body,
                                    snapshots(core.request_local().pop("resources", None)))
                for step in todo.on_body:
                    step(response)
                if inject:
                    self.injector.inject(response)
                    if self.preload:
                        add_hints(response, self.injector, self.early_hints)
                for step in todo.on_sent:
                    step(response)
                headers, app_iter, body = response.headers, [response.body], response.body
            if head:
                if body is None:  # not read: the application said its length
                    _close(app_iter)
                else:
                    headers = _length_said(status, headers, len(body))
                app_iter = []
        finally:
            _run_all(todo.on_close)
        start_response(status, headers, exc_info)
        if todo.after:
            app_iter = _ThenRun(app_iter, todo.after)
        return app_iter


class _ThenRun:
    """An application's response that, once the server is done with it, runs ``steps``."""

    def __init__(self, app_iter, steps):
        self._app_iter = app_iter
        self._steps = steps

    def __iter__(self):
        return iter(self._app_iter)

    def close(self):
        try:
            close = getattr(self._app_iter, "close", None)
            if close is not None:
                close()
        finally:
            _run_all(self._steps)


def _run_all(functions):
    """Call each of ``functions``; one that fails is logged and the others still run."""
    for function in functions:
        try:
            function()
        except Exception:
            log.exception("tgext.resources: a step after the response failed")


def _has_length(headers):
    return any(k.lower() == "content-length" for k, _ in headers)


def _length_said(status, headers, length):
    """``headers`` saying the content is ``length`` bytes long, where a status has content."""
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    if not status.startswith(("1", "204", "304")):  # RFC 9110, 8.6: never a Content-Length
        headers.append(("Content-Length", str(length)))
    return headers


def _read(app_iter):
    try:
        return b"".join(app_iter)
    finally:
        _close(app_iter)


def _close(app_iter):
    close = getattr(app_iter, "close", None)
    if close is not None:
        close()


def current():
    """The ResourcesMiddleware of the application serving this request; outside any request,
    that of the application TurboGears configured last (a background job, a script that
    loaded the application); None when there is none."""
    # Not tw2's own "middleware" entry: tw2 sets it in the thread that builds an application
    # too, and a later thread given the same id (threads' ids are reused) would find it.
    middleware = core.request_local().get(SERVING_KEY)
    if middleware is not None:
        return middleware
    try:
        from tg import config
    except ImportError:  # pragma: no cover - TurboGears is a dependency
        return None
    return config.get(CONFIG_KEY)

