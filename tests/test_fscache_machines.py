"""Several machines, one Redis: ``fscache.invalidation_url``.

Each machine is a `gearbox serve` process of the sample application with a filesystem
cache directory of its own, read by an nginx of its own; all of them share one database
(one SQLite file) and one Redis, for their Beaker regions and for the stream of
invalidations.  A thumbnail invalidated on one machine must leave every directory, so
that no front server keeps sending the old picture: right away, after a machine was down,
and after Redis itself was killed and came back empty.
"""
import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.backends import REDIS, start_redis
from tests.commands import command, installed
from tests.conftest import require
from tests.frontservers import NGINX, readable_directory, start_nginx, webserver_config
from tests.sample import ROOT, Server, free_port, wait_for, write_ini

STREAM = "tgext_resources:fscache:sampleapp"


def fetch(url):
    """(status, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is what a form post answers


def replace_image(machine, image_id, seed):
    """POST a new picture for ``image_id`` (the sample's replace_image form) to ``machine``'s
    application (nginx would only pass it on, buffering the upload in a directory its workers
    cannot write here): the status."""
    from sampleapp.websetup.schema import picture

    boundary = "tgext-machines-boundary"
    body = (
        '--{b}\r\nContent-Disposition: form-data; name="image_id"\r\n\r\n{i}\r\n'
        '--{b}\r\nContent-Disposition: form-data; name="upload"; filename="new.png"\r\n'
        "Content-Type: image/png\r\n\r\n".format(b=boundary, i=image_id).encode()
        + picture(seed) + ("\r\n--%s--\r\n" % boundary).encode())
    request = urllib.request.Request(machine.app.url + "/replace_image", data=body, headers={
        "Content-Type": "multipart/form-data; boundary=" + boundary})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def eventually(condition, seconds, what):
    """Poll ``condition`` until it holds, failing with ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("not within %s s: %s" % (seconds, what))
        time.sleep(0.02)


def read(path):
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
        return f.read()
    return None


class Machines:
    """One Redis, one database, and as many machines as a test starts; all stopped at the end."""

    def __init__(self, directory, stack):
        self.directory = str(directory)
        self.stack = stack
        self.redis = start_redis(self.directory)
        stack.callback(lambda: self.redis.stop())  # the Redis running at the end, restarted or not
        self.database = os.path.join(self.directory, "shared.db")
        self.set_up = False
        # nginx's workers read the caches: outside the test's private temporary directory.
        self.readable = stack.enter_context(readable_directory())

    def machine(self, name, export=None):
        """A machine: its application and cache directory, and nginx before them when
        ``export`` (the exported resources) is given."""
        home = os.path.join(self.directory, name)
        machine = Machine(home, os.path.join(self.readable, name + "-fscache"), free_port())
        self.start(machine)
        if export is not None:
            config = webserver_config("nginx", machine.app, export)
            machine.nginx = start_nginx(home, config)
            self.stack.callback(machine.nginx.stop)
        return machine

    def start(self, machine):
        """Start (or start again) ``machine``'s application, ready once "/" answers: the
        articles page, which rewrites no file of the filesystem cache."""
        url = self.redis.url
        ini = write_ini(machine.home, port=machine.port, debug="false", auto_reload_templates="false", **{
            "sqlalchemy.url": "sqlite:///" + self.database,
            "fscache.dir": machine.cache,
            "fscache.invalidation_url": url,
            "beaker.cache.regions": "shared",
            "beaker.cache.shared.type": "ext:redis",
            "beaker.cache.shared.url": url,
        })
        if not self.set_up:  # the one database: its tables and images made once
            command("setup-app", "-c", ini, program="gearbox", cwd=ROOT)
            self.set_up = True
        log = os.path.join(machine.home, "serve.log")
        with open(log, "a") as output:
            process = subprocess.Popen([installed("gearbox"), "serve", "-c", ini], cwd=ROOT,
                                       stdout=output, stderr=subprocess.STDOUT)
        machine.app = Server(process, "http://127.0.0.1:%d" % machine.port, ini, log)
        self.stack.callback(machine.app.stop)
        wait_for(machine.app.url + "/", process, log)

    def stream(self):
        """The (kind, path) of every entry of the invalidation stream."""
        import redis

        client = redis.Redis.from_url(self.redis.url)
        try:
            return [(f[b"kind"].decode(), f[b"path"].decode()) for _, f in client.xrange(STREAM)]
        finally:
            client.close()


class Machine:
    """One machine: its application (``app``), its nginx (``nginx``, or None), its cache directory."""

    def __init__(self, home, cache, port):
        self.home, self.cache, self.port = home, cache, port
        self.app = self.nginx = None

    def file(self, path):
        return os.path.join(self.cache, *path.strip("/").split("/"))


@pytest.fixture
def machines(tmp_path):
    require(os.path.exists(REDIS), "redis-server (Debian package redis-server)")
    with contextlib.ExitStack() as stack:
        yield Machines(tmp_path, stack)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The sample's resources exported once (as `tgext-resources export` does on each
    machine; the same files everywhere), where nginx can read them."""
    require(os.path.exists(NGINX), "nginx (Debian package nginx)")
    with readable_directory() as readable:
        ini = write_ini(tmp_path_factory.mktemp("export"))
        command("export", "-c", ini, "-o", os.path.join(readable, "export"))
        yield os.path.join(readable, "export")


def test_an_image_replaced_on_one_machine_is_sent_fresh_by_every_front_server(machines, export):
    a, b = machines.machine("a", export), machines.machine("b", export)
    thumb = "/thumbs/2.png"
    old = {fetch(m.nginx.url + thumb) for m in (a, b)}
    assert len(old) == 1 and old.pop()[0] == 200
    old = read(a.file(thumb))
    assert old is not None and read(b.file(thumb)) == old  # each machine wrote its own copy
    assert fetch(b.nginx.url + "/images")[0] == 200
    page = [b.file("/images.html"), b.file("/images.html.gz")]  # nginx sends the .gz to most browsers
    assert all(os.path.isfile(f) for f in page)

    assert replace_image(a, 2, seed=7) == 302
    assert read(a.file(thumb)) is None  # this machine's: at once, within the request
    eventually(lambda: read(b.file(thumb)) is None, 1, "B's thumbnail deleted")
    eventually(lambda: not any(os.path.exists(f) for f in page), 1, "B's images page and its .gz deleted")

    status, fresh = fetch(a.nginx.url + thumb)
    assert status == 200 and fresh.startswith(b"\x89PNG") and fresh != old
    assert fetch(b.nginx.url + thumb) == (200, fresh)  # made again by B, from the new picture
    assert read(b.file(thumb)) == fresh  # and written again: nginx sends it from now on
    assert fetch(b.nginx.url + thumb) == (200, fresh)


def test_a_machine_down_during_the_invalidation_catches_up_before_it_serves(machines):
    a, b = machines.machine("a"), machines.machine("b")
    for path in ("/thumbs/1.png", "/thumbs/2.png"):
        for m in (a, b):
            assert fetch(m.app.url + path)[0] == 200
            assert os.path.isfile(m.file(path))
    old = read(b.file("/thumbs/2.png"))
    b.app.stop()

    assert replace_image(a, 2, seed=5) == 302
    assert read(a.file("/thumbs/2.png")) is None
    # B catches up from the stream, so what A sends must be there before B starts: the
    # sending thread of A sends it at once.
    eventually(lambda: ("invalidate", "/thumbs/2.png") in machines.stream(), 2, "A's invalidation in Redis")
    assert read(b.file("/thumbs/2.png")) == old  # no one touched B's directory meanwhile

    machines.start(b)  # returns once B answered its readiness probe, "/"
    assert read(b.file("/thumbs/2.png")) is None, "B served with the stale thumbnail still there"
    # Caught up entry by entry: what was not invalidated stays, the directory was not emptied.
    assert os.path.isfile(b.file("/thumbs/1.png"))
    assert fetch(b.app.url + "/thumbs/2.png") == fetch(a.app.url + "/thumbs/2.png") != (200, old)


def test_invalidations_made_while_redis_is_down_reach_every_machine_once_it_is_back(machines, export):
    a, b = machines.machine("a", export), machines.machine("b", export)
    thumb = "/thumbs/3.png"
    for m in (a, b):
        assert fetch(m.nginx.url + thumb)[0] == 200
    old = read(b.file(thumb))
    assert old is not None and read(a.file(thumb)) == old

    # Redis killed outright: connections refused, its data (the stream) lost.
    port = int(machines.redis.url.rsplit(":", 1)[1].split("/")[0])
    os.kill(machines.redis.process.pid, signal.SIGKILL)
    machines.redis.process.wait(timeout=10)

    # Every request still succeeds, and A applies its own invalidation at once.
    assert replace_image(a, 3, seed=9) == 302
    assert read(a.file(thumb)) is None
    status, fresh = fetch(a.nginx.url + thumb)
    assert status == 200 and fresh != old
    for m in (a, b):
        for path in ("/", "/images", "/thumbs/1.png"):
            assert fetch(m.nginx.url + path)[0] == 200, (m.home, path)
    # A's entry waits in its directory, A's sender and B's follower having found Redis gone;
    # B cannot know yet: its nginx still has the old picture to send.
    eventually(lambda: "Redis failed to send" in read(a.app.log).decode(), 5, "A's sender warned")
    eventually(lambda: "Redis failed to read" in read(b.app.log).decode(), 5, "B's follower warned")
    waiting = b"".join(read(os.path.join(a.cache, ".tgext-resources", name)) or b""
                       for name in ("sync-outbox", "sync-sending"))
    assert b'"/thumbs/3.png"' in waiting
    assert read(b.file(thumb)) == old

    machines.redis = start_redis(machines.directory, port=port)  # the same address, empty
    # The machines retry every few seconds at most; then B applies what A kept for it, or
    # finds its last entry gone from the stream and empties its directory: either way, no
    # stale thumbnail is left.
    eventually(lambda: read(b.file(thumb)) != old, 12, "B's stale thumbnail deleted")
    assert read(b.file(thumb)) in (None, fresh)
    eventually(lambda: ("invalidate", thumb) in machines.stream(), 5, "A's waiting entry sent")
    assert fetch(b.nginx.url + thumb) == (200, fresh)
    assert fetch(a.nginx.url + thumb) == (200, fresh)
    # Shared again: a new invalidation on A reaches B right away.
    assert read(b.file(thumb)) == fresh
    assert replace_image(a, 3, seed=11) == 302
    eventually(lambda: read(b.file(thumb)) is None, 2, "B's thumbnail deleted after Redis came back")
    newest = fetch(a.nginx.url + thumb)
    assert newest[0] == 200 and newest[1] != fresh and fetch(b.nginx.url + thumb) == newest
