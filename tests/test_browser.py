"""What a browser sees: the sample application in headless Chromium, over real HTTP."""
import re

import pytest

from tests.sample import serving


@pytest.fixture(scope="module")
def live_sample(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("live")) as server:
        yield server.url


@pytest.fixture(scope="module")
def live_aggregated_sample(tmp_path_factory, sample_aggregation):
    with serving(tmp_path_factory.mktemp("live-aggregated"), aggregated_hash=sample_aggregation) as server:
        yield server.url


class PageWatch:
    """Every request, failure and console error of one page visit."""

    def __init__(self, page):
        self.responses, self.failures, self.errors = [], [], []
        page.on("response", lambda r: self.responses.append((r.status, r.url)))
        page.on("requestfailed", lambda r: self.failures.append((r.url, r.failure)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def bad_responses(self):
        return [(status, url) for status, url in self.responses if status >= 400]


def open_page(browser, url):
    page = browser.new_page()
    watch = PageWatch(page)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, watch


def test_main_page_loads_with_no_failed_request_and_no_console_error(browser, live_sample):
    page, watch = open_page(browser, live_sample + "/")
    assert watch.failures == []
    assert watch.bad_responses() == []
    assert watch.errors == []
    loaded = [url for status, url in watch.responses if "/tw2/resources/" in url]
    assert any(url.endswith("/jquery-ui.js") for url in loaded)
    # The jQuery UI theme's stylesheet pulls its images from the resource server too.
    assert any("/css/smoothness/images/" in url for url in loaded)
    page.close()


def test_jquery_ui_widgets_are_initialised_by_their_javascript(browser, live_sample):
    page, watch = open_page(browser, live_sample + "/")
    assert "ui-accordion" in page.get_attribute("#articles", "class")
    assert page.locator("#articles h3.ui-accordion-header").count() == 3
    assert not page.is_visible("#about")  # autoOpen: false
    page.click("#about-button")
    page.wait_for_selector(".ui-dialog #about", state="visible")
    assert page.inner_text(".ui-dialog-title") == "About SampleApp"
    assert watch.errors == []
    page.close()


def test_own_widget_javascript_runs_and_its_css_images_load(browser, live_sample):
    page, watch = open_page(browser, live_sample + "/")
    assert page.locator(".rating.rating-ready").count() == 3
    background = page.eval_on_selector(".rating-star", "e => getComputedStyle(e).backgroundImage")
    # Relative to the versioned stylesheet: the images are versioned too.
    assert re.search(r"/tw2/resources/sampleapp\.widgets/v[0-9a-f]{12}/static/images/star-", background)
    assert any(status == 200 and "/static/images/star-" in url for status, url in watch.responses)
    page.close()


def test_datepicker_opens_on_the_article_form(browser, live_sample):
    page, watch = open_page(browser, live_sample + "/new")
    page.click("#publish_on")
    page.wait_for_selector("#ui-datepicker-div", state="visible")
    page.click("#ui-datepicker-div td a >> nth=10")
    assert len(page.input_value("#publish_on")) == len("2026-11-21")
    assert watch.errors == [] and watch.bad_responses() == []
    page.close()


def test_aggregated_page_makes_one_script_and_one_stylesheet_request_and_still_works(browser, live_aggregated_sample):
    page, watch = open_page(browser, live_aggregated_sample + "/")
    assert watch.failures == [] and watch.bad_responses() == [] and watch.errors == []
    widget_files = [url for _, url in watch.responses if "/tw2/resources/" in url and "/assets/" not in url]
    assert sorted(url.rsplit(".", 1)[1] for url in widget_files) == ["css", "js"]
    assert all("/tw2/resources/sampleapp/public/aggregated/" in url for url in widget_files)
    # The same widgets, initialised by the bundled scripts and styled by the bundled theme.
    assert "ui-accordion" in page.get_attribute("#articles", "class")
    assert page.locator(".rating.rating-ready").count() == 3
    page.click("#about-button")
    page.wait_for_selector(".ui-dialog #about", state="visible")
    assert any("/assets/ui-" in url for _, url in watch.responses)  # theme images, from the bundle's copies
    page.close()


def test_aggregated_page_renders_the_images_inlined_in_the_css_bundle(browser, live_aggregated_sample):
    page, watch = open_page(browser, live_aggregated_sample + "/")
    background = page.eval_on_selector(".rating-star", "e => getComputedStyle(e).backgroundImage")
    assert background.startswith('url("data:image/png;base64,')  # the star: 125 bytes
    width = page.evaluate("""url => new Promise(done => {
        const image = new Image();
        image.onload = () => done(image.naturalWidth);
        image.onerror = () => done(-1);
        image.src = url;
    })""", background[len('url("'):-len('")')])
    assert width > 0
    assert not any("/images/star-" in url for _, url in watch.responses)  # no request for it
    page.close()


def test_aggregated_form_page_date_picker_works(browser, live_aggregated_sample):
    page, watch = open_page(browser, live_aggregated_sample + "/new")
    page.click("#publish_on")
    page.wait_for_selector("#ui-datepicker-div", state="visible")
    assert watch.errors == [] and watch.bad_responses() == []
    page.close()


def test_gallery_widgets_all_work(browser, live_sample):
    page, watch = open_page(browser, live_sample + "/gallery")
    assert watch.failures == [] and watch.bad_responses() == [] and watch.errors == []
    assert page.locator(".gallery-widget.gallery-ready").count() == 8
    assert "ui-slider" in page.get_attribute("#volume", "class")
    assert "ui-progressbar" in page.get_attribute("#progress", "class")
    assert page.evaluate("typeof Calendar.setup") == "function"
    page.click(".gallery-counter button >> text=+")
    assert page.inner_text(".gallery-counter .counter-value") == "4"
    page.close()


def test_aggregated_gallery_links_the_bundles_and_the_language_file_kept_out(browser, live_aggregated_sample):
    page, watch = open_page(browser, live_aggregated_sample + "/gallery")
    assert watch.failures == [] and watch.bad_responses() == [] and watch.errors == []
    fetched = [url for _, url in watch.responses if "/tw2/resources/" in url and url.endswith(".js")]
    scripts = page.eval_on_selector_all("head script[src]", "nodes => nodes.map(n => n.src)")
    assert sorted(fetched) == sorted(scripts) and len(scripts) == 2
    assert "/public/aggregated/" in scripts[0]
    assert scripts[1].endswith("/static/calendar/lang/calendar-en.js")  # after the bundle it needs
    assert page.locator(".gallery-widget.gallery-ready").count() == 8
    assert page.evaluate("typeof Calendar._TT") == "object"  # the language file ran after the bundle
    page.close()


def test_recently_viewed_articles_live_in_the_browser_not_in_the_cached_page(browser, live_sample):
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_sample + "/article/2", wait_until="load")
    page.goto(live_sample + "/article/3", wait_until="load")
    page.goto(live_sample + "/", wait_until="load")
    page.wait_for_selector(".recently-viewed.recent-ready")
    assert page.eval_on_selector_all(".recent-list a", "links => links.map(a => a.textContent)") == [
        "Caching rendered pages", "Versioned resources"]
    other = browser.new_context().new_page()  # another visitor: the same cached page, an empty list
    other.goto(live_sample + "/", wait_until="load")
    other.wait_for_selector(".recently-viewed.recent-ready", state="attached")
    assert other.locator(".recent-list a").count() == 0
    context.close()
    other.context.close()


def test_cached_comment_fragment_still_runs_its_widget(browser, live_sample):
    page, watch = open_page(browser, live_sample + "/article/1")
    page.reload(wait_until="load")  # the cached page, and the cached fragment in it
    assert page.locator("#comment-1 time.timeago-ready").count() == 1
    assert page.inner_text("#comment-1 time").endswith("ago")
    assert watch.errors == []
    page.close()
