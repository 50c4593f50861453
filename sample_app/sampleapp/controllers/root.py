"""The pages of SampleApp."""
from tg import abort, expose, redirect, request, session, validate

from sampleapp import model
from sampleapp.controllers.error import ErrorController
from sampleapp.lib.base import BaseController
from sampleapp.widgets import (
    GALLERY_GRID_ROWS,
    ArticleForm,
    RatingWidget,
    about_dialog,
    articles_accordion,
    gallery_widgets,
)


class RootController(BaseController):
    """The root of the site."""

    error = ErrorController()

    @expose("sampleapp.templates.index")
    def index(self):
        """Articles in a jQuery UI accordion, an about dialog, and the rating of each."""
        articles = model.DBSession.query(model.Article).order_by(model.Article.publish_on.desc()).all()
        by_id = {article.id: article for article in articles}
        return dict(
            page="index",
            articles=articles,
            recent=[by_id[i] for i in session.get("recent", []) if i in by_id],
            accordion=articles_accordion,
            items=[(a.title, a.body) for a in articles],
            dialog=about_dialog,
            rating=RatingWidget,
        )

    @expose("sampleapp.templates.gallery")
    def gallery(self):
        """Every kind of widget, each with its own files: where bundles save the most requests."""
        return dict(page="gallery", widgets=gallery_widgets, grid_rows=GALLERY_GRID_ROWS)

    @expose("sampleapp.templates.article")
    def article(self, article_id):
        """One article with its comments."""
        article = model.DBSession.get(model.Article, _as_id(article_id))
        if article is None:
            abort(404, "No such article")
        # Each visitor's own "recently viewed" list lives in their Beaker session.
        recent = [i for i in session.get("recent", []) if i != article.id]
        session["recent"] = [article.id, *recent][:3]
        session.save()
        return dict(page="article", article=article, rating=RatingWidget)

    @expose("sampleapp.templates.new")
    def new(self, **kw):
        """The form for a new article (shown again, with its errors, when validation fails)."""
        return dict(page="new", form=ArticleForm, errors=request.validation.errors)

    @expose()
    @validate(form=ArticleForm, error_handler=new)
    def create(self, title, body, publish_on, rating=None, **kw):
        """Store a valid article and go back to the list."""
        model.DBSession.add(model.Article(title=title, body=body, publish_on=publish_on, rating=rating or 0))
        redirect("/")


def _as_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(404, "No such article")
