"""One file to serve: its representations with their headers, built once, and the HTTP
rules that choose and write the answer to a request for it.

Preconditions are evaluated in the order of RFC 9110, 13.2.2: ``If-Match`` (412), else
``If-Unmodified-Since`` (412), then ``If-None-Match`` (304), else ``If-Modified-Since``
(304); then ``Range`` (ranges.py).  Entity tags are nginx's (``"<mtime>-<size>"`` in hex),
so that the application and the front server serving the exported copy agree.
"""
import datetime
import email.utils
import logging
import os
import re
import stat

from .media import SIBLINGS, content_type
from .ranges import UNSATISFIABLE, WHOLE, byte_range

log = logging.getLogger(__name__)

_CHUNK = 65536


def signature(st):
    """What identifies a file's content on disk for as long as it is unchanged: a file
    rewritten in place changes size or modification time, one replaced changes inode."""
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)


_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_MONTHS = {m: i for i, m in enumerate(_MONTH[1:-1].split("|"), 1)}
# The three forms of RFC 9110, 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime
# forms, which a recipient must still accept.
_IMF_FIXDATE = re.compile(_DAY + r", (\d\d) " + _MONTH + r" (\d{4}) (\d\d):(\d\d):(\d\d) GMT")
_RFC850 = re.compile(r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d\d)-" + _MONTH
                     + r"-(\d\d) (\d\d):(\d\d):(\d\d) GMT")
_ASCTIME = re.compile(_DAY + " " + _MONTH + r" ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})")


def http_date(value):
    """The seconds since the epoch of HTTP-date ``value``; None when it is not one, which
    RFC 9110 (13.1.3, 13.1.4, 13.1.5) asks to ignore: a list of dates, a date in another
    form, a day or hour that does not exist."""
    value = value.strip(" \t")
    match = _IMF_FIXDATE.fullmatch(value)
    if match:
        day, month, year, hour, minute, second = match.groups()
    else:
        match = _RFC850.fullmatch(value)
        if match:
            day, month, year, hour, minute, second = match.groups()
            # RFC 9110, 5.6.7: a two-digit year more than 50 years ahead is in the past.
            this_year = datetime.datetime.now(datetime.timezone.utc).year
            year = this_year - this_year % 100 + int(year)
            if year > this_year + 50:
                year -= 100
        else:
            match = _ASCTIME.fullmatch(value)
            if not match:
                return None
            month, day, hour, minute, second, year = match.groups()
    try:
        moment = datetime.datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
                                   tzinfo=datetime.timezone.utc)
    except ValueError:  # 31 February, 25 o'clock, year 0
        return None
    return moment.timestamp()


def tag_listed(header, etag, weak):
    """Whether entity tag ``etag`` is listed in ``header`` (or ``*`` is).  ``weak``: the weak
    comparison of If-None-Match, where ``W/"x"`` matches ``"x"``; If-Match and If-Range
    compare strongly (RFC 9110, 8.8.3.2)."""
    for item in header.split(","):
        item = item.strip(" \t")
        if item == "*" or item == etag or (weak and item[:2] == "W/" and item[2:] == etag):
            return True
    return False


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

    ``path`` is the name the publisher stats and opens for each request (a symbolic link
    pointed elsewhere is then noticed); ``real`` is where it led when it was checked, and
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
        common = [
            ("Content-Type", content_type(path)),
            ("Last-Modified", email.utils.formatdate(self.mtime, usegmt=True)),
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
            # A sibling that is not smaller is not worth sending.
            if stat.S_ISREG(sibling_st.st_mode) and sibling_st.st_size < st.st_size:
                variants.append((encoding, sibling, sibling_st, '"%s-%s"' % (tag, suffix[1:])))
        if variants:
            common.append(("Vary", "Accept-Encoding"))
        self.variants = {encoding: Variant(p, encoding, s, etag, common) for encoding, p, s, etag in variants}
        self.identity = Variant(path, "identity", st, '"%s"' % tag, common)

    def choose(self, accept_encoding):
        if self.variants:
            accepted = _accepted_encodings(accept_encoding)
            for _, encoding in SIBLINGS:
                if encoding in accepted and encoding in self.variants:
                    return self.variants[encoding]
        return self.identity

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
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            # With If-None-Match, If-Modified-Since is ignored (RFC 9110, 13.1.3).
            return "304" if tag_listed(if_none_match, variant.etag, weak=True) else None
        if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if if_modified_since:
            since = http_date(if_modified_since)
            if since is not None and self.mtime <= since:
                return "304"
        return None

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
        start_response(status, headers)
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