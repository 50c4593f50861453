"""Caching page fragments ("entities"): the HTML of one comment, of one notification.

::

    @cached_entity("comment", expire=3600)
    def render_comment(comment_id):
        comment = DBSession.get(Comment, comment_id)
        return Markup(comment_widget.display(value=comment))

    render_comment(42)              # from a template or a controller: cached HTML
    render_comment.refresh(42)      # after an edit: made and stored now
    render_comment.invalidate(42)   # or just dropped

The widget resources a fragment needs are stored with it and registered again on every
hit, so a page made of cached fragments still gets every script and stylesheet.  Many
concurrent misses of one fragment compute it once (Beaker's creation lock), and a cache
backend that is down means the fragment is computed, never an error.
"""
import functools
import hashlib

from markupsafe import Markup

from .injection import ResourceList, register, snapshots
from .pages import current_store
from .report import note


class _Fragment:
    """A fragment as stored: its text, whether it was markup, the resources it needed."""

    __slots__ = ("text", "markup", "resources")

    def __init__(self, text, markup, resources):
        self.text = text
        self.markup = markup
        self.resources = resources

    def __getstate__(self):
        return (self.text, self.markup, self.resources)

    def __setstate__(self, state):
        self.text, self.markup, self.resources = state

    def replay(self):
        register(self.resources)
        return Markup(self.text) if self.markup else self.text


def _render(func, args, kwargs):
    """Call ``func`` with a resource list of its own, so that every resource it needs is
    captured, even those the page had registered already."""
    from tw2.core import core

    local = core.request_local()
    outer = local.get("resources")
    local["resources"] = ResourceList()
    try:
        value = func(*args, **kwargs)
        needed = snapshots(local["resources"])
    finally:
        if outer is None:
            local.pop("resources", None)
        else:
            local["resources"] = outer
    return _Fragment(str(value), isinstance(value, Markup), needed)


class cached_entity:
    """Cache what the decorated function returns (HTML, widgets included), keyed by its
    arguments, in ``namespace``.  ``expire``: seconds (default: the region's); ``region``:
    a ``beaker.cache.regions`` name (default: the first one)."""

    def __init__(self, namespace, expire=None, region=None):
        if not isinstance(namespace, str) or not namespace:
            raise TypeError("cached_entity(namespace=%r): name the kind of entity, e.g. 'comment'" % (namespace,))
        if expire is not None and (not isinstance(expire, int) or expire <= 0):
            raise TypeError("cached_entity(expire=%r): use a whole number of seconds above 0, or None" % (expire,))
        self.namespace = "tgext_resources.entity." + namespace
        self.expire = expire
        self.region = region

    def __call__(self, func):
        @functools.wraps(func)
        def cached(*args, **kwargs):
            store = current_store()
            if store is None:
                return func(*args, **kwargs)
            key = _key(args, kwargs)
            fragment, stored = store.get_or_create(
                self.region, self.namespace, key, lambda: _render(func, args, kwargs), self.expire)
            shown = (self.namespace, key)
            if stored is None:
                note("fragment", "hit", shown)
            elif stored:
                note("fragment", "stored", shown, "made: a miss")
            else:
                note("fragment", "not stored", shown, "made: a miss; the cache is unavailable")
            return fragment.replay()

        def invalidate(*args, **kwargs):
            """Drop the fragment cached for these arguments."""
            store = current_store()
            if store is not None:
                store.remove(self.region, self.namespace, _key(args, kwargs))

        def refresh(*args, **kwargs):
            """Make the fragment for these arguments now, store it, and return it."""
            fragment = _render(func, args, kwargs)
            store = current_store()
            if store is not None:
                store.put(self.region, self.namespace, _key(args, kwargs), fragment, self.expire)
            return fragment.replay()

        cached.invalidate = invalidate
        cached.refresh = refresh
        cached.uncached = func
        return cached


def _key(args, kwargs):
    text = repr((tuple(str(a) for a in args), sorted((k, str(v)) for k, v in kwargs.items())))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
