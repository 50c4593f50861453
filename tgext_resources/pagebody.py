"""What of a page the page cache stores: what its controller and template made.

TurboGears runs its ``after_render`` hooks on every request, a hit as well as a miss (a
hit's page is a string the controller returns, and they see that too).  So nothing they add
may be stored, neither to the body nor to the headers: tgext.debugbar's toolbar (one
visitor's cookies and environ) would be replayed to everyone, and a hook's per-visitor
header sent to all.  The page's own template renders the very dict its controller returned:
an ``after_render_call`` hook that finds that dict keeps the template's output and the
headers as they are then, before any ``after_render`` hook ran.  When nothing tells the
template's output apart (a controller wrapper outside the cache made another dict), the
page is not stored.

A hit gives TurboGears the page as text again, of the type the template made (Kajiki's
``Markup``, or ``str``), so that the hooks treat it as on the miss; it is kept encoded.
"""
import tg
from markupsafe import Markup

from .injection import charset_of

#: Where the page being made keeps its plan in the environ, for :func:`rendered`.
PLAN_KEY = "tgext_resources.page_plan"


def install():
    """Have :func:`rendered` see every template TurboGears renders (once per process: the
    hooks are TurboGears' own, shared by every application)."""
    tg.hooks.disconnect("after_render_call", rendered)
    tg.hooks.register("after_render_call", rendered)


def rendered(engine, template_name, template_vars, kwargs):
    """``after_render_call`` hook: keep what the template of a page being made wrote, and
    the headers at that moment."""
    try:
        plan = tg.request.environ.get(PLAN_KEY)
    except TypeError:  # rendered outside any request (an e-mail from a script)
        return
    # The page's own template renders the very dict the controller returned; the toolbar's
    # and any template rendered inside it get other ones.
    if plan is not None and plan.output is template_vars:
        made(plan, kwargs.get("result"))


def made(plan, page):
    """Keep ``page`` (the template's output, or the text or bytes the controller returned)
    and the response's headers as they are now, before the ``after_render`` hooks."""
    plan.made = page
    plan.headers = list(tg.response.headerlist)


def stored_body(page, response):
    """``(body, text)`` to store for ``page``: its bytes, and how to give it back as text
    (``(charset, is_markup)``; None: the controller's own bytes); or the reason it is not
    stored."""
    if isinstance(page, bytes):
        return page, None
    if not isinstance(page, str):
        return "what its template wrote cannot be told apart from what after_render hooks added"
    charset = charset_of(response.header("Content-Type")) or "utf-8"
    try:
        return page.encode(charset), (charset, isinstance(page, Markup))
    except (LookupError, UnicodeError):
        return "its page cannot be encoded as %s" % charset


def as_made(body, text):
    """The stored ``body`` as its template made it: text of the same type, or bytes."""
    if text is None:
        return body
    charset, markup = text
    page = body.decode(charset)
    return Markup(page) if markup else page
