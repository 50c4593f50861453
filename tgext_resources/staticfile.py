"""One file to serve: its representations with their headers, built once, and the HTTP
rules that choose and write the answer to a request for it.

Preconditions are evaluated in the order of RFC 9110, 13.2.2: ``If-Match`` (412), else
``If-Unmodified-Since`` (412), then ``If-None-Match`` (304), else ``If-Modified-Since``
(304); then ``Range`` (ranges.py).  Entity tags are nginx's (``"<mtime>-<size>"`` in hex),
so that the application and the front server serving the exported copy agree.
"""
import email.utils
import logging
import os
import stat

from .filewatch import watch_list
from .media import SIBLINGS, content_type
from .ranges import UNSATISFIABLE, WHOLE, byte_range
from .validators import http_date, tag_listed

log = logging.getLogger(__name__)

_CHUNK = 65536
_CHOSEN = 64


def signature(st):
    """What identifies a file's content on disk for as long as it is unchanged: a file
    rewritten in place changes size or modification time, one replaced changes inode."""
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)


class Variant:
    """One representation of a file (identity, br or gzip) with its headers, built once."""

    __slots__ = ("path", "encoding", "etag", "signature", "size", "headers", "not_modified_headers")

    def __init__(self, path, encoding, st, etag, common):
        self.path = path
        self.encoding = encoding
        self.etag = etag
        self.signature = signature(st)
        self.size = st.st_size
        self.headers = common + [("ETag", etag), ("Content-Length", str(st.st_size)), ("Accept-Ranges", "bytes")]
        if encoding != "identity":
            self.headers.append(("Content-Encoding", encoding))
        # RFC 9110, 15.4.5: a 304 carries what a 200 would have, but for the content itself.
        self.not_modified_headers = [
            (k, v) for k, v in self.headers
            if k not in ("Content-Length", "Content-Type", "Content-Encoding", "Accept-Ranges")
        ]


class StaticFile:
    """A file to serve, with every representation of it and their headers.

    ``path`` is the name the publisher opens, and stats unless its file watch says nothing
    changed (a symbolic link pointed elsewhere is then noticed); ``real`` is where it led when it was checked, and
    what the headers describe: a response goes out only when the file opened has the
    signature of the one checked.  ``siblings`` maps each suffix (".br", ".gz") to such a
    ``(path, real)`` pair.  ``previous``: the StaticFile this one replaces, whose entity
    tag must not be reused for other content.
    """

    def __init__(self, path, real, siblings, cache_control, previous=None):
        st = os.stat(real)
        if not stat.S_ISREG(st.st_mode):
            raise FileNotFoundError(path)
        self.path = path
        self.cache_control = cache_control
        self.signature = signature(st)
        self.mtime = int(st.st_mtime)
        self.last_modified = email.utils.formatdate(self.mtime, usegmt=True)
        common = [
            ("Content-Type", content_type(path)),
            ("Last-Modified", self.last_modified),
            ("Cache-Control", cache_control),
        ]
        self.plain_tag = tag = "%x-%x" % (self.mtime, st.st_size)
        if previous is not None and previous.signature == self.signature:
            tag = previous.tag  # the same file, described again (its policy changed)
        elif previous is not None and previous.plain_tag == tag:
            # Other content in the same second at the same size: nginx's tag would not see
            # the change, and a client holding the old tag would get a 304 for new bytes.
            tag += "-%x" % (hash(self.signature) & 0xFFFFFFFF)
        self.tag = tag
        variants = []
        for suffix, encoding in SIBLINGS:
            if suffix not in siblings:
                continue
            sibling, sibling_real = siblings[suffix]
            try:
                sibling_st = os.stat(sibling_real)
            except OSError:
                continue
            if sibling_st.st_mtime_ns < st.st_mtime_ns:
                # Older than the file: made from bytes it no longer has (export and aggregate
                # give a sibling its source's time), and it would go out under the new tag.
                log.warning("Not sent: %s, older than %s (compressed from an earlier version); "
                            "run tgext-resources export again, or remove it", sibling_real, real)
                continue
            # A sibling that is not smaller is not worth sending.
            if stat.S_ISREG(sibling_st.st_mode) and sibling_st.st_size < st.st_size:
                variants.append((encoding, sibling, sibling_st, '"%s-%s"' % (tag, suffix[1:])))
        if variants:
            common.append(("Vary", "Accept-Encoding"))
        self.variants = {encoding: Variant(p, encoding, s, etag, common) for encoding, p, s, etag in variants}
        self.identity = Variant(path, "identity", st, '"%s"' % tag, common)
        self._chosen = {}  # Accept-Encoding as sent -> Variant: browsers send a few values
        self.representations = (self.identity, *self.variants.values())
        paths = [variant.path for variant in self.representations]
        # Watched only when no symbolic link is on the way (filewatch.py).
        unlinked = real == path and all(name == real_name for name, real_name in siblings.values() if name in paths)
        self.watched = watch_list(paths) if unlinked else None
        self.verified = -1  # the epoch of the watch in which the files were last found unchanged

    def unchanged(self, variant=None):
        """Whether the files are still the ones described (a ``stat`` each): all of them, or
        the file itself and ``variant`` (whose tag is made from the file's)."""
        if variant is None:
            variants = self.representations
        else:
            variants = (self.identity,) if variant is self.identity else (self.identity, variant)
        for each in variants:
            try:
                if signature(os.stat(each.path)) != each.signature:
                    return False
            except OSError:
                return False
        return True

    def choose(self, accept_encoding):
        if not self.variants:
            return self.identity
        chosen = self._chosen.get(accept_encoding)
        if chosen is None:
            chosen = self.identity
            accepted = _accepted_encodings(accept_encoding)
            for _, encoding in SIBLINGS:
                if encoding in accepted and encoding in self.variants:
                    chosen = self.variants[encoding]
                    break
            if len(self._chosen) < _CHOSEN:  # any client can make values up: a bound
                self._chosen[accept_encoding] = chosen
        return chosen

    def precondition(self, environ, variant):
        """The status the preconditions of the request call for: "412", "304", or None to
        answer with the content (RFC 9110, 13.2.2)."""
        if_match = environ.get("HTTP_IF_MATCH")
        if if_match is not None:
            if not tag_listed(if_match, variant.etag, weak=False):
                return "412"
        else:
            if_unmodified_since = environ.get("HTTP_IF_UNMODIFIED_SINCE")
            if if_unmodified_since is not None:
                since = http_date(if_unmodified_since)
                if since is not None and self.mtime > since:
                    return "412"
        return "304" if self.not_modified(environ, variant) else None

    def not_modified_headers(self, environ):
        """The headers of the 304 that answers ``environ``, or None when the request calls
        for something else (of which ``precondition`` and ``respond`` decide)."""
        if "HTTP_IF_MATCH" in environ or "HTTP_IF_UNMODIFIED_SINCE" in environ:
            return None  # evaluated first (RFC 9110, 13.2.2): a 412 is possible
        variant = self.choose(environ.get("HTTP_ACCEPT_ENCODING")) if self.variants else self.identity
        # The tag sent back as it was sent, the most frequent case, without another call.
        if environ.get("HTTP_IF_NONE_MATCH") == variant.etag or self.not_modified(environ, variant):
            # A copy: a server may add to the list it is given (wsgiref adds Content-Length).
            return list(variant.not_modified_headers)
        return None

    def not_modified(self, environ, variant):
        """Whether ``If-None-Match`` or, without it, ``If-Modified-Since`` finds the
        client's copy of ``variant`` current (RFC 9110, 13.1.2 and 13.1.3)."""
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            # With If-None-Match, If-Modified-Since is ignored (RFC 9110, 13.1.3).  The
            # tag as it was sent, compared first, is what browsers send back.
            return if_none_match == variant.etag or tag_listed(if_none_match, variant.etag, weak=True)
        if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if not if_modified_since:
            return False
        if if_modified_since == self.last_modified:  # the date as sent, sent back
            return True
        since = http_date(if_modified_since)
        return since is not None and self.mtime <= since

    def range_applies(self, environ, variant):
        """Whether ``If-Range`` (if any) lets a Range be served: a strong tag of this variant,
        or exactly its Last-Modified date, as nginx decides (RFC 9110, 13.1.5)."""
        if_range = environ.get("HTTP_IF_RANGE")
        if if_range is None:
            return True
        if len(if_range) >= 2 and if_range.endswith('"'):
            return tag_listed(if_range, variant.etag, weak=False)
        return http_date(if_range) == self.mtime

    def respond(self, environ, start_response, variant, handle):
        """The 200 (or 206, or 416) of ``variant``, its body read from ``handle`` (None: HEAD)."""
        status, headers, first, length = "200 OK", variant.headers, 0, variant.size
        range_header = environ.get("HTTP_RANGE")
        if range_header is not None and self.range_applies(environ, variant):
            span = byte_range(range_header, variant.size)
            if span is UNSATISFIABLE:
                if handle is not None:
                    handle.close()
                # RFC 9110, 15.5.17: the length the client can ask within.
                return plain_response(start_response, "416 Range Not Satisfiable", environ,
                                      [("Content-Range", "bytes */%d" % variant.size)])
            if span is not WHOLE:
                first, end = span
                length = end - first
                status = "206 Partial Content"
                headers = [(k, v) for k, v in variant.headers if k != "Content-Length"] + [
                    ("Content-Length", str(length)),
                    ("Content-Range", "bytes %d-%d/%d" % (first, end - 1, variant.size)),
                ]
        start_response(status, list(headers))  # a copy: see not_modified_headers
        if handle is None:
            return []
        file_wrapper = environ.get("wsgi.file_wrapper")
        if file_wrapper is not None and status == "200 OK":
            # The server sends the file, at most Content-Length bytes of it (PEP 3333).
            return file_wrapper(handle, _CHUNK)
        if first:
            handle.seek(first)
        return _Body(handle, length)


def plain_response(start_response, status, environ, extra=()):
    """A short plain-text answer (an error, a refusal), without a body for HEAD."""
    body = status.encode("ascii") + b"\n"
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *extra]
    start_response(status, headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


class _Body:
    """``length`` bytes of an open file, read as the server asks for them."""

    def __init__(self, handle, length):
        self.handle = handle
        self.length = length

    def __iter__(self):
        remaining = self.length
        while remaining > 0:
            chunk = self.handle.read(min(_CHUNK, remaining))
            if not chunk:
                # Truncated while being sent: the server sees fewer bytes than
                # Content-Length and closes the connection, so the client knows the body
                # is incomplete, rather than taking it for whole.
                log.warning("%s was cut short while being sent", self.handle.name)
                return
            remaining -= len(chunk)
            yield chunk

    def close(self):
        self.handle.close()


def _accepted_encodings(header):
    accepted = set()
    for item in (header or "").split(","):
        name, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            accepted.add(name.strip().lower())
    return accepted