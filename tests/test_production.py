"""README's production deployment, step by step: bundles, Redis caches, the filesystem cache,
`export`, gunicorn with several workers (``--preload``), the generated nginx block with TLS,
HTTP/2 and brotli; then the checks README's last step makes."""
import os
import re
import subprocess

import brotli
import pytest
import redis

from tests.backends import start_redis
from tests.commands import command
from tests.frontservers import readable_directory, start_nginx, webserver_config
from tests.sample import free_port, serving_gunicorn
from tests.test_frontserver_tls import CURL, make_certificate, require_tls_nginx

GUNICORN = ["--workers", "2", "--worker-class", "gthread", "--threads", "4", "--preload"]


def curl(url, *options):
    """(headers as one lower-case text, body bytes) of ``url`` fetched by curl over HTTP/2."""
    result = subprocess.run([CURL, "-sS", "-k", "--http2", "-D", "-", "-o", "-", *options, url],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    headers, _, body = result.stdout.partition(b"\r\n\r\n")
    return headers.decode("latin-1").lower(), body


@pytest.fixture(scope="module")
def production(tmp_path_factory, sample_aggregation):
    require_tls_nginx()
    directory = tmp_path_factory.mktemp("production")
    certificate = make_certificate(str(directory))
    redis_server = start_redis(directory)
    try:
        with readable_directory() as readable:
            export, cache = os.path.join(readable, "static"), os.path.join(readable, "fscache")
            options = {
                "aggregated_hash": sample_aggregation,
                "beaker.cache.regions": "default",
                "beaker.cache.default.type": "ext:redis",
                "beaker.cache.default.url": redis_server.url,
                "fscache.dir": cache,
            }
            with serving_gunicorn(directory / "app", GUNICORN, **options) as app:
                command("export", "-c", app.ini, "-o", export)
                tls_port = free_port()
                config = webserver_config("nginx", app, export, ("127.0.0.1",), options=(
                    "--tls-cert", certificate[0], "--tls-key", certificate[1], "--tls-listen", str(tls_port)))
                nginx = start_nginx(str(directory), config, tls_port=tls_port)
                try:
                    yield type("Production", (), dict(app=app, nginx=nginx, redis=redis_server, cache=cache,
                                                      export=export, tls_port=tls_port))
                finally:
                    nginx.stop()
    finally:
        redis_server.stop()


def test_pages_come_over_http2_with_their_preload_hints(production):
    headers, body = curl(production.nginx.url + "/gallery")
    assert headers.startswith("http/2 200")
    hinted = re.findall(r"^link: <([^>]+)>; rel=preload; as=(?:script|style); crossorigin; integrity=", headers, re.M)
    assert len(hinted) == 2  # the two bundles
    assert all(url.encode() in body for url in hinted)


def test_bundles_come_from_the_disk_brotli_compressed_and_immutable(production):
    headers, _ = curl(production.nginx.url + "/gallery")
    bundle = re.search(r"^link: <([^>]+\.js)>", headers, re.M).group(1)
    plain_headers, plain = curl(production.nginx.url + bundle)
    br_headers, compressed = curl(production.nginx.url + bundle, "-H", "Accept-Encoding: br")
    assert "content-encoding: br" in br_headers
    assert brotli.decompress(compressed) == plain
    assert "cache-control: public, max-age=31536000, immutable" in br_headers
    with open(production.export + bundle, "rb") as f:
        assert f.read() == plain  # the exported file itself


def test_plain_http_redirects_to_https_keeping_the_port_path_and_query(production):
    result = subprocess.run([CURL, "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                             production.nginx.http_url + "/gallery?page=2"], capture_output=True, text=True, timeout=60)
    status, location = result.stdout.split(" ", 1)
    assert status in ("301", "308")
    assert location == "https://127.0.0.1:%d/gallery?page=2" % production.tls_port


def test_the_workers_share_their_cached_pages_through_redis(production):
    for _ in range(4):  # two workers: whichever answers, the page is one entry
        assert curl(production.nginx.url + "/")[0].startswith("http/2 200")
    keys = redis.Redis.from_url(production.redis.url).keys("*")
    assert keys, "no page stored in Redis"


def test_a_filesystem_cached_page_is_then_served_by_nginx(production):
    first_headers, first = curl(production.nginx.url + "/images")
    assert os.path.exists(os.path.join(production.cache, "images.html"))
    second_headers, second = curl(production.nginx.url + "/images")
    assert second == first
    assert "server: nginx" in second_headers and "cache-control: no-cache" in second_headers


def test_resources_are_still_served_with_the_application_stopped(production):
    headers, _ = curl(production.nginx.url + "/gallery")
    bundles = re.findall(r"^link: <([^>]+/aggregated/[^>]+)>", headers, re.M)
    assert len(bundles) == 2  # the loop below checks both
    production.app.stop()
    for bundle in bundles:
        assert curl(production.nginx.url + bundle)[0].startswith("http/2 200")
    assert not curl(production.nginx.url + "/gallery")[0].startswith("http/2 200")  # the page needs it
