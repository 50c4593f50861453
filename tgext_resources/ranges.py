"""``Range`` requests (RFC 9110, 14.2), read exactly as nginx reads them.

The exported files are served by nginx, the same files by the publisher when a request
reaches the application: both must give the same answer to the same request.  So this is
nginx's parser (``ngx_http_range_parse``), whose answers are:

* one satisfiable range (``bytes=0-99``, ``bytes=100-``, ``bytes=-100``; a last byte
  beyond the end is the end): ``206`` with ``Content-Range: bytes first-last/length``;
* no satisfiable range (``bytes=5000-`` of a shorter file, ``bytes=9-2``), or a malformed
  range set (``bytes=abc``): ``416`` with ``Content-Range: bytes */length``; RFC 9110,
  14.2 lets a server reject an invalid range set;
* a unit other than ``bytes``, or nothing to cut (an empty file): the whole file, ``200``;
* several satisfiable ranges: the whole file, ``200`` (RFC 9110 lets a server ignore
  Range, and a multipart answer is not worth its cost for scripts and stylesheets).
  nginx answers those with a multipart ``206`` unless its block says ``max_ranges 1``.
"""

#: The largest offset nginx accepts (its off_t); beyond it a range is unsatisfiable.
_MAX_OFFSET = 2 ** 63 - 1

WHOLE = "whole"
UNSATISFIABLE = "unsatisfiable"


def byte_range(header, length):
    """How to answer ``Range: header`` for content of ``length`` bytes: ``(first, end)``
    (end excluded) of the one range to send, ``WHOLE`` or ``UNSATISFIABLE``."""
    if len(header) < 7 or header[:6].lower() != "bytes=":
        return WHOLE
    text, at = header, 6
    end_of_text = len(text)
    found = []

    def char(i):
        return text[i] if i < end_of_text else "\0"

    def number(i):
        value = 0
        while "0" <= char(i) <= "9":
            value = value * 10 + ord(text[i]) - 48
            if value > _MAX_OFFSET:
                return None, i
            i += 1
        return value, i

    while True:
        while char(at) == " ":
            at += 1
        suffix = False
        if char(at) != "-":
            if not "0" <= char(at) <= "9":
                return UNSATISFIABLE
            start, at = number(at)
            if start is None:
                return UNSATISFIABLE
            while char(at) == " ":
                at += 1
            if char(at) != "-":
                return UNSATISFIABLE
            at += 1
            while char(at) == " ":
                at += 1
            if char(at) in (",", "\0"):
                end = length  # "first-": to the end
                open_ended = True
            else:
                open_ended = False
        else:
            suffix, open_ended, start = True, False, 0
            at += 1
        if not open_ended:
            if not "0" <= char(at) <= "9":
                return UNSATISFIABLE
            end, at = number(at)
            if end is None:
                return UNSATISFIABLE
            while char(at) == " ":
                at += 1
            if char(at) not in (",", "\0"):
                return UNSATISFIABLE
            if suffix:  # "-n": the last n bytes
                start = length - end if end < length else 0
                end = length - 1
            end = length if end >= length else end + 1
        if start < end:
            found.append((start, end))
            if len(found) > 1:
                return WHOLE
        elif start == 0:
            return WHOLE  # an empty file, or "-0": nothing to cut
        if char(at) != ",":
            break
        at += 1
    return found[0] if found else UNSATISFIABLE
