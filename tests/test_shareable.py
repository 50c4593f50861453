"""The one sharing rule both shared caches obey, and the two caches obeying it."""
import pytest
from tg import expose, response

from tgext_resources import cached_template, fs_cached
from tgext_resources.shareable import request_refusal, response_refusal

from tests.apps import RootController, build

GET = {"REQUEST_METHOD": "GET"}
HTML = [("Content-Type", "text/html; charset=utf-8")]


def test_a_plain_200_to_a_get_may_be_shared():
    assert response_refusal(GET, "200 OK", HTML) is None


def test_turbogears_default_no_cache_does_not_refuse():
    # TurboGears sends it on every response: refusing it would cache nothing.
    assert response_refusal(GET, "200 OK", HTML + [("Cache-Control", "no-cache"), ("Pragma", "no-cache")]) is None


@pytest.mark.parametrize("environ, status, headers, why", [
    ({"REQUEST_METHOD": "POST"}, "200 OK", HTML, "a POST request"),
    ({"REQUEST_METHOD": "HEAD"}, "200 OK", HTML, "a HEAD response has no body to store"),
    ({"REQUEST_METHOD": "GET", "HTTP_AUTHORIZATION": "Basic eDp5"}, "200 OK", HTML,
     "the request carries credentials (Authorization)"),
    (GET, "201 Created", HTML, "status 201 Created"),
    (GET, "200 OK", HTML + [("Set-Cookie", "a=b")], "it sets a cookie"),
    (GET, "200 OK", HTML + [("Cache-Control", "max-age=60, Private")], "Cache-Control: private"),
    (GET, "200 OK", HTML + [("cache-control", "no-store")], "Cache-Control: no-store"),
    (GET, "200 OK", HTML + [("Vary", "Accept-Encoding, Cookie")], "Vary: cookie"),
    (GET, "200 OK", HTML + [("Vary", "*")], "Vary: *"),
    (GET, "200 OK", HTML + [("Vary", "authorization")], "Vary: authorization"),
])
def test_a_response_for_one_visitor_is_refused_with_the_reason(environ, status, headers, why):
    assert response_refusal(environ, status, headers) == why


def test_an_authenticated_request_is_refused_unless_the_cache_keys_by_visitor():
    alice = {"REQUEST_METHOD": "GET", "REMOTE_USER": "alice"}
    assert request_refusal(alice) == "an authenticated request (the page may be made for alice)"
    assert request_refusal(alice, per_user=True) is None
    identified = {"REQUEST_METHOD": "GET", "repoze.who.identity": {"repoze.who.userid": "bob"}}
    assert request_refusal(identified) == "an authenticated request (the page may be made for bob)"


def test_credentials_without_a_known_visitor_are_refused_even_per_user():
    anonymous = {"REQUEST_METHOD": "GET", "HTTP_AUTHORIZATION": "Bearer x"}
    assert request_refusal(anonymous, per_user=True) == "the request carries credentials (Authorization)"


def test_a_response_made_from_the_session_is_refused():
    assert response_refusal(GET, "200 OK", HTML, session_used=True) == "it read the visitor's session"


def test_vary_refuses_unless_the_key_covers_the_header():
    # An unencoded body is the same whatever Accept-Encoding says.
    assert response_refusal(GET, "200 OK", HTML + [("Vary", "Accept-Encoding")]) is None
    gzipped = HTML + [("Vary", "Accept-Encoding"), ("Content-Encoding", "gzip")]
    assert response_refusal(GET, "200 OK", gzipped) == "Vary: accept-encoding"
    assert response_refusal(GET, "200 OK", HTML + [("Vary", "User-Agent")]) == "Vary: user-agent"
    # The page cache keys by Accept and Accept-Language; the filesystem cache by nothing.
    assert response_refusal(GET, "200 OK", HTML + [("Vary", "Accept, Accept-Language")],
                            keyed=("accept", "accept-language")) is None
    assert response_refusal(GET, "200 OK", HTML + [("Vary", "Accept-Language")]) == "Vary: accept-language"


def test_head_requests_may_be_answered_from_a_shared_cache():
    assert request_refusal({"REQUEST_METHOD": "HEAD"}) is None
    assert request_refusal({"REQUEST_METHOD": "PUT"}) == "a PUT request"


CALLS = []


class Root(RootController):
    @expose(content_type="text/plain")
    @cached_template()
    def private_page(self):
        CALLS.append("private_page")
        response.headers["Cache-Control"] = "private"
        return "for one visitor"

    @expose(content_type="text/plain")
    @cached_template()
    def shared_page(self):
        CALLS.append("shared_page")
        return "for everyone"

    @expose(content_type="text/plain")
    @fs_cached()
    def private_file(self):
        response.headers["Cache-Control"] = "no-store"
        return "for one visitor"

    @expose(content_type="text/plain")
    @fs_cached()
    def public_file(self):
        return "for everyone"

    @expose(content_type="text/plain")
    @fs_cached()
    def varying(self):
        response.headers["Vary"] = "Cookie"
        return "per cookie"


@pytest.fixture
def app(tmp_path):
    CALLS.clear()
    return build(root=Root(), **{"fscache.dir": str(tmp_path / "fscache")})


def test_page_cache_never_stores_a_private_response(app):
    app.get("/private_page")
    app.get("/private_page")
    assert CALLS == ["private_page", "private_page"]


def test_page_cache_neither_looks_up_nor_stores_for_a_request_with_credentials(app):
    app.get("/shared_page", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    app.get("/shared_page")
    app.get("/shared_page")
    app.get("/shared_page", headers={"Authorization": "Basic Ym9iOnNlY3JldA=="})
    # The first anonymous request made it, the second found it; neither credentialed one used it.
    assert CALLS == ["shared_page", "shared_page", "shared_page"]


def test_filesystem_cache_refuses_no_store_and_vary_cookie(app, tmp_path):
    assert app.get("/private_file.txt").text == "for one visitor"
    assert app.get("/varying.txt").text == "per cookie"
    assert not (tmp_path / "fscache" / "private_file.txt").exists()
    assert not (tmp_path / "fscache" / "varying.txt").exists()


def test_filesystem_cache_never_writes_a_page_made_for_an_authenticated_visitor(app, tmp_path):
    written = tmp_path / "fscache" / "public_file.txt"
    app.get("/public_file.txt", extra_environ={"REMOTE_USER": "alice"})
    assert not written.exists()
    app.get("/public_file.txt")
    assert written.read_text() == "for everyone"


def test_filesystem_cache_refuses_a_request_with_credentials(app, tmp_path):
    written = tmp_path / "fscache" / "public_file.txt"
    app.get("/public_file.txt", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    assert not written.exists()
    app.get("/public_file.txt")
    assert written.read_text() == "for everyone"
