"""The extension's ini keys, parsed once at start-up into frozen dataclasses.

Values arrive as strings from the ``.ini`` file or as Python values from ``app_cfg.py``;
both are accepted.  Each concern owns one key prefix and one dataclass; a bad value raises
:class:`~tgext_resources.errors.ConfigError` naming the key, the value and what is accepted,
so the application refuses to start instead of misbehaving on some later request.
"""
import dataclasses
import difflib
import re

from .errors import ConfigError, UnsafePathError
from .locate import split_filename

#: Template engines ToscaWidgets 2 can render widget templates with.
TEMPLATE_ENGINES = ("kajiki", "genshi", "mako", "jinja", "chameleon")

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_bool(key, value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(key, value, "use true or false")


_PREFIX_RE = re.compile(r"^/(?:[A-Za-z0-9._~-]+/)+$")


def parse_url_prefix(key, value):
    text = str(value).strip()
    if not _PREFIX_RE.match(text) or "/../" in text or "/./" in text:
        raise ConfigError(
            key, value,
            "use a URL path that starts and ends with '/' and has at least one segment of "
            "letters, digits, '.', '_', '~' or '-', e.g. /tw2/resources/",
        )
    return text


def parse_base_url(key, value):
    text = str(value).strip().rstrip("/")
    if not re.fullmatch(r"(https?:)?//[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?", text):
        raise ConfigError(
            key, value,
            "use the scheme, host and optional path that resource URLs start with, e.g. "
            "https://cdn.example.com or //static.example.com/app (no trailing path after the prefix)",
        )
    return text


def parse_seconds(key, value):
    try:
        seconds = int(str(value).strip())
    except ValueError:
        seconds = -1
    if seconds < 0 or seconds > 31536000:
        raise ConfigError(key, value, "use a whole number of seconds from 0 to 31536000")
    return seconds


def parse_timeout(key, value):
    try:
        seconds = float(str(value).strip())
    except ValueError:
        seconds = -1
    if not 0 < seconds <= 60:
        raise ConfigError(key, value, "use a number of seconds above 0 and at most 60, e.g. 0.5")
    return seconds


def parse_hash(key, value):
    text = str(value).strip()
    if not re.fullmatch(r"[0-9a-f]{16}", text):
        raise ConfigError(key, value, "use the 16 hexadecimal digits `tgext-resources aggregate` printed on its last line")
    return text


def parse_package_path(key, value):
    text = str(value).strip().rstrip("/")
    try:
        split_filename(text)
    except UnsafePathError:
        raise ConfigError(
            key, value, "use a directory inside the application package, relative to it, e.g. public/aggregated"
        ) from None
    return text


def parse_engine_list(key, value):
    names = value if isinstance(value, (list, tuple)) else re.split(r"[\s,]+", str(value))
    names = tuple(n.strip().lower() for n in names if n and n.strip())
    unknown = [n for n in names if n not in TEMPLATE_ENGINES]
    if not names or unknown or len(set(names)) != len(names):
        raise ConfigError(
            key, value,
            "list template engines in order of preference, each once, chosen from %s"
            % ", ".join(TEMPLATE_ENGINES),
        )
    return names


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
        "resources.max_age", parse_seconds, 3600,
        "Seconds a resource fetched by an unversioned URL may be cached.",
    )
    cache_timeout: float = _key(
        "resources.cache_timeout", parse_timeout, 0.5,
        "Seconds a memcached or Redis cache server may take to connect or answer "
        "before the page is made without it.",
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


def _parse_fscache_directory(key, value):
    from .fscache import parse_directory

    return parse_directory(key, value)


@dataclasses.dataclass(frozen=True)
class FileCacheSettings:
    """``fscache.*``: the filesystem cache the front server reads."""

    dir: str = _key(
        "fscache.dir", _parse_fscache_directory, None,
        "Directory fs_cached and fscache.store write to and the front server reads; unset: off.",
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
    cache: object  # caching.CacheSettings: the beaker.cache.* regions


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


def _reject_unknown_keys(conf):
    known = [key for key, _, _ in known_keys()]
    for key in conf:
        if not isinstance(key, str):
            continue
        if any(key.startswith(prefix) for prefix in SECTIONS) and key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = "did you mean %s? " % close[0] if close else ""
            raise ConfigError(
                key, conf[key],
                "tgext.resources has no such key; %sknown keys: %s" % (hint, ", ".join(sorted(known))),
            )


def parse_settings(conf):
    """Parse every key of the extension found in ``conf`` (a TurboGears configuration dict)."""
    from .caching import parse_cache_settings

    _reject_unknown_keys(conf)
    resources = _parse_section(ResourcesSettings, conf)
    guard = _parse_section(GuardSettings, conf)
    debug = parse_bool("debug", conf.get("debug", False))
    if guard.enabled is None:
        guard = GuardSettings(enabled=debug)
    return Settings(
        debug=debug,
        mode=_parse_section(ModeSettings, conf),
        guard=guard,
        resources=resources,
        aggregation=_parse_section(AggregationSettings, conf),
        fscache=_parse_section(FileCacheSettings, conf),
        cache=parse_cache_settings(conf, resources.cache_timeout),
    )
