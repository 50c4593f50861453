"""Versioned resource URLs: cacheable forever, and changed whenever the content changes."""
import os
import re
import time

import pytest
import webob

from tgext_resources.versioning import Versions, directory_token

from tests import distributions
from tests.apps import build, canonical, resource_links

VERSIONED = re.compile(r"^/tw2/resources/[^/]+/v[0-9a-f]{12}/")
BADGE = "/tw2/resources/tests.testsite.widgets/static/badge.js"


def raw(app, path, **headers):
    return webob.Request.blank(path, headers=headers).get_response(app.app)


def test_every_injected_link_carries_a_version(mode):
    links = resource_links(build(debug="true" if mode == "development" else "false").get("/").text)
    assert links
    for link in links:
        assert VERSIONED.match(link), link


def test_links_of_one_module_share_its_version_so_relative_references_stay_versioned():
    links = resource_links(build().get("/").text)
    tokens = {}
    for link in links:
        module, token = link.split("/")[3:5]
        tokens.setdefault(module, set()).add(token)
    assert all(len(found) == 1 for found in tokens.values())
    css = [link for link in links if link.endswith("badge.css")][0]
    # badge.css says url(badge.png): resolved against the versioned stylesheet it stays versioned.
    image = css.rsplit("/", 1)[0] + "/badge.png"
    response = build().get(image)
    assert response.content_type == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_current_version_is_cached_forever_other_urls_briefly():
    app = build()
    versioned = [link for link in resource_links(app.get("/").text) if canonical(link) == BADGE][0]
    assert raw(app, versioned).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert raw(app, BADGE).headers["Cache-Control"] == "public, max-age=3600"
    # A token of other content (an older deploy, another server): the file, never for long.
    stale = versioned.replace(versioned.split("/")[4], "v000000000000")
    response = raw(app, stale)
    assert response.status_int == 200
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.body == raw(app, versioned).body


def test_short_max_age_is_configurable():
    app = build(**{"resources.max_age": "60"})
    app.get("/")
    assert raw(app, BADGE).headers["Cache-Control"] == "public, max-age=60"


def test_development_revalidates_everything():
    app = build(debug="true")
    versioned = [link for link in resource_links(app.get("/").text) if canonical(link) == BADGE][0]
    response = raw(app, versioned)
    assert response.headers["Cache-Control"] == "no-cache"
    assert raw(app, versioned, If_None_Match=response.headers["ETag"]).status_int == 304


def test_token_follows_content_not_file_times(tmp_path):
    name = distributions.unique("versioned")
    distributions.install(tmp_path, name, {"%s/__init__.py" % name: "", "%s/static/a.js" % name: "one"})
    directory = str(tmp_path / name)
    first = directory_token(directory)
    later = time.time() + 100
    os.utime(os.path.join(directory, "static", "a.js"), (later, later))
    assert directory_token(directory) == first  # same bytes, same URL on every server
    with open(os.path.join(directory, "static", "a.js"), "w") as f:
        f.write("two")
    assert directory_token(directory) != first
    with open(os.path.join(directory, "static", "new.css"), "w") as f:
        f.write("")
    assert len({first, directory_token(directory)}) == 2
    assert Versions().token(name) == directory_token(directory)


def test_code_and_byte_code_do_not_change_the_token(tmp_path):
    name = distributions.unique("codeonly")
    distributions.install(tmp_path, name, {"%s/__init__.py" % name: "", "%s/static/a.js" % name: "one"})
    directory = str(tmp_path / name)
    first = directory_token(directory)
    with open(os.path.join(directory, "__init__.py"), "w") as f:
        f.write("changed = True\n")
    os.makedirs(os.path.join(directory, "__pycache__"), exist_ok=True)
    with open(os.path.join(directory, "__pycache__", "x.pyc"), "wb") as f:
        f.write(b"\0")
    assert directory_token(directory) == first


def test_base_url_starts_every_link():
    app = build(**{"resources.base_url": "https://cdn.example.com/"})
    links = resource_links(app.get("/").text, prefix="https://cdn.example.com/tw2/resources/")
    assert len(links) > 3
    assert len(links) == len(resource_links(build().get("/").text))
    assert all(re.match(r"^https://cdn\.example\.com/tw2/resources/[^/]+/v[0-9a-f]{12}/", link) for link in links)


def test_links_follow_the_mount_point_of_the_application():
    app = build(extra_environ={"SCRIPT_NAME": "/blog"})
    links = resource_links(app.get("/").text, prefix="/blog/tw2/resources/")
    assert links
    for link in links:
        assert app.get(link[len("/blog"):]).status_int == 200  # PATH_INFO, below the mount point


@pytest.mark.parametrize("value", ["cdn.example.com", "ftp://cdn.example.com", "https://", "https://cdn example.com"])
def test_bad_base_url_refused(value):
    from tgext_resources import ConfigError

    with pytest.raises(ConfigError) as error:
        build(**{"resources.base_url": value})
    assert "resources.base_url = %r is not valid" % value in str(error.value)
