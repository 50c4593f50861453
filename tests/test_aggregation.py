"""tgext-resources aggregate, and the bundles it writes served in place of their members."""
import base64
import gzip
import hashlib
import importlib
import io
import os
import re
import types

import pytest
import webob
from tg import expose

from tgext_resources import cli
from tgext_resources.mapping import parse

from tests import distributions
from tests.apps import RootController, build, css_references

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)

LIBRARY = '''
import tw2.core as twc

lib_js = twc.JSLink(modname=__name__, filename="static/lib.js")
plugin_js = twc.JSLink(modname=__name__, filename="static/plugin.js", resources=[lib_js])
lib_css = twc.CSSLink(modname=__name__, filename="static/css/lib.css")
print_css = twc.CSSLink(modname=__name__, filename="static/css/print-only.css", media="print")
lang_de = twc.JSLink(modname=__name__, filename="static/lang/de.js", resources=[plugin_js])
a_js = twc.JSLink(modname=__name__, filename="static/a.js")
b_js = twc.JSLink(modname=__name__, filename="static/b.js")
extra_js = twc.JSLink(modname=__name__, filename="static/extra.js")


class Plugin(twc.Widget):
    template = "tests.testsite.widgets.templates.badge"
    resources = [plugin_js, lib_css, print_css]
    text = twc.Param(default="plugin")


class NeedsB(twc.Widget):  # found before ListsAThenB: b.js is seen first
    template = "tests.testsite.widgets.templates.badge"
    resources = [b_js]


class ListsAThenB(twc.Widget):
    template = "tests.testsite.widgets.templates.badge"
    resources = [a_js, b_js, extra_js]


class NeedsParameters(twc.Widget):
    template = "tests.testsite.widgets.templates.badge"
    options = twc.Param("required, so it cannot be prepared blindly")
    resources = [lang_de]


def refuse_everything(resource):
    return False
'''

LIBRARY_FILES = {
    # Strict: must not make the files after it strict.  No newline after its last comment.
    "static/lib.js": "'use strict';\nwindow.order = (window.order || []).concat(['lib']); // no newline at the end",
    # Sloppy: assigning an undeclared name throws in strict mode.  Starts with "(".
    "static/plugin.js": "(function () { pluginLoaded = true; window.order = window.order.concat(['plugin']); })()",
    "static/a.js": "window.order = window.order.concat(['a'])",
    "static/b.js": "window.order = window.order.concat(['b'])\n//# sourceMappingURL=b.js.map",
    "static/extra.js": "window.extra = true;",
    "static/lang/de.js": "window.lang = 'de';",
    "static/css/lib.css": '''@charset "utf-8";
@import "parts/base.css";
@import url(parts/print.css) print;
@import url("https://fonts.example.org/font.css");
.a { background: url(../images/dot.png) }
.b { background: url("../images/dot.png?v=2#x") }
.c { background: url(data:image/png;base64,iVBORw0KGgo=) }
.d { background: url(https://cdn.example.org/x.png) }
.e { background: url(/static/root.png) }
.f { filter: url(#blur) }
.g { background: url(../images/missing.png) }
.h:after { content: "url(not-a-url.png)" }
/* url(commented-out.png) */
''',
    "static/css/parts/base.css": ".base { background: url(../../images/dot.png) }\n",
    "static/css/parts/print.css": ".print { color: black }\n",
    "static/css/print-only.css": ".screen-only { display: none }\n",
    "static/images/dot.png": PNG,
}


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """A widget library and two sites using it, installed as real distributions."""
    root = tmp_path_factory.mktemp("dists")
    lib, site, other = distributions.unique("agglib"), distributions.unique("aggsite"), distributions.unique("aggother")
    files = {"%s/__init__.py" % lib: LIBRARY}
    files.update({"%s/%s" % (lib, name): content for name, content in LIBRARY_FILES.items()})
    with distributions.importable(root):
        # The library's own filter refuses everything: only the distributions given count.
        distributions.install(root, lib, files, widgets=lib, aggregation_filter="%s:refuse_everything" % lib)
        distributions.install(root, site, {
            "%s/__init__.py" % site: '''
                def keep_in_bundle(resource):
                    return "/lang/" not in resource.filename
            ''',
            "%s/public/__init__.py" % site: "",
        }, requires=[lib], widgets=lib, aggregation_filter="%s:keep_in_bundle" % site)
        distributions.install(root, other, {
            "%s/__init__.py" % other: '''
                def keep_in_bundle(resource):
                    return not resource.filename.endswith("extra.js")
            ''',
        }, requires=[lib], aggregation_filter="%s:keep_in_bundle" % other)
        yield types.SimpleNamespace(
            root=root, lib=lib, site=site, other=other,
            library=importlib.import_module(lib), package=importlib.import_module(site),
            output=os.path.join(str(root), site, "public", "aggregated"),
        )


def run_aggregate(*argv):
    out, err = io.StringIO(), io.StringIO()
    args = cli.parser().parse_args(["aggregate", *argv])
    code = cli.run("aggregate", args, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def aggregated(dists):
    code, out, err = run_aggregate("-d", dists.site, "-d", dists.other, "--package", dists.site, "-o", dists.output)
    assert code == 0, err
    aggregated_hash = out.splitlines()[-1].split(" = ")[1]
    with open(os.path.join(dists.output, aggregated_hash + ".mapping")) as f:
        mapping = parse(f.read(), "mapping")
    return types.SimpleNamespace(hash=aggregated_hash, out=out, err=err, mapping=mapping)


def members(mapping, kind):
    return [m.filename for m in mapping.bundles[kind].members]


def bundle_text(dists, mapping, kind, minified=False):
    bundle = mapping.bundles[kind]
    with open(os.path.join(dists.output, bundle.minified if minified else bundle.plain), encoding="utf-8") as f:
        return f.read()


# -- the command ------------------------------------------------------------------------------

def test_prints_every_file_it_created_then_the_hash_last(dists, aggregated):
    lines = aggregated.out.splitlines()
    assert re.fullmatch(r"aggregated_hash = [0-9a-f]{16}", lines[-1])
    for path in lines[:-1]:
        assert os.path.isfile(path), path
        assert os.path.commonpath([path, dists.output]) == dists.output
    names = [os.path.basename(p) for p in lines[:-1]]
    assert aggregated.hash + ".mapping" in names
    assert sorted(aggregated.mapping.bundles) == ["css", "js"]
    for bundle in aggregated.mapping.bundles.values():
        assert bundle.plain in names and bundle.minified in names
        assert bundle.minified + ".gz" in names


def test_files_are_named_by_their_content(dists, aggregated):
    assert sorted(aggregated.mapping.bundles) == ["css", "js"]
    for bundle in aggregated.mapping.bundles.values():
        for name in (bundle.plain, bundle.minified):
            with open(os.path.join(dists.output, name), "rb") as f:
                assert name.startswith(hashlib.sha256(f.read()).hexdigest()[:16])


def test_running_again_gives_the_same_hash(dists, aggregated):
    code, out, _ = run_aggregate("-d", dists.other, "-d", dists.site, "--package", dists.site, "-o", dists.output)
    assert code == 0
    assert out.splitlines()[-1] == "aggregated_hash = %s" % aggregated.hash


def test_filters_of_every_given_distribution_must_all_accept(dists, aggregated):
    js = members(aggregated.mapping, "js")
    assert "static/lang/de.js" not in js  # refused by the site's filter only
    assert "static/extra.js" not in js  # refused by the other site's filter only
    assert "static/plugin.js" in js  # accepted by both; the library's own filter is not consulted
    assert "kept out by %s:resource_aggregation_filter: %s static/lang/de.js" % (dists.site, dists.lib) in aggregated.err
    assert "kept out by %s:resource_aggregation_filter: %s static/extra.js" % (dists.other, dists.lib) in aggregated.err


def test_scripts_come_in_dependency_order_whatever_the_order_widgets_were_found(aggregated):
    js = members(aggregated.mapping, "js")
    assert js.index("static/lib.js") < js.index("static/plugin.js")  # declared dependency
    assert js.index("static/a.js") < js.index("static/b.js")  # listed before it by a widget


def test_print_stylesheets_keep_their_own_link(aggregated):
    assert members(aggregated.mapping, "css") == ["static/css/lib.css"]


def test_widgets_that_need_parameters_get_a_line_not_an_error(aggregated):
    assert re.search(r"skipped \S+NeedsParameters: ValueError: 'options' is a required Parameter", aggregated.err)


def test_separators_keep_a_files_last_line_out_of_the_next(dists, aggregated):
    plain = bundle_text(dists, aggregated.mapping, "js")
    assert plain.startswith("/* tgext.resources bundle of ")
    assert "// no newline at the end\n;\n" in plain
    assert "sourceMappingURL" not in plain
    assert bundle_text(dists, aggregated.mapping, "js", minified=True).startswith(";")


def test_stylesheet_references_point_at_the_files_the_originals_meant(dists, aggregated):
    css = bundle_text(dists, aggregated.mapping, "css")
    dot = "assets/dot-%s.png" % hashlib.sha256(PNG).hexdigest()[:12]
    inline = "data:image/png;base64,%s" % base64.b64encode(PNG).decode()  # small: in the bundle itself
    assert '.a { background: url("%s") }' % inline in css
    assert '.b { background: url("%s?v=2#x") }' % dot in css  # a fragment: never inlined (test_css_inlining.py)
    assert '.base { background: url("%s") }' % inline in css  # inlined @import, resolved from its own place
    with open(os.path.join(dists.output, *dot.split("/")), "rb") as f:
        assert f.read() == PNG
    for untouched in (
        "url(data:image/png;base64,iVBORw0KGgo=)", "url(https://cdn.example.org/x.png)",
        "url(/static/root.png)", "url(#blur)", 'content: "url(not-a-url.png)"', "/* url(commented-out.png) */",
        "url(../images/missing.png)",
    ):
        assert untouched in css


def test_imports_are_inlined_or_moved_to_the_top_and_charsets_dropped(dists, aggregated):
    css = bundle_text(dists, aggregated.mapping, "css")
    assert "@media print {\n.print { color: black }" in css
    first_rule = css.index("{")
    assert css.index('@import url("https://fonts.example.org/font.css");') < first_rule
    assert "@charset" not in css
    assert css.count("@import") == 1


def test_missing_reference_is_reported_naming_both_files(dists, aggregated):
    stylesheet = os.path.join(dists.output.split(os.sep + dists.site)[0], dists.lib, "static", "css", "lib.css")
    missing = os.path.join(os.path.dirname(os.path.dirname(stylesheet)), "images", "missing.png")
    assert "%s: ../images/missing.png refers to %s, which does not exist" % (stylesheet, missing) in aggregated.err


def test_minified_bundles_are_smaller(dists, aggregated):
    for kind in ("js", "css"):
        assert len(bundle_text(dists, aggregated.mapping, kind, True)) < len(bundle_text(dists, aggregated.mapping, kind))


# -- errors: one line, non-zero exit, no traceback ---------------------------------------------

def assert_one_line_error(code, out, err, expected):
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert lines[-1].startswith("tgext-resources aggregate: error: ")
    assert expected in lines[-1]
    assert "Traceback" not in err


def test_unknown_distribution(dists):
    assert_one_line_error(*run_aggregate("-d", "NoSuchDistribution", "--package", dists.site, "-o", dists.output),
                          "unknown distribution 'NoSuchDistribution': it is not installed")


def test_distribution_with_no_widgets(dists):
    assert_one_line_error(*run_aggregate("-d", "webob", "--package", dists.site, "-o", dists.output),
                          "webob declares no widgets: neither it nor its dependencies have a [tw2.widgets] entry point")
    assert_one_line_error(*run_aggregate("-d", "webob", "--package", dists.site, "-o", dists.output),
                          "then install the application again (pip install -e .)")


def test_output_directory_outside_the_package(dists, tmp_path):
    assert_one_line_error(*run_aggregate("-d", dists.site, "--package", dists.site, "-o", str(tmp_path)),
                          "-o %s is outside package %s" % (tmp_path, dists.site))


def test_unreadable_resource(tmp_path):
    name = distributions.unique("aggbroken")
    distributions.install(tmp_path, name, {"%s/__init__.py" % name: '''
        import tw2.core as twc
        gone = twc.JSLink(modname=__name__, filename="static/gone.js")
    '''}, widgets=name)
    code, out, err = run_aggregate("-d", name, "--package", name, "-o", str(tmp_path / name / "public"))
    assert_one_line_error(code, out, err, "unreadable resource %s static/gone.js: no readable file at" % name)


# -- the aggregated host framework -----------------------------------------------------------

def site_root(dists):
    library = dists.library

    class Root(RootController):
        @expose("tests.testsite.templates.page")
        def index(self):
            analytics = library.twc.JSLink(link="https://cdn.example.org/analytics.js")
            return dict(title="aggregated", widgets=[analytics, library.Plugin, library.lang_de])

    return Root()


@pytest.fixture
def site(dists, aggregated, debug):
    return build(root=site_root(dists), package=dists.package, aggregated_hash=aggregated.hash, debug=debug)


def scripts(page):
    return [s.get("src") for s in page.html.select("head script[src]")]


def test_bundle_replaces_its_members_and_others_keep_their_place(site, aggregated, debug):
    page = site.get("/")
    bundle = aggregated.mapping.bundles["js"]
    name = bundle.plain if debug == "true" else bundle.minified
    bundle_url = "/tw2/resources/%s/public/aggregated/%s" % (aggregated.mapping.package, name)
    lang = [s for s in scripts(page) if s.endswith("static/lang/de.js")]
    assert scripts(page) == ["https://cdn.example.org/analytics.js", bundle_url] + lang
    assert len(lang) == 1  # not in the bundle: its own link, after the bundle it depends on
    stylesheets = [link["href"] for link in page.html.select("head link[rel=stylesheet]")]
    assert len(stylesheets) == 2 and stylesheets[0].startswith("/tw2/resources/%s/public/aggregated/" % aggregated.mapping.package)
    assert stylesheets[1].endswith("static/css/print-only.css")


def test_bundle_links_carry_the_integrity_of_what_is_served(site):
    page = site.get("/")
    for tag in page.html.select("script[integrity], link[integrity]"):
        body = site.get(tag.get("src") or tag.get("href")).body
        assert tag["integrity"] == "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
        assert tag["crossorigin"] == "anonymous"
    assert len(page.html.select("script[integrity], link[integrity]")) == 2


def test_bundles_are_cached_forever_and_sent_compressed(site, debug):
    url = site.get("/").html.select_one("script[integrity]")["src"]
    plain = site.get(url)
    # In development files change under the running application: always revalidate.
    expected = "no-cache" if debug == "true" else "public, max-age=31536000, immutable"
    assert plain.headers["Cache-Control"] == expected
    assert plain.headers["Vary"] == "Accept-Encoding"
    # Straight to the WSGI app: WebTest would decode the body and drop the header.
    packed = webob.Request.blank(url, headers={"Accept-Encoding": "gzip, deflate"}).get_response(site.app)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.body) == plain.body
    assert int(packed.headers["Content-Length"]) == len(packed.body) < len(plain.body)


def test_every_url_in_the_css_bundle_answers_200_with_an_image(site):
    url = site.get("/").html.select_one("link[integrity]")["href"]
    css = site.get(url).text
    base = url.rsplit("/", 1)[0]
    relative = [u for u in css_references(css) if not re.match(r"^([a-z]+:|/|#)", u)]
    assert relative
    for reference in relative:
        if "missing.png" in reference:
            continue  # missing in the original stylesheet too: reported by the command
        response = site.get("%s/%s" % (base, reference.split("?")[0].split("#")[0]))
        assert response.status_int == 200 and response.content_type == "image/png"


# -- start-up checks -------------------------------------------------------------------------

def test_hash_without_mapping_file_refuses_to_start(dists, aggregated):
    from tgext_resources import BundleError

    with pytest.raises(BundleError) as error:
        build(package=dists.package, aggregated_hash="0123456789abcdef")
    message = str(error.value)
    assert message.startswith("aggregated_hash = 0123456789abcdef: no mapping file ")
    assert os.path.join(dists.output, "0123456789abcdef.mapping") in message
    # The command to run, with this application's real names, and the hashes there are.
    assert "regenerate the bundles with `tgext-resources aggregate -d %s --package %s -o %s`" % (
        dists.site, dists.site, dists.output) in message
    assert "mapping files there now: " in message and aggregated.hash in message


@pytest.fixture
def copy_of(dists, aggregated):
    """Write a variant of the mapping under a new hash; returns that hash."""
    with open(os.path.join(dists.output, aggregated.hash + ".mapping")) as f:
        original = f.read()

    def make(transform):
        fake_hash = hashlib.sha256(transform(original).encode()).hexdigest()[:16]
        with open(os.path.join(dists.output, fake_hash + ".mapping"), "w") as f:
            f.write(transform(original))
        return fake_hash

    return make


def test_malformed_mapping_refuses_to_start(dists, copy_of):
    from tgext_resources import BundleError

    broken = copy_of(lambda text: text.replace("member = ", "member: ", 1))
    with pytest.raises(BundleError) as error:
        build(package=dists.package, aggregated_hash=broken)
    assert "aggregated_hash = %s: malformed mapping file: " % broken in str(error.value)
    assert "%s.mapping, line " % broken in str(error.value)


def test_mapping_naming_a_resource_the_app_no_longer_has_refuses_to_start(dists, copy_of):
    from tgext_resources import BundleError

    gone = copy_of(lambda text: text.replace("static/lib.js", "static/removed.js"))
    with pytest.raises(BundleError) as error:
        build(package=dists.package, aggregated_hash=gone)
    assert "the bundle contains %s static/removed.js, which the application no longer has" % dists.lib in str(error.value)


def test_member_changed_since_aggregation_refuses_to_start(dists, copy_of):
    from tgext_resources import BundleError

    stale = copy_of(lambda text: re.sub(r"member = [0-9a-f]{64} (\S+ static/lib.js)", "member = %s \\1" % ("0" * 64), text))
    with pytest.raises(BundleError) as error:
        build(package=dists.package, aggregated_hash=stale)
    assert "static/lib.js changed since the bundle was made" in str(error.value)


def test_missing_bundle_file_refuses_to_start(dists, copy_of):
    from tgext_resources import BundleError

    no_file = copy_of(lambda text: re.sub(r"minified = \S+\.min\.js", "minified = 0000000000000000.min.js", text))
    with pytest.raises(BundleError) as error:
        build(package=dists.package, aggregated_hash=no_file)
    assert "bundle file %s is missing" % os.path.join(dists.output, "0000000000000000.min.js") in str(error.value)


@pytest.mark.parametrize("minified", [False, True], ids=["plain", "minified"])
def test_bundled_scripts_run_in_a_browser_as_they_did_apart(browser, dists, aggregated, minified):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content("<html><head></head><body></body></html>")
    page.add_script_tag(content=bundle_text(dists, aggregated.mapping, "js", minified))
    assert errors == []
    assert page.evaluate("window.order") == ["lib", "plugin", "a", "b"]
    assert page.evaluate("window.pluginLoaded") is True
    page.close()
