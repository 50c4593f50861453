"""The same caching behaviour on every Beaker backend: memory, file, real memcached, real Redis."""
import itertools
import logging
import os
import time
import urllib.request

import pytest
import webob
from tg import expose

from tgext_resources import cached_entity, cached_template

from tests.apps import RootController, build, canonical_links
from tests.backends import MEMCACHED, REDIS, start_memcached, start_redis
from tests.concurrency import at_once, repeatedly
from tests.conftest import require
from tests.sample import serving
from tests.testsite.widgets import Badge

BACKENDS = ["memory", "file", "ext:memcached", "ext:redis"]
REGIONS = itertools.count()
CALLS = []
BADGE_JS = "/tw2/resources/tests.testsite.widgets/static/badge.js"


@cached_entity("backend-fragment")
def fragment(number):
    CALLS.append(("fragment", number))
    return Badge.display(text="fragment %s" % number)


@cached_entity("backend-expiring", expire=1)
def expiring(number):
    CALLS.append(("expiring", number))
    return "expiring %s" % number


class Root(RootController):
    @expose("tests.testsite.templates.cached")
    @cached_template()
    def page(self, number="1"):
        CALLS.append(("page", number))
        time.sleep(0.2)  # slow enough for concurrent misses to meet
        return dict(title="page %s" % number, widgets=[Badge], tick=lambda: len(CALLS), fragments=None)

    @expose("tests.testsite.templates.cached")
    def with_fragment(self, number="1"):
        return dict(title="plain", widgets=[], tick=lambda: 0, fragments=fragment(number))

    @expose()
    def expiring(self, number):
        return expiring(number)

    @expose()
    def drop(self, number):
        Root.page.invalidate(number=number)
        return "dropped"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    require(os.path.exists(REDIS), "redis-server (Debian package redis-server)")
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def memcached_server():
    require(os.path.exists(MEMCACHED), "memcached (Debian package memcached)")
    server = start_memcached()
    yield server
    server.stop()


def region_options(backend, request, tmp_path):
    name = "b%d" % next(REGIONS)
    options = {"beaker.cache.regions": name, "beaker.cache.%s.type" % name: backend}
    if backend in ("file", "ext:memcached"):
        options["beaker.cache.%s.data_dir" % name] = str(tmp_path / "cache")
    if backend == "ext:memcached":
        options["beaker.cache.%s.url" % name] = request.getfixturevalue("memcached_server").url
    if backend == "ext:redis":
        options["beaker.cache.%s.url" % name] = request.getfixturevalue("redis_server").url
    return options


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    test_app = build(root=Root(), **region_options(request.param, request, tmp_path))
    CALLS.clear()
    return test_app


def test_page_hit_is_byte_identical_and_runs_nothing(app):
    miss, hit = app.get("/page?number=1"), app.get("/page?number=1")
    assert hit.body == miss.body
    assert CALLS == [("page", "1")]
    assert BADGE_JS in canonical_links(hit.text)


def test_fragment_hit_replays_its_resources(app):
    app.get("/with_fragment?number=2")
    hit = app.get("/with_fragment?number=2")
    assert CALLS == [("fragment", "2")]
    assert "fragment 2" in hit.text and BADGE_JS in canonical_links(hit.text)


def test_invalidate_reaches_the_backend(app):
    app.get("/page?number=3")
    app.get("/drop/3")
    app.get("/page?number=3")
    assert CALLS == [("page", "3")] * 2


def test_an_entry_is_made_again_once_expired(app):
    assert app.get("/expiring/5").text == app.get("/expiring/5").text == "expiring 5"
    assert CALLS == [("expiring", "5")]
    time.sleep(1.1)  # past expire=1
    assert app.get("/expiring/5").text == "expiring 5"
    assert CALLS == [("expiring", "5")] * 2


def test_concurrent_misses_in_one_process_render_once(app):
    statuses = at_once(6, lambda _: webob.Request.blank("/page?number=4").get_response(app.app).status_int)
    assert statuses == [200] * 6
    assert CALLS == [("page", "4")]


@pytest.mark.parametrize("backend", ["ext:redis", "ext:memcached"])
def test_two_application_processes_serve_each_others_cached_pages(backend, request, tmp_path):
    options = region_options(backend, request, tmp_path)
    # Behind one front server both see the site's own host name (pages are keyed by it).
    def get(url):
        return urllib.request.urlopen(urllib.request.Request(url, headers={"Host": "shop.example"})).read()

    with serving(tmp_path / "a", **options) as first, serving(tmp_path / "b", **options) as second:
        made = get(first.url + "/article/1")
        shared = get(second.url + "/article/1")
    assert b'id="made-at"' in made
    assert shared == made  # the second process served the page the first one made


@pytest.mark.parametrize("backend", ["ext:redis", "ext:memcached"])
def test_a_server_killed_under_load_means_uncached_pages_and_no_error(backend, tmp_path, caplog):
    require(os.path.exists(REDIS if backend == "ext:redis" else MEMCACHED), backend)
    server = start_redis(tmp_path) if backend == "ext:redis" else start_memcached()
    name = "k%d" % next(REGIONS)
    test_app = build(root=Root(), **{
        "beaker.cache.regions": name, "beaker.cache.%s.type" % name: backend,
        "beaker.cache.%s.url" % name: server.url, "beaker.cache.%s.data_dir" % name: str(tmp_path / "cache"),
        "resources.cache_timeout": "0.2",
    })
    statuses, numbers = [], [itertools.count(1) for _ in range(4)]

    def load(worker):
        number = next(numbers[worker])
        path = "/page?number=%d" % (number % 3) if worker % 2 else "/with_fragment?number=%d" % (number % 5)
        statuses.append(webob.Request.blank(path).get_response(test_app.app).status_int)

    try:
        with caplog.at_level(logging.WARNING, logger="tgext_resources.caching"), repeatedly(load, threads=4):
            time.sleep(1.5)
            served_before = len(statuses)
            server.process.kill()  # the cache server dies in the middle of the run
            time.sleep(2.5)
    finally:
        server.stop()
    assert served_before > 0 and len(statuses) > served_before
    assert set(statuses) == {200}
    assert "Cache region %r (%s) failed to" % (name, backend) in caplog.text
