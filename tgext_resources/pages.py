"""Caching whole rendered pages: ``cached_template``, and ``refresh_page`` after an edit.

Under ``@expose``::

    @expose("myapp.templates.article")
    @cached_template(key=("article_id",), expire=600)
    def article(self, article_id):
        ...

On a miss the controller and its template run as usual, and the page is stored together
with the widget resources it registered; on a hit neither runs: the stored page is given
to TurboGears and its resources to the middleware, which injects them as it did on the
miss (versioned, bundled, on the base URL as configured now), so the page is the same, byte
for byte.  The store itself happens in the outermost middleware, once everything else
(sessions, error pages) has had its say, so what is stored is what was sent.

Never stored: a status other than 200, a response that sets a cookie, a page that read the
visitor's session, a request other than GET (HEAD is answered from the cache but not
stored).  An authenticated request (``request.identity``, or ``REMOTE_USER``) is not cached
at all, unless ``per_user=True``, which keys it by the user.  Pages vary by the language
TurboGears translated them into.
"""
import hashlib
import inspect
import logging
import uuid

import tg
from tg.decorators import Decoration
from tg.i18n import get_lang
from tw2.core import core

from . import injection
from .caching import MISSING
from .injection import CACHED_PAGE_KEY, MIDDLEWARE_KEY, PLAN_KEY, REFRESH_AFTER_KEY, REFRESH_KEY, register

log = logging.getLogger(__name__)

_NOT_STORED_HEADERS = ("set-cookie", "content-length", "date", "server", "connection", "transfer-encoding", "keep-alive")

#: Every cached_template made, so that start-up can check their regions.
DECORATED = []


def current_store():
    """The CacheStore of the application serving this request; outside any request, that of
    the application built last (a background job); None for an application without one."""
    middleware = core.request_local().get("middleware")
    if middleware is not None:
        return getattr(middleware, "cache_store", None)
    return injection.LAST_CACHE_STORE


def _arguments(signature, args, kwargs):
    """The controller's arguments as the cache key sees them: names with text values, sorted."""
    bound = signature.bind_partial(*args, **kwargs)
    items = []
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if name == "self":
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            items += [(k, _text(v)) for k, v in value.items()]
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            items += [("*%d" % i, _text(v)) for i, v in enumerate(value)]
        else:
            items.append((name, _text(value)))
    return sorted(items)


def _text(value):
    if isinstance(value, (list, tuple)):
        return "\x1f".join(_text(v) for v in value)
    return value if isinstance(value, str) else str(value)


def _digest(*parts):
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


class cached_template:
    """Cache the whole rendered response of the controller it decorates (under ``@expose``).

    ``key``: None (every argument of the request), a tuple of argument names (those alone),
    or a callable getting the controller's keyword arguments and returning a string.
    ``expire``: seconds (default: the region's). ``region``: a ``beaker.cache.regions`` name
    (default: the first one). ``per_user``: cache authenticated requests, one entry per user
    (default False: they are never cached).

    The decorated controller gets ``invalidate(*args, **kw)``: drops the page cached for
    those arguments, in every language and for every user.
    """

    def __init__(self, key=None, expire=None, region=None, per_user=False):
        if not (key is None or callable(key) or (isinstance(key, (tuple, list)) and all(isinstance(k, str) for k in key))):
            raise TypeError("cached_template(key=%r): use None, a tuple of argument names, or a callable" % (key,))
        if expire is not None and (not isinstance(expire, int) or expire <= 0):
            raise TypeError("cached_template(expire=%r): use a whole number of seconds above 0, or None" % (expire,))
        self.key = tuple(key) if isinstance(key, list) else key
        self.expire = expire
        self.region = region
        self.per_user = per_user
        self.func = None

    def __call__(self, func):
        self.func = func
        self.signature = inspect.signature(func)
        self.namespace = "tgext_resources.page.%s.%s" % (func.__module__, func.__qualname__)
        Decoration.get_decoration(func)._register_controller_wrapper(self._wrap)
        func.invalidate = self.invalidate
        DECORATED.append(self)
        return func

    # -- keys
    def _base(self, args, kwargs):
        if callable(self.key):
            named = dict(_arguments(self.signature, args, kwargs))
            return "k:" + _digest(str(self.key(**named)))
        items = _arguments(self.signature, args, kwargs)
        if self.key is not None:
            items = [(name, value) for name, value in items if name in self.key]
        return "a:" + _digest(items)

    def _generation(self, store, base):
        generation = store.get(self.region, self.namespace, "g:" + base)
        return 0 if generation is MISSING else generation

    def invalidate(self, *args, **kwargs):
        """Drop the page cached for these arguments, in every variant (language, user)."""
        store = current_store()
        if store is None:
            return
        takes_self = next(iter(self.signature.parameters), None) == "self"
        base = self._base(("self",) + args, kwargs) if takes_self else self._base(args, kwargs)
        store.put(self.region, self.namespace, "g:" + base, self._generation(store, base) + 1)

    # -- requests
    def _wrap(self, next_caller):
        def call(tg_config, controller, remainder, params):
            plan = self._plan(controller, remainder, params)
            if plan is None:
                return next_caller(tg_config, controller, remainder, params)
            entry = plan.lookup()
            if entry is not None:
                plan.release()
                return entry.serve(plan.environ)
            plan.watch_session()
            plan.environ[PLAN_KEY] = plan  # the middleware stores the response and releases
            return next_caller(tg_config, controller, remainder, params)

        return call

    def _plan(self, controller, remainder, params):
        request = tg.request._current_obj()
        if request.method not in ("GET", "HEAD"):
            return None
        store = current_store()
        if store is None:
            return None
        user = _user(request)
        if user is not None and not self.per_user:
            return None
        try:
            base = self._base((controller,) + tuple(remainder or ()), dict(params or {}))
        except TypeError:
            return None  # arguments the controller would refuse: TurboGears answers that
        try:
            language = ",".join(get_lang(all=False) or ())
        except Exception:
            language = ""
        refreshing = request.environ.get(REFRESH_KEY, False)
        generation = self._generation(store, base)
        if refreshing:  # the page changed: every variant is stale, this one is made now
            generation += 1
            store.put(self.region, self.namespace, "g:" + base, generation)
        variant = language if user is None else _digest(language, user)
        key = "p:%s:%d:%s" % (base, generation, variant)
        return _Plan(self, store, key, request, refreshing)


def _user(request):
    identity = getattr(request, "identity", None)
    if identity:
        return str(identity.get("repoze.who.userid") or identity.get("user") or identity)
    return request.environ.get("REMOTE_USER") or None


class _Entry:
    """A stored page: status 200, headers, the body before injection, its resources, and an
    id of its own (the middleware keeps each page's injected HTML under it)."""

    def __init__(self, headers, body, resources, page_id):
        self.headers = headers
        self.body = body
        self.resources = resources
        self.page_id = page_id

    def serve(self, environ):
        response = tg.response._current_obj()
        for name, value in self.headers:
            response.headers[name] = value
        middleware = environ.get(MIDDLEWARE_KEY)
        injected = middleware.injected_page(self.page_id, environ.get("SCRIPT_NAME", "")) if middleware else None
        if injected is not None:
            return injected  # injected already, here: the middleware has nothing to add
        environ[CACHED_PAGE_KEY] = self.page_id
        register(self.resources)
        return self.body


class _Plan:
    """A page being computed: looked up, locked, then stored by the middleware."""

    def __init__(self, decorator, store, key, request, refreshing):
        self.decorator = decorator
        self.store = store
        self.key = key
        self.environ = request.environ
        self.method = request.method
        self.refreshing = refreshing
        self._release = None
        self._session = None

    def watch_session(self):
        """Give the controller and its template a session that tells whether they used it.

        TurboGears itself reads the session on every request (the i18n language), so the
        session object cannot tell; this wrapper, in ``tg.session`` until the request ends,
        can.  The session application wrapper keeps the real one and saves it as usual.
        """
        context = tg.request_local.context._current_obj()
        if getattr(context, "session", None) is not None:
            self._session = context.session = _WatchedSession(context.session)

    def _get(self):
        found = self.store.get(self.decorator.region, self.decorator.namespace, self.key)
        return None if found is MISSING else _Entry(*found)

    def lookup(self):
        """The stored entry, or None after taking the creation lock (many misses, one render)."""
        if not self.refreshing:
            entry = self._get()
            if entry is not None:
                return entry
        self._release, waited = self.store.acquire(self.decorator.region, self.decorator.namespace, self.key)
        if waited and not self.refreshing:
            return self._get()  # another request made it while this one waited for the lock
        return None

    def release(self):
        if self._release is not None:
            self._release()
            self._release = None

    def finish(self, status, headers, body, resources):
        """Store the response if it may be shared; called by the middleware."""
        try:
            if self.method != "GET" or not status.startswith("200 "):
                return
            names = {name.lower() for name, _ in headers}
            if "set-cookie" in names:
                return
            if self._session is not None and self._session.used:
                return  # built from this visitor's session: not for anyone else
            kept = tuple((n, v) for n, v in headers if n.lower() not in _NOT_STORED_HEADERS)
            entry = (kept, body, resources, uuid.uuid4().hex)
            self.store.put(self.decorator.region, self.decorator.namespace, self.key, entry, self.decorator.expire)
        finally:
            self.release()


class _WatchedSession:
    """A session that remembers being used; everything goes to the real one."""

    def __init__(self, session):
        object.__setattr__(self, "_real", session)
        object.__setattr__(self, "used", False)

    def _touch(self):
        object.__setattr__(self, "used", True)
        return self._real

    def __getattr__(self, name):
        return getattr(self._touch(), name)

    def __setattr__(self, name, value):
        setattr(self._touch(), name, value)

    def __getitem__(self, key):
        return self._touch()[key]

    def __setitem__(self, key, value):
        self._touch()[key] = value

    def __delitem__(self, key):
        del self._touch()[key]

    def __contains__(self, key):
        return key in self._touch()

    def __iter__(self):
        return iter(self._touch())

    def __len__(self):
        return len(self._touch())

    def __bool__(self):
        return True


def refresh_page(path):
    """Render the page at ``path`` again and store it, once the current request is done.

    For the controller that handles an edit: the edit's transaction is committed first,
    then the page is made through the whole application as an anonymous visitor with the
    editor's language would get it, so that the next visitor finds it ready.  Other variants
    of the page (languages, users) are dropped and made again on their next visit.
    """
    environ = tg.request.environ
    environ.setdefault(REFRESH_AFTER_KEY, []).append(path)
