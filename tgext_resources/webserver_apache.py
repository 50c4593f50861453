"""The Apache ``<VirtualHost>`` of ``tgext-resources webserver-config apache`` (see webserver.py)."""
import os
import re

from . import media

#: Apache modules the VirtualHost needs (Debian: a2enmod these).
APACHE_MODULES = ("alias", "authz_core", "env", "headers", "mime", "proxy", "proxy_http", "rewrite")

# A name no request can carry (RFC 6761 reserves .invalid): the refusing VirtualHost needs
# one, or it would take the main server's ServerName, which may be the site's own.
_NOWHERE = "refused.invalid"


def apache(site):
    """The configuration for ``site``: a VirtualHost refusing unnamed hosts (with
    ``--server-name``), then the site's own."""
    return """\
# tgext.resources: Apache configuration, written by
#   {command}
# Modules: {modules} (Debian: a2enmod {modules}).
# Run `tgext-resources export` into {root} after every deployment.
{refuse}<VirtualHost *:{listen}>
{names}
    RewriteEngine On

    # Widget resources, exported under their URLs by `tgext-resources export`.
    Alias {prefix} {resources_root}/
    <Directory {resources_root}/>
        Require all granted
        Options -Indexes
        AllowOverride None
        AddDefaultCharset off
        # One range per request, as the application serves them (several: the whole file).
        MaxRanges 1
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
    # The host this VirtualHost was chosen by, without whatever port the client wrote.
    RequestHeader set Host "expr=%{{SERVER_NAME}}{port}"
    RequestHeader set X-Forwarded-Proto "http"
{hidden}
    RewriteRule "^/(.*)$" "http://{upstream}/$1" [P,L]
    ProxyPassReverse / http://{upstream}/
</VirtualHost>
""".format(
        command=site.command, modules=" ".join(APACHE_MODULES), root=site.root, listen=site.listen,
        port="" if site.listen == 80 else ":%d" % site.listen,
        refuse=_refuse(site), names=_names(site), hidden=_hidden(site),
        prefix=site.prefix, prefix_re=_regex(site.prefix),
        resources_root=site.resources_root.replace(os.sep, "/"),
        short=site.short_cache, long=site.long_cache, versioned=site.versioned, bundles=_bundles(site),
        upstream=site.upstream, fscache=_fscache(site) if site.fscache else "",
        types=_types(" " * 8), compressed_types=_compressed_types(" " * 8),
    )


def _regex(path):
    return re.escape(path).replace("\\/", "/")


def _refuse(site):
    if not site.server_names:
        return ""
    # Apache gives a request whose Host no VirtualHost names to the first VirtualHost of its
    # address and port: this one, which answers 421 Misdirected Request (RFC 9110, 15.5.20),
    # so that a forged Host never reaches the application.
    return """\
# Any host not named below (a forged or missing Host header): refused.
<VirtualHost *:{listen}>
    ServerName {nowhere}
    RewriteEngine On
    RewriteRule ^ - [R=421,L]
</VirtualHost>

""".format(listen=site.listen, nowhere=_NOWHERE)


def _names(site):
    if not site.server_names:
        # The only VirtualHost of its port, so Apache gives it every Host (see the README).
        return "    # No --server-name: every Host reaches the application as it came.\n    ServerName localhost"
    first, *others = site.server_names
    lines = ["    ServerName %s" % first]
    if others:
        lines.append("    ServerAlias %s" % " ".join(others))
    return "\n".join(lines)


def _hidden(site):
    # "always" too: mod_headers keeps the headers of non-2xx responses in another table.
    return "\n".join("    Header unset %s\n    Header always unset %s" % (h, h) for h in site.hidden_headers)


def _bundles(site):
    if not site.bundles:
        return ""
    return """
    # Bundles are named by their content: cached forever.
    <LocationMatch "^{bundles}">
        Header always set Cache-Control "{long}"
    </LocationMatch>
""".format(bundles=_regex(site.bundles), long=site.long_cache)


def _types(indent):
    """The media table for Apache: the publisher's type and charset for each extension,
    whatever the host's mime.types says (Debian's calls .js text/javascript)."""
    by_type = {}
    for extension, (content_type, _, _) in sorted(media.TYPES.items()):
        by_type.setdefault(content_type, []).append("." + extension)
    lines = ["AddType %s %s" % (t, " ".join(extensions)) for t, extensions in sorted(by_type.items())]
    lines.append("AddCharset utf-8 %s" % " ".join("." + e for e in media.extensions_where(text=True)))
    return "\n".join(indent + line for line in lines)


def _compressed_types(indent):
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
_FSCACHE_CANDIDATES = (
    ("%{REQUEST_URI}", "^/(.*)$", "/$1"),
    ("%{REQUEST_URI}.html", "^/(.*)$", "/$1.html"),
    ("%{REQUEST_URI}index.html", "^/(.*/)?$", "/$1index.html"),
)
# What every candidate needs, as in nginx's block: GET or HEAD, no query string, and no
# hidden segment (a write in progress).
_FSCACHE_CONDITIONS = (
    "RewriteCond %{REQUEST_METHOD} ^(GET|HEAD)$",
    "RewriteCond %{QUERY_STRING} ^$",
    "RewriteCond %{REQUEST_URI} !/\\.",
)


def _fscache(site):
    fscache = site.fscache.replace(os.sep, "/")
    rules = []
    for candidate, pattern, served in _FSCACHE_CANDIDATES:
        rules += _FSCACHE_CONDITIONS
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
        # What the application sends for these pages (webserver.py says why).
        Header set Cache-Control "{cache_control}"
    </Directory>
{rules}
""".format(fscache=fscache, types=_types(" " * 8), cache_control=site.fscache_cache,
           rules="\n".join("    " + rule for rule in rules))
