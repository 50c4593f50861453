"""Keys the extension does not read, caught at start-up: a misspelt key left alone would
start the application silently with the default."""
import difflib
import re

from .errors import ConfigError

# Keys of TurboGears or Beaker that look like one of ours and are not typos.
_THEIRS = ("cache_dir",)


def _squeezed(key):
    return re.sub(r"[^a-z0-9]", "", key.lower())


def reject_unknown_keys(conf, known, prefixes):
    """A key under one of our prefixes that we do not read, or a key anywhere that is one
    of ours misspelt (``aggregate_hash``, ``fs_cache.dir``, ``minimal.mode``), stops start-up:
    left alone it would start the application silently with the default."""
    squeezed = {_squeezed(key): key for key in known}
    for key in conf:
        if not isinstance(key, str) or key in known or key in _THEIRS:
            continue
        ours = key.startswith(prefixes)
        close = difflib.get_close_matches(key, known, n=1)
        if not ours:
            # Outside our prefixes only a near-identical spelling is ours: the same letters
            # with other separators, or one or two letters off.
            near = difflib.get_close_matches(_squeezed(key), list(squeezed), n=1, cutoff=0.9)
            if not near:
                continue
            close = [squeezed[near[0]]]
        hint = "did you mean %s? " % close[0] if close else ""
        raise ConfigError(
            key, conf[key],
            "tgext.resources has no such key; %sknown keys: %s" % (hint, ", ".join(sorted(known))),
        )
