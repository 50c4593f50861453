"""The tags put into pages, and the attributes each one gets.

Plain text, no tw2: :mod:`injection` decides what a page links and where, this module
writes the tags.  Which attributes a script gets (its widget's own ``JSLink(attrs=...)``,
``resources.script_attributes``, a bundle's integrity, the request's CSP nonce) is decided
once, by ``Injector.attributes_for``, so that the tags and anything else naming the same
files (preload headers) agree: a preload fetched in another CORS mode than its tag is not
reused.

The nonce comes from the request (:data:`NONCE_KEY`), is written into the tags of that
response only, and is never part of what a cache keeps: pages are stored before
injection, and a page injected with a nonce is not remembered (pagememory.py).
"""
import dataclasses
import html
import os
import re

from .errors import ConfigError, NonceError, UnsafePathError
from .locate import resource_file, split_filename

#: Where the application puts the request's CSP nonce (a WSGI middleware around it, that
#: also sends the Content-Security-Policy header naming it).
NONCE_KEY = "tgext_resources.csp_nonce"

# CSP's base64-value (CSP 3, "nonce-source"): what a header can name.
_NONCE_RE = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")

# What resources.script_attributes accepts: each attribute's values, and its value when
# written bare.  Nothing else: an attribute the extension does not know the effect of on
# order (nomodule, fetchpriority...) is the widget's own business (JSLink(attrs=...)).
_ACCEPTED = {"defer": (True,), "async": (True,), "type": ("module",), "crossorigin": ("anonymous", "use-credentials")}
_BARE = {"defer": True, "async": True, "crossorigin": "anonymous"}
# What changes when a script runs: never on every script at once (README, "Script attributes and a CSP nonce").
TIMING = ("defer", "async", "type")
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_ACCEPTED_TEXT = "defer, async, type=module, crossorigin (=anonymous or =use-credentials)"
_TARGETS_TEXT = ("start the line with the script: module:file as in JSLink(modname=..., filename=...) "
                 "(e.g. tw2.jquery:static/jquery/1.7.1/jquery.js), bundle (the JavaScript bundle) or * (every script)")


@dataclasses.dataclass(frozen=True)
class ScriptRules:
    """``resources.script_attributes``, parsed: attributes as ``(name, value)`` pairs, value
    True for a boolean attribute."""

    every: tuple = ()  # of every script linked (no timing attribute: see parse)
    bundle: tuple = ()  # of the JavaScript bundle
    resources: tuple = ()  # (modname, filename, attributes) of scripts named one by one
    key: str = "resources.script_attributes"

    def by_link(self, resource_path):
        """{canonical link: attributes} of the scripts named one by one; ConfigError (at
        start-up) for a script whose file is not there."""
        links = {}
        for modname, filename, attributes in self.resources:
            path = resource_file(modname, filename)
            if path is None or not os.path.isfile(path):
                where = "module %s has no such file" % modname if path else "there is no module %s" % modname
                raise ConfigError(self.key, "%s:%s" % (modname, filename), "%s; name the file relative to its "
                                  "module's directory, as in JSLink(modname=..., filename=...)" % where)
            links[resource_path(modname, filename)] = dict(attributes)
        return links


def parse_script_attributes(key, value):
    """One script a line (a list from app_cfg.py), then its attributes:
    ``tw2.jquery:static/jquery/1.7.1/jquery.js crossorigin``, ``bundle defer``, ``* crossorigin``."""
    lines = value if isinstance(value, (list, tuple)) else str(value).splitlines()
    every, bundle, resources, seen = (), (), [], set()
    for line in (str(line).strip() for line in lines):
        if not line or line.startswith("#"):
            continue
        target, *words = line.split()
        modname, colon, filename = target.partition(":")
        if target not in ("*", "bundle"):
            try:
                split_filename(filename)
            except UnsafePathError:
                colon = ""
            if not colon or not _MODULE_NAME.fullmatch(modname) or not filename.endswith((".js", ".mjs")):
                raise ConfigError(key, line, _TARGETS_TEXT)
        attributes = _attributes(key, line, words)
        if target in seen:
            raise ConfigError(key, line, "%s has another line already: give each script one line" % target)
        seen.add(target)
        if target == "*":
            if any(name in TIMING for name, _ in attributes):
                raise ConfigError(key, line, "defer, async and type=module change when scripts run: every "
                                  "script deferred runs after tw2's inline initialisation that calls it; "
                                  "name the scripts one by one")
            every = attributes
        elif target == "bundle":
            if dict(attributes).get("type"):
                raise ConfigError(key, line, "the bundle joins classic scripts, which type=module would break")
            bundle = attributes
        else:
            resources.append((modname, filename, attributes))
    return ScriptRules(every, bundle, tuple(resources), key)


def _attributes(key, line, words):
    attributes = {}
    for word in words:
        name, equals, raw = word.partition("=")
        name = name.lower()
        value = raw.strip("\"'") if equals else _BARE.get(name)
        if value not in _ACCEPTED.get(name, ()) or name in attributes:
            raise ConfigError(key, line, "give the script any of %s, each once" % _ACCEPTED_TEXT)
        attributes[name] = value
    if not attributes:
        raise ConfigError(key, line, "%s, then any of %s" % (_TARGETS_TEXT, _ACCEPTED_TEXT))
    if "defer" in attributes and "async" in attributes:
        raise ConfigError(key, line, "defer and async contradict each other (browsers follow async): choose one")
    if "defer" in attributes and "type" in attributes:
        raise ConfigError(key, line, "module scripts are deferred already: drop defer")
    return tuple(attributes.items())


def nonce_of(environ):
    """The request's CSP nonce, or None; NonceError for one no header could name."""
    nonce = environ.get(NONCE_KEY)
    if nonce is None or nonce == "":
        return None
    if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
        raise NonceError("environ[%r] = %r is no CSP nonce: use base64 text, e.g. secrets.token_urlsafe(16), and "
                         "the same in the Content-Security-Policy header ('nonce-...')" % (NONCE_KEY, nonce))
    return nonce


# -- writing tags

def attributes_html(attributes):
    """`` name="value"`` per attribute, `` name`` for a boolean one; False and None left out."""
    return "".join(" %s" % name if value is True else ' %s="%s"' % (name, html.escape(str(value)))
                   for name, value in attributes.items() if value is not None and value is not False)


_ATTRIBUTE_RE = re.compile(r'\s([^\s="]+)(?:="([^"]*)")?')


def parsed_attributes(text):
    """The attributes written by :func:`attributes_html` (kept so in StoredResource.attrs), as a dict."""
    return {m.group(1): True if m.group(2) is None else html.unescape(m.group(2))
            for m in _ATTRIBUTE_RE.finditer(text or "")}


def script_tag(url, attributes, classic_type="text/javascript"):
    """A ``<script src>``; a ``type`` among ``attributes`` replaces ``classic_type``."""
    attributes = dict(attributes)
    kind = attributes.pop("type", classic_type)
    return '<script%s src="%s"%s></script>' % (
        ' type="%s"' % html.escape(kind) if kind else "", html.escape(url), attributes_html(attributes))


def stylesheet_tag(url, media, attributes):
    return '<link rel="stylesheet" type="text/css" href="%s" media="%s"%s />' % (
        html.escape(url), html.escape(media or "all"), attributes_html(attributes))


#: The opening of inline code as injection.snapshot writes it, by StoredResource kind.
INLINE_OPENINGS = {"jssource": '<script type="text/javascript"', "csssource": '<style type="text/css"'}


def inline_tag(kind, text, nonce=None):
    """Inline code kept as HTML, with the nonce when it is code of tw2's JSSource or
    CSSSource (whose opening is known); other resources' HTML as rendered."""
    opening = INLINE_OPENINGS.get(kind)
    if nonce is None or opening is None or not text.startswith(opening):
        return text
    return opening + ' nonce="%s"' % html.escape(nonce) + text[len(opening):]


# -- what development warns about

_SCRIPT_OPEN = re.compile(r"<script\b([^>]*)>", re.I)
_SRC = re.compile(r"\bsrc\s*=", re.I)
_TYPE = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.I)


def inline_scripts(page):
    """How many classic inline scripts ``page`` has (JSON, templates and modules left out)."""
    count = 0
    for match in _SCRIPT_OPEN.finditer(page):
        attributes = match.group(1)
        kind = _TYPE.search(attributes)
        if not _SRC.search(attributes) and (kind is None or "javascript" in kind.group(1).lower()):
            count += 1
    return count


def order_hazards(scripts, inline):
    """Why scripts given defer, async or type=module may run after code that needs them:
    ``scripts`` are ``(name, attributes)`` in page order, ``inline`` how many inline
    scripts the page has.  Yields ``(name, attribute, reason)``."""
    for index, (name, attributes) in enumerate(scripts):
        timing = next((a for a in ("async", "defer") if attributes.get(a)), None)
        timing = timing or ("type=module" if attributes.get("type") == "module" else None)
        if timing is None:
            continue
        if inline:
            yield name, timing, "the page has %d inline script(s), which run before it" % inline
        later = [n for n, a in scripts[index + 1:] if timing == "async" or not any(a.get(t) for t in TIMING)]
        if later:
            shown = ", ".join(later[:3]) + (" and %d more" % (len(later) - 3) if len(later) > 3 else "")
            yield name, timing, "%s come(s) after it and may run before it" % shown


# -- where tags go

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
