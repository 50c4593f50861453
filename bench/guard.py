"""The widget statelessness guard: what it costs in production (nothing) and in development.

A page of the sample application's widgets rendered on the test site's full stack
(production settings): with the extension and the guard off, vs tw2's own middleware
(the extension absent), alternating single requests, medians of the per-request times.
Then, in the same process, with the guard on (as in development).
"""

import tg
from tg import FullStackApplicationConfigurator, expose
from tw2.core.middleware import TwMiddleware

from tgext_resources import ResourcesConfigMixin
from tgext_resources.configurator import SETTINGS_KEY, tw2_options

from bench.common import paired_overhead, wsgi_get
from sampleapp.widgets import ArticleForm, RatingWidget, TimeAgo, about_dialog
from tests.apps import RootController, build

WIDGETS = [ArticleForm, about_dialog, RatingWidget(id="stars", value=4), TimeAgo(value="2026-11-21T10:00:00")]


class Root(RootController):
    @expose("tests.testsite.templates.page")
    def widgets(self):
        return dict(title="widgets", widgets=WIDGETS)


class Tw2Alone(ResourcesConfigMixin, FullStackApplicationConfigurator):
    """The same stack with tw2's own middleware where the extension's would be."""

    def add_tosca_middleware(self, app):
        return TwMiddleware(app, **tw2_options(tg.config, tg.config[SETTINGS_KEY]))


PRODUCTION = {"debug": "false", "auto_reload_templates": "false", "registry_streaming": "false"}


def main():
    from tgext_resources import guard

    assert not guard.is_installed(), "measure before anything installs the guard"
    absent = build(configurator=Tw2Alone(), root=Root(), **PRODUCTION).app
    off = build(root=Root(), **PRODUCTION).app
    overhead_off = paired_overhead(wsgi_get(off, "/widgets"), wsgi_get(absent, "/widgets"))
    on = build(root=Root(), **dict(PRODUCTION, **{"guard.enabled": "true"})).app
    overhead_on = paired_overhead(wsgi_get(on, "/widgets"), wsgi_get(absent, "/widgets"))
    print("\nPage of four widgets, time per request against tw2's own middleware (extension absent):")
    print("  extension, guard off (production):  %+.1f%%" % overhead_off)
    print("  extension, guard on (development):  %+.1f%%" % overhead_on)


if __name__ == "__main__":
    main()
