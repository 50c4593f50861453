"""A repeat visit of the sample app's page in headless Chromium: what reaches the network.

First visit in a fresh browser context (cache enabled), then the same page opened again
and reloaded; resource requests (under /tw2/resources/) are counted from the DevTools
protocol: a request answered from the memory or disk cache does not reach the network.
"""
import os
import sys
import tempfile

from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.sample import serving


def visit(browser, url):
    """Requests for widget resources that reached the network: first visit, again, reload."""
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    requests, cached = {}, set()

    def sent(event):
        if "/tw2/resources/" in event["request"]["url"]:
            requests[event["requestId"]] = event["request"]["url"]

    def received(event):
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            cached.add(event["requestId"])

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.requestServedFromCache", lambda event: cached.add(event["requestId"]))
    cdp.on("Network.responseReceived", received)
    counts = []
    for action in (lambda: page.goto(url, wait_until="load"), lambda: page.goto(url, wait_until="load"),
                   lambda: page.reload(wait_until="load")):
        requests.clear()
        cached.clear()
        action()
        page.wait_for_timeout(300)
        counts.append((len([r for r in requests if r not in cached]), len(requests)))
    context.close()
    return counts


def main():
    if not os.path.exists(CHROMIUM):
        sys.exit("repeat_visit needs Chromium at %s (Debian package chromium)" % CHROMIUM)
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with serving(tempfile.mkdtemp()) as app:
            results["tgext.resources"] = visit(browser, app.url + "/")
        browser.close()
    print("\nWidget resource requests that reached the network / that the page made (sample app /)")
    print("  %-18s %12s %12s %12s" % ("", "first visit", "visit again", "reload"))
    for name, counts in results.items():
        print("  %-18s %12s %12s %12s" % (name, *("%d / %d" % c for c in counts)))


if __name__ == "__main__":
    main()
