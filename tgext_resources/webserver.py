"""``tgext-resources webserver-config``: a front-server block that serves exported resources.

The block serves what ``tgext-resources export`` wrote under ``--root`` with the headers
the in-Python publisher sends (far-future ``immutable`` caching on versioned URLs and
bundles, the short max-age elsewhere, precompressed siblings with ``Vary``, UTF-8 text),
sends a request for a file it does not have (an older version, a widget controller) to the
application, serves the filesystem cache from the disk, and proxies everything else to the
application.  With ``--server-name`` a request for any other host is refused before it
reaches the application; with ``--tls-cert`` and ``--tls-key`` the site listens with TLS and
HTTP/2 and plain HTTP is redirected (webserver_tls.py).

This module holds what both servers share (the site, its checks, the policies); the
blocks themselves are written by webserver_nginx.py and webserver_apache.py.
"""
import glob
import os
import re
import shlex

from . import media
from .errors import WebServerConfigError
from .webserver_apache import apache
from .webserver_nginx import nginx
from .webserver_tls import port_number

_UPSTREAM_RE = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$|^\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}$")
# A host name (labels of letters, digits and inner hyphens; a leading "*." for every
# subdomain, which nginx and Apache both understand), an IPv4 or a bracketed IPv6 address.
# Nothing else reaches the configuration: a space, ";", "{" or a newline would let a name
# add directives of its own.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_SERVER_NAME_RE = re.compile(r"^(?:\*\.)?%s(?:\.%s)*$|^\[[0-9A-Fa-f:.]+\]$" % (_LABEL, _LABEL))

#: A versioned resource URL (the prefix, a module, its token), for the server's regular expressions.
VERSIONED_PATH = r"^%s[^/]+/" + media.TOKEN_PATTERN + "/"

#: Cache-Control of the files the front server serves from the filesystem cache.  The file
#: carries no headers of its own, so the front server says what TurboGears sends with every
#: response unless a controller changes it (``tg.request_local.Response``): ``no-cache``,
#: i.e. keep it, but ask again (with the ETag and Last-Modified the front server sends)
#: before using it: a 304 costs nothing, and an invalidated file is never shown again.
#: Without it, caches would choose a freshness of their own (RFC 9111, 4.2.2).
FSCACHE_CACHE_CONTROL = "no-cache"

#: Headers of the application's responses that the front server does not pass on.
#: ``Pragma`` is a request header (RFC 9111, 5.4): TurboGears sends ``Pragma: no-cache``
#: with every response next to ``Cache-Control: no-cache``, which already says it to every
#: HTTP/1.1 cache, and lint tools (REDbot) count it as an error.
HIDDEN_RESPONSE_HEADERS = ("Pragma",)

#: Printed on stderr when no ``--server-name`` is given.
ANY_HOST_WARNING = (
    "no --server-name: the block answers a request for any host and passes its Host header "
    "to the application, which builds its links from it; name the site's hosts with "
    "--server-name NAME (repeatable) to refuse the others"
)


def server_names(names):
    """The names of ``--server-name``, checked, in order and without repeats."""
    checked = []
    for name in names or ():
        if not _SERVER_NAME_RE.match(name):
            raise WebServerConfigError(
                "--server-name %r: use a host name (example.com, or *.example.com for its subdomains) "
                "or an IP address, without a port or a scheme" % name)
        if name.lower() not in (n.lower() for n in checked):
            checked.append(name)
    return tuple(checked)


#: ``--brotli``: ``auto`` asks the machine (see brotli_static), ``on`` and ``off`` decide.
BROTLI_CHOICES = ("auto", "on", "off")

#: Where Debian's nginx.conf loads its dynamic modules from (``include modules-enabled/*.conf``),
#: and the module that serves ``.br`` siblings (Debian: libnginx-mod-http-brotli-static).
NGINX_MODULES_ENABLED = "/etc/nginx/modules-enabled"
NGINX_BROTLI_MODULE = "ngx_http_brotli_static_module"
_LOAD_BROTLI_RE = re.compile(r"^\s*load_module\s+\S*%s\.so\s*;" % NGINX_BROTLI_MODULE, re.M)


def brotli_static(server, choice, modules_enabled=NGINX_MODULES_ENABLED):
    """(whether the block serves ``.br`` siblings, why), for ``--brotli`` ``choice``.

    Apache needs no module for it (a rewrite and headers, as for ``.gz``): ``auto`` is on.
    nginx needs ``brotli_static``, which exists only where its module is loaded, and a block
    naming it fails ``nginx -t`` elsewhere; a server block cannot load a module (``load_module``
    belongs to the main configuration).  So ``auto`` is on when the main configuration of
    this machine loads it the Debian way, through a file of ``modules_enabled``."""
    if choice not in BROTLI_CHOICES:
        raise WebServerConfigError("--brotli %s: use on, off or auto (the default)" % choice)
    if choice != "auto":
        return choice == "on", "--brotli %s" % choice
    if server != "nginx":
        return True, "auto: Apache serves them with mod_rewrite and mod_headers"
    for path in sorted(glob.glob(os.path.join(modules_enabled, "*.conf"))):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                if _LOAD_BROTLI_RE.search(f.read()):
                    return True, "auto: %s loads %s" % (path, NGINX_BROTLI_MODULE)
        except OSError:
            continue  # a dangling link of a removed module package: nginx -t would say so
    return False, ("auto: no file of %s loads %s (Debian: apt-get install libnginx-mod-http-brotli-static; "
                   "then run this command again, or give --brotli on where the server loads it)"
                   % (modules_enabled, NGINX_BROTLI_MODULE))


class Site:
    """What a front-server block needs to know, taken from the application's settings.

    ``tls``: a webserver_tls.Tls, or None for plain HTTP.  ``brotli``: (on, why), from
    brotli_static."""

    def __init__(self, settings, package, root, upstream, listen, command, names=(), tls=None,
                 brotli=(False, "--brotli off")):
        if not _UPSTREAM_RE.match(upstream):
            raise WebServerConfigError("--upstream %s: use HOST:PORT, e.g. 127.0.0.1:8080" % upstream)
        self.prefix = settings.resources.prefix
        self.root = os.path.abspath(root)
        self.upstream = upstream
        self.listen = port_number("--listen", listen, 80)
        self.server_names = server_names(names)
        self.tls = tls
        self.brotli, self.brotli_reason = brotli
        #: The precompressed siblings the block serves: (suffix, Content-Encoding), preferred first.
        self.siblings = tuple((suffix, coding) for suffix, coding in media.SIBLINGS if self.brotli or coding != "br")
        self.short_cache = "public, max-age=%d" % settings.resources.max_age
        self.long_cache = media.FOREVER
        self.fscache_cache = FSCACHE_CACHE_CONTROL
        self.hidden_headers = HIDDEN_RESPONSE_HEADERS
        self.charset_types = " ".join(media.charset_types())
        aggregation = settings.aggregation
        self.bundles = "%s%s/%s/" % (self.prefix, package, aggregation.directory) if aggregation.hash else None
        self.command = command
        self.versioned = VERSIONED_PATH % re.escape(self.prefix).replace("\\/", "/")
        self.fscache = settings.fscache.dir

    @property
    def resources_root(self):
        return os.path.join(self.root, *self.prefix.strip("/").split("/"))


SERVERS = {"nginx": nginx, "apache": apache}


def command_line(server, ini, root, upstream, listen, names=(), tls=None, brotli="auto"):
    """The command that writes the block, for its first comment (to run it again)."""
    line = "tgext-resources webserver-config %s -c %s --root %s --upstream %s --listen %s" % (
        server, shlex.quote(ini), shlex.quote(root), upstream, listen)
    line += "".join(" --server-name %s" % shlex.quote(name) for name in names)
    if tls:
        line += " --tls-cert %s --tls-key %s --tls-listen %d" % (shlex.quote(tls.cert), shlex.quote(tls.key), tls.port)
    return line + ("" if brotli == "auto" else " --brotli %s" % brotli)
