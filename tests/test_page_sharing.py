"""cached_template and what a page depends on without the key knowing."""
import itertools

from tg import expose, session, tmpl_context

from tgext_resources import cached_template

from tests.apps import RootController, build

REGIONS = itertools.count()


class Root(RootController):
    def _before(self, *args, **kw):
        # The usual TurboGears idiom: the controller's _before reads the session for the layout.
        tmpl_context.greeting = "hello %s" % session.get("name", "stranger")

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def home(self):
        return dict(title=tmpl_context.greeting, widgets=[], tick=lambda: 0, fragments=None)


def test_a_session_read_in_before_is_seen_and_the_page_not_shared():
    app = build(root=Root(), debug="false", **{
        "beaker.cache.regions": "attack%d" % next(REGIONS), "session.enabled": "true", "beaker.session.type": "memory"})
    ann = app.get("/remember?name=ann-secret")
    assert ann.text == "ok"
    mine = app.get("/home").html.find("h1").text
    assert mine == "hello ann-secret"
    app.reset()  # another visitor: no cookie
    theirs = app.get("/home").html.find("h1").text
    assert theirs == "hello stranger", theirs


class VaryRoot(RootController):
    @expose("tests.testsite.templates.cached")
    @cached_template()
    def mobile(self):
        # The page says what it depends on, as HTTP asks (RFC 9110, 12.5.5): an HTTP cache
        # keys it by that header or does not store it; the page cache does neither.
        from tg import request, response
        response.headers["Vary"] = "User-Agent"
        kind = "phone" if "Mobile" in request.headers.get("User-Agent", "") else "desktop"
        return dict(title="%s layout" % kind, widgets=[], tick=lambda: 0, fragments=None)


def test_a_page_that_varies_on_a_request_header_the_key_ignores_is_not_shared():
    app = build(root=VaryRoot(), debug="false", **{"beaker.cache.regions": "attack%d" % next(REGIONS)})
    assert app.get("/mobile", headers={"User-Agent": "Mobile Safari"}).html.find("h1").text == "phone layout"
    desktop = app.get("/mobile", headers={"User-Agent": "Firefox"}).html.find("h1").text
    assert desktop == "desktop layout", desktop
