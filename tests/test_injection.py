"""Where the middleware puts the links into a page."""
import re

import tg
from tg import expose
from webob import Request

from tgext_resources.middleware import CONFIG_KEY

from tests.apps import RootController, build, canonical_links
from tests.testsite.widgets import Badge, dialog, text_field


def test_links_for_the_top_of_the_head_follow_the_charset_declaration():
    page = build(debug="false").get("/").body
    declaration = page.index(b'<meta charset="utf-8"')
    links = [m.start() for m in re.finditer(rb"<(?:script|link)\b", page)]
    assert links, "the page has widgets: links were injected"
    # Browsers look for the encoding in the first 1024 bytes only.
    assert declaration < 1024 and min(links) > declaration


class SubrequestRoot(RootController):
    @expose("tests.testsite.templates.page")
    def part(self):
        return dict(title="part", widgets=[dialog])

    @expose("tests.testsite.templates.page")
    def whole(self):
        Badge.display()  # registered before the sub-request
        part = Request.blank("/part").get_response(tg.config[CONFIG_KEY])
        return dict(title="whole, with a part of %d bytes" % len(part.body), widgets=[text_field])


def test_a_request_made_inside_another_leaves_the_outer_ones_resources_alone():
    """A controller that embeds another page by calling the application (a sub-request)
    keeps what it registered before, and gets nothing of the part's."""
    app = build(root=SubrequestRoot(), debug="false")
    part = canonical_links(app.get("/part").text)
    assert any(link.endswith("/jquery-ui.js") for link in part)
    whole = canonical_links(app.get("/whole").text)
    assert "/tw2/resources/tests.testsite.widgets/static/badge.js" in whole
    assert not any(link.endswith("/jquery-ui.js") for link in whole)
