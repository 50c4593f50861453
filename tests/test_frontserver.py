"""The exported resources served by a real nginx and Apache with the generated configuration."""
import email.utils
import gzip
import os
import time
import urllib.error
import urllib.request

import pytest

from tests.apps import css_references, resource_links
from tests.commands import run_python
from tests.conftest import require
from tests.frontservers import APACHECTL, NGINX, behind_nginx, running_apache, webserver_config


def fetch(url, **headers):
    """(status, headers (case-insensitive), body) of a GET."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def front(tmp_path_factory, sample_aggregation):
    """The sample app (bundles on), its resources exported, and nginx in front of both."""
    require(os.path.exists(NGINX), "nginx (Debian package nginx)")
    with behind_nginx(tmp_path_factory.mktemp("front"), aggregated_hash=sample_aggregation) as deployed:
        yield deployed


def page_resources(base, page):
    """Every resource URL the page links, and every file its stylesheets refer to."""
    status, _, body = fetch(base + page)
    assert status == 200
    urls = resource_links(body.decode("utf-8"))
    for url in list(urls):
        if url.endswith(".css"):
            directory = url.rsplit("/", 1)[0]
            urls += ["%s/%s" % (directory, ref.split("?")[0].split("#")[0])
                     for ref in css_references(fetch(base + url)[2].decode("utf-8")) if "://" not in ref and not ref.startswith("/")]
    return urls


def test_export_prints_a_summary(front):
    assert "Exported " in front.summary and " files (" in front.summary
    assert "versioned links" in front.summary


@pytest.mark.parametrize("page", ["/", "/gallery"])
def test_every_resource_through_nginx_is_the_apps_with_the_same_caching_headers(front, page):
    urls = page_resources(front.nginx.url, page)
    assert len(urls) > 3
    for url in urls:
        status, headers, body = fetch(front.nginx.url + url)
        app_status, app_headers, app_body = fetch(front.app.url + url)
        assert (status, app_status) == (200, 200), url
        assert body == app_body, url
        for header in ("Cache-Control", "Content-Type", "Last-Modified", "ETag"):
            assert headers.get(header) == app_headers.get(header), (url, header)
        assert headers.get("Accept-Ranges") == "bytes", url  # from the disk, not proxied to the app


def test_versioned_resources_and_bundles_are_cached_forever_through_nginx(front):
    urls = page_resources(front.nginx.url, "/gallery")
    forever = [u for u in urls if fetch(front.nginx.url + u)[1]["Cache-Control"] == "public, max-age=31536000, immutable"]
    assert len(forever) == len(urls)
    assert any("/public/aggregated/" in u for u in forever)  # the bundles
    assert any(u.endswith("calendar-en.js") for u in forever)  # a versioned resource outside them


def test_nginx_sends_the_precompressed_sibling(front):
    bundle = [u for u in page_resources(front.nginx.url, "/") if u.endswith(".min.js")][0]
    status, headers, body = fetch(front.nginx.url + bundle, **{"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(body) == fetch(front.app.url + bundle)[2]


def exported(front, url):
    """The file the export wrote for ``url``."""
    return os.path.join(front.export, *url.lstrip("/").split("/"))


def etag_of(path):
    """The ETag nginx computes for a file: its modification time and size, in hex."""
    st = os.stat(path)
    return '"%x-%x"' % (int(st.st_mtime), st.st_size)


def test_nginx_gives_the_gzip_sibling_validators_of_its_own(front):
    url = [u for u in page_resources(front.nginx.url, "/gallery") if u.endswith("calendar-en.js")][0]
    plain = fetch(front.nginx.url + url)[1]
    packed = fetch(front.nginx.url + url, **{"Accept-Encoding": "gzip"})[1]
    assert packed["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    # Two representations, two strong validators (RFC 9110, 8.8.3): the file sent's own.
    assert plain["ETag"] == etag_of(exported(front, url))
    assert packed["ETag"] == etag_of(exported(front, url) + ".gz") != plain["ETag"]
    status, headers, body = fetch(front.nginx.url + url, **{"Accept-Encoding": "gzip", "If-None-Match": packed["ETag"]})
    assert (status, body) == (304, b"") and headers["ETag"] == packed["ETag"]


def test_gzip_siblings_of_bundles_have_other_validators_in_nginx_and_the_app(front):
    """What the README says under "Validators of compressed files": the application sends
    ``.gz`` siblings only where the package has them (the bundles); nginx tags a sibling by
    its own date and size, and no configuration changes that, while the publisher tags it by
    its original's.  A client moving between the two downloads the file once more."""
    bundle = [u for u in page_resources(front.nginx.url, "/") if "/aggregated/" in u and u.endswith(".js")][0]
    nginx = fetch(front.nginx.url + bundle, **{"Accept-Encoding": "gzip"})[1]
    app = fetch(front.app.url + bundle, **{"Accept-Encoding": "gzip"})[1]
    assert nginx["Content-Encoding"] == app["Content-Encoding"] == "gzip"
    sibling = exported(front, bundle) + ".gz"
    assert nginx["ETag"] == etag_of(sibling)
    assert nginx["Last-Modified"] == email.utils.formatdate(int(os.stat(sibling).st_mtime), usegmt=True)
    assert app["ETag"] != fetch(front.app.url + bundle)[1]["ETag"]  # the app too tells the two apart
    assert nginx["ETag"] != app["ETag"], "nginx and the application agree now: update the README and this test"


def test_nginx_does_not_pass_on_the_pragma_header_of_the_application(front):
    status, headers, _ = fetch(front.nginx.url + "/")
    assert status == 200 and headers["Cache-Control"] == fetch(front.app.url + "/")[1]["Cache-Control"]
    assert "Pragma" not in headers  # a request header (RFC 9111, 5.4); Cache-Control says it


def test_a_version_nginx_does_not_have_goes_to_the_app_and_is_cached_briefly(front):
    url = [u for u in page_resources(front.nginx.url, "/gallery") if u.endswith("calendar-en.js")][0]
    module, token = url.split("/")[3:5]
    old = url.replace("/%s/" % token, "/v000000000000/")
    status, headers, body = fetch(front.nginx.url + old)
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=3600"
    assert body == fetch(front.nginx.url + url)[2]


@pytest.mark.parametrize("path", [
    "/tw2/resources/../../etc/passwd", "/tw2/resources/%2e%2e/%2e%2e/etc/passwd",
    "/tw2/resources/tw2.jquery/static/%00.js", "/tw2/resources/tw2.jquery/static/",
    "/tw2/resources/sampleapp/config/app_cfg.py",
])
def test_hostile_paths_through_nginx_get_400_or_404(front, path):
    status, _, body = fetch(front.nginx.url + path)
    assert status in (400, 404), (path, status)
    assert b"root:" not in body and b"import" not in body


def test_resources_are_still_served_with_the_application_stopped(tmp_path, sample_aggregation):
    require(os.path.exists(NGINX), "nginx (Debian package nginx)")
    with behind_nginx(tmp_path, aggregated_hash=sample_aggregation) as front:
        urls = page_resources(front.nginx.url, "/gallery")
        assert len(urls) > 3
        expected = {url: fetch(front.app.url + url)[2] for url in urls}
        front.app.stop()
        assert fetch(front.nginx.url + "/gallery")[0] == 502  # the page needs the application...
        for url in urls:  # ...its resources do not
            status, _, body = fetch(front.nginx.url + url)
            assert status == 200 and body == expected[url], url


# -- Apache ------------------------------------------------------------------------------------

def test_apache_configuration_passes_apache2ctl_t_and_serves_the_export(front, tmp_path):
    require(os.path.exists(APACHECTL), "Apache (Debian package apache2)")
    urls = page_resources(front.nginx.url, "/gallery")
    assert len(urls) > 3
    with running_apache(str(tmp_path), webserver_config("apache", front.app, front.export)) as base:
        for url in urls:
            status, headers, body = fetch(base + url)
            app_headers, app_body = fetch(front.app.url + url)[1:]
            assert status == 200 and body == app_body, url
            assert headers.get("Accept-Ranges") == "bytes", url  # from the disk, not proxied
            assert headers["Cache-Control"] == app_headers["Cache-Control"], url
            assert headers["Content-Type"] == app_headers["Content-Type"], url


# -- the filesystem cache through the front server ---------------------------------------------

@pytest.fixture
def fscache_front(tmp_path):
    """The sample app writing its filesystem cache where nginx (as www-data) can read it."""
    require(os.path.exists(NGINX), "nginx (Debian package nginx)")
    with behind_nginx(tmp_path, fscache=True) as deployed:
        yield deployed


def answered_by(log, path, count):
    """For the ``count`` requests of ``path`` in nginx's log: "disk" or "application" each.

    nginx logs a request once it has answered it: wait a little for the last lines."""
    deadline = time.time() + 5
    while True:
        with open(log) as f:
            found = ["disk" if line.split()[2] == "-" else "application" for line in f if line.split()[0] == path]
        if len(found) >= count or time.time() > deadline:
            return found
        time.sleep(0.05)


def test_filesystem_cache_is_served_by_nginx_even_with_the_application_stopped(fscache_front):
    front = fscache_front
    first = fetch(front.nginx.url + "/thumbs/1.png")
    second = fetch(front.nginx.url + "/thumbs/1.png")
    assert first[0] == second[0] == 200 and first[2] == second[2]
    assert first[2].startswith(b"\x89PNG")
    assert answered_by(front.log, "/thumbs/1.png", 2) == ["application", "disk"]
    page = fetch(front.nginx.url + "/images")
    assert fetch(front.nginx.url + "/images")[2] == page[2]
    assert answered_by(front.log, "/images", 2) == ["application", "disk"]
    fetch(front.nginx.url + "/thumbs/1.png?size=2")  # a query string: always the application
    assert answered_by(front.log, "/thumbs/1.png?size=2", 1) == ["application"]
    front.app.stop()
    assert fetch(front.nginx.url + "/thumbs/1.png")[2] == first[2]
    status, headers, body = fetch(front.nginx.url + "/images")
    assert status == 200 and body == page[2] and headers["Content-Type"] == "text/html; charset=utf-8"


def test_filesystem_cache_files_are_sent_with_the_cache_control_of_the_application(fscache_front):
    front = fscache_front
    for path in ("/thumbs/1.png", "/images"):
        from_app = fetch(front.nginx.url + path)[1]
        from_disk = fetch(front.nginx.url + path)[1]
        assert answered_by(front.log, path, 2) == ["application", "disk"]
        assert from_disk["Cache-Control"] == from_app["Cache-Control"] == "no-cache", path
        # no-cache: revalidated on every use, which the disk's validators make a 304.
        status, headers, body = fetch(front.nginx.url + path, **{"If-None-Match": from_disk["ETag"]})
        assert (status, body, headers["Cache-Control"]) == (304, b"", "no-cache"), path


def test_after_invalidation_nginx_asks_the_application_again(fscache_front):
    front = fscache_front
    fetch(front.nginx.url + "/thumbs/2.png")
    assert os.path.isfile(os.path.join(front.cache, "thumbs", "2.png"))
    # A background job with the application's configuration drops the file...
    job = run_python(
        "from tgext_resources.export import load_application; load_application(%r); "
        "from tgext_resources import fscache; print(fscache.invalidate('/thumbs/2.png'))" % front.app.ini)
    assert job.returncode == 0, job.stderr
    assert not os.path.exists(os.path.join(front.cache, "thumbs", "2.png"))
    # ...so nginx falls through to the application, which writes it again.
    assert fetch(front.nginx.url + "/thumbs/2.png")[0] == 200
    fetch(front.nginx.url + "/thumbs/2.png")
    assert answered_by(front.log, "/thumbs/2.png", 3) == ["application", "application", "disk"]


def test_apache_serves_the_filesystem_cache_too(fscache_front, tmp_path):
    require(os.path.exists(APACHECTL), "Apache (Debian package apache2)")
    front = fscache_front
    fetch(front.nginx.url + "/thumbs/3.png")
    fetch(front.nginx.url + "/images")
    with running_apache(str(tmp_path), webserver_config("apache", front.app, front.export)) as base:
        status, headers, _ = fetch(base + "/")  # proxied to the application
        assert status == 200 and headers["Cache-Control"] == "no-cache" and "Pragma" not in headers
        front.app.stop()
        status, headers, body = fetch(base + "/thumbs/3.png")
        assert status == 200 and body.startswith(b"\x89PNG") and headers["Content-Type"] == "image/png"
        assert headers["Cache-Control"] == "no-cache" and headers.get("Accept-Ranges") == "bytes"  # from the disk
        status, headers, body = fetch(base + "/images")
        assert status == 200 and b"<h1>Images</h1>" in body and headers["Cache-Control"] == "no-cache"
        assert fetch(base + "/thumbs/3.png?x=1")[0] in (502, 503)  # a query string goes to the (stopped) application
