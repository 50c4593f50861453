"""tgext.debugbar, enabled as TurboGears' quickstart enables it: cached pages never keep its
toolbar, the filesystem cache never writes it, and its "Resources & cache" section tells
what tgext.resources did for the page on screen."""
import contextlib
import html
import itertools
import os
import re

import pytest
import tg
from tg.configuration import milestones
from tgext.debugbar import DebugBar
from tgext.debugbar.sections import __sections__

import tests.debugsite as debugsite
from tests.apps import build, canonical, configurator_class, resource_links
from tests.debugsite.controllers.root import RootController
from tests.inprocess import waitress_serving
from tests.sample import load, write_ini

TOOLBAR = 'id="tgdb_debugbar"'
REGIONS = itertools.count()


def _options(tmp_path, options):
    defaults = {"debug": "true", "session.enabled": "true", "beaker.cache.regions": "debugbar%d" % next(REGIONS),
                "fscache.dir": str(tmp_path / "fscache")}
    defaults.update(options)
    return defaults


@contextlib.contextmanager
def toolbar_enabled(configurator=None):
    """tgext.debugbar enabled for the applications built in the block: ``enable_debugbar(
    base_config)`` in the quickstart's app_cfg.py registers this same hook.  Its hooks are
    TurboGears' process-wide ones: they are taken away again afterwards."""
    bar = DebugBar(configurator)
    tg.hooks.register("initialized_config", bar)
    try:
        yield
    finally:
        milestones._reset_all()
        tg.hooks.disconnect("initialized_config", bar)
        for handler in (bar.render_first, bar.render_bars):
            tg.hooks.disconnect("after_render", handler)
        for section in __sections__:
            for name, handlers in section.hooks.items():
                for handler in handlers:
                    tg.hooks.disconnect(name, handler)


def served_as_built():
    """The toolbar registers its hook and mounts its controller at the first page, for
    TurboGears to run once its configuration and renderers are ready: as they stay in a
    served application (the tests' builders reset them for the next one)."""
    milestones.config_ready.reach()
    milestones.renderers_ready.reach()


@pytest.fixture
def toolbar_app(tmp_path):
    configurator = configurator_class("fullstack")()

    def make(**options):
        app = build(configurator=configurator, root=RootController(), package=debugsite, **_options(tmp_path, options))
        served_as_built()
        return app

    with toolbar_enabled(configurator):
        yield make


_RENDER_RE = re.compile(r'<p id="render">render (\d+)</p>')
_REPORT_RE = re.compile(r'<div class="tgext-resources-report">(.*?)\n</div>', re.S)
_ROW_RE = re.compile(r'<tr class="tgdb_row">(.*?)</tr>', re.S)


def render_number(page):
    return int(_RENDER_RE.search(page.text).group(1))


def report_of(page):
    """The section's report in ``page``: (resource rows, cache rows, the whole text)."""
    found = _REPORT_RE.findall(page.text)
    assert len(found) == 1, "one report in the page"
    tables = found[0].split('<table class="tgdb_table">')
    assert len(tables) == 3  # the resources, the caches
    rows = [[[html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
             for row in _ROW_RE.findall(table)] for table in tables[1:]]
    return rows[0], rows[1], html.unescape(found[0])


def test_a_cached_page_hit_carries_one_toolbar_made_for_its_own_request(toolbar_app):
    app = toolbar_app()
    first = app.get("/page/1", headers={"Cookie": "visitor=alice-secret"})
    assert first.text.count(TOOLBAR) == 1 and "alice-secret" in first.text
    for visitor in ("bob", "carol", "dave"):  # hits: stored, then from the memo of injected pages
        hit = app.get("/page/1", headers={"Cookie": "visitor=%s-secret" % visitor})
        assert render_number(hit) == render_number(first)  # from the cache
        assert hit.text.count(TOOLBAR) == 1
        assert hit.text.count("tgext-resources-report") == 1
        assert "alice-secret" not in hit.text
        assert "%s-secret" % visitor in hit.text  # the toolbar shows this request's cookies
        assert resource_links(hit.text) == resource_links(first.text)


@contextlib.contextmanager
def after_render(hook):
    tg.hooks.register("after_render", hook)
    try:
        yield
    finally:
        tg.hooks.disconnect("after_render", hook)


def test_after_render_hooks_run_once_on_a_hit_as_on_a_miss(tmp_path):
    """What every after_render hook adds, not only the toolbar: the stored page is what the
    template made, and the hooks run on it for every request."""

    def stamp(response):
        response["response"] = str(response["response"]).replace("</body>", "<!-- stamped --></body>")

    with after_render(stamp):
        app = build(root=RootController(), package=debugsite, **_options(tmp_path, {"debug": "false"}))
        pages = [app.get("/page/7") for _ in range(4)]  # a miss, a hit, hits from the memo
    assert len({render_number(p) for p in pages}) == 1
    assert [p.text.count("<!-- stamped -->") for p in pages] == [1, 1, 1, 1]
    assert len({p.body for p in pages}) == 1


def test_what_an_after_render_hook_gives_one_visitor_never_reaches_another(tmp_path):
    def per_visitor(response):
        preview = tg.request.cookies.get("preview")
        if preview:
            tg.response.headers["X-Preview"] = preview
            response["response"] = str(response["response"]).replace("<body>", "<body><p>preview of %s</p>" % preview)

    with after_render(per_visitor):
        app = build(root=RootController(), package=debugsite, **_options(tmp_path, {"debug": "false"}))
        alice = app.get("/page/8", headers={"Cookie": "preview=alice"})
        plain = [app.get("/page/8") for _ in range(3)]  # hits, then from the memo of injected pages
        bob = app.get("/page/8", headers={"Cookie": "preview=bob"})
    assert alice.headers["X-Preview"] == "alice" and "preview of alice" in alice.text
    for page in plain:
        assert render_number(page) == render_number(alice)
        assert "X-Preview" not in page.headers and "preview of" not in page.text
    assert render_number(bob) == render_number(alice)
    assert bob.headers["X-Preview"] == "bob"  # the hook still runs on a page from the memo
    assert "preview of bob" in bob.text and "alice" not in bob.text


def test_a_page_whose_template_output_cannot_be_told_apart_is_not_stored(toolbar_app):
    """A wrapper outside the cache hands the template a dict of its own: what the template
    wrote cannot be found, and the page with the toolbar in it is never stored."""
    app = toolbar_app()
    first = app.get("/sited", headers={"Cookie": "visitor=alice-secret"})
    second = app.get("/sited", headers={"Cookie": "visitor=bob-secret"})
    assert render_number(second) != render_number(first)
    assert "alice-secret" not in second.text and second.text.count(TOOLBAR) == 1
    _, caches, _ = report_of(second)
    assert ["not stored", "what its template wrote cannot be told apart from what after_render hooks added"] in [
        [outcome, detail] for cache, outcome, key, detail in caches]


def test_a_page_with_a_toolbar_is_not_written_even_unrecorded(tmp_path):
    """The filesystem cache looks at the page itself too: a toolbar nothing recorded (a
    request whose report was lost) is still seen."""

    def toolbar(response):
        response["response"] = str(response["response"]).replace("</body>", '<div id="tgdb_debugbar"></div></body>')

    with after_render(toolbar):
        app = build(root=RootController(), package=debugsite, **_options(tmp_path, {"debug": "false"}))
        assert app.get("/written").status_int == 200
    assert not (tmp_path / "fscache" / "written.html").exists()


def test_a_link_no_file_can_answer_is_reported_not_a_failure(toolbar_app):
    app = toolbar_app()
    page = app.get("/odd")
    resources, _, _ = report_of(page)
    assert [("script", "/tw2/resources/tests.testsite.widgets/static//badge.js", "not served")] == [
        (what, canonical(link), size) for what, link, version, size in resources]
    assert "not served: no such registered file" in page.text


def test_the_section_reports_resources_as_injected_and_each_cache_outcome(toolbar_app):
    app = toolbar_app()
    miss = app.get("/page/2")
    resources, caches, text = report_of(miss)
    assert resource_links(miss.text), "the page's widgets have links"
    assert [row[1] for row in resources if row[0] in ("script", "stylesheet")] == resource_links(miss.text)
    for what, link, version, size in resources:
        if what in ("script", "stylesheet"):
            assert re.fullmatch(r"v[0-9a-f]{12}", version) and "/%s/" % version in link
            assert int(size) == len(app.get(link).body)
    outcomes = [(cache, outcome, detail) for cache, outcome, key, detail in caches]
    assert ("page", "miss", "") in outcomes and ("page", "stored", "") in outcomes
    assert ("fragment", "stored", "made: a miss") in outcomes
    page_key = next(key for cache, outcome, key, detail in caches if cache == "page")
    assert page_key.startswith("page.tests.debugsite.controllers.root.RootController.page p:")
    assert "Widget guard: on" in text

    hit = app.get("/page/2")
    _, caches, _ = report_of(hit)
    assert [(cache, outcome, key) for cache, outcome, key, detail in caches] == [("page", "hit", page_key)]

    app.get("/personal")
    _, caches, _ = report_of(app.get("/personal"))
    assert ("page", "not stored", "it read the visitor's session") in [(c, o, d) for c, o, k, d in caches]


def test_the_filesystem_cache_never_writes_a_page_with_the_toolbar(toolbar_app, tmp_path):
    app = toolbar_app()
    page = app.get("/written")
    assert page.text.count(TOOLBAR) == 1
    _, caches, _ = report_of(page)
    assert caches == [["file", "not written", "/written",
                       "a debug toolbar is in the page (this request's cookies and environ)"]]
    written = [name for _, _, names in os.walk(tmp_path / "fscache") for name in names if not name.startswith(".")]
    assert [n for n in written if "written" in n] == []


def test_without_debug_there_is_no_toolbar_and_nothing_is_recorded(toolbar_app, tmp_path):
    app = toolbar_app(debug="false")
    page = app.get("/page/3")
    assert TOOLBAR not in page.text and "tgext-resources-report" not in page.text
    assert app.get("/page/3").body == page.body
    # With nothing in the page that belongs to one request, the front server may have it.
    app.get("/written")
    assert (tmp_path / "fscache" / "written.html").exists()


def test_the_section_opens_in_chromium_and_shows_the_figures(toolbar_app, browser):
    app = toolbar_app()
    with waitress_serving(app.app) as (host, port):
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        for expected in ("stored", "hit"):
            page.goto("http://%s:%s/page/4" % (host, port), wait_until="load")
            page.click("#tgdb_button")
            page.click(".tgdb_title:text-is('Resources & cache')")
            report = page.locator(".tgext-resources-report")
            report.wait_for(state="visible")
            shown = report.inner_text()
            assert re.search(r"Resources \(\d+\)", shown)
            assert "jquery" in shown and re.search(r"v[0-9a-f]{12}", shown)
            assert re.search(r"page\s+%s" % expected, shown)
        assert errors == []
        page.close()


def test_the_section_names_each_bundle_with_its_members(tmp_path, sample_aggregation):
    with toolbar_enabled():
        app = load(write_ini(tmp_path, debug="true", aggregated_hash=sample_aggregation))
        served_as_built()
        page = app.get("/")
        resources, _, _ = report_of(page)
    bundles = [row for row in resources if row[0].startswith("bundle")]
    assert [row[1] for row in bundles] == resource_links(page.text)  # the page links its two bundles alone
    assert sorted(row[0].split(" ")[1] for row in bundles) == ["(css)", "(js)"]
    for what, link, version, size in bundles:
        assert re.match(r"bundle \((js|css)\) of \d+: ", what) and int(what.split(" of ")[1].split(":")[0]) > 1
        assert version == "named by content"
        assert int(size) == len(app.get(link).body)
    assert "jquery-ui.js" in next(what for what, *_ in bundles if "(js)" in what)
