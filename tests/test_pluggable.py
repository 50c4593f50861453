"""``plug(base_config, "tgext_resources")``: tgext.pluggable's way to enable an extension
gives the same application as mixing ResourcesConfigMixin into the configurator; and the
official tgext.tw2, plugged next to it, is never a silent second middleware."""
import pytest
from tg import FullStackApplicationConfigurator
from tgext.pluggable import plug

from tgext_resources import MiddlewareError, media

from tests.apps import build, configurator_class, resource_links


def plugged(**options):
    configurator = FullStackApplicationConfigurator()
    plug(configurator, "tgext_resources")
    return build(configurator=configurator, **options)


def test_a_plugged_application_serves_versioned_resources_and_pages_that_link_them():
    app = plugged()
    page = app.get("/")
    links = resource_links(page.text)
    assert links and all(media.TOKEN_RE.search(link) for link in links)  # versioned by the extension
    for link in links:
        assert app.get(link).status_int == 200
    assert links == resource_links(build().get("/").text)  # as with the mixin


def test_plugging_reads_the_extensions_keys():
    from tgext_resources import ConfigError

    with pytest.raises(ConfigError) as error:
        plugged(**{"resources.prefx": "/x/"})
    assert "did you mean resources.prefix?" in str(error.value)


def test_the_mixin_and_plug_together_enable_it_once():
    configurator = configurator_class("fullstack")()
    plug(configurator, "tgext_resources")
    page = build(configurator=configurator).get("/")
    links = resource_links(page.text)
    assert links and len(links) == len(set(links))  # one middleware: each link once


def test_tgext_tw2_enabled_next_to_it_stops_start_up_with_the_fix():
    configurator = configurator_class("fullstack")()
    plug(configurator, "tgext.tw2")
    with pytest.raises(MiddlewareError) as error:
        build(configurator=configurator, **{"tw2.enabled": "true"})
    message = str(error.value)
    assert message.startswith("tgext.tw2 is enabled too (tw2.enabled = true)")
    assert 'remove plug(base_config, "tgext.tw2")' in message and "set tw2.enabled = false" in message


def test_tgext_tw2_plugged_but_switched_off_is_no_conflict():
    configurator = configurator_class("fullstack")()
    plug(configurator, "tgext.tw2")
    links = resource_links(build(configurator=configurator).get("/").text)
    assert links and all(media.TOKEN_RE.search(link) for link in links)
