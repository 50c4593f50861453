"""What bench/aggregation_load.py needs of Chromium, curl, openssl and gunicorn: one cold page
load and what it measured, a certificate, whether 103s arrive.  (A module whose name starts
with "_" is no benchmark of its own: bench/run.py leaves it out.)"""
import importlib.util
import os
import shutil
import subprocess

# The load event, the first contentful paint (which may come after the load event: wait for
# it, a few seconds at most), the protocols the page and its resources came over (data:
# URIs have none), whether a 103 came before the page, and how many resources came from the
# preloads it started.
METRICS = """() => new Promise(resolve => {
    const deadline = performance.now() + 5000;
    (function poll() {
        const navigation = performance.getEntriesByType("navigation")[0];
        const paint = performance.getEntriesByType("paint").find(e => e.name === "first-contentful-paint");
        const resources = performance.getEntriesByType("resource");
        const protocols = [navigation, ...resources].map(e => e.nextHopProtocol);
        if (paint || performance.now() > deadline)
            resolve([navigation.loadEventEnd, paint ? paint.startTime : null,
                     [...new Set(protocols.filter(p => p))].sort().join("+"),
                     navigation.firstInterimResponseStart > 0,
                     resources.filter(e => e.initiatorType === "early-hints").length]);
        else
            setTimeout(poll, 20);
    })();
})"""


def load(browser, url, conditions):
    """One cold load of ``url``: (load event ms, first contentful paint ms, protocols, requests,
    bytes over the wire, whether a 103 came, resources marked as taken from its preloads)."""
    context = browser.new_context(ignore_https_errors=url.startswith("https:"))  # our own certificate
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
    # Requests that reach the network: data: URIs (images inlined into a stylesheet) are
    # reported too, as requests of no bytes.
    sent, transferred = set(), []
    cdp.on("Network.requestWillBeSent", lambda event: sent.add(event["requestId"])
           if event["request"]["url"].startswith(("http:", "https:")) else None)
    cdp.on("Network.loadingFinished", lambda event: transferred.append(event["encodedDataLength"])
           if event["requestId"] in sent else None)
    page.goto(url, wait_until="load")
    load_ms, paint_ms, protocol, interim, early = page.evaluate(METRICS)
    context.close()
    if paint_ms is None:
        raise RuntimeError("no first-contentful-paint entry for %s" % url)
    return load_ms, paint_ms, protocol, len(transferred), sum(transferred), interim, early


def self_signed(directory):
    """A certificate and key for 127.0.0.1, valid for a day: (certificate file, key file)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def curl_103(url):
    """Whether ``curl --http2`` gets a 103 for ``url`` (a few tries: either worker may answer)."""
    if not shutil.which("curl"):
        return "not checked (no curl)"
    for _ in range(3):
        answer = subprocess.run(["curl", "-sk", "--http2", "-v", url, "-o", "/dev/null"],
                                capture_output=True, text=True, timeout=60).stderr
        if "< HTTP/2 103" in answer:
            return "curl --http2 got a 103"
    return "no 103 in 3 curl --http2 requests"


def gunicorn_h2():
    """Whether gunicorn can serve HTTP/2 with 103s: version 25 or later, h2 installed."""
    try:
        import gunicorn
    except ImportError:
        return False
    return importlib.util.find_spec("h2") is not None and int(gunicorn.__version__.split(".")[0]) >= 25
