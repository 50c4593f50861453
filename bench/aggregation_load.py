"""Page load in headless Chromium: aggregated bundles vs one link per resource.

The sample application is served twice by ``gearbox serve`` (production settings), once
with ``aggregated_hash`` set.  Each load happens in a fresh browser context with the cache
disabled and the network emulated through the DevTools protocol
(``Network.emulateNetworkConditions``); loads of every case are interleaved, round after
round, and the medians compared.  Two pages: ``/`` (about 10 resources) and ``/gallery``
(about 30).  Needs Debian's ``chromium``.
"""
import os
import statistics
import sys
import tempfile
import warnings

from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.sample import aggregate, serving

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
PAGES = ["/", "/gallery"]
CONDITIONS = {
    "100 ms": {"latency": 100, "downloadThroughput": -1, "uploadThroughput": -1},
    "100 ms, 20 Mbit/s": {"latency": 100, "downloadThroughput": 20e6 / 8, "uploadThroughput": 20e6 / 8},
}


def load(browser, url, conditions):
    """One cold load of ``url``: (load event in ms, requests, bytes over the wire)."""
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
    transferred = []
    cdp.on("Network.loadingFinished", lambda event: transferred.append(event["encodedDataLength"]))
    page.goto(url, wait_until="load")
    load_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    context.close()
    return load_ms, len(transferred), sum(transferred)


def main():
    warnings.simplefilter("ignore")
    if not os.path.exists(CHROMIUM):
        sys.exit("aggregation_load needs Chromium at %s (Debian package chromium)" % CHROMIUM)
    from playwright.sync_api import sync_playwright

    aggregated_hash = aggregate()
    with serving(tempfile.mkdtemp()) as separate_server, \
            serving(tempfile.mkdtemp(), aggregated_hash=aggregated_hash) as bundled_server:
        separate, bundled = separate_server.url, bundled_server.url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            cases = [(page, condition, name, base) for page in PAGES for condition in CONDITIONS
                     for name, base in (("separate", separate), ("bundled", bundled))]
            for page, condition, name, base in cases:  # warm the servers' caches
                load(browser, base + page, CONDITIONS[condition])
            samples = {case[:3]: [] for case in cases}
            for _ in range(ROUNDS):
                for page, condition, name, base in cases:
                    samples[page, condition, name].append(load(browser, base + page, CONDITIONS[condition]))
            browser.close()
    print("\nPage load (load event) in headless Chromium, cache disabled, medians of %d interleaved loads" % ROUNDS)
    print("  %-9s %-18s %10s %10s %6s %14s %18s" % ("page", "network", "separate", "bundled", "ratio", "requests", "kB transferred"))
    for page in PAGES:
        for condition in CONDITIONS:
            separate = samples[page, condition, "separate"]
            bundled = samples[page, condition, "bundled"]
            s_ms, b_ms = (statistics.median(x[0] for x in v) for v in (separate, bundled))
            print("  %-9s %-18s %8.0f ms %7.0f ms %6.2f %6d -> %-5d %8.0f -> %-7.0f" % (
                page, condition, s_ms, b_ms, b_ms / s_ms,
                separate[0][1], bundled[0][1],
                statistics.median(x[2] for x in separate) / 1000, statistics.median(x[2] for x in bundled) / 1000,
            ))


if __name__ == "__main__":
    main()
