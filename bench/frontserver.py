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

from tests.apps import resource_links
from bench.common import command, wrk
from tests.frontservers import NGINX, readable_directory, start_nginx
from tests.sample import serving

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def main():
    if not shutil.which("wrk") or not os.path.exists(NGINX):
        sys.exit("frontserver needs wrk and nginx (Debian packages wrk, nginx)")
    import urllib.request

    directory = tempfile.mkdtemp()
    export_dir = readable_directory()
    with serving(directory) as app:
        command("export", "-c", app.ini, "-o", export_dir)
        config = command("webserver-config", "nginx", "-c", app.ini, "--root", export_dir, "--upstream", app.url[7:])
        nginx = start_nginx(directory, config)
        try:
            page = urllib.request.urlopen(app.url + "/").read().decode("utf-8")
            jquery = [u for u in resource_links(page) if u.endswith("/jquery.js")][0]
            samples = {"application (waitress)": [], "nginx": []}
            for _ in range(ROUNDS):
                samples["application (waitress)"].append(wrk(app.url + jquery))
                samples["nginx"].append(wrk(nginx.url + jquery))
        finally:
            nginx.stop()
            shutil.rmtree(export_dir)
    with open(os.path.join(directory, "nginx-access.log")) as f:
        lines = [line.split() for line in f if line.startswith(jquery + " ")]
    to_python = sum(1 for line in lines if line[2] != "-")
    application = statistics.median(samples["application (waitress)"])
    print("\njquery.js (248 KB, versioned URL) over HTTP, wrk -t2 -c16, medians of %d rounds" % ROUNDS)
    for name, values in samples.items():
        print("  %-24s %9.0f requests/s   %6.2fx" % (name, statistics.median(values), statistics.median(values) / application))
    print("  requests for it nginx answered: %d, of which it sent to Python: %d" % (len(lines), to_python))


if __name__ == "__main__":
    main()
