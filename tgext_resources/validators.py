"""Validators as RFC 9110 compares them: HTTP-dates (5.6.7) and entity tags (8.8.3).

The conditional requests of staticfile.py read these; a value that is not one of them is
ignored, as 13.1 asks, never an error.
"""
import datetime
import re

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
