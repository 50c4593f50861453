"""Every ini key is parsed once at start-up; a bad value stops start-up with a clear message."""
import os

import pytest

from tgext_resources import ConfigError
from tgext_resources.settings import AggregationSettings, ResourcesSettings, known_keys, parse_settings

from tests.apps import build, canonical, resource_links

BAD_VALUES = [
    ("resources.prefix", "tw2/resources/", "starts and ends with '/'"),
    ("resources.prefix", "/tw2/resources", "starts and ends with '/'"),
    ("resources.prefix", "/", "at least one segment"),
    ("resources.prefix", "/tw2 resources/", "letters, digits"),
    ("resources.prefix", "/tw2/../x/", "e.g. /tw2/resources/"),
    ("resources.prefix", "//tw2/", "e.g. /tw2/resources/"),
    ("resources.engines", "kajiki, smarty", "chosen from kajiki, mako, jinja, genshi, chameleon"),
    ("resources.engines", "kajiki kajiki", "each once"),
    ("resources.prefx", "/x/", "did you mean resources.prefix?"),
    ("resources.engine", "kajiki", "did you mean resources.engines?"),
    ("aggregated_hash", "aggregated_hash = 0123456789abcdef", "16 lowercase hexadecimal digits"),
    ("aggregated_hash", "0123456789ABCDEF", "16 lowercase hexadecimal digits"),
    ("aggregated_hash", "0123", "16 lowercase hexadecimal digits"),
    ("aggregated_dir", "../outside", "a directory inside the application package"),
    ("aggregated_dir", "/var/www/bundles", "a directory inside the application package"),
    ("aggregated_hsh", "0123456789abcdef", "did you mean aggregated_hash?"),
    # Misspelt outside the extension's prefixes: left alone they would start with the default.
    ("aggregate_hash", "0123456789abcdef", "did you mean aggregated_hash?"),
    ("aggregated.hash", "0123456789abcdef", "did you mean aggregated_hash?"),
    ("fs_cache.dir", "/tmp/pages", "did you mean fscache.dir?"),
    ("minimal.mode", "true", "did you mean minimal_mode?"),
    ("resource.engines", "kajiki", "did you mean resources.engines?"),
    ("resources.max_age", "1h", "whole number of seconds from 0 to 31536000"),
    ("resources.max_age", "-1", "whole number of seconds from 0 to 31536000"),
    ("resources.base_url", "cdn.example.com", "scheme, host and optional path"),
    ("resources.early_hints", "sometimes", "true or false"),
    ("resources.early_hint", "false", "did you mean resources.early_hints?"),
    ("resources.inline_limit", "-1", "whole number of bytes from 0 (nothing inlined) to 1048576, e.g. 4096"),
    ("resources.inline_limit", "4kB", "whole number of bytes from 0 (nothing inlined) to 1048576, e.g. 4096"),
    ("resources.inline_limit", "1048577", "whole number of bytes from 0 (nothing inlined) to 1048576"),
    ("resources.inline_limt", "0", "did you mean resources.inline_limit?"),
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


def test_keys_of_turbogears_and_beaker_that_look_like_ours_are_not_typos():
    settings = parse_settings({"cache_dir": "/tmp/data", "beaker.session.type": "memory", "resources_dir": "x"})
    assert settings.fscache.dir is None


def test_defaults_when_nothing_is_set():
    settings = parse_settings({"debug": "false"})
    assert settings.resources == ResourcesSettings(prefix="/tw2/resources/", engines=())
    assert settings.resources.inline_limit == 4096  # Vite's default for the same choice
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


# -- each key, parsed alone ------------------------------------------------------------------

@pytest.mark.parametrize("key, raw, field, expected", [
    ("resources.prefix", "/static/w/", ("resources", "prefix"), "/static/w/"),
    ("resources.engines", "mako genshi", ("resources", "engines"), ("mako", "genshi")),
    ("resources.base_url", "https://cdn.example.com/", ("resources", "base_url"), "https://cdn.example.com"),
    ("resources.max_age", "0", ("resources", "max_age"), 0),
    ("resources.cache_timeout", "0.25", ("resources", "cache_timeout"), 0.25),
    ("resources.inline_limit", "0", ("resources", "inline_limit"), 0),
    ("resources.inline_limit", " 8192 ", ("resources", "inline_limit"), 8192),
    ("resources.inline_limit", 2048, ("resources", "inline_limit"), 2048),  # from app_cfg.py
    ("aggregated_hash", "0123456789abcdef", ("aggregation", "hash"), "0123456789abcdef"),
    ("aggregated_dir", "public/bundles/", ("aggregation", "directory"), "public/bundles"),
    ("fscache.dir", "/srv/cache", ("fscache", "dir"), "/srv/cache"),
    ("minimal_mode", "yes", ("mode", "minimal"), True),
    ("guard.enabled", "off", ("guard", "enabled"), False),
])
def test_each_key_is_parsed_into_its_typed_field(key, raw, field, expected):
    section, name = field
    assert getattr(getattr(parse_settings({key: raw}), section), name) == expected


@pytest.mark.parametrize("key, value, accepted", [
    ("resources.cache_timeout", "0", "above 0 and at most 60"),
    ("resources.cache_timeout", "61", "above 0 and at most 60"),
    ("minimal_mode", "maybe", "use true or false"),
    ("guard.enabled", "2", "use true or false"),
    ("fscache.dir", "a\x00b", "use a directory path"),
    ("beaker.cache.regions", "pages, bad name!", "region names made of letters"),
    ("beaker.cache.type", "ext:mongodb", "use one of memory, file, dbm, ext:memcached, ext:redis"),
    ("beaker.cache.expire", "-5", "whole number of seconds above 0"),
])
def test_a_bad_value_names_the_key_and_what_is_accepted(key, value, accepted):
    with pytest.raises(ConfigError) as error:
        parse_settings({key: value})
    assert error.value.key == key
    assert accepted in str(error.value)


def test_minimal_mode_means_production_and_no_guard_by_default():
    settings = parse_settings({"debug": "true", "minimal_mode": "true"})
    assert (settings.debug, settings.guard.enabled) == (False, False)
    assert parse_settings({"debug": "true"}).guard.enabled is True


def test_parsing_fscache_dir_touches_nothing(tmp_path):
    target = tmp_path / "not" / "yet"
    assert parse_settings({"fscache.dir": str(target)}).fscache.dir == str(target)
    assert not (tmp_path / "not").exists()  # created by the start-up action, not by parsing


def test_a_relative_fscache_dir_is_taken_from_the_ini_files_directory(tmp_path):
    settings = parse_settings({"fscache.dir": "data/fscache", "here": str(tmp_path)})
    assert settings.fscache.dir == str(tmp_path / "data" / "fscache")


def test_cache_regions_read_the_turbogears_spelling_too():
    settings = parse_settings({"cache.regions": "pages", "cache.pages.type": "file", "cache_dir": "/srv/app/data"})
    (region,) = settings.cache.regions
    assert (region.name, region.type, region.data_dir) == ("pages", "file", "/srv/app/data/cache")


def test_both_cache_spellings_agreeing_are_accepted_and_disagreeing_stop_startup():
    agreeing = parse_settings({"beaker.cache.type": "memory", "cache.type": "memory"})
    assert agreeing.cache.regions[0].type == "memory"
    with pytest.raises(ConfigError) as error:
        parse_settings({"beaker.cache.type": "memory", "cache.type": "file", "cache_dir": "/tmp"})
    assert "beaker.cache.type = 'memory'" in str(error.value)
    assert "cache.type = 'file' says otherwise" in str(error.value)


def test_turbogears_cache_switch_is_not_taken_for_a_beaker_option():
    assert parse_settings({"cache.enabled": "false"}).cache.regions[0].name == "default"


def test_every_key_is_documented_in_the_readme_with_its_default():
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.rst")) as f:
        readme = f.read()
    keys = [key for key, _, _ in known_keys()]
    assert "fscache.invalidation_url" in keys
    assert [key for key in keys if "``%s`` (default" % key not in readme] == []
