"""Script attributes and the CSP nonce in headless Chromium: a strict nonce policy with the
widgets initialised, and what defer on a library breaks (README, "Script attributes and a
CSP nonce")."""
import pytest

from tests.apps import build
from tests.test_script_attributes import BADGE, JQUERY, KEY, PolicedConfigurator, Root


def open_watched(browser, url):
    """The page at ``url`` opened: its errors (console and uncaught; a request answered
    400 or more, the browser's own favicon.ico left out) and its CSP violations so far,
    ``page.evaluate("window.__violations")``."""
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource") and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and errors.append((r.status, r.url)))
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, errors, page.evaluate("window.__violations")


@pytest.fixture(scope="module")
def served_policed():
    from tests.inprocess import waitress_serving

    # With preload headers (the default): theirs carry the nonce and crossorigin too, or
    # each would be a violation, or a second fetch, of its own.
    app = build(configurator=PolicedConfigurator(), root=Root(), **{KEY: "* crossorigin\n%s defer" % BADGE})
    with waitress_serving(app.app) as (host, port):
        yield "http://%s:%s" % (host, port)


def test_under_a_strict_policy_widgets_initialise_with_no_violation(browser, served_policed):
    page, errors, violations = open_watched(browser, served_policed + "/calendar")
    assert page.locator(".badge.badge-ready").count() == 1  # badge.js, deferred, crossorigin, nonce
    assert violations == [] and errors == []
    page.click("#deadline_trigger")  # Calendar.setup(...) ran: tw2's JSSource, with the nonce
    page.wait_for_selector("div.calendar", state="visible")
    # The calendar's stylesheet applied (<link rel=stylesheet nonce>, style-src-elem).
    assert page.eval_on_selector("div.calendar table", "e => getComputedStyle(e).fontSize") == "11px"
    # calendar.js itself, once opened, calls setTimeout with a string in Chromium (which it
    # takes for KHTML): eval, which no nonce covers. Nothing else is refused.
    assert set(page.evaluate("window.__violations")) <= {"script-src-elem eval", "script-src eval"}
    page.close()


def test_under_a_strict_policy_an_inline_script_of_a_widget_template_is_refused(browser, served_policed):
    """What README says: tw2.jqplugins.ui's templates write their $(...) call inline, without
    the nonce, and a nonce policy blocks it (the page then lacks that widget's behaviour)."""
    page, errors, violations = open_watched(browser, served_policed + "/picker")
    assert any(v.startswith("script-src") and v.endswith(" inline") for v in violations), violations
    page.click("#day")
    assert not page.is_visible("#ui-datepicker-div")
    page.close()


def test_defer_on_jquery_breaks_the_inline_script_of_a_widget_template(browser):
    """Why README refuses defer on a library inline code needs: that code runs first."""
    from tests.inprocess import waitress_serving

    app = build(root=Root(), **{KEY: "%s defer" % JQUERY})
    with waitress_serving(app.app) as (host, port):
        page, errors, _ = open_watched(browser, "http://%s:%s/picker" % (host, port))
    assert any("$ is not defined" in error for error in errors), errors
    page.close()
