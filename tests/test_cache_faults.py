"""Cache faults through real applications: bounded memory, locks of dead or frozen renderers,
and cache servers frozen (SIGSTOP) or killed (SIGKILL) under real pages."""
import gc
import itertools
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
import webob
from markupsafe import Markup
from tg import expose

from tgext_resources import cached_entity, cached_template
from tgext_resources.middleware import current

from tests.apps import RootController, build
from tests.backends import MEMCACHED, REDIS, frozen, start_memcached, start_redis
from tests.conftest import require
from tests.sample import ROOT

REGIONS = itertools.count()
CALLS = []
FRAGMENTS = 11
RELEASE_SLOW_PAGE = threading.Event()


@cached_entity("fault-fragment")
def fragment(number, page):
    CALLS.append(("fragment", page, number))
    return Markup('<p class="fragment">fragment %s of page %s</p>') % (number, page)


class Root(RootController):
    @expose("tests.testsite.templates.cached")
    @cached_template()
    def page(self, number="1"):
        CALLS.append(("page", number))
        made = Markup("").join(fragment(i, number) for i in range(FRAGMENTS))
        return dict(title="page %s" % number, widgets=[], tick=lambda: 0, fragments=made)

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def slow(self, number="1"):
        first = ("slow", number) not in CALLS
        CALLS.append(("slow", number))
        if first:  # the first render hangs until the test lets it go
            RELEASE_SLOW_PAGE.wait(60)
        return dict(title="slow %s" % number, widgets=[], tick=lambda: 0, fragments=None)


def get(test_app, path):
    response = webob.Request.blank(path).get_response(test_app.app)
    response.body  # read, so the application's response is closed and its request context ends
    return response


def fragments_in(response):
    return response.text.count('class="fragment"')


@pytest.fixture(autouse=True)
def fresh_calls():
    CALLS.clear()
    RELEASE_SLOW_PAGE.clear()
    yield
    RELEASE_SLOW_PAGE.set()


def server_for(backend, tmp_path):
    require(os.path.exists(REDIS if backend == "ext:redis" else MEMCACHED), backend)
    return start_redis(tmp_path) if backend == "ext:redis" else start_memcached()


def region(backend, url, tmp_path, **options):
    name = "fault%d" % next(REGIONS)
    settings = {"beaker.cache.regions": name, "beaker.cache.%s.type" % name: backend,
                "beaker.cache.%s.data_dir" % name: str(tmp_path / "cache")}
    if url:
        settings["beaker.cache.%s.url" % name] = url
    settings.update(options)
    return name, settings


@pytest.fixture
def socket_timeouts(monkeypatch):
    """Every socket timeout of this process, whatever client library met it."""
    met = []
    for name in ("connect", "recv", "recv_into"):
        def counted(self, *args, _original=getattr(socket.socket, name), _name=name, **kwargs):
            try:
                return _original(self, *args, **kwargs)
            except TimeoutError:
                met.append(_name)
                raise
        monkeypatch.setattr(socket.socket, name, counted)
    return met


# -- 7. memory regions are bounded, and go with their application ---------------------------

def test_a_memory_region_keeps_max_entries_least_recently_used_first(tmp_path):
    test_app = build(root=Root(), **region("memory", None, tmp_path, **{"resources.cache_max_entries": "30"})[1])
    store = current().cache_store  # this application's, built last
    for number in range(40):
        assert get(test_app, "/page?number=%d" % number).status_int == 200
        get(test_app, "/page?number=0")  # page 0 stays in use
    CALLS.clear()
    assert "page 0" in get(test_app, "/page?number=0").text
    assert CALLS == []  # the page used all along is still there
    assert "page 1" in get(test_app, "/page?number=1").text
    assert ("page", "1") in CALLS  # an old one went first
    assert [len(r.memory) for r in store.regions.values()] == [30]  # of 40 pages and 440 fragments made


def test_a_discarded_application_frees_its_memory_region(tmp_path):
    marker = uuid.uuid4().hex
    options = region("memory", None, tmp_path)[1]
    discarded = build(root=Root(), **options)
    for number in range(5):
        assert marker in get(discarded, "/page?number=%s-%d" % (marker, number)).text

    def kept():
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, tuple) and any(
            isinstance(item, bytes) and marker.encode() in item for item in o))

    assert kept() > 0  # the cached pages, while their application lives
    build(root=Root(), **region("memory", None, tmp_path)[1])  # TurboGears' config points elsewhere
    del discarded
    assert kept() == 0


# -- 8. a lock left by a renderer that died or hangs is never waited on for long -----------

def worker(options, path, log, stuck=False):
    env = dict(os.environ, CACHE_WORKER_STUCK="1" if stuck else "0")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.cache_worker", json.dumps(options), path],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)


def wait_for_render(process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]
        line = process.stdout.readline() if ready else ""
        if line.strip() == "rendering":
            return
        if ready and not line:
            break  # it exited
    process.kill()
    raise AssertionError("the worker never started rendering")


def answer(process, seconds):
    try:
        out = process.communicate(timeout=seconds)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("the request did not answer in %d s: it waits for a dead renderer's lock" % seconds)
    return json.loads(out.strip().splitlines()[-1])


def test_a_renderer_killed_mid_render_leaves_a_redis_lock_that_dies_within_render_timeout(tmp_path):
    import redis

    server = server_for("ext:redis", tmp_path)
    options = region("ext:redis", server.url, tmp_path, **{"resources.render_timeout": "1"})[1]
    log = open(str(tmp_path / "workers.log"), "w")
    try:
        killed = worker(options, "/page?number=7", log, stuck=True)
        wait_for_render(killed)
        locks = redis.Redis.from_url(server.url).keys("beaker_lock:*")
        lifetimes = [redis.Redis.from_url(server.url).pttl(lock) for lock in locks]
        killed.send_signal(signal.SIGKILL)  # mid-render: its lock stays behind in Redis
        killed.wait()
        second = answer(worker(options, "/page?number=7", log), seconds=60)
    finally:
        log.close()
        server.stop()
    assert len(lifetimes) == 1 and 0 < lifetimes[0] <= 1000  # milliseconds: render_timeout, not 900 s
    assert second["status"] == 200 and "page 7 made by" in second["body"]
    assert second["seconds"] < 20  # a generous bound: it did not wait for the dead process


def test_a_renderer_frozen_mid_render_holds_file_lock_waiters_render_timeout_at_most(tmp_path):
    server = server_for("ext:memcached", tmp_path)
    options = region("ext:memcached", server.url, tmp_path, **{"resources.render_timeout": "1"})[1]
    log = open(str(tmp_path / "workers.log"), "w")
    holder = worker(options, "/page?number=8", log, stuck=True)
    try:
        wait_for_render(holder)
        holder.send_signal(signal.SIGSTOP)  # the kernel keeps its flock: only a deadline helps
        second = answer(worker(options, "/page?number=8", log), seconds=60)
    finally:
        holder.kill()
        holder.wait()
        log.close()
        server.stop()
    assert os.listdir(str(tmp_path / "cache" / "lock"))  # the lock was a file lock, held
    assert second["status"] == 200 and "page 8 made by" in second["body"]
    assert second["seconds"] < 20


def test_a_request_waiting_past_render_timeout_makes_the_page_itself(tmp_path):
    test_app = build(root=Root(), **region("memory", None, tmp_path, **{"resources.render_timeout": "0.5"})[1])
    first = threading.Thread(target=get, args=(test_app, "/slow?number=1"), daemon=True)
    first.start()
    while ("slow", "1") not in CALLS:  # the first request holds the lock, and hangs
        time.sleep(0.01)
    waiter = []
    second = threading.Thread(target=lambda: waiter.append(get(test_app, "/slow?number=1")), daemon=True)
    second.start()
    second.join(20)
    RELEASE_SLOW_PAGE.set()
    first.join(20)
    assert waiter and waiter[0].status_int == 200 and "slow 1" in waiter[0].text
    assert CALLS == [("slow", "1")] * 2  # made again by the waiter, while the first still hung


# -- 10. a hung cache server costs one timeout, then is left alone for cache_retry seconds --

@pytest.mark.parametrize("backend", ["ext:redis", "ext:memcached"])
def test_a_frozen_server_costs_one_timeout_not_one_per_fragment(backend, tmp_path, caplog, socket_timeouts):
    server = server_for(backend, tmp_path)
    name, options = region(backend, server.url, tmp_path, **{
        "resources.cache_timeout": "0.5", "resources.cache_retry": "60"})
    test_app = build(root=Root(), **options)
    try:
        assert fragments_in(get(test_app, "/page?number=0")) == FRAGMENTS  # connected, and working
        with caplog.at_level(logging.WARNING, logger="tgext_resources.caching"), frozen(server):
            started = time.monotonic()
            pages = [get(test_app, "/page?number=%d" % number) for number in (1, 2, 3)]
            seconds = time.monotonic() - started
    finally:
        server.stop()
    assert [page.status_int for page in pages] == [200] * 3
    assert [fragments_in(page) for page in pages] == [FRAGMENTS] * 3
    assert len(socket_timeouts) == 1  # for 3 pages of 11 fragments: the first operation only
    warnings = [r for r in caplog.records if r.name == "tgext_resources.caching"]
    assert len(warnings) == 1 and "Cache region %r (%s) failed to" % (name, backend) in warnings[0].getMessage()
    assert seconds < 20  # a generous bound: no hang


@pytest.mark.parametrize("backend", ["ext:redis", "ext:memcached"])
def test_a_server_that_comes_back_is_used_again_after_cache_retry_seconds(backend, tmp_path, caplog):
    server = server_for(backend, tmp_path)
    name, options = region(backend, server.url, tmp_path, **{
        "resources.cache_timeout": "0.5", "resources.cache_retry": "0.5"})
    test_app = build(root=Root(), **options)
    try:
        with caplog.at_level(logging.INFO, logger="tgext_resources.caching"):
            with frozen(server):
                assert fragments_in(get(test_app, "/page?number=1")) == FRAGMENTS
            time.sleep(1.0)  # past cache_retry
            made = get(test_app, "/page?number=2")
            CALLS.clear()
            again = get(test_app, "/page?number=2")
    finally:
        server.stop()
    assert again.status_int == 200 and again.body == made.body
    assert CALLS == []  # stored once the server answered again, and served from it
    assert "Cache region %r (%s) answers again" % (name, backend) in caplog.text


def test_a_killed_redis_means_uncached_pages_then_one_warning(tmp_path, caplog):
    server = server_for("ext:redis", tmp_path)
    name, options = region("ext:redis", server.url, tmp_path, **{"resources.cache_retry": "60"})
    test_app = build(root=Root(), **options)
    assert fragments_in(get(test_app, "/page?number=0")) == FRAGMENTS
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    with caplog.at_level(logging.WARNING, logger="tgext_resources.caching"):
        pages = [get(test_app, "/page?number=%d" % number) for number in (1, 2)]
    assert [fragments_in(page) for page in pages] == [FRAGMENTS] * 2
    assert CALLS.count(("page", "1")) == 1 and CALLS.count(("page", "2")) == 1
    warnings = [r for r in caplog.records if r.name == "tgext_resources.caching"]
    assert len(warnings) == 1 and "ConnectionError" in warnings[0].getMessage()
