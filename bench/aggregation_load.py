"""Page load in headless Chromium: aggregated bundles vs one link per resource, over HTTP/1.1
and over HTTP/2, and what 103 Early Hints change.

The sample application is served under production settings, once with ``aggregated_hash``
set.  Two pages: ``/`` (about 10 resources) and ``/gallery`` (about 30).  Three transports, each
served a separate and a bundled application:

* ``HTTP/1.1``: the browser asks each application directly (``gearbox serve``, waitress,
  plain HTTP), pages and resources alike.  The application compresses only the files that
  have precompressed siblings (the bundles): separate files go uncompressed;
* ``HTTP/2``: each application has an nginx of its own in front, run with the site that
  ``tgext-resources webserver-config nginx --tls-cert --tls-key --tls-listen`` writes (a
  self-signed certificate made for the run), serving what ``tgext-resources export`` wrote
  for that application (with its ``.gz``/``.br`` siblings) from the disk and proxying the
  pages to it.  nginx speaks HTTP/1.1 to the application: no ``103`` reaches the browser,
  the ``Link`` headers do;
* ``HTTP/2 gunicorn (103)``: gunicorn serves each application itself over HTTP/2 and TLS
  (threaded workers, the same certificate), pages and resources alike, compressed as over
  HTTP/1.1; it offers ``wsgi.early_hints``, so a page gets a ``103`` with what its route
  linked last time (the warm-up teaches every route to every worker; ``/`` is answered from
  the page cache: no 103).  With ``BENCH_EARLY_HINTS=both`` (the default) a bundled
  application with ``resources.early_hints = false`` (no 103, no ``Link`` headers) is
  measured beside the bundled one, under emulation and on the bare loopback.

The run stops unless the page and every resource came over h2 on the HTTP/2 transports; it
prints whether ``curl --http2`` got a 103 from the gunicorn applications, on how many loads
Chromium got one (``firstInterimResponseStart``) and on how many it marked resources
``initiatorType`` ``early-hints``.  The transports differ in server and compression as well
as in protocol: compare bundled with separate within a transport.  Settings not given are
the defaults (preload headers, 103s).

Each load happens in a fresh browser context: new connections (TLS handshake included), an
empty cache.  The cache is not disabled: Chromium keeps what a 103 preloads in the HTTP
cache, and with the cache off fetches it again.  Every case is loaded once in each round,
round after round, and the medians compared: the load event and the first contentful paint
(``performance.getEntriesByType("paint")``), plus the requests and bytes the DevTools
protocol saw (``Network.loadingFinished``).

The network is emulated by Chromium (``Network.emulateNetworkConditions``), on what the
page fetches.  What that models: each request's response is held back by the latency, once
per request (an HTTP/2 stream as much as an HTTP/1.1 request); the bodies of all requests
share the download throughput; a request holds its connection meanwhile, so that over
HTTP/1.1 (six connections per host) requests queue, while over HTTP/2 they are all in
flight at once on one connection; and the round trips of dependent fetches (the page, then
a stylesheet, then the images it names) add up.  What it does not model: the round trips of
connection set-up (a TCP handshake, one or two more for TLS: to 127.0.0.1 they take
microseconds; HTTP/2 opens one connection, HTTP/1.1 up to six in parallel), TCP slow start
and congestion windows (a large response is not slowed more than small ones), packet loss
and the head-of-line blocking it causes under HTTP/2.  Server and browser time is real,
on this machine's cores: the page's own work (parsing, scripts, layout) is a large share
of every load.  And the emulation holds back a response's body, not its headers nor a 103,
and holds back a resource the page asks for even when a 103 preload is already fetching it
(bundles preloaded 40 ms into a load at 300 ms emulated latency arrived about 330 ms after
the page asked for them): under emulation hints gain little.  On the loopback a 103 wins at
most the time the application takes to make the page.

Needs Debian's ``chromium``, ``nginx`` and ``openssl`` for HTTP/2, gunicorn 25 or later and
``h2`` for HTTP/2 gunicorn (``curl`` for its check).  Environment: ``BENCH_ROUNDS`` (loads
per case, default 7: about 7 minutes in all on 2 cores), ``BENCH_TRANSPORTS`` (any of
``http1,h2,h2-gunicorn``, comma-separated; default all), ``BENCH_EARLY_HINTS`` (``both``,
the default; ``on``: without the application with the hints off; ``off``: the gunicorn
applications run with ``resources.early_hints = false``).
"""
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings

from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.frontservers import NGINX, behind_nginx
from tests.sample import aggregate, serving, serving_gunicorn

from bench._pageload import curl_103, gunicorn_h2, load, self_signed

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
TRANSPORTS = {"http1": "HTTP/1.1", "h2": "HTTP/2", "h2-gunicorn": "HTTP/2 gunicorn (103)"}
CHOSEN = [t.strip() for t in os.environ.get("BENCH_TRANSPORTS", ",".join(TRANSPORTS)).split(",") if t.strip()]
EARLY_HINTS = os.environ.get("BENCH_EARLY_HINTS", "both")
PAGES = ["/", "/gallery"]
CONDITIONS = {
    "100 ms": {"latency": 100, "downloadThroughput": -1, "uploadThroughput": -1},
    "100 ms, 20 Mbit/s": {"latency": 100, "downloadThroughput": 20e6 / 8, "uploadThroughput": 20e6 / 8},
}
NO_EMULATION = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
BUILDS = ("separate", "bundled")
# gunicorn as README deploys it for 103s: threaded workers (the sync one answers h2 with
# nothing), HTTP/2 first.  Each worker learns the routes' hints on its own.
GUNICORN = ["--worker-class", "gthread", "--threads", "4", "--workers", "2", "--http-protocols", "h2,h1"]
# Loads of each page per gunicorn application in the warm-up: the kernel hands a new
# connection to either worker, and both must have seen every route.
GUNICORN_WARMUP = 4

def variants():
    """What is served: (transport, build, hints) for every case, ``hints`` being
    ``resources.early_hints``; the first of each (transport, build) is the one compared."""
    served = [(t, b, t != "h2-gunicorn" or EARLY_HINTS != "off") for t in CHOSEN for b in BUILDS]
    if "h2-gunicorn" in CHOSEN and EARLY_HINTS == "both":
        served.append(("h2-gunicorn", "bundled", False))
    return served


@contextlib.contextmanager
def deployments(directory):
    """Every variant served: yields ``{(transport, build, hints): base URL}``."""
    aggregated_hash = aggregate()
    bases = {}
    with contextlib.ExitStack() as stack:
        tls = self_signed(directory) if {"h2", "h2-gunicorn"} & set(CHOSEN) else None
        for transport, build, hints in variants():
            here = os.path.join(directory, "%s-%s-%s" % (transport, build, "hints" if hints else "nohints"))
            options = {"aggregated_hash": aggregated_hash} if build == "bundled" else {}
            if transport == "h2-gunicorn":
                if not hints:
                    options["resources.early_hints"] = "false"
                bases[transport, build, hints] = stack.enter_context(
                    serving_gunicorn(here, GUNICORN, tls=tls, **options)).url
            elif transport == "h2":
                # Deployed as the README says, an nginx and an application for each build: its
                # resources exported, nginx in front with the site webserver-config writes.
                front = stack.enter_context(behind_nginx(here, tls=tls, **options))
                bases[transport, build, hints] = front.nginx.url
                if "http1" in CHOSEN:  # the same application, asked directly
                    bases["http1", build, hints] = front.app.url
            elif "h2" not in CHOSEN:  # else the application behind nginx, above
                bases[transport, build, hints] = stack.enter_context(serving(here, **options)).url
        yield bases


def measure(browser, bases):
    """``{(page, condition, transport, build, hints): [load(), ...]}``, ROUNDS interleaved
    rounds; and ``{(transport, build, hints): what curl saw}``."""
    cases = [(page, condition, *variant) for page in PAGES for condition in CONDITIONS for variant in variants()]
    if EARLY_HINTS == "both" and "h2-gunicorn" in CHOSEN:  # and the hints on the loopback, unemulated
        cases += [(page, "none", "h2-gunicorn", "bundled", hints) for page in PAGES for hints in (True, False)]
    # Warm the servers (templates, file caches, the routes' hints) and Chromium: once per
    # page and server is enough, and quicker without the emulation.
    for page in PAGES:
        for (transport, build, hints), base in bases.items():
            for _ in range(GUNICORN_WARMUP if transport == "h2-gunicorn" else 1):
                protocols = load(browser, base + page, NO_EMULATION)[2]
                if transport != "http1" and protocols != "h2":
                    sys.exit("aggregation_load: %s%s came over %s, not HTTP/2 alone" % (base, page, protocols))
    curled = {variant: curl_103(base + "/gallery") for variant, base in bases.items() if variant[0] == "h2-gunicorn"}
    samples = {case: [] for case in cases}
    for number in range(ROUNDS):
        # Every other round backwards: no case always runs right after the same one.
        for case in cases if number % 2 == 0 else cases[::-1]:
            page, condition, *variant = case
            samples[case].append(load(browser, bases[tuple(variant)] + page, CONDITIONS.get(condition, NO_EMULATION)))
    return samples, curled


def median(samples, index):
    return statistics.median(sample[index] for sample in samples)


def describe(samples, curled, transport, hints):
    """The header line of one transport: how it is served, the protocols seen, the 103s."""
    values = [s for (_, c, t, _, h), v in samples.items() if (t, h) == (transport, hints) and c in CONDITIONS for s in v]
    per_page = {page: [s for (p, c, t, _, h), v in samples.items() if (p, t, h) == (page, transport, hints) and c in CONDITIONS
                       for s in v]
                for page in PAGES}
    protocols = [s[2] for s in values]
    how = {"http1": "straight to the application (waitress)", "h2": "nginx with TLS, generated site",
           "h2-gunicorn": "gunicorn with TLS, %s" % ("hints on" if hints else "resources.early_hints = false")}
    line = "  %-21s %s: page and resources over %s" % (TRANSPORTS[transport], how[transport], ", ".join(
        "%s (%d of %d loads)" % (p, protocols.count(p), len(protocols)) for p in sorted(set(protocols))))
    if transport == "h2-gunicorn":
        line += "\n  %-21s %s on /gallery; Chromium got a 103 on %s; resources marked early-hints on %d loads" % (
            "", "; ".join(sorted({what for (t, _, h), what in curled.items() if h == hints})), ", ".join(
                "%s %d of %d loads" % (page, sum(s[5] for s in loads), len(loads)) for page, loads in per_page.items()),
            sum(1 for s in values if s[6]))
    return line


def report(samples, curled, seconds):
    lines = ["Page load in headless Chromium (fresh context, empty cache), medians of %d interleaved rounds" % ROUNDS]
    compared = {(t, b): h for t, b, h in reversed(variants())}  # the first of each (transport, build)
    for transport, hints in sorted({(t, h) for t, _, h in variants()}, key=lambda th: (CHOSEN.index(th[0]), not th[1])):
        lines.append(describe(samples, curled, transport, hints))
    lines.append("  %-8s %-17s %-21s %16s %5s %16s %5s %9s %11s" % (
        "page", "network", "via", "load sep/bun ms", "ratio", "FCP sep/bun ms", "ratio", "requests", "kB"))
    for page in PAGES:
        for condition in CONDITIONS:
            for transport in CHOSEN:
                separate, bundled = (samples[page, condition, transport, build, compared[transport, build]] for build in BUILDS)
                load_s, load_b, paint_s, paint_b = (median(v, i) for i in (0, 1) for v in (separate, bundled))
                lines.append("  %-8s %-17s %-21s %7.0f / %6.0f %5.2f %7.0f / %6.0f %5.2f %3.0f -> %-3.0f %4.0f -> %-4.0f" % (
                    page, condition, TRANSPORTS[transport], load_s, load_b, load_b / load_s,
                    paint_s, paint_b, paint_b / paint_s, median(separate, 3), median(bundled, 3),
                    median(separate, 4) / 1000, median(bundled, 4) / 1000))
    lines.append("  ratio: bundled / separate; requests and kB (over the wire): separate -> bundled")
    if "h2-gunicorn" in CHOSEN and EARLY_HINTS == "both":
        lines.append("  Early hints (103 and Link headers) on HTTP/2 gunicorn, bundled: on / off (resources.early_hints)")
        lines.append("  %-8s %-17s %16s %5s %16s %5s" % ("page", "network", "load on/off ms", "ratio", "FCP on/off ms", "ratio"))
        for page in PAGES:
            for condition in [*CONDITIONS, "none"]:
                on, off = (samples[page, condition, "h2-gunicorn", "bundled", hints] for hints in (True, False))
                load_on, load_off, paint_on, paint_off = (median(v, i) for i in (0, 1) for v in (on, off))
                lines.append("  %-8s %-17s %7.0f / %6.0f %5.2f %7.0f / %6.0f %5.2f" % (
                    page, condition, load_on, load_off, load_on / load_off, paint_on, paint_off, paint_on / paint_off))
        lines.append("  ratio: on / off; network none: the loopback, not emulated")
    lines.append("  took %.0f s" % seconds)
    print("\n" + "\n".join(line.rstrip() for line in lines))


def main():
    started = time.monotonic()
    warnings.simplefilter("ignore")
    unknown = [t for t in CHOSEN if t not in TRANSPORTS]
    if unknown or not CHOSEN:
        sys.exit("BENCH_TRANSPORTS=%s: give any of %s, comma-separated" % (",".join(CHOSEN), ", ".join(TRANSPORTS)))
    if EARLY_HINTS not in ("both", "on", "off"):
        sys.exit("BENCH_EARLY_HINTS=%s: give both, on or off" % EARLY_HINTS)
    if not os.path.exists(CHROMIUM):
        sys.exit("aggregation_load needs Chromium at %s (Debian package chromium)" % CHROMIUM)
    if {"h2", "h2-gunicorn"} & set(CHOSEN) and not shutil.which("openssl"):
        sys.exit("aggregation_load over HTTP/2 needs openssl (Debian package); BENCH_TRANSPORTS=http1 runs without it")
    if "h2" in CHOSEN and not os.path.exists(NGINX):
        sys.exit("aggregation_load over HTTP/2 needs nginx (Debian package); BENCH_TRANSPORTS=http1,h2-gunicorn runs without it")
    if "h2-gunicorn" in CHOSEN and not gunicorn_h2():
        sys.exit("aggregation_load over HTTP/2 gunicorn needs gunicorn 25 or later and h2 (pip install "
                 "'gunicorn>=25' h2); BENCH_TRANSPORTS=http1,h2 runs without them")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as directory, deployments(directory) as bases, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        samples, curled = measure(browser, bases)
        browser.close()
    report(samples, curled, time.monotonic() - started)


if __name__ == "__main__":
    main()
