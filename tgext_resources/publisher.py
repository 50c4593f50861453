"""Serving widget resources from Python, by the book.

Plain WSGI: GET and HEAD only (405 with ``Allow`` otherwise), preconditions in the order
of RFC 9110, 13.2.2 (412, then 304; staticfile.py), single byte ranges answered as nginx
answers them (ranges.py), no body on HEAD, ``Content-Length`` always, precompressed
``.br``/``.gz`` siblings for clients that accept them (with ``Vary: Accept-Encoding``).
Caching: far-future and immutable for bundles (named by their content) and for versioned
URLs whose token is current and was computed from the file as it is; a short max-age
otherwise, and ``no-cache`` (revalidate every time, 304s are cheap) in debug.

Response headers are built once per file and reused, but never trusted blindly: a file
changed under the running process, whatever the debug setting, is described anew before
anything is sent.  A body is sent only from a handle whose ``fstat`` matches the headers:
it never passes for whole while its length disagrees with ``Content-Length``.  Tags and
dates are compared only with a file known to be the one described: found unchanged (a
``stat``) since the last change the file watch saw (filewatch.py).  So a revalidation of a
file already served, the most frequent request of all, is answered from its 304 headers
before anything else, with no system call but the watch's one ``epoll_wait``.  Which files may
be served, symbolic links included, is the registry's answer (registry.py); their types and
the files never served, media's.
"""
import os

from .errors import UnsafePathError
from .filewatch import WATCH
from .locate import resource_file, split_filename
from .media import FOREVER, SIBLINGS, TOKEN_RE, never_served
from .registry import REGISTRY
from .staticfile import StaticFile, plain_response, signature
from .versioning import VERSIONS

REVALIDATE = "no-cache"
#: URLs remembered with what they lead to; any client can make URLs up, so a bound.
_ROUTES = 10000
_STATUS = {"304": "304 Not Modified", "412": "412 Precondition Failed"}


def _has_precondition(environ):
    """Whether the answer depends on the file's current tag or date: then the file is looked
    at (stat) before they are compared."""
    return ("HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
            or "HTTP_IF_MATCH" in environ or "HTTP_IF_UNMODIFIED_SINCE" in environ)


class Publisher:
    """The WSGI application serving registered resources under ``prefix``.

    Also offers what ToscaWidgets expects of its resource server (``register``,
    ``resource_path``) and the public, versioned URL of each resource (``url``).
    """

    def __init__(self, prefix, registry=REGISTRY, versions=VERSIONS, max_age=3600, debug=False, base_url="",
                 watch=WATCH):
        self.prefix = prefix
        self.registry = registry
        self.versions = versions
        self.watch = watch
        self.debug = debug
        self.base_url = base_url
        self.short_cache = REVALIDATE if debug else "public, max-age=%d" % max_age
        self.long_cache = REVALIDATE if debug else FOREVER
        self._files = {}  # (modname, filename, cache_control) -> StaticFile
        self._retired = {}  # the same, before the last token renewal
        self._routes = {}  # PATH_INFO -> (modname, filename, token, key of _files)
        self._urls = {}
        self._registry_generation = registry.generation
        self._versions_generation = versions.generation

    def _follow_changes(self):
        """Forget what was derived from registrations and tokens that changed since."""
        if self._versions_generation != self.versions.generation:
            self._versions_generation = self.versions.generation
            # A renewed token: other URLs, and other caching for the old ones.  The files
            # described so far are kept aside, so that none gets an old tag back.
            self._retired, self._files = self._files, {}
            self._urls.clear()
            self._routes.clear()
        if self._registry_generation != self.registry.generation:
            self._registry_generation = self.registry.generation
            self._routes.clear()  # a directory of bundles changes the caching of its files

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
        self._follow_changes()
        try:
            return self._urls[path, script_name]
        except KeyError:
            pass
        if not path.startswith(self.prefix):
            return path
        url = self._url(path, script_name)
        if len(self._urls) < 10000:  # tokens change only with the files
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
        method = environ.get("REQUEST_METHOD")
        if method != "GET" and method != "HEAD":
            return plain_response(start_response, "405 Method Not Allowed", environ, [("Allow", "GET, HEAD")])
        if (self._versions_generation != self.versions.generation
                or self._registry_generation != self.registry.generation):
            self._follow_changes()  # checked here first: a call less for each request
        path = environ.get("PATH_INFO", "")
        route = self._routes.get(path)
        if route is None:
            try:
                route = self._route(path)
            except (UnicodeError, UnsafePathError):
                return plain_response(start_response, "400 Bad Request", environ)
            if route is None:
                return plain_response(start_response, "404 Not Found", environ)
        elif "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ:
            # A revalidation of a file served before and unchanged since the watch last saw
            # a change: its 304 at once, or the full way below.
            static = self._files.get(route[3])
            if static is not None and static.verified == self.watch.epoch():
                headers = static.not_modified_headers(environ)
                if headers is not None:
                    start_response("304 Not Modified", headers)
                    return []
        head = method == "HEAD"
        looked_at = head or _has_precondition(environ)
        for attempt in range(3):
            static = self._static(route, changed=attempt > 0)
            if static is None:
                return plain_response(start_response, "404 Not Found", environ)
            variant = static.choose(environ.get("HTTP_ACCEPT_ENCODING"))
            # Tags and dates are compared, and a sibling's headers sent, only once the files
            # are known to be the ones they describe.
            if (looked_at or variant is not static.identity) and not self._current(static, variant):
                continue
            status = static.precondition(environ, variant)
            if status == "304":
                # Remembered: after a restart, browsers that hold the file revalidate it
                # again and again, and the next time takes the short way above.
                self._remember(path, route)
                start_response(_STATUS[status], list(variant.not_modified_headers))  # a copy: see staticfile
                return []
            if status is not None:
                return plain_response(start_response, _STATUS[status], environ)
            handle = None
            if not head:
                try:
                    handle = open(variant.path, "rb")
                except OSError:
                    continue
                # The bytes sent are those of the file the headers describe: a file replaced
                # or rewritten since it was last looked at is described anew first.
                if signature(os.fstat(handle.fileno())) != variant.signature:
                    handle.close()
                    continue
            self._remember(path, route)
            return static.respond(environ, start_response, variant, handle)
        # Changed at every look: a file being written again and again right now.
        return plain_response(start_response, "503 Service Unavailable", environ, [("Retry-After", "1")])

    def _remember(self, path, route):
        if len(self._routes) < _ROUTES:
            self._routes[path] = route

    def _current(self, static, variant):
        """Whether the files of ``static`` (those ``variant`` needs, at least) are those it
        describes: known since the watch's last change, or looked at now (all of them, when
        watched: then known until the watch's next change)."""
        epoch = self.watch.epoch()
        if epoch is not None and static.verified == epoch:
            return True
        # Watched before being looked at: a change after the look is then an event.
        watched = epoch is not None and static.watched is not None and self.watch.watch(static.watched, epoch)
        if not static.unchanged(None if watched else variant):
            return False
        if watched:
            static.verified = epoch
        return True

    def _route(self, path):
        """``(modname, filename, token, key)`` of the resource at URL ``path``, or None."""
        # PATH_INFO holds the URL's bytes as latin-1 (PEP 3333): file names are UTF-8.
        path = path.encode("latin-1").decode("utf-8")
        modname, _, filename = path[len(self.prefix):].partition("/")
        token, _, rest = filename.partition("/")
        if not TOKEN_RE.fullmatch(token):
            token = None
        elif rest:
            filename = rest
        split_filename(filename)
        # Files ``never_served`` (hidden ones, Python code and byte-code) are not, even
        # inside a registered directory.
        if never_served(filename) or not self.registry.is_registered(modname, filename):
            return None
        return modname, filename, token, (modname, filename, self.cache_control(modname, filename, token))

    def cache_control(self, modname, filename, token=None):
        """How long a response may be kept: forever only when its URL names this content."""
        if self.registry.is_immutable(modname, filename):
            return self.long_cache
        if token is not None and token == self.versions.token(modname):
            return self.long_cache
        # Unversioned, or a token of other content (an older deploy, another server): the
        # current file, but never cached for long under that URL.
        return self.short_cache

    def _static(self, route, changed=False):
        """The StaticFile of ``route``; described anew when ``changed``; None when there is
        no such file, or a symbolic link leads out of what was registered."""
        key = route[3]
        static = self._files.get(key)
        if static is not None and not changed:
            return static
        rebuilt = self._build(route, static if static is not None else self._retired.get(key))
        if rebuilt is None:
            self._files.pop(key, None)
        else:
            self._files[key] = rebuilt
        return rebuilt

    def _build(self, route, previous):
        modname, filename, token, (_, _, cache_control) = route
        real = self.registry.real_path(modname, filename)
        if real is None:
            return None
        path = resource_file(modname, filename)
        siblings = {}
        for suffix, _ in SIBLINGS:
            sibling_real = self.registry.real_path(modname, filename, suffix)
            if sibling_real is not None:
                siblings[suffix] = (path + suffix, sibling_real)
        try:
            static = StaticFile(path, real, siblings, cache_control, previous)
            if self.registry.is_immutable(modname, filename):
                return static  # named by its content: no token involved
            covered = self.versions.covers(modname, filename, static.signature)
            if covered is False:
                # Changed since the module's token was computed: that token names other
                # bytes.  Pages link a new one from now on, whichever URL noticed.
                self.versions.renew(modname, filename, static.signature)
            if cache_control == FOREVER and token is not None and not covered:
                # Immutable only when the token was computed from these very bytes.
                static = StaticFile(path, real, siblings, self.short_cache, previous)
        except OSError:
            return None
        return static
