"""Preload hints: ``Link: rel=preload`` headers on pages, and 103 Early Hints from gunicorn."""
import functools
import html
import re
import socket
import subprocess
import urllib.request

import pytest
import tw2.core as twc
from tg import expose

from tgext_resources.hints import MAX_HINTS

from tests.apps import RootController, build
from tests.conftest import require
from tests.frontservers import readable_directory, start_nginx, webserver_config
from tests.sample import load, serving, serving_gunicorn, write_ini

LINK_RE = re.compile(r"^<([^>]*)>; rel=preload; as=(script|style)(; crossorigin)?(?:; integrity=\"([^\"]*)\")?$")
SCRIPT_RE = re.compile(r"<script\b([^>]*)>")
STYLESHEET_RE = re.compile(r"<link\b([^>]*rel=\"stylesheet\"[^>]*)>")


def attribute(tag, name):
    match = re.search(r'\b%s="([^"]*)"' % name, tag)
    return html.unescape(match.group(1)) if match else None


def head_links(page):
    """(url, as, integrity, crossorigin) of every script and stylesheet link in the <head>, in order."""
    head = page[:page.index("</head>")]
    tags = sorted([(m.start(), m.group(1), "script") for m in SCRIPT_RE.finditer(head) if "src=" in m.group(1)]
                  + [(m.start(), m.group(1), "style") for m in STYLESHEET_RE.finditer(head)])
    links = [(attribute(tag, "src" if kind == "script" else "href"), kind, attribute(tag, "integrity"),
              attribute(tag, "crossorigin")) for _, tag, kind in tags]
    return [link for link in links if link[0].startswith("/tw2/resources/")]  # not the page's own


def expected_hints(page):
    """What a page's hints should be: its bundles, then its other links, in page order."""
    links = head_links(page)
    return ([link for link in links if link[2] is not None] + [link for link in links if link[2] is None])[:MAX_HINTS]


def hints(values):
    """(url, as, integrity, crossorigin) of each Link value; fails on one of another shape."""
    parsed = []
    for value in values:
        match = LINK_RE.match(value)
        assert match, value
        url, kind, crossorigin, integrity = match.groups()
        parsed.append((url, kind, integrity, "anonymous" if crossorigin else None))
    return parsed


@pytest.fixture(scope="module")
def separate_app(tmp_path_factory):
    return load(write_ini(tmp_path_factory.mktemp("separate"), debug="false"))


@pytest.fixture(scope="module")
def bundled_app(tmp_path_factory, sample_aggregation):
    return load(write_ini(tmp_path_factory.mktemp("bundled"), debug="false", aggregated_hash=sample_aggregation))


def test_a_bundled_page_hints_its_bundles_with_the_integrity_and_crossorigin_of_their_tags(bundled_app):
    response = bundled_app.get("/gallery")
    links = head_links(response.text)
    bundles = [link for link in links if link[2] is not None]
    assert {kind for _, kind, _, _ in bundles} == {"script", "style"}
    # The same URL, integrity and crossorigin as the tag, or the browser fetches twice.
    assert hints(response.headers.getall("Link")) == expected_hints(response.text)
    assert all(crossorigin == "anonymous" for _, _, _, crossorigin in bundles)


def test_separate_files_hint_the_first_render_blocking_links_in_page_order(separate_app):
    response = separate_app.get("/gallery")
    links = head_links(response.text)
    assert len(links) > MAX_HINTS  # the gallery links more than are hinted
    assert hints(response.headers.getall("Link")) == expected_hints(response.text)


def test_a_cached_page_keeps_its_hints_on_every_kind_of_hit(separate_app):
    # "/" is a cached_template page: a miss, a hit, then a hit from the injected-page memo.
    answers = [separate_app.get("/") for _ in range(3)]
    values = [tuple(answer.headers.getall("Link")) for answer in answers]
    assert len(values[0]) == MAX_HINTS
    assert values[0] == values[1] == values[2]
    assert hints(values[0]) == expected_hints(answers[0].text)
    assert answers[2].text == answers[0].text


def test_hints_carry_the_crossorigin_of_the_ini_and_each_requests_own_nonce():
    from tests.test_script_attributes import KEY, nonce_of, policed

    app = policed(**{KEY: "* crossorigin"})
    answers = [app.get("/calendar") for _ in range(2)]
    assert nonce_of(answers[0]) != nonce_of(answers[1])
    for answer in answers:
        values = answer.headers.getall("Link")
        scripts = [value for value in values if "; as=script" in value]
        assert scripts and all("; crossorigin" in value for value in scripts)
        assert all(value.endswith('; nonce="%s"' % nonce_of(answer)) for value in values)


signed_js = twc.JSLink(modname="tests.testsite.widgets", filename="static/badge.js",
                       attrs={"integrity": "sha384-0123456789abcdef", "crossorigin": "anonymous"})


class Signed(twc.Widget):
    """A widget whose own script carries an integrity attribute, as CDN-minded ones do."""

    template = "tests.testsite.widgets.templates.badge"
    resources = [signed_js]
    text = twc.Param(default="signed")


class SignedRoot(RootController):
    @expose("tests.testsite.templates.page")
    def signed(self):
        return dict(title="signed", widgets=[Signed])


def test_a_widgets_own_integrity_is_hinted_like_its_tag():
    response = build(root=SignedRoot()).get("/signed")
    assert '<script type="text/javascript" src="/tw2/resources/tests.testsite.widgets/' in response.text
    signed = [link for link in hints(response.headers.getall("Link")) if link[2] is not None]
    assert signed == [link for link in head_links(response.text) if link[2] is not None]
    assert signed[0][1:] == ("script", "sha384-0123456789abcdef", "anonymous")


def test_the_route_of_a_validation_error_handler_is_its_function():
    from tgext_resources.routehints import route

    # TurboGears calls a failed validation's error handler through a new partial each time.
    assert route(functools.partial(SignedRoot.signed, SignedRoot())) is route(SignedRoot().signed)
    assert route(SignedRoot().signed) is route(SignedRoot().signed)


def test_no_hints_with_early_hints_false(tmp_path):
    app = load(write_ini(tmp_path, debug="false", **{"resources.early_hints": "false"}))
    for path in ("/", "/", "/gallery"):
        response = app.get(path)
        assert "<script" in response.text
        assert "Link" not in response.headers


def test_only_pages_that_link_resources_are_hinted(separate_app):
    page = separate_app.get("/gallery")
    resource = separate_app.get(hints(page.headers.getall("Link"))[0][0])
    assert resource.content_type == "text/javascript" or resource.content_type.endswith("javascript")
    assert "Link" not in resource.headers


# -- 103 Early Hints, from a real gunicorn

def curl_h2(url):
    """The status lines and Link headers curl saw, in order, over HTTP/2 without TLS."""
    result = subprocess.run(["curl", "-sS", "-v", "--http2-prior-knowledge", "-o", "/dev/null", url],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [line[2:].strip() for line in result.stderr.splitlines()
            if line.startswith("< HTTP/") or line.lower().startswith("< link:")]


def raw_http1(url, path):
    """The bytes of an HTTP/1.1 exchange, as they came."""
    host, port = url[len("http://"):].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(("GET %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n" % (path, host, port)).encode())
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


@pytest.fixture(scope="module")
def gunicorn_h2(tmp_path_factory):
    require(subprocess.run(["curl", "-V"], capture_output=True, text=True).stdout.count("HTTP2"), "curl with HTTP/2")
    # gunicorn speaks HTTP/2 with its threaded worker (the sync one answers h2 with nothing).
    arguments = ["--worker-class", "gthread", "--threads", "4", "--http-protocols", "h2",
                 "--http2-cleartext", "prior-knowledge"]
    with serving_gunicorn(tmp_path_factory.mktemp("h2"), arguments) as server:
        yield server


def test_over_http2_the_second_request_of_a_route_gets_a_103_with_what_the_first_linked(gunicorn_h2):
    first = curl_h2(gunicorn_h2.url + "/gallery")
    assert first[0] == "HTTP/2 200"  # nothing learned yet: no 103
    second = curl_h2(gunicorn_h2.url + "/gallery")
    assert second[0] == "HTTP/2 103"
    final = second.index("HTTP/2 200")
    early, sent = second[1:final], second[final + 1:]
    assert len(early) == MAX_HINTS
    assert early == sent == first[1:]


def test_the_route_is_the_controller_not_the_path(gunicorn_h2):
    curl_h2(gunicorn_h2.url + "/article/1")
    other = curl_h2(gunicorn_h2.url + "/article/2")  # never asked for, same controller
    assert other[0] == "HTTP/2 103"


@pytest.fixture(scope="module")
def gunicorn_h1(tmp_path_factory):
    with serving_gunicorn(tmp_path_factory.mktemp("h1")) as server:
        yield server


def test_no_103_over_http1_by_default_so_every_client_reads_the_page(gunicorn_h1):
    for _ in range(2):
        exchange = raw_http1(gunicorn_h1.url, "/gallery")
        assert exchange.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"103" not in exchange.split(b"\r\n", 1)[0]
        assert b"Link: <" in exchange
    # Python's http.client takes any 1xx but 100 for the answer: it must get the page.
    with urllib.request.urlopen(gunicorn_h1.url + "/gallery", timeout=30) as answer:
        assert answer.status == 200
        assert answer.read().rstrip().endswith(b"</html>")


def test_early_hints_http1_sends_them_on_http1_too(tmp_path):
    with serving_gunicorn(tmp_path, **{"resources.early_hints_http1": "true"}) as server:
        raw_http1(server.url, "/gallery")
        exchange = raw_http1(server.url, "/gallery")
    early, _, rest = exchange.partition(b"\r\n\r\n")
    assert early.startswith(b"HTTP/1.1 103 Early Hints\r\nLink: <")
    assert early.count(b"\r\nLink: ") == MAX_HINTS
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")


def test_behind_the_generated_nginx_block_pages_arrive_whole(tmp_path):
    # nginx 1.22 takes an upstream's 103 for the final answer: the defaults never send it one.
    with readable_directory() as root, serving_gunicorn(tmp_path / "app") as app:
        nginx = start_nginx(str(tmp_path), webserver_config("nginx", app, root))
        try:
            for _ in range(3):
                with urllib.request.urlopen(nginx.url + "/gallery", timeout=30) as answer:
                    assert answer.status == 200
                    assert answer.headers.get_all("Link")
                    assert answer.read().rstrip().endswith(b"</html>")
        finally:
            nginx.stop()


# -- what a browser does with them

def test_chromium_fetches_each_hinted_bundle_once_and_reports_no_preload_problem(browser, tmp_path, sample_aggregation):
    with serving(tmp_path, aggregated_hash=sample_aggregation) as server:
        page = browser.new_page()
        requests, console = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda message: console.append(message.text))
        page.goto(server.url + "/gallery", wait_until="load")
        page.wait_for_timeout(3500)  # Chromium reports an unused preload after about 3 s
        page.close()
    bundles = [url for url in requests if "/aggregated/" in url]
    assert len([url for url in bundles if url.endswith(".js")]) == 1
    assert len([url for url in bundles if url.endswith(".css")]) == 1
    assert len(bundles) == len(set(bundles))
    assert [text for text in console if "preload" in text.lower()] == []
