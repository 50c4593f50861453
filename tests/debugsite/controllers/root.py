"""The root controller of the debug toolbar's test application: cached pages and fragments."""
import itertools

import tw2.core as twc
from markupsafe import Markup
from tg import TGController, expose, response, session
from tg.decorators import Decoration

from tgext_resources import cached_entity, cached_template, fs_cached

from tests.testsite.widgets import Badge, dialog

RENDERS = itertools.count(1)


@cached_entity("debugsite-badge")
def badge(text):
    return Markup(Badge(text=text).display())


def with_site_name(func):
    """A decorator of the application's own, put above ``cached_template``: its controller
    wrapper runs outside the cache's and returns a dict of its own to the template."""

    def wrapper(next_caller):
        def call(*args):
            return dict(next_caller(*args), site="debugsite")

        return call

    Decoration.get_decoration(func)._register_controller_wrapper(wrapper)
    return func


#: A link with an empty segment: no registered file can answer it.
odd_link = twc.JSLink(link="/tw2/resources/tests.testsite.widgets/static//badge.js")


class OddBadge(Badge):
    resources = [odd_link]


class RootController(TGController):
    @expose("tests.testsite.templates.cached")
    @cached_template(key=("number",))
    def page(self, number):
        return dict(title="page %s" % number, widgets=[dialog], tick=lambda: next(RENDERS),
                    fragments=badge("fragment %s" % number))

    @expose("tests.testsite.templates.cached")
    @cached_template()
    def personal(self):
        session.get("name")  # a page made from the visitor's session is theirs alone
        return dict(title="personal", widgets=[], tick=lambda: next(RENDERS), fragments=None)

    @expose("tests.testsite.templates.cached")
    @fs_cached()
    def written(self):
        response.headers["X-Made"] = "once"
        return dict(title="written", widgets=[Badge], tick=lambda: next(RENDERS), fragments=None)

    @expose("tests.testsite.templates.cached")
    @with_site_name
    @cached_template()
    def sited(self):
        return dict(title="sited", widgets=[], tick=lambda: next(RENDERS), fragments=None)

    @expose("tests.testsite.templates.cached")
    def odd(self):
        return dict(title="odd", widgets=[OddBadge], tick=lambda: next(RENDERS), fragments=None)
