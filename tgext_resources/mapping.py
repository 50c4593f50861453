"""The mapping file of an aggregation: which bundles exist and which resources each contains.

It is a text file named ``<aggregated_hash>.mapping`` next to the bundles, written by
``tgext-resources aggregate`` and read at start-up.  Example::

    # tgext.resources aggregation mapping
    format = 2
    package = sampleapp
    directory = public/aggregated
    inline_limit = 4096

    [js]
    plain = 5d41402abc4b2a76.js sha384-...
    minified = 7d793037a0760186.min.js sha384-...
    member = <sha256 of the file> tw2.jquery static/jquery/1.7.1/jquery.js
    member = <sha256 of the file> sampleapp.widgets static/rating.js

    [css]
    ...
    member = <sha256 of the file> tw2.jqplugins.ui static/.../jquery-ui.css
    inlined = <sha256 of the file> tw2.jqplugins.ui static/.../images/ui-bg_flat_0_aaaaaa_40x100.png
    copied = <sha256 of the file> tw2.jqplugins.ui static/.../images/ui-icons_222222_256x240.png

``inline_limit`` is the ``--inline-limit`` the bundles were made with.  ``plain`` and
``minified`` name a bundle file of that directory and its Subresource Integrity value; each
``member`` line gives the sha256 of a resource's file, its module and its file name, in
bundle order.  ``inlined``, ``copied`` and ``imported`` lines name, the same way, every
other file a CSS bundle was made from: images and fonts in it as ``data:`` URIs, those it
points at a copy of, stylesheets whose rules an ``@import`` brought in.  The application
refuses to start when any of these files is gone or differs from what was bundled.
"""
import dataclasses
import hashlib

from .errors import MappingError

# Format 2 added inline_limit and the lines of the files a CSS bundle took in besides its
# members: a format 1 mapping cannot say whether a small image changed since.
FORMAT = 2
KINDS = ("js", "css")
#: How a CSS bundle took in a file that is no member of it (see cssrewrite.py).
ROLES = ("inlined", "copied", "imported")


@dataclasses.dataclass(frozen=True)
class Member:
    sha256: str
    modname: str
    filename: str


@dataclasses.dataclass(frozen=True)
class Source:
    role: str  # one of ROLES
    sha256: str
    modname: str
    filename: str


@dataclasses.dataclass(frozen=True)
class Bundle:
    kind: str
    plain: str
    plain_integrity: str
    minified: str
    minified_integrity: str
    members: tuple
    sources: tuple = ()  # Source: the other files it was made from


@dataclasses.dataclass(frozen=True)
class Mapping:
    package: str
    directory: str
    bundles: dict  # kind -> Bundle
    inline_limit: int  # bytes; 0: nothing was inlined

    def render(self):
        lines = [
            "# tgext.resources aggregation mapping: which resources each bundle contains.",
            "# Written by `tgext-resources aggregate`; the application checks it at start-up.",
            "format = %d" % FORMAT,
            "package = %s" % self.package,
            "directory = %s" % self.directory,
            "inline_limit = %d" % self.inline_limit,
        ]
        for kind in KINDS:
            bundle = self.bundles.get(kind)
            if bundle is None:
                continue
            lines += ["", "[%s]" % kind,
                      "plain = %s %s" % (bundle.plain, bundle.plain_integrity),
                      "minified = %s %s" % (bundle.minified, bundle.minified_integrity)]
            lines += ["member = %s %s %s" % (m.sha256, m.modname, m.filename) for m in bundle.members]
            lines += ["%s = %s %s %s" % (s.role, s.sha256, s.modname, s.filename) for s in bundle.sources]
        return "\n".join(lines) + "\n"

    @property
    def hash(self):
        """The ``aggregated_hash``: names the mapping, and changes with any bundle or member."""
        return hashlib.sha256(self.render().encode("utf-8")).hexdigest()[:16]


def parse(text, source):
    """Read a mapping file's ``text``; MappingError naming ``source`` and the line otherwise."""
    header, bundles, current = {}, {}, None

    def fail(number, why):
        raise MappingError("%s, line %d: %s" % (source, number, why))

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            kind = line[1:-1]
            if kind not in KINDS or kind in bundles:
                fail(number, "unknown or repeated section %s" % line)
            current = bundles[kind] = {"members": [], "sources": []}
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            fail(number, "expected 'key = value', found %r" % raw)
        if current is None:
            if key not in ("format", "package", "directory", "inline_limit"):
                fail(number, "unknown key %r before the first section" % key)
            header[key] = value
        elif key in ("plain", "minified"):
            name, _, integrity = value.partition(" ")
            if not integrity.startswith("sha384-") or "/" in name:
                fail(number, "expected '<file> sha384-<digest>', found %r" % value)
            current[key] = (name, integrity.strip())
        elif key == "member":
            parts = value.split(" ", 2)
            if len(parts) != 3 or len(parts[0]) != 64:
                fail(number, "expected 'member = <sha256> <module> <file name>', found %r" % value)
            current["members"].append(Member(*parts))
        elif key in ROLES:
            parts = value.split(" ", 2)
            if len(parts) != 3 or len(parts[0]) != 64:
                fail(number, "expected '%s = <sha256> <module> <file name>', found %r" % (key, value))
            current["sources"].append(Source(key, *parts))
        else:
            fail(number, "unknown key %r" % key)
    if header.get("format") != str(FORMAT):
        raise MappingError("%s: not a format %d mapping (format = %s), made by another version of "
                           "tgext.resources" % (source, FORMAT, header.get("format")))
    for key in ("package", "directory", "inline_limit"):
        if key not in header:
            raise MappingError("%s: no %r line" % (source, key))
    if not (header["inline_limit"].isascii() and header["inline_limit"].isdigit()):
        raise MappingError("%s: inline_limit = %s is no number of bytes" % (source, header["inline_limit"]))
    result = {}
    for kind, data in bundles.items():
        if "plain" not in data or "minified" not in data or not data["members"]:
            raise MappingError("%s: section [%s] needs plain, minified and member lines" % (source, kind))
        result[kind] = Bundle(kind, *data["plain"], *data["minified"], tuple(data["members"]), tuple(data["sources"]))
    if not result:
        raise MappingError("%s: no [js] or [css] section" % source)
    return Mapping(header["package"], header["directory"], result, int(header["inline_limit"]))
