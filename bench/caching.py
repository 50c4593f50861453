"""Pages from the cache: hit vs render, hit vs a trivial controller, and the cost of a miss.

The test site's full stack (sessions, i18n, transaction manager...), production settings,
a memory cache region, direct WSGI calls, interleaved rounds.  The page shows five of the
sample application's widgets: its article form (tw2.forms, a jQuery UI date picker, the
rating widget), a jQuery UI dialog and accordion, a rating and a date.
"""
import itertools

from tg import expose

from tgext_resources import cached_template

from bench.common import compare, paired_overhead, paired_times, report, wsgi_get
from sampleapp.widgets import ArticleForm, RatingWidget, TimeAgo, about_dialog, articles_accordion
from tests.apps import RootController, build

WIDGETS = [ArticleForm, about_dialog, articles_accordion(items=[("One", "first"), ("Two", "second")]),
           RatingWidget(id="stars", value=4), TimeAgo(value="2026-11-21T10:00:00")]
MISSES = itertools.count()


def page():
    return dict(title="five widgets", widgets=WIDGETS, tick=lambda: 1, fragments=None)


class Root(RootController):
    @expose("tests.testsite.templates.cached")
    def rendered(self):
        return page()

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def cached(self):
        return page()

    @expose("tests.testsite.templates.cached")
    @cached_template(key=lambda **kw: str(next(MISSES)))
    def always_missed(self):
        return page()

    @expose()
    def hello(self):
        return "Hello world"


def main():
    app = build(root=Root(), debug="false", auto_reload_templates="false").app
    rates = compare({
        "rendered (no cache)": wsgi_get(app, "/rendered"),
        "cached_template, hit": wsgi_get(app, "/cached"),
        "cached_template, miss": wsgi_get(app, "/always_missed"),
        "hello world controller": wsgi_get(app, "/hello"),
    }, rounds=11, seconds=1.0)
    report("Page with five widgets, requests/s", rates, "rendered (no cache)")
    print("  hit / hello world: %.2f (rounds above)" % (rates["cached_template, hit"] / rates["hello world controller"]))
    hit, hello = paired_times(wsgi_get(app, "/cached"), wsgi_get(app, "/hello"), calls=5000)
    print("  hit / hello world: %.2f (alternating single requests, medians)" % (hello / hit))
    overhead = paired_overhead(wsgi_get(app, "/always_missed"), wsgi_get(app, "/rendered"))
    print("  a miss costs %+.1f%% over the same page uncached (alternating single requests, medians)" % overhead)


if __name__ == "__main__":
    main()
