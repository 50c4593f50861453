"""Host names under ``--tls-cert``: the plain port redirects only the site's own hosts, to
themselves, and refuses the others; the TLS port answers the site's hosts and tells the
application the scheme and port it was reached by.  Real nginx and Apache, in front of an
upstream that records what reaches it."""
import os

import pytest

from tests.commands import run
from tests.frontservers import readable_directory, recording_upstream
from tests.sample import free_port, write_ini
from tests.test_frontserver_tls import raw_response, request
from tests.test_server_names import ALLOWED, NAMES, REFUSED, started


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    from tests.test_frontserver_tls import OPENSSL, make_certificate, require

    require(os.path.exists(OPENSSL), "openssl (Debian package openssl)")
    return make_certificate(str(tmp_path_factory.mktemp("tls-hosts")))


def generate(server, directory, upstream, names, certificate, tls_port):
    """The CompletedProcess of `tgext-resources webserver-config` with TLS on ``tls_port``."""
    ini = write_ini(os.path.join(directory, "ini"), debug="false", **{"fscache.dir": os.path.join(directory, "fscache")})
    arguments = [arg for name in names for arg in ("--server-name", name)]
    return run("tgext-resources", "webserver-config", server, "-c", ini, "--root", os.path.join(directory, "export"),
               "--upstream", upstream.address, "--tls-cert", certificate[0], "--tls-key", certificate[1],
               "--tls-listen", str(tls_port), *arguments)


@pytest.fixture(scope="module", params=["nginx", "apache"])
def site(request, tmp_path_factory, certificate):
    """(base URL (https://; ``.http_url`` the plain one), the recording upstream, the TLS port)."""
    server = request.param
    directory = str(tmp_path_factory.mktemp("tls-named"))
    tls_port = free_port()
    with readable_directory() as readable, recording_upstream() as upstream:
        result = generate(server, readable, upstream, NAMES, certificate, tls_port)
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr
        with started(server, directory, result.stdout, tls_port) as base:
            yield base, upstream, tls_port


@pytest.mark.parametrize("host", ALLOWED)
def test_a_named_host_is_redirected_to_itself_on_the_tls_port(site, host):
    base, upstream, tls_port = site
    seen_before = len(upstream.requests)
    status, headers = raw_response(base.http_url, request("/p/q?r=1&s=2", host))
    assert (status, headers["location"]) == (301, "https://%s:%d/p/q?r=1&s=2" % (host.lower(), tls_port))
    assert upstream.requests[seen_before:] == []  # the redirect is the front server's


@pytest.mark.parametrize("host", ["site.example:6666", "site.example:@evil.example"])
def test_a_named_host_with_a_port_or_userinfo_is_redirected_to_the_name_alone(site, host):
    base, _, tls_port = site
    status, headers = raw_response(base.http_url, request("/p", host))
    assert status == 400 or headers["location"] == "https://site.example:%d/p" % tls_port, (status, headers)


@pytest.mark.parametrize("host", REFUSED + (None,))
def test_any_other_host_gets_no_redirect_at_all(site, host):
    base, upstream, _ = site
    wire = b"GET /p HTTP/1.0\r\n\r\n" if host is None else request("/p", host)
    status, headers = raw_response(base.http_url, wire)
    assert status in (400, 421) and "location" not in headers, (status, headers)


def test_an_absolute_request_line_cannot_choose_the_redirect_target(site):
    base = site[0]
    wire = b"GET http://evil.example/p HTTP/1.1\r\nHost: site.example\r\nConnection: close\r\n\r\n"
    status, headers = raw_response(base.http_url, wire)
    assert "evil" not in headers.get("location", ""), (status, headers)


def test_over_tls_the_named_hosts_reach_the_application_with_scheme_and_port(site):
    base, upstream, tls_port = site
    for number, host in enumerate(ALLOWED):
        assert raw_response(base, request("/tls-%d" % number, host))[0] == 200, host
    seen = [(path, headers) for (path, _), headers in zip(upstream.requests, upstream.headers) if path.startswith("/tls-")]
    assert [(path, h["Host"], h["X-Forwarded-Proto"]) for path, h in seen] == [
        ("/tls-%d" % number, "%s:%d" % (host.lower(), tls_port), "https") for number, host in enumerate(ALLOWED)]


@pytest.mark.parametrize("host", REFUSED)
def test_over_tls_any_other_host_is_refused_and_never_reaches_the_application(site, host):
    base, upstream, _ = site
    seen_before = len(upstream.requests)
    assert raw_response(base, request("/tls-refused", host))[0] == 421
    assert upstream.requests[seen_before:] == []


@pytest.mark.parametrize("server", ["nginx", "apache"])
def test_without_server_name_the_redirect_goes_to_the_host_asked_for_with_the_warning(server, tmp_path, certificate):
    tls_port = free_port()
    with readable_directory() as readable, recording_upstream() as upstream:
        result = generate(server, readable, upstream, (), certificate, tls_port)
        assert result.returncode == 0 and "warning: no --server-name: " in result.stderr
        with started(server, str(tmp_path), result.stdout, tls_port) as base:
            status, headers = raw_response(base.http_url, request("/x?y", "anything.example"))
            assert (status, headers["location"]) == (301, "https://anything.example:%d/x?y" % tls_port)
