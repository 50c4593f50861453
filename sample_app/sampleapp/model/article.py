"""Articles and their comments."""
import datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sampleapp.model import DeclarativeBase


class Article(DeclarativeBase):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    publish_on: Mapped[datetime.date] = mapped_column(Date, default=datetime.date.today)
    rating: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[list["Comment"]] = relationship(
        back_populates="article", order_by="Comment.id", cascade="all, delete-orphan"
    )


class Comment(DeclarativeBase):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    author: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=datetime.datetime.now)
    article: Mapped[Article] = relationship(back_populates="comments")
