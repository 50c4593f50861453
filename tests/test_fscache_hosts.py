"""The filesystem cache writes a page at the URL's path, and the front server sends it to
every host: a page made for a Host that is no plain host name is not written."""
from tg import expose, request

from tgext_resources import fs_cached

from tests.apps import RootController, build


class Root(RootController):
    @expose(content_type="text/html")
    @fs_cached()
    def about(self):
        return '<html><head></head><body><a href="%s/login">log in</a></body></html>' % request.host_url


def test_a_page_made_for_a_forged_host_is_not_written_for_everyone(tmp_path):
    app = build(root=Root(), **{"fscache.dir": str(tmp_path)})
    # Without a front server (or with one passing the Host as it came), the application sees it.
    forged = app.get("/about", headers={"Host": "site.example:@evil.example"})
    assert "evil.example/login" in forged.text  # the page made for that request...
    assert not (tmp_path / "about.html").exists()  # ...is not written for everyone
    app.get("/about", headers={"Host": "site.example"})
    assert "http://site.example/login" in (tmp_path / "about.html").read_text()
