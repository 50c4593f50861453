"""What a file is and whether it is served: media.py, locate.split_filename and the registry."""
import gzip
import os

import brotli
import pytest

from tgext_resources import UnsafePathError, media
from tgext_resources.locate import split_filename
from tgext_resources.registry import Registry

from tests.commands import run_python

LONG_TEXT = b"body { color: red; }\n" * 400


# -- types ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("static/app.js", "application/javascript; charset=utf-8"),
    ("static/app.mjs", "application/javascript; charset=utf-8"),
    ("static/style.css", "text/css; charset=utf-8"),
    ("static/data.json", "application/json; charset=utf-8"),
    ("static/app.js.map", "application/json; charset=utf-8"),
    ("static/logo.svg", "image/svg+xml; charset=utf-8"),
    ("static/page.html", "text/html; charset=utf-8"),
    ("static/table.csv", "text/csv; charset=utf-8"),
])
def test_text_types_carry_the_utf8_charset(name, expected):
    assert media.content_type(name) == expected


@pytest.mark.parametrize("name, expected", [
    ("static/logo.png", "image/png"),
    ("static/photo.jpeg", "image/jpeg"),
    ("static/favicon.ico", "image/x-icon"),
    ("static/font.woff2", "font/woff2"),
    ("static/font.ttf", "font/ttf"),
    ("static/module.wasm", "application/wasm"),
])
def test_binary_types_have_no_charset(name, expected):
    assert media.content_type(name) == expected


def test_extension_case_does_not_change_the_type():
    assert media.content_type("static/APP.JS") == media.content_type("static/app.js")


def test_an_extension_outside_the_table_takes_the_hosts_type():
    assert media.content_type("static/manual.pdf") == "application/pdf"


def test_a_name_without_a_known_type_is_octet_stream():
    assert media.content_type("static/LICENSE") == "application/octet-stream"


def test_a_compressed_file_is_not_sent_with_its_contents_type():
    assert media.content_type("static/app.js.gz") == "application/octet-stream"


def test_importing_the_publisher_leaves_the_process_mimetypes_alone():
    # Its dependencies first: WebOb adds its own types when imported.
    result = run_python(
        "import mimetypes, tw2.core, webob.static; mimetypes.init(); before = dict(mimetypes.types_map); "
        "from tgext_resources import publisher, media; media.content_type('a.js'); "
        "print(dict(mimetypes.types_map) == before)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize("name", ["app.js", "style.css", "font.ttf", "app.js.map", "table.csv", "favicon.ico"])
def test_text_and_uncompressed_formats_are_compressible(name):
    assert media.is_compressible(name)


@pytest.mark.parametrize("name", ["logo.png", "photo.jpg", "font.woff2", "font.woff", "image.webp", "LICENSE"])
def test_compressed_formats_are_not_compressible(name):
    assert not media.is_compressible(name)


def test_token_pattern_and_regular_expression_agree():
    assert media.TOKEN_RE.pattern == media.TOKEN_PATTERN
    assert media.TOKEN_RE.fullmatch("v0123456789ab")
    assert not media.TOKEN_RE.fullmatch("v0123456789aB")


# -- files never served -------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    ".htaccess", "static/.secret.js", ".git/config", "static/.tmp-x-app.js",
    "static/__pycache__/helper.cpython-311.pyc", "__pycache__/x.js",
    "helper.py", "static/helper.pyc", "static/helper.pyo", "static/HELPER.PY",
])
def test_hidden_files_python_code_and_byte_code_are_never_served(name):
    assert media.never_served(name)


@pytest.mark.parametrize("name", ["static/app.js", "static/python.js", "static/a.b/c.css", "static/notes.py.txt"])
def test_resources_may_be_served(name):
    assert not media.never_served(name)


@pytest.mark.parametrize("name, hidden", [
    ("static/.x/app.js", True), (".x", True), ("static/app.js", False), ("static/a.b.js", False),
])
def test_hidden_means_a_segment_starting_with_a_dot(name, hidden):
    assert media.is_hidden(name) is hidden


def make_tree(root, names):
    for name in names:
        path = os.path.join(str(root), *name.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(name.encode())


def test_served_files_are_every_resource_in_a_fixed_order(tmp_path):
    make_tree(tmp_path, [
        "b.js", "a.css", "img/z.png", "img/a.png", "css/site.css",
        "__init__.py", "helper.pyc", ".hidden", ".git/config", "__pycache__/x.pyc", "img/.tmp-1-z.png",
    ])
    assert list(media.served_files(str(tmp_path))) == ["a.css", "b.js", "css/site.css", "img/a.png", "img/z.png"]


# -- writing ----------------------------------------------------------------------------------

def test_compressible_data_gets_gzip_and_brotli_siblings_of_it():
    siblings = media.compressed_siblings("static/site.css", LONG_TEXT)
    assert sorted(siblings) == [".br", ".gz"]
    assert gzip.decompress(siblings[".gz"]) == LONG_TEXT
    assert brotli.decompress(siblings[".br"]) == LONG_TEXT


def test_siblings_are_kept_only_when_smaller():
    assert media.compressed_siblings("static/tiny.js", b"1") == {}


def test_images_get_no_siblings_even_when_they_would_compress():
    assert media.compressed_siblings("static/blank.png", b"\0" * 10000) == {}


def test_gzip_siblings_are_the_same_bytes_on_every_run():
    assert media.compressed_siblings("a.js", LONG_TEXT)[".gz"] == media.compressed_siblings("a.js", LONG_TEXT)[".gz"]


def test_siblings_are_listed_preferred_first():
    assert media.SIBLINGS == ((".br", "br"), (".gz", "gzip"))


def test_write_if_changed_writes_a_new_file(tmp_path):
    path = str(tmp_path / "sub" / "a.js")
    assert media.write_if_changed(path, b"one") is True
    assert open(path, "rb").read() == b"one"


def test_write_if_changed_leaves_an_identical_file_and_its_date_alone(tmp_path):
    path = str(tmp_path / "a.js")
    media.write_if_changed(path, b"one")
    os.utime(path, (1000000000, 1000000000))
    assert media.write_if_changed(path, b"one") is False
    assert os.stat(path).st_mtime == 1000000000


def test_write_if_changed_replaces_other_content_of_the_same_size(tmp_path):
    path = str(tmp_path / "a.js")
    media.write_if_changed(path, b"one")
    assert media.write_if_changed(path, b"two") is True
    assert open(path, "rb").read() == b"two"


def test_written_files_are_readable_by_the_front_server_and_leave_no_temporary(tmp_path):
    media.write_atomic(str(tmp_path / "a.js"), b"x")
    assert os.listdir(str(tmp_path)) == ["a.js"]
    assert os.stat(str(tmp_path / "a.js")).st_mode & 0o777 == 0o644


# -- locate.split_filename ------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "", "/etc/passwd", "C:/windows/win.ini", "c:x", "static\\..\\x.py", "static/\x00.js",
    "static//x.js", "static/./x.js", "static/../x.py", "..", ".", "static/", "../../etc/passwd",
])
def test_split_filename_refuses_names_that_could_leave_the_module(name):
    with pytest.raises(UnsafePathError):
        split_filename(name)


def test_split_filename_refuses_what_is_not_a_string():
    with pytest.raises(UnsafePathError):
        split_filename(None)


@pytest.mark.parametrize("name, segments", [
    ("static/app.js", ["static", "app.js"]),
    ("%2e%2e/x.js", ["%2e%2e", "x.js"]),  # never decoded twice: a file called %2e%2e
    ("static/ünï/çà.js", ["static", "ünï", "çà.js"]),
    ("...", ["..."]),
])
def test_split_filename_keeps_plain_names_as_they_are(name, segments):
    assert split_filename(name) == segments


# -- the registry -----------------------------------------------------------------------------

DEEP = "/".join(["a"] * 50000) + "/x.js"


@pytest.fixture
def registry():
    registry = Registry()
    registry.register("lib", "static", whole_dir=True)
    registry.register("lib", "public/aggregated", immutable=True)
    return registry


def test_a_file_deep_inside_a_registered_directory_is_registered(registry):
    assert registry.is_registered("lib", "static/" + DEEP)


def test_a_deep_file_outside_every_registered_directory_is_not(registry):
    assert not registry.is_registered("lib", "other/" + DEEP)


def test_a_deep_file_of_another_module_is_not_registered(registry):
    assert not registry.is_registered("other", "static/" + DEEP)


def test_a_directory_does_not_cover_a_sibling_sharing_its_name_as_prefix(registry):
    assert not registry.is_registered("lib", "static2/x.js")


def test_a_registered_directory_is_not_itself_a_file(registry):
    assert not registry.is_registered("lib", "static")


def test_a_deep_file_of_an_immutable_directory_is_immutable(registry):
    assert registry.is_immutable("lib", "public/aggregated/" + DEEP)


def test_a_deep_file_of_a_plain_directory_is_not_immutable(registry):
    assert not registry.is_immutable("lib", "static/" + DEEP)
