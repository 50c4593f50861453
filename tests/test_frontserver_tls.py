"""``webserver-config --tls-cert --tls-key --tls-listen``, run for real: nginx and Apache with a
self-signed certificate made here, HTTP/2, brotli and gzip siblings over TLS, and the plain
port redirecting to HTTPS without ever sending a client to a host it was not asked for."""
import os
import shutil
import socket
import ssl
import subprocess
import urllib.error
import urllib.request

import gzip

import brotli
import pytest

from tests.conftest import require
from tests.frontservers import (APACHECTL, NGINX, NGINX_BROTLI, behind_nginx, running_apache, unverified_tls,
                                webserver_config)
from tests.inprocess import send_raw
from tests.sample import free_port
from tests.test_frontserver import page_resources

CURL = shutil.which("curl") or "/usr/bin/curl"
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda body: body}
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 and its key, as ``openssl`` makes them:
    (certificate file, key file)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    require(os.path.exists(OPENSSL), "openssl (Debian package openssl)")
    return make_certificate(str(tmp_path_factory.mktemp("tls")))


def require_tls_nginx():
    require(os.path.exists(NGINX), "nginx (Debian package nginx)")
    require(os.path.exists(CURL), "curl (Debian package curl)")
    require(os.path.exists(NGINX_BROTLI), "nginx's brotli module (Debian package libnginx-mod-http-brotli-static)")


@pytest.fixture(scope="module")
def front(tmp_path_factory, sample_aggregation, certificate):
    """The sample app (bundles and filesystem cache on) behind nginx with TLS on a free port."""
    require_tls_nginx()
    with behind_nginx(tmp_path_factory.mktemp("tls-front"), fscache=True, tls=certificate,
                      aggregated_hash=sample_aggregation) as deployed:
        yield deployed


def fetch(url, **headers):
    """(status, headers, body) of a GET, over TLS without checking the certificate."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10, context=unverified_tls()) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def curl(*arguments):
    """curl's standard output (certificates not checked)."""
    result = subprocess.run([CURL, "-k", "-sS", *arguments], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def raw_response(base, wire):
    """(status, {lower-case header: value}) of the raw request ``wire`` to ``base``, over TLS for https://."""
    scheme, _, address = base.partition("://")
    host, port = address.split(":")
    if scheme == "http":
        data = send_raw((host, int(port)), wire)
    else:
        with socket.create_connection((host, int(port)), timeout=10) as plain:
            with unverified_tls().wrap_socket(plain) as connection:
                connection.sendall(wire)
                data = b""
                while True:
                    try:
                        chunk = connection.recv(65536)
                    except ssl.SSLError:
                        break  # a close without close_notify: all was sent
                    if not chunk:
                        break
                    data += chunk
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    return int(head[0].split(" ", 2)[1]), {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}


def request(path, host):
    return b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path.encode(), host.encode())


def compressible_resource(front):
    """A versioned resource that the export compressed both ways."""
    urls = [u for u in page_resources(front.app.url, "/gallery") if u.endswith("calendar-en.js")]
    assert len(urls) == 1
    path = os.path.join(front.export, *urls[0].lstrip("/").split("/"))
    assert os.path.isfile(path + ".br") and os.path.isfile(path + ".gz")
    return urls[0]


# -- nginx ------------------------------------------------------------------------------------

def test_nginx_negotiates_http2_over_tls(front):
    assert curl("--http2", "-o", "/dev/null", "-w", "%{http_version}", front.nginx.url + "/") == "2"


def test_nginx_serves_brotli_to_clients_that_accept_it_over_http2(front):
    url = compressible_resource(front)
    original = fetch(front.app.url + url)[2]
    headers = curl("--http2", "-H", "Accept-Encoding: br", "-D", "-", "-o", "/dev/null", front.nginx.url + url).lower()
    assert headers.startswith("http/2 200") and "content-encoding: br" in headers and "vary: accept-encoding" in headers
    status, headers, body = fetch(front.nginx.url + url, **{"Accept-Encoding": "gzip, deflate, br"})
    assert (status, headers["Content-Encoding"]) == (200, "br")
    assert brotli.decompress(body) == original  # compressed once, not twice
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("accept, encoding", [
    ("gzip", "gzip"), ("br;q=0, gzip", "gzip"), ("identity", None), ("", None),
])
def test_nginx_serves_gzip_to_gzip_only_clients_and_the_plain_file_to_others(front, accept, encoding):
    url = compressible_resource(front)
    original = fetch(front.app.url + url)[2]
    status, headers, body = fetch(front.nginx.url + url, **{"Accept-Encoding": accept})
    assert status == 200 and headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in headers["Vary"]
    assert (gzip.decompress(body) if encoding else body) == original


@pytest.mark.parametrize("path", ["/", "/some/page?a=1&b=%2F2", "/tw2/resources/tw2.forms/static/forms.css?x"])
def test_plain_http_is_redirected_to_https_on_the_tls_port_with_path_and_query(front, path):
    status, headers = raw_response(front.nginx.http_url, request(path, "127.0.0.1"))
    assert status == 301
    assert headers["location"] == front.nginx.url + path  # https://127.0.0.1:<the TLS port><path>


@pytest.mark.parametrize("wire", [
    request("/", "evil.example"),
    request("/", "evil.example:%d" % 443),
    b"GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
], ids=["other-host", "other-host-and-port", "absolute-form", "no-host"])
def test_the_redirect_never_sends_a_client_to_a_host_it_was_not_named_for(front, wire):
    status, headers = raw_response(front.nginx.http_url, wire)
    assert status == 421 and "location" not in headers


def test_over_tls_other_hosts_are_refused_too(front):
    assert raw_response(front.nginx.url, request("/", "evil.example"))[0] == 421
    assert raw_response(front.nginx.url, request("/", "127.0.0.1"))[0] == 200


def test_the_applications_redirects_to_itself_over_plain_http_are_made_https(front):
    """The sample application, served by waitress without trusted_proxy, does not read
    X-Forwarded-Proto: it redirects to http:// its host and the TLS port."""
    host = front.nginx.url[len("https://"):]
    direct = raw_response(front.app.url, request("/replace_image?image_id=1", host))
    assert direct == (302, direct[1]) and direct[1]["location"] == "http://%s/images" % host  # what it says
    status, headers = raw_response(front.nginx.url, request("/replace_image?image_id=1", "127.0.0.1"))
    assert (status, headers["location"]) == (302, "https://%s/images" % host)


def test_tls_resources_and_filesystem_cache_are_served_with_the_application_stopped(
        tmp_path, sample_aggregation, certificate):
    require_tls_nginx()
    with behind_nginx(tmp_path, fscache=True, tls=certificate, aggregated_hash=sample_aggregation) as deployed:
        urls = page_resources(deployed.app.url, "/gallery")
        assert len(urls) > 3
        expected = {url: fetch(deployed.app.url + url)[2] for url in urls}
        cached = {path: fetch(deployed.nginx.url + path) for path in ("/thumbs/1.png", "/images")}  # written now
        assert [response[0] for response in cached.values()] == [200, 200]
        deployed.app.stop()
        assert fetch(deployed.nginx.url + "/gallery")[0] == 502  # the page needs the application...
        for url in urls:  # ...its resources do not
            status, _, body = fetch(deployed.nginx.url + url)
            assert status == 200 and body == expected[url], url
        for path, (_, headers, body) in cached.items():  # nor the filesystem cache
            status, headers, again = fetch(deployed.nginx.url + path)
            assert (status, again, headers["Cache-Control"]) == (200, body, "no-cache"), path
        status, headers, body = fetch(deployed.nginx.url + "/images", **{"Accept-Encoding": "br"})
        assert headers["Content-Encoding"] == "br" and brotli.decompress(body) == cached["/images"][2]
        assert curl("--http2", "-o", "/dev/null", "-w", "%{http_version}", deployed.nginx.url + "/thumbs/1.png") == "2"


# -- Apache -----------------------------------------------------------------------------------

def test_apache_speaks_tls_and_http2_serves_brotli_and_redirects_plain_http(front, tmp_path, certificate):
    require(os.path.exists(APACHECTL), "Apache (Debian package apache2)")
    tls_port = free_port()
    config = webserver_config("apache", front.app, front.export, options=[
        "--tls-cert", certificate[0], "--tls-key", certificate[1], "--tls-listen", str(tls_port)])
    assert "Protocols h2 http/1.1" in config and "SSLProtocol -all +TLSv1.2 +TLSv1.3" in config
    url = compressible_resource(front)
    original = fetch(front.app.url + url)[2]
    with running_apache(str(tmp_path), config, tls_port=tls_port) as base:
        assert curl("--http2", "-o", "/dev/null", "-w", "%{http_version}", base + url) == "2"
        for accept, encoding in (("br", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"), ("identity", None)):
            status, headers, body = fetch(base + url, **{"Accept-Encoding": accept})
            assert status == 200 and headers.get("Content-Encoding") == encoding, accept
            assert DECODE[encoding](body) == original, accept  # compressed once, not twice
            assert "Accept-Encoding" in headers["Vary"] and headers["Content-Type"] == "application/javascript; charset=utf-8"
            assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        status, headers = raw_response(base.http_url, request("/a/b?c=1&d=2", "127.0.0.1"))
        assert (status, headers["location"]) == (301, "%s/a/b?c=1&d=2" % base)
        status, headers = raw_response(base.http_url, request("/a", "evil.example"))
        assert status == 421 and "location" not in headers
        assert raw_response(base, request("/", "evil.example"))[0] == 421
        assert raw_response(base, request("/", "127.0.0.1"))[0] == 200  # proxied to the application
        status, headers = raw_response(base, request("/replace_image?image_id=1", "127.0.0.1"))
        assert (status, headers["location"]) == (302, "%s/images" % base)  # https://, not the app's http://
