"""cached_template keys: one entry per page a visitor can be shown, and nothing a visitor
sends can put their page in front of another one."""
import itertools
import threading
import time

import pytest
from tg import expose, request, session, validate
from tg.validation import RequireValue

from tgext_resources import cached_template

from tests.apps import RootController, build
from tests.concurrency import at_once

REGIONS = itertools.count()


class Renders:
    """How many renders ran, and how many ran at the same time at most."""

    def __init__(self):
        self.lock = threading.Lock()
        self.total = self.now = self.most = 0

    def count(self):
        with self.lock:
            self.total += 1

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


RENDERS = Renders()


def page(title):
    RENDERS.count()
    return dict(title=title, widgets=[], tick=lambda: 0, fragments=None)


class KeyedRoot(RootController):
    @expose("tests.testsite.templates.cached")
    @cached_template(key=("number",))
    def article(self, number, author=None, text=None):
        errors = request.validation.errors
        if errors:
            return page("article %s; fix %s; you wrote %s" % (number, ", ".join(sorted(errors)), author))
        return page("article %s" % number)

    @expose()
    @validate({"text": RequireValue("Say something")}, error_handler=article)
    def comment(self, number, author=None, text=None):
        return "thanks"

    @expose("tests.testsite.templates.cached")
    @cached_template(expire=60)
    def lasting(self):
        return page("lasting, render %d" % (RENDERS.total + 1))

    @expose()
    def drop_lasting(self):
        KeyedRoot.lasting.invalidate()
        return "dropped"

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def hosted(self):
        return page("links to %s" % request.host_url)

    @expose("tests.testsite.templates.cached")
    @expose("json", exclude_names=["widgets", "tick", "fragments"])
    @cached_template()
    def multi(self):
        return page("multi")

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def every(self, *args, **kw):
        return page("every %r %r" % (args, sorted(kw.items())))

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def personal(self):
        with RENDERS:
            time.sleep(0.3)  # long enough for the others to arrive meanwhile
            return page("hello %s" % session.get("name", "stranger"))

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def broken(self):
        with RENDERS:
            RENDERS.count()
            time.sleep(0.3)
            raise ValueError("the database is gone")


@pytest.fixture
def app():
    global RENDERS
    RENDERS = Renders()
    return build(root=KeyedRoot(), debug="false", **{
        "beaker.cache.regions": "keys%d" % next(REGIONS), "session.enabled": "true", "beaker.session.type": "memory"})


def title(response):
    return response.html.find("h1").text


def test_a_page_made_as_an_error_handler_is_never_stored_nor_served_from_the_cache(app):
    assert title(app.get("/article/2")) == "article 2"
    failed = app.get("/comment/2", {"author": "Visit evil.example", "text": ""})
    assert title(failed) == "article 2; fix text; you wrote Visit evil.example"
    assert title(app.get("/article/2")) == "article 2"
    # The same, when the error page comes first into an empty cache.
    assert "evil" in title(app.get("/comment/3", {"author": "evil.example", "text": ""}))
    assert title(app.get("/article/3")) == "article 3"


def test_the_host_is_part_of_the_key(app):
    poisoned = app.get("/hosted", headers={"Host": "evil.example"})
    assert title(poisoned) == "links to http://evil.example"
    assert title(app.get("/hosted", headers={"Host": "shop.example"})) == "links to http://shop.example"
    assert title(app.get("/hosted", headers={"Host": "SHOP.example:80"})) == "links to http://shop.example"
    assert RENDERS.total == 2  # the last one was a hit: the host is compared as URLs are


def test_the_response_type_is_part_of_the_key(app):
    assert app.get("/multi.json").json == {"title": "multi"}
    html = app.get("/multi")
    assert html.content_type == "text/html" and title(html) == "multi"
    assert app.get("/multi", headers={"Accept": "application/json"}).json == {"title": "multi"}
    assert app.get("/multi").content_type == "text/html"
    assert RENDERS.total == 2


@pytest.mark.parametrize("first, second", [
    ("/every?a=1%1F2", "/every?a=1&a=2"),
    ("/every?*0=x", "/every/x"),
    ("/every?a=1&b=2", "/every?a=1%26b%3D2"),
])
def test_keys_are_unambiguous(app, first, second):
    one, two = title(app.get(first)), title(app.get(second))
    assert one != two
    assert title(app.get(first)) == one and title(app.get(second)) == two


def test_pages_that_cannot_be_stored_do_not_queue_behind_the_lock(app):
    app.get("/remember?name=ann")  # a session exists; the page reads it and so is never stored
    answers = at_once(8, lambda i: title(app.get("/personal")))
    assert answers == ["hello ann"] * 8
    assert RENDERS.total == 8 and RENDERS.most > 1  # made side by side, not one after the other


def test_pages_that_raise_do_not_queue_behind_the_lock(app):
    statuses = at_once(8, lambda i: app.get("/broken", expect_errors=True).status_int)
    assert statuses == [500] * 8
    assert RENDERS.total == 8 and RENDERS.most > 1


def test_an_invalidation_outlives_the_pages_it_dropped():
    """The region forgets entries after 1 s, the page is kept 60 s: the mark of the
    invalidation must not be forgotten first, or the page it dropped would come back."""
    global RENDERS
    RENDERS = Renders()
    name = "short%d" % next(REGIONS)
    app = build(root=KeyedRoot(), debug="false", **{"beaker.cache.regions": name, "beaker.cache.%s.expire" % name: "1"})
    first = title(app.get("/lasting"))
    app.get("/drop_lasting")
    second = title(app.get("/lasting"))
    assert first != second
    time.sleep(1.3)
    assert title(app.get("/lasting")) == second


def test_a_page_stored_later_is_still_made_once(app):
    answers = at_once(8, lambda i: title(app.get("/article/9")))
    assert answers == ["article 9"] * 8 and RENDERS.total == 1
