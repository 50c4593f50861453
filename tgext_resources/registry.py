"""Which files of which modules may be served: single files and whole directories.

One registry serves the whole process.  ToscaWidgets registers a resource when its widget
class is defined, with the middleware found in the defining thread's request-local storage
or in a queue that only the next middleware built in that thread consumes: an application
built second in a process, or a widget module imported during another application's
request, left links that answered 404.  Every middleware shares the registry below, and a
new one also registers every link class already defined.

A registered name is also a boundary: a symbolic link inside a registered directory may
lead elsewhere in it, never out of it (``static/passwd.txt -> /etc/passwd`` is refused,
by the publisher and by the export alike); a file registered by itself stays in its
module's directory.

A stylesheet registered by itself brings the files it refers to by relative ``url()``
(tw2.forms' calendar CSS asks for ``menuarrow.gif`` next to it, an application's
``static/app.css`` for ``img/x.png``): a browser asks for them next to the stylesheet, so
they are served, versioned like it, and exported, without a ``DirLink``.
"""
import logging
import os
import posixpath
import threading

from tw2.core.resources import Link

from .cssrewrite import relative_references
from .declared import subclasses
from .errors import UnsafePathError
from .locate import module_directory, split_filename
from .media import never_served

log = logging.getLogger(__name__)


class Registry:
    """Which files of which modules may be served: single files, whole directories."""

    def __init__(self):
        self._lock = threading.Lock()
        self._files = set()
        # modname -> frozenset of directory names.  Replaced, never changed in place:
        # requests read them without the lock while a page registers a directory.
        self._dirs = {}
        self._immutable_dirs = {}
        #: Changes whenever what is registered changes: what a reader derived (the
        #: publisher's routes) is stale once it differs.
        self.generation = 0

    def register(self, modname, filename, whole_dir=False, immutable=False):
        """Allow serving ``filename`` of ``modname`` (a whole directory if ``whole_dir``).

        ``immutable``: every file of that directory is named by its content (bundles), so
        it may be cached forever.
        """
        name = (filename or "").strip("/")
        # tw2.jquery registers its directory again each time a page displays it: known
        # names return at once, without the checks or the lock.
        if (modname, name) in self._files or (name in self._dirs.get(modname, ()) and not immutable):
            return
        try:
            split_filename(name)
        except UnsafePathError:
            log.warning("Not serving %s resource %r: unsafe file name", modname, filename)
            return
        with self._lock:
            if whole_dir or immutable:
                self._dirs[modname] = self._dirs.get(modname, frozenset()) | {name}
                if immutable:
                    self._immutable_dirs[modname] = self._immutable_dirs.get(modname, frozenset()) | {name}
            else:
                self._files.add((modname, name))
            self.generation += 1
        if not (whole_dir or immutable) and name.lower().endswith(".css"):
            for referenced in referenced_files(modname, name):
                self.register(modname, referenced)

    def adopt_tw2(self, resources_app):
        """Take over what was registered with a plain tw2 ResourcesApp."""
        for modname, filename in resources_app._paths.values():
            self.register(modname, filename)
        for path in resources_app._dirs:
            modname, _, dirname = path.partition("/")
            self.register(modname, dirname, whole_dir=True)

    def register_declared_links(self):
        """Register every tw2 link class defined so far in the process."""
        for cls in subclasses(Link):
            filename = getattr(cls, "filename", None)
            # Links whose file name is computed per request (tw2.jquery's) register themselves
            # when prepared; only plain declarations can be registered up front.
            if isinstance(filename, str) and filename and not getattr(cls, "no_inject", False):
                self.register(cls.modname or "__anon__", filename, bool(getattr(cls, "whole_dir", False)))

    def entries(self):
        """``(modname, name, whole_dir, immutable)`` for everything registered."""
        with self._lock:
            files = sorted(self._files)
            dirs = sorted((m, d) for m, names in self._dirs.items() for d in names)
            immutable = {(m, d) for m, names in self._immutable_dirs.items() for d in names}
        for modname, filename in files:
            yield modname, filename, False, False
        for modname, dirname in dirs:
            yield modname, dirname, True, (modname, dirname) in immutable

    def modnames(self):
        """Every module with a registered resource."""
        with self._lock:
            return {m for m, _ in self._files} | set(self._dirs)

    def is_registered(self, modname, filename):
        """Whether ``filename`` of ``modname`` was registered, or lies in a registered directory."""
        return (modname, filename) in self._files or _in_dir(self._dirs, modname, filename)

    def is_immutable(self, modname, filename):
        """Whether ``filename`` lies in a directory of files named by their content."""
        return _in_dir(self._immutable_dirs, modname, filename)

    def real_path(self, modname, filename, suffix=""):
        """The real path (every symbolic link followed) of registered resource ``filename``
        of ``modname``, plus ``suffix`` (a compressed sibling), or None: not registered, no
        such module, or a symbolic link leading out of what was registered."""
        directory = module_directory(modname)
        if directory is None:
            return None
        bounds = [d for d in self._dirs.get(modname, ()) if filename.startswith(d + "/")]
        if (modname, filename) in self._files:
            bounds.append("")  # the module's own directory
        if not bounds:
            return None
        path = os.path.join(directory, *split_filename(filename)) + suffix
        if not os.path.lexists(path):
            # One system call refuses what is not there (or longer than the system allows)
            # before realpath looks at each of its segments: a hostile path of 50,000
            # segments would cost a second.
            return None
        for bound in bounds:
            real = confined(path, os.path.join(directory, *bound.split("/")) if bound else directory)
            if real is not None:
                return real
        return None


def referenced_files(modname, filename):
    """The files of ``modname`` that stylesheet ``filename`` refers to by a relative
    ``url()`` (an image, a font, an imported stylesheet): served with it, as a browser will
    ask for them next to it.  Only existing files inside the module's directory."""
    directory = module_directory(modname)
    if directory is None:
        return []
    try:
        with open(os.path.join(directory, *split_filename(filename)), "rb") as f:
            css = f.read().decode("utf-8", "replace")
    except (OSError, UnsafePathError):
        return []
    base = posixpath.dirname(filename)
    found = []
    for reference in relative_references(css):
        name = posixpath.normpath(posixpath.join(base, reference))
        if name.startswith("../") or name == ".." or never_served(name):
            continue  # outside the module, or never served at all
        try:
            path = os.path.join(directory, *split_filename(name))
        except UnsafePathError:
            continue
        if os.path.isfile(path) and confined(path, directory) is not None:
            found.append(name)
    return found


def confined(path, directory):
    """The real path of ``path`` if, once every symbolic link is followed, it lies inside
    the real path of ``directory``; None if it leads out."""
    real = os.path.realpath(path)
    return real if real.startswith(os.path.join(os.path.realpath(directory), "")) else None


def _in_dir(dirs, modname, filename):
    # A module registers a few directories; a file name may be long (a hostile URL):
    # one prefix test per directory keeps the cost linear in the name's length.
    return any(filename.startswith(d + "/") for d in dirs.get(modname, ()))


#: The registry every middleware of the process shares.
REGISTRY = Registry()


def declared_link_modules():
    """The modules of every tw2 link class defined so far (file names computed or not)."""
    return {m for m in (getattr(cls, "modname", None) for cls in subclasses(Link)) if isinstance(m, str) and m}
