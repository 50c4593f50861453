"""The extension's ini keys, parsed once at start-up into frozen dataclasses.

Values arrive as strings from the ``.ini`` file or as Python values from ``app_cfg.py``;
both are accepted (converters.py).  Each concern owns one key prefix and one dataclass; a
bad value raises :class:`~tgext_resources.errors.ConfigError` naming the key, the value and
what is accepted, so the application refuses to start instead of misbehaving on some later
request.  Parsing does nothing else: creating directories and connecting to servers are
start-up actions of the configurator.
"""
import dataclasses
import os

from .cachesettings import CacheSettings, parse_cache_settings
from .converters import (
    parse_base_url, count, parse_bool, parse_directory, parse_engine_list,
    parse_hash, parse_package_path, parse_redis_url, parse_url_prefix, seconds,
)
from .converters import INLINE_LIMIT, parse_inline_limit
from .errors import ConfigError
from .keycheck import reject_unknown_keys
from .tags import ScriptRules, parse_script_attributes


def _key(name, parse, default, doc):
    """A dataclass field bound to the ini key ``name``, converted by ``parse``."""
    return dataclasses.field(default=default, metadata={"key": name, "parse": parse, "doc": doc})


@dataclasses.dataclass(frozen=True)
class ResourcesSettings:
    """``resources.*``: how widget resources are linked, served and rendered."""

    prefix: str = _key(
        "resources.prefix", parse_url_prefix, "/tw2/resources/",
        "URL path under which widget resources are served.",
    )
    engines: tuple = _key(
        "resources.engines", parse_engine_list, (),
        "Template engines for widget templates, in order of preference; "
        "empty means chosen from the application's renderers and what is installed.",
    )
    base_url: str = _key(
        "resources.base_url", parse_base_url, "",
        "Scheme and host (a CDN, a static front server) every resource link starts with; "
        "empty means links relative to the application.",
    )
    max_age: int = _key(
        "resources.max_age", seconds(31536000), 3600,
        "Seconds a resource fetched by an unversioned URL may be cached.",
    )
    script_attributes: ScriptRules = _key(
        "resources.script_attributes", parse_script_attributes, ScriptRules(),
        "Attributes of the script tags the extension writes, one script a line: module:file, bundle "
        "or *, then defer, async, type=module or crossorigin (README: Script attributes and a CSP nonce).",
    )
    cache_timeout: float = _key(
        "resources.cache_timeout", seconds(60, whole=False, zero=False), 0.5,
        "Seconds a memcached or Redis cache server may take to connect or answer "
        "before the page is made without it.",
    )
    cache_retry: float = _key(
        "resources.cache_retry", seconds(3600, whole=False), 5.0,
        "Seconds a cache server that failed is left alone (pages are made uncached) before it "
        "is tried again; 0 tries it on every request.",
    )
    render_timeout: float = _key(
        "resources.render_timeout", seconds(3600, whole=False, zero=False), 30.0,
        "Seconds a page or fragment may take to render while others wait for it: the creation "
        "lock lives no longer, and a request that waited this long renders without the cache.",
    )
    cache_max_entries: int = _key(
        "resources.cache_max_entries", count(10 ** 7, zero=False), 10000,
        "Entries a memory cache region keeps per application; the least recently used goes first.",
    )
    inline_limit: int = _key(
        "resources.inline_limit", parse_inline_limit, INLINE_LIMIT,
        "Bytes up to which an image or font a bundled stylesheet refers to is a data: URI in the CSS "
        "bundle; 0: none. `aggregate --inline-limit` applies it; start-up checks they agree.",
    )
    early_hints: bool = _key(
        "resources.early_hints", parse_bool, True,
        "Pages carry Link: rel=preload headers for their bundles and first render-blocking "
        "resources, and get 103 Early Hints before their controller runs where the WSGI server "
        "offers them (wsgi.early_hints) over HTTP/2.",
    )
    early_hints_http1: bool = _key(
        "resources.early_hints_http1", parse_bool, False,
        "Send 103 Early Hints on HTTP/1.1 requests too: only when every hop in front handles "
        "1xx responses (nginx 1.22 and Python's http.client take a 103 for the answer).",
    )


@dataclasses.dataclass(frozen=True)
class AggregationSettings:
    """``aggregated_*``: which bundles replace the resources they contain."""

    hash: str = _key(
        "aggregated_hash", parse_hash, None,
        "The id `tgext-resources aggregate` printed last; unset means one link per resource.",
    )
    directory: str = _key(
        "aggregated_dir", parse_package_path, "public/aggregated",
        "Where the bundles and mapping files lie, relative to the application package.",
    )


@dataclasses.dataclass(frozen=True)
class FileCacheSettings:
    """``fscache.*``: the filesystem cache the front server reads."""

    dir: str = _key(
        "fscache.dir", parse_directory, None,
        "Directory fs_cached and fscache.store write to and the front server reads; unset: off. "
        "A relative path is taken from the directory of the .ini file.",
    )
    max_files: int = _key(
        "fscache.max_files", count(10 ** 8), 100000,
        "Pages the filesystem cache holds at most; past it, new pages are served uncached until "
        "invalidations make room. 0: no bound.",
    )
    invalidation_url: str = _key(
        "fscache.invalidation_url", parse_redis_url, None,
        "redis://host:port/db: invalidations and replacing writes reach the fscache.dir of every "
        "machine, through a Redis stream; unset: one machine.",
    )
    invalidation_log: int = _key(
        "fscache.invalidation_log", count(10 ** 8, zero=False), 100000,
        "Invalidations the Redis stream keeps; a machine that missed more empties its fscache.dir.",
    )


@dataclasses.dataclass(frozen=True)
class ModeSettings:
    """``minimal_mode``: the costly TurboGears components switched off (see minimal.py)."""

    minimal: bool = _key(
        "minimal_mode", parse_bool, False,
        "Switch off the TurboGears components that cost the most per request.",
    )


@dataclasses.dataclass(frozen=True)
class GuardSettings:
    """``guard.*``: the widget statelessness guard (see guard.py)."""

    enabled: bool = _key(
        "guard.enabled", parse_bool, None,
        "Raise WidgetMutationError when a request changes a widget shared by all requests; "
        "unset: on when debug is true.",
    )


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the extension reads from the configuration, typed."""

    debug: bool
    mode: ModeSettings
    guard: GuardSettings
    resources: ResourcesSettings
    aggregation: AggregationSettings
    fscache: FileCacheSettings
    cache: CacheSettings


#: Each key prefix the extension owns, with the dataclass that parses it.
SECTIONS = {
    "resources.": ResourcesSettings,
    "aggregated_": AggregationSettings,
    "fscache.": FileCacheSettings,
    "minimal_": ModeSettings,
    "guard.": GuardSettings,
}


def known_keys():
    """Every ini key the extension reads, with its default and meaning (used by the docs)."""
    for section in SECTIONS.values():
        for field in dataclasses.fields(section):
            yield field.metadata["key"], field.default, field.metadata["doc"]


def _parse_section(section, conf):
    values = {}
    for field in dataclasses.fields(section):
        key = field.metadata["key"]
        raw = conf.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        values[field.name] = field.metadata["parse"](key, raw)
    return section(**values)


def parse_settings(conf):
    """Parse every key of the extension found in ``conf`` (a TurboGears configuration dict)."""
    reject_unknown_keys(conf, [key for key, _, _ in known_keys()], tuple(SECTIONS))
    mode = _parse_section(ModeSettings, conf)
    resources = _parse_section(ResourcesSettings, conf)
    # Minimal mode switches debug off (see minimal.py), whatever the file says.
    debug = False if mode.minimal else parse_bool("debug", conf.get("debug", False))
    guard = _parse_section(GuardSettings, conf)
    if guard.enabled is None:
        guard = GuardSettings(enabled=debug)
    fscache = _parse_section(FileCacheSettings, conf)
    if fscache.dir is not None and not os.path.isabs(fscache.dir):
        # Relative to the .ini file, as %(here)s would make it (PasteDeploy sets "here").
        fscache = dataclasses.replace(
            fscache, dir=os.path.normpath(os.path.join(conf.get("here") or os.getcwd(), fscache.dir)))
    if fscache.invalidation_url and not fscache.dir:
        raise ConfigError("fscache.invalidation_url", fscache.invalidation_url, "it sends the invalidations of "
                          "fscache.dir, which is unset: set fscache.dir too, or remove this key")
    return Settings(
        debug=debug,
        mode=mode,
        guard=guard,
        resources=resources,
        aggregation=_parse_section(AggregationSettings, conf),
        fscache=fscache,
        cache=parse_cache_settings(conf, resources.cache_timeout, resources.cache_retry, resources.render_timeout,
                                   resources.cache_max_entries),
    )
