"""The cache regions: Beaker's own keys, in both spellings Beaker and TurboGears read.

Part of the settings (settings.py): parsed once at start-up, without I/O, each bad value a
ConfigError naming the key.
"""
import dataclasses
import importlib.util
import os
import re

from .converters import seconds
from .errors import ConfigError

BACKENDS = ("memory", "file", "dbm", "ext:memcached", "ext:redis")
_CLIENTS = {"ext:redis": ("redis", "redis"), "ext:memcached": ("memcache", "python-memcached")}
_CACHE_PREFIXES = ("beaker.cache.", "cache.")
# Keys under "cache." that are TurboGears' own switches, not Beaker options.
_NOT_BEAKER = ("cache.enabled",)


@dataclasses.dataclass(frozen=True)
class RegionSettings:
    name: str
    type: str = "memory"
    expire: int = None
    url: str = None
    data_dir: str = None
    lock_dir: str = None


@dataclasses.dataclass(frozen=True)
class CacheSettings:
    """The cache regions, and how their backends are used (resources.* keys)."""

    regions: tuple
    timeout: float = 0.5
    retry: float = 5.0
    render_timeout: float = 30.0
    max_entries: int = 10000

    @property
    def default_region(self):
        return self.regions[0].name


def cache_option(conf, option):
    """``(key, value)`` of Beaker option ``option`` (e.g. ``pages.type``) as written in
    ``conf``, under ``beaker.cache.`` or ``cache.``; ConfigError when both differ."""
    found = [(prefix + option, conf.get(prefix + option)) for prefix in _CACHE_PREFIXES]
    found = [(key, value) for key, value in found if value not in (None, "") and key not in _NOT_BEAKER]
    if len(found) == 2 and str(found[0][1]).strip() != str(found[1][1]).strip():
        raise ConfigError(found[0][0], found[0][1], "%s = %r says otherwise: Beaker and TurboGears read both "
                          "spellings, so keep one of them" % found[1])
    return found[0] if found else ("beaker.cache." + option, None)


_expire = seconds(10 ** 9, zero=False)


def parse_cache_settings(conf, timeout=0.5, retry=5.0, render_timeout=30.0, max_entries=10000):
    """The cache regions of ``conf``; without ``cache.regions`` one called ``default``.  The
    other arguments are the ``resources.*`` keys of how backends are used."""
    key, names = cache_option(conf, "regions")
    names = names if isinstance(names, (list, tuple)) else re.split(r"[\s,]+", str(names or ""))
    names = [n.strip() for n in names if n and n.strip()]
    for name in names:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            raise ConfigError(key, conf.get(key), "list region names made of letters, digits, '_' and '-'")
    base_data_dir = cache_option(conf, "data_dir")[1] or (
        os.path.join(conf["cache_dir"], "cache") if conf.get("cache_dir") else None)
    return CacheSettings(
        tuple(_region(conf, name, base_data_dir) for name in names or ["default"]), timeout, retry,
        render_timeout, max_entries)


def _region(conf, name, base_data_dir):
    def option(field):  # the region's own key, else the one every region shares
        key, value = cache_option(conf, "%s.%s" % (name, field))
        if value is None:
            shared_key, value = cache_option(conf, field)
            key = shared_key if value is not None else key
        return key, value

    type_key, kind = option("type")
    kind = str(kind or "memory").strip()
    if kind not in BACKENDS:
        raise ConfigError(type_key, kind, "use one of %s" % ", ".join(BACKENDS))
    url_key, url = option("url")
    if kind.startswith("ext:") and not url:
        example = "redis://127.0.0.1:6379/0" if kind == "ext:redis" else "127.0.0.1:11211"
        raise ConfigError(url_key, url, "%s needs the server's address, e.g. %s" % (kind, example))
    if kind == "ext:redis" and not str(url).startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(url_key, url, "use a redis:// URL, e.g. redis://127.0.0.1:6379/0")
    client = _CLIENTS.get(kind)
    if client and importlib.util.find_spec(client[0]) is None:
        raise ConfigError(type_key, kind, "the %s client is not installed: pip install %s" % (kind[4:], client[1]))
    data_key, data_dir = option("data_dir")
    data_dir = data_dir or base_data_dir
    if kind in ("file", "dbm") and not data_dir:
        raise ConfigError(data_key, data_dir, "the %s backend needs a directory (or set cache_dir)" % kind)
    lock_dir = option("lock_dir")[1] or (os.path.join(data_dir, "lock") if data_dir else None)
    expire_key, expire = option("expire")
    return RegionSettings(
        name, kind, _expire(expire_key, expire) if expire not in (None, "") else None,
        str(url) if url else None, data_dir, lock_dir,
    )
