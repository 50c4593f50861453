"""The application's model: SQLAlchemy on SQLite by default."""
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker
from zope.sqlalchemy import register

# The session every request uses; the transaction manager commits it.
maker = sessionmaker(autoflush=True)
DBSession = scoped_session(maker)
register(DBSession)

DeclarativeBase = declarative_base()
metadata = DeclarativeBase.metadata


def init_model(engine):
    """Bind the session to the engine; TurboGears calls this at start-up."""
    # A session left open (by setup-app, or by an app built before in this process)
    # would keep its old engine: configure() only affects sessions created afterwards.
    DBSession.remove()
    DBSession.configure(bind=engine)
    return DBSession


from sampleapp.model.article import Article, Comment  # noqa: E402
from sampleapp.model.image import Image  # noqa: E402

__all__ = ["DBSession", "DeclarativeBase", "metadata", "init_model", "Article", "Comment", "Image"]
