"""REDbot, a lint for HTTP caching, on what nginx serves with the generated configuration.

The sample application runs behind nginx as its README deploys it (bundles on, filesystem
cache on, ``--server-name``); REDbot checks one response of each kind the front server
deals with, including its own conditional, ranged and compressed requests.  No finding may
be ``BAD``; the ``WARN`` findings left are the ones README.rst explains (under "What REDbot
says"), each for the kinds of response it concerns.
"""
import json
import os

import pytest

from tests.commands import installed, run
from tests.conftest import require
from tests.frontservers import NGINX, behind_nginx
from tests.sample import ROOT
from tests.test_frontserver import fetch, page_resources

#: For each kind of response, the REDbot warnings README.rst explains.
EXPLAINED = {
    "versioned resource": {"STORE_PUBLIC_UNNECESSARY"},
    "bundle (JS)": {"STORE_PUBLIC_UNNECESSARY"},
    "bundle (CSS)": {"STORE_PUBLIC_UNNECESSARY"},
    "cached page": {"FRESHNESS_NO_CACHE_NO_VALIDATOR"},
    "fscache image": set(),
    "fscache page": set(),
}


@pytest.fixture(scope="module")
def redbot():
    require(os.path.exists(installed("redbot")), "REDbot (pip install redbot; Python 3.11 or newer)")
    return "redbot"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, sample_aggregation):
    """The sample app behind nginx, and the URL of one response of each kind."""
    require(os.path.exists(NGINX), "nginx (Debian package nginx)")
    with behind_nginx(tmp_path_factory.mktemp("redbot"), fscache=True, aggregated_hash=sample_aggregation) as front:
        resources = page_resources(front.nginx.url, "/gallery")
        urls = {
            "versioned resource": [u for u in resources if u.endswith("/calendar-en.js")][0],
            "bundle (JS)": [u for u in resources if "/aggregated/" in u and u.endswith(".js")][0],
            "bundle (CSS)": [u for u in resources if "/aggregated/" in u and u.endswith(".css")][0],
            "cached page": "/",  # cached_template: proxied to the application, which answers from its cache
            "fscache image": "/thumbs/1.png",
            "fscache page": "/images",
        }
        for url in urls.values():
            assert fetch(front.nginx.url + url)[0] == 200, url  # the page cache and fscache filled
        # From here on, nginx sends these two from the disk.
        assert os.path.isfile(os.path.join(front.cache, "thumbs", "1.png"))
        assert os.path.isfile(os.path.join(front.cache, "images.html"))
        yield front, urls


def lint(redbot, url):
    """REDbot's report on ``url``, read from its HAR output (JSON, where each note has its
    level and a stable id, unlike the text output): (status, [(level, note id, summary)])."""
    result = run(redbot, "-o", "har", url, timeout=120)
    assert result.returncode == 0, result.stderr
    log = json.loads(result.stdout)["log"]
    assert "_red_error" not in log, log.get("_red_error")
    (entry,) = log["entries"]
    notes, pending = [], list(entry["_red_messages"])
    while pending:
        note = pending.pop(0)
        notes.append((note["level"].upper(), note["note_id"], note["summary"]))
        pending += note.get("subnotes", [])
    return entry["response"]["status"], notes


@pytest.mark.parametrize("kind", sorted(EXPLAINED))
def test_redbot_finds_nothing_bad_and_no_unexplained_warning(redbot, deployed, kind):
    front, urls = deployed
    status, notes = lint(redbot, front.nginx.url + urls[kind])
    assert status == 200
    assert len(notes) > 3, notes  # REDbot did check the response
    assert [n for n in notes if n[0] == "BAD"] == []
    assert {n[1] for n in notes if n[0] == "WARN"} <= EXPLAINED[kind], notes


@pytest.mark.parametrize("kind", [k for k in sorted(EXPLAINED) if k != "cached page"])
def test_redbot_revalidates_what_nginx_serves_from_the_disk(redbot, deployed, kind):
    front, urls = deployed
    good = {note_id for level, note_id, _ in lint(redbot, front.nginx.url + urls[kind])[1] if level == "GOOD"}
    assert {"INM_304", "IMS_304"} <= good


def test_redbot_finds_the_filesystem_cache_fresh_for_no_heuristic_time(redbot, deployed):
    front, urls = deployed
    notes = lint(redbot, front.nginx.url + urls["fscache page"])[1]
    assert "FRESHNESS_HEURISTIC" not in {note_id for _, note_id, _ in notes}  # Cache-Control: no-cache says it


def test_the_readme_explains_every_warning_left():
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        readme = f.read()
    explained = set().union(*EXPLAINED.values())
    assert len(explained) >= 2
    assert [note_id for note_id in sorted(explained) if "``%s``" % note_id not in readme] == []
