"""What the extension did for one request, told to the developer looking at the page.

The caches note what they do (:func:`note`): a page or fragment found, made, stored or
not and why, a file written for the front server or not and why.  Nothing is kept unless
the application asked for it: the middleware puts a :class:`RequestReport` in the request
only when a debug tool shows it (debugpanel.py, tgext.debugbar's toolbar), so in
production a note is one dictionary lookup.

:func:`report_html` writes the report once the response is complete (the page stored or
refused, its resources injected, its file written), as an HTML fragment.  Plain WSGI and
tw2: nothing here knows TurboGears.
"""
import os
import typing

from markupsafe import escape
from tw2.core import core

from .bundles import BundleLink
from .registry import REGISTRY
from .versioning import VERSIONS

#: Where the request's report lives in tw2's request-local storage.
REPORT_KEY = "report"
#: tgext.debugbar's toolbar, as it appears in a page (it shows the visitor's cookies).
TOOLBAR_MARK = b'id="tgdb_debugbar"'


def has_toolbar(body):
    """Whether a page (bytes) carries a debug toolbar: said by the report, or seen."""
    report = current_report()
    return (report is not None and report.toolbar) or TOOLBAR_MARK in body


class Event(typing.NamedTuple):
    cache: str  # "page", "fragment" or "file"
    outcome: str  # "hit", "miss", "stored", "not stored", "not looked up", "written", "not written"
    key: object  # what the cache keys it by: (namespace, key), or the file's URL
    detail: str = ""  # why, when something was not done


class RequestReport:
    """The events of one request, in order, and whether a debug toolbar is in its page."""

    def __init__(self):
        self.events = []
        self.toolbar = False  # a debug toolbar (this request's cookies and environ) is in the page


def current_report():
    """The report of the request being served, or None (nobody asked, or outside a request)."""
    return core.request_local().get(REPORT_KEY)


def note(cache, outcome, key, detail=""):
    """Record what a cache did for the current request (nothing when nobody asked)."""
    report = core.request_local().get(REPORT_KEY)
    if report is not None:
        report.events.append(Event(cache, outcome, key, detail))


def resource_rows(middleware, response):
    """One row per link or inline resource the page got, as injected: (what, URL or code,
    version, bytes on disk or None)."""
    script_name = response.environ.get("SCRIPT_NAME", "")
    publisher, bundles = middleware.resources, middleware.injector.bundles
    resources = response.resources
    rows = []
    for resource in bundles.replace(resources) if bundles is not None else resources:
        if isinstance(resource, BundleLink):
            members = [r.link for r in resources if bundles.kind_of(getattr(r, "link", None)) == resource.kind]
            what = "bundle (%s) of %d: %s" % (resource.kind, len(members), ", ".join(m.rsplit("/", 1)[-1] for m in members))
            rows.append((what, publisher.url(resource.path, script_name), "named by content", _size(publisher, resource.path)))
        elif resource.link:
            kind = {"js": "script", "css": "stylesheet"}[resource.kind]
            rows.append((kind, publisher.url(resource.link, script_name), _version(publisher, resource.link),
                         _size(publisher, resource.link)))
        else:
            rows.append(("inline", resource.html[:120], "", len(resource.html.encode("utf-8"))))
    return rows


def _split(publisher, path):
    if not path.startswith(publisher.prefix):
        return None, None
    modname, _, filename = path[len(publisher.prefix):].partition("/")
    return modname, filename


def _version(publisher, path):
    modname, filename = _split(publisher, path)
    if modname is None:
        return "external"
    if REGISTRY.is_immutable(modname, filename):
        return "named by content"
    return VERSIONS.token(modname) or "unversioned"


def _size(publisher, path):
    modname, filename = _split(publisher, path)
    try:
        real = REGISTRY.real_path(modname, filename) if modname is not None else None
        return os.path.getsize(real) if real else None
    except (OSError, ValueError):  # gone, or a path no file can have (UnsafePathError)
        return None


def report_html(middleware, response, report):
    """The report of a complete response as an HTML fragment (ASCII: it fits any page)."""
    rows = resource_rows(middleware, response)
    missing = sum(1 for row in rows if row[3] is None and row[2] != "external")
    out = ['<div class="tgext-resources-report">']
    out.append("<h1>Resources (%d)</h1>" % len(rows))
    if missing:
        out.append('<p class="tgext-resources-missing">%d link(s) not served: no such registered file</p>' % missing)
    out.append(_table(("What", "Link", "Version", "Bytes"), [
        (what, link, version, "not served" if size is None and version != "external" else size)
        for what, link, version, size in rows]))
    counts = {}
    for event in report.events:
        counts[event.outcome] = counts.get(event.outcome, 0) + 1
    summary = ", ".join("%s %d" % (outcome, n) for outcome, n in sorted(counts.items())) or "nothing cached"
    out.append("<h1>Caches: %s</h1>" % escape(summary))
    out.append(_table(("Cache", "Outcome", "Key", "Why"), [
        (event.cache, event.outcome, _key_text(event.key), event.detail) for event in report.events]))
    guard = "on: a request that changes a shared widget fails" if middleware.guarded else "off"
    out.append("<h1>Widget guard: %s</h1>" % escape(guard))
    out.append("</div>")
    return "\n".join(out)


def _key_text(key):
    """A key as shown: the namespace without the package's prefix, then the key (made only
    when a report is shown, not when the event is noted)."""
    if not isinstance(key, tuple):
        return key
    namespace, key = key
    if namespace.startswith("tgext_resources."):
        namespace = namespace[len("tgext_resources."):]
    return ("%s %s" % (namespace, key)).strip()


def _table(titles, rows):
    head = "".join("<th>%s</th>" % escape(t) for t in titles)
    body = "".join(
        '<tr class="tgdb_row">%s</tr>' % "".join("<td>%s</td>" % escape("" if v is None else v) for v in row)
        for row in rows
    )
    return '<table class="tgdb_table"><tr>%s</tr>%s</table>' % (head, body)
