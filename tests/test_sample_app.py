"""The sample application, served from its .ini file, uses real widgets that all work."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from tgext_resources import ConfigError

from tests.apps import canonical_links, css_references, resource_links
from tests.commands import run_python
from tests.sample import ROOT, free_port, load, write_ini


@pytest.fixture
def sample(tmp_path, debug):
    return load(write_ini(tmp_path, debug=debug, auto_reload_templates=debug))


def test_index_page_shows_real_widgets_with_their_resources(sample):
    page = sample.get("/")
    assert page.html.select_one("#articles h3 a").text == "Caching rendered pages"
    assert page.html.select_one("#about").text.strip().startswith("SampleApp shows tgext.resources")
    assert len(page.html.select(".rating")) == 3
    links = canonical_links(page.text)
    for expected in (
        "/tw2/resources/tw2.jquery/static/jquery/1.7.1/jquery.js",
        "/tw2/resources/tw2.jqplugins.ui/static/jquery/ui/1.8.17/js/jquery-ui.js",
        "/tw2/resources/tw2.jqplugins.ui/static/jquery/ui/1.8.17/css/smoothness/jquery-ui.css",
        "/tw2/resources/sampleapp.widgets/static/rating.js",
        "/tw2/resources/sampleapp.widgets/static/rating.css",
    ):
        assert expected in links


@pytest.mark.parametrize("path", ["/", "/article/1", "/new", "/gallery"])
def test_every_link_and_every_image_its_stylesheets_use_answers_200(sample, path):
    links = resource_links(sample.get(path).text)
    assert len(links) > 3
    references = 0
    for link in links:
        response = sample.get(link)
        assert response.status_int == 200, link
        if link.endswith(".css"):
            base = link.rsplit("/", 1)[0]
            for reference in css_references(response.text):
                assert sample.get("%s/%s" % (base, reference)).status_int == 200, (link, reference)
                references += 1
    assert references > 0  # every page has a stylesheet with images


def test_article_page_and_a_missing_article(sample):
    assert "Widgets are shared" in sample.get("/article/1").text
    missing = sample.get("/article/999", status=404)
    assert "Error 404" in missing.text
    assert sample.get("/article/nope", status=404).status_int == 404


def test_the_writers_name_is_remembered_in_their_session(sample):
    sample.post("/comment/1", {"author": "carol", "text": "First!"})
    assert sample.get("/new").html.select_one(".greeting").text == "Welcome back, carol."
    sample.reset()  # another visitor: no session cookie
    assert sample.get("/new").html.select_one(".greeting") is None


def made_at(page):
    return page.html.select_one("#made-at").text


def test_article_page_is_cached_and_made_again_right_after_a_comment(sample):
    first = sample.get("/article/2")
    assert made_at(sample.get("/article/2")) == made_at(first)  # from the cache
    sample.post("/comment/2", {"author": "dave", "text": "Cached pages are fast"})
    after = sample.get("/article/2")
    assert made_at(after) != made_at(first)
    assert "dave" in [c.select_one("strong").text for c in after.html.select(".comment")]
    assert made_at(sample.get("/article/2")) == made_at(after)  # made during the comment's request


def test_correcting_a_comment_refreshes_its_fragment_and_its_page(sample):
    sample.get("/article/1")
    sample.post("/save_comment/1", {"author": "alice", "text": "Corrected text"})
    page = sample.get("/article/1")
    assert page.html.select_one("#comment-1 strong").text == "alice"
    assert "Corrected text" in page.html.select_one("#comment-1").text


def test_invalid_comment_shows_the_errors_on_a_fresh_page(sample):
    refused = sample.post("/comment/1", {"author": "", "text": ""})
    assert refused.html.select_one("#author\\:error").text == "Enter a value"
    assert "Enter a value" not in sample.get("/article/1").text  # the cached page is untouched


def test_writing_an_article_through_the_form(sample):
    form = sample.get("/new").forms[0]
    assert sample.get("/new").html.select_one("#publish_on") is not None
    form["title"] = ""
    form["body"] = "text"
    form["publish_on"] = "yesterday"
    refused = form.submit()
    assert refused.html.select_one("#title\\:error").text == "Enter a value"
    assert refused.html.select_one("#publish_on\\:error").text == "Must follow date format year-month-day"
    assert "Please correct the 2 highlighted field(s)." in refused.text

    form = refused.forms[0]
    form["title"] = "Written in a test"
    form["publish_on"] = "2027-01-01"
    form["rating"] = "4"
    published = form.submit().follow()
    assert published.html.select_one("#articles h3 a").text == "Written in a test"


def test_bad_value_in_the_ini_file_stops_startup(tmp_path):
    with pytest.raises(ConfigError) as error:
        load(write_ini(tmp_path, **{"resources.prefix": "widgets"}))
    assert str(error.value).startswith("resources.prefix = 'widgets' is not valid")


def test_startup_imports_the_controllers_and_checks_the_widgets_they_use(tmp_path):
    # In a fresh process nothing but the root controller defines the jQuery UI widgets:
    # the start-up check can only name them if the controllers were imported at start-up.
    ini = write_ini(tmp_path, **{"resources.engines": "kajiki"})
    result = run_python("from paste.deploy import loadapp; loadapp('config:%s')" % ini)
    assert result.returncode != 0
    assert "TemplateEngineError" in result.stderr
    assert "tw2.jqplugins.ui.templates.datepicker exists only for mako, genshi" in result.stderr


def test_gallery_shows_every_kind_of_widget_with_its_own_files(sample):
    page = sample.get("/gallery")
    assert len(page.html.select(".gallery-widget")) == 8
    for selector in ("#volume", "#progress", "#action", "#search", "#deadline", "#grid"):
        assert page.html.select_one(selector) is not None, selector
    assert len(resource_links(page.text)) == 27


def test_thumbnails_go_to_the_filesystem_cache_and_leave_it_when_the_image_changes(sample, tmp_path):
    from sampleapp.websetup.schema import picture

    thumb = sample.get("/thumbs/2.png")
    assert thumb.content_type == "image/png"
    written = tmp_path / "data" / "fscache" / "thumbs" / "2.png"
    assert written.read_bytes() == thumb.body
    sample.get("/images")
    assert (tmp_path / "data" / "fscache" / "images.html").is_file()
    sample.post("/replace_image/2", upload_files=[("upload", "new.png", picture(7))])
    assert not written.exists() and not (tmp_path / "data" / "fscache" / "images.html").exists()
    again = sample.get("/thumbs/2.png")
    assert again.body != thumb.body and written.read_bytes() == again.body


def test_dev_py_serve_listens_on_the_port_it_is_given():
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        # A session of its own: dev.py starts gearbox, and both must go at the end.
        process = subprocess.Popen([sys.executable, "dev.py", "serve", "--port", str(port)], cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = "http://127.0.0.1:%d/" % port
            deadline = time.time() + 120
            while True:
                try:
                    page = urllib.request.urlopen(url, timeout=5).read()
                    break
                except OSError:
                    assert process.poll() is None and time.time() < deadline, "dev.py serve did not start"
                    time.sleep(0.3)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        log.seek(0)
        assert "Serving the sample application on %s" % url.rstrip("/") in log.read()
    assert b"<html" in page
