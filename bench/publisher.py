"""Serving a resource from Python: tgext.resources' publisher vs tw2's own ResourcesApp.

The same sample application (production settings), the same file (jQuery 1.7.1, 248 KB),
each middleware in the same place (outermost), direct WSGI calls reading the whole body,
interleaved rounds.
"""
import tempfile
import types

import tg
from tw2.core.middleware import TwMiddleware

from tgext_resources.configurator import SETTINGS_KEY, tw2_options

from bench.common import compare, report, wsgi_get
from tests.apps import resource_links
from tests.sample import load, write_ini

PRODUCTION = {"debug": "false", "auto_reload_templates": "false"}
JQUERY = "/tw2/resources/tw2.jquery/static/jquery/1.7.1/jquery.js"


def _tw2_middleware(self, app):
    return TwMiddleware(app, **tw2_options(tg.config, tg.config[SETTINGS_KEY]))


def main():
    ours = load(write_ini(tempfile.mkdtemp(), **PRODUCTION))
    versioned = [u for u in resource_links(ours.get("/").text) if u.endswith("/jquery.js")][0]

    from sampleapp.config.app_cfg import base_config

    base_config.add_tosca_middleware = types.MethodType(_tw2_middleware, base_config)
    try:
        theirs = load(write_ini(tempfile.mkdtemp(), registry_streaming="false", **PRODUCTION))
    finally:
        del base_config.add_tosca_middleware
    theirs.get("/")  # tw2.jquery registers its directory when a page first displays it

    baseline = "tw2 ResourcesApp"
    rates = compare({
        baseline: wsgi_get(theirs.app, JQUERY),
        "tgext.resources publisher": wsgi_get(ours.app, versioned),
        "tgext.resources, 304": wsgi_get(
            ours.app, versioned, expect="304", HTTP_IF_NONE_MATCH=ours.get(versioned).headers["ETag"]),
    })
    report("jquery.js (248 KB) from Python, requests/s", rates, baseline)


if __name__ == "__main__":
    main()
