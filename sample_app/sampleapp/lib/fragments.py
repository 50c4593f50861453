"""Fragments of pages cached on their own: one comment's HTML."""
from markupsafe import Markup, escape

from tgext_resources import cached_entity

from sampleapp import model
from sampleapp.widgets import TimeAgo


@cached_entity("comment", expire=24 * 3600)
def render_comment(comment_id):
    """The HTML of one comment, with a widget of its own (its date, shown as "5 minutes ago")."""
    comment = model.DBSession.get(model.Comment, comment_id)
    if comment is None:
        return Markup("")
    return Markup(
        '<div class="comment" id="comment-%d"><strong>%s</strong>: %s %s '
        '<a class="edit" href="/edit_comment/%d">correct</a></div>'
    ) % (comment.id, escape(comment.author), escape(comment.text),
         TimeAgo.display(value=comment.created.isoformat(timespec="seconds")), comment.id)
