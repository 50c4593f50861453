"""minimal_mode = true: the costly TurboGears components off, widget resources still working."""
import logging

import pytest
import tg
from tg import expose, request, session

from tgext_resources import MinimalModeError

from tests.apps import RootController, build, canonical_links, resource_links
from tests.sample import load, write_ini

BADGE_JS = "/tw2/resources/tests.testsite.widgets/static/badge.js"


class Root(RootController):
    @expose()
    def hello(self):
        return "hello"

    @expose()
    def crash(self):
        raise ValueError("a bug in a controller")

    @expose()
    def remember(self):
        session["seen"] = True
        return "remembered"

    @expose()
    def politely(self):
        return "session" if session else "no session"

    @expose()
    def cached(self):
        return str(tg.cache.get_cache("x"))

    @expose()
    def who(self):
        return repr(request.identity)


@pytest.fixture
def minimal(caplog):
    with caplog.at_level(logging.INFO, logger="tgext_resources"):
        app = build(root=Root(), minimal_mode="true", debug="true")
    return app, caplog.text


def test_the_components_are_switched_off_and_startup_says_so(minimal):
    _, log = minimal
    for key in ("i18n.enabled", "session.enabled", "sa_auth.enabled", "identity.enabled", "tm.enabled",
                "errorpage.enabled", "trace_errors.enable", "trace_slowreqs.enable", "serve_static", "debug"):
        assert tg.config[key] is False, key
    assert "Minimal mode is on:" in log


def test_widget_resources_keep_working(minimal):
    app, _ = minimal
    page = app.get("/")
    assert BADGE_JS in canonical_links(page.text)
    for link in resource_links(page.text):
        assert app.get(link).status_int == 200


def test_error_tracing_is_off_from_the_start(minimal):
    # Switched off before configuration: had the key been flipped later, TurboGears would have
    # copied "enable" already and wrapped the application in its error reporter (a 500 page).
    app, _ = minimal
    with pytest.raises(ValueError, match="a bug in a controller"):
        app.get("/crash")
    assert build(root=Root(), debug="false").get("/crash", expect_errors=True).status_int == 500


def test_using_the_session_is_a_clear_error(minimal):
    app, _ = minimal
    with pytest.raises(MinimalModeError) as error:
        app.get("/remember")
    assert str(error.value) == (
        "tg.session is switched off by minimal_mode = true (session.enabled = false): set "
        "minimal_mode = false in the [app:main] section of the .ini file to use it")
    assert app.get("/politely").text == "no session"  # asking whether there is one is fine


def test_using_tg_cache_is_a_clear_error(minimal):
    app, _ = minimal
    with pytest.raises(MinimalModeError, match=r"tg.cache is switched off by minimal_mode = true \(cache.enabled"):
        app.get("/cached")


def test_there_is_no_identity(minimal):
    app, _ = minimal
    assert app.get("/who").text == "None"


def test_without_the_transaction_manager_unsaved_changes_are_an_error_not_a_loss(tmp_path):
    app = load(write_ini(tmp_path, minimal_mode="true", **{"trace_errors.enable": "false"}))
    assert app.get("/article/1").status_int == 200  # reading needs no transaction
    with pytest.raises(MinimalModeError, match=r"call transaction.commit\(\) in the controller"):
        app.post("/comment/1", {"author": "erin", "text": "lost?"})


def test_without_the_transaction_manager_flushed_changes_are_an_error_not_a_loss(tmp_path):
    # save_comment flushes (DBSession.flush()), which empties session.dirty: the change is
    # sent to the database but never committed.  The quickstart's DBSession, registered
    # with zope.sqlalchemy, as the sample app has it.
    app = load(write_ini(tmp_path, minimal_mode="true", **{"trace_errors.enable": "false"}))
    before = app.get("/article/1").text
    assert "flushed?" not in before
    with pytest.raises(MinimalModeError, match=r"call transaction.commit\(\) in the controller"):
        app.post("/save_comment/1", {"author": "erin", "text": "flushed?"})
    # Nothing half-saved leaks into the next request on this thread.
    assert "flushed?" not in app.get("/edit_comment/1").text


def test_a_flush_ended_by_a_commit_is_no_error(tmp_path):
    import transaction
    from sampleapp import model

    app = load(write_ini(tmp_path, minimal_mode="true", **{"trace_errors.enable": "false"}))
    app.get("/article/1")
    comment = model.DBSession.get(model.Comment, 1)
    comment.text = "committed"
    model.DBSession.flush()
    transaction.commit()
    assert "committed" in app.get("/edit_comment/1").text


def test_a_flush_abandoned_with_transaction_abort_is_no_error(tmp_path, monkeypatch):
    import transaction
    from sampleapp import model
    from sampleapp.controllers.root import RootController

    @expose(content_type="text/plain")
    def try_and_abort(self):
        model.DBSession.get(model.Comment, 1).text = "never mind"
        model.DBSession.flush()
        transaction.abort()  # zope.sqlalchemy closes the session: changes given up, on purpose
        return "aborted"

    monkeypatch.setattr(RootController, "try_and_abort", try_and_abort, raising=False)
    app = load(write_ini(tmp_path, minimal_mode="true", **{"trace_errors.enable": "false"}))
    assert app.get("/try_and_abort").text == "aborted"
    assert "never mind" not in app.get("/edit_comment/1").text


def test_the_sample_app_serves_its_pages_in_minimal_mode(tmp_path):
    app = load(write_ini(tmp_path, minimal_mode="true"))
    for path in ("/", "/article/2", "/new", "/gallery", "/thumbs/1.png"):
        assert app.get(path).status_int == 200, path
    assert app.get("/css/style.css", status=404).status_int == 404  # public/ is the front server's job now


def test_a_bad_value_is_refused():
    from tgext_resources import ConfigError

    with pytest.raises(ConfigError, match=r"minimal_mode = 'sometimes' is not valid: use true or false"):
        build(root=Root(), minimal_mode="sometimes")
