"""One application process making one request, for the tests of tests/test_cache_faults.py.

``python -m tests.cache_worker OPTIONS_JSON PATH``: builds the test site with the ini options
of OPTIONS_JSON, requests PATH once, and prints one JSON line: status, seconds, body.  With
``CACHE_WORKER_STUCK=1`` the page's controller prints ``rendering`` and never returns: the
process holds the page's creation lock until the test kills or freezes it.
"""
import json
import logging
import os
import sys
import time

import webob
from tg import expose

from tgext_resources import cached_template

from tests.apps import RootController, build

STUCK = os.environ.get("CACHE_WORKER_STUCK") == "1"


class Root(RootController):
    @expose("tests.testsite.templates.cached")
    @cached_template()
    def page(self, number="1"):
        if STUCK:
            print("rendering", flush=True)
            time.sleep(3600)
        return dict(title="page %s made by %d" % (number, os.getpid()), widgets=[], tick=lambda: 0, fragments=None)


def main(options, path):
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    app = build(root=Root(), **json.loads(options))
    started = time.monotonic()
    response = webob.Request.blank(path).get_response(app.app)
    print(json.dumps({"status": response.status_int, "seconds": time.monotonic() - started, "body": response.text}),
          flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
