"""Small widgets of SampleApp's own, each with its own script and stylesheet.

A dashboard made of such widgets is where one link per file hurts most: the gallery page
shows them next to every widget of tw2.forms and tw2.jqplugins.ui.
"""
import tw2.core as twc
from tw2.jquery import jquery_js

_GALLERY = "static/gallery/"


def _files(name):
    """The script (after jQuery) and the stylesheet of gallery widget ``name``."""
    return [
        twc.JSLink(modname=__name__, filename=_GALLERY + name + ".js", resources=[jquery_js]),
        twc.CSSLink(modname=__name__, filename=_GALLERY + name + ".css"),
    ]


class _GalleryWidget(twc.Widget):
    template = "sampleapp.widgets.templates.gallery"
    kind = None
    text = twc.Param("What the widget shows", default="")


class Clock(_GalleryWidget):
    kind = "clock"
    resources = _files("clock")


class Counter(_GalleryWidget):
    kind = "counter"
    resources = _files("counter")


class CharCount(_GalleryWidget):
    kind = "charcount"
    resources = _files("charcount")


class CopyButton(_GalleryWidget):
    kind = "copy"
    resources = _files("copy")


class Tooltip(_GalleryWidget):
    kind = "tooltip"
    resources = _files("tooltip")


class Collapsible(_GalleryWidget):
    kind = "collapsible"
    resources = _files("collapsible")


class Notice(_GalleryWidget):
    kind = "notice"
    resources = _files("notice")


class TagInput(_GalleryWidget):
    kind = "tags"
    resources = _files("tags")


GALLERY = [Clock, Counter, CharCount, CopyButton, Tooltip, Collapsible, Notice, TagInput]
