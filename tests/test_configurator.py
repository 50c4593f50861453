"""ResourcesConfigMixin on each kind of TurboGears configurator."""
import pytest
import tw2.core as twc
import webob

from tgext_resources import MiddlewareError, ResourcesConfigMixin

from tests.apps import KINDS, build, canonical, canonical_links, resource_links

KIND_NAMES = sorted(KINDS)

# What the test site's index page must link: jQuery, its own badge widget, jQuery UI.
EXPECTED_LINKS = [
    "/tw2/resources/tw2.jquery/static/jquery/1.7.1/jquery.js",
    "/tw2/resources/tests.testsite.widgets/static/badge.js",
    "/tw2/resources/tests.testsite.widgets/static/badge.css",
    "/tw2/resources/tw2.jqplugins.ui/static/jquery/ui/1.8.17/js/jquery-ui.js",
    "/tw2/resources/tw2.jqplugins.ui/static/jquery/ui/1.8.17/css/smoothness/jquery-ui.css",
]


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_configurator_kind_injects_widget_resources(kind, debug):
    page = build(kind, debug=debug).get("/")
    links = canonical_links(page.text)
    for expected in EXPECTED_LINKS:
        assert expected in links
    assert len(links) == len(set(links)), "a resource is linked twice"
    # Links go in <head>, before the page's own content.
    assert page.text.index(resource_links(page.text)[0]) < page.text.index("</head>")


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_injected_link_answers_200_with_the_file(kind):
    app = build(kind)
    links = resource_links(app.get("/").text)
    assert {canonical(link) for link in links} >= set(EXPECTED_LINKS)
    for link in links:
        response = app.get(link)
        assert response.status_int == 200
        assert response.body, link
    assert b"badge-ready" in app.get("/tw2/resources/tests.testsite.widgets/static/badge.js").body


def test_images_a_widget_stylesheet_refers_to_are_served():
    app = build()
    app.get("/")
    css = app.get("/tw2/resources/tests.testsite.widgets/static/badge.css").text
    assert "url(badge.png)" in css
    image = app.get("/tw2/resources/tests.testsite.widgets/static/badge.png")
    assert image.content_type == "image/png"
    assert image.body.startswith(b"\x89PNG")


def test_every_application_built_in_a_process_serves_every_link():
    """tw2 registers a widget's files with one middleware only: the second app used to 404."""
    first, second = build("fullstack"), build("minimal")
    for app in (first, second):
        links = resource_links(app.get("/").text)
        assert {canonical(link) for link in links} >= set(EXPECTED_LINKS)
        for link in links:
            assert app.get(link, expect_errors=True).status_int == 200, link


def test_page_without_widgets_is_left_as_rendered():
    page = build().get("/plain")
    assert resource_links(page.text) == []
    assert "<h1>no widgets</h1>" in page.text


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_add_tosca_middleware_is_called_once_per_app_and_extends_with_super(kind):
    calls = []

    class AppConfigurator(ResourcesConfigMixin, KINDS[kind]):
        def add_tosca_middleware(self, app):
            calls.append(app)
            wrapped = super().add_tosca_middleware(app)

            def stamped(environ, start_response):
                def stamp(status, headers, exc_info=None):
                    return start_response(status, headers + [("X-Wrapped", "yes")], exc_info)
                return wrapped(environ, stamp)

            return stamped

    configurator = AppConfigurator()
    page = build(configurator=configurator).get("/")
    assert page.headers["X-Wrapped"] == "yes"
    assert EXPECTED_LINKS[1] in canonical_links(page.text)
    assert len(calls) == 1

    build(configurator=configurator)
    assert len(calls) == 2


def test_add_tosca_middleware_that_returns_nothing_stops_startup():
    class Broken(ResourcesConfigMixin, KINDS["fullstack"]):
        def add_tosca_middleware(self, app):
            super().add_tosca_middleware(app)  # forgot to return it

    with pytest.raises(MiddlewareError) as error:
        build(configurator=Broken())
    assert "Broken.add_tosca_middleware(app) returned None" in str(error.value)
    assert "return the result of super().add_tosca_middleware(app)" in str(error.value)


class HelloWidget(twc.Widget):
    @classmethod
    def request(cls, req):
        return webob.Response("hello %s" % req.params.get("name", "?"), content_type="text/plain")


twc.register_controller(HelloWidget, "hello")


def test_widget_controllers_are_served_under_tw2_controllers():
    response = build().get("/tw2/controllers/hello", params={"name": "tw2"})
    assert response.text == "hello tw2"
