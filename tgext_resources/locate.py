"""Where a resource's file lies on disk, refusing any name that would leave its module.

A resource is named by the module it belongs to (``tw2.jquery``) and a file name relative
to that module's directory (``static/jquery/1.7.1/jquery.js``), as in ToscaWidgets.
"""
import functools
import importlib.util
import os
import re

from .errors import UnsafePathError

# A drive ("C:") or any character that is not plain in a file name of a URL path.
_DRIVE_RE = re.compile(r"^[A-Za-z]:")


@functools.lru_cache(maxsize=None)
def module_directory(modname):
    """The directory of module ``modname`` (a package's own directory), or None if it has none."""
    if not modname or modname.startswith(".") or "/" in modname or "\\" in modname:
        return None
    try:
        spec = importlib.util.find_spec(modname)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return os.path.realpath(next(iter(spec.submodule_search_locations)))
    if spec.origin and os.path.isabs(spec.origin):
        return os.path.dirname(os.path.realpath(spec.origin))
    return None


def split_filename(filename):
    """The path segments of a resource file name; UnsafePathError for anything that could escape.

    Refused: NUL bytes, backslashes, absolute paths and drives, empty segments (``//``),
    ``.`` and ``..`` segments.  Percent signs are kept as they are: a file name is never
    decoded twice, so ``%2e%2e`` is a (non-existent) file called ``%2e%2e``.
    """
    if not isinstance(filename, str) or not filename:
        raise UnsafePathError("empty resource file name")
    if "\x00" in filename or "\\" in filename:
        raise UnsafePathError("resource file name %r holds a NUL byte or a backslash" % filename)
    if filename.startswith("/") or _DRIVE_RE.match(filename):
        raise UnsafePathError("resource file name %r is absolute" % filename)
    segments = filename.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise UnsafePathError("resource file name %r has an empty, '.' or '..' segment" % filename)
    return segments


def resource_file(modname, filename):
    """The absolute path of ``filename`` inside module ``modname``, or None if there is no such module."""
    segments = split_filename(filename)
    directory = module_directory(modname)
    if directory is None:
        return None
    return os.path.join(directory, *segments)
