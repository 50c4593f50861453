"""Images and fonts a bundled stylesheet refers to, of at most ``--inline-limit`` bytes
(``resources.inline_limit``, 4096 by default), go into the CSS bundle as data: URIs; the
mapping names each one, and start-up notices when one changed, as it does for members."""
import base64
import hashlib
import importlib
import io
import os
import re
import types

import pytest
from tg import expose

from tgext_resources import BundleError, ConfigError, cli
from tgext_resources.bundles import Bundles
from tgext_resources.mapping import parse
from tgext_resources.publisher import Publisher

from tests import distributions
from tests.apps import RootController, build, css_references

DOT_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
AT_LIMIT = b"GIF89a" + b"\x00" * (4096 - 6)  # exactly the default limit
OVER_LIMIT = b"GIF89a" + b"\x00" * (4097 - 6)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><symbol id="star"><path d="M0 0h1v1z"/></symbol></svg>'
FONTS = {"woff2": b"wOF2" + b"\x01" * 60, "ttf": b"\x00\x01\x00\x00" + b"\x02" * 60, "eot": b"EOT!" + b"\x03" * 60}

STYLESHEET = '''
@import "parts/more.css";
.small { background: url(img/dot.png) }
.query { background: url("img/dot.png?v=1") }
.exact { background: url(img/at-limit.gif) }
.over { background: url(img/over-limit.gif) }
.svg { background: url(img/icons.svg) }
.sprite { background: url(img/icons.svg#star) }
.behaviour { behavior: url(pie.htc) }
.missing { background: url(img/missing.png) }
@font-face {
  font-family: "Tiny";
  src: url(fonts/tiny.eot);
  src: url(fonts/tiny.eot?#iefix) format("embedded-opentype"), url(fonts/tiny.woff2) format("woff2"),
       url(fonts/tiny.ttf) format("truetype");
}
'''

WIDGETS = '''
import tw2.core as twc

styles = twc.CSSLink(modname=__name__, filename="static/styles.css")


class Styled(twc.Widget):
    template = "tests.testsite.widgets.templates.badge"
    resources = [styles]
    text = twc.Param(default="styled")
'''


def site_files(name):
    files = {
        "__init__.py": WIDGETS,
        "public/__init__.py": "",
        "static/styles.css": STYLESHEET,
        "static/parts/more.css": ".more { background: url(../img/dot.png) }\n",
        "static/img/dot.png": DOT_PNG,
        "static/img/at-limit.gif": AT_LIMIT,
        "static/img/over-limit.gif": OVER_LIMIT,
        "static/img/icons.svg": SVG,
        "static/pie.htc": b"<public:component/>",
    }
    files.update({"static/fonts/tiny.%s" % extension: data for extension, data in FONTS.items()})
    return {"%s/%s" % (name, path): content for path, content in files.items()}


def install_site(root):
    """A site whose widget's stylesheet refers to images and fonts; its package and files."""
    name = distributions.unique("inlinesite")
    distributions.install(root, name, site_files(name), widgets=name)
    return types.SimpleNamespace(name=name, package=importlib.import_module(name), static=os.path.join(str(root), name, "static"))


def run_aggregate(site, directory="public/aggregated", *options):
    out, err = io.StringIO(), io.StringIO()
    output = os.path.join(os.path.dirname(site.package.__file__), *directory.split("/"))
    args = cli.parser().parse_args(["aggregate", "-d", site.name, "--package", site.name, "-o", output, *options])
    code = cli.run("aggregate", args, out, err)
    return code, out.getvalue(), err.getvalue(), output


def aggregated(site, directory="public/aggregated", *options):
    code, out, err, output = run_aggregate(site, directory, *options)
    assert code == 0, err
    aggregated_hash = out.splitlines()[-1].split(" = ")[1]
    with open(os.path.join(output, aggregated_hash + ".mapping")) as f:
        mapping = parse(f.read(), "mapping")
    bundle = mapping.bundles["css"]
    texts = {}
    for label, name in (("plain", bundle.plain), ("minified", bundle.minified)):
        with open(os.path.join(output, name), encoding="utf-8") as f:
            texts[label] = f.read()
    return types.SimpleNamespace(hash=aggregated_hash, mapping=mapping, err=err, output=output, directory=directory, **texts)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("inlining")
    with distributions.importable(root):
        site = install_site(root)
        site.default = aggregated(site)
        site.off = aggregated(site, "public/no-inlining", "--inline-limit", "0")
        yield site


def rule(css, selector):
    """The declarations of the rule for ``selector`` in ``css`` (plain or minified)."""
    match = re.search(r"%s\s*\{(.*?)\}" % re.escape(selector), css, re.S)
    assert match, selector
    return match.group(1)


def data_uris(text):
    """(media type, decoded bytes) of each data: URI in ``text``, in order."""
    return [(kind, base64.b64decode(data)) for kind, data in re.findall(r'url\("data:([^;"]+);base64,([^"]*)"\)', text)]


def copy_name(name, data):
    stem, extension = os.path.splitext(name)
    return "assets/%s-%s%s" % (stem, hashlib.sha256(data).hexdigest()[:12], extension)


# -- what the CSS bundle says -----------------------------------------------------------------

@pytest.mark.parametrize("label", ["plain", "minified"])
def test_a_small_image_becomes_a_data_uri_of_its_bytes(site, label):
    css = getattr(site.default, label)
    assert data_uris(rule(css, ".small")) == [("image/png", DOT_PNG)]
    assert data_uris(rule(css, ".more")) == [("image/png", DOT_PNG)]  # from an @import-ed stylesheet too


def test_an_inlined_image_loses_its_query_string(site):
    assert data_uris(rule(site.default.plain, ".query")) == [("image/png", DOT_PNG)]
    assert "?v=1" not in rule(site.default.plain, ".query")


def test_a_file_of_exactly_the_limit_is_inlined_and_one_byte_more_is_not(site):
    assert data_uris(rule(site.default.plain, ".exact")) == [("image/gif", AT_LIMIT)]
    over = rule(site.default.plain, ".over")
    assert data_uris(over) == []
    assert 'url("%s")' % copy_name("over-limit.gif", OVER_LIMIT) in over
    with open(os.path.join(site.default.output, *copy_name("over-limit.gif", OVER_LIMIT).split("/")), "rb") as f:
        assert f.read() == OVER_LIMIT


def test_fonts_are_inlined_with_their_media_type(site):
    font_face = rule(site.default.plain, "@font-face")
    assert data_uris(font_face) == [
        ("application/vnd.ms-fontobject", FONTS["eot"]), ("font/woff2", FONTS["woff2"]), ("font/ttf", FONTS["ttf"])]


def test_a_reference_with_a_fragment_stays_a_file(site):
    # A fragment of a data: URI is not read alike by every browser: the file keeps it.
    assert 'url("%s#star")' % copy_name("icons.svg", SVG) in rule(site.default.plain, ".sprite")
    assert 'url("%s?#iefix")' % copy_name("tiny.eot", FONTS["eot"]) in rule(site.default.plain, "@font-face")
    assert data_uris(rule(site.default.plain, ".svg")) == [("image/svg+xml", SVG)]  # without one: inlined


def test_only_images_and_fonts_are_inlined(site):
    assert 'url("%s")' % copy_name("pie.htc", b"<public:component/>") in rule(site.default.plain, ".behaviour")


def test_a_missing_file_is_left_as_written_and_reported(site):
    assert "url(img/missing.png)" in rule(site.default.plain, ".missing")
    assert "img/missing.png refers to %s, which does not exist" % os.path.join(site.static, "img", "missing.png") in site.default.err


def test_the_command_says_how_many_files_it_inlined(site):
    # dot.png, at-limit.gif, icons.svg and three fonts; dot.png once however often it is used.
    assert "inlined into the CSS bundle as data: URIs (at most 4096 bytes each): 6 files" in site.default.err


def test_inline_limit_0_inlines_nothing(site):
    assert "data:" not in site.off.plain and "data:" not in site.off.minified
    assert 'url("%s")' % copy_name("dot.png", DOT_PNG) in rule(site.off.plain, ".small")
    assert site.off.mapping.inline_limit == 0
    assert [s for s in site.off.mapping.bundles["css"].sources if s.role == "inlined"] == []
    assert site.off.hash != site.default.hash


def test_the_mapping_names_the_limit_and_every_file_the_css_bundle_took_in(site):
    mapping = site.default.mapping
    assert mapping.inline_limit == 4096
    by_role = {}
    for source in mapping.bundles["css"].sources:
        assert source.modname == site.name
        with open(os.path.join(site.static, *source.filename[len("static/"):].split("/")), "rb") as f:
            assert source.sha256 == hashlib.sha256(f.read()).hexdigest()
        by_role.setdefault(source.role, []).append(source.filename)
    assert by_role == {
        "inlined": ["static/img/dot.png", "static/img/at-limit.gif", "static/img/icons.svg",
                    "static/fonts/tiny.eot", "static/fonts/tiny.woff2", "static/fonts/tiny.ttf"],
        "copied": ["static/img/over-limit.gif", "static/img/icons.svg", "static/pie.htc", "static/fonts/tiny.eot"],
        "imported": ["static/parts/more.css"],
    }
    assert sorted(mapping.bundles) == ["css"]


@pytest.mark.parametrize("value", ["-1", "4k", "1048577", ""])
def test_a_bad_inline_limit_is_a_one_line_error(site, value):
    code, out, err, _ = run_aggregate(site, "public/aggregated", "--inline-limit", value)
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [
        "tgext-resources aggregate: error: --inline-limit %s is not valid: use a whole number of bytes from 0 "
        "(nothing inlined) to 1048576, e.g. 4096 (the value of the application's resources.inline_limit)"
        % value]


# -- the application -------------------------------------------------------------------------

def app_of(site, aggregation, **options):
    class Root(RootController):
        @expose("tests.testsite.templates.page")
        def index(self):
            return dict(title="inlined", widgets=[site.package.Styled])

    options.setdefault("aggregated_dir", aggregation.directory)
    return build(root=Root(), package=site.package, aggregated_hash=aggregation.hash, **options)


def test_pages_link_a_css_bundle_carrying_the_images(site, debug):
    app = app_of(site, site.default, debug=debug)
    (link,) = [tag["href"] for tag in app.get("/").html.select("link[integrity]")]
    css = app.get(link).text
    assert css == (site.default.plain if debug == "true" else site.default.minified)
    assert data_uris(rule(css, ".small")) == [("image/png", DOT_PNG)]
    copies = [u for u in css_references(css) if u.startswith("assets/")]
    assert len(copies) == 4
    for copy in copies:  # what stays a file is served next to the bundle
        assert app.get("%s/%s" % (link.rsplit("/", 1)[0], re.split(r"[?#]", copy)[0])).status_int == 200


@pytest.fixture
def fresh(tmp_path):
    """A site of its own, aggregated with the default limit: its files may be changed."""
    site = install_site(tmp_path)
    site.default = aggregated(site)
    return site


def startup_error(site, error=BundleError, **options):
    with pytest.raises(error) as caught:
        app_of(site, site.default, **options)
    return str(caught.value)


def regenerate(site, extra=""):
    return "regenerate the bundles with `tgext-resources aggregate -d %s --package %s -o %s%s`" % (
        site.name, site.name, site.default.output, extra)


def test_a_small_image_changed_after_aggregation_stops_start_up(fresh):
    with open(os.path.join(fresh.static, "img", "dot.png"), "ab") as f:
        f.write(b"\x00")  # still small: the bundle would carry the old picture
    message = startup_error(fresh)
    assert message.startswith("aggregated_hash = %s: %s static/img/dot.png changed since the bundle was made (%s; "
                               "the bundle inlines it); " % (fresh.default.hash, fresh.name,
                                                             os.path.join(fresh.static, "img", "dot.png")))
    assert regenerate(fresh) in message


def test_a_removed_inlined_font_stops_start_up(fresh):
    os.remove(os.path.join(fresh.static, "fonts", "tiny.woff2"))
    message = startup_error(fresh)
    assert "the bundle inlines %s static/fonts/tiny.woff2, which the application no longer has; " % fresh.name in message
    assert regenerate(fresh) in message


def test_a_changed_image_the_bundle_copied_stops_start_up_too(fresh):
    with open(os.path.join(fresh.static, "img", "over-limit.gif"), "ab") as f:
        f.write(b"\x00")
    assert "static/img/over-limit.gif changed since the bundle was made" in startup_error(fresh)
    assert "the bundle points at a copy of it" in startup_error(fresh)


def test_a_changed_imported_stylesheet_stops_start_up_too(fresh):
    with open(os.path.join(fresh.static, "parts", "more.css"), "a") as f:
        f.write(".new { color: red }\n")
    assert "static/parts/more.css changed since the bundle was made" in startup_error(fresh)


def test_a_mapping_of_the_previous_format_stops_start_up_saying_to_regenerate(fresh):
    path = os.path.join(fresh.default.output, fresh.default.hash + ".mapping")
    with open(path) as f:
        text = f.read()
    old = re.sub(r"^inline_limit = .*\n", "", text.replace("format = 2", "format = 1"), flags=re.M)
    old = re.sub(r"^(inlined|copied|imported) = .*\n", "", old, flags=re.M)
    old_hash = hashlib.sha256(old.encode()).hexdigest()[:16]
    with open(os.path.join(fresh.default.output, old_hash + ".mapping"), "w") as f:
        f.write(old)
    fresh.default.hash = old_hash
    message = startup_error(fresh)
    assert "not a format 2 mapping (format = 1), made by another version of tgext.resources" in message
    assert regenerate(fresh) in message


def test_an_inline_limit_other_than_the_bundles_stops_start_up_naming_the_key_and_the_fix(site):
    with pytest.raises(ConfigError) as caught:
        Bundles.load(site.default.hash, site.default.directory, site.name, Publisher("/tw2/resources/"), False, 0)
    assert caught.value.key == "resources.inline_limit"
    message = str(caught.value)
    assert message.startswith("resources.inline_limit = 0 is not valid: the bundles of aggregated_hash = %s were "
                              "made with --inline-limit 4096; " % site.default.hash)
    assert regenerate(site, " --inline-limit 0") in message
    assert "or set resources.inline_limit = 4096" in message


def test_the_same_inline_limit_as_the_bundles_starts(site):
    bundles = Bundles.load(site.off.hash, site.off.directory, site.name, Publisher("/tw2/resources/"), False, 0)
    assert bundles.member_count == 1


def test_an_ini_inline_limit_other_than_the_bundles_stops_the_application(site):
    message = startup_error(site, ConfigError, **{"resources.inline_limit": "0"})
    assert message.startswith("resources.inline_limit = 0 is not valid: the bundles of aggregated_hash")
