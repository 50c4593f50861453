"""Where the middleware puts the links into a page."""
import re

from tests.apps import build


def test_links_for_the_top_of_the_head_follow_the_charset_declaration():
    page = build(debug="false").get("/").body
    declaration = page.index(b'<meta charset="utf-8"')
    links = [m.start() for m in re.finditer(rb"<(?:script|link)\b", page)]
    assert links, "the page has widgets: links were injected"
    # Browsers look for the encoding in the first 1024 bytes only.
    assert declaration < 1024 and min(links) > declaration
