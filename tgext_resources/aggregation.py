"""Building the bundles: ``tgext-resources aggregate``.

The resources come from collection.py, in dependency order.  Concatenate them, rewrite
the stylesheets' references (see cssrewrite.py), minify, and write the plain and minified
bundles, their compressed siblings and the mapping file.
"""
import base64
import dataclasses
import hashlib
import os
import re

from .collection import collect
from .converters import INLINE_LIMIT, parse_inline_limit
from .cssrewrite import AssetStore, StylesheetRewriter, decode
from .errors import AggregationError, ConfigError
from .locate import module_directory
from .mapping import ROLES, Bundle, Mapping, Member
from .media import compressed_siblings, write_if_changed

_JS_SOURCE_MAP = re.compile(r"^\s*//[#@]\s*sourceMappingURL=.*$", re.M)


@dataclasses.dataclass
class Result:
    files: list  # absolute paths written, bundles then siblings then assets then the mapping
    mapping: Mapping

    @property
    def hash(self):
        return self.mapping.hash


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


def _concatenate_css(resources, assets, report, inline_limit):
    """The CSS bundle's text, and the files it took in besides ``resources`` (mapping.Source)."""
    rewriter = StylesheetRewriter(assets, report, inline_limit)
    parts = []
    for resource in resources:
        root = module_directory(resource.modname)
        text = rewriter.rewrite(_read_text(resource.path, report), resource.path, root, resource.modname)
        parts += [_comment("%s %s" % resource.key), text]
    header = [_comment("tgext.resources bundle of %d stylesheets" % len(resources))]
    if rewriter.hoisted:
        report("  moved to the top of the CSS bundle (absolute @import): %s" % ", ".join(rewriter.hoisted))
    if rewriter.inlined:
        report("  inlined into the CSS bundle as data: URIs (at most %d bytes each): %d files"
               % (inline_limit, len(rewriter.inlined)))
    sources = sorted(rewriter.sources.values(), key=lambda source: ROLES.index(source.role))  # stable: grouped
    return "\n".join(header + rewriter.hoisted + parts) + "\n", tuple(sources)


def integrity(data):
    """The Subresource Integrity value of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


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


def build(resources, package, output, report, inline_limit=INLINE_LIMIT):
    """Write the bundles of ``resources`` into ``output`` (inside ``package``); return the Result.

    Images and fonts of at most ``inline_limit`` bytes that the stylesheets refer to go into
    the CSS bundle as data: URIs (0: none); the mapping records the limit and each file."""
    directory, relative = output_directory(package, output)
    if not resources:
        raise AggregationError("nothing to bundle: the filters kept out every JS and CSS resource")
    assets = AssetStore()
    files, bundles = [], {}
    for kind in ("js", "css"):
        members = [r for r in resources if r.kind == kind]
        if not members:
            continue
        sources = ()
        if kind == "js":
            plain = _concatenate_js(members, report).encode("utf-8")
            minified = _concatenate_js(members, report, minified=True).encode("utf-8")
        else:
            import rcssmin

            text, sources = _concatenate_css(members, assets, report, inline_limit)
            plain, minified = text.encode("utf-8"), rcssmin.cssmin(text, keep_bang_comments=True).encode("utf-8")
        names = {}
        for label, data, extension in (("plain", plain, "." + kind), ("minified", minified, ".min." + kind)):
            name = names[label] = _content_name(data, extension)
            files.append(_write(directory, name, data))
            for suffix, packed in compressed_siblings(name, data).items():
                files.append(_write(directory, name + suffix, packed))
        report("%s bundle: %d files, %d bytes, %d minified"
               % (kind.upper(), len(members), len(plain), len(minified)))
        bundles[kind] = Bundle(
            kind, names["plain"], integrity(plain), names["minified"], integrity(minified),
            tuple(Member(_sha256(r.path), r.modname, r.filename) for r in members), sources,
        )
    for name, data in sorted(assets.files.items()):
        files.append(_write(directory, name, data))
    mapping = Mapping(package, relative, bundles, inline_limit)
    files.append(_write(directory, mapping.hash + ".mapping", mapping.render().encode("utf-8")))
    return Result(files, mapping)


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _write(directory, name, data):
    path = os.path.join(directory, *name.split("/"))
    write_if_changed(path, data)
    return path


def aggregate(names, package, output, report, inline_limit=INLINE_LIMIT):
    """The whole command: collect the resources of ``names``' widgets and bundle them."""
    try:  # the ini key's rule, so that any value the application accepts can be given here
        inline_limit = parse_inline_limit("--inline-limit", inline_limit)
    except ConfigError as exc:
        raise AggregationError("--inline-limit %s is not valid: %s (the value of the "
                               "application's resources.inline_limit)" % (inline_limit, exc.accepted)) from None
    output_directory(package, output)  # a wrong -o fails before any widget is loaded
    return build(collect(names, report), package, output, report, inline_limit)
