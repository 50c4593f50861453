"""cached_entity: fragments from the cache, with the widget resources they need."""
import itertools
import logging
import time

import pytest
import webob
from markupsafe import Markup
from tg import expose

from tgext_resources import cached_entity

from tests.apps import RootController, build, canonical_links
from tests.concurrency import at_once
from tests.testsite.widgets import Badge

CALLS = []
REGIONS = itertools.count()
BADGE_JS = "/tw2/resources/tests.testsite.widgets/static/badge.js"


@cached_entity("comment")
def comment(number, style="plain"):
    CALLS.append((number, style))
    return Markup('<div class="comment">comment %s (%s) %s</div>') % (number, style, Badge.display(text="#%s" % number))


@cached_entity("slow-comment")
def slow_comment(number):
    CALLS.append(number)
    time.sleep(0.3)
    return "slow %s" % number


@cached_entity("broken-comment")
def broken_comment(number):
    CALLS.append(number)
    raise LookupError("comment %s is gone" % number)


class Root(RootController):
    @expose("tests.testsite.templates.cached")
    def with_comment(self, number="1"):
        return dict(title="with comment", widgets=[], tick=lambda: 0, fragments=comment(number))

    @expose("tests.testsite.templates.cached")
    def template_calls(self, number="1"):
        # The template itself calls the cached function.
        return dict(title="template", widgets=[], tick=lambda: comment(number), fragments=None)

    @expose("tests.testsite.templates.cached")
    def edit(self, number):
        comment.refresh(number)
        return dict(title="edited", widgets=[], tick=lambda: 0, fragments=None)

    @expose()
    def slow(self, number):
        return slow_comment(number)

    @expose()
    def broken(self, number):
        return broken_comment(number)


@pytest.fixture
def app():
    test_app = build(root=Root(), **{"beaker.cache.regions": "f%d" % next(REGIONS)})
    CALLS.clear()
    return test_app


def test_second_call_comes_from_the_cache_with_the_same_markup(app):
    first = app.get("/with_comment?number=5")
    second = app.get("/with_comment?number=5")
    assert CALLS == [("5", "plain")]
    assert first.body == second.body
    assert '<div class="comment">comment 5 (plain) <span class="badge">#5</span></div>' in second.text


def test_each_argument_set_is_its_own_entry(app):
    app.get("/with_comment?number=1")
    app.get("/with_comment?number=2")
    assert CALLS == [("1", "plain"), ("2", "plain")]


def test_widgets_inside_a_cached_fragment_still_get_their_resources(app):
    app.get("/with_comment?number=9")  # the miss: resources registered by the widget itself
    hit = app.get("/with_comment?number=9")  # the hit: no widget runs, the resources are replayed
    assert len(CALLS) == 1
    assert BADGE_JS in canonical_links(hit.text)
    assert canonical_links(hit.text).count(BADGE_JS) == 1


def test_a_template_can_call_a_cached_fragment(app):
    app.get("/template_calls?number=3")
    page = app.get("/template_calls?number=3")
    assert len(CALLS) == 1
    assert "comment 3 (plain)" in page.text
    assert BADGE_JS in canonical_links(page.text)


def test_refresh_makes_it_now_and_invalidate_drops_it(app):
    app.get("/with_comment?number=4")
    app.get("/edit/4")
    assert len(CALLS) == 2
    app.get("/with_comment?number=4")
    assert len(CALLS) == 2  # the refreshed entry
    comment.invalidate("4")
    app.get("/with_comment?number=4")
    assert len(CALLS) == 3


def test_many_concurrent_misses_compute_once(app):
    results = at_once(8, lambda _: webob.Request.blank("/slow/8").get_response(app.app).text)
    assert results == ["slow 8"] * 8
    assert CALLS == ["8"]


def test_a_cache_that_is_down_computes_the_fragment(caplog, tmp_path):
    broken = build(root=Root(), **{"beaker.cache.regions": "gone", "beaker.cache.gone.type": "ext:memcached",
                                   "beaker.cache.gone.url": "127.0.0.1:9", "resources.cache_timeout": "0.2",
                                   "beaker.cache.lock_dir": str(tmp_path / "locks")})
    CALLS.clear()
    with caplog.at_level(logging.WARNING):
        first, second = broken.get("/with_comment?number=6"), broken.get("/with_comment?number=6")
    assert first.status_int == second.status_int == 200
    assert "comment 6" in second.text
    assert len(CALLS) == 2
    assert "Cache region 'gone' (ext:memcached) failed to" in caplog.text
    assert "memcached server unreachable" in caplog.text


def test_outside_a_request_it_still_caches(app):
    assert "comment 11" in comment("11")
    assert "comment 11" in comment("11")
    assert CALLS == [("11", "plain")]


def test_bad_namespace_is_refused():
    with pytest.raises(TypeError, match="name the kind of entity"):
        cached_entity("")


def test_a_fragment_that_raises_is_made_once_and_its_error_is_its_own(app, caplog):
    with caplog.at_level(logging.WARNING, logger="tgext_resources.caching"):
        failed = app.get("/broken/3", expect_errors=True)
    assert failed.status_int == 500  # the application's own error, as without a cache
    assert CALLS == ["3"]  # not called again as if the cache had failed
    assert "Cache region" not in caplog.text
