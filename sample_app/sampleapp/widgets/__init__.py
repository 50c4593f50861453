"""The widgets of SampleApp: its own, and those it takes from tw2.forms and tw2.jqplugins.ui.

This module is the ``tw2.widgets`` entry point of the SampleApp distribution: importing it
defines every widget the application uses.
"""
import tw2.core as twc
import tw2.forms as twf
from tw2.jqplugins import ui
from tw2.jquery import jquery_js

# The stylesheet refers to images next to it (url(images/star.png)): serve that directory.
static = twc.DirLink(modname=__name__, filename="static")
rating_css = twc.CSSLink(modname=__name__, filename="static/rating.css")
rating_js = twc.JSLink(modname=__name__, filename="static/rating.js", resources=[jquery_js])
site_css = twc.CSSLink(modname=__name__, filename="static/site.css")


class CopyResourcesFirst:
    """Mixin for tw2.jqplugins.ui widgets, which append their theme stylesheet to the
    ``resources`` list of the widget *class* on every render: shared by every request, that
    list grows forever and each page gets slower than the last.  Copying it to the
    per-request instance first, as tw2's ``safe_modify`` does, keeps the class untouched.
    """

    def prepare(self):
        self.safe_modify("resources")
        super().prepare()


class DatePickerWidget(CopyResourcesFirst, ui.DatePickerWidget):
    pass


class DialogWidget(CopyResourcesFirst, ui.DialogWidget):
    pass


class AccordionWidget(CopyResourcesFirst, ui.AccordionWidget):
    pass


class RatingWidget(twf.InputField):
    """A 0-5 star rating; rating.js turns the stars into a clickable input."""

    template = "sampleapp.widgets.templates.rating"
    type = "hidden"
    resources = [jquery_js, rating_js, rating_css]
    stars = twc.Param("How many stars to offer", default=5)
    validator = twc.IntValidator(min=0, max=5)


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


def keep_in_bundle(resource):
    """The ``resource_aggregation_filter`` of SampleApp: which resources go into the bundles.

    Per-language files stay out (a page links the one language it needs), and so do the
    resources of widgets the dependencies declare but this application never shows:
    tw2.forms' calendar and data grid, jQuery UI's category autocomplete.
    """
    filename = resource.filename
    if "/lang/" in filename or "/i18n/" in filename:
        return False
    return not ("/calendar/" in filename or "/datagrid/" in filename or filename.endswith("catcomplete.js"))
