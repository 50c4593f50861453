"""The Apache ``<VirtualHost>`` of ``tgext-resources webserver-config apache`` (see webserver.py)."""
import os
import re

from . import media
from . import webserver_tls as tls

#: Apache modules the VirtualHost needs (Debian: a2enmod these); with TLS, webserver_tls's too.
APACHE_MODULES = ("alias", "authz_core", "env", "headers", "mime", "proxy", "proxy_http", "rewrite")

# A name no request can carry (RFC 6761 reserves .invalid): the refusing VirtualHost needs
# one, or it would take the main server's ServerName, which may be the site's own.
_NOWHERE = "refused.invalid"


def apache(site):
    """The configuration for ``site``: VirtualHosts refusing unnamed hosts (with
    ``--server-name``), the plain-HTTP port's redirect (with TLS), then the site's own."""
    modules = " ".join(sorted(APACHE_MODULES + (tls.APACHE_MODULES if site.tls else ())))
    ports = (site.listen,) + ((site.tls.port,) if site.tls else ())
    return """\
# tgext.resources: Apache configuration, written by
#   {command}
# Modules: {modules} (Debian: a2enmod {modules}).
# Apache must Listen on port {ports} (Debian: ports.conf has 80, and 443 once mod_ssl is on).
# .br siblings: {brotli} ({brotli_reason}).
# Run `tgext-resources export` into {root} after every deployment.
{refuse}{redirect}<VirtualHost *:{port}>
{names}
{certificate}
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
{compressed}
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
    RequestHeader set Host "expr=%{{SERVER_NAME}}{public_port}"
    RequestHeader set X-Forwarded-Proto "{scheme}"
{location}{hidden}
    RewriteRule "^/(.*)$" "http://{upstream}/$1" [P,L]
    ProxyPassReverse / http://{upstream}/
</VirtualHost>
""".format(
        command=site.command, modules=modules, root=site.root, ports=" and ".join(map(str, ports)),
        brotli="served" if site.brotli else "not served", brotli_reason=site.brotli_reason,
        port=site.tls.port if site.tls else site.listen, public_port=tls.public_port(site),
        scheme="https" if site.tls else "http", refuse=_refuse(site), names=_names(site), hidden=_hidden(site),
        redirect=tls.apache_redirect(site, _names(site)) if site.tls else "",
        location=tls.apache_location(site) if site.tls else "",
        certificate="%s\n%s\n" % (tls.apache_certificate(site), _indent(tls.NO_HSTS)) if site.tls else "",
        prefix=site.prefix, prefix_re=_regex(site.prefix),
        resources_root=site.resources_root.replace(os.sep, "/"),
        short=site.short_cache, long=site.long_cache, versioned=site.versioned, bundles=_bundles(site),
        upstream=site.upstream, fscache=_fscache(site) if site.fscache else "",
        types=_types(" " * 8), compressed=_compressed(site, " " * 8),
    )


def _indent(text):
    return "\n".join("    " + line for line in text.splitlines())


def _regex(path):
    return re.escape(path).replace("\\/", "/")


def _refuse(site):
    if not site.server_names:
        return ""
    # Apache gives a request whose Host no VirtualHost names to the first VirtualHost of its
    # address and port: this one, which answers 421 Misdirected Request (RFC 9110, 15.5.20),
    # so that a forged Host never reaches the application.  With TLS, on both ports, the TLS
    # one with the site's certificate (a client that names no host still gets an answer).
    blocks = [(site.listen, "")]
    if site.tls:
        blocks.append((site.tls.port, "    # (Apache warns at start that the certificate does not name this one: it needs none.)\n"
                       + tls.apache_certificate(site) + "\n"))
    return "# Any host not named below (a forged or missing Host header): refused.\n" + "".join("""\
<VirtualHost *:{port}>
    ServerName {nowhere}
{certificate}    RewriteEngine On
    RewriteRule ^ - [R=421,L]
</VirtualHost>

""".format(port=port, nowhere=_NOWHERE, certificate=certificate) for port, certificate in blocks)


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


def _accepts(coding):
    """A pattern of ``Accept-Encoding`` values that accept ``coding``: the token in the list,
    with no weight or one above zero ("br;q=0" says no, RFC 9110, 12.5.3)."""
    return r"(^|,)\s*%s\s*(;\s*q=(1(\.0*)?|0?\.[0-9]*[1-9][0-9]*)\s*)?(,|$)" % coding


def _compressed(site, indent):
    """Precompressed siblings for clients that accept them, the preferred one first.  The
    plain file too says that other representations exist (Vary).  A sibling is sent with
    its original's type and its own Content-Encoding, and Apache's own compressors
    (mod_deflate, mod_brotli) keep off it: it is compressed already."""
    exists = " || ".join("-f '%%{REQUEST_FILENAME}%s'" % suffix for suffix, _ in site.siblings)
    lines = ['Header append Vary Accept-Encoding "expr=%s"' % exists, "RewriteEngine On"]
    for suffix, coding in site.siblings:
        lines += ["RewriteCond %%{HTTP:Accept-Encoding} %s [NC]" % _accepts(coding),
                  "RewriteCond %%{REQUEST_FILENAME}%s -f" % suffix, "RewriteRule ^(.+)$ $1%s [L]" % suffix]
    compressible = media.extensions_where(compressible=True)
    by_type = {}
    for extension in compressible:
        by_type.setdefault(media.content_type("x." + extension), []).append(extension)
    blocks = []
    for suffix, coding in site.siblings:
        ending = re.escape(suffix)
        blocks.append(('<FilesMatch "%s$">' % ending, (
            "RemoveType %s" % suffix, "RemoveEncoding %s" % suffix, "Header set Content-Encoding %s" % coding,
            "Header append Vary Accept-Encoding", "SetEnv no-gzip 1", "SetEnv no-brotli 1")))
        blocks += [('<FilesMatch "\\.(%s)%s$">' % ("|".join(extensions), ending), ('ForceType "%s"' % content_type,))
                   for content_type, extensions in sorted(by_type.items())]
    for start, body in blocks:
        lines += [start] + ["    " + line for line in body] + ["</FilesMatch>"]
    return "\n".join(indent + line for line in lines)


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
