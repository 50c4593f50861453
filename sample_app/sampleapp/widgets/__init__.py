"""The widgets of SampleApp: its own, and those it takes from tw2.forms and tw2.jqplugins.ui.

This module is the ``tw2.widgets`` entry point of the SampleApp distribution: importing it
defines every widget the application uses.
"""
from types import SimpleNamespace

import tw2.core as twc
import tw2.forms as twf
from tw2.jqplugins import ui
from tw2.jquery import jquery_js

from sampleapp.widgets.gallery import GALLERY, CharCount, Clock, Collapsible, CopyButton, Counter, Notice, TagInput, Tooltip  # noqa: F401

# rating.css refers to images next to it (url(images/star.png)): they are served with it.
rating_css = twc.CSSLink(modname=__name__, filename="static/rating.css")
rating_js = twc.JSLink(modname=__name__, filename="static/rating.js", resources=[jquery_js])
site_css = twc.CSSLink(modname=__name__, filename="static/site.css")


# tw2.jqplugins.ui's widgets, as they come from PyPI (their prepare() appends to the class's
# resources: tgext.resources gives each request its own copy).
DatePickerWidget = ui.DatePickerWidget
DialogWidget = ui.DialogWidget
AccordionWidget = ui.AccordionWidget
SliderWidget = ui.SliderWidget
ProgressBarWidget = ui.ProgressBarWidget
ButtonWidget = ui.ButtonWidget
CategoryAutocompleteWidget = ui.CategoryAutocompleteWidget


class RatingWidget(twf.InputField):
    """A 0-5 star rating; rating.js turns the stars into a clickable input."""

    template = "sampleapp.widgets.templates.rating"
    type = "hidden"
    resources = [jquery_js, rating_js, rating_css]
    stars = twc.Param("How many stars to offer", default=5)
    validator = twc.IntValidator(min=0, max=5)


class TimeAgo(twc.Widget):
    """A date shown as "5 minutes ago" by timeago.js (the ISO date stays in the markup)."""

    template = "sampleapp.widgets.templates.timeago"
    resources = [jquery_js, twc.JSLink(modname=__name__, filename="static/timeago.js", resources=[jquery_js])]
    value = twc.Param("ISO date and time", default="")


class RecentlyViewed(twc.Widget):
    """The last articles this browser showed, kept in its localStorage, not on the server.

    Per-visitor details on a shared (cached) page belong to the browser: the article page
    tells the script which article it is, the script remembers and lists.
    """

    template = "sampleapp.widgets.templates.recent"
    resources = [jquery_js, twc.JSLink(modname=__name__, filename="static/recent.js", resources=[jquery_js])]
    article_id = twc.Param("The article this page shows, to remember", default=None)
    title = twc.Param("Its title", default="")


class CommentForm(twf.Form):
    """Add or correct a comment."""

    resources = [site_css]
    submit = twf.SubmitButton(value="Send", css_class="publish")

    class child(twf.TableLayout):
        author = twf.TextField(validator=twc.Required, maxlength=60, label="Name")
        text = twf.TextArea(validator=twc.Required, rows=3, cols=50, label="Comment")


class ArticleForm(twf.Form):
    """The form that writes a new article."""

    action = "/create"
    resources = [site_css]
    submit = twf.SubmitButton(value="Publish", css_class="publish")

    class child(twf.TableLayout):
        title = twf.TextField(validator=twc.Required, maxlength=120, label="Title")
        body = twf.TextArea(validator=twc.Required, rows=6, cols=60, label="Text")
        publish_on = DatePickerWidget(
            label="Publish on",
            options={"dateFormat": "yy-mm-dd"},
            validator=twc.DateValidator(required=True, format="%Y-%m-%d"),
        )
        rating = RatingWidget(label="Rating")


about_dialog = DialogWidget(
    id="about",
    options={"autoOpen": False, "title": "About SampleApp", "modal": True},
    value="SampleApp shows tgext.resources: widget resources linked, bundled and cached.",
)

articles_accordion = AccordionWidget(id="articles", options={"autoHeight": False})

# The gallery page: every kind of widget the application's libraries offer, and its own.
gallery_widgets = [
    SliderWidget(id="volume", options={"value": 40}),
    ProgressBarWidget(id="progress", options={"value": 70}),
    ButtonWidget(id="action", options={"label": "A jQuery UI button"}),
    CategoryAutocompleteWidget(id="search", options={"source": [
        {"label": "Kajiki", "category": "Templates"}, {"label": "Mako", "category": "Templates"},
        {"label": "Beaker", "category": "Caching"}, {"label": "Redis", "category": "Caching"},
    ]}),
    twf.CalendarDatePicker(id="deadline", calendar_lang="en"),
    twf.DataGrid(id="grid", fields=[("Library", "name"), ("Files", "files")]),
    *(widget(id=widget.__name__.lower(), text=text) for widget, text in zip(GALLERY, (
        "", "3", "", "tw2", "Widgets are shared by every request", "Click the title", "Bundles save requests",
        "tw2, turbogears, beaker",
    ))),
]
GALLERY_GRID_ROWS = [  # DataGrid reads attributes of its rows
    SimpleNamespace(name="tw2.jqplugins.ui", files=6),
    SimpleNamespace(name="tw2.forms", files=6),
    SimpleNamespace(name="SampleApp", files=19),
]


def keep_in_bundle(resource):
    """The ``resource_aggregation_filter`` of SampleApp: which resources go into the bundles.

    Per-language files (the calendar's) stay out: a page links the one language it needs,
    after the bundle, instead of every visitor downloading all of them.
    """
    return "/lang/" not in resource.filename and "/i18n/" not in resource.filename
