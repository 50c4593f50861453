"""Revalidations (If-None-Match, If-Modified-Since) of files served before: answered from
the headers built once, with the same 304 as the first time, and never a 304 for a file
changed since; with the file watch, and where there is none (every file looked at)."""
import gzip
import os
import shutil

import pytest
import tw2.core as twc
import webob

from tests import distributions
from tests.apps import build
from tests.concurrency import at_once
from tests.inprocess import waitress_serving
from tests.test_publisher_http import request

SCRIPT = b"var answer = 42;\n" * 200
OTHER = SCRIPT.replace(b"42", b"43")  # the same size
OLD_DATE = 1_500_000_000


class NoWatch:
    """A system without inotify: the publisher looks at every file it compares."""

    def epoch(self):
        return None

    def watch(self, watched, epoch):
        return False


@pytest.fixture(params=["watched", "unwatched"])
def watching(request):
    return request.param


def served(tmp_path, watching, debug="false"):
    """``(app, url, path of the file)``: a package's ``static/app.js`` with its gzip sibling."""
    name = distributions.unique("revalidated")
    distributions.install(tmp_path, name, {
        "%s/__init__.py" % name: "",
        "%s/static/app.js" % name: SCRIPT,
        "%s/static/app.js.gz" % name: gzip.compress(SCRIPT),
    })
    path = str(tmp_path / name / "static" / "app.js")
    for file in (path, path + ".gz"):
        os.utime(file, (OLD_DATE, OLD_DATE))  # a change in the same second is no easier to see
    twc.DirLink(modname=name, filename="static")
    app = build(debug=debug)
    if watching == "unwatched":
        app.app.resources.watch = NoWatch()
    return app, "/tw2/resources/%s/static/app.js" % name, path


def raw(app, path, method="GET", **headers):
    return webob.Request.blank(path, method=method, headers=headers).get_response(app.app)


def revalidated(app, url, **headers):
    """The 200 of ``url``, after its first revalidation (a 304): later ones take the short way."""
    full = raw(app, url, **headers)
    assert raw(app, url, If_None_Match=full.headers["ETag"], **headers).status_int == 304
    return full


CONTENT_HEADERS = ("Content-Length", "Content-Type", "Content-Encoding", "Accept-Ranges", "Content-Range")


@pytest.mark.parametrize("debug", ["false", "true"])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_304_has_the_validators_and_caching_of_the_200_every_time(tmp_path, watching, debug, encoding):
    app, url, _ = served(tmp_path, watching, debug)
    full = raw(app, url, Accept_Encoding=encoding)
    answers = [raw(app, url, Accept_Encoding=encoding, If_None_Match=full.headers["ETag"]) for _ in range(3)]
    answers += [raw(app, url, Accept_Encoding=encoding, If_Modified_Since=full.headers["Last-Modified"])]
    for answer in answers:
        assert (answer.status_int, answer.body) == (304, b"")
        # RFC 9110, 15.4.5: what the 200 would have said of caching, without the content.
        for header in ("ETag", "Cache-Control", "Last-Modified", "Vary"):
            assert answer.headers[header] == full.headers[header], header
        assert not any(header in answer.headers for header in CONTENT_HEADERS)
    assert full.headers["Cache-Control"] == ("no-cache" if debug == "true" else "public, max-age=3600")
    assert full.headers["Vary"] == "Accept-Encoding"
    assert [a.headerlist for a in answers[1:3]] == [answers[0].headerlist] * 2


def test_the_tag_of_another_encoding_gets_the_content(tmp_path, watching):
    app, url, _ = served(tmp_path, watching)
    plain = revalidated(app, url, Accept_Encoding="identity")
    packed = revalidated(app, url, Accept_Encoding="gzip")
    assert plain.headers["ETag"] != packed.headers["ETag"]
    answer = raw(app, url, Accept_Encoding="identity", If_None_Match=packed.headers["ETag"])
    assert (answer.status_int, answer.body) == (200, SCRIPT)
    answer = raw(app, url, Accept_Encoding="gzip", If_None_Match=plain.headers["ETag"])
    assert answer.status_int == 200 and gzip.decompress(answer.body) == SCRIPT


@pytest.mark.parametrize("value, status", [
    ("W/{etag}", 304), ('"other", {etag}', 304), ('"a",{etag} , "b"', 304), ("*", 304), ('"other"', 200),
    ("{etag}x", 200),
])
def test_if_none_match_compares_weakly_and_reads_lists(tmp_path, watching, value, status):
    app, url, _ = served(tmp_path, watching)
    etag = revalidated(app, url).headers["ETag"]
    assert raw(app, url, If_None_Match=value.format(etag=etag)).status_int == status


def test_if_none_match_takes_precedence_over_if_modified_since(tmp_path, watching):
    app, url, _ = served(tmp_path, watching)
    full = revalidated(app, url)
    etag, last_modified = full.headers["ETag"], full.headers["Last-Modified"]
    assert raw(app, url, If_None_Match='"stale"', If_Modified_Since=last_modified).status_int == 200
    assert raw(app, url, If_None_Match=etag, If_Modified_Since="Mon, 01 Jan 1990 00:00:00 GMT").status_int == 304


@pytest.mark.parametrize("value, status", [
    ("{last_modified}", 304), ("Sun, 06 Nov 2044 08:49:37 GMT", 304), ("Mon, 01 Jan 1990 00:00:00 GMT", 200),
    ("not a date", 200),
])
def test_if_modified_since_alone_compares_dates(tmp_path, watching, value, status):
    app, url, _ = served(tmp_path, watching)
    last_modified = revalidated(app, url).headers["Last-Modified"]
    assert raw(app, url, If_Modified_Since=value.format(last_modified=last_modified)).status_int == status


@pytest.mark.parametrize("failing", [{"If_Match": '"other"'}, {"If_Unmodified_Since": "Mon, 01 Jan 1990 00:00:00 GMT"}])
def test_a_failed_if_match_or_if_unmodified_since_still_comes_first(tmp_path, watching, failing):
    app, url, _ = served(tmp_path, watching)
    etag = revalidated(app, url).headers["ETag"]
    assert raw(app, url, If_None_Match=etag, **failing).status_int == 412


def test_head_gets_a_304_without_body_and_other_methods_a_405(tmp_path, watching):
    app, url, _ = served(tmp_path, watching)
    etag = revalidated(app, url).headers["ETag"]
    head = raw(app, url, method="HEAD", If_None_Match=etag)
    assert (head.status_int, head.body, head.headers["ETag"]) == (304, b"", etag)
    for method in ("POST", "PUT", "DELETE"):
        refused = raw(app, url, method=method, If_None_Match=etag)
        assert (refused.status_int, refused.headers["Allow"]) == (405, "GET, HEAD")


def test_a_server_adding_to_the_headers_it_was_given_changes_no_later_answer(tmp_path):
    # wsgiref adds "Content-Length: 0" to the list of a response without a body.
    app, url, _ = served(tmp_path, "watched")
    etag = revalidated(app, url).headers["ETag"]
    environ = webob.Request.blank(url, headers={"If-None-Match": etag}).environ
    sent = []

    def start_response(status, headers, exc_info=None):
        sent.append(list(headers))
        headers.append(("Content-Length", "0"))

    for _ in range(3):
        assert app.app.resources(dict(environ), start_response) == []
    assert all(dict(headers).get("Content-Length") is None for headers in sent)
    assert raw(app, url).headers.getall("Content-Length") == [str(len(SCRIPT))]


def change_in_place(path):
    with open(path, "r+b") as f:  # the same inode and, put back, the same date
        f.write(SCRIPT + b"var more = 1;\n")
    os.utime(path, (OLD_DATE, OLD_DATE))
    return SCRIPT + b"var more = 1;\n"


def replace_same_size_and_date(path):
    with open(path + ".new", "wb") as f:
        f.write(OTHER)
    os.utime(path + ".new", (OLD_DATE, OLD_DATE))
    os.replace(path + ".new", path)
    return OTHER


def touch(path):
    os.utime(path, (OLD_DATE + 3600, OLD_DATE + 3600))
    return SCRIPT


def replace_directory(path, levels):
    """Put another directory in place of the one ``levels`` above ``path`` (1: the file's own)."""
    above = path
    for _ in range(levels):
        above = os.path.dirname(above)
    shutil.copytree(above, above + ".new", symlinks=True)
    replace_same_size_and_date(os.path.join(above + ".new", os.path.relpath(path, above)))
    os.rename(above, above + ".old")
    os.rename(above + ".new", above)
    return OTHER


CHANGES = {
    "rewritten in place": change_in_place,
    "replaced by one of the same size and date": replace_same_size_and_date,
    "touched": touch,
    "its directory replaced": lambda path: replace_directory(path, 1),
    "its package directory replaced": lambda path: replace_directory(path, 2),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=list(CHANGES))
@pytest.mark.parametrize("debug", ["false", "true"])
def test_a_file_changed_after_revalidations_is_sent_whole_with_a_new_tag(tmp_path, watching, debug, change):
    app, url, path = served(tmp_path, watching, debug)
    old = revalidated(app, url, Accept_Encoding="identity").headers["ETag"]
    assert raw(app, url, If_None_Match=old).status_int == 304
    content = change(path)
    later = "Sun, 06 Nov 2044 08:49:37 GMT"
    for validators in ({"If_None_Match": old}, {"If_None_Match": old, "If_Modified_Since": later}):
        answer = raw(app, url, Accept_Encoding="identity", **validators)
        assert (answer.status_int, answer.body) == (200, content), validators
        assert answer.headers["ETag"] != old
    assert raw(app, url, Accept_Encoding="identity", If_None_Match=answer.headers["ETag"]).status_int == 304


def test_an_application_started_anew_answers_revalidations_of_the_tags_sent_before(tmp_path, watching):
    # After a restart, browsers revalidate what they hold, and may never ask for a 200.
    app, url, path = served(tmp_path, watching)
    old = raw(app, url).headers["ETag"]
    restarted = build()
    if watching == "unwatched":
        restarted.app.resources.watch = NoWatch()
    assert [raw(restarted, url, If_None_Match=old).status_int for _ in range(3)] == [304] * 3
    content = change_in_place(path)
    answer = raw(restarted, url, If_None_Match=old)
    assert (answer.status_int, answer.body) == (200, content)


def test_a_replaced_compressed_sibling_is_sent_as_it_now_is(tmp_path, watching):
    app, url, path = served(tmp_path, watching)
    revalidated(app, url, Accept_Encoding="gzip")
    packed = gzip.compress(SCRIPT, compresslevel=1, mtime=0)
    with open(path + ".gz.new", "wb") as f:
        f.write(packed)
    os.replace(path + ".gz.new", path + ".gz")
    for method in ("GET", "HEAD"):
        answer = raw(app, url, method=method, Accept_Encoding="gzip")
        assert answer.headers["Content-Length"] == str(len(packed)), method
    assert raw(app, url, Accept_Encoding="gzip").body == packed


def test_a_compressed_sibling_older_than_its_changed_file_is_never_sent(tmp_path, watching, caplog):
    app, url, path = served(tmp_path, watching)
    assert raw(app, url, Accept_Encoding="gzip").headers["Content-Encoding"] == "gzip"
    with open(path, "wb") as f:  # the file changes, its .gz is left as it was
        f.write(OTHER + b"var more = 1;\n")
    answer = raw(app, url, Accept_Encoding="gzip")
    assert "Content-Encoding" not in answer.headers
    assert answer.body == OTHER + b"var more = 1;\n"
    assert any("app.js.gz, older than" in record.getMessage() for record in caplog.records)
    with open(path + ".gz", "wb") as f:  # compressed again: sent again
        f.write(gzip.compress(OTHER + b"var more = 1;\n"))
    assert gzip.decompress(raw(app, url, Accept_Encoding="gzip").body) == OTHER + b"var more = 1;\n"


def test_a_link_pointed_at_another_file_after_revalidations_is_followed(tmp_path, watching):
    app, url, path = served(tmp_path, watching)
    static = os.path.dirname(path)
    with open(os.path.join(static, "other.js"), "wb") as f:
        f.write(OTHER + b"var other = 1;\n")
    os.symlink("app.js", os.path.join(static, "alias.js"))
    alias = url.replace("app.js", "alias.js")
    old = revalidated(app, alias).headers["ETag"]
    os.symlink("other.js", os.path.join(static, "alias.new"))
    os.replace(os.path.join(static, "alias.new"), os.path.join(static, "alias.js"))
    answer = raw(app, alias, If_None_Match=old)
    assert (answer.status_int, answer.body) == (200, OTHER + b"var other = 1;\n")


def test_revalidations_from_many_threads_at_once_all_get_their_304(tmp_path):
    app, url, path = served(tmp_path, "watched")
    with waitress_serving(app.app) as address:
        status, headers, _ = request(address, url)
        etag = headers["ETag"]

        def revalidate(_):
            return sorted({request(address, url, If_None_Match=etag)[0] for _ in range(50)})

        assert at_once(8, revalidate) == [[304]] * 8
        content = change_in_place(path)
        assert request(address, url, If_None_Match=etag)[::2] == (200, content)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="a system without fork")
def test_a_forked_process_is_not_told_of_changes_by_its_parent(tmp_path):
    # gunicorn --preload forks workers from a process that may have served already: a child
    # sharing its parent's inotify queue would miss the events the parent read first.
    app, url, path = served(tmp_path, "watched")
    old = revalidated(app, url).headers["ETag"]
    go, answer = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one revalidation once the parent has seen the change, then out
        status = b"error"
        try:
            os.read(go[0], 1)
            status = str(raw(app, url, If_None_Match=old).status_int).encode()
        finally:
            os.write(answer[1], status)
            os._exit(0)
    try:
        content = change_in_place(path)
        seen = raw(app, url, If_None_Match=old).body  # the parent reads the event
    finally:  # the child is never left waiting
        os.write(go[1], b"!")
        status = os.read(answer[0], 16)
        os.waitpid(pid, 0)
        for fd in go + answer:
            os.close(fd)
    assert seen == content
    assert status == b"200"
