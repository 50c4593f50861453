"""Version tokens: a resource URL changes whenever the content behind it changes.

A versioned URL puts a token between the module and the file name::

    /tw2/resources/tw2.jqplugins.ui/v3f9a1c0e7b2d/static/jquery/ui/1.8.17/css/smoothness/jquery-ui.css

The token is a hash of the content of every file of the module's directory that may be
served (``media.served_files``: code, byte-code and hidden files left out, and symbolic
links leading out of the directory, which are never served), computed the first time a
link of that module is written.  Why per module and by content:

* a release number is not enough: files change without a release (an edited stylesheet in
  development, a patched package), and every server of a cluster must agree on the URL;
  content hashes are the same wherever the same files are;
* one token per module, not per file, keeps the relative references of a stylesheet
  (``url(images/x.png)``) inside the same versioned directory, so the images it pulls are
  versioned, cacheable forever and exportable for the front server as well;
* the price is that editing any file of a module renews the URLs of all its resources.

A token is kept until a file it was computed from is found changed: with each token the
signature (inode, size, modification time) of every file hashed is kept, and the publisher
asks :meth:`Versions.covers` before calling a response immutable.  A file changed under a
running process thus renews the module's token (:meth:`Versions.renew`): its new content
goes out under new URLs, and the old URL is no longer cached forever.

Bundles need no token: their file names are already the hash of their content.
"""
import hashlib
import os
import threading

from .locate import module_directory
from .media import served_files
from .registry import confined
from .staticfile import signature


def directory_token(directory):
    """The token of everything a module directory could serve."""
    return _hash_directory(directory)[0]


def _hash_directory(directory):
    """``(token, {relative name: signature})`` of the files a module directory could serve."""
    digest = hashlib.blake2b(digest_size=16)
    signatures = {}
    for name in served_files(directory):
        path = os.path.join(directory, *name.split("/"))
        # A link out of the module is never served: no part of its version.  (os.walk
        # enters no linked directory: only a file itself can be a link.)
        if os.path.islink(path) and confined(path, directory) is None:
            continue
        digest.update(name.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
        try:
            with open(path, "rb") as f:
                # The signature of the bytes read (fstat of the same handle), not of
                # whatever the name points to a moment later.
                signatures[name] = signature(os.fstat(f.fileno()))
                digest.update(hashlib.blake2b(f.read(), digest_size=16).digest())
        except OSError:
            digest.update(b"unreadable")
    return "v" + digest.hexdigest()[:12], signatures


class Versions:
    """The token of each module, kept until one of the files it names is found changed."""

    def __init__(self):
        self._tokens = {}
        self._signatures = {}
        self._lock = threading.Lock()
        #: Changes whenever a token is renewed: URLs written with the old one are stale.
        self.generation = 0

    def token(self, modname):
        """The current token of ``modname``, or None when it has no directory."""
        try:
            return self._tokens[modname]
        except KeyError:
            pass
        with self._lock:  # one thread hashes a module; the others wait for its result
            if modname not in self._tokens:
                directory = module_directory(modname)
                token, signatures = _hash_directory(directory) if directory else (None, {})
                self._signatures[modname] = signatures
                self._tokens[modname] = token
            return self._tokens[modname]

    def covers(self, modname, filename, current):
        """Whether the token of ``modname`` was computed from file ``filename`` as it is
        now (its ``signature``): True, False when the file changed since, None when the
        token did not hash it (a file added later, one behind a directory link)."""
        recorded = self._signatures.get(modname, {}).get(filename)
        if recorded is None:
            return None
        return recorded == current

    def renew(self, modname, filename, current):
        """Forget the token of ``modname`` if it was computed from another content of
        ``filename`` than the one of signature ``current``: the next :meth:`token` hashes
        the module again.  Threads that found the same change renew it once."""
        with self._lock:
            recorded = self._signatures.get(modname, {}).get(filename)
            if recorded is not None and recorded != current:
                del self._tokens[modname]
                del self._signatures[modname]
                self.generation += 1


#: Tokens shared by every application of the process: they depend on files only.
VERSIONS = Versions()
