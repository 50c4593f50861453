"""The filesystem cache under pressure: invalidations racing renders, writers racing each
other (threads and processes), URLs too deep or too long for the disk, and a directory that
many spellings of one URL must not fill."""
import gzip
import itertools
import logging
import os
import subprocess
import sys
import threading

import brotli
import pytest
from tg import expose

from tgext_resources import fs_cached, fscache
from tgext_resources.errors import UnstorablePathError
from tgext_resources.middleware import current

from tests.apps import RootController, build
from tests.commands import run_python
from tests.concurrency import at_once
from tests.conftest import require
from tests.frontservers import NGINX, behind_nginx
from tests.test_frontserver import fetch
from tests.test_fscache import cached_files

RENDERING = threading.Event()  # set by /slow once it has begun
RELEASE = threading.Event()  # /slow finishes once it is set
_SERIAL = itertools.count()
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Root(RootController):
    @expose(content_type="image/png")
    @fs_cached()
    def thumbs(self, number):
        return b"\x89PNG thumbnail %d" % int(number)  # /thumbs/1.png and /thumbs/001.png: one image

    @expose(content_type="text/css")
    @fs_cached()
    def styles(self, name):
        # Other bytes on every call (and in every process): racing writers disagree.
        return "/* %s made by %d, call %d */\n" % (name, os.getpid(), next(_SERIAL)) + "p { color: red }\n" * 300

    @expose(content_type="image/png")
    @fs_cached()
    def slow(self, number):
        RENDERING.set()
        RELEASE.wait(30)
        return b"\x89PNG made from the row as it was when the request began"

    @expose(content_type="text/plain")
    @fs_cached()
    def deep(self, *segments):
        return "%d segments" % len(segments)


def racing_app(directory, **options):
    """The application of these tests, caching in ``directory`` (also run in another process)."""
    return build(root=Root(), **{"fscache.dir": str(directory), **options})


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "fscache"


@pytest.fixture
def app(cache_dir):
    RENDERING.clear()
    RELEASE.clear()
    return racing_app(cache_dir)


def counted(app):
    """Wait until the application has counted the pages of its directory (done in the background)."""
    assert current().filecache.pages.counted.wait(30)
    return app


def compare_siblings(cache_dir):
    """``(pages checked, pages whose .gz or .br differs, siblings left without their page)``."""
    checked, disagreeing, orphans = 0, [], []
    decompress = {".gz": gzip.decompress, ".br": brotli.decompress}
    for name in cached_files(cache_dir):
        suffix = os.path.splitext(name)[1]
        if suffix not in decompress:
            continue
        page = cache_dir / name[:-len(suffix)]
        if not page.exists():
            orphans.append(name)
            continue
        checked += 1
        if decompress[suffix]((cache_dir / name).read_bytes()) != page.read_bytes():
            disagreeing.append(name)
    return checked, disagreeing, orphans


def directories(cache_dir):
    """The directories the cache made (not its own hidden one)."""
    return [d for d in cache_dir.rglob("*") if d.is_dir() and not d.name.startswith(".")]


# -- 18: an invalidation wins over a render already under way --------------------------------

def render_while(app, invalidate):
    """Request /slow/1.png and, while it renders, call ``invalidate()``; the request's status."""
    RENDERING.clear()
    RELEASE.clear()

    def step(index):
        if index == 0:
            return app.get("/slow/1.png").status_int
        assert RENDERING.wait(30)
        try:
            invalidate()
        finally:
            RELEASE.set()

    return at_once(2, step)[0]


def test_an_invalidation_during_a_render_keeps_its_stale_result_out(app, cache_dir):
    written = []
    for _ in range(5):
        assert render_while(app, lambda: fscache.invalidate("/slow/1.png")) == 200
        written.append((cache_dir / "slow" / "1.png").exists())
    assert written == [False] * 5
    app.get("/slow/1.png")  # began after the invalidation: written
    assert (cache_dir / "slow" / "1.png").is_file()


def test_an_invalidation_from_another_process_during_a_render_wins_too(app, cache_dir):
    def invalidate_elsewhere():
        job = run_python(
            "from tgext_resources.fscache import FileCache\n"
            "cache = FileCache(%r)\ncache.prepare()\nprint(cache.invalidate('/slow/1.png'))" % str(cache_dir))
        assert job.returncode == 0, job.stderr

    assert render_while(app, invalidate_elsewhere) == 200
    assert not (cache_dir / "slow" / "1.png").exists()


def test_an_invalidation_of_the_html_form_stops_a_render_of_the_same_file(app, cache_dir):
    # /about and /about.html both end as about.html: one lock, one generation.
    cache = current().filecache
    ticket = cache.ticket("/about.html")
    cache.invalidate("/about")
    assert cache.store("/about.html", b"<p>stale</p>", "text/html", since=ticket) is None
    assert not (cache_dir / "about.html").exists()


# -- 19: a page and its compressed siblings never disagree -----------------------------------

def test_racing_writers_leave_every_page_with_siblings_of_its_own_content(app, cache_dir):
    for trial in range(100):
        statuses = at_once(3, lambda _: app.get("/styles/race%d.css" % trial).status_int)
        assert statuses == [200] * 3
    checked, disagreeing, orphans = compare_siblings(cache_dir)
    assert checked == 200  # each page has a .gz and a .br
    assert disagreeing == [] and orphans == []


def test_writers_racing_invalidations_leave_no_sibling_alone(app, cache_dir):
    def step(index):
        url = "/styles/race%d.css" % trial
        for _ in range(3):
            if index % 2:
                fscache.invalidate(url)
            else:
                app.get(url)

    for trial in range(60):
        at_once(4, step)
    app.get("/styles/after.css")
    checked, disagreeing, orphans = compare_siblings(cache_dir)
    assert checked >= 2 and disagreeing == [] and orphans == []


RACER = """
import sys
from tests.test_fscache_trust import racing_app
app = racing_app(sys.argv[1])
print("ready", flush=True)
for line in sys.stdin:
    app.get("/styles/shared%s.css" % line.strip())
    print("done", flush=True)
"""


def test_writers_in_two_processes_leave_every_page_with_siblings_of_its_own_content(app, cache_dir):
    # Page after page, this process and another write the same page at the same moment.
    pages = 100
    other = subprocess.Popen([sys.executable, "-c", RACER, str(cache_dir)], cwd=_ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "ready", other.stderr.read()
        for page in range(pages):
            other.stdin.write("%d\n" % page)
            other.stdin.flush()
            app.get("/styles/shared%d.css" % page)
            assert other.stdout.readline().strip() == "done", other.stderr.read()
    finally:
        _, errors = other.communicate(timeout=120)
    assert other.returncode == 0, errors
    checked, disagreeing, orphans = compare_siblings(cache_dir)
    assert checked == 2 * pages
    assert disagreeing == [] and orphans == []


# -- 20: URLs too deep or too long for the disk are served uncached --------------------------

@pytest.mark.parametrize("url", [
    "/deep/" + "/".join(["s"] * 2000) + ".txt",  # deeper than Python's recursion limit
    "/deep/" + "/".join(["s"] * 40) + ".txt",  # deeper than fscache.MAX_DEPTH
    "/deep/" + "n" * 300 + ".txt",  # a name longer than the file system takes
    "/deep/" + "/".join(["d" * 200] * 25) + ".txt",  # a path beyond PATH_MAX
], ids=["2000-segments", "40-segments", "long-name", "beyond-path-max"])
def test_urls_the_disk_cannot_hold_are_served_uncached(app, cache_dir, url):
    served = app.get(url)
    assert served.status_int == 200 and served.text == "%d segments" % (url.count("/") - 1)
    assert cached_files(cache_dir) == [] and directories(cache_dir) == []


def test_a_url_within_the_limits_is_still_cached(app, cache_dir):
    app.get("/deep/" + "/".join(["s"] * 20) + ".txt")
    assert cached_files(cache_dir) == [os.path.join("deep", *["s"] * 19, "s.txt")]


def test_storing_from_code_under_a_path_the_disk_cannot_hold_says_why(app):
    with pytest.raises(UnstorablePathError, match=r"has 41 segments; at most 32 are cached"):
        fscache.store("/deep/" + "/".join(["s"] * 40) + ".txt", b"x")
    with pytest.raises(UnstorablePathError, match=r"too long for the file system \(names of 231 bytes at most"):
        fscache.store("/deep/" + "n" * 300 + ".txt", b"x")
    assert fscache.invalidate("/deep/" + "n" * 300 + ".txt") == []


# -- 21: the directory grows only under plain URLs, up to fscache.max_files ------------------

def full_warnings(caplog):
    return [r for r in caplog.records if r.levelno == logging.WARNING and "Filesystem cache full" in r.getMessage()]


def test_spellings_of_one_url_fill_the_cache_only_up_to_max_files(cache_dir, caplog):
    app = counted(racing_app(cache_dir, **{"fscache.max_files": "20"}))
    caplog.set_level(logging.INFO, logger="tgext_resources")
    for zeros in range(500):
        served = app.get("/thumbs/%s1.png" % ("0" * zeros))
        assert served.body == b"\x89PNG thumbnail 1"
    assert len(cached_files(cache_dir)) == 20
    assert len(full_warnings(caplog)) == 1  # said once, not 480 times
    assert "fscache.max_files = 20" in full_warnings(caplog)[0].getMessage()


def test_an_invalidation_makes_room_in_a_full_cache(cache_dir):
    app = counted(racing_app(cache_dir, **{"fscache.max_files": "3"}))
    for number in range(1, 5):
        app.get("/thumbs/%d.png" % number)
    assert cached_files(cache_dir) == ["thumbs/1.png", "thumbs/2.png", "thumbs/3.png"]
    fscache.invalidate("/thumbs/2.png")
    app.get("/thumbs/4.png")
    assert cached_files(cache_dir) == ["thumbs/1.png", "thumbs/3.png", "thumbs/4.png"]


def test_pages_already_on_disk_are_counted_at_start_up(cache_dir):
    (cache_dir / "old").mkdir(parents=True)
    for number in range(10):
        (cache_dir / "old" / ("%d.css" % number)).write_text("p {}")
        (cache_dir / "old" / ("%d.css.gz" % number)).write_bytes(gzip.compress(b"p {}"))  # not pages
    (cache_dir / "old" / ".tmp-abandoned-1.css").write_text("p {}")  # nor is a write in progress
    app = counted(racing_app(cache_dir, **{"fscache.max_files": "11"}))
    app.get("/thumbs/1.png")
    app.get("/thumbs/2.png")
    assert (cache_dir / "thumbs" / "1.png").is_file()
    assert not (cache_dir / "thumbs" / "2.png").exists()


def test_pages_another_process_wrote_count_against_the_bound(cache_dir):
    app = counted(racing_app(cache_dir, **{"fscache.max_files": "5"}))
    job = run_python(
        "from tgext_resources.fscache import FileCache\n"
        "cache = FileCache(%r, max_files=5)\ncache.prepare()\ncache.pages.counted.wait(30)\n"
        "print([cache.store('/elsewhere/%%d.txt' %% n, b'x') for n in range(5)])" % str(cache_dir))
    assert job.returncode == 0, job.stderr
    app.get("/thumbs/1.png")
    assert len(cached_files(cache_dir)) == 5 and not (cache_dir / "thumbs").exists()


def test_no_bound_when_max_files_is_zero(cache_dir):
    app = racing_app(cache_dir, **{"fscache.max_files": "0"})
    for zeros in range(30):
        app.get("/thumbs/%s1.png" % ("0" * zeros))
    assert len(cached_files(cache_dir)) == 30


@pytest.mark.parametrize("raw_key", ["RAW_URI", "REQUEST_URI"])  # gunicorn; waitress, uWSGI, mod_wsgi
def test_a_needlessly_escaped_url_is_not_cached(app, cache_dir, raw_key):
    app.get("/thumbs/%31.png", extra_environ={raw_key: "/thumbs/%31.png"})
    app.get("/thumbs/2.png", extra_environ={raw_key: "/th%75mbs/2.png"})
    assert cached_files(cache_dir) == []
    app.get("/thumbs/1.png", extra_environ={raw_key: "/thumbs/1.png?"})  # the plain spelling: cached
    assert cached_files(cache_dir) == ["thumbs/1.png"]


def test_escapes_a_url_needs_are_cached(app, cache_dir):
    # "é" must be escaped in a URL: /styles/caf%C3%A9.css is its plain spelling.
    app.get("/styles/caf%C3%A9.css", extra_environ={"REQUEST_URI": "/styles/caf%C3%A9.css"})
    assert cached_files(cache_dir)[0] == "styles/café.css"


def test_behind_nginx_only_plain_spellings_are_cached_and_the_cache_state_is_never_served(tmp_path):
    require(os.path.exists(NGINX), "nginx (Debian package nginx)")
    with behind_nginx(tmp_path, fscache=True) as front:
        thumbnail = os.path.join(front.cache, "thumbs", "1.png")
        assert fetch(front.nginx.url + "/thumbs/%31.png")[0] == 200
        assert not os.path.exists(thumbnail)  # nginx passes the URL as sent; waitress tells it
        assert fetch(front.nginx.url + "/thumbs/1.png")[0] == 200
        assert os.path.isfile(thumbnail)
        assert os.path.isdir(os.path.join(front.cache, ".tgext-resources"))
        assert fetch(front.nginx.url + "/.tgext-resources/count")[0] == 404
        page = fetch(front.nginx.url + "/images")[2]  # made by the application, and written
        status, headers, packed = fetch(front.nginx.url + "/images", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip" and gzip.decompress(packed) == page
