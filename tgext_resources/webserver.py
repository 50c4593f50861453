"""``tgext-resources webserver-config``: a front-server block that serves exported resources.

The block serves what ``tgext-resources export`` wrote under ``--root`` with the headers
the in-Python publisher sends (far-future ``immutable`` caching on versioned URLs and
bundles, the short max-age elsewhere, precompressed siblings with ``Vary``, UTF-8 text),
sends a request for a file it does not have (an older version, a widget controller) to the
application, and proxies everything else to the application.
"""
import os
import re
import shlex

from . import media
from .errors import WebServerConfigError

_UPSTREAM_RE = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$|^\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}$")
#: A versioned resource URL (the prefix, a module, its token), for the server's regular expressions.
VERSIONED_PATH = r"^%s[^/]+/" + media.TOKEN_PATTERN + "/"
# Types whose Content-Type carries "; charset=utf-8", as the publisher sends them.
_CHARSET_TYPES = " ".join(media.charset_types())


def _nginx_types():
    """A ``types`` block of media.py's table: nginx then names each type as the publisher does
    (its own mime.types differs: .mjs, .map, .ttf...); a type the table lacks is sent as
    application/octet-stream."""
    by_type = {}
    for extension, (content_type, _, _) in sorted(media.TYPES.items()):
        by_type.setdefault(content_type, []).append(extension.lstrip("."))
    lines = ["            %s %s;" % (t, " ".join(extensions)) for t, extensions in sorted(by_type.items())]
    return "types {\n%s\n        }\n        default_type application/octet-stream;" % "\n".join(lines)


class Site:
    """What a front-server block needs to know, taken from the application's settings."""

    def __init__(self, settings, package, root, upstream, listen, command):
        if not _UPSTREAM_RE.match(upstream):
            raise WebServerConfigError("--upstream %s: use HOST:PORT, e.g. 127.0.0.1:8080" % upstream)
        if not 0 < int(listen) < 65536:
            raise WebServerConfigError("--listen %s: use a port number from 1 to 65535" % listen)
        self.prefix = settings.resources.prefix
        self.root = os.path.abspath(root)
        self.upstream = upstream
        self.listen = int(listen)
        self.short_cache = "public, max-age=%d" % settings.resources.max_age
        self.long_cache = media.FOREVER
        aggregation = settings.aggregation
        self.bundles = "%s%s/%s/" % (self.prefix, package, aggregation.directory) if aggregation.hash else None
        self.command = command
        self.versioned = VERSIONED_PATH % re.escape(self.prefix).replace("\\/", "/")
        self.fscache = settings.fscache.dir

    @property
    def resources_root(self):
        return os.path.join(self.root, *self.prefix.strip("/").split("/"))


def nginx(site):
    bundles = ""
    if site.bundles:
        bundles = """
        # Bundles are named by their content: cached forever.
        location ^~ {bundles} {{
            add_header Cache-Control "{long}";
            try_files $uri @application;
        }}
""".format(bundles=site.bundles, long=site.long_cache)
    proxy = _NGINX_PROXY_DIRECTIVES.format(upstream=site.upstream)
    return """\
# tgext.resources: nginx server block, written by
#   {command}
# Include it in the http block of nginx.conf (which must include mime.types, as Debian's
# does), and run `tgext-resources export` into {root} after every deployment.
server {{
    listen {listen};
    server_name _;

    # Widget resources, exported under their URLs by `tgext-resources export`.
    location ^~ {prefix} {{
        root {root};
        # The publisher's types (media.py), so that both send the same Content-Type.
        {types}
        gzip_static on;
        gzip_vary on;
        charset utf-8;
        charset_types {charset_types};
        etag on;
        # Unversioned URLs: a short max-age, then revalidation (ETag, Last-Modified).
        add_header Cache-Control "{short}";
        # A file not exported (an older version, a widget controller): ask the application.
        try_files $uri @application;

        # Versioned URLs name their content: cached forever.
        location ~ "{versioned}" {{
            add_header Cache-Control "{long}";
            try_files $uri @application;
        }}
{bundles}    }}

{everything_else}
    location @application {{
{proxy}    }}
}}
""".format(
        command=site.command, root=site.root, listen=site.listen, prefix=site.prefix,
        charset_types=_CHARSET_TYPES, short=site.short_cache, long=site.long_cache,
        versioned=site.versioned, bundles=bundles, proxy=proxy, types=_nginx_types(),
        everything_else=_nginx_fscache(site) if site.fscache else "    location / {\n%s    }\n" % proxy,
    )


# How nginx hands a request to the application: keep-alive connections to the upstream,
# and the client's host, address and scheme passed on for the application's URLs and logs.
_NGINX_PROXY_DIRECTIVES = """\
        proxy_pass http://{upstream};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
"""


def _nginx_fscache(site):
    return """\
    # The filesystem cache (fscache.dir): a file the application wrote there is served from
    # the disk; a missing one, any query string, any method but GET and HEAD, and hidden
    # files (writes in progress) go to the application.
    location / {{
        root {fscache};
        error_page 418 = @application;
        if ($args) {{
            return 418;
        }}
        if ($request_method !~ ^(GET|HEAD)$) {{
            return 418;
        }}
        gzip_static on;
        gzip_vary on;
        charset utf-8;
        charset_types {charset_types};
        try_files $uri $uri.html $uri/index.html @application;

        location ~ "/\\." {{
            try_files /.tgext-resources-never @application;
        }}
    }}
""".format(fscache=site.fscache, charset_types=_CHARSET_TYPES)


#: Apache modules the VirtualHost needs (Debian: a2enmod these).
APACHE_MODULES = ("alias", "authz_core", "env", "headers", "mime", "proxy", "proxy_http", "rewrite")


def apache(site):
    bundles = ""
    if site.bundles:
        bundles = """
    # Bundles are named by their content: cached forever.
    <LocationMatch "^{bundles}">
        Header always set Cache-Control "{long}"
    </LocationMatch>
""".format(bundles=re.escape(site.bundles).replace("\\/", "/"), long=site.long_cache)
    return """\
# tgext.resources: Apache VirtualHost, written by
#   {command}
# Modules: {modules} (Debian: a2enmod {modules}).
# Run `tgext-resources export` into {root} after every deployment.
<VirtualHost *:{listen}>
    ServerName localhost
    RewriteEngine On

    # Widget resources, exported under their URLs by `tgext-resources export`.
    Alias {prefix} {resources_root}/
    <Directory {resources_root}/>
        Require all granted
        Options -Indexes
        AllowOverride None
        AddDefaultCharset off
{types}
        # The plain file too must say that another representation exists.
        Header append Vary Accept-Encoding "expr=-f '%{{REQUEST_FILENAME}}.gz'"
        # Precompressed siblings, for clients that accept them.
        RewriteEngine On
        RewriteCond %{{HTTP:Accept-Encoding}} \\bgzip\\b
        RewriteCond %{{REQUEST_FILENAME}}.gz -f
        RewriteRule ^(.+)$ $1.gz [L]
        <FilesMatch "\\.gz$">
            RemoveType .gz
            RemoveEncoding .gz
            Header set Content-Encoding gzip
            Header append Vary Accept-Encoding
        </FilesMatch>
{compressed_types}
    </Directory>

    # Unversioned URLs: a short max-age, then revalidation (ETag, Last-Modified).
    <LocationMatch "^{prefix_re}">
        Header always set Cache-Control "{short}"
    </LocationMatch>
    # Versioned URLs name their content: cached forever.
    <LocationMatch "{versioned}">
        Header always set Cache-Control "{long}"
    </LocationMatch>
{bundles}
    # A file not exported (an older version, a widget controller): ask the application.
    RewriteCond {root}%{{REQUEST_URI}} !-f
    RewriteRule "^{prefix_re}(.*)$" "http://{upstream}{prefix}$1" [P,L]
    RewriteRule "^{prefix_re}" - [L]
{fscache}
    # Everything else: the application.
    ProxyPreserveHost On
    RequestHeader set X-Forwarded-Proto "http"
    RewriteRule "^/(.*)$" "http://{upstream}/$1" [P,L]
    ProxyPassReverse / http://{upstream}/
</VirtualHost>
""".format(
        command=site.command, modules=" ".join(APACHE_MODULES), root=site.root, listen=site.listen,
        prefix=site.prefix, prefix_re=re.escape(site.prefix).replace("\\/", "/"),
        resources_root=site.resources_root.replace(os.sep, "/"),
        short=site.short_cache, long=site.long_cache, versioned=site.versioned, bundles=bundles,
        upstream=site.upstream, fscache=_apache_fscache(site) if site.fscache else "",
        types=_apache_types(" " * 8), compressed_types=_apache_compressed_types(" " * 8),
    )


def _apache_types(indent):
    """The media table for Apache: the publisher's type and charset for each extension,
    whatever the host's mime.types says (Debian's calls .js text/javascript)."""
    by_type = {}
    for extension, (content_type, _, _) in sorted(media.TYPES.items()):
        by_type.setdefault(content_type, []).append("." + extension)
    lines = ["AddType %s %s" % (t, " ".join(extensions)) for t, extensions in sorted(by_type.items())]
    lines.append("AddCharset utf-8 %s" % " ".join("." + e for e in media.extensions_where(text=True)))
    return "\n".join(indent + line for line in lines)


def _apache_compressed_types(indent):
    """A ``.gz`` sibling is sent with its original's type (and mod_deflate keeps off it)."""
    compressible = media.extensions_where(compressible=True)
    blocks = [('<FilesMatch "\\.(%s)\\.gz$">' % "|".join(compressible), "    SetEnv no-gzip 1")]
    by_type = {}
    for extension in compressible:
        by_type.setdefault(media.content_type("x." + extension), []).append(extension)
    for content_type, extensions in sorted(by_type.items()):
        blocks.append(('<FilesMatch "\\.(%s)\\.gz$">' % "|".join(extensions), '    ForceType "%s"' % content_type))
    return "\n".join("%s%s\n%s%s\n%s</FilesMatch>" % (indent, start, indent, body, indent) for start, body in blocks)


# What Apache tries in the filesystem cache for a URL, in order, as nginx's try_files
# $uri $uri.html $uri/index.html: (the file, the URL pattern, the file served).
_APACHE_FSCACHE_CANDIDATES = (
    ("%{REQUEST_URI}", "^/(.*)$", "/$1"),
    ("%{REQUEST_URI}.html", "^/(.*)$", "/$1.html"),
    ("%{REQUEST_URI}index.html", "^/(.*/)?$", "/$1index.html"),
)
# What every candidate needs, as in nginx's block: GET or HEAD, no query string, and no
# hidden segment (a write in progress).
_APACHE_FSCACHE_CONDITIONS = (
    "RewriteCond %{REQUEST_METHOD} ^(GET|HEAD)$",
    "RewriteCond %{QUERY_STRING} ^$",
    "RewriteCond %{REQUEST_URI} !/\\.",
)


def _apache_fscache(site):
    fscache = site.fscache.replace(os.sep, "/")
    rules = []
    for candidate, pattern, served in _APACHE_FSCACHE_CANDIDATES:
        rules += _APACHE_FSCACHE_CONDITIONS
        rules += ["RewriteCond %s%s -f" % (fscache, candidate), 'RewriteRule "%s" "%s%s" [L]' % (pattern, fscache, served)]
    return """
    # The filesystem cache (fscache.dir): a file the application wrote there is served from
    # the disk; a missing one, any query string, any method but GET and HEAD, and hidden
    # files (writes in progress) go to the application.
    <Directory {fscache}/>
        Require all granted
        Options -Indexes
        AllowOverride None
{types}
    </Directory>
{rules}
""".format(fscache=fscache, types=_apache_types(" " * 8), rules="\n".join("    " + rule for rule in rules))


SERVERS = {"nginx": nginx, "apache": apache}


def command_line(server, ini, root, upstream, listen):
    return "tgext-resources webserver-config %s -c %s --root %s --upstream %s --listen %s" % (
        server, shlex.quote(ini), shlex.quote(root), upstream, listen)
