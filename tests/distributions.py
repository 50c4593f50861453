"""Installed distributions made on the fly: a package plus its ``.dist-info``, on sys.path.

They are what pip would leave behind (METADATA with Requires-Dist, entry_points.txt), so
importlib.metadata and the aggregate command see them as any installed widget library.
They stay installed for one test (conftest calls ``forget()`` after each), or for the block
of ``importable()`` when a wider fixture needs them.
"""
import contextlib
import importlib
import itertools
import os
import sys
import textwrap

_counter = itertools.count()
_FOR_ONE_TEST = []  # the directories install() put on sys.path itself


def unique(name):
    """``name`` with a suffix no other test uses (what is registered under a module name, tw2's
    widgets and the publisher's resources, lives for the whole process)."""
    return "%s%d" % (name, next(_counter))


def install(root, name, files, requires=(), widgets=None, aggregation_filter=None):
    """Write distribution ``name`` into directory ``root`` and make it importable (until the
    test ends, or the block of ``importable(root)`` when called inside one).

    ``files``: {relative path: text or bytes}; ``widgets``: the ``tw2.widgets`` entry point
    target; ``aggregation_filter``: the ``resource_aggregation_filter`` target.
    """
    root = str(root)
    for relative, content in files.items():
        path = os.path.join(root, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content if isinstance(content, bytes) else textwrap.dedent(content))
    info = os.path.join(root, "%s-1.0.dist-info" % name)
    os.makedirs(info, exist_ok=True)
    metadata = ["Metadata-Version: 2.1", "Name: %s" % name, "Version: 1.0"]
    metadata += ["Requires-Dist: %s" % r for r in requires]
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("\n".join(metadata) + "\n")
    # The packages it holds, as pip records them (importlib.metadata.packages_distributions).
    packages = sorted({relative.split("/")[0] for relative in files if "/" in relative})
    with open(os.path.join(info, "top_level.txt"), "w") as f:
        f.write("".join(package + "\n" for package in packages))
    entry_points = []
    if widgets:
        entry_points.append("widgets = %s" % widgets)
    if aggregation_filter:
        entry_points.append("resource_aggregation_filter = %s" % aggregation_filter)
    if entry_points:
        with open(os.path.join(info, "entry_points.txt"), "w") as f:
            f.write("[tw2.widgets]\n" + "\n".join(entry_points) + "\n")
    if root not in sys.path:
        sys.path.insert(0, root)
        _FOR_ONE_TEST.append(root)
    importlib.invalidate_caches()  # the path finders cache directory listings
    return name


@contextlib.contextmanager
def importable(root):
    """``root`` on sys.path for the block: what is installed or written there can be imported."""
    root = str(root)
    sys.path.insert(0, root)
    importlib.invalidate_caches()
    try:
        yield root
    finally:
        _remove(root)


def forget():
    """Uninstall what install() made importable by itself: its directories leave sys.path."""
    while _FOR_ONE_TEST:
        _remove(_FOR_ONE_TEST.pop())


def _remove(root):
    """``root`` off sys.path, with the importer cached for it and the modules imported from it."""
    while root in sys.path:
        sys.path.remove(root)
    sys.path_importer_cache.pop(root, None)
    inside = os.path.join(root, "")
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(inside):
            del sys.modules[name]
    importlib.invalidate_caches()  # importlib.metadata caches what each path entry holds
