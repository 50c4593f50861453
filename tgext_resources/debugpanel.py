"""The "Resources & cache" section of tgext.debugbar's toolbar.

TurboGears' quickstart enables tgext.debugbar whenever it is installed; with debug on, its
toolbar then gets this section by itself.  It shows, for the page on screen, what
tgext.resources did: each resource the page got (a link or a bundle and its members, its
version, its size on disk, or that nothing is served there), each page and fragment cache
hit, miss and store with its key (and, when not stored, why), each file written for the
front server or not (and why), and the widget guard's state.

The toolbar is written by an ``after_render`` hook, before the middleware has injected the
resources, stored the page or written its file.  So the section writes a marker, and once
the response is complete (step ``on_sent``) the marker is replaced by the report.  The
page cache never stores the toolbar (pagebody.py), and the filesystem cache never writes a
page that has it (it shows this visitor's cookies).
"""
import logging
import secrets

import tg
from markupsafe import escape

from .middleware import current, steps
from .report import current_report, report_html

log = logging.getLogger(__name__)

TITLE = "Resources & cache"


def install(conf, middleware):
    """Add the section when this application shows tgext.debugbar's toolbar (tgext.debugbar
    enabled, debug on)."""
    # tgext.debugbar names the template engine of its toolbar in the configuration once it
    # is enabled and debug is on, before the middleware is built.
    if not conf.get("debugbar.engine") or not middleware.settings.debug:
        return
    try:
        from tgext.debugbar.sections import __sections__
    except ImportError:
        return
    middleware.reporting = True
    # The toolbar's sections are one list for the whole process: add this one once.
    if not any(isinstance(section, ResourcesSection) for section in __sections__):
        __sections__.append(ResourcesSection())
    log.info("tgext.debugbar's toolbar has a section %r", TITLE)


class ResourcesSection:
    """A tgext.debugbar section (its duck type: no hooks of its own)."""

    name = TITLE
    is_active = True
    hooks = {}

    def title(self):
        return TITLE

    def content(self):
        report = current_report()
        todo = steps(tg.request.environ)
        if report is None or todo is None:
            return "<p>Not recorded: this application runs with debug off, or without tgext.resources.</p>"
        report.toolbar = True
        marker = "<!-- tgext.resources report %s -->" % secrets.token_hex(8)
        middleware = current()
        todo.on_sent.append(lambda response: _fill(response, marker.encode("ascii"), middleware, report))
        return marker


def _fill(response, marker, middleware, report):
    """Step ``on_sent``: the report in place of the marker, now that everything was done."""
    if marker not in response.body:
        return
    try:
        html = report_html(middleware, response, report)
    except Exception as exc:  # a debugging aid never fails the page it describes
        log.exception("The report of tgext.resources failed")
        html = "<p>The report failed: %s (see the log)</p>" % escape(repr(exc))
    response.replace_body(response.body.replace(marker, html.encode("ascii", "xmlcharrefreplace"), 1))
