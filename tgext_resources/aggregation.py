"""Building the bundles: ``tgext-resources aggregate``.

1. Load the widgets that the given distributions and, recursively, their dependencies
   declare through ``tw2.widgets`` entry points, and prepare each one (as a page would)
   so that it registers the resources it needs.
2. Keep the JS and CSS files that every ``resource_aggregation_filter`` entry point of the
   given distributions accepts.
3. Order them so that a library comes before what needs it: a resource's declared
   ``resources`` come first, and so does anything a widget lists before it.
4. Concatenate, rewrite the stylesheets' references (see cssrewrite.py), minify, and write
   the plain and minified bundles, their compressed siblings and the mapping file.
"""
import base64
import contextlib
import dataclasses
import gzip
import hashlib
import heapq
import importlib.metadata
import os
import re
import types

from .atomic import write_atomic
from .cssrewrite import AssetStore, StylesheetRewriter, decode
from .errors import AggregationError
from .locate import module_directory, resource_file
from .mapping import Bundle, Mapping, Member

FILTER_ENTRY_POINT = "resource_aggregation_filter"
WIDGETS_GROUP = "tw2.widgets"
_JS_SOURCE_MAP = re.compile(r"^\s*//[#@]\s*sourceMappingURL=.*$", re.M)


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


@dataclasses.dataclass
class Result:
    files: list  # absolute paths written, bundles then siblings then assets then the mapping
    mapping: Mapping

    @property
    def hash(self):
        return self.mapping.hash


# -- 1. distributions and their widgets -------------------------------------------------------

def _distribution(name):
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise AggregationError(
            "unknown distribution %r: it is not installed in this environment "
            "(pip install it, or check the name given to -d)" % name
        ) from None


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
    ``storage["middleware"].resources`` (a tw2 ResourcesApp).
    """
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
            "%s declares no widgets: neither it nor its dependencies have a [%s] entry point"
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


# -- 4. bundles ---------------------------------------------------------------------------------

def _comment(text):
    return "/* %s */" % text.replace("*/", "* /")


def _read_text(path, report):
    with open(path, "rb") as f:
        return decode(f.read(), path, report)


def _minified_script(resource, report):
    """The script minified: the library's own ``name.min.js`` next to it when it ships one
    (made by a mangling minifier, so smaller: jQuery 1.7.1 is 94 KB that way against 140 KB
    through rjsmin), else rjsmin's output."""
    import rjsmin

    stem, extension = os.path.splitext(resource.path)
    if not stem.endswith((".min", "-min")):
        for sibling in (stem + ".min" + extension, stem + "-min" + extension):
            if os.path.isfile(sibling):
                return _JS_SOURCE_MAP.sub("", _read_text(sibling, report))
    return rjsmin.jsmin(_read_text(resource.path, report), keep_bang_comments=True)  # licences stay


def _concatenate_js(resources, report, minified=False):
    # The leading ";" keeps a first file's "use strict" from applying to the whole bundle,
    # and each file ends with a newline and ";" so that a last line without either (a
    # comment, an expression) cannot merge into the next file.
    parts = [] if minified else [_comment("tgext.resources bundle of %d scripts" % len(resources))]
    parts.append(";")
    for resource in resources:
        if minified:
            parts += [_minified_script(resource, report), ";"]
        else:
            parts += [_comment("%s %s" % resource.key), _JS_SOURCE_MAP.sub("", _read_text(resource.path, report)), ";"]
    return "\n".join(parts) + "\n"


def _concatenate_css(resources, assets, report):
    rewriter = StylesheetRewriter(assets, report)
    parts = []
    for resource in resources:
        root = module_directory(resource.modname)
        parts += [_comment("%s %s" % resource.key), rewriter.rewrite(_read_text(resource.path, report), resource.path, root)]
    header = [_comment("tgext.resources bundle of %d stylesheets" % len(resources))]
    if rewriter.hoisted:
        report("  moved to the top of the CSS bundle (absolute @import): %s" % ", ".join(rewriter.hoisted))
    return "\n".join(header + rewriter.hoisted + parts) + "\n"


def integrity(data):
    """The Subresource Integrity value of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def compressed_siblings(data):
    """``{suffix: bytes}`` of the gzip (and, when installed, brotli) forms smaller than ``data``."""
    siblings = {".gz": gzip.compress(data, compresslevel=9, mtime=0)}
    try:
        import brotli
    except ImportError:
        pass
    else:
        siblings[".br"] = brotli.compress(data, quality=11)
    return {suffix: packed for suffix, packed in siblings.items() if len(packed) < len(data)}


def _content_name(data, extension):
    return "%s%s" % (hashlib.sha256(data).hexdigest()[:16], extension)


def output_directory(package, output):
    """Check that ``output`` lies inside ``package``; return (its path, its path relative to the package)."""
    root = module_directory(package)
    if root is None:
        raise AggregationError("unknown package %r: it cannot be imported here (check --package)" % package)
    path = os.path.realpath(os.path.abspath(output))
    if path == root or os.path.commonpath([path, root]) != root:
        raise AggregationError(
            "-o %s is outside package %s (%s): bundles are served as resources of that package, "
            "so they must lie inside it, e.g. -o %s" % (output, package, root, os.path.join(root, "public", "aggregated"))
        )
    return path, os.path.relpath(path, root).replace(os.sep, "/")


def build(resources, package, output, report):
    """Write the bundles of ``resources`` into ``output`` (inside ``package``); return the Result."""
    directory, relative = output_directory(package, output)
    if not resources:
        raise AggregationError("nothing to bundle: the filters kept out every JS and CSS resource")
    assets = AssetStore()
    files, bundles = [], {}
    for kind in ("js", "css"):
        members = [r for r in resources if r.kind == kind]
        if not members:
            continue
        if kind == "js":
            plain = _concatenate_js(members, report).encode("utf-8")
            minified = _concatenate_js(members, report, minified=True).encode("utf-8")
        else:
            import rcssmin

            text = _concatenate_css(members, assets, report)
            plain, minified = text.encode("utf-8"), rcssmin.cssmin(text, keep_bang_comments=True).encode("utf-8")
        names = {}
        for label, data, extension in (("plain", plain, "." + kind), ("minified", minified, ".min." + kind)):
            name = names[label] = _content_name(data, extension)
            files.append(_write(directory, name, data))
            for suffix, packed in compressed_siblings(data).items():
                files.append(_write(directory, name + suffix, packed))
        report("%s bundle: %d files, %d bytes, %d minified"
               % (kind.upper(), len(members), len(plain), len(minified)))
        bundles[kind] = Bundle(
            kind, names["plain"], integrity(plain), names["minified"], integrity(minified),
            tuple(Member(_sha256(r.path), r.modname, r.filename) for r in members),
        )
    for name, data in sorted(assets.files.items()):
        files.append(_write(directory, name, data))
    mapping = Mapping(package, relative, bundles)
    files.append(_write(directory, mapping.hash + ".mapping", mapping.render().encode("utf-8")))
    return Result(files, mapping)


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _write(directory, name, data):
    path = os.path.join(directory, *name.split("/"))
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return path  # named by content: already there, already right
    except OSError:
        pass
    write_atomic(path, data)
    return path


def aggregate(names, package, output, report):
    """The whole command: collect the resources of ``names``' widgets and bundle them."""
    output_directory(package, output)  # a wrong -o fails before any widget is loaded
    return build(collect(names, report), package, output, report)
