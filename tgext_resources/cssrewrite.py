"""Moving stylesheets into a bundle without breaking what they refer to.

A stylesheet's relative ``url(...)`` is resolved against the stylesheet's own location;
once its rules sit in a bundle elsewhere, every such reference must be rewritten.  An
image or font of at most ``inline_limit`` bytes becomes a ``data:`` URI in the bundle (one
request fewer each, as Vite does; a file referenced twice is inlined twice); any other
referenced file is copied next to the bundle under a name made of its content hash, and
the reference points at the copy.  Either way the bundle is self-contained, cacheable
forever, and independent of where the original packages are served from.  A reference
with a fragment (``sprite.svg#icon``, ``font.eot?#iefix``) is never inlined: browsers do
not agree on what a fragment of a ``data:`` URI means.

``@import`` of a relative stylesheet is replaced by that stylesheet's rules (inside
``@media`` when the import names media), which keeps the cascade order and saves a
request; an ``@import`` of an absolute URL cannot be inlined and, since CSS ignores
``@import`` after other rules, is moved to the top of the bundle.  ``data:`` URIs,
absolute and root-relative URLs and fragment-only references stay as they are, and so do
``@charset`` rules' effects: the bundle is UTF-8 and carries none.
"""
import base64
import hashlib
import os
import re
import urllib.parse

from .mapping import Source
from .media import data_uri_type

_STRING = r'"(?:\\.|[^"\\\n])*"|' + r"'(?:\\.|[^'\\\n])*'"
_TOKENS = re.compile(
    r"""
      (?P<comment>/\*.*?\*/)
    | (?P<string>%(s)s)
    | (?P<charset>@charset\s+(?:%(s)s)\s*;)
    | (?<![\w-])(?P<import>@import\s+(?P<itarget>url\(\s*(?:%(s)s|[^)'"]*?)\s*\)|%(s)s)(?P<media>[^;{}]*);)
    | (?<![\w-])(?P<url>url\(\s*(?P<utarget>%(s)s|[^)'"]*?)\s*\))
    """ % {"s": _STRING},
    re.S | re.I | re.X,
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_SOURCE_MAP = re.compile(r"/\*[#@]\s*sourceMappingURL=[^*]*\*/")


def _unquote(target):
    target = target.strip()
    if target[:4].lower() == "url(":
        target = target[4:-1].strip()
    if target[:1] in "'\"" and target[-1:] == target[:1]:
        target = re.sub(r"\\(.)", r"\1", target[1:-1])
    return target


def is_relative(target):
    """Whether ``target`` points at a file relative to the stylesheet (the only ones rewritten)."""
    return bool(target) and not (
        target.startswith(("/", "#")) or _SCHEME.match(target)  # root-relative, //host, fragment, data:, http:
    )


def relative_references(css):
    """The file paths ``css`` refers to relative to itself (``url()`` and ``@import``),
    without query string or fragment, in order, each once."""
    found = []
    for match in _TOKENS.finditer(css):
        raw = match.group("utarget") if match.group("url") else match.group("itarget") if match.group("import") else None
        if raw is None:
            continue
        target = _unquote(raw)
        if is_relative(target):
            path = urllib.parse.unquote(re.split(r"[?#]", target, maxsplit=1)[0])
            if path and path not in found:
                found.append(path)
    return found


class AssetStore:
    """Copies of the files the bundled stylesheets refer to, named by their content."""

    def __init__(self, subdirectory="assets"):
        self.subdirectory = subdirectory
        self.files = {}  # path relative to the bundle's directory -> bytes

    def add(self, path, data):
        """Keep a copy of file ``path`` (bytes ``data``); return its name relative to the bundle."""
        stem, extension = os.path.splitext(os.path.basename(path))
        relative = "%s/%s-%s%s" % (self.subdirectory, stem, hashlib.sha256(data).hexdigest()[:12], extension)
        self.files[relative] = data
        return relative


class StylesheetRewriter:
    """Rewrites the stylesheets of one bundle; collects what must go to the bundle's top."""

    def __init__(self, assets, report, inline_limit=0):
        self.assets = assets
        self.report = report
        self.inline_limit = inline_limit  # 0: nothing inlined
        self.hoisted = []  # @import rules of absolute URLs
        # The files the bundle took in besides its members, each once, in the order met: the
        # mapping names them so that start-up notices when one changed (see bundles.py).
        self.sources = {}  # (role, modname, filename) -> Source

    def rewrite(self, text, path, root, modname):
        """Return the rules of stylesheet ``path`` (text ``text``), fit for a bundle.

        ``root``: the directory of the stylesheet's module ``modname``; references leaving
        it are not followed (a bundle never copies files from elsewhere on the disk).
        """
        return self._rewrite(text, path, (root, modname), (path,))

    @property
    def inlined(self):
        """The files inlined as data: URIs."""
        return [s for s in self.sources.values() if s.role == "inlined"]

    def _took(self, role, path, data, module):
        """Record that the bundle took in file ``path`` (bytes ``data``) of ``module`` as ``role``."""
        root, modname = module
        filename = os.path.relpath(path, root).replace(os.sep, "/")
        self.sources.setdefault((role, modname, filename), Source(role, hashlib.sha256(data).hexdigest(), modname, filename))

    def _rewrite(self, text, path, module, stack):
        text = _SOURCE_MAP.sub("", text)

        def replace(match):
            if match.group("comment") or match.group("string"):
                return match.group(0)
            if match.group("charset"):
                return ""
            if match.group("import"):
                return self._import(match, path, module, stack)
            return self._url(match.group("utarget"), match.group(0), path, module)

        return _TOKENS.sub(replace, text)

    def _resolve(self, target, path, root):
        """The file a relative reference means, or None (reported) when it cannot be used."""
        file_part = urllib.parse.unquote(re.split(r"[?#]", target, maxsplit=1)[0])
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
        if os.path.commonpath([resolved, root]) != root:
            self.report("%s: %s leaves its package (%s); left as it is" % (path, target, resolved))
            return None
        if not os.path.isfile(resolved):
            self.report("%s: %s refers to %s, which does not exist; left as it is" % (path, target, resolved))
            return None
        return resolved

    def _url(self, raw_target, original, path, module):
        target = _unquote(raw_target)
        if not is_relative(target):
            return original
        resolved = self._resolve(target, path, module[0])
        if resolved is None:
            return original
        suffix = target[len(re.split(r"[?#]", target, maxsplit=1)[0]):]  # keep ?#iefix and the like
        with open(resolved, "rb") as f:
            data = f.read()
        media_type = data_uri_type(resolved)
        if media_type and 0 < self.inline_limit and len(data) <= self.inline_limit and "#" not in suffix:
            self._took("inlined", resolved, data, module)
            # Base64 even for SVG: no character of it needs escaping in a CSS string.  A
            # query string (a cache buster, ?v=2) means nothing to bytes carried inline.
            return 'url("data:%s;base64,%s")' % (media_type, base64.b64encode(data).decode("ascii"))
        self._took("copied", resolved, data, module)
        return 'url("%s%s")' % (self.assets.add(resolved, data), suffix)

    def _import(self, match, path, module, stack):
        target = _unquote(match.group("itarget"))
        media = match.group("media").strip()
        if not is_relative(target):
            self.hoisted.append(match.group(0))
            return ""
        resolved = self._resolve(target, path, module[0])
        if resolved is None:
            return match.group(0)
        if resolved in stack:
            self.report("%s: @import of %s makes a cycle; left out" % (path, target))
            return ""
        with open(resolved, "rb") as f:
            data = f.read()
        self._took("imported", resolved, data, module)
        rules = self._rewrite(decode(data, resolved, self.report), resolved, module, stack + (resolved,))
        if media and media.lower() != "all":
            return "@media %s {\n%s\n}" % (media, rules)
        return rules


def decode(data, path, report):
    """Text of a resource file: UTF-8 (with or without BOM), else Windows-1252 as browsers do."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report("%s is not UTF-8; read as Windows-1252" % path)
        return data.decode("cp1252", errors="replace")
