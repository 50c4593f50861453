"""fs_cached writes a response only under an extension of its own type: the front server
types a file by its extension, so JSON or text echoing part of the URL, written at
``/x.html`` or ``/x.svg``, would become a page of the site for every visitor (stored XSS)."""
from tg import expose

from tgext_resources import fs_cached

from tests.apps import RootController, build

PAYLOAD = "<img src=x onerror=alert(document.cookie)>"


class Root(RootController):
    @expose("json")
    @fs_cached()
    def api(self, name):
        return dict(name=name)

    @expose(content_type="text/plain")
    @fs_cached()
    def note(self, name):
        return "note %s" % name


def test_json_is_never_written_as_an_html_page(tmp_path):
    app = build(root=Root(), **{"fscache.dir": str(tmp_path)})
    response = app.get("/api/%s.html" % PAYLOAD)
    assert response.content_type == "application/json"
    written = tmp_path / "api" / ("%s.html" % PAYLOAD)
    assert not written.exists(), written.read_text()


def test_plain_text_is_never_written_as_svg(tmp_path):
    app = build(root=Root(), **{"fscache.dir": str(tmp_path)})
    response = app.get("/note/x.svg")
    assert response.content_type == "text/plain"
    assert not (tmp_path / "note" / "x.svg").exists()


def test_behind_nginx_a_thumbnail_asked_as_html_is_never_served_as_html(tmp_path):
    """The sample app, deployed as the README says: one request for /thumbs/1.html leaves
    the PNG at thumbs/1.html, which nginx then serves itself, as text/html, to everyone."""
    import os

    from tests.conftest import require
    from tests.frontservers import NGINX, behind_nginx
    from tests.test_frontserver import fetch

    require(os.path.exists(NGINX), "nginx (Debian package nginx)")
    with behind_nginx(tmp_path, fscache=True) as front:
        status, headers, _ = fetch(front.nginx.url + "/thumbs/1.html")
        assert status == 200 and headers["Content-Type"].startswith("image/png")
        written = os.path.join(front.cache, "thumbs", "1.html")
        again = fetch(front.nginx.url + "/thumbs/1.html")
        assert not os.path.exists(written), again[1].get("Content-Type")
