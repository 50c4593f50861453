"""Every ini key is parsed once at start-up; a bad value stops start-up with a clear message."""
import pytest

from tgext_resources import ConfigError
from tgext_resources.settings import AggregationSettings, ResourcesSettings, parse_settings

from tests.apps import build, canonical, resource_links

BAD_VALUES = [
    ("resources.prefix", "tw2/resources/", "starts and ends with '/'"),
    ("resources.prefix", "/tw2/resources", "starts and ends with '/'"),
    ("resources.prefix", "/", "at least one segment"),
    ("resources.prefix", "/tw2 resources/", "letters, digits"),
    ("resources.prefix", "/tw2/../x/", "e.g. /tw2/resources/"),
    ("resources.prefix", "//tw2/", "e.g. /tw2/resources/"),
    ("resources.engines", "kajiki, smarty", "chosen from kajiki, genshi, mako, jinja, chameleon"),
    ("resources.engines", "kajiki kajiki", "each once"),
    ("resources.prefx", "/x/", "did you mean resources.prefix?"),
    ("resources.engine", "kajiki", "did you mean resources.engines?"),
    ("aggregated_hash", "aggregated_hash = 0123456789abcdef", "16 hexadecimal digits"),
    ("aggregated_hash", "0123456789ABCDEF", "16 hexadecimal digits"),
    ("aggregated_hash", "0123", "16 hexadecimal digits"),
    ("aggregated_dir", "../outside", "a directory inside the application package"),
    ("aggregated_dir", "/var/www/bundles", "a directory inside the application package"),
    ("aggregated_hsh", "0123456789abcdef", "did you mean aggregated_hash?"),
    ("resources.max_age", "1h", "whole number of seconds from 0 to 31536000"),
    ("resources.max_age", "-1", "whole number of seconds from 0 to 31536000"),
    ("resources.base_url", "cdn.example.com", "scheme, host and optional path"),
]


@pytest.mark.parametrize("key, value, accepted", BAD_VALUES)
def test_bad_value_stops_startup_naming_key_value_and_what_is_accepted(key, value, accepted):
    with pytest.raises(ConfigError) as error:
        build(**{key: value})
    message = str(error.value)
    assert message.startswith("%s = %r is not valid: " % (key, value))
    assert accepted in message
    assert "[app:main]" in message
    assert error.value.key == key


def test_defaults_when_nothing_is_set():
    settings = parse_settings({"debug": "false"})
    assert settings.resources == ResourcesSettings(prefix="/tw2/resources/", engines=())
    assert settings.aggregation == AggregationSettings(hash=None, directory="public/aggregated")
    assert settings.debug is False


def test_empty_aggregated_hash_means_no_bundles():
    assert parse_settings({"aggregated_hash": "  "}).aggregation.hash is None


def test_ini_strings_and_python_values_give_the_same_settings():
    from_ini = parse_settings({"debug": "true", "resources.engines": "kajiki, mako", "resources.prefix": " /w/ "})
    from_code = parse_settings({"debug": True, "resources.engines": ["kajiki", "mako"], "resources.prefix": "/w/"})
    assert from_ini == from_code
    assert from_ini.resources.engines == ("kajiki", "mako")


def test_settings_are_frozen():
    settings = parse_settings({})
    with pytest.raises(AttributeError):
        settings.resources.prefix = "/other/"


def test_resources_prefix_moves_every_link_and_the_server():
    app = build(**{"resources.prefix": "/static/widgets/"})
    links = resource_links(app.get("/").text, prefix="/static/widgets/")
    assert "/static/widgets/tests.testsite.widgets/static/badge.js" in [canonical(link) for link in links]
    assert resource_links(app.get("/").text) == []
    for link in links:
        assert app.get(link).status_int == 200
    assert app.get("/tw2/resources/tests.testsite.widgets/static/badge.js", expect_errors=True).status_int == 404
