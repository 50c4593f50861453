"""A thumbnail kept in the database: through nginx from the filesystem cache vs made by the application.

The sample application (``gearbox serve``, production settings) writes ``/thumbs/1.png``
to its filesystem cache; nginx, with the configuration from ``tgext-resources
webserver-config``, serves it from there.  wrk (Debian package) loads both, alternating:
nginx with the file cached, and the application making the thumbnail from the database
(a query string keeps fs_cached from writing it, so each request renders).
"""
import os
import shutil
import statistics
import sys
import tempfile
import urllib.request

from bench.common import wrk
from tests.frontservers import NGINX, behind_nginx

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def main():
    if not shutil.which("wrk") or not os.path.exists(NGINX):
        sys.exit("fscache needs wrk and nginx (Debian packages wrk, nginx)")
    with tempfile.TemporaryDirectory() as directory, behind_nginx(directory, fscache=True) as front:
        urllib.request.urlopen(front.nginx.url + "/thumbs/1.png").read()  # made once, written to the cache
        samples = {"application, from the database": [], "nginx, from the filesystem cache": []}
        for _ in range(ROUNDS):
            samples["application, from the database"].append(wrk(front.app.url + "/thumbs/1.png?fresh=1"))
            samples["nginx, from the filesystem cache"].append(wrk(front.nginx.url + "/thumbs/1.png"))
    baseline = statistics.median(samples["application, from the database"])
    print("\nThumbnail /thumbs/1.png (16 KB), wrk -t2 -c16, medians of %d rounds" % ROUNDS)
    for name, values in samples.items():
        print("  %-34s %9.0f requests/s   %6.2fx" % (name, statistics.median(values), statistics.median(values) / baseline))


if __name__ == "__main__":
    main()
