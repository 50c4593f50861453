"""The resources of a request, and putting their tags into its HTML page.

Plain WSGI and tw2: nothing here knows TurboGears.  Widgets register resources in the
request's :class:`ResourceList`; what a cache keeps of them is a :class:`StoredResource`;
the :class:`Injector` writes their tags where tw2 would have put them.
"""
import logging
import typing

from markupsafe import Markup
from tw2.core import core
from tw2.core.resources import CSSLink, CSSSource, JSLink, JSSource, find_charset

from . import tags
from .bundles import BundleLink
from .tags import inject

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
    """Writes the tags of a page's resources into it: versioned, bundled, on the base URL,
    with the attributes of ``resources.script_attributes`` and the request's CSP nonce."""

    bundles = None  # the aggregated host framework, when aggregated_hash is set
    rules = tags.ScriptRules()  # resources.script_attributes

    def __init__(self, publisher):
        self.publisher = publisher
        self._by_link = {}
        self._warned = set()

    def configure(self, rules):
        """Take ``resources.script_attributes`` (tags.ScriptRules); ConfigError now, at
        start-up, for a script that is not there."""
        self._by_link = rules.by_link(self.publisher.resource_path)
        self.rules = rules

    def inject(self, response):
        """Put the tags of ``response.resources`` into ``response.body`` (a middleware.Finished),
        bundles in place of their members: what it links, ``response.linked``."""
        linked = response.linked = self.linked(response.resources)
        body = self.page(response.body, response.header("Content-Type"), response.environ.get("SCRIPT_NAME", ""),
                         linked, tags.nonce_of(response.environ))
        if body is not response.body:
            response.replace_body(body)

    def linked(self, resources):
        """What a page needing ``resources`` links: bundles in place of their members."""
        return resources if self.bundles is None else self.bundles.replace(resources)

    def page(self, body, content_type, script_name, resources, nonce=None):
        """``body`` (bytes) with the tags of ``resources`` (as :meth:`linked` gives them) in
        place; ``body`` itself if it cannot be decoded."""
        charset = charset_of(content_type)
        try:
            charset = charset or find_charset(body.decode("ascii", "replace")) or "utf-8"
            page = body.decode(charset)
        except (LookupError, UnicodeError) as exc:
            log.warning("Widget resources not injected: the page is not valid %s (%s)", charset, exc)
            return body
        by_location = {}
        for resource in resources:
            by_location.setdefault(resource.location, []).append(self.tag(resource, script_name, nonce))
        if self.publisher.debug and (self._by_link or self.rules.bundle):
            self._warn_of_order(page, resources)
        return inject(page, by_location).encode(charset, "xmlcharrefreplace")

    def tag(self, resource, script_name, nonce=None):
        """The HTML of one resource, its link versioned and on the base URL."""
        url = self.publisher.url
        if isinstance(resource, BundleLink):
            resource.url = url(resource.path, script_name)
            attributes = self.attributes_for(resource, nonce)
            if resource.kind == "js":
                return tags.script_tag(resource.url, attributes, classic_type=None)
            return tags.stylesheet_tag(resource.url, "all", attributes)
        stored = snapshot(resource)
        attributes = self.attributes_for(stored, nonce)
        if stored.kind == "js":
            return tags.script_tag(url(stored.link, script_name), attributes)
        if stored.kind == "css":
            return tags.stylesheet_tag(url(stored.link, script_name), stored.media, attributes)
        return tags.inline_tag(stored.kind, stored.html, nonce)

    def attributes_for(self, resource, nonce=None):
        """The attributes of the tag written for ``resource`` (a StoredResource, a tw2 link
        or a BundleLink) besides its URL, ``rel``, ``media`` and a classic script's
        ``type``: ``{name: value}``, True for a boolean attribute, in the order written.
        The nonce only when given: never give it for anything kept beyond the request."""
        if isinstance(resource, BundleLink):
            attributes = resource.attributes()
            if resource.kind == "js":
                attributes.update(self.rules.every)
                attributes.update(self.rules.bundle)
        else:
            stored = snapshot(resource)
            attributes = {}
            if stored.kind == "js":
                attributes = tags.parsed_attributes(stored.attrs) if stored.attrs else {}  # its JSLink(attrs=...)
                attributes.update(self.rules.every)
                attributes.update(self._by_link.get(stored.link, ()))
        if nonce is not None:
            attributes["nonce"] = nonce
        return attributes

    def _warn_of_order(self, page, resources):
        """In development: say when a script given defer, async or type=module may run after
        code that needs it (README, "Script attributes and a CSP nonce")."""
        scripts, inline = [], tags.inline_scripts(page)
        for resource in resources:
            bundle = isinstance(resource, BundleLink)
            kind = resource.kind if bundle else snapshot(resource).kind
            if kind == "js":
                scripts.append(("the bundle" if bundle else resource.link, self.attributes_for(resource)))
            inline += kind == "jssource"
        for name, attribute, reason in tags.order_hazards(scripts, inline):
            if (name, reason) not in self._warned and len(self._warned) < 1000:  # once each, not per page
                self._warned.add((name, reason))
                log.warning("%s has %s (%s), but %s: if such code uses what it defines, it fails",
                            name, attribute, self.rules.key, reason)


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
    cached page follows a new deployment) and their widget's own attributes; anything else
    keeps its HTML, without a nonce (written in by tags.inline_tag, for each request).
    """

    kind: str  # "js", "css", "jssource", "csssource" (tw2's inline code) or "html"
    location: str
    link: str = None
    media: str = None
    attrs: str = ""
    html: str = ""

    @property
    def key(self):
        return (self.kind, self.link) if self.link else ("html", self.html)


def snapshot(resource):
    """The StoredResource of a tw2 resource (one of its four kinds written here, as their own
    templates would write them without a template engine's cost; any other kind rendered)."""
    if isinstance(resource, StoredResource):
        return resource
    template = getattr(resource, "template", None)
    location = resource.location
    if isinstance(resource, JSLink) and template == JSLink.template:
        # attrs={"defer": True} writes a bare "defer"; False leaves it out, as tw2's templates do.
        attrs = tags.attributes_html(dict(sorted((resource.attrs or {}).items())))
        return StoredResource("js", location, link=resource.link, attrs=attrs)
    if isinstance(resource, CSSLink) and template == CSSLink.template:
        return StoredResource("css", location, link=resource.link, media=resource.media or "all")
    if isinstance(resource, JSSource) and template == JSSource.template:
        return StoredResource("jssource", location, html='<script type="text/javascript">%s</script>' % Markup(resource.src))
    if isinstance(resource, CSSSource) and template == CSSSource.template:
        return StoredResource("csssource", location, html='<style type="text/css">%s</style>' % Markup(resource.src))
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


def _header(headers, name):
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None
