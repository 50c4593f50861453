"""Version tokens: a resource URL changes whenever the content behind it changes.

A versioned URL puts a token between the module and the file name::

    /tw2/resources/tw2.jqplugins.ui/v3f9a1c0e7b2d/static/jquery/ui/1.8.17/css/smoothness/jquery-ui.css

The token is a hash of the content of every file of the module's directory that may be
served (``media.served_files``: code, byte-code and hidden files left out), computed once
per process, the first time a link of that module is written.  Why per module and by content:

* a release number is not enough: files change without a release (an edited stylesheet in
  development, a patched package), and every server of a cluster must agree on the URL;
  content hashes are the same wherever the same files are;
* one token per module, not per file, keeps the relative references of a stylesheet
  (``url(images/x.png)``) inside the same versioned directory, so the images it pulls are
  versioned, cacheable forever and exportable for the front server as well;
* the price is that editing any file of a module renews the URLs of all its resources.

Bundles need no token: their file names are already the hash of their content.
"""
import hashlib
import os
import threading

from .locate import module_directory
from .media import served_files


def directory_token(directory):
    """The token of everything a module directory could serve."""
    digest = hashlib.blake2b(digest_size=16)
    for name in served_files(directory):
        digest.update(name.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
        try:
            with open(os.path.join(directory, *name.split("/")), "rb") as f:
                digest.update(hashlib.blake2b(f.read(), digest_size=16).digest())
        except OSError:
            digest.update(b"unreadable")
    return "v" + digest.hexdigest()[:12]


class Versions:
    """The token of each module, computed once and kept for the life of the process."""

    def __init__(self):
        self._tokens = {}
        self._lock = threading.Lock()

    def token(self, modname):
        """The current token of ``modname``, or None when it has no directory."""
        try:
            return self._tokens[modname]
        except KeyError:
            pass
        with self._lock:  # one thread hashes a module; the others wait for its result
            if modname not in self._tokens:
                directory = module_directory(modname)
                self._tokens[modname] = directory_token(directory) if directory else None
            return self._tokens[modname]


#: Tokens shared by every application of the process: they depend on files only.
VERSIONS = Versions()
