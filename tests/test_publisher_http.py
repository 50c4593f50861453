"""The publisher through real servers: files changed under a running application, and the
same answers as nginx gives for the exported copies of the same files."""
import http.client
import os
import urllib.parse

import pytest
import tw2.core as twc
from tg import expose

from tests import distributions
from tests.apps import RootController, build, canonical, resource_links
from tests.concurrency import repeatedly
from tests.conftest import require
from tests.frontservers import NGINX, behind_nginx
from tests.inprocess import waitress_serving

FOREVER = "public, max-age=31536000, immutable"


def request(base, path, method="GET", **headers):
    """``(status, headers, body)`` of one request to ``base`` (``http://host:port`` or
    ``(host, port)``); the body read to its Content-Length (http.client raises when the
    server sends fewer bytes)."""
    if isinstance(base, str):
        parsed = urllib.parse.urlsplit(base)
        base = (parsed.hostname, parsed.port)
    connection = http.client.HTTPConnection(*base, timeout=10)
    try:
        connection.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# -- a file changed under a running production application ----------------------------------

def styled_app(tmp_path, css):
    """A production application whose page /styled links ``static/site.css`` of a package
    holding ``css``: ``(TestApp, module name, path of the file)``."""
    name = distributions.unique("restyled")
    distributions.install(tmp_path, name, {"%s/__init__.py" % name: "", "%s/static/site.css" % name: css})
    stylesheet = twc.CSSLink(modname=name, filename="static/site.css")

    class Root(RootController):
        @expose("tests.testsite.templates.page")
        def styled(self):
            stylesheet.req().prepare()
            return dict(title="styled", widgets=[])

    return build(root=Root(), debug="false"), name, str(tmp_path / name / "static" / "site.css")


def site_css_link(app):
    links = [u for u in resource_links(app.get("/styled").text) if u.endswith("/site.css")]
    assert len(links) == 1
    return links[0]


OLD_CSS = b"/* " + b"o" * 182 + b" */"  # 188 bytes
NEW_CSS = b"/* " + b"n" * 514 + b" */"  # 520 bytes


def test_a_file_rewritten_in_place_is_served_whole_with_a_new_tag_and_no_longer_immutable(tmp_path):
    app, name, path = styled_app(tmp_path, OLD_CSS)
    old_link = site_css_link(app)
    unversioned = canonical(old_link)
    with waitress_serving(app.app) as address:
        status, headers, body = request(address, old_link)
        assert (status, body, headers["Cache-Control"]) == (200, OLD_CSS, FOREVER)
        old_etag = request(address, unversioned)[1]["ETag"]
        before = os.stat(path)
        with open(path, "r+b") as f:  # in place: same inode, and even the same date
            f.write(NEW_CSS)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

        status, headers, body = request(address, unversioned)
        assert (status, body, headers["Content-Length"]) == (200, NEW_CSS, "520")
        assert headers["ETag"] != old_etag
        assert request(address, unversioned, If_None_Match=old_etag)[0] == 200
        status, headers, body = request(address, old_link)  # a URL naming the old content
        assert (status, body) == (200, NEW_CSS)
        assert headers["Cache-Control"] != FOREVER
        new_link = site_css_link(app)
        assert new_link != old_link
        status, headers, body = request(address, new_link)
        assert (status, body, headers["Cache-Control"]) == (200, NEW_CSS, FOREVER)


def test_a_change_noticed_through_the_unversioned_url_gives_pages_new_links(tmp_path):
    app, name, path = styled_app(tmp_path, OLD_CSS)
    old_link = site_css_link(app)
    assert app.get(canonical(old_link)).body == OLD_CSS
    with open(path, "wb") as f:
        f.write(NEW_CSS)
    assert app.get(canonical(old_link)).body == NEW_CSS
    new_link = site_css_link(app)
    assert new_link != old_link
    response = app.get(new_link)
    assert (response.body, response.headers["Cache-Control"]) == (NEW_CSS, FOREVER)


def test_a_file_replaced_by_one_of_the_same_size_and_date_gets_a_new_tag(tmp_path):
    app, name, path = styled_app(tmp_path, OLD_CSS)
    unversioned = canonical(site_css_link(app))
    with waitress_serving(app.app) as address:
        old_etag = request(address, unversioned)[1]["ETag"]
        before = os.stat(path)
        same_size = OLD_CSS.replace(b"o", b"s")
        with open(path + ".new", "wb") as f:
            f.write(same_size)
        os.utime(path + ".new", ns=(before.st_atime_ns, before.st_mtime_ns))
        os.replace(path + ".new", path)
        status, headers, body = request(address, unversioned)
        assert (status, body) == (200, same_size)
        assert headers["ETag"] != old_etag
        assert request(address, unversioned, If_None_Match=old_etag)[0] == 200


def test_readers_never_get_a_body_that_disagrees_with_its_headers_while_the_file_is_replaced(tmp_path):
    versions = [OLD_CSS, NEW_CSS]
    app, name, path = styled_app(tmp_path, versions[0])
    unversioned = canonical(site_css_link(app))
    seen = {}  # ETag -> the one body sent with it
    wrong = []

    with waitress_serving(app.app) as address:
        def read(_):
            status, headers, body = request(address, unversioned)
            if status != 200 or body not in versions or seen.setdefault(headers["ETag"], body) != body:
                wrong.append((status, len(body), headers.get("Content-Length"), headers.get("ETag")))

        with repeatedly(read, threads=4) as reads:
            for round_number in range(40):
                with open(path + ".new", "wb") as f:
                    f.write(versions[(round_number + 1) % 2])
                os.replace(path + ".new", path)
                read(None)
    assert reads.calls > 40
    assert wrong == []
    assert set(seen.values()) == set(versions)


# -- the same answers as nginx -----------------------------------------------------------------

@pytest.fixture(scope="module")
def front(tmp_path_factory):
    """The sample application served by waitress, its resources exported, nginx in front."""
    require(os.path.exists(NGINX), "nginx (Debian package nginx)")
    with behind_nginx(tmp_path_factory.mktemp("ranges")) as deployed:
        status, _, body = request(deployed.app.url, "/")
        assert status == 200
        links = [u for u in resource_links(body.decode("utf-8")) if u.endswith("/jquery.js")]
        assert len(links) == 1
        deployed.resource = links[0]
        yield deployed


def both(front, method="GET", path=None, **headers):
    """The answers of nginx (from the exported file) and of the application (through
    waitress) to the same request."""
    path = path or front.resource
    return request(front.nginx.url, path, method, **headers), request(front.app.url, path, method, **headers)


def validators(front):
    _, headers, body = request(front.nginx.url, front.resource)
    return headers["ETag"], headers["Last-Modified"], len(body)


def test_the_file_reaches_nginx_from_the_disk_and_the_app_through_waitress(front):
    (nginx_status, nginx_headers, nginx_body), (app_status, app_headers, app_body) = both(front)
    assert (nginx_status, app_status) == (200, 200)
    assert nginx_body == app_body
    assert "waitress" in app_headers["Server"] and "nginx" in nginx_headers["Server"]
    assert nginx_headers["Accept-Ranges"] == app_headers["Accept-Ranges"] == "bytes"
    assert nginx_headers["ETag"] == app_headers["ETag"]


RANGES = [
    "bytes=0-99", "bytes=1000-", "bytes=-100", "bytes=0-0", "bytes=0-", "BYTES=5-9", "bytes= 5 - 9",
    "bytes={length}-", "bytes={last}-{beyond}", "bytes=-{beyond}", "bytes=9-2", "bytes=abc", "bytes=1-2-3",
    "bytes=-", "bytes=-0", "bytes=0-5,x", "bytes=9-2,0-5", "bytes=", "items=0-5", "bytes=99999999999999999999-",
    # Several ranges: the whole file from both (max_ranges 1 in the generated block).
    "bytes=0-5,10-20", "bytes=0-0,-1",
]


@pytest.mark.parametrize("spec", RANGES)
def test_a_range_gets_the_same_answer_from_nginx_and_the_application(front, spec):
    _, _, length = validators(front)
    value = spec.format(length=length, last=length - 10, beyond=length + 100)
    (nginx_status, nginx_headers, nginx_body), (app_status, app_headers, app_body) = both(front, Range=value)
    assert nginx_status == app_status, value
    assert nginx_status in (200, 206, 416)
    assert nginx_headers.get("Content-Range") == app_headers.get("Content-Range"), value
    if nginx_status != 416:
        assert nginx_body == app_body, value
        assert app_headers["Content-Length"] == str(len(app_body))


IF_RANGES = ["{etag}", "{last_modified}", '"stale"', "W/{etag}", "Mon, 01 Jan 1990 00:00:00 GMT"]


@pytest.mark.parametrize("if_range", IF_RANGES)
def test_if_range_gets_the_same_answer_from_nginx_and_the_application(front, if_range):
    etag, last_modified, _ = validators(front)
    value = if_range.format(etag=etag, last_modified=last_modified)
    (nginx_status, _, nginx_body), (app_status, _, app_body) = both(front, Range="bytes=10-19", If_Range=value)
    assert nginx_status == app_status, value
    assert nginx_body == app_body


PRECONDITIONS = [
    {"If_Match": "*"}, {"If_Match": "{etag}"}, {"If_Match": '"other"'}, {"If_Match": "W/{etag}"},
    {"If_Unmodified_Since": "{last_modified}"}, {"If_Unmodified_Since": "Mon, 01 Jan 1990 00:00:00 GMT"},
    {"If_None_Match": "{etag}"}, {"If_None_Match": '"other"'}, {"If_Modified_Since": "{last_modified}"},
    {"If_Modified_Since": "not a date"}, {"If_Modified_Since": "Mon, 01 Jan 1990 00:00:00 GMT"},
    {"If_Match": '"other"', "If_None_Match": "{etag}"}, {"If_None_Match": "{etag}", "Range": "bytes=0-9"},
]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("preconditions", PRECONDITIONS, ids=lambda p: ",".join("%s=%s" % i for i in p.items()))
def test_preconditions_get_the_same_status_from_nginx_and_the_application(front, preconditions, method):
    etag, last_modified, _ = validators(front)
    headers = {k: v.format(etag=etag, last_modified=last_modified) for k, v in preconditions.items()}
    (nginx_status, _, nginx_body), (app_status, _, app_body) = both(front, method, **headers)
    assert nginx_status == app_status, headers
    if nginx_status in (200, 206):
        assert nginx_body == app_body
    if method == "HEAD" or nginx_status == 304:
        assert app_body == b""
