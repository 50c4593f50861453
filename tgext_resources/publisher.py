"""Serving widget resources from Python, by the book.

Plain WSGI: GET and HEAD only (405 with ``Allow`` otherwise), ``ETag`` checked before
``If-Modified-Since`` for 304s (RFC 9110, 13.2.2), no body on HEAD, ``Content-Length``
always, precompressed ``.br``/``.gz`` siblings for clients that accept them (with
``Vary: Accept-Encoding``).  Caching: far-future and immutable for versioned URLs whose
token is current and for bundles (named by their content), a short max-age otherwise, and
``no-cache`` (revalidate every time, 304s are cheap) in debug, where files change under a
running process.  Response headers are built once per file and policy and reused; in debug
the file is looked at again on each request so edits show up.  Which files may be served
is the registry's answer (registry.py); their types and the files never served, media's.
"""
import email.utils
import os
import stat

from .errors import UnsafePathError
from .locate import resource_file, split_filename
from .media import FOREVER, SIBLINGS, TOKEN_RE, content_type, never_served
from .registry import REGISTRY
from .versioning import VERSIONS

REVALIDATE = "no-cache"


class _Variant:
    """One representation of a file (identity, br or gzip) with its headers, built once."""

    __slots__ = ("path", "encoding", "etag", "headers", "not_modified_headers")

    def __init__(self, path, encoding, size, etag, common):
        self.path = path
        self.encoding = encoding
        self.etag = etag
        self.headers = common + [("ETag", etag), ("Content-Length", str(size))]
        if encoding != "identity":
            self.headers.append(("Content-Encoding", encoding))
        # RFC 9110, 15.4.5: a 304 carries what a 200 would have, but for the content itself.
        self.not_modified_headers = [
            (k, v) for k, v in self.headers if k not in ("Content-Length", "Content-Type", "Content-Encoding")
        ]


class StaticFile:
    """A file to serve, with every representation of it and their headers."""

    def __init__(self, path, cache_control):
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise FileNotFoundError(path)
        self.path = path
        self.signature = (st.st_mtime_ns, st.st_size)
        self.mtime = int(st.st_mtime)
        common = [
            ("Content-Type", content_type(path)),
            ("Last-Modified", email.utils.formatdate(self.mtime, usegmt=True)),
            ("Cache-Control", cache_control),
        ]
        tag = "%x-%x" % (self.mtime, st.st_size)
        variants = []
        for suffix, encoding in SIBLINGS:
            try:
                size = os.stat(path + suffix).st_size
            except OSError:
                continue
            if size < st.st_size:  # a sibling that is not smaller is not worth sending
                variants.append((encoding, path + suffix, size, '"%s-%s"' % (tag, suffix[1:])))
        if variants:
            common.append(("Vary", "Accept-Encoding"))
        self.variants = {encoding: _Variant(p, encoding, size, etag, common) for encoding, p, size, etag in variants}
        self.identity = _Variant(path, "identity", st.st_size, '"%s"' % tag, common)

    def choose(self, accept_encoding):
        if self.variants:
            accepted = _accepted_encodings(accept_encoding)
            for _, encoding in SIBLINGS:
                if encoding in accepted and encoding in self.variants:
                    return self.variants[encoding]
        return self.identity

    def is_not_modified(self, environ, variant):
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            # ETag first; If-Modified-Since is then ignored (RFC 9110, 13.2.2).  Weak comparison.
            tags = [t.strip() for t in if_none_match.split(",")]
            return "*" in tags or any(t.removeprefix("W/") == variant.etag for t in tags)
        if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if if_modified_since:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return self.mtime <= since
        return False


def _accepted_encodings(header):
    accepted = set()
    for item in (header or "").split(","):
        name, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            accepted.add(name.strip().lower())
    return accepted


def _plain(start_response, status, environ, extra=()):
    body = status.encode("ascii") + b"\n"
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *extra]
    start_response(status, headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


class Publisher:
    """The WSGI application serving registered resources under ``prefix``.

    Also offers what ToscaWidgets expects of its resource server (``register``,
    ``resource_path``) and the public, versioned URL of each resource (``url``).
    """

    def __init__(self, prefix, registry=REGISTRY, versions=VERSIONS, max_age=3600, debug=False, base_url=""):
        self.prefix = prefix
        self.registry = registry
        self.versions = versions
        self.debug = debug
        self.base_url = base_url
        self.short_cache = REVALIDATE if debug else "public, max-age=%d" % max_age
        self.long_cache = REVALIDATE if debug else FOREVER
        self._files = {}
        self._urls = {}

    # -- the ToscaWidgets side
    def register(self, modname, filename, whole_dir=False):
        self.registry.register(modname, filename, whole_dir)

    def resource_path(self, modname, filename):
        """The canonical (unversioned) path of a resource: what tw2 puts in ``link``."""
        return self.prefix + modname + "/" + filename.lstrip("/")

    # -- links
    def url(self, path, script_name=""):
        """The public URL for canonical resource ``path``: versioned, on the base URL.

        Paths outside the prefix (external links) come back as they are.
        """
        try:
            return self._urls[path, script_name]
        except KeyError:
            pass
        if not path.startswith(self.prefix):
            return path
        url = self._url(path, script_name)
        if len(self._urls) < 10000:  # tokens are fixed for the life of the process
            self._urls[path, script_name] = url
        return url

    def _url(self, path, script_name):
        modname, _, filename = path[len(self.prefix):].partition("/")
        if not self.registry.is_immutable(modname, filename):  # bundles are versioned by name
            token = self.versions.token(modname)
            if token is not None:
                path = "%s%s/%s/%s" % (self.prefix, modname, token, filename)
        return (self.base_url or script_name) + path

    # -- the HTTP side
    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", environ, [("Allow", "GET, HEAD")])
        try:
            # PATH_INFO holds the URL's bytes as latin-1 (PEP 3333): file names are UTF-8.
            path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
            modname, _, filename = path[len(self.prefix):].partition("/")
            token, _, rest = filename.partition("/")
            if not TOKEN_RE.fullmatch(token):
                token = None
            elif rest:
                filename = rest
            split_filename(filename)
        except (UnicodeError, UnsafePathError):
            return _plain(start_response, "400 Bad Request", environ)
        static = self.find(modname, filename, token)
        if static is None:
            return _plain(start_response, "404 Not Found", environ)
        variant = static.choose(environ.get("HTTP_ACCEPT_ENCODING"))
        if static.is_not_modified(environ, variant):
            start_response("304 Not Modified", variant.not_modified_headers)
            return []
        start_response("200 OK", variant.headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return []
        handle = open(variant.path, "rb")
        file_wrapper = environ.get("wsgi.file_wrapper")
        return file_wrapper(handle, 65536) if file_wrapper else _read_chunks(handle)

    def cache_control(self, modname, filename, token=None):
        """How long a response may be kept: forever only when its URL names this content."""
        if self.registry.is_immutable(modname, filename):
            return self.long_cache
        if token is not None and token == self.versions.token(modname):
            return self.long_cache
        # Unversioned, or a token of other content (an older deploy, another server): the
        # current file, but never cached for long under that URL.
        return self.short_cache

    def find(self, modname, filename, token=None):
        """The StaticFile for a registered, existing resource, or None.

        Files ``never_served`` (hidden ones, Python code and byte-code) are not, even
        inside a registered directory.
        """
        if never_served(filename) or not self.registry.is_registered(modname, filename):
            return None
        cache_control = self.cache_control(modname, filename, token)
        key = (modname, filename, cache_control)
        static = self._files.get(key)
        if static is not None and self.debug:
            try:
                st = os.stat(static.path)
                if (st.st_mtime_ns, st.st_size) != static.signature:
                    static = None
            except OSError:
                static = None
        if static is None:
            path = resource_file(modname, filename)
            if path is None:
                return None
            try:
                static = StaticFile(path, cache_control)
            except OSError:
                return None
            self._files[key] = static
        return static


def _read_chunks(handle, size=65536):
    with handle:
        while True:
            chunk = handle.read(size)
            if not chunk:
                return
            yield chunk
