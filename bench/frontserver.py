"""The same resource through nginx (the generated configuration) vs the application's publisher.

The sample application runs under ``gearbox serve`` (waitress, production settings); its
resources are exported and nginx serves them with the configuration from
``tgext-resources webserver-config``.  wrk (Debian package) loads the versioned jQuery URL,
alternating between the two servers round after round; nginx's access log then tells how
many of those requests reached Python.
"""
import os
import shutil
import statistics
import sys
import tempfile
import urllib.request

from bench.common import wrk
from tests.apps import resource_links
from tests.frontservers import NGINX, behind_nginx

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def main():
    if not shutil.which("wrk") or not os.path.exists(NGINX):
        sys.exit("frontserver needs wrk and nginx (Debian packages wrk, nginx)")
    with tempfile.TemporaryDirectory() as directory:
        with behind_nginx(directory) as front:
            page = urllib.request.urlopen(front.app.url + "/").read().decode("utf-8")
            jquery = [u for u in resource_links(page) if u.endswith("/jquery.js")][0]
            samples = {"application (waitress)": [], "nginx": []}
            for _ in range(ROUNDS):
                samples["application (waitress)"].append(wrk(front.app.url + jquery))
                samples["nginx"].append(wrk(front.nginx.url + jquery))
        with open(front.log) as f:  # complete once nginx has stopped
            lines = [line.split() for line in f if line.startswith(jquery + " ")]
    to_python = sum(1 for line in lines if line[2] != "-")
    application = statistics.median(samples["application (waitress)"])
    print("\njquery.js (248 KB, versioned URL) over HTTP, wrk -t2 -c16, medians of %d rounds" % ROUNDS)
    for name, values in samples.items():
        print("  %-24s %9.0f requests/s   %6.2fx" % (name, statistics.median(values), statistics.median(values) / application))
    print("  requests for it nginx answered: %d, of which it sent to Python: %d" % (len(lines), to_python))


if __name__ == "__main__":
    main()
