"""What the extension knows about the files it serves: their types, which of them are
compressed, which are never served, the caching header and the version token of their
URLs, and how they are written to disk.

Every other module (the publisher, the export, the filesystem cache, the bundles, the
front-server configurations) asks here, so that a type, a rule or a header value is
written once.  Plain Python: the command-line tools and the front-server configuration
use it without ToscaWidgets or TurboGears.
"""
import gzip
import os
import re
import tempfile

# extension: (content type, text (sent with "; charset=utf-8"), worth compressing).
# The types are the ones browsers expect, fixed here rather than taken from the host's
# mime.types, which differ between systems (Debian says text/javascript and
# image/vnd.microsoft.icon) and so would change the headers with the machine.
# Those not worth compressing (WOFF fonts, images but SVG) are compressed formats
# already: gzip makes them bigger or barely smaller.
TYPES = {
    "js": ("application/javascript", True, True),
    "mjs": ("application/javascript", True, True),
    "css": ("text/css", True, True),
    "html": ("text/html", True, True),
    "htm": ("text/html", True, True),
    "json": ("application/json", True, True),
    "map": ("application/json", True, True),  # source maps
    "svg": ("image/svg+xml", True, True),
    "txt": ("text/plain", True, True),
    "xml": ("application/xml", True, True),
    "csv": ("text/csv", True, True),
    "ico": ("image/x-icon", False, True),  # mostly uncompressed bitmaps
    "eot": ("application/vnd.ms-fontobject", False, True),
    "ttf": ("font/ttf", False, True),
    "otf": ("font/otf", False, True),
    "wasm": ("application/wasm", False, True),
    "woff": ("font/woff", False, False),
    "woff2": ("font/woff2", False, False),
    "png": ("image/png", False, False),
    "gif": ("image/gif", False, False),
    "jpg": ("image/jpeg", False, False),
    "jpeg": ("image/jpeg", False, False),
    "webp": ("image/webp", False, False),
    "avif": ("image/avif", False, False),
    "bmp": ("image/bmp", False, True),
    "md": ("text/markdown", True, True),
    "pdf": ("application/pdf", False, False),
    "zip": ("application/zip", False, False),
    "mp3": ("audio/mpeg", False, False),
    "ogg": ("audio/ogg", False, False),
    "wav": ("audio/wav", False, True),
    "mp4": ("video/mp4", False, False),
    "webm": ("video/webm", False, False),
}

_CHARSET = "; charset=utf-8"

#: Cache-Control of a URL that names its content (RFC 8246 for ``immutable``).
FOREVER = "public, max-age=31536000, immutable"

#: The version token of a resource URL (see versioning.py), as a string for front servers.
TOKEN_PATTERN = "v[0-9a-f]{12}"
TOKEN_RE = re.compile(TOKEN_PATTERN)

#: Precompressed siblings: (file suffix, Content-Encoding), the preferred one first
#: (brotli is smaller than gzip at its best).
SIBLINGS = ((".br", "br"), (".gz", "gzip"))

_CODE_SUFFIXES = (".py", ".pyc", ".pyo")


def extension(name):
    """The lower-case extension of the file ``name``, without its dot ("" if none)."""
    return os.path.splitext(name)[1][1:].lower()


def content_type(name):
    """The Content-Type header value for a file called ``name``.

    An extension the table lacks is ``application/octet-stream``, as the generated nginx
    block says too: no answer depends on the host's mime.types (add a line above instead).
    """
    known = TYPES.get(extension(name))
    if known is None:
        return "application/octet-stream"
    return known[0] + _CHARSET if known[1] else known[0]


def is_compressible(name):
    """Whether a gzip or brotli sibling of ``name`` is worth making."""
    known = TYPES.get(extension(name))
    return known is not None and known[2]


def data_uri_type(name):
    """The media type a ``data:`` URI of file ``name`` carries when the file may become one
    (an image or a font a bundled stylesheet refers to, see cssrewrite.py), else None.

    Only images and fonts: what ``url()`` in CSS loads and a browser decodes from bytes
    alone.  A stylesheet or a page named by ``url()`` keeps being a file.
    """
    known = TYPES.get(extension(name))
    if known is None:
        return None
    if known[0].startswith(("image/", "font/")) or known[0] == "application/vnd.ms-fontobject":
        return known[0]  # without "; charset": the URI carries base64 bytes, not text
    return None


def charset_types():
    """The content types sent with a charset, sorted (front servers list them)."""
    return sorted({t for t, text, _ in TYPES.values() if text})


def extensions_where(text=None, compressible=None):
    """The extensions of the table, sorted, restricted to the given kind."""
    return sorted(
        e for e, (_, is_text, is_compressed) in TYPES.items()
        if (text is None or is_text == text) and (compressible is None or is_compressed == compressible)
    )


# -- which files are served -------------------------------------------------------------------

def is_hidden(relative_name):
    """Whether a segment of ``relative_name`` starts with ".": version-control data, a
    writer's temporary file (see write_atomic), .htaccess."""
    return any(segment.startswith(".") for segment in relative_name.split("/"))


def _never_entered(segment):
    return segment.startswith(".") or segment == "__pycache__"


def never_served(relative_name):
    """Whether the file ``relative_name`` (relative to its module) must never be served
    nor exported, even inside a registered directory: hidden files, and the package's
    Python code and byte-code, which are no resources and may hold secrets."""
    segments = relative_name.split("/")
    return any(map(_never_entered, segments)) or segments[-1].lower().endswith(_CODE_SUFFIXES)


def served_files(directory):
    """The relative, "/"-joined names of the files under ``directory`` that may be served.

    Sorted the same way on every machine (directory by directory, each one's files before
    its subdirectories), as version tokens hash them in this order.  Symbolic links to
    directories are not followed (a link could lead anywhere, even to a parent).
    """
    for parent, subdirectories, files in os.walk(directory):
        relative = os.path.relpath(parent, directory).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        subdirectories[:] = sorted(d for d in subdirectories if not _never_entered(d))
        for name in sorted(files):
            if not never_served(prefix + name):
                yield prefix + name


# -- writing files --------------------------------------------------------------------------

def compressed_siblings(name, data):
    """``{suffix: bytes}`` of the compressed forms of ``data`` that are smaller than it;
    empty when ``name``'s type does not compress.

    gzip without a date in its header, so that the same content gives the same bytes on
    every machine; brotli only when its module is installed.
    """
    if not is_compressible(name):
        return {}
    siblings = {".gz": gzip.compress(data, compresslevel=9, mtime=0)}
    try:
        import brotli
    except ImportError:
        pass
    else:
        siblings[".br"] = brotli.compress(data, quality=11)
    return {suffix: packed for suffix, packed in siblings.items() if len(packed) < len(data)}


def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` so that a reader sees the old file or the new one, whole.

    The bytes go to a temporary file in the same directory (so the rename never crosses
    file systems), are flushed to disk, then ``os.replace`` puts the file in place.  The
    temporary name is hidden, so front servers never serve it.
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600: the front server must read it
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def write_if_changed(path, data):
    """Write ``data`` to ``path`` (atomically) unless the file holds it already; True if written.

    A file left alone keeps its date, so front servers keep sending the same
    Last-Modified and ETag, and clients keep their copies.
    """
    try:
        if os.path.getsize(path) == len(data):
            with open(path, "rb") as f:
                if f.read() == data:
                    return False
    except OSError:
        pass
    write_atomic(path, data)
    return True
