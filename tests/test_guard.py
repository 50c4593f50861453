"""The widget statelessness guard: a request that changes a shared widget fails, in development."""
import html
import re

import pytest
import tw2.core as twc
import webob
from tg import expose
from tw2.jqplugins import ui

from tgext_resources import WidgetMutationError

from tests.apps import RootController, build
from tests.concurrency import at_once


class Banana(twc.Widget):
    template = "tests.testsite.widgets.templates.badge"
    text = twc.Param(default="banana")


banana = Banana(id="banana")
raw_dialog = ui.DialogWidget(id="raw_dialog", options={"autoOpen": False}, value="straight from PyPI")


class Careless(twc.Widget):
    """Writes into its class's dict in prepare(), where it should copy first."""

    template = "tests.testsite.widgets.templates.badge"
    text = twc.Param(default="careless")
    labels = {"kind": "fruit"}

    def prepare(self):
        super().prepare()
        self.labels["seen"] = "yes"


class Greedy(twc.Widget):
    """Grows a list of its class in prepare()."""

    template = "tests.testsite.widgets.templates.badge"
    text = twc.Param(default="greedy")
    seen = []

    def prepare(self):
        super().prepare()
        self.seen.append("again")


class Careful(Careless):
    def prepare(self):
        self.safe_modify("labels")
        super().prepare()


class Root(RootController):
    @expose()
    def set_attribute(self):
        banana.text = "for alice only"  # the classic mistake: every user sees it afterwards
        return "set"

    @expose("tests.testsite.templates.page")
    def third_party(self):
        return dict(title="raw jQuery UI", widgets=[raw_dialog])

    @expose("tests.testsite.templates.page")
    def greedy(self):
        return dict(title="greedy", widgets=[Greedy])

    @expose("tests.testsite.templates.page")
    def careless(self):
        return dict(title="careless", widgets=[Careless])

    @expose("tests.testsite.templates.page")
    def careful(self):
        return dict(title="careful", widgets=[Careful])

    @expose()
    def per_request(self):
        instance = banana.req()
        instance.text = "mine"  # an instance of this request: free to change
        instance.safe_modify("resources")
        instance.resources.append(twc.JSLink(link="/extra.js"))
        made_here = Banana(id="made_here")  # a widget made by this request is its own too
        made_here.text = "also mine"
        return instance.display() + made_here.display(text="x")

    @expose()
    def greet(self, name):
        return banana.display(text=name)


@pytest.fixture(autouse=True)
def shared_widgets_put_back():
    """What a request without the guard changed in the shared widgets is undone after the test
    (the growth of raw_dialog.resources is the very leak the guard reports)."""
    seen, labels = list(Greedy.seen), dict(Careless.labels)
    yield
    # The guard, once installed, replaces these with guarded copies: change whichever is there now.
    Greedy.seen[:] = seen
    Careless.labels.clear()
    Careless.labels.update(labels)


@pytest.fixture
def guarded():
    return build(root=Root(), debug="true")


def raised(app, path):
    """The WidgetMutationError a request ends with, as the developer sees it: TurboGears'
    interactive debugger page (debug = true)."""
    page = app.get(path, expect_errors=True)
    assert page.status_int == 500
    title = html.unescape(page.html.title.text)
    prefix = "tgext_resources.errors.WidgetMutationError: "
    assert title.startswith(prefix), title
    return title[len(prefix):].rsplit(" // Backlash", 1)[0]


def test_setting_an_attribute_of_a_widget_in_a_request_fails(guarded):
    message = raised(guarded, "/set_attribute")
    assert message.startswith("attribute 'text' of widget tests.test_guard.Banana (id 'banana') was set during a request")
    assert "Pass it to display() instead (widget.display(text=...))" in message
    assert banana.text == "banana"  # refused: nothing leaked


def test_growing_a_class_list_in_a_request_fails(guarded):
    before = list(Greedy.seen)
    message = raised(guarded, "/greedy")
    assert message.startswith("tests.test_guard.Greedy.seen, a list shared by every request")
    assert "changed in place by .append()" in message
    assert "self.safe_modify('seen') in prepare(), as tw2 does" in message
    assert Greedy.seen == before  # refused before anything changed


@pytest.mark.parametrize("debug", ["true", "false"])
def test_a_third_party_widget_appending_to_its_resources_works_as_it_is(debug):
    """tw2.jqplugins.ui appends its theme to self.resources in prepare(): each request has
    its own copy, so the page works, with the guard on too, and the class never grows."""
    app = build(root=Root(), debug=debug)
    before = list(raw_dialog.resources)
    pages = [app.get("/third_party") for _ in range(3)]
    assert all("jquery-ui.css" in page.text for page in pages)
    assert pages[0].text.count("smoothness/jquery-ui.css") == 1
    assert list(raw_dialog.resources) == before


def test_changing_a_class_dict_in_place_fails_and_copying_first_works(guarded):
    before = dict(Careless.labels)
    message = raised(guarded, "/careless")
    assert re.match(r"tests\.test_guard\.Careless\.labels, a dict shared by every request .* by \.__setitem__\(\)", message)
    assert Careless.labels == before  # refused before anything changed
    assert guarded.get("/careful").status_int == 200
    assert Careful.labels == before


def test_per_request_instances_and_widgets_made_in_the_request_stay_free(guarded):
    assert '<span class="badge">mine</span>' in guarded.get("/per_request").text


def test_changes_at_import_and_configuration_time_stay_allowed(guarded, monkeypatch):
    monkeypatch.setattr(Banana, "extra", "set while configuring", raising=False)  # no request running: allowed
    Careless.labels["configured"] = "yes"
    del Careless.labels["configured"]
    assert Banana.extra == "set while configuring"


def test_threads_rendering_the_same_widget_each_get_their_own_value(guarded):
    results = at_once(12, lambda i: webob.Request.blank("/greet/user%d" % i).get_response(guarded.app).text)
    assert results == ['<span class="badge">user%d</span>' % i for i in range(12)]


def test_production_has_no_guard(tmp_path):
    production = build(root=Root(), debug="false")
    before = len(Greedy.seen)
    assert production.get("/greedy").status_int == 200
    assert len(Greedy.seen) == before + 1  # the leak the guard reports in development
    assert production.get("/careless").status_int == 200


def test_the_guard_has_its_own_key():
    on = build(root=Root(), debug="false", **{"guard.enabled": "true", "trace_errors.enable": "false"})
    with pytest.raises(WidgetMutationError):  # no debugger in production: the error itself
        on.get("/careless")
    off = build(root=Root(), debug="true", **{"guard.enabled": "false"})
    assert off.get("/careless").status_int == 200
