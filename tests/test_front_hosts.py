"""With --server-name, only the host the front server chose its block by reaches the
application: not an absolute request line's other host, not a port the client wrote, not
"name:@elsewhere" (which WebOb would make links to elsewhere of)."""
import pytest

from tests.frontservers import readable_directory, recording_upstream
from tests.inprocess import address_of, send_raw
from tests.test_server_names import NAMES, generate, started


def raw(base, wire):
    return int(send_raw(address_of(base), wire).split(b" ", 2)[1])


@pytest.fixture(scope="module", params=["nginx", "apache"])
def site(request, tmp_path_factory):
    server = request.param
    directory = str(tmp_path_factory.mktemp("attack-hosts"))
    with readable_directory() as readable, recording_upstream() as upstream:
        result = generate(server, readable, upstream, "fscache", NAMES, None)
        assert result.returncode == 0, result.stderr
        with started(server, directory, result.stdout) as base:
            # Generated for the default port (the tests move it to a free one): no port passed.
            yield base, upstream, "site.example"


def test_an_absolute_request_line_cannot_smuggle_another_host(site):
    base, upstream, canonical = site
    status = raw(base, b"GET http://site.example/abs-form HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    seen = [host for path, host in upstream.requests if path.endswith("/abs-form")]
    assert seen == [canonical] if status == 200 else seen == [], (status, seen)


def test_a_named_host_with_another_port_reaches_the_application_without_it(site):
    base, upstream, canonical = site
    status = raw(base, b"GET /odd-port HTTP/1.1\r\nHost: site.example:6666\r\nConnection: close\r\n\r\n")
    seen = [host for path, host in upstream.requests if path == "/odd-port"]
    assert status == 200 and seen == [canonical], (status, seen)


def test_a_named_host_with_userinfo_after_the_colon_reaches_the_application_cleaned(site):
    """WebOb makes http://site.example:@evil.example of it: links to evil.example."""
    base, upstream, canonical = site
    status = raw(base, b"GET /userinfo HTTP/1.1\r\nHost: site.example:@evil.example\r\nConnection: close\r\n\r\n")
    seen = [host for path, host in upstream.requests if path == "/userinfo"]
    assert seen == [canonical] if status == 200 else seen == [], (status, seen)
