"""Which files go into the bundles, in which order; aggregation.py then writes the bundles.

1. Load the widgets that the given distributions and, recursively, their dependencies
   declare through ``tw2.widgets`` entry points, and prepare each one (as a page would)
   so that it registers the resources it needs.
2. Keep the JS and CSS files that every ``resource_aggregation_filter`` entry point of the
   given distributions accepts.
3. Order them so that a library comes before what needs it: a resource's declared
   ``resources`` come first, and so does anything a widget lists before it.
"""
import contextlib
import dataclasses
import heapq
import importlib.metadata
import os
import re
import types

from .errors import AggregationError
from .locate import resource_file

FILTER_ENTRY_POINT = "resource_aggregation_filter"
WIDGETS_GROUP = "tw2.widgets"


@dataclasses.dataclass
class Resource:
    """A file a bundle may contain."""

    kind: str  # "js" or "css"
    modname: str
    filename: str
    path: str
    link: object  # the prepared tw2 link

    @property
    def key(self):
        return (self.modname, self.filename)


def _distribution(name):
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise AggregationError("unknown distribution %r: it is not installed in this environment "
                               "(pip install it, or check the name given to -d)" % name) from None


def _requirement_names(dist):
    from packaging.requirements import InvalidRequirement, Requirement

    for text in dist.requires or ():
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an optional extra, or not for this platform
        yield requirement.name


def distributions_with_dependencies(names):
    """The distributions ``names`` and every installed dependency, dependencies first."""
    ordered, seen = [], set()

    def visit(dist):
        key = dist.metadata["Name"].lower().replace("_", "-").replace(".", "-")
        if key in seen:
            return
        seen.add(key)
        for requirement in _requirement_names(dist):
            try:
                visit(importlib.metadata.distribution(requirement))
            except importlib.metadata.PackageNotFoundError:
                continue  # not installed: it cannot declare widgets here
        ordered.append(dist)

    for name in names:
        visit(_distribution(name))
    return ordered


def _load(entry_point, dist):
    try:
        return entry_point.load()
    except Exception as exc:
        raise AggregationError(
            "entry point %s = %s of %s cannot be loaded: %s: %s"
            % (entry_point.name, entry_point.value, dist.metadata["Name"], type(exc).__name__, exc)
        ) from None


def _widgets_of(target):
    from tw2.core.widgets import Widget

    if isinstance(target, type) and issubclass(target, Widget):
        return [target]
    if isinstance(target, types.ModuleType):
        return [v for v in vars(target).values() if isinstance(v, type) and issubclass(v, Widget)]
    if callable(target):
        produced = target()
        items = produced if isinstance(produced, (list, tuple, set)) else [produced]
        return [w for item in items for w in _widgets_of(item)]
    return []


@contextlib.contextmanager
def request_context():
    """A request-local context in which widgets can be prepared outside any request.

    Yields tw2's request-local storage; what the widgets register for serving lands in
    ``storage["middleware"].resources`` (a tw2 ResourcesApp)."""
    from tw2.core import core
    from tw2.core.middleware import TwMiddleware

    local = core.request_local()
    saved = dict(local)
    local.clear()
    TwMiddleware(None)  # puts itself in the request-local storage
    try:
        yield local
    finally:
        local.clear()
        local.update(saved)


def prepare(widget, report):
    """Prepare ``widget`` as a page would, registering the resources it and its children need.

    Returns the prepared instance, or None when the widget cannot be prepared without
    parameters (its declared resources are registered all the same).
    """
    from tw2.core.resources import ResourceBundle

    if issubclass(widget, ResourceBundle):  # links, inline sources and bundles of them
        if not (getattr(widget, "filename", None) or getattr(widget, "link", None) or getattr(widget, "resources", None)):
            return None  # an abstract base (JSLink, CSSSource...): nothing to register
        return _prepare_resource(widget)
    try:
        # Most widgets need an id (jQuery UI ones refuse to prepare without).
        instance = widget(id="tgext_resources_aggregate").req()
        instance.prepare()
    except Exception as exc:
        # tw2's messages end with the repr of a throw-away instance: noise here.
        first_line = re.sub(r" for <[^>]*>$", "", (str(exc).splitlines() or [""])[0])
        report("  skipped %s.%s: %s: %s (its declared resources are still collected)"
               % (widget.__module__, widget.__name__, type(exc).__name__, first_line))
        for dependency in getattr(widget, "resources", None) or ():
            _prepare_resource(dependency)
        return None
    # display() is what registers resources, for the widget and each child it renders.
    for part in _widget_tree(instance):
        for dependency in getattr(part, "resources", None) or ():
            _prepare_resource(dependency)
    return instance


def _prepare_resource(resource):
    try:
        instance = resource.req() if isinstance(resource, type) else resource
        instance.prepare()
        return instance
    except Exception:
        return None  # a link that cannot be resolved outside a page: not bundleable


def _widget_tree(instance, depth=0):
    yield instance
    if depth > 20:
        return
    child = getattr(instance, "child", None)
    if child is not None and not isinstance(child, type):
        yield from _widget_tree(child, depth + 1)
    for part in getattr(instance, "children", None) or ():
        if not isinstance(part, type):
            yield from _widget_tree(part, depth + 1)


def _kind(link):
    """"js" or "css" for a link to a file of a package, else None (inline code, URLs, images)."""
    from tw2.core.resources import CSSLink, JSLink

    kind = "js" if isinstance(link, JSLink) else "css" if isinstance(link, CSSLink) else None
    if kind is None or getattr(link, "external", False):
        return None
    if kind == "css" and (getattr(link, "media", "all") or "all").lower() not in ("all", "screen"):
        return None  # a print stylesheet must keep its own media: not bundled
    try:
        filename = link.filename
    except Exception:
        filename = True  # a file name computed from a missing file: reported when read
    return kind if filename else None


def _as_resource(link, kind):
    """The Resource for a prepared tw2 link; AggregationError when its file cannot be read."""
    modname = link.modname or "__anon__"
    try:
        filename = link.filename.replace(os.sep, "/")
        path = resource_file(modname, filename)
    except Exception as exc:  # UnsafePathError, or a library computing a missing file name
        raise AggregationError("unreadable resource %s %r: %s" % (modname, getattr(link, "link", link), exc)) from None
    if path is None or not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise AggregationError("unreadable resource %s %s: no readable file at %s" % (modname, filename, path))
    return Resource(kind, modname, filename, path, link)


def _key_of(dependency):
    try:
        link = dependency.req() if isinstance(dependency, type) else dependency
        return (link.modname or "__anon__", link.filename.replace(os.sep, "/"))
    except Exception:
        return None


def collect(names, report):
    """Every bundleable resource the widgets of ``names`` need, in dependency order."""
    dists = distributions_with_dependencies(names)
    given = {_distribution(n).metadata["Name"] for n in names}
    targets, filters = [], []
    for dist in dists:
        for entry_point in dist.entry_points.select(group=WIDGETS_GROUP):
            if entry_point.name == FILTER_ENTRY_POINT:
                if dist.metadata["Name"] in given:
                    filters.append(("%s:%s" % (dist.metadata["Name"], entry_point.name), _load(entry_point, dist)))
                continue
            targets.append((dist, _load(entry_point, dist)))
    if not targets:
        raise AggregationError(
            "%s declares no widgets: neither it nor its dependencies have a [%s] entry point. Declare one "
            "(README: \"Declare your widgets\"), then install the application again (pip install -e .): entry "
            "points are read from the installed metadata, not from setup.py or pyproject.toml"
            % (", ".join(names), WIDGETS_GROUP)
        )

    order_hints = []  # (before, after) from each widget's own resources list
    with request_context() as local:
        for dist, target in targets:
            widgets = _widgets_of(target)
            report("Widgets of %s (%s): %d" % (dist.metadata["Name"], getattr(target, "__name__", target), len(widgets)))
            for widget in widgets:
                instance = prepare(widget, report)
                listed = [_key_of(r) for r in (getattr(instance or widget, "resources", None) or ())]
                listed = [k for k in listed if k is not None]
                order_hints += list(zip(listed, listed[1:]))
        prepared = list(local.get("resources", ()))

    kept, declared = {}, []
    for link in prepared:
        kind = _kind(link)
        if kind is None:
            continue
        refused_by = [name for name, accepts in filters if not _accepts(accepts, name, link)]
        if refused_by:
            report("  kept out by %s: %s %s" % (", ".join(refused_by), link.modname, getattr(link, "filename", link)))
            continue
        resource = _as_resource(link, kind)
        if resource.key in kept:
            continue
        kept[resource.key] = resource
        declared += [(k, resource.key) for k in map(_key_of, getattr(link, "resources", None) or ()) if k]
    return _in_dependency_order(kept, declared + order_hints, report)


def _accepts(predicate, name, link):
    try:
        return bool(predicate(link))
    except Exception as exc:
        raise AggregationError("%s failed on %s %s: %s: %s" % (name, link.modname, link.filename, type(exc).__name__, exc)) from None


def _in_dependency_order(resources, edges, report):
    """Topological order of ``resources`` (first-seen order breaks ties); cycles reported."""
    index = {key: i for i, key in enumerate(resources)}
    after = {key: set() for key in resources}
    pending = {key: 0 for key in resources}
    for before, later in edges:
        if before in index and later in index and before != later and later not in after[before]:
            after[before].add(later)
            pending[later] += 1
    ready = [(index[k], k) for k, n in pending.items() if n == 0]
    heapq.heapify(ready)
    ordered = []
    while len(ordered) < len(resources):
        if not ready:  # a cycle: take the earliest-seen resource still waiting
            key = min((k for k in resources if pending[k] > 0), key=index.get)
            report("  order cycle around %s %s: kept in the order found" % key)
            pending[key] = 0
            heapq.heappush(ready, (index[key], key))
        _, key = heapq.heappop(ready)
        if pending[key] < 0:
            continue
        pending[key] = -1
        ordered.append(resources[key])
        for later in after[key]:
            if pending[later] > 0:
                pending[later] -= 1
                if pending[later] == 0:
                    heapq.heappush(ready, (index[later], later))
    return ordered
