"""Attributes of the injected script tags (resources.script_attributes) and the request's CSP nonce."""
import itertools
import logging
import re
import secrets

import pytest
import tw2.core as twc
import tw2.forms as twf
from tg import expose, response
from webtest import TestApp

from tgext_resources import cached_template, fs_cached
from tgext_resources.errors import ConfigError, NonceError
from tgext_resources.settings import parse_settings

from tests.apps import RootController, build, canonical, configurator_class
from tests.sample import load, write_ini
from tests.testsite.widgets import Badge, CommentForm

KEY = "resources.script_attributes"
JQUERY = "tw2.jquery:static/jquery/1.7.1/jquery.js"
BADGE = "tests.testsite.widgets:static/badge.js"

own_attrs_js = twc.JSLink(modname="tests.testsite.widgets", filename="static/badge.js",
                          attrs={"async": True, "defer": False, "data-site": "test"})


class OwnAttrs(twc.Widget):
    template = "tests.testsite.widgets.templates.badge"
    resources = [own_attrs_js]
    text = twc.Param(default="own")


calendar = twf.CalendarDatePicker(id="deadline", calendar_lang="en")
RENDERS = itertools.count(1)


class Root(RootController):
    @expose("tests.testsite.templates.page")
    def own(self):
        return dict(title="own attrs", widgets=[OwnAttrs])

    @expose("tests.testsite.templates.page")
    def calendar(self):
        """Every way a tw2 page is initialised without inline script in its templates: a
        script file (the badge's) and tw2's JSSource (the calendar's Calendar.setup call)."""
        return dict(title="calendar", widgets=[Badge, calendar])

    @expose("tests.testsite.templates.form")
    def picker(self, **kw):
        """tw2.jqplugins.ui's date picker, whose template writes an inline script using $."""
        return dict(form=CommentForm, errors={})

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def cached(self):
        return dict(title="cached", widgets=[Badge, calendar], tick=lambda: next(RENDERS), fragments=None)

    @expose("tests.testsite.templates.page")
    @fs_cached()
    def written(self):
        return dict(title="written", widgets=[Badge])

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def policy_inside(self):
        # The wrong place for a nonce: a header TurboGears sends is stored with the page.
        response.headers["Content-Security-Policy"] = "script-src 'nonce-%s'" % secrets.token_urlsafe(16)
        return dict(title="policy inside", widgets=[Badge], tick=lambda: next(RENDERS), fragments=None)


def scripts(page):
    """{canonical link: the attributes of its <script> tag, as written} of a page."""
    found = {}
    for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", page):
        src = re.search(r'src="([^"]+)"', tag).group(1)
        found[canonical(src)] = tag
    return found


def test_a_script_named_in_the_ini_gets_its_attributes_and_no_other_does():
    app = build(root=Root(), **{KEY: "%s defer crossorigin" % BADGE})
    found = scripts(app.get("/").text)
    assert found["/tw2/resources/tests.testsite.widgets/static/badge.js"].endswith(' defer crossorigin="anonymous">')
    jquery = found["/tw2/resources/tw2.jquery/static/jquery/1.7.1/jquery.js"]
    assert "defer" not in jquery and "crossorigin" not in jquery


def test_a_star_line_gives_every_script_crossorigin_and_no_stylesheet():
    app = build(root=Root(), **{KEY: "* crossorigin=use-credentials"})
    page = app.get("/").text
    found = scripts(page)
    assert len(found) >= 3 and all('crossorigin="use-credentials"' in tag for tag in found.values())
    assert "crossorigin" not in "".join(re.findall(r"<link\b[^>]*>", page))


def test_type_module_replaces_the_classic_type():
    app = build(root=Root(), **{KEY: "%s type=module" % BADGE})
    tag = scripts(app.get("/").text)["/tw2/resources/tests.testsite.widgets/static/badge.js"]
    assert tag.startswith('<script type="module" src=') and "text/javascript" not in tag


def test_a_widgets_own_jslink_attrs_are_kept_booleans_written_bare_and_false_left_out():
    app = build(root=Root(), **{KEY: "%s crossorigin" % BADGE})
    tag = scripts(app.get("/own").text)["/tw2/resources/tests.testsite.widgets/static/badge.js"]
    assert ' async data-site="test" crossorigin="anonymous">' in tag
    assert "defer" not in tag  # attrs={"defer": False}: not deferred (tw2 wrote defer="False", which is)


def test_the_javascript_bundle_gets_its_line_with_its_integrity(tmp_path, sample_aggregation):
    app = load(write_ini(tmp_path, debug="false", aggregated_hash=sample_aggregation,
                         **{KEY: "bundle defer\n* crossorigin=use-credentials"}))
    page = app.get("/new").text
    bundle = [tag for link, tag in scripts(page).items() if "/public/aggregated/" in link]
    assert len(bundle) == 1
    assert re.fullmatch(r'<script src="[^"]+\.min\.js" integrity="sha384-[^"]+" crossorigin="use-credentials" defer>', bundle[0])
    stylesheet = re.search(r'<link rel="stylesheet"[^>]*/public/aggregated/[^>]*>', page).group(0)
    assert 'integrity="sha384-' in stylesheet and 'crossorigin="anonymous"' in stylesheet


@pytest.mark.parametrize("line, accepted", [
    (JQUERY, "then any of defer, async, type=module, crossorigin"),
    ("bundle", "then any of defer"),
    ("* defer", "name the scripts one by one"),
    ("* type=module", "name the scripts one by one"),
    ("bundle type=module", "the bundle joins classic scripts"),
    ("%s defer async" % JQUERY, "defer and async contradict each other"),
    ("%s type=module defer" % JQUERY, "module scripts are deferred already"),
    ("%s fetchpriority=high" % JQUERY, "any of defer, async, type=module, crossorigin (=anonymous or =use-credentials)"),
    ("%s crossorigin=everyone" % JQUERY, "crossorigin (=anonymous or =use-credentials)"),
    ("%s defer defer" % JQUERY, "each once"),
    ("tw2.jquery static/jquery/1.7.1/jquery.js defer", "start the line with the script: module:file"),
    ("tw2.jquery:../setup.py defer", "start the line with the script: module:file"),
    ("tw2.forms:static/calendar/calendar-system.css defer", "start the line with the script: module:file"),
    ("bundle defer\nbundle crossorigin", "bundle has another line already"),
])
def test_a_bad_line_stops_startup_naming_the_key_the_line_and_what_is_accepted(line, accepted):
    with pytest.raises(ConfigError) as error:
        parse_settings({KEY: line})
    message = str(error.value)
    assert message.startswith("%s = %r is not valid: " % (KEY, line.splitlines()[-1])), message
    assert accepted in message


def test_lines_parse_into_typed_rules_from_the_ini_or_app_cfg():
    text = "# the site's own\n%s defer\n\nbundle async\n* crossorigin" % BADGE
    rules = parse_settings({KEY: text}).resources.script_attributes
    assert rules.resources == (("tests.testsite.widgets", "static/badge.js", (("defer", True),)),)
    assert rules.bundle == (("async", True),) and rules.every == (("crossorigin", "anonymous"),)
    assert parse_settings({KEY: text.splitlines()}).resources.script_attributes == rules


def test_a_script_that_is_not_there_stops_startup():
    with pytest.raises(ConfigError) as error:
        build(root=Root(), **{KEY: "tw2.jquery:static/jquery/9.9.9/jquery.js defer"})
    assert str(error.value).startswith("%s = 'tw2.jquery:static/jquery/9.9.9/jquery.js' is not valid: module "
                                       "tw2.jquery has no such file" % KEY)


# -- the CSP nonce

class ContentSecurityPolicy:
    """What README tells applications to write: a fresh nonce per request, in the environ
    and in the header, around the application."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        nonce = environ["tgext_resources.csp_nonce"] = secrets.token_urlsafe(16)
        policy = ("default-src 'self'; script-src 'nonce-{0}'; style-src-elem 'nonce-{0}'; "
                  "style-src-attr 'unsafe-inline'; img-src 'self' data:".format(nonce))

        def start(status, headers, exc_info=None):
            return start_response(status, headers + [("Content-Security-Policy", policy)], exc_info)

        return self.app(environ, start)


class PolicedConfigurator(configurator_class("fullstack")):
    def add_tosca_middleware(self, app):
        return ContentSecurityPolicy(super().add_tosca_middleware(app))


def policed(**options):
    return build(configurator=PolicedConfigurator(), root=Root(), **options)


def nonce_of(response):
    return re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)


def tags_of(page):
    """Every tag the extension injects into the test site's pages: scripts, stylesheets, inline code."""
    return re.findall(r"<script\b[^>]*>|<link rel=\"stylesheet\"[^>]*>|<style\b[^>]*>", page)


def test_every_injected_tag_carries_the_requests_nonce_and_the_next_request_its_own():
    app = policed()
    first, second = app.get("/calendar"), app.get("/calendar")
    assert nonce_of(first) != nonce_of(second)
    for answer in (first, second):
        tags = tags_of(answer.text)
        assert len(tags) >= 6  # jQuery, the badge's, the calendar's three scripts, its call; stylesheets
        assert any("src=" not in tag for tag in tags)  # Calendar.setup(...), tw2's JSSource
        assert all('nonce="%s"' % nonce_of(answer) in tag for tag in tags), tags


def test_without_a_nonce_no_tag_has_one():
    page = build(root=Root()).get("/calendar").text
    assert len(tags_of(page)) >= 6 and "nonce" not in page


def test_a_cached_page_carries_each_requests_own_nonce_and_never_anothers():
    app = policed()
    plain = TestApp(app.app.app)  # the same application, reached without the policy
    first = app.get("/cached")
    render = re.search(r"render (\d+)", first.text).group(1)
    seen = [nonce_of(first)]
    for answer in (app.get("/cached"), plain.get("/cached"), app.get("/cached"), plain.get("/cached"), app.get("/cached")):
        assert re.search(r"render (\d+)", answer.text).group(1) == render  # hits, all of them
        nonces = set(re.findall(r'nonce="([^"]+)"', answer.text))
        if "Content-Security-Policy" in answer.headers:
            assert nonces == {nonce_of(answer)} and nonce_of(answer) not in seen
            seen.append(nonce_of(answer))
        else:
            assert nonces == set()  # a page remembered without a nonce, or made afresh: never another's
    assert len(seen) == 4


def test_the_filesystem_cache_never_writes_a_page_with_a_requests_nonce(tmp_path):
    policed_app, plain_dir = policed(**{"fscache.dir": str(tmp_path / "policed")}), tmp_path / "plain"
    assert "nonce=" in policed_app.get("/written").text
    assert not (tmp_path / "policed" / "written.html").exists()  # the next visitor would get this one's nonce
    build(root=Root(), **{"fscache.dir": str(plain_dir)}).get("/written")
    written = (plain_dir / "written.html").read_text()  # without a nonce, the page is written
    assert "nonce" not in written and "<script" in written


def test_a_page_whose_policy_turbogears_sends_is_not_stored():
    app = build(root=Root())
    first, second = app.get("/policy_inside"), app.get("/policy_inside")
    assert re.search(r"render (\d+)", first.text).group(1) != re.search(r"render (\d+)", second.text).group(1)
    assert first.headers["Content-Security-Policy"] != second.headers["Content-Security-Policy"]


def test_a_nonce_no_header_could_name_fails_the_request_naming_the_key():
    app = build(root=Root(), extra_environ={"tgext_resources.csp_nonce": "a nonce\" onload=\"x"})
    with pytest.raises(NonceError) as error:
        app.get("/calendar")
    assert "environ['tgext_resources.csp_nonce']" in str(error.value) and "secrets.token_urlsafe" in str(error.value)


# -- development's warning

def test_development_warns_when_a_deferred_script_may_run_after_code_using_it(caplog):
    app = build(root=Root(), debug="true", **{KEY: "%s defer" % JQUERY})
    with caplog.at_level(logging.WARNING, logger="tgext_resources.injection"):
        app.get("/picker")
    warned = [r.getMessage() for r in caplog.records if r.name == "tgext_resources.injection"]
    assert any(m.startswith("/tw2/resources/tw2.jquery/static/jquery/1.7.1/jquery.js has defer (%s), but the page "
                            "has 1 inline script(s)" % KEY) for m in warned), warned
    assert any(re.search(r"but /tw2/resources/tw2\.jqplugins\.ui/static/\S+/jquery-ui\.js, .* come\(s\) after it and "
                         r"may run before it", m) for m in warned), warned


def test_production_says_nothing(caplog):
    app = build(root=Root(), debug="false", **{KEY: "%s defer" % JQUERY})
    with caplog.at_level(logging.WARNING, logger="tgext_resources.injection"):
        app.get("/picker")
    assert not [r for r in caplog.records if r.name == "tgext_resources.injection"]
