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


# -- preconditions (RFC 9110, 13.1 and 13.2.2) ---------------------------------------------------

def test_if_match_of_another_tag_gets_412_and_no_content(app):
    response = raw(app, BADGE, If_Match='"not-this-one"')
    assert response.status_int == 412
    assert b"badge" not in response.body


@pytest.mark.parametrize("value", ["*", "{etag}", '"other", {etag}'])
def test_if_match_of_any_existing_file_or_its_tag_gets_the_file(app, value):
    etag = raw(app, BADGE).headers["ETag"]
    response = raw(app, BADGE, If_Match=value.format(etag=etag))
    assert response.status_int == 200
    assert response.body == raw(app, BADGE).body


def test_weak_tags_never_satisfy_if_match(app):
    # If-Match compares strongly (RFC 9110, 13.1.1): W/"x" is not "x".
    etag = raw(app, BADGE).headers["ETag"]
    assert raw(app, BADGE, If_Match="W/" + etag).status_int == 412


def test_if_unmodified_since_before_the_file_gets_412(app):
    assert raw(app, BADGE, If_Unmodified_Since="Mon, 01 Jan 1990 00:00:00 GMT").status_int == 412
    last_modified = raw(app, BADGE).headers["Last-Modified"]
    assert raw(app, BADGE, If_Unmodified_Since=last_modified).status_int == 200


def test_if_match_takes_precedence_over_if_unmodified_since(app):
    # RFC 9110, 13.2.2: If-Unmodified-Since is only evaluated without If-Match.
    response = raw(app, BADGE, If_Match="*", If_Unmodified_Since="Mon, 01 Jan 1990 00:00:00 GMT")
    assert response.status_int == 200


def test_precondition_failure_comes_before_not_modified(app):
    etag = raw(app, BADGE).headers["ETag"]
    assert raw(app, BADGE, If_Match='"other"', If_None_Match=etag).status_int == 412


MALFORMED_DATES = [
    "not a date", "", "0", "Mon, 99 Jan 2020 00:00:00 GMT", "Mon, 01 Foo 2020 00:00:00 GMT",
    "Mon, 01 Jan 0000 00:00:00 GMT", "Mon, 01 Jan 99999999999 00:00:00 GMT", "Mon, 01 Jan 2020 99:99:99 GMT",
    "Mon, 01 Jan 2020 00:00:00 +9999", "x" * 5000, "Mon, 01 Jan 2020 00:00:00 GMT, Tue, 02 Jan 2020 00:00:00 GMT",
]


@pytest.mark.parametrize("value", MALFORMED_DATES)
@pytest.mark.parametrize("header", ["If_Modified_Since", "If_Unmodified_Since"])
def test_malformed_dates_in_preconditions_are_ignored(app, header, value):
    # RFC 9110, 13.1.3 and 13.1.4: a field value that is not one valid HTTP-date is ignored.
    response = raw(app, BADGE, **{header: value})
    assert response.status_int == 200
    assert response.body == raw(app, BADGE).body


@pytest.mark.parametrize("value", MALFORMED_DATES)
def test_a_malformed_if_range_date_gets_the_whole_file(app, value):
    response = raw(app, BADGE, If_Range=value, Range="bytes=0-1")
    assert response.status_int == 200
    assert response.body == raw(app, BADGE).body


@pytest.mark.parametrize("value", ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"])
def test_obsolete_date_forms_are_understood(app, value):
    # RFC 9110, 5.6.7: recipients accept the RFC 850 and asctime forms too.
    assert raw(app, BADGE, If_Unmodified_Since=value).status_int == 412


# -- ranges --------------------------------------------------------------------------------------

def test_a_single_range_gets_206_with_its_bytes(app):
    whole = raw(app, BADGE).body
    response = raw(app, BADGE, Range="bytes=2-9")
    assert response.status_int == 206
    assert response.body == whole[2:10]
    assert response.headers["Content-Range"] == "bytes 2-9/%d" % len(whole)
    assert response.headers["Content-Length"] == "8"
    assert response.headers["ETag"] == raw(app, BADGE).headers["ETag"]


@pytest.mark.parametrize("header, first, last", [
    ("bytes=-5", -5, None), ("bytes=3-", 3, None), ("bytes=0-100000", 0, None), ("BYTES = 0-0", None, None),
])
def test_suffix_open_and_overlong_ranges_are_cut_to_the_file(app, header, first, last):
    whole = raw(app, BADGE).body
    response = raw(app, BADGE, Range=header)
    if first is None:  # not "bytes=": not a range nginx knows
        assert response.status_int == 200 and response.body == whole
        return
    start = first % len(whole)
    assert response.status_int == 206
    assert response.body == whole[start:]
    assert response.headers["Content-Range"] == "bytes %d-%d/%d" % (start, len(whole) - 1, len(whole))


@pytest.mark.parametrize("header", ["bytes=100000-", "bytes=9-2", "bytes=abc", "bytes=1-2-3", "bytes=-"])
def test_unsatisfiable_or_malformed_ranges_get_416_with_the_length(app, header):
    length = len(raw(app, BADGE).body)
    response = raw(app, BADGE, Range=header)
    assert response.status_int == 416
    assert response.headers["Content-Range"] == "bytes */%d" % length


@pytest.mark.parametrize("header", ["bytes=0-1,4-5", "items=0-5", "bytes="])
def test_several_ranges_or_another_unit_get_the_whole_file(app, header):
    response = raw(app, BADGE, Range=header)
    assert response.status_int == 200
    assert response.body == raw(app, BADGE).body
    assert response.headers["Accept-Ranges"] == "bytes"


def test_if_range_serves_the_range_only_for_the_current_file(app):
    full = raw(app, BADGE)
    etag, last_modified = full.headers["ETag"], full.headers["Last-Modified"]
    assert raw(app, BADGE, Range="bytes=0-1", If_Range=etag).status_int == 206
    assert raw(app, BADGE, Range="bytes=0-1", If_Range=last_modified).status_int == 206
    assert raw(app, BADGE, Range="bytes=0-1", If_Range='"stale"').status_int == 200
    assert raw(app, BADGE, Range="bytes=0-1", If_Range="W/" + etag).status_int == 200  # compared strongly


def test_head_of_a_range_has_its_headers_and_no_body(app):
    response = raw(app, BADGE, method="HEAD", Range="bytes=0-3")
    assert response.status_int == 206
    assert response.headers["Content-Length"] == "4"
    assert response.body == b""


def test_not_modified_has_no_range_headers(app):
    etag = raw(app, BADGE).headers["ETag"]
    response = raw(app, BADGE, If_None_Match=etag, Range="bytes=0-3")
    assert response.status_int == 304
    assert "Content-Range" not in response.headers and "Accept-Ranges" not in response.headers


# -- symbolic links never lead out of what was registered ----------------------------------------

def linked_package(tmp_path):
    """A package whose registered directory ``static`` holds a script, a link to it, a link
    to a secret outside the package, and a directory link to the secret's directory."""
    import tw2.core as twc

    from tests import distributions

    name = distributions.unique("linked")
    distributions.install(tmp_path, name, {"%s/__init__.py" % name: "", "%s/static/real.js" % name: "var real = 1;\n"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET root:x:0:0\n")
    static = tmp_path / name / "static"
    os.symlink("real.js", str(static / "alias.js"))
    os.symlink(str(outside / "secret.txt"), str(static / "passwd.txt"))
    os.symlink(str(outside), str(static / "elsewhere"))
    twc.DirLink(modname=name, filename="static")
    return name


def test_a_link_out_of_the_registered_directory_is_not_served(tmp_path):
    name = linked_package(tmp_path)
    app = build()
    for path in ("static/passwd.txt", "static/elsewhere/secret.txt"):
        response = raw(app, "/tw2/resources/%s/%s" % (name, path))
        assert response.status_int == 404, path
        assert b"SECRET" not in response.body


def test_a_link_inside_the_registered_directory_is_served(tmp_path):
    name = linked_package(tmp_path)
    response = raw(build(), "/tw2/resources/%s/static/alias.js" % name)
    assert response.status_int == 200
    assert response.body == b"var real = 1;\n"


def test_a_compressed_sibling_linking_out_is_never_sent(tmp_path):
    name = linked_package(tmp_path)
    (tmp_path / "outside" / "big.js").write_bytes(b"var big = 1;\n" * 100)
    (tmp_path / "outside" / "big.js.gz").write_bytes(gzip.compress(b"SECRET"))
    os.symlink(str(tmp_path / "outside" / "big.js"), str(tmp_path / name / "static" / "big.js"))
    os.symlink(str(tmp_path / "outside" / "big.js.gz"), str(tmp_path / name / "static" / "real.js.gz"))
    app = build()
    response = raw(app, "/tw2/resources/%s/static/real.js" % name, Accept_Encoding="gzip")
    assert response.status_int == 200
    assert "Content-Encoding" not in response.headers and response.body == b"var real = 1;\n"
    assert raw(app, "/tw2/resources/%s/static/big.js" % name).status_int == 404


def test_a_served_file_turned_into_a_link_out_is_no_longer_served(tmp_path):
    name = linked_package(tmp_path)
    app = build()
    url = "/tw2/resources/%s/static/real.js" % name
    assert raw(app, url).status_int == 200
    real = tmp_path / name / "static" / "real.js"
    real.unlink()
    os.symlink(str(tmp_path / "outside" / "secret.txt"), str(real))
    for headers in ({}, {"If_None_Match": "*"}, {"Range": "bytes=0-3"}):
        response = raw(app, url, **headers)
        assert response.status_int == 404, headers
        assert b"SECRET" not in response.body
