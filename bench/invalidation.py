"""fscache.invalidation_url: how fast an invalidation reaches the other machines, what it
costs the request that makes it, and how long a directory takes to catch up at start-up.

A real redis-server, and application processes of their own (the test site's application,
tests.apps.build, each with an fscache.dir of its own and the same invalidation_url),
driven through their stdin:

1. The request's cost: ``FileCache.invalidate`` (what ``fscache.invalidate`` calls for the
   current application), with invalidation_url set and unset, two applications in this
   process, blocks of calls alternating: for paths without a file, and for existing files.
2. Latency: processes B and C each GET /thumbs/lat-N.png (fs_cached writes the file in
   their directory), A calls ``fscache.invalidate`` on it, and this process polls B's and
   C's directories until the file is gone (CLOCK_MONOTONIC, shared by every process), and
   reads the stream (XREAD BLOCK) to see when A's entry reached Redis.
3. Catch-up: a directory is started once (its cursor set), filled, its process stopped;
   A then invalidates 10,000 distinct paths (one in 10 a file of that directory).
   The application build that follows applies them before it returns; it is timed against
   the build of a directory with the same files and nothing to apply, round after round,
   and the files are checked: the invalidated ones gone, the others still there (the
   directory was caught up entry by entry, not emptied).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LATENCY_SAMPLES = int(os.environ.get("BENCH_SAMPLES", "300"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
MISSED = 10000  # invalidations published while a directory's process is down
EXISTING_EVERY = 10  # one missed path in 10 is a file of that directory
KEPT = 200  # files of that directory no invalidation names
POLL = 0.0001  # seconds between two looks at a directory
DEADLINE = 10.0  # seconds an invalidation may take to arrive before the bench fails
BODY = "\x89PNG fake thumbnail " + "x" * 2000

WORKER = """
import logging, warnings
logging.disable(logging.WARNING)
warnings.simplefilter("ignore", DeprecationWarning)
from bench.invalidation import worker
worker()
"""


# -- an application process, driven through its stdin
def _options(directory, url):
    options = {"fscache.dir": directory, "auto_reload_templates": "false"}
    if url:
        options["fscache.invalidation_url"] = url
    return options


def _present(directory, paths):
    return sum(os.path.exists(_file(directory, path)) for path in paths)


def _file(directory, path):
    return os.path.join(directory, *path.strip("/").split("/"))


def worker():
    """The application process: one JSON command a line on stdin, one JSON answer a line."""
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # what the application prints goes to stderr, not among the answers
    from tgext_resources import fscache
    from tests.apps import build
    from tests.test_fscache import Root

    app = None
    for line in sys.stdin:
        command = json.loads(line)
        action, answer = command["do"], {}
        if action == "build":
            start = time.perf_counter()
            app = build(root=Root(), **_options(command["dir"], command["url"]))
            answer["seconds"] = time.perf_counter() - start
            # At once, before the following thread could apply anything: what start-up did.
            answer["gone_present"] = _present(command["dir"], command.get("gone", ()))
            answer["kept_present"] = _present(command["dir"], command.get("kept", ()))
        elif action == "get":
            for path in command["paths"]:
                app.get(path, status=200)
            answer["written"] = _present(fscache.directory(), command["paths"])
        elif action == "store":  # threads: each write waits for its fsync
            with ThreadPoolExecutor(8) as threads:
                list(threads.map(lambda path: fscache.store(path, BODY.encode("latin-1")), command["paths"]))
        elif action == "invalidate":
            answer["start"] = time.monotonic()
            for path in command["paths"]:
                fscache.invalidate(path)
            answer["seconds"] = time.monotonic() - answer["start"]
        answers.write(json.dumps(answer) + "\n")


class Process:
    def __init__(self, directory):
        self.directory = directory
        self.process = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, text=True, bufsize=1,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(self, action, **arguments):
        self.process.stdin.write(json.dumps(dict(arguments, do=action)) + "\n")
        self.process.stdin.flush()

    def receive(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("an application process ended (exit status %s)" % self.process.wait())
        return json.loads(line)

    def ask(self, action, **arguments):
        self.send(action, **arguments)
        return self.receive()

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def started(directory, url, **check):
    process = Process(directory)
    return process, process.ask("build", dir=directory, url=url, **check)


# -- the measurements
def request_cost(work, url):
    """Median seconds of one FileCache.invalidate with invalidation_url set and unset:
    ``{case: (set, unset)}``, for a path without a file and for an existing file.  Blocks of
    calls, alternating, a pause between two: the sending thread's work, in the process
    making the calls too, is counted in the blocks that made it."""
    from tgext_resources.middleware import current
    from tests.apps import build
    from tests.test_fscache import Root

    caches = {}
    for name, with_url in (("set", url), ("unset", None)):
        build(root=Root(), **_options(os.path.join(work, "inprocess-" + name), with_url))
        caches[name] = current().filecache
    results = {}
    for case, rounds, block, stored in (("no file to remove", 15, 100, False), ("an existing file", 9, 40, True)):
        paths = ["/thumbs/cost-%s-%d.png" % (stored, number) for number in range((rounds + 1) * block)]
        if stored:
            for cache in caches.values():
                with ThreadPoolExecutor(8) as threads:
                    list(threads.map(lambda path: cache.store(path, BODY.encode("latin-1")), paths))
                assert _present(cache.root, paths) == len(paths)
        samples = {name: [] for name in caches}
        for number in range(rounds + 1):  # the first round warms up
            for name in sorted(caches, reverse=number % 2 == 1):
                time.sleep(0.02)
                invalidate = caches[name].invalidate
                start = time.perf_counter()
                for path in paths[number * block:(number + 1) * block]:
                    invalidate(path)
                if number:
                    samples[name].append((time.perf_counter() - start) / block)
        results[case] = statistics.median(samples["set"]), statistics.median(samples["unset"])
        for name, cache in caches.items():
            assert _present(cache.root, paths) == 0, "invalidation_url %s: files left" % name
    caches["set"].sync.stop()
    return results


class Arrivals(threading.Thread):
    """When each entry of the stream reaches Redis, as this process sees it (XREAD BLOCK)."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.times, self.stopped = stream, {}, threading.Event()
        self.last = (stream.client.xrevrange(stream.name(), count=1) or [(b"0-0", None)])[0][0]

    def run(self):
        while not self.stopped.is_set():
            for _, entries in self.stream.client.xread({self.stream.name(): self.last}, block=200) or ():
                now = time.monotonic()
                for entry_id, fields in entries:
                    self.times.setdefault(fields.get(b"path", b"").decode(), now)
                    self.last = entry_id


def latency(work, url):
    """Milliseconds from A's call until the entry is in Redis, until the file is gone in B's
    directory, in C's, in both."""
    names = ("a", "b", "c")
    processes = {name: started(os.path.join(work, "latency-" + name), url)[0] for name in names}
    a, others = processes["a"], [processes["b"], processes["c"]]
    samples = {"entry in Redis (A's send done)": [], "file gone in B": [], "file gone in C": [],
               "file gone in B and in C": []}
    arrivals = Arrivals(Stream(url))
    arrivals.start()
    try:
        for number in range(LATENCY_SAMPLES):
            path = "/thumbs/lat-%d.png" % number
            for process in others:
                process.send("get", paths=[path])
            for process in others:
                assert process.receive()["written"] == 1, "%s not written" % path
            files = [_file(process.directory, path) for process in others]
            a.send("invalidate", paths=[path])
            gone, deadline = [None, None], time.monotonic() + DEADLINE
            while None in gone:
                for index, file in enumerate(files):
                    if gone[index] is None and not os.path.exists(file):
                        gone[index] = time.monotonic()
                if time.monotonic() > deadline:
                    raise AssertionError("%s still in %s after %.0f s" % (path, files, DEADLINE))
                time.sleep(POLL)
            start = a.receive()["start"]
            deadline = time.monotonic() + DEADLINE
            while path not in arrivals.times:  # the stream's reader thread may be a moment late
                assert time.monotonic() < deadline, "%s never reached the stream" % path
                time.sleep(POLL)
            samples["entry in Redis (A's send done)"].append((arrivals.times[path] - start) * 1000)
            samples["file gone in B"].append((gone[0] - start) * 1000)
            samples["file gone in C"].append((gone[1] - start) * 1000)
            samples["file gone in B and in C"].append((max(gone) - start) * 1000)
    except BaseException:
        a.stop()
        raise
    finally:
        arrivals.stopped.set()
        for process in others:
            process.stop()
    return a, samples


def catch_up(work, url, publisher, stream):
    """Build seconds of a directory with MISSED entries to apply and of one with none, per round."""
    samples = {"missed": [], "none": []}
    for round_number in range(ROUNDS):
        missed = ["/thumbs/r%d-missed-%d.png" % (round_number, number) for number in range(MISSED)]
        existing = missed[::EXISTING_EVERY]
        kept = ["/thumbs/r%d-kept-%d.png" % (round_number, number) for number in range(KEPT)]
        directories = {case: os.path.join(work, "catch-up-%d-%s" % (round_number, case)) for case in samples}
        # The directory that will miss them: started once (its cursor set), filled, stopped.
        process, _ = started(directories["missed"], url)
        process.ask("store", paths=existing + kept)
        process.stop()
        before = stream.xlen()
        publisher.ask("invalidate", paths=missed)
        deadline = time.monotonic() + 60
        while stream.xlen() < before + MISSED:
            assert time.monotonic() < deadline, "the invalidations did not reach the stream"
            time.sleep(0.01)
        # The same files (copied: they stay) in a directory whose cursor is at the stream's end.
        process, _ = started(directories["none"], url)
        process.stop()
        shutil.copytree(os.path.join(directories["missed"], "thumbs"), os.path.join(directories["none"], "thumbs"))
        for case in sorted(samples, reverse=round_number % 2 == 1):
            process, answer = started(directories[case], url, gone=existing, kept=kept)
            process.stop()
            samples[case].append(answer["seconds"])
            assert answer["kept_present"] == KEPT, "%s: %d of %d files no entry names are left (emptied?)" % (
                case, answer["kept_present"], KEPT)
            expected = 0 if case == "missed" else len(existing)
            assert answer["gone_present"] == expected, "%s: %d invalidated files present after start-up, %d " \
                "expected" % (case, answer["gone_present"], expected)
        for directory in directories.values():
            shutil.rmtree(directory)
    return samples


class Stream:
    def __init__(self, url):
        import redis

        self.client = redis.Redis.from_url(url)

    def name(self):
        keys = self.client.keys("tgext_resources:fscache:*")
        assert len(keys) == 1, "one stream expected, found %s" % keys
        return keys[0]

    def xlen(self):
        return self.client.xlen(self.name())


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    from tests.backends import REDIS, start_redis

    if not os.path.exists(REDIS):
        sys.exit("invalidation needs redis-server (Debian package redis-server)")
    with tempfile.TemporaryDirectory() as work:
        redis_server = start_redis(work)
        publisher = None
        try:
            url = redis_server.url
            costs = request_cost(work, url)
            publisher, samples = latency(work, url)
            stream = Stream(url)
            startups = catch_up(work, url, publisher, stream)
        finally:
            if publisher is not None:
                publisher.stop()
            redis_server.stop()

    print("\nfscache.invalidate, one call in the process making it: the request's cost (alternating blocks "
          "of calls, medians)")
    print("  %-44s %8s %8s %8s" % ("", "unset", "set", "set/unset"))
    for case, (synced, plain) in costs.items():
        print("  %-44s %6.0f us %6.0f us %7.2fx" % (case, plain * 1e6, synced * 1e6, synced / plain))
    print("  (set: the entry written to the directory's outbox; the process's sending thread sends it meanwhile)")
    print("\nfscache.invalidate in process A, until the file is gone in B's and C's directories (their own "
          "processes), %d invalidations, ms from A's call" % LATENCY_SAMPLES)
    print("  %-44s %8s %8s %8s" % ("", "median", "p90", "worst"))
    for name, values in samples.items():
        print("  %-44s %8.2f %8.2f %8.2f" % (name, statistics.median(values), percentile(values, 0.9),
                                             max(values)))
    print("  (A's sending thread XADDs the entry; B's and C's following threads get it by XREAD and delete the file)")
    missed, none = statistics.median(startups["missed"]), statistics.median(startups["none"])
    print("\nApplication build (start-up: catch-up included), medians of %d rounds, each in a fresh process"
          % ROUNDS)
    print("  %-44s %8.0f ms" % ("nothing to apply", none * 1000))
    print("  %-44s %8.0f ms" % ("%d invalidations missed, applied" % MISSED, missed * 1000))
    print("  %-44s %8.0f ms   (%.0f us an entry; invalidated files gone, others kept: checked)"
          % ("difference: the catch-up", (missed - none) * 1000, (missed - none) / MISSED * 1e6))
    print("  rounds, ms: missed %s; none %s" % (" ".join("%.0f" % (s * 1000) for s in startups["missed"]),
                                               " ".join("%.0f" % (s * 1000) for s in startups["none"])))


if __name__ == "__main__":
    main()
