"""The sample application aggregated the way its README walks through: command, hash, restart."""
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
