"""tgext-resources export: every resource under its URL, compressed siblings, atomic writes."""
import gzip
import os

import pytest
import tw2.core as twc

from tgext_resources.export import export, load_application

from tests import distributions
from tests.apps import css_references, resource_links
from tests.commands import command, run
from tests.concurrency import repeatedly
from tests.sample import load, write_ini


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    directory = tmp_path_factory.mktemp("export")
    ini = write_ini(directory, debug="false")
    app = load(ini)
    output = str(directory / "out")
    return app, output, command("export", "-c", ini, "-o", output)


def on_disk(output, url):
    return os.path.join(output, *url.lstrip("/").split("/"))


@pytest.mark.parametrize("page", ["/", "/gallery", "/new"])
def test_every_link_of_every_page_is_exported_under_its_url(exported, page):
    app, output, _ = exported
    links = resource_links(app.get(page).text)
    assert len(links) > 3
    references = 0
    for link in links:
        with open(on_disk(output, link), "rb") as f:
            assert f.read() == app.get(link).body, link
        if link.endswith(".css"):
            for reference in css_references(app.get(link).text):
                assert os.path.isfile(on_disk(output, link.rsplit("/", 1)[0] + "/" + reference)), reference
                references += 1
    assert references > 0  # the jQuery UI theme's images at least


def test_versioned_and_unversioned_urls_are_one_file(exported):
    app, output, _ = exported
    link = [u for u in resource_links(app.get("/").text) if u.endswith("/jquery.js")][0]
    unversioned = link.replace("/" + link.split("/")[4], "", 1)
    assert os.path.samefile(on_disk(output, link), on_disk(output, unversioned))


def test_compressible_files_get_smaller_gzip_siblings_and_images_none(exported):
    app, output, _ = exported
    jquery = on_disk(output, [u for u in resource_links(app.get("/").text) if u.endswith("/jquery.js")][0])
    with open(jquery, "rb") as plain, open(jquery + ".gz", "rb") as packed:
        data = plain.read()
        assert gzip.decompress(packed.read()) == data
    assert os.path.getsize(jquery + ".gz") < len(data)
    assert os.path.isfile(jquery + ".br")
    star = on_disk(output, "/tw2/resources/sampleapp.widgets/static/images/star-on.png")
    assert os.path.isfile(star) and not os.path.exists(star + ".gz")


def test_exported_files_keep_the_date_of_their_source(exported):
    app, output, _ = exported
    link = "/tw2/resources/sampleapp.widgets/static/rating.js"
    source = os.path.join(os.path.dirname(__import__("sampleapp.widgets").widgets.__file__), "static", "rating.js")
    assert int(os.stat(on_disk(output, link)).st_mtime) == int(os.stat(source).st_mtime)


def test_summary_counts_what_was_written(exported):
    _, output, stdout = exported
    lines = stdout.splitlines()
    assert lines[0].startswith("Exported ") and lines[0].endswith(" into %s/tw2/resources" % output)
    assert "versioned links" in lines[1] and "compressed siblings" in lines[1]


def test_nothing_but_resources_is_exported(exported):
    _, output, _ = exported
    paths = [os.path.join(parent, name) for parent, _, names in os.walk(output) for name in names]
    assert len(paths) > 3
    assert any(path.endswith("/jquery.js") for path in paths)
    for path in paths:
        assert not path.endswith((".py", ".pyc")), path
        assert not os.path.basename(path).startswith("."), path


def test_readers_never_see_a_partial_file_while_exporting(tmp_path):
    """Export again and again while a reader reads: every read is one whole version."""
    name = distributions.unique("churn")
    versions = [b"/* A */" + b"a" * 200000, b"/* B */" + b"b" * 150000]
    distributions.install(tmp_path, name, {"%s/__init__.py" % name: "", "%s/static/big.js" % name: versions[0]})
    twc.DirLink(modname=name, filename="static")
    source = tmp_path / name / "static" / "big.js"
    conf = load_application(write_ini(tmp_path, debug="false"))
    output = str(tmp_path / "out")
    export(conf, output)
    target = on_disk(output, "/tw2/resources/%s/static/big.js" % name)
    torn = []

    def read(_):
        with open(target, "rb") as f:
            data = f.read()
        if data not in versions:
            torn.append(len(data))

    with repeatedly(read) as reads:
        for round_number in range(8):
            source.write_bytes(versions[(round_number + 1) % 2])
            export(conf, output)
    assert reads.calls > 8
    assert torn == []


def test_files_no_longer_served_are_removed(tmp_path):
    name = distributions.unique("shrinking")
    distributions.install(tmp_path, name, {"%s/__init__.py" % name: "", "%s/static/keep.js" % name: "1", "%s/static/gone.js" % name: "2"})
    twc.DirLink(modname=name, filename="static")
    conf = load_application(write_ini(tmp_path, debug="false"))
    output = str(tmp_path / "out")
    export(conf, output)
    gone = on_disk(output, "/tw2/resources/%s/static/gone.js" % name)
    assert os.path.isfile(gone)
    os.unlink(tmp_path / name / "static" / "gone.js")
    summary = export(conf, output)
    assert not os.path.exists(gone)
    assert summary.removed >= 1
    assert os.path.isfile(on_disk(output, "/tw2/resources/%s/static/keep.js" % name))


def test_missing_configuration_file_is_one_line_error(tmp_path):
    result = run("tgext-resources", "export", "-c", str(tmp_path / "nope.ini"), "-o", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == "tgext-resources export: error: -c %s: no such configuration file" % (tmp_path / "nope.ini")


def test_webserver_config_refuses_a_bad_upstream(tmp_path):
    ini = write_ini(tmp_path, debug="false")
    result = run("tgext-resources", "webserver-config", "nginx", "-c", ini, "--root", str(tmp_path), "--upstream", "localhost")
    assert result.returncode == 1
    assert "--upstream localhost: use HOST:PORT, e.g. 127.0.0.1:8080" in result.stderr
    assert "Traceback" not in result.stderr


def test_gearbox_commands_are_there(tmp_path):
    ini = write_ini(tmp_path, debug="false")
    config = command("resources-webserver-config", "nginx", "-c", ini, "--root", str(tmp_path),
                     "--upstream", "127.0.0.1:8080", "--listen", "8081", program="gearbox")
    assert "listen 8081;" in config and "proxy_pass http://127.0.0.1:8080;" in config
    summary = command("resources-export", "-c", ini, "-o", str(tmp_path / "out"), program="gearbox")
    assert summary.startswith("Exported ")
    failed = run("gearbox", "resources-webserver-config", "nginx", "-c", ini, "--root", str(tmp_path),
                 "--upstream", "localhost")
    assert failed.returncode == 1
    # The error names the command as it was typed.
    assert failed.stderr.strip().splitlines()[-1].startswith("gearbox resources-webserver-config: error: --upstream")


def test_commands_print_their_own_output_and_the_start_up_log_only_when_verbose(tmp_path):
    ini = write_ini(tmp_path, debug="false")
    output = str(tmp_path / "out")
    config = ["nginx", "-c", ini, "--root", output, "--upstream", "127.0.0.1:8080", "--server-name", "127.0.0.1"]
    # gearbox shows INFO lines by default: loading the application logs one per tw2 controller...
    for result in (run("gearbox", "resources-export", "-c", ini, "-o", output),
                   run("gearbox", "resources-webserver-config", *config),
                   run("tgext-resources", "export", "-c", ini, "-o", output)):
        assert result.returncode == 0, result.stderr
        assert "Registered controller" not in result.stderr and "INFO" not in result.stderr, result.stderr
    # ... which -v (gearbox's own) and --verbose bring back, on stderr.
    verbose = run("gearbox", "-v", "resources-export", "-c", ini, "-o", output)
    assert verbose.stdout.startswith("Exported ") and "Registered controller" in verbose.stderr
    verbose = run("tgext-resources", "export", "-c", ini, "-o", output, "--verbose")
    assert verbose.stdout.startswith("Exported ")
    assert "INFO [tgext_resources.configurator] ToscaWidgets 2 resources under /tw2/resources/" in verbose.stderr


def test_links_out_of_a_registered_directory_are_skipped_with_a_warning(tmp_path, caplog):
    name = distributions.unique("linkedexport")
    distributions.install(tmp_path, name, {"%s/__init__.py" % name: "", "%s/static/real.js" % name: "var real = 1;\n"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET root:x:0:0\n")
    static = tmp_path / name / "static"
    os.symlink(str(outside / "secret.txt"), str(static / "passwd.txt"))
    os.symlink("real.js", str(static / "alias.js"))  # inside the directory: exported
    os.symlink(str(outside), str(static / "elsewhere"))
    twc.DirLink(modname=name, filename="static")
    output = str(tmp_path / "out")
    with caplog.at_level("WARNING", logger="tgext_resources.export"):
        summary = export(load_application(write_ini(tmp_path, debug="false")), output)
    assert exported_names(output, name) == {"static/real.js", "static/alias.js"}
    with open(on_disk(output, "/tw2/resources/%s/static/alias.js" % name), "rb") as f:
        assert f.read() == b"var real = 1;\n"
    # (Modules of earlier tests stay registered in this process: only this one's are looked at.)
    assert [s for s in summary.skipped if s.startswith(name + "/")] == ["%s/static/passwd.txt" % name]
    assert "%s/static/passwd.txt" % name in [line for line in summary.lines() if "skipped: symbolic links" in line][0]
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "tgext_resources.export" and name + "/" in r.getMessage()]
    assert warnings == [
        "Not exported: %s/static/passwd.txt is a symbolic link leading out of its registered directory" % name]
    for parent, _, names in os.walk(output):
        for filename in names:
            with open(os.path.join(parent, filename), "rb") as f:
                assert b"SECRET" not in f.read(), filename


def exported_names(output, name):
    """The files exported for module ``name`` under its unversioned URLs (no siblings)."""
    root = os.path.join(output, "tw2", "resources", name)
    found = set()
    for parent, directories, files in os.walk(root):
        directories[:] = [d for d in directories if not d.startswith("v") or len(d) != 13]  # not the versioned copies
        found |= {os.path.relpath(os.path.join(parent, f), root) for f in files if not f.endswith((".gz", ".br"))}
    return found
