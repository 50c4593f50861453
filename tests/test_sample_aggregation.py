"""The sample application aggregated the way its README walks through: command, hash, restart."""
import os
import subprocess
import sys

import pytest

from tests.apps import css_references, resource_links
from tests.sample import ROOT, load, write_ini

BIN = os.path.dirname(sys.executable)
OUTPUT = os.path.join(ROOT, "sample_app", "sampleapp", "public", "aggregated")


@pytest.fixture
def aggregated_sample(tmp_path, sample_aggregation, debug):
    return load(write_ini(tmp_path, debug=debug, auto_reload_templates=debug, aggregated_hash=sample_aggregation))


def test_gearbox_command_gives_the_same_bundles(sample_aggregation):
    result = subprocess.run(
        [os.path.join(BIN, "gearbox"), "resources-aggregate", "-d", "SampleApp", "--package", "sampleapp", "-o", OUTPUT],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "aggregated_hash = %s" % sample_aggregation


@pytest.mark.parametrize("command", [["tgext-resources", "aggregate"], ["gearbox", "resources-aggregate"]])
def test_command_errors_are_one_line_and_a_non_zero_exit(command, tmp_path):
    result = subprocess.run(
        [os.path.join(BIN, command[0]), *command[1:], "-d", "NoSuchApp", "--package", "sampleapp", "-o", OUTPUT],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "tgext-resources aggregate: error: unknown distribution 'NoSuchApp': it is not installed in this "
        "environment (pip install it, or check the name given to -d)"
    ]


@pytest.mark.parametrize("path", ["/", "/new", "/article/1"])
def test_aggregated_pages_link_one_script_and_one_stylesheet(aggregated_sample, path):
    page = aggregated_sample.get(path)
    links = resource_links(page.text)
    assert len(links) == 2
    assert sorted(link.rsplit(".", 1)[1] for link in links) == ["css", "js"]
    for link in links:
        assert link.startswith("/tw2/resources/sampleapp/public/aggregated/")
        assert aggregated_sample.get(link).status_int == 200


def test_every_image_of_the_css_bundle_answers_200(aggregated_sample):
    css_link = [link for link in resource_links(aggregated_sample.get("/").text) if link.endswith(".css")][0]
    css = aggregated_sample.get(css_link).text
    base = css_link.rsplit("/", 1)[0]
    images = [u for u in css_references(css) if u.startswith("assets/")]
    assert len(images) >= 14  # the jQuery UI theme's images and the rating stars
    for image in images:
        response = aggregated_sample.get("%s/%s" % (base, image))
        assert response.content_type.startswith("image/"), image


def test_aggregated_form_still_validates_and_shows_its_widgets(aggregated_sample):
    refused = aggregated_sample.post("/create", {"title": "", "body": "x", "publish_on": "x", "rating": ""})
    assert refused.html.select_one("#title\\:error").text == "Enter a value"
    assert len(resource_links(refused.text)) == 2
