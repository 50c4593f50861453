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
        if not model.DBSession.query(model.Image).count():
            _add_images()
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


def picture(seed):
    """A 640x480 PNG drawn from ``seed``: something to make thumbnails of."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (30 + seed * 60 % 200, 80, 160 - seed * 30 % 120))
    draw = ImageDraw.Draw(image)
    for step in range(12):
        shade = (step * 20 + seed * 40) % 255
        draw.ellipse([step * 40, step * 25, step * 40 + 200, step * 25 + 150], outline=(255, shade, 255 - shade), width=6)
    output = io.BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


def _add_images():
    with transaction.manager:
        for seed, name in enumerate(("Circles", "Sunset", "Waves")):
            model.DBSession.add(model.Image(name=name, data=picture(seed)))
    log.info("SampleApp database has 3 images")
