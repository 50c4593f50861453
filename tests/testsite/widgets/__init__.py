"""Widgets of the test site: one of its own with JS, CSS and an image, and real third-party ones."""
import tw2.core as twc
import tw2.forms as twf
from tw2.jqplugins import ui
from tw2.jquery import jquery_js


# tw2.jqplugins.ui's widgets, as they come from PyPI.
DatePickerWidget = ui.DatePickerWidget
DialogWidget = ui.DialogWidget

badge_css = twc.CSSLink(modname=__name__, filename="static/badge.css")
badge_js = twc.JSLink(modname=__name__, filename="static/badge.js", resources=[jquery_js])
badge_images = twc.DirLink(modname=__name__, filename="static")


class Badge(twc.Widget):
    """A widget of the site's own, with a Kajiki template."""

    template = "tests.testsite.widgets.templates.badge"
    resources = [badge_js, badge_css]
    text = twc.Param("What the badge says", default="new")


class CommentForm(twf.Form):
    action = "/save"

    class child(twf.TableLayout):
        author = twf.TextField(validator=twc.Required)
        email = twf.TextField(validator=twc.EmailValidator(required=True))
        day = DatePickerWidget(options={"dateFormat": "yy-mm-dd"}, validator=twc.DateValidator(format="%Y-%m-%d"))


dialog = DialogWidget(id="hello", options={"autoOpen": False}, value="Hello from jQuery UI")
text_field = twf.TextField(id="name", css_class="plain")
