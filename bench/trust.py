"""Trust report: hostile resource paths, cache poisoning, cache servers failing, fscache races.

Prints figures and asserts nothing about them: it measures what the code does now, and exits
non-zero only when it cannot run (a section whose servers are not installed is reported as
skipped, and the exit status says so).  Each section builds a real TurboGears application and
calls it in-process (WSGI, no sockets).  Sections 1 and 2 (hostile paths, cache probes) are
in trust_probes.py, which runs them alone; here:

3. faults: real redis-server and memcached killed, restarted and hung (SIGSTOP) under load;
4. fscache races: writers and invalidations of one page, then the files on disk checked.
"""
import gzip
import itertools
import logging
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time

from markupsafe import Markup
from tg import expose

from tgext_resources import cached_entity, cached_template, fs_cached, fscache

from bench.trust_probes import TEMPLATE, hostile_section, page, probe_section, send, table
from tests import distributions
from tests.apps import RootController, build
from tests.backends import MEMCACHED, REDIS, start_memcached, start_redis

REGIONS = itertools.count()


# -- 3. faults ------------------------------------------------------------------------------

@cached_entity("trust-fragment")
def fragment(number):
    return Markup('<div class="fragment">fragment %d</div>') % number


class FaultRoot(RootController):
    @expose(TEMPLATE)
    def fragments(self):
        fragments = Markup("").join(fragment(number) for number in range(11))
        return dict(title="eleven fragments", widgets=[], tick=lambda: 0, fragments=fragments)

    @expose(TEMPLATE)
    @cached_template()
    def cached(self):
        return page("a cached page")


class Load:
    """Requests from several threads: ``records`` of (path, start, end, ok), times in seconds."""

    def __init__(self, app, paths, threads=4):
        self.app, self.paths, self.records, self.busy, self.paused = app, paths, [], 0, False
        self.lock, self.stop = threading.Lock(), threading.Event()
        # Daemons: a request stuck for good must not keep the report from ending.
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]
        for thread in self.threads:
            thread.start()

    def run(self, index):
        for n in itertools.count(index):
            with self.lock:
                go = not self.paused and not self.stop.is_set()
                self.busy += go
            if not go:
                if self.stop.is_set():
                    return
                time.sleep(0.01)
                continue
            path, start = self.paths[n % len(self.paths)], time.monotonic()
            try:
                ok = send(self.app, path).status_int == 200
            except Exception:
                ok = False
            with self.lock:
                self.busy -= 1
                self.records.append((path, start, time.monotonic(), ok))

    def drain(self, cap):
        """Start no more requests; wait (``cap`` seconds at most) for those under way."""
        self.paused, deadline = True, time.monotonic() + cap
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.02)

    def finish(self):
        """Stop; the requests that never ended."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        return self.busy


def fault_run(directory, backend, hang=3.0, cap=30.0):
    start = (lambda port=None: start_redis(directory, port)) if backend == "ext:redis" else start_memcached
    servers, load = [start()], None
    try:
        port = int(servers[0].url.rsplit(":", 1)[1].split("/")[0])
        region = "fault%d" % next(REGIONS)
        app = build(root=FaultRoot(), **{
            "beaker.cache.regions": region, "beaker.cache.%s.type" % region: backend,
            "beaker.cache.%s.url" % region: servers[0].url, "resources.cache_timeout": "0.5",
            "beaker.cache.%s.data_dir" % region: os.path.join(directory, "cache"),
            "beaker.cache.%s.lock_dir" % region: os.path.join(directory, "locks")}).app
        load = Load(app, ["/fragments", "/cached"])
        time.sleep(1.0)
        killed = time.monotonic()
        servers[0].process.send_signal(signal.SIGKILL)
        time.sleep(1.5)
        servers.append(start(port))  # on the same port, empty
        time.sleep(1.5)
        stopped = time.monotonic()
        servers[-1].process.send_signal(signal.SIGSTOP)
        time.sleep(hang)
        load.drain(cap)  # the requests under way when it hung are timed to their end, not cut by SIGCONT
        servers[-1].process.send_signal(signal.SIGCONT)
        resumed, load.paused = time.monotonic(), False
        time.sleep(1.0)
        unfinished = load.finish()
    finally:
        if load is not None:
            load.stop.set()  # when something above failed: no requests against a dead server
        for server in servers:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGCONT)
            try:
                server.stop()
            except Exception:
                server.process.kill()
    records = list(load.records)
    hung = [(path, (end - begin) * 1000) for path, begin, end, _ in records if begin < resumed and end > stopped]
    hung_page = [ms for path, ms in hung if path == "/fragments"]
    up = [(end - begin) * 1000 for path, begin, end, _ in records if end < killed and path == "/fragments"]
    median = lambda values: "%.0f" % statistics.median(values) if values else "-"
    return [backend, 3, len(records) + unfinished, sum(not ok for *_, ok in records) + unfinished,
            "%.0f" % max(ms for _, ms in hung) if hung else "-", median(hung_page), median(up)]


def fault_section(root):
    rows, missing = [], []
    for backend, program in (("ext:redis", REDIS), ("ext:memcached", MEMCACHED)):
        if not os.path.exists(program):
            missing.append(program)
            rows.append([backend, "skipped: %s is not installed" % program, "", "", "", "", ""])
            continue
        directory = os.path.join(root, backend.replace(":", "-"))
        os.makedirs(directory)
        rows.append(fault_run(directory, backend))
    table("3. Cache servers failing under 4 threads of load: SIGKILL, restart, SIGSTOP for 3 s then SIGCONT "
          "(cache_timeout 0.5 s; \"hung\": requests under way while stopped)",
          ["backend", "faults", "requests", "failed", "worst ms hung", "median ms 11-fragment page hung",
           "(same, server up)"], rows)
    return missing


# -- 4. fscache races -----------------------------------------------------------------------

VERSION, INVALIDATED = {}, {}
LINE = "<p>The quick brown fox jumps over the lazy dog: this is version %d of the page.</p>\n"


class FsRoot(RootController):
    @expose(content_type="text/html")
    @fs_cached()
    def doc(self, trial):
        version = VERSION.get(trial, 0)
        time.sleep(random.random() * 0.004)  # a render takes a while: the window a race needs
        return "<html><body><h1>version %d</h1>\n%s</body></html>" % (version, LINE % version * 40)

    @expose()
    def bump(self, trial):
        VERSION[trial] = VERSION.get(trial, 0) + 1
        fscache.invalidate("/doc/%s" % trial)
        INVALIDATED[trial] = VERSION[trial]
        return "invalidated"


def race(app, trial, writers=4):
    """Writers of /doc/<trial>, released with an invalidator, until its second invalidation:
    a render begun before it may end after it.  The requests made, and those that failed."""
    barrier, done, made, failures = threading.Barrier(writers + 1), threading.Event(), [], []

    def request(path):
        made.append(path)
        try:
            if send(app, path).status_int != 200:
                failures.append(path)
        except Exception as exc:
            failures.append(repr(exc))

    def write():
        barrier.wait(timeout=30)
        while not done.is_set():
            request("/doc/%d" % trial)

    def invalidate():
        try:
            barrier.wait(timeout=30)
            for _ in range(2):
                time.sleep(random.random() * 0.01)
                request("/bump/%d" % trial)
        finally:
            done.set()

    threads = [threading.Thread(target=write) for _ in range(writers)] + [threading.Thread(target=invalidate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(made), len(failures)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def check_files(directory):
    """Pages on disk, compressed siblings, siblings unlike their page, siblings without one,
    pages older than the last invalidation of their path."""
    unpack = {".gz": gzip.decompress}
    try:
        import brotli

        unpack[".br"] = brotli.decompress
    except ImportError:
        pass
    counts = dict(pages=0, siblings=0, inconsistent=0, orphans=0, stale=0)
    for parent, directories, files in os.walk(directory):
        directories[:] = [d for d in directories if not d.startswith(".")]  # the cache's own bookkeeping
        for name in files:
            path = os.path.join(parent, name)
            plain, suffix = os.path.splitext(path)
            if suffix in unpack:
                counts["siblings"] += 1
                try:
                    counts["inconsistent"] += unpack[suffix](read(path)) != read(plain)
                except FileNotFoundError:
                    counts["orphans"] += 1
                except Exception:  # a sibling that does not even decompress
                    counts["inconsistent"] += 1
            elif name.endswith(".html"):
                counts["pages"] += 1
                written = re.search(rb"version (\d+)", read(path))
                counts["stale"] += written is not None and int(written.group(1)) < INVALIDATED.get(name[:-5], 0)
    return counts


def fscache_section(root, seconds=25.0, most=500):
    directory = os.path.join(root, "fscache")
    app = build(root=FsRoot(), **{"fscache.dir": directory}).app
    trials, made, failed, deadline = 0, 0, 0, time.monotonic() + seconds
    while trials < most and time.monotonic() < deadline:
        requests, failures = race(app, trials)
        trials, made, failed = trials + 1, made + requests, failed + failures
    c = check_files(directory)
    table("4. fscache races: 4 writers until the second of 2 invalidations, per trial; then the files checked",
          ["race trials", "requests", "failed", "pages on disk", ".gz/.br siblings", "inconsistent pairs",
           "orphan .gz/.br", "stale resurrected"],
          [[trials, made, failed, c["pages"], c["siblings"], c["inconsistent"], c["orphans"], c["stale"]]])


def main():
    logging.disable(logging.CRITICAL)  # 5xx answers are counted, their tracebacks not printed
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as root:
        root = os.path.realpath(root)
        try:
            hostile_section(root)
            probe_section()
            missing = fault_section(root)
            fscache_section(root)
        finally:
            distributions.forget()
    print("\n  (%.0f s)" % (time.monotonic() - started))
    if missing:
        sys.exit("trust: incomplete, not installed: %s" % ", ".join(missing))


if __name__ == "__main__":
    main()
