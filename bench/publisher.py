"""Serving a resource from Python: tgext.resources' publisher vs tw2's ResourcesApp and WhiteNoise 6.

The same sample application (production settings), the same file (jQuery 1.7.1, 248 KB)
under the same URL shape, direct WSGI calls reading the whole body, interleaved rounds.
Each server is asked for a 200, and for a revalidation with the ETag it sent
(``If-None-Match``): a 304, except from tw2, which sends no validators and answers 200.

Two comparisons:

* in front of the application, each server where it is deployed (outermost): ours is the
  ResourcesMiddleware, which also sets up ToscaWidgets' request state before it sees the
  resource prefix; WhiteNoise wraps the same application;
* the servers alone: the publisher, and WhiteNoise, called directly.

WhiteNoise serves the directory of the file under the same prefix, with the same
``max-age`` and no CORS header, so that both send the same headers where they can.
"""
import os
import tempfile
import types

import tg
import tw2.jquery
import whitenoise
from tw2.core.middleware import TwMiddleware
from webob import Request

from tgext_resources.configurator import SETTINGS_KEY, tw2_options

from bench.common import compare, wsgi_get
from tests.apps import resource_links
from tests.sample import load, write_ini

PRODUCTION = {"debug": "false", "auto_reload_templates": "false"}
STATIC = "/tw2/resources/tw2.jquery/static/"
JQUERY = STATIC + "jquery/1.7.1/jquery.js"
MAX_AGE = 3600  # the publisher's short max-age (res_max_age), given to WhiteNoise too


def _tw2_middleware(self, app):
    return TwMiddleware(app, **tw2_options(tg.config, tg.config[SETTINGS_KEY]))


def _etag(app, path):
    """The ETag ``app`` sends with its 200 for ``path``."""
    response = Request.blank(path).get_response(app)
    assert response.status_int == 200, (path, response.status)
    return response.headers["ETag"]


def _cases(name, app, path):
    """A 200 and a 304 (If-None-Match with the current ETag) of ``path`` from ``app``."""
    return {
        name + ", 200": wsgi_get(app, path),
        name + ", 304": wsgi_get(app, path, expect="304", HTTP_IF_NONE_MATCH=_etag(app, path)),
    }


def _report(title, rates):
    """Each case's rate, and its ratio to WhiteNoise's answer with the same status."""
    print("\n%s" % title)
    width = max(len(name) for name in rates)
    for name, value in rates.items():
        status = name[-3:]
        reference = rates["WhiteNoise 6, " + status]
        print("  %-*s %10.0f /s   %5.2fx WhiteNoise %s" % (width, name, value, value / reference, status))


def main():
    ours = load(write_ini(tempfile.mkdtemp(), **PRODUCTION))
    versioned = [u for u in resource_links(ours.get("/").text) if u.endswith("/jquery.js")][0]
    assert versioned != JQUERY

    from sampleapp.config.app_cfg import base_config

    base_config.add_tosca_middleware = types.MethodType(_tw2_middleware, base_config)
    try:
        theirs = load(write_ini(tempfile.mkdtemp(), registry_streaming="false", **PRODUCTION))
    finally:
        del base_config.add_tosca_middleware
    theirs.get("/")  # tw2.jquery registers its directory when a page first displays it

    root = os.path.join(os.path.dirname(tw2.jquery.__file__), "static")
    white = whitenoise.WhiteNoise(ours.app, root=root, prefix=STATIC, max_age=MAX_AGE, allow_all_origins=False)
    publisher = ours.app.resources

    front = {
        "tw2 ResourcesApp, 200": wsgi_get(theirs.app, JQUERY),
        # No ETag nor Last-Modified from tw2: a browser's revalidation gets the whole file.
        "tw2 ResourcesApp, revalidation: 200": wsgi_get(theirs.app, JQUERY, HTTP_IF_NONE_MATCH='"any"'),
        **_cases("WhiteNoise 6", white, JQUERY),
        **_cases("tgext.resources versioned URL", ours.app, versioned),
        **_cases("tgext.resources unversioned URL", ours.app, JQUERY),
    }
    _report("jquery.js (248 KB), each server outermost in front of the application, requests/s",
            compare(front))
    alone = {
        **_cases("WhiteNoise 6", white, JQUERY),
        **_cases("publisher, versioned URL", publisher, versioned),
        **_cases("publisher, unversioned URL", publisher, JQUERY),
    }
    _report("jquery.js (248 KB), the servers alone (called directly), requests/s", compare(alone))


if __name__ == "__main__":
    main()
