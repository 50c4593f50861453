"""Per-application state: two applications in one process never see each other's caches,
and what runs after a response never delays it."""
import http.client
import threading

import pytest
import waitress
from tg import expose

from tgext_resources import cached_template, fs_cached, fscache, refresh_page

from tests.apps import RootController, build

WRITES = []


class Root(RootController):
    @expose(content_type="text/plain")
    @fs_cached()
    def note(self):
        return "a note"

    @expose(content_type="text/plain")
    def forget(self):
        return repr(fscache.invalidate("/note.txt"))

    @expose(content_type="text/plain")
    @cached_template()
    def counted(self):
        WRITES.append("counted")
        return "made %d times" % len(WRITES)


def test_each_application_writes_its_own_filesystem_cache(tmp_path):
    first = build(root=Root(), **{"fscache.dir": str(tmp_path / "first")})
    second = build(root=Root(), **{"fscache.dir": str(tmp_path / "second")})
    first.get("/note.txt")
    assert (tmp_path / "first" / "note.txt").is_file()
    assert not (tmp_path / "second" / "note.txt").exists()
    second.get("/note.txt")
    # Invalidation from a controller acts on the application serving the request.
    assert "first" in first.get("/forget").text
    assert not (tmp_path / "first" / "note.txt").exists()
    assert (tmp_path / "second" / "note.txt").is_file()


def test_outside_a_request_fscache_acts_on_the_application_configured_last(tmp_path):
    build(root=Root(), **{"fscache.dir": str(tmp_path / "first")})
    assert fscache.directory() == str(tmp_path / "first")
    build(root=Root())
    assert fscache.directory() is None
    assert fscache.invalidate("/note.txt") == []


def test_each_application_has_its_own_page_cache():
    WRITES.clear()
    first, second = build(root=Root()), build(root=Root())
    assert first.get("/counted").text == "made 1 times"
    assert second.get("/counted").text == "made 2 times"  # not the first application's page
    assert first.get("/counted").text == "made 1 times"
    assert second.get("/counted").text == "made 2 times"
    assert WRITES == ["counted", "counted"]


class Editor(RootController):
    released = None  # set by the test once the editor has its response

    @expose(content_type="text/plain")
    @cached_template()
    def article(self):
        # Made again by refresh_page: waits until the editor has been answered, which can
        # only happen if the refresh runs after the response was sent.
        if Editor.released is not None and not Editor.released.wait(10):
            raise RuntimeError("the editor was not answered before the refresh ran")
        WRITES.append("article")
        return "article version %d" % len(WRITES)

    @expose(content_type="text/plain")
    def edit(self):
        refresh_page("/article")
        return "edited"


@pytest.fixture
def served():
    """The Editor application served by waitress on a free port."""
    server = waitress.create_server(build(root=Editor()).app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.close()
        thread.join(5)


def get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_refresh_page_runs_after_the_editors_response_is_sent(served):
    WRITES.clear()
    Editor.released = None
    assert get(served, "/article") == (200, "article version 1")
    Editor.released = threading.Event()
    try:
        assert get(served, "/edit") == (200, "edited")  # answered while the refresh waits
        Editor.released.set()
        for _ in range(100):  # the refresh completes in the background
            if len(WRITES) == 2:
                break
            threading.Event().wait(0.05)
        assert get(served, "/article") == (200, "article version 2")
        assert WRITES == ["article", "article"]  # the refreshed page was stored, not made again
    finally:
        Editor.released.set()
        Editor.released = None
