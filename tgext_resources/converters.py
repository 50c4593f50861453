"""Converting one configuration value: each function takes the key and the raw value (a
string from the .ini file, or a Python value from app_cfg.py) and returns it typed, or
raises ConfigError naming the key, the value and what is accepted."""
import os
import re

from .engines import NAMES as TEMPLATE_ENGINES
from .errors import ConfigError, UnsafePathError
from .locate import split_filename

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


def seconds(maximum, whole=True, zero=True):
    """A parser of a number of seconds up to ``maximum``: whole ones only when ``whole``,
    0 accepted only when ``zero``."""
    def parse(key, value):
        try:
            number = (int if whole else float)(str(value).strip())
        except ValueError:
            number = None
        if number is None or number < 0 or (number == 0 and not zero) or number > maximum:
            raise ConfigError(key, value, "use %s number of seconds %s %s%s" % (
                "a whole" if whole else "a", "from 0 to" if zero else "above 0 and at most", maximum,
                "" if whole else ", e.g. 0.5"))
        return number

    return parse


def count(maximum, zero=True):
    """A parser of a whole number up to ``maximum`` (0 accepted only when ``zero``)."""
    def parse(key, value):
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
        if number is None or number < (0 if zero else 1) or number > maximum:
            raise ConfigError(key, value, "use a whole number from %d to %d" % (0 if zero else 1, maximum))
        return number

    return parse


def parse_hash(key, value):
    text = str(value).strip()
    if not re.fullmatch(r"[0-9a-f]{16}", text):
        raise ConfigError(key, value, "use the 16 lowercase hexadecimal digits `tgext-resources aggregate` printed on its last line")
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


def parse_redis_url(key, value):
    """A Redis URL (redis://, rediss:// or unix://), checked for its form only: connecting
    is a start-up action."""
    from urllib.parse import urlsplit

    text = str(value).strip()
    try:
        parts = urlsplit(text)
        parts.port  # raises ValueError for a port that is no number
    except ValueError:
        parts = None
    database = parts.path.strip("/") if parts is not None else ""
    good = parts is not None and (
        (parts.scheme in ("redis", "rediss") and parts.hostname and re.fullmatch(r"[0-9]{0,5}", database))
        or (parts.scheme == "unix" and parts.path))
    if not good:
        raise ConfigError(key, value, "use a Redis URL, e.g. redis://127.0.0.1:6379/0 (or rediss://, unix://)")
    if parts.query and not (parts.scheme == "unix" and re.fullmatch(r"db=[0-9]{1,5}", parts.query)):
        raise ConfigError(key, value, "remove the options after '?' (a unix:// URL keeps db=N): the "
                          "timeouts are resources.cache_timeout's")
    import importlib.util

    if importlib.util.find_spec("redis") is None:
        raise ConfigError(key, value, "the Redis client is not installed: pip install redis")
    return text


def parse_directory(key, value):
    """A directory path; relative ones are resolved at start-up, against the .ini file's
    directory (see resolve_paths).  Creating and probing it is a start-up action, not this."""
    text = os.path.expanduser(str(value).strip())
    if "\x00" in text:
        raise ConfigError(key, value, "use a directory path")
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


#: ``resources.inline_limit`` and ``tgext-resources aggregate --inline-limit`` when not
#: given: Vite's default (``build.assetsInlineLimit``) for the same choice.
INLINE_LIMIT = 4096
# A data: URI is a third bigger than its file and is downloaded with every page's CSS:
# past a mebibyte a limit is surely a typo (an extra digit), not a choice.
_MAX_INLINE_LIMIT = 1024 * 1024


def parse_inline_limit(key, value):
    """Bytes up to which an image or font of a bundled stylesheet becomes a data: URI; 0: none."""
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,8}", text) or int(text) > _MAX_INLINE_LIMIT:
        raise ConfigError(key, value, "use a whole number of bytes from 0 (nothing inlined) to %d, e.g. %d"
                          % (_MAX_INLINE_LIMIT, INLINE_LIMIT))
    return int(text)
