"""@validate(form=...) with a tw2 form reports errors the way TurboGears users expect."""
import pytest

from tests.apps import canonical_links

from tests.apps import KINDS, build


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_invalid_submission_goes_to_the_error_handler_with_field_errors(kind):
    page = build(kind).post("/save", {"author": "", "email": "not-an-email", "day": "2026-13-45"})
    assert page.status_int == 200
    errors = {li.attrs["id"]: li.text for li in page.html.select("#errors li")}
    assert errors == {
        "error-author": "author: Enter a value",
        "error-day": "day: Must follow date format year-month-day",
        "error-email": "email: Must be a valid email address",
    }


def test_redisplayed_form_shows_each_message_next_to_its_field_and_keeps_the_input():
    page = build().post("/save", {"author": "", "email": "not-an-email", "day": ""})
    assert page.html.select_one("#author\\:error").text == "Enter a value"
    assert page.html.select_one("#email\\:error").text == "Must be a valid email address"
    assert page.html.select_one("#email")["value"] == "not-an-email"
    assert "error" in page.html.select_one("#author\\:container")["class"]


def test_redisplayed_form_still_gets_its_widget_resources():
    page = build().post("/save", {"author": "", "email": "", "day": ""})
    assert "/tw2/resources/tw2.jqplugins.ui/static/jquery/ui/1.8.17/js/jquery-ui.js" in canonical_links(page.text)


def test_valid_submission_reaches_the_controller_with_converted_values():
    result = build().post("/save", {"author": "ada", "email": "ada@example.org", "day": "2026-11-21"})
    assert result.json == {"author": "ada", "email": "ada@example.org", "day": "2026-11-21"}
