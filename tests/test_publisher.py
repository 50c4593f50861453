"""The in-Python resource server: HTTP by the book, and nothing outside registered resources."""
import email.utils
import gzip
import os

import pytest
import webob

from tests.apps import build

BADGE = "/tw2/resources/tests.testsite.widgets/static/badge.js"


@pytest.fixture(scope="module")
def app():
    test_app = build()
    test_app.get("/")  # a page that registers what it links
    return test_app


def raw(app, path, method="GET", **headers):
    """Send a request straight to the WSGI application (WebTest would decode bodies)."""
    return webob.Request.blank(path, method=method, headers=headers).get_response(app.app)


def test_file_is_served_with_type_length_validators_and_short_caching(app):
    response = raw(app, BADGE)
    assert response.status_int == 200
    path = os.path.join(os.path.dirname(__file__), "testsite", "widgets", "static", "badge.js")
    with open(path, "rb") as f:
        assert response.body == f.read()
    assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(response.body)
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["ETag"].startswith('"')
    assert email.utils.parsedate_to_datetime(response.headers["Last-Modified"]).timestamp() == int(os.stat(path).st_mtime)
    assert "Vary" not in response.headers  # no precompressed sibling: one representation


def test_images_get_their_type(app):
    assert raw(app, "/tw2/resources/tests.testsite.widgets/static/badge.png").headers["Content-Type"] == "image/png"


def test_matching_etag_gives_304_without_body(app):
    etag = raw(app, BADGE).headers["ETag"]
    response = raw(app, BADGE, If_None_Match=etag)
    assert response.status_int == 304
    assert response.body == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert "Content-Length" not in response.headers or response.headers["Content-Length"] == "0"


def test_weak_and_listed_etags_match_too(app):
    etag = raw(app, BADGE).headers["ETag"]
    assert raw(app, BADGE, If_None_Match='"other", W/%s' % etag).status_int == 304
    assert raw(app, BADGE, If_None_Match="*").status_int == 304


def test_if_modified_since_gives_304_when_not_modified(app):
    last_modified = raw(app, BADGE).headers["Last-Modified"]
    assert raw(app, BADGE, If_Modified_Since=last_modified).status_int == 304
    assert raw(app, BADGE, If_Modified_Since="Mon, 01 Jan 1990 00:00:00 GMT").status_int == 200
    assert raw(app, BADGE, If_Modified_Since="not a date").status_int == 200


def test_etag_is_checked_before_if_modified_since(app):
    last_modified = raw(app, BADGE).headers["Last-Modified"]
    # RFC 9110 13.2.2: with If-None-Match present, If-Modified-Since is ignored.
    assert raw(app, BADGE, If_None_Match='"stale"', If_Modified_Since=last_modified).status_int == 200


def test_head_has_the_headers_and_no_body(app):
    get, head = raw(app, BADGE), raw(app, BADGE, method="HEAD")
    assert head.status_int == 200
    assert head.body == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["ETag"] == get.headers["ETag"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405_with_allow(app, method):
    response = raw(app, BADGE, method=method)
    assert response.status_int == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_precompressed_sibling_is_sent_to_clients_that_accept_it(tmp_path):
    import tw2.core as twc

    from tests import distributions

    name = distributions.unique("gzipped")
    script = b"var answer = 42;\n" * 200
    distributions.install(tmp_path, name, {
        "%s/__init__.py" % name: "",
        "%s/static/app.js" % name: script,
        "%s/static/app.js.gz" % name: gzip.compress(script),
        "%s/static/tiny.js" % name: b"1",
        "%s/static/tiny.js.gz" % name: gzip.compress(b"1"),  # larger than the file: never sent
    })
    twc.DirLink(modname=name, filename="static")
    app = build()
    url = "/tw2/resources/%s/static/app.js" % name
    packed = raw(app, url, Accept_Encoding="br;q=0, gzip;q=0.8")
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.body) == script
    plain = raw(app, url, Accept_Encoding="identity")
    assert "Content-Encoding" not in plain.headers and plain.body == script
    assert plain.headers["Vary"] == "Accept-Encoding"
    assert plain.headers["ETag"] != packed.headers["ETag"]
    assert raw(app, url, Accept_Encoding="gzip;q=0").body == script
    tiny = raw(app, "/tw2/resources/%s/static/tiny.js" % name, Accept_Encoding="gzip")
    assert "Content-Encoding" not in tiny.headers and tiny.body == b"1"


HOSTILE = [
    "/tw2/resources/tests.testsite.widgets/static/../__init__.py",
    "/tw2/resources/tests.testsite.widgets/static/%2e%2e/__init__.py",
    "/tw2/resources/tests.testsite.widgets/static/%252e%252e/__init__.py",
    "/tw2/resources/tests.testsite.widgets/static%5c..%5c__init__.py",
    "/tw2/resources/tests.testsite.widgets/static//badge.js",
    "/tw2/resources/tests.testsite.widgets//etc/passwd",
    "/tw2/resources/tests.testsite.widgets/static/badge.js%00.png",
    "/tw2/resources/tests.testsite.widgets/static/./badge.js",
    "/tw2/resources/tests.testsite.widgets/static",
    "/tw2/resources/tests.testsite.widgets/static/",
    "/tw2/resources/tests.testsite.widgets/templates/badge.kajiki",
    "/tw2/resources/tests.testsite.widgets/__init__.py",
    "/tw2/resources/os/os.py",
    "/tw2/resources/../../etc/passwd",
    "/tw2/resources/%2e%2e/etc/passwd",
    "/tw2/resources//etc/passwd",
    "/tw2/resources/tests.testsite.widgets/static/%ff%fe.js",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_get_400_or_404_and_never_a_byte_outside(app, path):
    response = raw(app, path)
    assert response.status_int in (400, 404), (path, response.status)
    assert b"import" not in response.body and b"root:" not in response.body
