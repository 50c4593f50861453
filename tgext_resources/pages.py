"""Caching whole rendered pages: ``cached_template`` (``refresh_page`` is in refresh.py).

Under ``@expose``::

    @expose("myapp.templates.article")
    @cached_template(key=("article_id",), expire=600)
    def article(self, article_id):
        ...

On a miss the controller and its template run as usual, and the page is stored together
with the widget resources it registered; on a hit neither runs: the stored page is given
to TurboGears and its resources to the middleware, which injects them as it did on the
miss (versioned, bundled, on the base URL as configured now), so the page is the same, byte
for byte.  The store itself is a step the outermost middleware runs, once everything else
(sessions, error pages) has had its say, so what is stored is what was sent.

What may be stored for other visitors is decided by shareable.py: an authenticated
request (``request.identity``, ``REMOTE_USER``, ``Authorization``) is not cached at all,
unless ``per_user=True``, which keys it by the user.  A page made as the ``error_handler``
of a failed validation shows the submitter's input: it is never stored nor looked up.  What
a page is keyed by is pagekeys.py.
"""
import inspect
import logging
import uuid

import tg
from tg.decorators import Decoration
from tw2.core import core

from . import pagekeys, shareable
from .caching import MISSING
from .injection import register
from .middleware import current, steps
from .pagebody import PLAN_KEY, as_made, made, stored_body
from .refresh import REFRESH_KEY
from .report import note
from .tags import NONCE_KEY

log = logging.getLogger(__name__)

_NOT_STORED_HEADERS = ("set-cookie", "content-length", "date", "server", "connection", "transfer-encoding", "keep-alive")

#: Every cached_template made, so that start-up can check their regions.
DECORATED = []


def current_store():
    """The CacheStore of the application serving this request (outside any request, of the
    application configured last); None for an application without one."""
    middleware = current()
    return middleware.cache_store if middleware is not None else None


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
        self.decoration = Decoration.get_decoration(func)
        self.signature = inspect.signature(func)
        self.namespace = "tgext_resources.page.%s.%s" % (func.__module__, func.__qualname__)
        self.decoration._register_controller_wrapper(self._wrap)
        func.invalidate = self.invalidate
        DECORATED.append(self)
        return func

    # -- keys
    def _base(self, args, kwargs):
        return pagekeys.base(self.key, self.signature, args, kwargs)

    def _generation(self, store, base, renew=False):
        """The generation of the pages of ``base`` (0 until the first invalidation); with
        ``renew``, the next one, stored: every page of the previous one is dropped."""
        generation = store.get(self.region, self.namespace, "g:" + base)
        generation = 0 if generation is MISSING else generation
        if renew:
            generation += 1
            # The mark must outlive every page it drops (a page may be kept longer than the
            # region's default): gone first, the count would restart and find them again.
            region_expire = store.region(self.region).settings.expire
            life = None if region_expire is None else max(region_expire, self.expire or 0)
            store.put(self.region, self.namespace, "g:" + base, generation, life)
        return generation

    def invalidate(self, *args, **kwargs):
        """Drop the page cached for these arguments, in every variant (language, user)."""
        store = current_store()
        if store is None:
            return
        takes_self = next(iter(self.signature.parameters), None) == "self"
        base = self._base(("self",) + args, kwargs) if takes_self else self._base(args, kwargs)
        self._generation(store, base, renew=True)

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
            plan.session = shareable.watch_session()
            todo = steps(plan.environ)
            todo.on_body.append(plan.finish)  # stored as made, with its resources
            todo.on_close.append(plan.closed)  # even when the controller raises
            plan.environ[PLAN_KEY] = plan
            plan.output = output = next_caller(tg_config, controller, remainder, params)
            if isinstance(output, (str, bytes)):
                made(plan, output)  # no template: the controller wrote the page
            return output

        return call

    def _plan(self, controller, remainder, params):
        context = tg.request_local.context._current_obj()
        request = context.request
        if steps(request.environ) is None:
            return None
        refused = shareable.request_refusal(request.environ, self.per_user)
        if refused:
            note("page", "not looked up", (self.namespace, ""), refused)
            return None
        validation = getattr(request, "validation", None)
        if validation is not None and (validation.exception is not None or validation.errors):
            # An error_handler's page: the submitter's input and errors, for them alone.
            note("page", "not looked up", (self.namespace, ""), "the error_handler of a failed validation")
            return None
        middleware = current()
        store = getattr(middleware, "cache_store", None)
        if store is None:
            return None
        try:
            base = self._base((controller,) + tuple(remainder or ()), dict(params or {}))
        except TypeError:
            return None  # arguments the controller would refuse: TurboGears answers that
        refreshing = request.environ.get(REFRESH_KEY, False)
        # Refreshing: the page changed, every variant is stale, this one is made now.
        generation = self._generation(store, base, renew=refreshing)
        variant = pagekeys.variant(request, self.decoration, context, shareable.visitor(request.environ))
        key = "p:%s:%d:%s" % (base, generation, variant)
        return _Plan(self, store, middleware.page_memory, key, request.environ, refreshing)


class _Entry:
    """A stored page: status 200, headers, the body before injection, its resources, an
    id of its own (the application keeps each page's injected HTML under it), and how to
    give the body back as text (pagebody.py)."""

    def __init__(self, headers, body, resources, page_id, text):
        self.headers = headers
        self.body = body
        self.resources = resources
        self.page_id = page_id
        self.text = text

    def serve(self, environ):
        response = tg.response._current_obj()
        for name, value in self.headers:
            response.headers[name] = value
        pages = getattr(current(), "page_memory", None)
        # The memo holds the page as injected with its own resources only: a request that
        # registered others before the hit (a site-wide script in _before) is injected anew,
        # and so is one with a CSP nonce: its tags carry its own (tags.py).
        alone = pages is not None and not core.request_local().get("resources") and not environ.get(NONCE_KEY)
        if alone:
            injected = pages.injected(self.page_id, environ.get("SCRIPT_NAME", ""))
            if injected is not None:  # injected already, here: nothing to add but its hints
                page, preload = injected
                for value in preload:
                    response.headers.add("Link", value)
                return page
        register(self.resources)
        if alone:
            todo, untouched = steps(environ), []
            # Only the page as stored: an after_render hook (a debug toolbar) may add to it.
            todo.on_body.append(lambda response: untouched.append(response.body == self.body))
            todo.on_sent.append(lambda sent: all(untouched) and pages.remember_injected(self.page_id, sent, self.text))
        return as_made(self.body, self.text)


class _Plan:
    """A page being computed: looked up, locked, then stored once complete."""

    session = None  # the watched session, once the controller runs
    output = None  # what the controller returned
    made = None  # what its template wrote, and the headers then (pagebody.made)
    headers = ()

    def __init__(self, decorator, store, memory, key, environ, refreshing):
        self.decorator = decorator
        self.store = store
        self.memory = memory
        self.key = key
        self.environ = environ
        self.refreshing = refreshing
        self._release = None
        self._finished = False

    def _get(self):
        found = self.store.get(self.decorator.region, self.decorator.namespace, self.key)
        # An entry of another shape was stored by an earlier version: made again.
        return _Entry(*found) if isinstance(found, tuple) and len(found) == 5 else None

    def _refused(self):
        return self.memory.refused((self.decorator.namespace, self.key))

    def lookup(self):
        """The stored entry, or None after taking the creation lock (many misses, one render)."""
        if not self.refreshing:
            entry = self._get()
            if entry is not None:
                note("page", "hit", self.shown)
                return entry
            if self._refused():
                note("page", "miss", self.shown, "not storable a moment ago: made without waiting")
                return None  # nothing will be stored: no reason to queue behind each other
        note("page", "miss", self.shown, "refreshing" if self.refreshing else "")
        self._release, waited = self.store.acquire(self.decorator.region, self.decorator.namespace, self.key)
        if waited and not self.refreshing:
            entry = self._get()  # another request made it while this one waited for the lock
            if entry is None and self._refused():
                self.release()  # ...or found it could not be stored: let the queue go
            return entry
        return None

    def release(self):
        if self._release is not None:
            self._release()
            self._release = None

    def closed(self):
        """Step ``on_close``: the lock goes, and a render that never reached ``finish`` (the
        controller raised past every error page) is remembered as not storable."""
        if not self._finished:
            self._refuse("the response failed")
        self.release()

    @property
    def shown(self):
        return (self.decorator.namespace, self.key)

    def _refuse(self, reason):
        log.debug("Page %s not cached: %s", self.environ.get("PATH_INFO"), reason)
        note("page", "not stored", self.shown, reason)
        if self.environ.get("REQUEST_METHOD") == "GET":  # a HEAD says nothing of the page
            self.memory.refuse((self.decorator.namespace, self.key))

    def finish(self, response):
        """Step ``on_body``: store the response if it may be shared."""
        self._finished = True
        try:
            refused = shareable.response_refusal(
                response.environ, response.status, response.headers, self.session is not None and self.session.used,
                self.decorator.per_user, keyed=shareable.PAGE_KEY_HEADERS)
            if refused:
                self._refuse(refused)
                return
            stored = stored_body(self.made, response)
            if isinstance(stored, str):
                self._refuse(stored)
                return
            kept = tuple((n, v) for n, v in self.headers if n.lower() not in _NOT_STORED_HEADERS)
            if any(n.lower().startswith("content-security-policy") and "'nonce-" in v.lower() for n, v in kept):
                self._refuse("its Content-Security-Policy names this request's nonce (send it from a middleware)")
                return
            body, text = stored
            entry = (kept, body, response.resources, uuid.uuid4().hex, text)
            stored = self.store.put(self.decorator.region, self.decorator.namespace, self.key, entry, self.decorator.expire)
            note("page", "stored" if stored else "not stored", self.shown, "" if stored else "the cache is unavailable")
        finally:
            self.release()

