"""``tgext-resources export``: every resource the application serves, laid out as its URLs.

The front server then serves them from disk and Python never sees those requests.  For
each registered file (bundles included) the export writes::

    DIR/tw2/resources/<module>/<file>             the unversioned URL
    DIR/tw2/resources/<module>/<token>/<file>     the versioned URL (a hard link: no extra space)
    ... .gz and .br next to each, where smaller   for gzip_static and the like

Every file is written under a temporary name and renamed into place, so a front server
reading DIR during an export sees the old file or the new one, whole; files of older
versions are removed last.  The application is loaded from its .ini file, so the export
serves exactly what the application would: a symbolic link leading out of its registered
directory (``static/passwd.txt -> /etc/passwd``) is refused by the publisher, so it is
skipped here, with a warning, rather than copied where the front server serves it.
"""
import dataclasses
import logging
import os

from .collection import prepare, request_context
from .errors import ExportError, ResourcesError
from .locate import resource_file
from .media import (
    SIBLINGS,
    compressed_siblings,
    is_compressible,
    never_served,
    served_files,
    write_atomic,
    write_if_changed,
)
from .registry import REGISTRY
from .versioning import VERSIONS

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Summary:
    root: str
    files: int = 0
    bytes: int = 0
    siblings: int = 0
    versioned: int = 0
    unchanged: int = 0
    removed: int = 0
    modules: set = dataclasses.field(default_factory=set)
    skipped: list = dataclasses.field(default_factory=list)  # "module/file" of links leading out

    def lines(self):
        lines = [
            "Exported %d files (%.1f MB) of %d modules into %s" % (self.files, self.bytes / 1e6, len(self.modules), self.root),
            "  %d versioned links, %d compressed siblings, %d unchanged, %d stale files removed"
            % (self.versioned, self.siblings, self.unchanged, self.removed),
        ]
        if self.skipped:
            lines.append("  %d skipped: symbolic links leading out of their directory (%s)"
                         % (len(self.skipped), ", ".join(self.skipped)))
        return lines


def load_application(ini):
    """Build the application of ``ini`` as a server would; return its TurboGears configuration."""
    from paste.deploy import loadapp
    from tg import config

    path = os.path.abspath(ini)
    if not os.path.isfile(path):
        raise ExportError("-c %s: no such configuration file" % ini)
    try:
        loadapp("config:" + path)
    except ResourcesError:
        raise
    except Exception as exc:
        raise ExportError("the application of %s cannot be built: %s: %s" % (ini, type(exc).__name__, exc)) from None
    from .configurator import SETTINGS_KEY

    if SETTINGS_KEY not in config:
        raise ExportError("the application of %s does not use ResourcesConfigMixin" % ini)
    return config


def register_every_widget_resource():
    """Prepare every widget defined (as a page would) so that resources registered only when
    displayed (tw2.jquery's directories) are registered too."""
    from tw2.core.widgets import Widget

    from .declared import subclasses

    with request_context() as local:
        for widget in list(subclasses(Widget)):
            prepare(widget, lambda line: None)
        REGISTRY.adopt_tw2(local["middleware"].resources)


def _files(registry, skipped):
    """``(modname, filename, path, real, immutable)`` for every file the application serves:
    its path in the module and its real path (links followed).  Links that lead out of
    their registered directory are left out, with a warning, and listed in ``skipped``."""
    for modname, name, whole_dir, immutable in registry.entries():
        path = resource_file(modname, name)
        if path is None or never_served(name):
            continue
        names = ["%s/%s" % (name, relative) for relative in served_files(path)] if whole_dir else [name]
        for filename in names:
            source = resource_file(modname, filename)
            real = registry.real_path(modname, filename)
            if real is None:
                if os.path.lexists(source):
                    log.warning("Not exported: %s/%s is a symbolic link leading out of its registered directory",
                                modname, filename)
                    skipped.append("%s/%s" % (modname, filename))
            elif os.path.isfile(real):
                yield modname, filename, source, real, immutable


def export(conf, output):
    """Write every resource of the application configured by ``conf`` under ``output``."""
    from .configurator import SETTINGS_KEY

    settings = conf[SETTINGS_KEY]
    register_every_widget_resource()
    prefix = settings.resources.prefix
    root = os.path.join(os.path.abspath(output), *prefix.strip("/").split("/"))
    summary = Summary(root)
    wanted = {}  # absolute path -> bytes, or ("link", the path of the file to hard-link to)
    times = {}  # absolute path -> the source's modification time
    for modname, filename, source, path, immutable in _files(REGISTRY, summary.skipped):
        with open(path, "rb") as f:
            data = f.read()
        target = os.path.join(root, modname, *filename.split("/"))
        if target in wanted:
            continue
        summary.modules.add(modname)
        wanted[target] = data
        # The source's date on the copy (and its siblings): the front server then sends the
        # same Last-Modified, and nginx the same ETag ("mtime-size"), as the publisher.
        times[target] = os.stat(path).st_mtime
        siblings = {}
        if is_compressible(filename) and not os.path.isfile(source + ".gz"):
            siblings = _siblings(target, data)  # made here, as the package ships none
        for suffix, packed in siblings.items():
            wanted[target + suffix] = packed
            times[target + suffix] = times[target]
        token = None if immutable else VERSIONS.token(modname)
        if token:
            versioned = os.path.join(root, modname, token, *filename.split("/"))
            wanted[versioned] = ("link", target)
            for suffix in siblings:
                wanted[versioned + suffix] = ("link", target + suffix)
        summary.siblings += len(siblings)
    for path, content in wanted.items():  # files first, then the links to them
        if isinstance(content, bytes):
            _write(path, content, summary)
            if path in times:
                os.utime(path, (times[path], times[path]))
    for path, content in wanted.items():
        if isinstance(content, tuple):
            _link(content[1], path, summary)
    summary.removed = _remove_stale(root, set(wanted))
    return summary


def _siblings(target, data):
    """Compressed siblings of ``data`` for ``target``: those of the last export when the file
    did not change (brotli at its best is slow, and the result would be the same)."""
    try:
        with open(target, "rb") as f:
            unchanged = f.read() == data
    except OSError:
        unchanged = False
    if unchanged:
        kept = {}
        for suffix, _ in SIBLINGS:
            try:
                with open(target + suffix, "rb") as f:
                    kept[suffix] = f.read()
            except OSError:
                pass
        if ".gz" in kept:
            return kept
    return compressed_siblings(target, data)


def _write(path, data, summary):
    summary.files += 1
    summary.bytes += len(data)
    if not write_if_changed(path, data):
        summary.unchanged += 1


def _link(source, path, summary):
    summary.versioned += 1
    try:
        if os.path.samefile(source, path):
            return
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = os.path.join(os.path.dirname(path), ".tmp-link-%d-%s" % (os.getpid(), os.path.basename(path)))
    try:
        os.link(source, temporary)
    except OSError:  # a file system without hard links: a copy, written just as safely
        with open(source, "rb") as f:
            write_atomic(path, f.read())
        return
    os.replace(temporary, path)


def _remove_stale(root, wanted):
    removed = 0
    for parent, _, files in os.walk(root, topdown=False):
        for name in files:
            path = os.path.join(parent, name)
            if path not in wanted:
                os.unlink(path)
                removed += 1
        if parent != root and not os.listdir(parent):
            os.rmdir(parent)
    return removed
