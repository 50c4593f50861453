"""The nginx ``server`` blocks of ``tgext-resources webserver-config nginx`` (see webserver.py)."""
from . import media
from . import webserver_tls as tls


def nginx(site):
    """The configuration for ``site``: server blocks refusing unnamed hosts (with
    ``--server-name``), the plain-HTTP port's redirect (with TLS), then the site's own."""
    return """\
# tgext.resources: nginx configuration, written by
#   {command}
# Include it in the http block of nginx.conf (which must include mime.types, as Debian's
# does), and run `tgext-resources export` into {root} after every deployment.
# .br siblings: {brotli} ({brotli_reason}).
{refuse}{redirect}server {{
{listen}
{server_name}
{no_hsts}
    # Widget resources, exported under their URLs by `tgext-resources export`.
    location ^~ {prefix} {{
        root {root};
        # The publisher's types (media.py), so that both send the same Content-Type.
        {types}
{compressed}
        charset utf-8;
        charset_types {charset_types};
        etag on;
        # One range per request, as the application serves them (several: the whole file).
        max_ranges 1;
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
        command=site.command, root=site.root, prefix=site.prefix,
        brotli="served" if site.brotli else "not served", brotli_reason=site.brotli_reason,
        refuse=_refuse(site), redirect=tls.nginx_redirect(site) if site.tls else "",
        listen=tls.nginx_listen(site) if site.tls else "    listen %d;" % site.listen,
        server_name=_server_name(site), no_hsts="\n%s\n" % _indent(tls.NO_HSTS) if site.tls else "",
        compressed=_compressed(site), charset_types=site.charset_types, short=site.short_cache,
        long=site.long_cache, versioned=site.versioned, bundles=_bundles(site), proxy=_proxy(site), types=_types(),
        everything_else=_fscache(site) if site.fscache else "    location / {\n%s    }\n" % _proxy(site),
    )


def _indent(text):
    return "\n".join("    " + line for line in text.splitlines())


def _compressed(site):
    """Precompressed siblings, for clients that accept them; ``Vary: Accept-Encoding`` on the
    plain file too (gzip_vary covers brotli_static's answers as well)."""
    lines = ["        gzip_static on;", "        gzip_vary on;"]
    if site.brotli:
        # Preferred over .gz by the module when the client accepts both (and br;q=0 is a no).
        lines.insert(0, "        brotli_static on;")
    return "\n".join(lines)


def _server_name(site):
    if site.server_names:
        return "    server_name %s;" % " ".join(site.server_names)
    # "_" is no host name: the block is chosen as the port's default server, i.e. for every
    # Host no other block names.
    return "    # No --server-name: every Host reaches the application as it came (see the README).\n    server_name _;"


def _refuse(site):
    if not site.server_names:
        return ""
    # 421 Misdirected Request (RFC 9110, 15.5.20): this server does not answer for that
    # host.  A forged Host never reaches the application, which builds its links (and
    # caches pages) with it.  A status, not nginx's silent 444, so that a client, a health
    # check or a lint tool sees why.  With TLS, on both ports, the TLS one with the site's
    # certificate: a client that names no host (an IP address) still gets an answer.
    blocks = ["    listen %d default_server;" % site.listen]
    if site.tls:
        blocks.append(tls.nginx_listen(site, " default_server"))
    return "# Any host not named below (a forged or missing Host header): refused.\n" + "".join(
        """\
server {{
{listen}
    server_name _;
    return 421;
}}

""".format(listen=listen) for listen in blocks)


def _bundles(site):
    if not site.bundles:
        return ""
    return """
        # Bundles are named by their content: cached forever.
        location ^~ {bundles} {{
            add_header Cache-Control "{long}";
            try_files $uri @application;
        }}
""".format(bundles=site.bundles, long=site.long_cache)


def _proxy(site):
    """How nginx hands a request to the application: keep-alive connections to the
    upstream, the client's host, address and scheme passed on for the application's URLs
    and logs, and the response headers the front server drops (webserver.py says why)."""
    hidden = "".join("        proxy_hide_header %s;\n" % header for header in site.hidden_headers)
    return """\
        proxy_pass http://{upstream};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        # The host this block was chosen by ($host: from the request line or the Host header,
        # checked against server_name), never the header as sent ($http_host: an absolute
        # request line, a port or "name:@elsewhere" would reach the application's links).
        proxy_set_header Host $host{port};
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
{redirect}{hidden}""".format(upstream=site.upstream, hidden=hidden, port=tls.public_port(site),
                           redirect=tls.nginx_proxy_redirect(site) if site.tls else "")


def _types():
    """A ``types`` block of media.py's table: nginx then names each type as the publisher does
    (its own mime.types differs: .mjs, .map, .ttf...); a type the table lacks is sent as
    application/octet-stream."""
    by_type = {}
    for extension, (content_type, _, _) in sorted(media.TYPES.items()):
        by_type.setdefault(content_type, []).append(extension.lstrip("."))
    lines = ["            %s %s;" % (t, " ".join(extensions)) for t, extensions in sorted(by_type.items())]
    return "types {\n%s\n        }\n        default_type application/octet-stream;" % "\n".join(lines)


def _fscache(site):
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
{compressed}
        charset utf-8;
        charset_types {charset_types};
        # What the application sends for these pages (webserver.py says why).
        add_header Cache-Control "{cache_control}";
        try_files $uri $uri.html $uri/index.html @application;

        location ~ "/\\." {{
            try_files /.tgext-resources-never @application;
        }}
    }}
""".format(fscache=site.fscache, charset_types=site.charset_types, cache_control=site.fscache_cache,
           compressed=_compressed(site))
