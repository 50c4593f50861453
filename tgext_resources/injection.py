"""The resources of a request, and putting their tags into its HTML page.

Plain WSGI and tw2: nothing here knows TurboGears.  Widgets register resources in the
request's :class:`ResourceList`; what a cache keeps of them is a :class:`StoredResource`;
the :class:`Injector` writes their tags where tw2 would have put them.
"""
import html
import logging
import re
import typing

from markupsafe import Markup
from tw2.core import core
from tw2.core.resources import CSSLink, CSSSource, JSLink, JSSource, find_charset

from .bundles import BundleLink

log = logging.getLogger(__name__)

# Responses that must not carry a body (RFC 9110, 15.3.5 and 15.4.5).
_BODYLESS_STATUS = ("204", "304")


def is_injectable(status, headers, resources):
    """Whether a response is a page to put ``resources`` into: HTML, not encoded, with a body."""
    if not resources or status.startswith(_BODYLESS_STATUS):
        return False
    content_type = (_header(headers, "Content-Type") or "").lower()
    encoding = (_header(headers, "Content-Encoding") or "identity").lower()
    return "html" in content_type and encoding == "identity"


class Injector:
    """Writes the tags of a page's resources into it: versioned, bundled, on the base URL."""

    bundles = None  # the aggregated host framework, when aggregated_hash is set

    def __init__(self, publisher):
        self.publisher = publisher

    def inject(self, response):
        """Put the tags of ``response.resources`` into ``response.body`` (a middleware.Finished)."""
        body = self.page(response.body, response.header("Content-Type"), response.environ.get("SCRIPT_NAME", ""),
                         response.resources)
        if body is not response.body:
            response.replace_body(body)

    def page(self, body, content_type, script_name, resources):
        """``body`` (bytes) with the tags of ``resources`` in place; ``body`` itself if it
        cannot be decoded."""
        charset = charset_of(content_type)
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
            by_location.setdefault(resource.location, []).append(self.tag(resource, script_name))
        return inject(page, by_location).encode(charset, "xmlcharrefreplace")

    def tag(self, resource, script_name):
        """The HTML of one resource, its link versioned and on the base URL."""
        url = self.publisher.url
        if isinstance(resource, BundleLink):
            resource.url = url(resource.path, script_name)
            return resource.generate_output("string")
        stored = resource if isinstance(resource, StoredResource) else snapshot(resource)
        if stored.kind == "js":
            return '<script type="text/javascript" src="%s"%s></script>' % (
                html.escape(url(stored.link, script_name)), stored.attrs)
        if stored.kind == "css":
            return '<link rel="stylesheet" type="text/css" href="%s" media="%s" />' % (
                html.escape(url(stored.link, script_name)), html.escape(stored.media))
        return stored.html


def charset_of(content_type):
    """The charset parameter of a Content-Type value, or None."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"')
    return None


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


# A page's character encoding must be declared within its first 1024 bytes (HTML, "the
# encoding sniffing algorithm"): links for the top of <head> go after that declaration.
_CHARSET = re.compile(r"""<meta\b[^>]*\b(?:charset\s*=|http-equiv\s*=\s*["']?content-type)[^>]*>""", re.I)


def _head_top(page, head):
    """Where the top of ``<head>`` starts for links: after the opening tag, or after the
    charset declaration when the head has one."""
    end = _TAGS["headbottom"].search(page, head.end())
    declaration = _CHARSET.search(page, head.end(), end.start() if end else len(page))
    return declaration.end() if declaration else head.end()


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
        if location == "head":
            insertions.append((_head_top(page, matches[0]), "\n" + "\n".join(tags)))
        elif location == "bodytop":
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
