"""The pages of SampleApp."""
import datetime

import transaction
from tg import abort, expose, redirect, request, session, validate

from tgext_resources import cached_template, fs_cached, fscache, refresh_page

from sampleapp import model
from sampleapp.controllers.error import ErrorController
from sampleapp.lib.base import BaseController
from sampleapp.lib.fragments import render_comment
from sampleapp.lib.thumbnails import thumbnail
from sampleapp.widgets import (
    GALLERY_GRID_ROWS,
    ArticleForm,
    CommentForm,
    RatingWidget,
    RecentlyViewed,
    about_dialog,
    articles_accordion,
    gallery_widgets,
)


class RootController(BaseController):
    """The root of the site."""

    error = ErrorController()

    @expose("sampleapp.templates.index")
    @cached_template()
    def index(self):
        """Articles in a jQuery UI accordion, an about dialog, and the rating of each."""
        articles = model.DBSession.query(model.Article).order_by(model.Article.publish_on.desc()).all()
        return dict(
            page="index",
            articles=articles,
            accordion=articles_accordion,
            items=[(a.title, a.body) for a in articles],
            dialog=about_dialog,
            rating=RatingWidget,
            recent=RecentlyViewed,
        )

    @expose("sampleapp.templates.gallery")
    def gallery(self):
        """Every kind of widget, each with its own files: where bundles save the most requests."""
        return dict(page="gallery", widgets=gallery_widgets, grid_rows=GALLERY_GRID_ROWS)

    @expose("sampleapp.templates.article")
    @cached_template(key=("article_id",), expire=3600)
    def article(self, article_id, **kw):
        """One article with its comments: the whole page cached, each comment a cached fragment.

        Nothing on it belongs to one visitor (the "recently viewed" list lives in the
        browser's localStorage), so every visitor can share it.
        """
        article = model.DBSession.get(model.Article, _as_id(article_id))
        if article is None:
            abort(404, "No such article")
        return dict(
            page="article", article=article, rating=RatingWidget, recent=RecentlyViewed,
            comments=[render_comment(c.id) for c in article.comments], form=CommentForm,
            made_at=datetime.datetime.now().strftime("%H:%M:%S.%f"),
        )

    @expose()
    @validate(form=CommentForm, error_handler=article)
    def comment(self, article_id, author, text, **kw):
        """Add a comment; the article's cached page is made again at once."""
        article = model.DBSession.get(model.Article, _as_id(article_id))
        if article is None:
            abort(404, "No such article")
        article.comments.append(model.Comment(author=author, text=text))
        if session:  # false in minimal mode, where sessions are off
            session["author"] = author  # greets the writer on the pages that are not shared
            session.save()
        refresh_page("/article/%d" % article.id)
        redirect("/article/%d" % article.id)

    @expose("sampleapp.templates.edit_comment")
    def edit_comment(self, comment_id, **kw):
        """The form to correct a comment (not cached: it greets the writer by name)."""
        comment = model.DBSession.get(model.Comment, _as_id(comment_id))
        if comment is None:
            abort(404, "No such comment")
        return dict(page="edit", comment=comment, form=CommentForm, author=session.get("author") if session else None)

    @expose()
    def save_comment(self, comment_id, author, text, **kw):
        """Correct a comment: its fragment and its article's page are stored anew right away."""
        comment = model.DBSession.get(model.Comment, _as_id(comment_id))
        if comment is None:
            abort(404, "No such comment")
        comment.author, comment.text = author, text
        model.DBSession.flush()
        render_comment.refresh(comment.id)
        refresh_page("/article/%d" % comment.article_id)
        redirect("/article/%d" % comment.article_id)

    @expose("sampleapp.templates.images")
    @fs_cached()
    def images(self):
        """The images, as thumbnails; this page too is written to the filesystem cache."""
        images = model.DBSession.query(model.Image).order_by(model.Image.id).all()
        return dict(page="images", images=images)

    @expose(content_type="image/png")
    @fs_cached()
    def thumbs(self, image_id):
        """/thumbs/<id>.png: made from the database once, then served by the front server
        from the filesystem cache until the image changes."""
        image = model.DBSession.get(model.Image, _as_id(image_id))
        if image is None:
            abort(404, "No such image")
        return thumbnail(image.data)

    @expose()
    def replace_image(self, image_id, upload=None, **kw):
        """Store a new picture: its thumbnail and the images page are deleted from the
        filesystem cache, so the next request makes them again."""
        image = model.DBSession.get(model.Image, _as_id(image_id))
        if image is None:
            abort(404, "No such image")
        data = upload.file.read() if hasattr(upload, "file") else None
        if not data:
            redirect("/images")
        try:
            thumbnail(data)
        except Exception:
            abort(400, "Not an image")
        image.data = data
        image.updated = datetime.datetime.now()
        image_id = image.id
        # Committed first: a request made between the invalidation and the commit would
        # otherwise write the old thumbnail again, on this machine or another.
        transaction.commit()
        fscache.invalidate("/thumbs/%d.png" % image_id)
        fscache.invalidate("/images")
        redirect("/images")

    @expose("sampleapp.templates.new")
    def new(self, **kw):
        """The form for a new article (shown again, with its errors, when validation fails)."""
        return dict(page="new", form=ArticleForm, errors=request.validation.errors,
                    author=session.get("author") if session else None)

    @expose()
    @validate(form=ArticleForm, error_handler=new)
    def create(self, title, body, publish_on, rating=None, **kw):
        """Store a valid article and go back to the list, made again with it."""
        model.DBSession.add(model.Article(title=title, body=body, publish_on=publish_on, rating=rating or 0))
        refresh_page("/")
        redirect("/")


def _as_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(404, "Not found")
