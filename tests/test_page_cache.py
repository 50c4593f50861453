"""cached_template: whole pages from the cache, resources included, never one user's for another."""
import itertools
import logging
import time

import pytest
import webob
from tg import expose, request, response, session

from tgext_resources import cached_template, refresh_page

from tests.apps import RootController, build, resource_links
from tests.concurrency import at_once
from tests.testsite.widgets import Badge, badge_js, dialog, text_field


class Counter:
    def __init__(self):
        self.calls = 0
        self.renders = 0

    def tick(self):
        self.renders += 1
        return self.renders


COUNT = Counter()


def page(title, widgets=(Badge, text_field, dialog)):
    COUNT.calls += 1
    return dict(title=title, widgets=list(widgets), tick=COUNT.tick, fragments=None)


class CachedRoot(RootController):
    @expose("tests.testsite.templates.cached")
    @cached_template()
    def every(self, *args, **kw):
        return page("every %s %s" % (args, sorted(kw.items())))

    @expose("tests.testsite.templates.cached")
    @cached_template(key=("article",))
    def named(self, article, noise=None):
        return page("article %s" % article)

    @expose("tests.testsite.templates.cached")
    @cached_template(key=lambda article, **kw: "article-%s" % article.lower())
    def computed(self, article, **kw):
        return page("computed %s" % article)

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def created(self):
        response.status = 201
        return page("created")

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def cookie(self):
        response.set_cookie("flavour", "chocolate")
        return page("cookie")

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def visitor(self):
        return page("visitor %s" % session.get("name", "nobody"))

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def greeting(self):
        return page("hello %s" % (request.environ.get("REMOTE_USER") or "stranger"))

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def translated(self):
        from tg.i18n import get_lang

        return page("language %s" % ",".join(get_lang(all=False)))

    @expose("tests.testsite.templates.cached")
    @cached_template(per_user=True)
    def dashboard(self):
        return page("dashboard of %s" % (request.environ.get("REMOTE_USER") or "stranger"))

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def slow(self):
        time.sleep(0.3)
        return page("slow")

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def article(self, number):
        return page("article %s, version %d" % (number, VERSIONS.get(number, 1)))

    @expose()
    def edit(self, number):
        VERSIONS[number] = VERSIONS.get(number, 1) + 1
        refresh_page("/article/%s" % number)
        return "edited"

    @expose()
    def drop(self, number):
        CachedRoot.article.invalidate(number)
        return "dropped"


VERSIONS = {}
REGIONS = itertools.count()


@pytest.fixture
def app(mode):
    # Each test its own cache: one memory region per test, named after it.
    test_app = build(root=CachedRoot(), debug="true" if mode == "development" else "false",
                     **{"beaker.cache.regions": "r%d" % next(REGIONS), "session.enabled": "true",
                        "beaker.session.type": "memory"})
    COUNT.calls = COUNT.renders = 0
    VERSIONS.clear()
    return test_app


def test_hit_runs_neither_controller_nor_template_and_is_byte_identical(app):
    miss = app.get("/every")
    hit = app.get("/every")
    assert (COUNT.calls, COUNT.renders) == (1, 1)
    assert hit.body == miss.body
    assert hit.headers["Content-Type"] == miss.headers["Content-Type"]
    assert len(resource_links(hit.text)) >= 5  # the widgets' resources, injected on the hit too


def test_every_argument_keys_the_page_in_any_order(app):
    first = app.get("/every/x?a=1&b=2")
    assert app.get("/every/x?b=2&a=1").body == first.body
    assert COUNT.calls == 1
    app.get("/every/y?a=1&b=2")
    app.get("/every/x?a=1&b=3")
    assert COUNT.calls == 3


def test_a_tuple_key_uses_those_arguments_alone(app):
    app.get("/named?article=1&noise=a")
    app.get("/named?article=1&noise=b")
    assert COUNT.calls == 1
    app.get("/named?article=2")
    assert COUNT.calls == 2


def test_a_callable_key_gets_the_arguments(app):
    app.get("/computed?article=News")
    assert "computed News" in app.get("/computed?article=NEWS&x=1").text  # same key: the first page
    assert COUNT.calls == 1


@pytest.mark.parametrize("path", ["/created", "/cookie"])
def test_responses_that_are_not_200_or_set_a_cookie_are_never_stored(app, path):
    app.get(path, status="*")
    app.get(path, status="*")
    assert COUNT.calls == 2


def test_a_page_built_from_the_session_is_never_stored(app):
    app.get("/remember?name=alice")
    assert "visitor alice" in app.get("/visitor").text
    app.reset()
    assert "visitor nobody" in app.get("/visitor").text
    assert COUNT.calls == 2


def test_other_methods_are_never_cached(app):
    app.post("/every")
    app.post("/every")
    assert COUNT.calls == 2


def test_head_is_answered_from_the_cache_but_never_stores(app):
    app.head("/every")
    app.head("/every")
    assert COUNT.calls == 2
    app.get("/every")
    assert app.head("/every").status_int == 200
    assert COUNT.calls == 3


def test_authenticated_requests_are_not_cached_by_default(app):
    assert "hello alice" in app.get("/greeting", extra_environ={"REMOTE_USER": "alice"}).text
    assert "hello bob" in app.get("/greeting", extra_environ={"REMOTE_USER": "bob"}).text
    assert "hello stranger" in app.get("/greeting").text
    assert "hello stranger" in app.get("/greeting").text
    assert COUNT.calls == 3  # the two users each time, the anonymous page once


def test_per_user_pages_are_keyed_by_the_user(app):
    for _ in range(2):
        assert "dashboard of alice" in app.get("/dashboard", extra_environ={"REMOTE_USER": "alice"}).text
        assert "dashboard of bob" in app.get("/dashboard", extra_environ={"REMOTE_USER": "bob"}).text
    assert COUNT.calls == 2


def test_pages_vary_by_the_language_they_are_translated_into():
    app = build(root=CachedRoot(), **{"beaker.cache.regions": "r%d" % next(REGIONS), "i18n.native": "en it"})
    COUNT.calls = 0
    italian = {"Accept-Language": "it"}
    assert "language it" in app.get("/translated", headers=italian).text
    assert "language en" in app.get("/translated", headers={"Accept-Language": "en"}).text
    assert "language it" in app.get("/translated", headers=italian).text
    # A language without a translation gets the untranslated page, whatever it is called.
    assert "language " in app.get("/translated", headers={"Accept-Language": "fr"}).text
    app.get("/translated", headers={"Accept-Language": "de"})
    assert COUNT.calls == 3


def test_invalidate_drops_the_page(app):
    app.get("/article/7")
    app.get("/drop/7")
    app.get("/article/7")
    assert COUNT.calls == 2


def test_refresh_page_after_an_edit_stores_the_new_page_before_anyone_asks(app):
    assert "version 1" in app.get("/article/3").text
    assert app.get("/edit/3").text == "edited"
    calls = COUNT.calls  # the refresh rendered it once
    assert calls == 2
    assert "version 2" in app.get("/article/3").text
    assert COUNT.calls == calls  # served from the cache


def test_many_concurrent_misses_render_once(app):
    statuses = at_once(8, lambda _: webob.Request.blank("/slow").get_response(app.app).status_int)
    assert statuses == [200] * 8
    assert COUNT.calls == 1


def test_a_cache_that_is_down_gives_uncached_pages_and_a_warning(caplog):
    broken = build(root=CachedRoot(), **{"beaker.cache.regions": "down", "beaker.cache.down.type": "ext:redis",
                                         "beaker.cache.down.url": "redis://127.0.0.1:9/0",
                                         "resources.cache_timeout": "0.2"})
    COUNT.calls = 0
    with caplog.at_level(logging.WARNING, logger="tgext_resources.caching"):
        first, second = broken.get("/every"), broken.get("/every")
    assert first.status_int == second.status_int == 200
    assert COUNT.calls == 2
    assert "Cache region 'down' (ext:redis) failed to" in caplog.text
    assert "serving uncached" in caplog.text


def test_unknown_region_is_a_clear_error():
    from tgext_resources import ConfigError

    class Root(RootController):
        @expose("tests.testsite.templates.cached")
        @cached_template(region="nowhere")
        def index(self):
            return page("x")

    app = build(root=Root(), **{"trace_errors.enable": "false"})  # let the error through to the test
    with pytest.raises(ConfigError) as error:
        app.get("/")
    assert "region = 'nowhere' is not valid: no such cache region; configured: default" in str(error.value)


def test_bad_decorator_arguments_are_refused():
    with pytest.raises(TypeError, match="use None, a tuple of argument names, or a callable"):
        cached_template(key=3)
    with pytest.raises(TypeError, match="whole number of seconds above 0"):
        cached_template(expire=-5)


class SiteWide(RootController):
    def _before(self, *args, **kw):
        badge_js.inject()  # a resource every page of the site gets, registered before any hit

    @expose("tests.testsite.templates.page")
    @cached_template()
    def cached(self):
        return dict(title="widgets", widgets=[text_field])


def test_resources_registered_before_a_hit_are_injected_once():
    app = build(root=SiteWide())
    pages = [app.get("/cached").text for _ in range(3)]
    links = [resource_links(text) for text in pages]
    assert len(links[0]) >= 2 and len(set(links[0])) == len(links[0])
    assert links[1] == links[2] == links[0]
