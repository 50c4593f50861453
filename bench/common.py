"""Side-by-side measurement: interleaved rounds in one process, ratios from medians.

These machines are noisy and absolute timings drift; what a benchmark here reports is
the ratio between cases measured in the same run, round after round.
"""
import os
import re
import statistics
import subprocess
import time

from webob import Request


def wsgi_get(app, path, expect="200", **environ):
    """A callable that sends one GET to ``app`` directly (no HTTP, no WebTest), reads the
    whole body and checks the status starts with ``expect``."""
    template = Request.blank(path, environ=environ).environ

    def call():
        statuses = []
        body = app(dict(template), lambda status, headers, exc_info=None: statuses.append(status))
        try:
            for _ in body:
                pass
        finally:
            getattr(body, "close", lambda: None)()
        if not statuses or not statuses[0].startswith(expect):
            raise AssertionError("%s answered %s" % (path, statuses))

    return call


def rate(call, seconds):
    """Calls per second of ``call`` over about ``seconds``."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        call()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def compare(cases, rounds=7, seconds=0.5, warmup=20):
    """Measure every case of ``{name: call}`` in interleaved rounds; return ``{name: median rate}``."""
    for call in cases.values():
        for _ in range(warmup):
            call()
    samples = {name: [] for name in cases}
    for _ in range(rounds):
        for name, call in cases.items():
            samples[name].append(rate(call, seconds))
    return {name: statistics.median(values) for name, values in samples.items()}


def paired_times(call, baseline, calls=1500, warmup=50):
    """Median time per call of ``call`` and of ``baseline``, from alternating single calls
    (drift and noise hit both alike)."""
    for _ in range(warmup):
        call()
        baseline()
    times = {call: [], baseline: []}
    for _ in range(calls):
        for function in (call, baseline):
            start = time.perf_counter()
            function()
            times[function].append(time.perf_counter() - start)
    return statistics.median(times[call]), statistics.median(times[baseline])


def paired_overhead(call, baseline, calls=1500, warmup=50):
    """How much slower ``call`` is than ``baseline``, in percent (see paired_times)."""
    measured, reference = paired_times(call, baseline, calls, warmup)
    return (measured / reference - 1) * 100


def report(title, rates, baseline):
    """Print each case's rate and its ratio to ``baseline``."""
    print("\n%s" % title)
    width = max(len(name) for name in rates)
    for name, value in rates.items():
        print("  %-*s %10.0f /s   %5.2fx %s" % (width, name, value, value / rates[baseline], baseline))


def wrk(url):
    """Requests per second wrk (Debian package) sustains on ``url``: 2 threads, 16 connections,
    ``BENCH_SECONDS`` seconds (4 unless set)."""
    seconds = os.environ.get("BENCH_SECONDS", "4")
    output = subprocess.run(["wrk", "-t2", "-c16", "-d%ss" % seconds, url], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))
