"""Serving bundles in place of their members: the aggregated host framework.

At start-up the mapping named by ``aggregated_hash`` is read and checked against the
bundle files, every member's file, every file a CSS bundle inlined, copied or imported,
and ``resources.inline_limit``; at page time the resources a page registered are
rewritten: the first member of a bundle becomes the bundle (with Subresource Integrity),
later members disappear, and every other resource keeps its own link and its place.
"""
import hashlib
import importlib.metadata
import os

from markupsafe import Markup
from tw2.core.resources import Resource

from .aggregation import integrity
from .converters import INLINE_LIMIT
from .errors import BundleError, ConfigError, MappingError
from .locate import module_directory, resource_file
from .mapping import parse
from .tags import script_tag, stylesheet_tag


def regenerate(package, directory, inline_limit=None):
    """How to make the bundles again, with the names this application really has (and its
    ``resources.inline_limit`` when it is not the command's default)."""
    try:
        distribution = sorted(importlib.metadata.packages_distributions().get(package, ()))[0]
    except Exception:  # not installed as a distribution: say what to look for
        distribution = "<the distribution of %s>" % package
    try:
        hashes = sorted(name[:-len(".mapping")] for name in os.listdir(directory) if name.endswith(".mapping"))
    except OSError:
        hashes = []
    there = "mapping files there now: %s" % ", ".join(hashes) if hashes else "no mapping file there yet"
    limit = "" if inline_limit in (None, INLINE_LIMIT) else " --inline-limit %d" % inline_limit
    return ("regenerate the bundles with `tgext-resources aggregate -d %s --package %s -o %s%s` and set "
            "aggregated_hash to the hash it prints last (%s)" % (distribution, package, directory, limit, there))


class BundleLink(Resource):
    """The link to a bundle: a script or a stylesheet, with its integrity."""

    path = None  # the canonical path; the middleware sets ``url``, the public URL, when writing it
    url = None
    kind = None
    integrity = None
    template = None

    def prepare(self):
        pass  # built ready to display; nothing to register

    def attributes(self):
        """Its own attributes: Subresource Integrity, which a cross-origin file (a CDN) is
        checked with only when fetched in CORS mode, hence ``crossorigin``."""
        return {"integrity": self.integrity, "crossorigin": "anonymous"}

    def generate_output(self, displays_on):
        # As a widget displayed by itself; pages get it through Injector.tag, with the
        # application's script attributes and the request's nonce.
        if self.kind == "js":
            return Markup(script_tag(self.url, self.attributes(), classic_type=None))
        return Markup(stylesheet_tag(self.url, "all", self.attributes()))


class Bundles:
    """The bundles of one aggregation, as the application serves them."""

    def __init__(self, links, members):
        self._links = links  # kind -> (canonical path, integrity)
        self._members = members  # member URL -> kind

    @classmethod
    def load(cls, aggregated_hash, aggregated_dir, package, publisher, debug, inline_limit=None):
        """Read and check the mapping of ``aggregated_hash``; BundleError naming what is wrong.

        ``inline_limit``: the application's ``resources.inline_limit``, which must be the one
        the bundles were made with (ConfigError otherwise); None: not checked."""
        root = module_directory(package)
        if root is None:
            raise BundleError("aggregated_hash = %s: the application package %r cannot be found" % (aggregated_hash, package))
        directory = os.path.join(root, *aggregated_dir.split("/"))
        how = regenerate(package, directory, inline_limit)
        mapping_file = os.path.join(directory, aggregated_hash + ".mapping")
        try:
            with open(mapping_file, "rb") as f:
                mapping = parse(f.read().decode("utf-8"), mapping_file)
        except FileNotFoundError:
            raise BundleError("aggregated_hash = %s: no mapping file %s; %s" % (aggregated_hash, mapping_file, how)) from None
        except (OSError, UnicodeError) as exc:
            raise BundleError("aggregated_hash = %s: cannot read %s (%s); %s" % (aggregated_hash, mapping_file, exc, how)) from None
        except MappingError as exc:
            raise BundleError("aggregated_hash = %s: malformed mapping file: %s; %s" % (aggregated_hash, exc, how)) from None
        if (mapping.package, mapping.directory) != (package, aggregated_dir):
            raise BundleError(
                "aggregated_hash = %s: %s was made for package %s, directory %s, but the application is %s "
                "with aggregated_dir = %s; %s"
                % (aggregated_hash, mapping_file, mapping.package, mapping.directory, package, aggregated_dir, how)
            )
        if inline_limit is not None and inline_limit != mapping.inline_limit:
            # The command runs at build time, without the application's .ini file: the key
            # says what this deployment wants (a Content-Security-Policy without data: needs
            # 0), and starting with bundles made otherwise would silently ignore it.
            raise ConfigError("resources.inline_limit", inline_limit, (
                "the bundles of aggregated_hash = %s were made with --inline-limit %d; %s, or set "
                "resources.inline_limit = %d" % (aggregated_hash, mapping.inline_limit, how, mapping.inline_limit)))

        links, members = {}, {}
        for kind, bundle in mapping.bundles.items():
            name, expected = (bundle.plain, bundle.plain_integrity) if debug else (bundle.minified, bundle.minified_integrity)
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as f:
                    actual = integrity(f.read())
            except OSError:
                raise BundleError("aggregated_hash = %s: bundle file %s is missing; %s" % (aggregated_hash, path, how)) from None
            if actual != expected:
                raise BundleError("aggregated_hash = %s: bundle file %s differs from its mapping; %s" % (aggregated_hash, path, how))
            links[kind] = (publisher.resource_path(package, "%s/%s" % (aggregated_dir, name)), actual)
            for member in bundle.members:
                _check_file(member, aggregated_hash, how)
                members[publisher.resource_path(member.modname, member.filename)] = kind
            for source in bundle.sources:
                _check_file(source, aggregated_hash, how)
        return cls(links, members)

    @property
    def member_count(self):
        return len(self._members)

    def kind_of(self, link):
        """The kind of bundle ("js" or "css") that link ``link`` is a member of, or None."""
        return self._members.get(link)

    def replace(self, resources):
        """``resources`` with each bundle in place of its first member and without the others."""
        placed, result = set(), []
        for resource in resources:
            kind = self.kind_of(getattr(resource, "link", None))
            if kind is None:
                result.append(resource)
            elif kind not in placed:
                placed.add(kind)
                path, digest = self._links[kind]
                result.append(BundleLink.req(path=path, kind=kind, integrity=digest, location=resource.location))
        return result


# What the bundle did with a file that is gone or changed, for the start-up message.
_TOOK = {
    None: "contains",
    "inlined": "inlines",
    "copied": "points at a copy of",
    "imported": "holds the @import-ed rules of",
}


def _check_file(record, aggregated_hash, how):
    """Check that the file of a mapping's ``member`` (or ``inlined``, ``copied``, ``imported``)
    line still holds what was bundled."""
    path = resource_file(record.modname, record.filename)
    role = getattr(record, "role", None)
    took = _TOOK[role]
    try:
        with open(path or "", "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    except OSError:
        raise BundleError(
            "aggregated_hash = %s: the bundle %s %s %s, which the application no longer has; %s"
            % (aggregated_hash, took, record.modname, record.filename, how)
        ) from None
    if digest != record.sha256:
        raise BundleError(
            "aggregated_hash = %s: %s %s changed since the bundle was made (%s%s); %s"
            % (aggregated_hash, record.modname, record.filename, path, "; the bundle %s it" % took if role else "", how)
        )
