"""A stylesheet linked by itself (a CSSLink, no DirLink) brings the files it refers to by a
relative url(): served, versioned like it, exported; nothing outside its module."""
import os

import tw2.core as twc
from tg import expose

from tgext_resources.export import export, load_application

from tests import distributions
from tests.apps import RootController, build, css_references, resource_links
from tests.sample import write_ini

CSS = """
.a { background: url(img/x.png) }
.b { background: url("../shared/y.png?v=1#top") }
.c { background: url(data:image/png;base64,AAAA) }
.d { background: url(/root.png) }
.e { background: url(../../outside.png) }
.f { background: url(missing.png) }
@import "more.css";
"""


def styled_module(root):
    name = distributions.unique("styled")
    distributions.install(root, name, {
        "%s/__init__.py" % name: "",
        "%s/static/app.css" % name: CSS,
        "%s/static/more.css" % name: ".m { color: red }",
        "%s/static/img/x.png" % name: b"\x89PNG x",
        "%s/shared/y.png" % name: b"\x89PNG y",
        "%s/static/img/unused.png" % name: b"\x89PNG unused",
    })
    with open(os.path.join(str(root), "outside.png"), "wb") as f:
        f.write(b"\x89PNG outside")
    return name, twc.CSSLink(modname=name, filename="static/app.css")


def app_showing(link):
    class Root(RootController):
        @expose()
        def styled(self):
            link.inject()
            return "<html><head></head><body>styled</body></html>"

    return build(root=Root())


def test_files_a_stylesheet_refers_to_are_served_next_to_it(tmp_path):
    name, link = styled_module(tmp_path)
    app = app_showing(link)
    css_url = resource_links(app.get("/styled").text)[0]
    module, _, _ = css_url.partition("/static/app.css")
    assert module.startswith("/tw2/resources/%s/v" % name)  # versioned
    # Where the browser resolves each url() of the stylesheet, with the same version.
    assert app.get(module + "/static/img/x.png").body == b"\x89PNG x"
    assert app.get(module + "/shared/y.png").body == b"\x89PNG y"
    assert app.get(module + "/static/more.css").text == ".m { color: red }"
    # Only what it refers to.
    assert app.get(module + "/static/img/unused.png", status=404)
    assert app.get(module + "/static/missing.png", status=404)
    references = css_references(app.get(css_url).text)
    assert "../../outside.png" in references  # left as written: the browser gets a 404 for it


def test_export_writes_them_for_the_front_server(tmp_path):
    name, _ = styled_module(tmp_path / "dist")
    output = tmp_path / "out"
    export(load_application(write_ini(tmp_path, debug="false")), str(output))
    module = output / "tw2" / "resources" / name
    exported = {os.path.relpath(os.path.join(d, f), str(module)).replace(os.sep, "/")
                for d, _, files in os.walk(str(module)) for f in files}
    unversioned = {path for path in exported if not path.startswith("v")}
    assert {"static/app.css", "static/img/x.png", "shared/y.png", "static/more.css"} <= unversioned
    assert "static/img/unused.png" not in unversioned
