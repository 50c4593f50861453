"""fscache.invalidation_url when things go wrong: Redis frozen, killed or emptied, a process
that dies or forks, hostile stream entries, a cursor no writer wrote, bad configuration.
Each "machine" is an application built in this process (see test_fscache_sync.py)."""
import logging
import os
import subprocess
import sys
import threading

import pytest
import redis

from tgext_resources import ConfigError

from tests import test_fscache_sync
from tests.apps import build
from tests.backends import frozen
from tests.test_fscache_sync import STREAM, Machine, Root, until

# The fixtures of the machines and their Redis, shared.
server, machines = test_fscache_sync.server, test_fscache_sync.machines


def test_with_redis_frozen_invalidation_is_local_and_immediate_and_reaches_the_others_later(machines, server, caplog):
    a, b = machines("a"), machines("b")
    for machine in (a, b):
        machine.app.get("/thumbs/1.png")
        machine.app.get("/thumbs/2.png")
    with caplog.at_level(logging.WARNING, "tgext_resources"), frozen(server):
        done = threading.Event()
        threading.Thread(target=lambda: (a.cache.invalidate("/thumbs/1.png"), done.set()), daemon=True).start()
        assert done.wait(10), "invalidate waited for a frozen Redis"
        assert not a.file(1).exists()
        assert a.app.get("/thumbs/3.png").status_int == 200  # requests go on
        assert until(lambda: "fscache.invalidation_url = %s: Redis failed to send" % server.url in caplog.text)
        assert b.file(1).exists()
    assert until(lambda: not b.file(1).exists(), seconds=10)
    assert b.file(2).exists()  # sent once Redis answered: not an emptying


def test_entries_left_by_a_process_that_died_are_sent_by_the_next(machines, server):
    a, b = machines("a"), machines("b")
    b.app.get("/thumbs/1.png")
    b.app.get("/thumbs/2.png")
    with frozen(server):
        a.stop()  # a's process dies with its invalidation unsent
        a.cache.invalidate("/thumbs/1.png")
    assert not until(lambda: not b.file(1).exists(), seconds=0.5)
    machines("a")  # a starts again: it sends what waits first
    assert until(lambda: not b.file(1).exists())
    assert b.file(2).exists()


def test_a_redis_that_lost_its_data_empties_every_directory(machines, server, tmp_path):
    a, b = machines("a"), machines("b")
    b.app.get("/thumbs/1.png")
    redis.Redis.from_url(server.url).flushall()
    a.cache.invalidate("/thumbs/9.png")  # an entry after the loss: b's cursor is gone from the stream
    assert until(lambda: not b.file(1).exists())


def test_hostile_entries_are_ignored_and_the_follower_goes_on(machines, server, tmp_path, caplog):
    a, b = machines("a"), machines("b")
    canary = tmp_path / "outside.png"
    canary.write_bytes(b"keep")
    (tmp_path / "b" / "x").mkdir()
    b.app.get("/thumbs/1.png")
    client = redis.Redis.from_url(server.url)
    with caplog.at_level(logging.WARNING, "tgext_resources"):
        for fields in ({b"kind": b"invalidate", b"path": b"/../outside.png", b"origin": b"x"},
                       {b"kind": b"invalidate", b"path": b"/x/../../outside.png", b"origin": b"x"},
                       {b"kind": b"invalidate", b"path": b"relative.png", b"origin": b"x"},
                       {b"kind": b"invalidate", b"path": b"/\xff\xfe.png", b"origin": b"x"},
                       {b"kind": b"invalidate", b"path": b"/" + b"a/" * 5000 + b"z.png", b"origin": b"x"},
                       {b"nothing": b"here"},
                       {b"kind": b"\xff", b"path": b"/thumbs/1.png"}):
            client.xadd(STREAM, fields)
        a.cache.invalidate("/thumbs/1.png")
        assert until(lambda: not b.file(1).exists())
    assert canary.read_bytes() == b"keep"
    assert "not applied" in caplog.text


def test_a_redis_that_cannot_be_reached_at_start_up_costs_a_warning_not_the_start(tmp_path, caplog, server):
    with caplog.at_level(logging.WARNING, "tgext_resources"):
        with frozen(server):
            done = threading.Event()
            machine = []
            threading.Thread(target=lambda: (machine.append(Machine(tmp_path / "a", server.url)), done.set()),
                             daemon=True).start()
            assert done.wait(30), "the start waited for a frozen Redis"
    machine[0].stop()
    assert "fscache.invalidation_url = %s: Redis failed to catch up at start-up" % server.url in caplog.text


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/0", "redis://", "redis://host:port/0",
                                 "redis://127.0.0.1:6379/zero", "127.0.0.1:6379",
                                 "redis://127.0.0.1:6379/0?socket_timeout=20", "redis://127.0.0.1:6379/123456"])
def test_a_url_that_is_no_redis_url_stops_start_up_naming_the_key(tmp_path, url):
    with pytest.raises(ConfigError, match=r"fscache.invalidation_url = .* (use a Redis URL, e.g. redis://|remove "
                                          r"the options after '\?')"):
        build(root=Root(), **{"fscache.dir": str(tmp_path), "fscache.invalidation_url": url})


def test_an_invalidation_url_without_a_directory_stops_start_up_naming_both_keys():
    with pytest.raises(ConfigError, match=r"fscache.invalidation_url = .*fscache.dir, which is unset"):
        build(root=Root(), **{"fscache.invalidation_url": "redis://127.0.0.1:6379/0"})


def test_a_cursor_no_writer_wrote_or_another_redis_server_empties_the_directory(machines, server, tmp_path):
    a, b = machines("a"), machines("b")
    b.app.get("/thumbs/1.png")
    b.stop()
    cursor = tmp_path / "b" / ".tgext-resources" / "sync-cursor"
    cursor.write_text("garbage")
    machines("b")
    assert not b.file(1).exists()  # emptied, and following again:
    b.app.get("/thumbs/1.png")
    a.cache.invalidate("/thumbs/1.png")
    assert until(lambda: not b.file(1).exists())
    b.app.get("/thumbs/1.png")
    b.stop()
    run, entry = cursor.read_text().split()
    cursor.write_text("%s %s" % ("0" * len(run), entry))  # the entry is there, on another server
    machines("b")
    assert not b.file(1).exists()


FORKED = """
import os, sys, time
sys.path.insert(0, %(root)r)
from tests.apps import build
from tests.test_fscache_sync import Root
from tgext_resources.middleware import current
app = build(root=Root(), **{"fscache.dir": %(dir)r, "fscache.invalidation_url": %(url)r})
time.sleep(0.5)  # its follower holds the directory's lock
if os.fork():
    os._exit(0)  # the parent ends (a preloaded master gone, a daemon): the child follows
app.get("/thumbs/1.png")
print("ready", flush=True)
deadline = time.monotonic() + 20
while os.path.exists(os.path.join(%(dir)r, "thumbs", "1.png")) and time.monotonic() < deadline:
    time.sleep(0.01)
print("applied" if time.monotonic() < deadline else "never applied", flush=True)
"""


def test_a_forked_process_follows_the_stream_once_its_parent_is_gone(machines, server, tmp_path):
    a = machines("a")
    directory = str(tmp_path / "b")
    code = FORKED % {"root": os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dir": directory,
                     "url": server.url}
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    a.cache.invalidate("/thumbs/1.png")
    assert child.stdout.readline().strip() == "applied"
    child.wait(30)
