"""fscache.invalidation_url: the filesystem caches of several machines, kept true through a Redis stream.

Each "machine" here is an application with a directory of its own, built in this process
(tests/test_fscache_machines.py runs them as processes behind nginx); they share one
real redis-server.
"""
import logging
import os
import time

import pytest
import redis
from tg import expose

from tgext_resources import cached_template, fs_cached, refresh_page
from tgext_resources import fscache_sync
from tgext_resources.middleware import current

from tests.apps import RootController, build
from tests.backends import REDIS, start_redis
from tests.conftest import require
from tests.testsite.widgets import Badge

VERSIONS = {}
STREAM = "tgext_resources:fscache:tests.testsite"


class Root(RootController):
    @expose(content_type="image/png")
    @fs_cached()
    def thumbs(self, number):
        return b"\x89PNG thumbnail %s, version %d" % (number.encode(), VERSIONS.get(number, 1))

    @expose("tests.testsite.templates.page")
    @cached_template()
    def article(self, number):
        return dict(title="article %s, version %d" % (number, VERSIONS.get(number, 1)), widgets=[Badge])

    @expose()
    def edit(self, number):
        VERSIONS[number] = VERSIONS.get(number, 1) + 1
        refresh_page("/article/%s" % number)
        return "edited"

    @expose("tests.testsite.templates.page")
    @fs_cached()
    def news(self):
        return dict(title="news, version %d" % VERSIONS.get("news", 1), widgets=[])

    @expose()
    def edit_news(self):
        VERSIONS["news"] = VERSIONS.get("news", 1) + 1
        refresh_page("/news")
        return "edited"

    @expose()
    def drop(self, number):
        VERSIONS[number] = VERSIONS.get(number, 1) + 1
        Root.article.invalidate(number)
        return "dropped"


def until(condition, seconds=5.0):
    """Wait for ``condition()`` to hold (polled): whether it did within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class Machine:
    """An application and its own fscache.dir."""

    def __init__(self, directory, url, **options):
        self.dir = directory
        options = {"fscache.dir": str(directory), "fscache.invalidation_url": url, **options}
        self.app = build(root=Root(), **options)
        self.middleware = current()
        self.cache = self.middleware.filecache

    def file(self, number):
        return self.dir / "thumbs" / ("%s.png" % number)

    def stop(self):
        """As if its process ended: nothing followed nor sent any more."""
        self.cache.sync.stop(wait=10)


@pytest.fixture
def server(tmp_path):
    require(os.path.exists(REDIS), "redis-server")
    started = start_redis(tmp_path)
    yield started
    started.stop()


@pytest.fixture
def machines(tmp_path, server, monkeypatch):
    # A follower waits this long in XREAD before it looks whether it is stopped.
    monkeypatch.setattr(fscache_sync, "BLOCK", 0.2)
    made = []
    VERSIONS.clear()

    def machine(name, **options):
        made.append(Machine(tmp_path / name, server.url, **options))
        return made[-1]

    yield machine
    for each in made:
        each.stop()


def stream(server):
    return redis.Redis.from_url(server.url).xrange(STREAM)


def test_an_invalidation_on_one_machine_removes_the_file_on_every_other(machines):
    a, b, c = machines("a"), machines("b"), machines("c")
    for machine in (a, b, c):
        machine.app.get("/thumbs/1.png")
        machine.app.get("/thumbs/2.png")
        assert machine.file(1).is_file()
    a.cache.invalidate("/thumbs/1.png")
    assert not a.file(1).exists()
    assert until(lambda: not b.file(1).exists() and not c.file(1).exists(), seconds=1.0)
    assert all(machine.file(2).is_file() for machine in (a, b, c))  # the others stay


def test_a_write_replacing_a_file_is_published_and_a_new_one_is_not(machines, server):
    a, b = machines("a"), machines("b")
    a.app.get("/thumbs/1.png")
    b.app.get("/thumbs/1.png")
    kinds = [fields[b"kind"] for _, fields in stream(server)]
    assert b"replace" not in kinds and b"invalidate" not in kinds
    a.cache.store("/thumbs/1.png", b"\x89PNG new")  # e.g. made anew by a background job
    assert until(lambda: not b.file(1).exists())
    assert a.file(1).read_bytes() == b"\x89PNG new"  # its own entry is not applied to it


def test_writing_the_same_bytes_again_or_a_second_concurrent_miss_is_not_published(machines, server):
    a, b = machines("a"), machines("b")
    b.app.get("/thumbs/1.png")
    a.app.get("/thumbs/1.png")
    base = _generation(b, "/nothing.png")
    a.cache.store("/thumbs/1.png", a.file(1).read_bytes())  # the same bytes: nothing written
    a.cache.invalidate("/nothing.png")  # an entry after them: once it is applied, they were
    assert until(lambda: _generation(b, "/nothing.png") == base + 2)
    a.cache.store("/thumbs/1.png", b"raced", publish=False)  # as fs_cached writes outside refresh_page
    a.cache.invalidate("/nothing.png")
    assert until(lambda: _generation(b, "/nothing.png") == base + 4)
    assert b.file(1).is_file()
    assert [fields[b"kind"] for _, fields in stream(server)].count(b"replace") == 0


def test_refresh_page_of_a_page_in_the_filesystem_cache_reaches_every_machine(machines):
    a, b = machines("a"), machines("b")
    assert "version 1" in a.app.get("/news").text
    assert "version 1" in b.app.get("/news").text
    a.app.get("/edit_news")  # a's file replaced by the refreshed page: b's is stale
    assert "version 2" in (a.dir / "news.html").read_text()
    assert until(lambda: not (b.dir / "news.html").exists())
    assert "version 2" in b.app.get("/news").text


def test_processes_sharing_a_directory_apply_an_entry_once(machines):
    # Two applications on one directory stand for two processes of one machine.
    a, b1, b2 = machines("a"), machines("b"), machines("b")
    b1.app.get("/thumbs/1.png")
    generation = _generation(b1, "/thumbs/1.png")
    # Each invalidation moves the path's generation on by 2 (its two forms, one file),
    # in whichever process applies it: applied twice, it would move on by 4.
    for number in range(1, 21):
        b1.app.get("/thumbs/1.png")
        a.cache.invalidate("/thumbs/1.png")
        assert until(lambda: _generation(b2, "/thumbs/1.png") >= generation + 2 * number)
        assert not b1.file(1).exists()
    time.sleep(0.5)
    assert _generation(b2, "/thumbs/1.png") == generation + 40


def _generation(machine, path):
    with machine.cache.state.stripe(path) as counter:
        return counter.read()


def test_a_machine_that_was_down_catches_up_before_it_serves(machines):
    a, b = machines("a"), machines("b")
    for number in (1, 2):
        a.app.get("/thumbs/%d.png" % number)
        b.app.get("/thumbs/%d.png" % number)
    b.stop()
    a.cache.invalidate("/thumbs/1.png")
    time.sleep(0.3)
    assert b.file(1).exists()  # nobody applies it while b is down
    machines("b")  # b starts again: caught up while it is built
    assert not b.file(1).exists() and b.file(2).exists()


def test_a_directory_that_missed_more_than_the_stream_keeps_is_emptied(machines, caplog):
    a = machines("a", **{"fscache.invalidation_log": "10"})
    b = machines("b", **{"fscache.invalidation_log": "10"})
    b.app.get("/thumbs/1.png")
    b.stop()
    for number in range(400):  # trimming is approximate: whole blocks of about 100 entries
        a.cache.invalidate("/thumbs/%d.png" % (number + 100))
    assert until(lambda: not os.path.exists(os.path.join(a.cache.sync.files.directory, "sync-outbox"))
                 and not os.path.exists(os.path.join(a.cache.sync.files.directory, "sync-sending")))
    with caplog.at_level(logging.INFO, "tgext_resources"):
        machines("b", **{"fscache.invalidation_log": "10"})
    assert not b.file(1).exists()
    assert "emptied (1 pages): the invalidations after the last it applied are no longer in the stream" in caplog.text


def test_a_page_refreshed_or_invalidated_on_one_machine_is_new_on_every_other(machines, server):
    shared = {"beaker.cache.regions": "shared", "beaker.cache.shared.type": "ext:redis",
              "beaker.cache.shared.url": server.url}
    a, b = machines("a", **shared), machines("b", **shared)
    for _ in range(3):  # stored, then hits: b's memo of injected pages holds it
        assert "version 1" in b.app.get("/article/5").text
    a.app.get("/edit/5")  # refreshed on a
    assert "version 2" in b.app.get("/article/5").text
    a.app.get("/drop/5")  # invalidated on a
    assert "version 3" in b.app.get("/article/5").text
