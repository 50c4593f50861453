"""``webserver-config --server-name``: the generated nginx and Apache configurations, run for
real, answer only for the site's hosts and refuse the others before they reach the application.

The application builds its links from the Host header (and caches pages that hold them): a
front server passing any Host lets one forged request plant another site's links.  The
upstream here is a stand-in that records what reaches it, so a refusal is proved by the
status and by the application never seeing the request.
"""
import os

import pytest

from tests.commands import command, run
from tests.conftest import require
from tests.inprocess import address_of, send_raw
from tests.frontservers import (APACHECTL, NGINX, readable_directory, recording_upstream, running_apache,
                               running_nginx)
from tests.sample import write_ini

NAMES = ("site.example", "www.site.example", "*.static.site.example")
ALLOWED = ("site.example", "www.site.example", "WWW.Site.Example", "img.static.site.example")
REFUSED = ("evil.example", "site.example.evil.example", "static.site.example", "127.0.0.1", "localhost")
# Paths of every part of the block: the application, the resources, the filesystem cache.
PATHS = ("/", "/tw2/resources/tw2.forms/static/forms.css", "/thumbs/1.png")
LAYOUTS = ("plain", "fscache", "bundles", "fscache+bundles")


def ask(base, path, host):
    """(status, body) of ``GET path`` to the server at ``base`` with Host ``host``; with
    ``host`` None, an HTTP/1.0 request without a Host header."""
    if host is None:
        wire = b"GET %s HTTP/1.0\r\n\r\n" % path.encode()
    else:
        wire = b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path.encode(), host.encode())
    response = send_raw(address_of(base), wire)
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def generate(server, directory, upstream, layout, names, aggregated_hash):
    """The CompletedProcess of `tgext-resources webserver-config` for one layout."""
    options = {"debug": "false"}
    if "fscache" in layout:
        options["fscache.dir"] = os.path.join(directory, "fscache")
    if "bundles" in layout:
        options["aggregated_hash"] = aggregated_hash
    ini = write_ini(os.path.join(directory, "ini"), **options)
    arguments = [arg for name in names for arg in ("--server-name", name)]
    return run("tgext-resources", "webserver-config", server, "-c", ini, "--root", os.path.join(directory, "export"),
               "--upstream", upstream.address, *arguments)


def started(server, directory, config, tls_port=None):
    """The real server running ``config`` once `nginx -t` / `apache2ctl -t` accept it: a
    context manager yielding its base URL (``tls_port``: the https:// one on that port)."""
    if server == "nginx":
        require(os.path.exists(NGINX), "nginx (Debian package nginx)")
        return running_nginx(directory, config, tls_port)
    require(os.path.exists(APACHECTL), "Apache (Debian package apache2)")
    return running_apache(directory, config, tls_port)


@pytest.fixture(scope="module", params=[(s, layout) for s in ("nginx", "apache") for layout in LAYOUTS],
                ids=lambda p: "-".join(p))
def named_site(request, tmp_path_factory, sample_aggregation):
    """A real front server with the configuration written for NAMES, in front of a recording upstream."""
    server, layout = request.param
    directory = str(tmp_path_factory.mktemp("named"))
    with readable_directory() as readable, recording_upstream() as upstream:
        result = generate(server, readable, upstream, layout, NAMES, sample_aggregation)
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr
        with started(server, directory, result.stdout) as base:
            yield base, upstream


def test_the_named_hosts_reach_the_application(named_site):
    base, upstream = named_site
    for number, host in enumerate(ALLOWED):
        assert ask(base, "/named-%d" % number, host) == (200, b"application"), host
    # The host as the front server matched it (lower case), whatever the client wrote.
    assert [(path, host) for path, host in upstream.requests if path.startswith("/named-")] == [
        ("/named-%d" % number, host.lower()) for number, host in enumerate(ALLOWED)]


@pytest.mark.parametrize("host", REFUSED + (None,))
def test_any_other_host_is_refused_with_421_and_never_reaches_the_application(named_site, host):
    base, upstream = named_site
    seen_before = len(upstream.requests)
    statuses = [ask(base, path, host)[0] for path in PATHS]
    assert statuses == [421] * len(PATHS)
    assert upstream.requests[seen_before:] == []


@pytest.fixture(scope="module", params=["nginx", "apache"])
def any_host_site(request, tmp_path_factory):
    """A real front server with the configuration written without --server-name."""
    server = request.param
    directory = str(tmp_path_factory.mktemp("any-host"))
    with readable_directory() as readable, recording_upstream() as upstream:
        result = generate(server, readable, upstream, "fscache", (), None)
        assert result.returncode == 0, result.stderr
        with started(server, directory, result.stdout) as base:
            yield base, upstream, result.stderr


def test_without_server_name_a_warning_says_that_any_host_is_passed(any_host_site):
    stderr = any_host_site[2]
    assert stderr.startswith("tgext-resources webserver-config: warning: no --server-name: ")
    assert "--server-name NAME" in stderr


def test_without_server_name_any_host_reaches_the_application(any_host_site):
    base, upstream, _ = any_host_site
    assert ask(base, "/any-host", "evil.example") == (200, b"application")
    assert ("/any-host", "evil.example") in upstream.requests


@pytest.mark.parametrize("server", ["nginx", "apache"])
def test_the_block_names_the_hosts_and_the_command_that_wrote_it(server, tmp_path):
    ini = write_ini(tmp_path, debug="false")
    config = command("webserver-config", server, "-c", ini, "--root", str(tmp_path), "--upstream", "127.0.0.1:8080",
                     "--server-name", "site.example", "--server-name", "www.site.example", "--server-name", "site.example")
    assert "--server-name site.example --server-name www.site.example\n" in config  # repeats dropped
    if server == "nginx":
        assert "    server_name site.example www.site.example;\n" in config
        assert config.count("listen 80 default_server;") == 1
    else:
        assert "    ServerName site.example\n    ServerAlias www.site.example\n" in config
        assert config.index("ServerName refused.invalid") < config.index("ServerName site.example")


@pytest.mark.parametrize("name", [
    "a b", "site.example;", "site.example:8080", "http://site.example", "", "exa{mple.com", "-x.example",
    "_", "site.example\nreturn 200", ".site.example", "~^(.*)$",
])
def test_a_bad_server_name_is_a_one_line_error(name, tmp_path):
    ini = write_ini(tmp_path, debug="false")
    result = run("tgext-resources", "webserver-config", "nginx", "-c", ini, "--root", str(tmp_path),
                 "--upstream", "127.0.0.1:8080", "--server-name", "site.example", "--server-name=" + name)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "tgext-resources webserver-config: error: --server-name %r: use a host name (example.com, or "
        "*.example.com for its subdomains) or an IP address, without a port or a scheme\n" % name)
