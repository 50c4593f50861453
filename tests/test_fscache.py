"""The filesystem cache: fs_cached, fscache.store and fscache.invalidate."""
import gzip
import os

import pytest
from tg import expose, response, session

from tgext_resources import ConfigError, UnsafePathError, fs_cached, fscache

from tests.apps import RootController, build, resource_links
from tests.concurrency import at_once, repeatedly
from tests.testsite.widgets import Badge

CALLS = []


class Root(RootController):
    @expose(content_type="image/png")
    @fs_cached()
    def thumbs(self, number):
        CALLS.append(number)
        return b"\x89PNG fake thumbnail %s" % number.encode()

    @expose("tests.testsite.templates.page")
    @fs_cached()
    def about(self):
        CALLS.append("about")
        return dict(title="about us", widgets=[Badge])

    @expose("tests.testsite.templates.page")
    @fs_cached()
    def index(self):
        return dict(title="home", widgets=[])

    @expose(content_type="image/png")
    @fs_cached()
    def missing(self, number):
        response.status = 404
        return b"no"

    @expose(content_type="text/css")
    @fs_cached()
    def styled(self, name):
        response.set_cookie("seen", "1")
        return "body {}"

    @expose("tests.testsite.templates.page")
    @fs_cached()
    def mine(self):
        return dict(title="for %s" % session.get("name", "you"), widgets=[])

    @expose(content_type="application/json")
    @fs_cached()
    def data(self):
        return b'{"a": 1}'


def cached_files(cache_dir):
    """The files under ``cache_dir`` the front server could serve (not the hidden ones: the
    cache's own locks and count, writes in progress), relative, sorted."""
    return sorted(
        os.path.relpath(os.path.join(parent, name), cache_dir)
        for parent, directories, files in os.walk(cache_dir)
        for name in files
        if not any(part.startswith(".") for part in os.path.relpath(os.path.join(parent, name), cache_dir).split(os.sep))
    )


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "fscache"


@pytest.fixture
def app(cache_dir):
    CALLS.clear()
    return build(root=Root(), **{"fscache.dir": str(cache_dir), "session.enabled": "true",
                                 "beaker.session.type": "memory"})


def test_a_200_answer_is_written_at_the_path_of_its_url(app, cache_dir):
    served = app.get("/thumbs/42.png")
    assert served.content_type == "image/png"
    assert (cache_dir / "thumbs" / "42.png").read_bytes() == served.body


def test_an_html_page_is_written_as_sent_with_its_resources_and_a_gzip_sibling(app, cache_dir):
    page = app.get("/about")
    written = cache_dir / "about.html"
    assert written.read_bytes() == page.body
    assert resource_links(written.read_text())  # the injected links: what the browser got
    assert gzip.decompress((cache_dir / "about.html.gz").read_bytes()) == page.body
    app.get("/")
    assert (cache_dir / "index.html").is_file()


@pytest.mark.parametrize("path", ["/thumbs/1.png?size=large", "/missing/1.png", "/styled/x.css", "/data"])
def test_query_strings_errors_cookies_and_typeless_paths_are_never_written(app, cache_dir, path):
    app.get(path, status="*")
    assert cached_files(cache_dir) == []


def test_other_methods_are_never_written(app, cache_dir):
    app.post("/thumbs/2.png")
    assert not (cache_dir / "thumbs" / "2.png").exists()


def test_a_page_made_from_the_session_is_never_written(app, cache_dir):
    app.get("/mine")
    assert not (cache_dir / "mine.html").exists()


def test_store_and_invalidate_from_code(app, cache_dir):
    app.get("/about")  # a request: fscache is configured by then anyway
    written = fscache.store("/exports/report.css", "body { color: red }" * 50)
    assert written == str(cache_dir / "exports" / "report.css")
    assert (cache_dir / "exports" / "report.css.gz").is_file()
    assert (cache_dir / "exports" / "report.css.br").is_file()  # Brotli is installed for the tests
    removed = fscache.invalidate("/exports/report.css")
    assert sorted(removed) == [written, written + ".br", written + ".gz"]
    assert not (cache_dir / "exports" / "report.css").exists()
    about = str(cache_dir / "about.html")
    assert sorted(fscache.invalidate("/about")) == [about, about + ".br", about + ".gz"]


def test_invalidation_makes_the_next_request_reach_the_application(app, cache_dir):
    app.get("/thumbs/7.png")
    fscache.invalidate("/thumbs/7.png")
    assert not (cache_dir / "thumbs" / "7.png").exists()
    app.get("/thumbs/7.png")
    assert CALLS == ["7", "7"] and (cache_dir / "thumbs" / "7.png").is_file()


def test_a_background_job_stores_with_the_applications_configuration(cache_dir):
    build(root=Root(), **{"fscache.dir": str(cache_dir)})  # the job builds the application...
    fscache.store("/feeds/news.xml", b"<rss/>")  # ...then writes, outside any request
    assert (cache_dir / "feeds" / "news.xml").read_bytes() == b"<rss/>"


HOSTILE = ["/../escape.txt", "/a/../../escape.txt", "/a/%s" % "\x00.txt", "/a\\..\\escape.txt",
           "relative.txt", "//etc/passwd", "/a/./b.txt", "/.hidden"]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_raise_and_write_nothing_outside(app, cache_dir, tmp_path, path):
    app.get("/about")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(UnsafePathError):
        fscache.store(path, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (tmp_path / "escape.txt").exists()


def test_a_symbolic_link_out_of_the_directory_is_refused(app, cache_dir, tmp_path):
    app.get("/about")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, cache_dir / "link")
    with pytest.raises(UnsafePathError, match="symbolic link"):
        fscache.store("/link/planted.txt", b"x")
    assert list(outside.iterdir()) == []


def test_concurrent_writers_never_leave_a_partial_file(app, cache_dir):
    versions = [bytes([65 + i]) * (300000 + i * 1000) for i in range(4)]
    fscache.store("/big.css", versions[0])
    target = cache_dir / "big.css"
    torn = []

    def write(index):
        for _ in range(15):
            fscache.store("/big.css", versions[index])

    def read(_):
        data = target.read_bytes()
        if data not in versions:
            torn.append(len(data))

    with repeatedly(read) as reads:
        at_once(len(versions), write)
    assert reads.calls > 10 and torn == []
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".tmp-")]  # no temporary left behind


def test_unset_directory_means_the_decorator_does_nothing(tmp_path):
    CALLS.clear()
    app = build(root=Root())
    app.get("/thumbs/3.png")
    app.get("/thumbs/3.png")
    assert CALLS == ["3", "3"]
    assert fscache.directory() is None
    assert fscache.store("/x.txt", b"x") is None


def test_a_directory_that_cannot_be_written_stops_startup(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError) as error:
        build(root=Root(), **{"fscache.dir": str(blocker / "cache")})
    message = str(error.value)
    assert message.startswith("fscache.dir = %r is not valid: the directory cannot be created or written" % str(blocker / "cache"))
    assert "give the application's user write access" in message


def test_a_file_named_as_the_directory_stops_startup_saying_so(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError) as error:
        build(root=Root(), **{"fscache.dir": str(blocker)})
    assert str(error.value).startswith("fscache.dir = %r is not valid: this is a file, not a directory" % str(blocker))


def test_outside_a_request_a_thread_acts_on_the_application_configured_last(tmp_path):
    # tw2 leaves an application's middleware in the request-local storage of the thread
    # that built it, keyed by the thread's id, which a later thread may be given again.
    import threading

    from tw2.core import core

    from tgext_resources.middleware import current

    build(root=Root(), **{"fscache.dir": str(tmp_path / "old")})
    old = current()
    build(root=Root(), **{"fscache.dir": str(tmp_path / "new")})
    seen = []

    def job():
        core.request_local()["middleware"] = old  # as the build of the old one left it
        seen.append(fscache.directory())

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert seen == [str(tmp_path / "new")]
