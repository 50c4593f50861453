"""The sample application aggregated the way its README walks through: command, hash, restart."""
import base64
import gzip
import os
import re

import pytest

from tests.apps import css_references, resource_links
from tests.commands import command, run
from tests.sample import AGGREGATED, ROOT, load, write_ini


@pytest.fixture
def aggregated_sample(tmp_path, sample_aggregation, debug):
    return load(write_ini(tmp_path, debug=debug, auto_reload_templates=debug, aggregated_hash=sample_aggregation))


def test_gearbox_command_gives_the_same_bundles(sample_aggregation):
    output = command("resources-aggregate", "-d", "SampleApp", "--package", "sampleapp", "-o", AGGREGATED,
                     program="gearbox", cwd=ROOT)
    assert output.splitlines()[-1] == "aggregated_hash = %s" % sample_aggregation


@pytest.mark.parametrize("invocation", [["tgext-resources", "aggregate"], ["gearbox", "resources-aggregate"]],
                         ids=["tgext-resources", "gearbox"])
def test_command_errors_are_one_line_and_a_non_zero_exit(invocation, tmp_path):
    result = run(*invocation, "-d", "NoSuchApp", "--package", "sampleapp", "-o", AGGREGATED, cwd=ROOT)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    # The error names the command as it was typed.
    assert result.stderr.strip().splitlines() == [
        "%s: error: unknown distribution 'NoSuchApp': it is not installed in this "
        "environment (pip install it, or check the name given to -d)" % " ".join(invocation)
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


def test_every_image_of_the_css_bundle_answers_200_or_is_in_it(aggregated_sample):
    css_link = [link for link in resource_links(aggregated_sample.get("/").text) if link.endswith(".css")][0]
    css = aggregated_sample.get(css_link).text
    base = css_link.rsplit("/", 1)[0]
    images = [u for u in css_references(css) if u.startswith("assets/")]
    assert len(images) >= 5  # the jQuery UI theme's icon sprites (4369 bytes each: over the limit)
    for image in images:
        response = aggregated_sample.get("%s/%s" % (base, image))
        assert response.content_type.startswith("image/"), image
    # Its backgrounds, the calendar's arrow and the rating stars: data: URIs of at most 4096 bytes.
    inlined = set(re.findall(r'url\("data:(image/[a-z]+);base64,([^"]+)"\)', css))
    assert len(inlined) >= 11
    assert all(len(base64.b64decode(data)) <= 4096 for _, data in inlined)


def test_aggregated_form_still_validates_and_shows_its_widgets(aggregated_sample):
    refused = aggregated_sample.post("/create", {"title": "", "body": "x", "publish_on": "x", "rating": ""})
    assert refused.html.select_one("#title\\:error").text == "Enter a value"
    assert len(resource_links(refused.text)) == 2


def test_export_writes_the_css_bundle_its_siblings_and_the_images_left_out_of_it(tmp_path, sample_aggregation):
    ini = write_ini(tmp_path, debug="false", aggregated_hash=sample_aggregation)
    app = load(ini)
    output = str(tmp_path / "export")
    command("export", "-c", ini, "-o", output)
    css_link = [link for link in resource_links(app.get("/").text) if link.endswith(".css")][0]
    exported = os.path.join(output, *css_link.lstrip("/").split("/"))
    served = app.get(css_link).body
    assert b"data:image/png;base64," in served
    with open(exported, "rb") as f:
        assert f.read() == served
    with open(exported + ".gz", "rb") as f:
        assert gzip.decompress(f.read()) == served
    images = [u for u in css_references(served.decode()) if u.startswith("assets/")]
    assert len(images) >= 5
    for image in images:
        assert os.path.isfile(os.path.join(os.path.dirname(exported), *image.split("/"))), image
