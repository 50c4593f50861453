"""Template engines for widget templates: third-party widgets render as HTML, or start-up fails."""
import re

import pytest
import tg
import tw2.core as twc
from tg import FullStackApplicationConfigurator, expose
from tw2.core import templating
from tw2.core.middleware import Config, TwMiddleware

from tgext_resources import ConfigError, ResourcesConfigMixin, TemplateEngineError
from tgext_resources.configurator import SETTINGS_KEY, tw2_options
from tgext_resources.engines import is_installed

from tests import distributions
from tests.apps import RootController, build

# Markup of the Genshi/Mako templates of tw2.jqplugins.ui that must never reach a page.
RAW_TEMPLATE_MARKUP = ("py:", "xmlns:py", "xi:include", "<%", "${")


def dialog_html(page):
    start = page.text.index('<div id="hello:wrapper">')
    return page.text[start:page.text.index("</script>", start)]


@pytest.mark.parametrize("engines", ["", "kajiki genshi", "kajiki mako", "mako kajiki"])
def test_genshi_and_mako_only_widgets_render_as_html(engines):
    page = build(**{"resources.engines": engines}).get("/")
    html = dialog_html(page)
    assert 'id="hello"' in html
    assert "Hello from jQuery UI" in html
    assert '$("#hello").dialog({"autoOpen": false});' in html
    for raw in RAW_TEMPLATE_MARKUP:
        assert raw not in html


class KajikiClaimsHtml(ResourcesConfigMixin, FullStackApplicationConfigurator):
    """tw2's own extension table, where Kajiki also claims .html files."""

    def add_tosca_middleware(self, app):
        options = tw2_options(tg.config, tg.config[SETTINGS_KEY])
        options["rendering_extension_lookup"] = Config.rendering_extension_lookup
        # tw2 remembers each template's engine process-wide: forget what other tests chose.
        templating.engine_name_cache.clear()
        templating.get_engine_name._flush()
        return TwMiddleware(app, **options)


def test_with_tw2s_extension_table_kajiki_renders_genshi_templates_as_raw_markup():
    # The trap the engine table avoids: no error, Genshi's include left as raw markup and
    # the script that initialises the dialog silently gone.
    page = build(configurator=KajikiClaimsHtml(), registry_streaming="false").get("/")
    assert '<xi:include href="generic_jq_ui_js.html"/>' in page.text
    assert ".dialog(" not in page.text


def test_default_engines_are_the_apps_renderer_then_installed_ones_fastest_first():
    app = build()
    expected = [e for e in ("kajiki", "mako", "jinja", "genshi", "chameleon") if is_installed(e)]
    assert app.app.config.preferred_rendering_engines == expected
    assert app.app.config.default_engine == "kajiki"


def test_configured_engines_are_used_as_given():
    app = build(**{"resources.engines": "genshi, kajiki"})
    assert app.app.config.preferred_rendering_engines == ["genshi", "kajiki"]


def test_startup_fails_naming_widgets_whose_templates_no_allowed_engine_has():
    with pytest.raises(TemplateEngineError) as error:
        build(**{"resources.engines": "kajiki"})
    message = str(error.value)
    assert "tw2.jqplugins.ui.templates.dialog exists only for mako, genshi" in message
    # The widgets using it are named (the first three, sorted: which ones depends on what the
    # process has defined so far).
    assert re.search(r"templates\.dialog exists only for [^\n]* \(used by [\w.]+Dialog", message, re.I), message
    # Both are installed here: the fix is the list of engines, not another install.
    line = next(line for line in message.splitlines() if "templates.dialog" in line)
    assert "add mako or genshi to resources.engines" in line and "pip install" not in line


def test_configured_engine_that_is_not_installed_is_refused():
    if is_installed("chameleon"):
        pytest.skip("Chameleon is installed here")
    with pytest.raises(ConfigError) as error:
        build(**{"resources.engines": "kajiki chameleon"})
    message = str(error.value)
    assert message.startswith("resources.engines = 'kajiki chameleon' is not valid")
    assert "pip install Chameleon" in message


@pytest.fixture(scope="module")
def editable_widget(tmp_path_factory):
    """A widget whose Kajiki template the test can rewrite between two requests."""
    root = tmp_path_factory.mktemp("editable")
    templates = root / "editable_widgets" / "templates"
    templates.mkdir(parents=True)
    (root / "editable_widgets" / "__init__.py").write_text("")
    (templates / "__init__.py").write_text("")
    template = templates / "note.kajiki"
    template.write_text('<p class="note">first</p>')

    class Note(twc.Widget):
        template = "editable_widgets.templates.note"

    with distributions.importable(root):
        yield Note, template


@pytest.mark.parametrize("debug, second_render", [("false", "first"), ("true", "second")])
def test_widget_templates_are_reread_in_development_only(editable_widget, debug, second_render):
    # tw2 defaults to debug, where it throws every template cache away on each render.
    note, template = editable_widget
    template.write_text('<p class="note">first</p>')

    class Root(RootController):
        @expose("tests.testsite.templates.page")
        def note(self):
            return dict(title="note", widgets=[note])

    app = build(root=Root(), debug=debug)
    assert '<p class="note">first</p>' in app.get("/note").text
    template.write_text('<p class="note">second</p>')
    assert '<p class="note">%s</p>' % second_render in app.get("/note").text
