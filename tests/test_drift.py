"""One answer everywhere: the publisher, the export, the version token, the filesystem cache and
the front-server configurations agree on which files are served, which are compressed, and
which are sent with a charset, because they all take it from media.py."""
import os
import re
import urllib.error
import urllib.request

import pytest
import tw2.core as twc
import webob

from tgext_resources import fscache, media
from tgext_resources.export import export, load_application
from tgext_resources.versioning import directory_token

from tests import distributions
from tests.apps import build
from tests.commands import command
from tests.conftest import require
from tests.frontservers import APACHECTL, readable_directory, running_apache
from tests.sample import free_port, write_ini

SERVED = "static/app.js"
NEVER_SERVED = [
    "static/__pycache__/helper.cpython-311.pyc",
    "static/helper.py",
    "static/helper.pyc",
    "static/.secret.js",
    "static/.git/config",
]
LONG_TEXT = b"/* a resource that compresses well */\n" * 200


def install_module(root, files):
    """A distribution whose ``static`` directory is served; returns its module name."""
    name = distributions.unique("drift")
    files = {"%s/%s" % (name, filename): data for filename, data in files.items()}
    distributions.install(root, name, {"%s/__init__.py" % name: "", **files})
    twc.DirLink(modname=name, filename="static")
    return name


def with_never_served(root):
    return install_module(root, {SERVED: b"var a = 1;\n", **{f: b"SECRET = 1\n" for f in NEVER_SERVED}})


def exported_files(output, name):
    """The files export wrote for module ``name``, without their version token."""
    directory = os.path.join(output, "tw2", "resources", name)
    names = set()
    for parent, _, files in os.walk(directory):
        for file_name in files:
            relative = os.path.relpath(os.path.join(parent, file_name), directory).replace(os.sep, "/")
            first, _, rest = relative.partition("/")
            names.add(rest if media.TOKEN_RE.fullmatch(first) else relative)
    return names


# -- files never served -----------------------------------------------------------------------

@pytest.mark.parametrize("filename", NEVER_SERVED)
def test_files_never_served_answer_404_from_the_publisher(tmp_path, filename):
    name = with_never_served(tmp_path)
    app = build()
    # The directory is served: the 404 below comes from the rule, not from a missing registration.
    assert webob.Request.blank("/tw2/resources/%s/%s" % (name, SERVED)).get_response(app.app).status_int == 200
    response = webob.Request.blank("/tw2/resources/%s/%s" % (name, filename)).get_response(app.app)
    assert response.status_int == 404
    assert b"SECRET" not in response.body


def test_files_never_served_are_not_exported(tmp_path):
    name = with_never_served(tmp_path)
    output = str(tmp_path / "out")
    export(load_application(write_ini(tmp_path, debug="false")), output)
    assert exported_files(output, name) == {SERVED}


def test_files_never_served_do_not_change_the_version_token(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / SERVED).write_bytes(b"var a = 1;\n")
    before = directory_token(str(tmp_path))
    for filename in NEVER_SERVED:
        os.makedirs(os.path.dirname(str(tmp_path / filename)), exist_ok=True)
        (tmp_path / filename).write_bytes(b"SECRET = 2\n")
    assert directory_token(str(tmp_path)) == before


def test_a_served_file_changes_the_version_token(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / SERVED).write_bytes(b"var a = 1;\n")
    before = directory_token(str(tmp_path))
    (tmp_path / "static" / "more.css").write_bytes(b"p {}")
    assert directory_token(str(tmp_path)) != before


# -- one compressible set ---------------------------------------------------------------------

COMPRESSIBLE = media.extensions_where(compressible=True)
NOT_COMPRESSIBLE = media.extensions_where(compressible=False)


def test_the_compressible_set_holds_the_types_that_drifted():
    assert {"ttf", "csv", "map", "js", "css", "html"} <= set(COMPRESSIBLE)
    assert {"png", "woff2", "jpg"} <= set(NOT_COMPRESSIBLE)


@pytest.fixture(scope="module")
def every_type_exported(tmp_path_factory):
    """A module with a file of each extension of the media table, exported."""
    root = tmp_path_factory.mktemp("every-type")
    with distributions.importable(root):
        name = install_module(root, {"static/file.%s" % e: LONG_TEXT for e in COMPRESSIBLE + NOT_COMPRESSIBLE})
        output = str(root / "out")
        export(load_application(write_ini(root, debug="false")), output)
        yield exported_files(output, name)


def test_export_compresses_every_type_media_calls_compressible(every_type_exported):
    without_gzip = [e for e in COMPRESSIBLE if "static/file.%s.gz" % e not in every_type_exported]
    assert without_gzip == []


def test_export_compresses_no_other_type(every_type_exported):
    assert len(NOT_COMPRESSIBLE) > 5
    compressed = [e for e in NOT_COMPRESSIBLE if "static/file.%s.gz" % e in every_type_exported]
    assert compressed == []


@pytest.fixture
def cache_dir(tmp_path):
    build(**{"fscache.dir": str(tmp_path / "fscache")})  # a background job with the app's configuration
    return tmp_path / "fscache"


def test_fscache_compresses_every_type_media_calls_compressible(cache_dir):
    for extension in COMPRESSIBLE:
        fscache.store("/files/file.%s" % extension, LONG_TEXT)
    without_gzip = [e for e in COMPRESSIBLE if not (cache_dir / "files" / ("file.%s.gz" % e)).is_file()]
    assert without_gzip == []


def test_fscache_compresses_no_other_type(cache_dir):
    assert len(NOT_COMPRESSIBLE) > 5
    for extension in NOT_COMPRESSIBLE:
        fscache.store("/files/file.%s" % extension, LONG_TEXT)
    compressed = [e for e in NOT_COMPRESSIBLE if (cache_dir / "files" / ("file.%s.gz" % e)).exists()]
    assert compressed == []


# -- the front-server configurations ----------------------------------------------------------

@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    """The nginx and Apache configurations of the sample app, filesystem cache on."""
    directory = tmp_path_factory.mktemp("configs")
    ini = write_ini(directory, debug="false", **{"fscache.dir": str(directory / "fscache")})
    return {
        server: command("webserver-config", server, "-c", ini, "--root", str(directory / "export"),
                        "--upstream", "127.0.0.1:8080")
        for server in ("nginx", "apache")
    }


def test_nginx_charset_types_are_the_text_types_of_media(configs):
    lines = re.findall(r"^\s*charset_types (.*);$", configs["nginx"], re.M)
    assert len(lines) == 2  # resources and filesystem cache
    assert [set(line.split()) for line in lines] == [set(media.charset_types())] * 2


def test_nginx_sends_each_resource_extension_with_the_type_of_media(configs):
    block = re.search(r"types \{(.*?)\}", configs["nginx"], re.S).group(1)
    types = {}
    for content_type, extensions in re.findall(r"^\s*(\S+) (.*);$", block, re.M):
        for extension in extensions.split():
            types[extension] = content_type
    assert len(types) > 20
    assert types == {extension: content_type for extension, (content_type, _, _) in media.TYPES.items()}


def test_an_extension_outside_the_table_is_octet_stream_for_nginx_and_the_publisher(configs):
    assert media.content_type("static/notes.unknownext") == "application/octet-stream"
    block = configs["nginx"][configs["nginx"].index("types {"):]
    assert re.search(r"\}\s*default_type application/octet-stream;", block)


def test_common_document_and_media_types_are_in_the_table():
    assert [media.content_type("x." + e) for e in ("pdf", "mp4", "webm", "mp3")] == [
        "application/pdf", "video/mp4", "video/webm", "audio/mpeg"]


def test_apache_adds_the_charset_to_the_text_extensions_of_media(configs):
    lines = re.findall(r"^\s*AddCharset utf-8 (.*)$", configs["apache"], re.M)
    assert len(lines) == 2  # resources and filesystem cache
    expected = {"." + e for e in media.extensions_where(text=True)}
    assert [set(line.split()) for line in lines] == [expected] * 2


def test_apache_sends_each_extension_with_the_type_of_media(configs):
    types = {}
    for content_type, extensions in re.findall(r"^\s*AddType (\S+) (.*)$", configs["apache"], re.M):
        for extension in extensions.split():
            types.setdefault(extension[1:], set()).add(content_type)
    assert types == {e: {t} for e, (t, _, _) in media.TYPES.items()}


def test_apache_sends_gzip_siblings_with_the_type_of_their_original(configs):
    forced = {}
    for extensions, content_type in re.findall(
            r'<FilesMatch "\\\.\(([^)]*)\)\\\.gz\$">\s*ForceType "([^"]*)"', configs["apache"]):
        for extension in extensions.split("|"):
            forced[extension] = content_type
    assert forced == {e: media.content_type("x." + e) for e in COMPRESSIBLE}


def fscache_rules(apache_config):
    """(rule, its conditions) for each RewriteRule that serves from the filesystem cache."""
    rules, conditions = [], []
    for line in apache_config.splitlines():
        line = line.strip()
        if line.startswith("RewriteCond "):
            conditions.append(line)
        elif line.startswith("RewriteRule "):
            if "/fscache/" in line:
                rules.append((line, conditions))
            conditions = []
    return rules


def test_apache_refuses_a_hidden_segment_for_every_filesystem_cache_candidate(configs):
    rules = fscache_rules(configs["apache"])
    assert len(rules) == 3  # the file, its .html page, a directory's index.html
    refusing = [rule for rule, conditions in rules if r"RewriteCond %{REQUEST_URI} !/\." in conditions]
    assert refusing == [rule for rule, _ in rules]


def test_every_filesystem_cache_candidate_has_the_same_conditions_in_apache(configs):
    rules = fscache_rules(configs["apache"])
    assert len(rules) == 3
    assert [conditions[:-1] for _, conditions in rules] == [rules[0][1][:-1]] * 3  # the last: the file tried


@pytest.fixture(scope="module")
def apache_with_fscache(tmp_path_factory):
    """A real Apache in front of a filesystem cache holding a page in a hidden directory."""
    require(os.path.exists(APACHECTL), "Apache (Debian package apache2)")
    directory = tmp_path_factory.mktemp("apache-fscache")
    with readable_directory() as readable:
        cache = os.path.join(readable, "fscache")
        for page in (".x/index.html", "y/index.html"):
            os.makedirs(os.path.dirname(os.path.join(cache, page)), exist_ok=True)
            with open(os.path.join(cache, page), "w") as f:
                f.write("<p>page %s</p>" % page)
        ini = write_ini(directory, debug="false", **{"fscache.dir": cache})
        # No application listens upstream: what Apache does not serve from the disk fails.
        config = command("webserver-config", "apache", "-c", ini, "--root", os.path.join(readable, "export"),
                         "--upstream", "127.0.0.1:%d" % free_port())
        with running_apache(str(directory), config) as base:
            yield base


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_apache_serves_the_index_page_of_a_cached_directory(apache_with_fscache):
    assert get(apache_with_fscache + "/y/") == (200, b"<p>page y/index.html</p>")


def test_apache_never_serves_the_index_page_of_a_hidden_directory(apache_with_fscache):
    status, body = get(apache_with_fscache + "/.x/")
    assert status != 200
    assert b"page" not in body
