"""TLS for ``webserver-config``: ``--tls-cert``, ``--tls-key`` and ``--tls-listen`` checked, the
TLS policy both front servers follow, and the TLS parts of their blocks.

With the options, the site's block listens with TLS and HTTP/2 on ``--tls-listen`` (443),
and the plain-HTTP port (``--listen``) only redirects to it.
"""
import os
import re

from .errors import WebServerConfigError

DEFAULT_PORT = 443

#: TLS 1.0 and 1.1 are deprecated (RFC 8996); every client of the last decade speaks 1.2.
PROTOCOLS = ("TLSv1.2", "TLSv1.3")

#: TLS 1.2 cipher suites (OpenSSL fixes 1.3's): forward secret AEAD ones only, Mozilla's
#: "intermediate" list without its DHE suites, which need a Diffie-Hellman parameter file
#: of the site's own.  The client chooses among them (no server preference): they are all
#: strong, and a phone without AES hardware picks ChaCha20.
CIPHERS = ":".join((
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
))

#: The status of the plain-HTTP port's redirect.  301, not 308: a browser opening the
#: http:// address sends GET, which both keep; 301 is understood by every client (308 only
#: since RFC 7538), and a form POSTed to http:// has already sent its data in the clear:
#: turned into a GET by 301, the mistake shows, where 308 would send the data once more.
REDIRECT_STATUS = 301

#: Why the blocks send no Strict-Transport-Security (the README says how to add it).
NO_HSTS = """\
# No Strict-Transport-Security header: browsers keep it for its whole max-age, whatever the
# site says later, so a certificate problem, a move back to plain HTTP or a subdomain
# without TLS (with includeSubDomains) would lock visitors out. Add it once HTTPS is there
# to stay (see the README)."""

# A path goes into the configuration as it is: nothing that ends a directive, starts a
# comment, quotes, or names an nginx variable.
_UNSAFE_PATH_RE = re.compile(r"[\s;{}\"'#$\\]")
# What a PEM file of each kind holds (RSA, EC and PKCS#8 keys alike end "PRIVATE KEY-----").
_PEM_MARKERS = {"--tls-cert": "-----BEGIN CERTIFICATE-----", "--tls-key": "PRIVATE KEY-----"}
_PEM_WHAT = {"--tls-cert": "a PEM certificate (the site's, then its chain)",
             "--tls-key": "a PEM private key without a passphrase"}


class Tls:
    """The checked TLS options: ``cert`` and ``key`` (absolute paths) and ``port``."""

    def __init__(self, cert, key, port):
        self.cert = cert
        self.key = key
        self.port = port


def port_number(option, value, default=None):
    """``value`` of ``option`` as a port number, or a WebServerConfigError saying what to give."""
    if str(value).isdigit() and 0 < int(value) < 65536:
        return int(value)
    example = " (%d by default)" % default if default else ""
    raise WebServerConfigError("%s %s: use a port number from 1 to 65535%s" % (option, value, example))


def checked_tls(cert, key, tls_listen, listen):
    """The TLS options as given (``None`` for those not given), checked: a Tls, or None when
    none of them is given."""
    if cert is None and key is None:
        if tls_listen is not None:
            raise WebServerConfigError(
                "--tls-listen %s needs --tls-cert FILE and --tls-key FILE: give the certificate and its key, "
                "or leave --tls-listen out" % tls_listen)
        return None
    if cert is None or key is None:
        given, missing = ("--tls-cert", "--tls-key") if key is None else ("--tls-key", "--tls-cert")
        raise WebServerConfigError(
            "%s needs %s too: give both, the certificate (with its chain) and its private key" % (given, missing))
    port = port_number("--tls-listen", DEFAULT_PORT if tls_listen is None else tls_listen, DEFAULT_PORT)
    if port == int(listen):
        raise WebServerConfigError(
            "--listen %s and --tls-listen %s are the same port: plain HTTP (which only redirects) and TLS need "
            "one each, e.g. --listen 80 --tls-listen 443" % (listen, port))
    return Tls(_pem_file("--tls-cert", cert), _pem_file("--tls-key", key), port)


def _pem_file(option, path):
    """The absolute path of ``path`` once it is known to be a readable PEM file of its kind.

    Read here rather than left to the front server: a wrong path or a key swapped for the
    certificate would otherwise show only when the server reloads, on the live site."""
    absolute = os.path.abspath(path)
    if _UNSAFE_PATH_RE.search(absolute):
        raise WebServerConfigError(
            "%s %s: the path holds a space, a quote or one of ; { } # $ \\, which the configuration cannot "
            "hold; move or link the file to a plain path" % (option, path))
    if not os.path.isfile(absolute):
        raise WebServerConfigError("%s %s: no such file; give the path of %s" % (option, path, _PEM_WHAT[option]))
    try:
        with open(absolute, "rb") as f:
            text = f.read(1 << 20).decode("ascii", "replace")
    except OSError as exc:
        raise WebServerConfigError(
            "%s %s: cannot be read (%s); run the command as a user who can read it, e.g. with sudo "
            "(the front server reads it as root)" % (option, path, exc.strerror)) from None
    if _PEM_MARKERS[option] not in text:
        raise WebServerConfigError(
            "%s %s: this is not %s; check that the certificate and the key are not swapped"
            % (option, path, _PEM_WHAT[option]))
    if option == "--tls-key" and "ENCRYPTED" in text:
        raise WebServerConfigError(
            "--tls-key %s: the key is encrypted, and the front server would ask for its passphrase at every "
            "start; give it a key without one (openssl pkey -in KEY -out PLAIN_KEY)" % path)
    return absolute


def public_port(site):
    """``:port`` the site's URLs carry (nothing for the scheme's default port)."""
    if site.tls:
        return "" if site.tls.port == DEFAULT_PORT else ":%d" % site.tls.port
    return "" if site.listen == 80 else ":%d" % site.listen


# -- nginx ------------------------------------------------------------------------------------

def nginx_listen(site, default_server=""):
    """The ``listen`` line of a server block of the site's TLS port, and its TLS directives.

    ``listen ... ssl http2`` is the form nginx 1.22 (Debian 12) knows; nginx 1.25.1 and later
    still accept it, with a warning that ``http2 on;`` replaced it.  The refusing default
    server gets the same settings: nginx negotiates TLS with the default server's before it
    knows the host asked for."""
    return """\
    listen {port} ssl http2{default};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols {protocols};
    ssl_ciphers {ciphers};
    ssl_prefer_server_ciphers off;
    # Resumed sessions skip a round trip; a cache of the server's own (tickets are off: their
    # key, never rotated by nginx, would undo forward secrecy).
    ssl_session_cache shared:tgext_resources:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;""".format(
        port=site.tls.port, default=default_server, cert=site.tls.cert, key=site.tls.key,
        protocols=" ".join(PROTOCOLS), ciphers=CIPHERS)


def nginx_redirect(site):
    """The server block of the plain-HTTP port: every request redirected to https://, path and
    query kept.  ``$host`` is the host the block was chosen by: with --server-name one of the
    names (the default server refuses the others), never a Host header as the client wrote it."""
    if site.server_names:
        name = "    server_name %s;" % " ".join(site.server_names)
    else:
        name = "    # No --server-name: redirects to whatever host was asked for (see the README).\n    server_name _;"
    return """\
# Plain HTTP: redirected to HTTPS.
server {{
    listen {listen};
{name}
    return {status} https://$host{port}$request_uri;
}}

""".format(listen=site.listen, name=name, status=REDIRECT_STATUS, port=public_port(site))


def nginx_proxy_redirect(site):
    """An application that does not trust X-Forwarded-Proto (waitress without
    ``trusted_proxy``) redirects to http:// its own host and the TLS port, which no client
    can reach: such a Location is made https://.  Other Locations are left alone."""
    return """\
        # The application's redirects to itself over http:// (one that does not trust
        # X-Forwarded-Proto): https://, the scheme it was reached by.
        proxy_redirect default;
        proxy_redirect http://$host{port}/ https://$host{port}/;
""".format(port=public_port(site))


# -- Apache -----------------------------------------------------------------------------------

#: Apache modules a TLS VirtualHost needs, besides the plain one's.
APACHE_MODULES = ("ssl", "http2")


def apache_directives():
    """The TLS directives of a VirtualHost of the TLS port (the certificate lines apart).

    The session cache is global in Apache (SSLSessionCache): Debian's ssl.conf, enabled with
    mod_ssl, sets one.  HTTP/2 needs mod_http2 and a threaded MPM: with prefork, Apache logs a
    warning and speaks HTTP/1.1 only (Debian's apache2 runs event, unless mod_php switched
    it)."""
    return """\
    SSLProtocol -all {protocols}
    SSLCipherSuite {ciphers}
    SSLHonorCipherOrder off
    SSLSessionTickets off
    Protocols h2 http/1.1""".format(protocols=" ".join("+" + p for p in PROTOCOLS), ciphers=CIPHERS)


def apache_certificate(site):
    return "    SSLEngine on\n    SSLCertificateFile %s\n    SSLCertificateKeyFile %s\n%s" % (
        site.tls.cert, site.tls.key, apache_directives())


def apache_location(site):
    """The Apache form of nginx_proxy_redirect: a Location to http:// the host this
    VirtualHost was chosen by (and the TLS port) is made https://."""
    return """\
    # The application's redirects to itself over http:// (one that does not trust
    # X-Forwarded-Proto): https://, the scheme it was reached by.
    Header edit Location ^http:// https:// "expr=%{{resp:Location}} -strmatch 'http://%{{SERVER_NAME}}{port}/*'"
""".format(port=public_port(site))


def apache_redirect(site, names):
    """The VirtualHost of the plain-HTTP port: every request redirected to https://, path and
    query kept (mod_rewrite passes the query string on).  With --server-name, %{SERVER_NAME}
    is the name this VirtualHost was chosen by; other hosts went to the refusing one."""
    return """\
# Plain HTTP: redirected to HTTPS.
<VirtualHost *:{listen}>
{names}
    RewriteEngine On
    RewriteRule ^ https://%{{SERVER_NAME}}{port}%{{REQUEST_URI}} [R={status},L]
</VirtualHost>

""".format(listen=site.listen, names=names, port=public_port(site), status=REDIRECT_STATUS)
