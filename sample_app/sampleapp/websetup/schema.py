"""Tables and first rows of SampleApp's database; safe to run again."""
import datetime
import logging

import transaction

from sampleapp import model

log = logging.getLogger(__name__)

ARTICLES = [
    ("Widgets are shared", "One widget instance serves every request: pass per-request values to display()."),
    ("Versioned resources", "A resource URL that carries a version can be cached forever by every browser."),
    ("Caching rendered pages", "A cached page costs less than rendering a trivial controller."),
]


def setup_schema():
    engine = model.DBSession.get_bind()
    model.metadata.create_all(bind=engine)
    try:
        if not model.DBSession.query(model.Article).count():
            _add_articles()
    finally:
        model.DBSession.remove()


def _add_articles():
    with transaction.manager:
        for number, (title, body) in enumerate(ARTICLES):
            article = model.Article(
                title=title, body=body, rating=3 + number % 3,
                publish_on=datetime.date(2026, 1, 1 + number),
            )
            article.comments.append(model.Comment(author="alice", text="Nice article about %s." % title.lower()))
            model.DBSession.add(article)
    log.info("SampleApp database created with %d articles", len(ARTICLES))
