"""The sample app's form page with tw2 left at its debug default vs with the mixin's choice.

tw2's middleware defaults to debug=True, where it throws every template cache away on
each render; the mixin makes it follow the application's ``debug``.  Same application
(production settings), same page, direct WSGI calls, interleaved rounds.
"""
import tempfile
import types

import tg
from tw2.core.middleware import TwMiddleware

from tgext_resources.configurator import SETTINGS_KEY, tw2_options

from bench.common import compare, report, wsgi_get
from tests.sample import load, write_ini

PRODUCTION = {"debug": "false", "auto_reload_templates": "false"}


def _tw2_at_its_default(self, app):
    options = tw2_options(tg.config, tg.config[SETTINGS_KEY])
    del options["debug"], options["auto_reload_templates"]
    return TwMiddleware(app, **options)


def main():
    directory = tempfile.mkdtemp()
    ours = load(write_ini(directory, **PRODUCTION)).app

    from sampleapp.config.app_cfg import base_config

    # tw2's middleware skips streamed pages: let it see whole bodies, for a fair comparison.
    plain_ini = write_ini(tempfile.mkdtemp(), registry_streaming="false", **PRODUCTION)
    base_config.add_tosca_middleware = types.MethodType(_tw2_at_its_default, base_config)
    try:
        tw2_default = load(plain_ini).app
    finally:
        del base_config.add_tosca_middleware

    baseline = "tw2 at its default (debug=True)"
    rates = compare({
        baseline: wsgi_get(tw2_default, "/new"),
        "with ResourcesConfigMixin": wsgi_get(ours, "/new"),
    })
    report("Sample app form page (/new), requests/s, debug = false", rates, baseline)


if __name__ == "__main__":
    main()
